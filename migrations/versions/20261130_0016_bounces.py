"""Mail bounces: the delivery status notifications handed in by the mail server (README,
"Notifications"), one row per failed recipient, tied to the outbox message they tell of.

A new table only: ``outbox_messages`` keeps its CHECK constraints (changing them would rebuild
the table on SQLite); a bounced message stays "sent" there and reads as bounced through this one.

Revision ID: 0016_bounces
Revises: 0015_stories
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_bounces"
down_revision: str | None = "0015_stories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_bounces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=254), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("status_code", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_mail_bounces_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_bounces")),
        sa.UniqueConstraint(
            "message_id",
            "recipient",
            "status_code",
            name=op.f("uq_mail_bounces_message_id_recipient_status_code"),
        ),
    )
    op.create_index(op.f("ix_mail_bounces_outbox_id"), "mail_bounces", ["outbox_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mail_bounces_outbox_id"), table_name="mail_bounces")
    op.drop_table("mail_bounces")
