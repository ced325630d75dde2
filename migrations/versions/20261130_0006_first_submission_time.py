"""Submissions keep their first submission's time, whose lateness they keep.

A report submitted on time, returned for a correction and submitted again after the due date
was marked late: lateness was recomputed on every submission, and ``submitted_at`` is
overwritten by the latest one. ``first_submitted_at`` records the first; resubmissions keep it
and its lateness. Reports submitted before keep it empty: their lateness as stored is kept, and
their latest submission is the earliest time known for them (read in its place).

Revision ID: 0006_first_submission
Revises: 0005
Create Date: 2026-11-30 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_first_submission"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on every backend, never SQLite's batch "copy and move" of the table:
# dropping the old ``submissions`` table would cascade to every value (its foreign keys are on).
# SQLite has added and dropped columns in place since 3.35.


def upgrade() -> None:
    op.add_column(
        "submissions", sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("submissions", "first_submitted_at")
