"""Escalations and period-opening notices: two new kinds of message, and each initiative's
reminder schedule says after how many days overdue its backbone team hears of a missing report
(7 by default; NULL: never).

Changing the kinds' CHECK rebuilds ``outbox_messages`` on SQLite, whose DROP TABLE (foreign keys
on) sets to NULL every reference to the old table's rows: the mailbox's ``outbox_id`` and the
digests' ``bundled_into``. Both are read before and written back after.

Downgrade deletes the messages of the two new kinds (the older schema has no such kinds) and
the column.

Revision ID: 0013_escalations
Revises: 0012_import_trails
Create Date: 2026-11-30 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_escalations"
down_revision: str | None = "0012_import_trails"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "report_returned",
    "report_approved",
    "report_reopened",
    "period_published",
    "invitation",
    "reminder",
    "digest",
)
NEW_KINDS = (*OLD_KINDS, "escalation", "period_opened")


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


OUTBOX = sa.table(
    "outbox_messages",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("bundled_into", sa.Integer),
)
MAILBOX = sa.table(
    "mailbox_messages", sa.column("id", sa.Integer), sa.column("outbox_id", sa.Integer)
)
PREFERENCES = sa.table("notification_preferences", sa.column("kind", sa.String))


def _set_kinds(kinds: tuple[str, ...]) -> None:
    """Replace the kinds' CHECK, keeping every reference to an outbox row."""
    conn = op.get_bind()
    o, m = OUTBOX.c, MAILBOX.c
    bundled = conn.execute(sa.select(o.id, o.bundled_into).where(o.bundled_into.is_not(None)))
    bundled_rows = [{"row": i, "into": into} for i, into in bundled]
    mailed = conn.execute(sa.select(m.id, m.outbox_id).where(m.outbox_id.is_not(None)))
    mailed_rows = [{"row": i, "outbox": outbox} for i, outbox in mailed]
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_kind"), type_="check")
        batch_op.create_check_constraint("kind", _kinds(kinds))
    if bundled_rows:
        conn.execute(
            sa.update(OUTBOX)
            .where(o.id == sa.bindparam("row"))
            .values(bundled_into=sa.bindparam("into")),
            bundled_rows,
        )
    if mailed_rows:
        conn.execute(
            sa.update(MAILBOX)
            .where(m.id == sa.bindparam("row"))
            .values(outbox_id=sa.bindparam("outbox")),
            mailed_rows,
        )


def upgrade() -> None:
    _set_kinds(NEW_KINDS)
    with op.batch_alter_table("reminder_schedules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("escalate_after_days", sa.Integer(), server_default="7", nullable=True)
        )


def downgrade() -> None:
    added = ("escalation", "period_opened")
    op.execute(sa.delete(OUTBOX).where(OUTBOX.c.kind.in_(added)))
    op.execute(sa.delete(PREFERENCES).where(PREFERENCES.c.kind.in_(added)))
    with op.batch_alter_table("reminder_schedules", schema=None) as batch_op:
        batch_op.drop_column("escalate_after_days")
    _set_kinds(OLD_KINDS)
