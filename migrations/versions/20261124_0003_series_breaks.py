"""Series breaks: an indicator definition changes from a period on; charts mark it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:33:53.721161
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_series_breaks_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_series_breaks_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_breaks")),
        sa.UniqueConstraint(
            "indicator_id", "period_id", name=op.f("uq_series_breaks_indicator_id_period_id")
        ),
    )
    with op.batch_alter_table("series_breaks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_series_breaks_period_id"), ["period_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("series_breaks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_breaks_period_id"))

    op.drop_table("series_breaks")
