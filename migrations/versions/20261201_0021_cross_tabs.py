"""Cross-tabs: a dimension may be composed of two others (its rows and columns).

Revision ID: 0021_cross_tabs
Revises: 0020_computed_indicators
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_cross_tabs"
down_revision: str | None = "0020_computed_indicators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("row_dimension_id", "column_dimension_id")


def _fk(column: str) -> str:
    return f"fk_dimensions_{column}_dimensions"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in one statement (no ALTER of constraints);
        # rebuilding the table instead would cascade to its categories. No action on delete:
        # a component is refused deletion while a cross-tab stands on it.
        for column in COLUMNS:
            op.execute(
                f"ALTER TABLE dimensions ADD COLUMN {column} INTEGER "
                f"CONSTRAINT {_fk(column)} REFERENCES dimensions (id)"
            )
        return
    for column in COLUMNS:
        op.add_column("dimensions", sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(_fk(column), "dimensions", "dimensions", [column], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for column in COLUMNS:
            op.execute(f"ALTER TABLE dimensions DROP COLUMN {column}")
        return
    for column in COLUMNS:
        op.drop_constraint(_fk(column), "dimensions", type_="foreignkey")
        op.drop_column("dimensions", column)
