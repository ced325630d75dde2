"""Stories behind the curve: the backbone team's narrative per indicator and period, versioned.

Each edit is a new row of ``story_versions`` (append-only). A story edit changes no figure view
(a publication carries the story the public sees), so the figure views' partial index of audit
events leaves ``story`` events out, as ``models.tables.audit.MOVES_FIGURES`` now does.

Revision ID: 0015_stories
Revises: 0014_webhooks
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_stories"
down_revision: str | None = "0014_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The figure events' filter before and after this revision (a migration keeps its own copies).
_BEFORE = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')))"
)
MOVES_FIGURES = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')) "
    "OR entity_type = 'story')"
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


def upgrade() -> None:
    op.create_table(
        "story_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=True),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_story_versions_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_story_versions_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_story_versions_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"],
            ["users.id"],
            name=op.f("fk_story_versions_written_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_versions")),
        sa.UniqueConstraint(
            "indicator_id",
            "period_id",
            "version",
            name=op.f("uq_story_versions_indicator_id_period_id_version"),
        ),
    )
    op.create_index(
        "ix_story_versions_initiative_period",
        "story_versions",
        ["initiative_id", "period_id"],
    )
    _figure_index(MOVES_FIGURES)


def downgrade() -> None:
    _figure_index(_BEFORE)
    op.drop_index("ix_story_versions_initiative_period", table_name="story_versions")
    op.drop_table("story_versions")
