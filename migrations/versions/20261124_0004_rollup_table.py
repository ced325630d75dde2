"""Maintained rollups: sums of approved values per indicator, period and disaggregation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:37:03.430879
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("disaggregation", sa.String(length=90), nullable=False),
        sa.Column("measure_type", sa.String(length=10), nullable=False),
        sa.Column("sum_value", sa.Float(), nullable=False),
        sa.Column("sum_numerator", sa.Float(), nullable=False),
        sa.Column("sum_denominator", sa.Float(), nullable=False),
        sa.Column("sum_weighted", sa.Float(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_rollups_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_rollups_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_rollups_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "initiative_id", "indicator_id", "period_id", "disaggregation", name=op.f("pk_rollups")
        ),
    )
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollups_period_id"), ["period_id"], unique=False)
    # Existing approved data: fill the table once, as `cm rollups rebuild` would.
    op.execute(
        """
        INSERT INTO rollups (initiative_id, indicator_id, period_id, disaggregation, measure_type,
                             sum_value, sum_numerator, sum_denominator, sum_weighted, contributors)
        SELECT v.initiative_id, v.indicator_id, v.period_id, v.disaggregation, MAX(v.measure_type),
               COALESCE(SUM(v.value), 0), COALESCE(SUM(v.numerator), 0),
               COALESCE(SUM(v.denominator), 0), COALESCE(SUM(v.value * v.denominator), 0),
               COUNT(*)
        FROM "values" v JOIN submissions s ON s.id = v.submission_id AND s.status = 'approved'
        GROUP BY v.initiative_id, v.indicator_id, v.period_id, v.disaggregation
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollups_period_id"))

    op.drop_table("rollups")
