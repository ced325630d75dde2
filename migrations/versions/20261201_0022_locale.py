"""Languages: a user's chosen language for pages, messages and e-mails (README, "Languages").

Revision ID: 0022_locale
Revises: 0021_cross_tabs
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_locale"
down_revision: str | None = "0021_cross_tabs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: no choice made, so the browser's language (Accept-Language) decides.
    op.add_column("users", sa.Column("locale", sa.String(8), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN locale")
    else:
        op.drop_column("users", "locale")
