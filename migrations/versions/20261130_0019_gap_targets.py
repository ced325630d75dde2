"""Gap targets: a target on the gap between an indicator's best and worst category of one of
its dimensions (baseline gap and period, target gap and the period it is due by).

Revision ID: 0019_gap_targets
Revises: 0018_strategies
Create Date: 2026-11-30 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_gap_targets"
down_revision: str | None = "0018_strategies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gap_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("dimension_id", sa.Integer(), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=False),
        sa.Column("baseline_period_id", sa.Integer(), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("target_period_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("baseline_value >= 0", name=op.f("ck_gap_targets_baseline_value")),
        sa.CheckConstraint("target_value >= 0", name=op.f("ck_gap_targets_target_value")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_gap_targets_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dimension_id"],
            ["dimensions.id"],
            name=op.f("fk_gap_targets_dimension_id_dimensions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["baseline_period_id"],
            ["periods.id"],
            name=op.f("fk_gap_targets_baseline_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_period_id"],
            ["periods.id"],
            name=op.f("fk_gap_targets_target_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_targets")),
        sa.UniqueConstraint(
            "indicator_id", "dimension_id", name=op.f("uq_gap_targets_indicator_id_dimension_id")
        ),
    )
    for column in ("dimension_id", "baseline_period_id", "target_period_id"):
        op.create_index(op.f(f"ix_gap_targets_{column}"), "gap_targets", [column])


def downgrade() -> None:
    for column in ("dimension_id", "baseline_period_id", "target_period_id"):
        op.drop_index(op.f(f"ix_gap_targets_{column}"), table_name="gap_targets")
    op.drop_table("gap_targets")
