"""Shared counters: the login throttle and the rate limit hold across workers and containers.

Without Redis (``CM_REDIS_URL``) the workers of one PostgreSQL database count failed logins and
requests in this table (``models.core.counters``). It is UNLOGGED there: counters need no crash
safety, and a write per request should cost no WAL. On SQLite the counters live in a file of
their own beside the database (one writer per file: see ``models.core.counters``), so this table
stays empty there; it is created all the same, so both databases have one schema.

Revision ID: 0007_shared_counters
Revises: 0006_deadline_extensions
Create Date: 2026-11-30 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_shared_counters"
down_revision: str | None = "0006_deadline_extensions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shared_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket", name=op.f("pk_shared_counters")),
    )
    with op.batch_alter_table("shared_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shared_counters_expires"), ["expires"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE shared_counters SET UNLOGGED")


def downgrade() -> None:
    with op.batch_alter_table("shared_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_counters_expires"))
    op.drop_table("shared_counters")
