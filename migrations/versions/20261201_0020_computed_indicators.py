"""Computed indicators: an indicator may carry an expression over other indicators' codes.

Revision ID: 0020_computed_indicators
Revises: 0019_gap_targets
Create Date: 2026-12-01 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_computed_indicators"
down_revision: str | None = "0019_gap_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("indicators", sa.Column("expression", sa.Text(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE indicators DROP COLUMN expression")
    else:
        op.drop_column("indicators", "expression")
