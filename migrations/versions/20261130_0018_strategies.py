"""Strategies and actions: what the backbone team and partners do to turn a curve.

``strategies`` (per initiative, a code unique in it, dates with ``ends_on >= starts_on``), their
owners (members) and the indicators they aim at, and ``strategy_actions`` with a status. No
figure view reads them, so the figure views' partial index of audit events leaves ``strategy``
and ``strategy_action`` events out, as ``models.tables.audit.MOVES_FIGURES`` now does.

Revision ID: 0018_strategies
Revises: 0017_measure_kinds
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_strategies"
down_revision: str | None = "0017_measure_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The figure events' filter before and after this revision (a migration keeps its own copies).
_BEFORE = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')) "
    "OR entity_type = 'story')"
)
MOVES_FIGURES = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')) "
    "OR entity_type IN ('story', 'strategy', 'strategy_action'))"
)


def _figure_index(where: str) -> None:
    op.drop_index("ix_audit_events_figures", table_name="audit_events")
    op.create_index(
        "ix_audit_events_figures",
        "audit_events",
        ["initiative_id", "at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
    ]


def _link(table: str, column: str, target: str) -> None:
    """A two-column table linking strategies to ``target`` rows (both sides cascade)."""
    op.create_table(
        table,
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [column],
            [f"{target}.id"],
            name=op.f(f"fk_{table}_{column}_{target}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f(f"fk_{table}_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("strategy_id", column, name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_strategies_ends_after_starts")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_strategies_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
        sa.UniqueConstraint("initiative_id", "code", name=op.f("uq_strategies_initiative_id_code")),
    )
    op.create_index("ix_strategies_initiative_id", "strategies", ["initiative_id"])
    op.create_table(
        "strategy_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'dropped')",
            name=op.f("ck_strategy_actions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f("fk_strategy_actions_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_actions")),
    )
    op.create_index("ix_strategy_actions_strategy_id", "strategy_actions", ["strategy_id"])
    _link("strategy_owners", "member_id", "members")
    _link("strategy_indicators", "indicator_id", "indicators")
    _figure_index(MOVES_FIGURES)


def downgrade() -> None:
    _figure_index(_BEFORE)
    op.drop_table("strategy_indicators")
    op.drop_table("strategy_owners")
    op.drop_index("ix_strategy_actions_strategy_id", table_name="strategy_actions")
    op.drop_table("strategy_actions")
    op.drop_index("ix_strategies_initiative_id", table_name="strategies")
    op.drop_table("strategies")
