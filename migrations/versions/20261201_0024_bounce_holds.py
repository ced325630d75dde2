"""Bounce holds: a hard bounce (a permanent failure, status 5.x.x) holds mail to its address
until an administrator clears it (README, "Notifications").

Revision ID: 0024_bounce_holds
Revises: 0023_setup_revision
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_bounce_holds"
down_revision: str | None = "0023_setup_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_bounces") as batch:
        batch.add_column(sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column(
                "cleared_by_user_id",
                sa.Integer(),
                sa.ForeignKey(
                    "users.id", ondelete="SET NULL", name="fk_mail_bounces_cleared_by_user_id_users"
                ),
                nullable=True,
            )
        )
        batch.create_index("ix_mail_bounces_recipient", ["recipient"])


def downgrade() -> None:
    with op.batch_alter_table("mail_bounces") as batch:
        batch.drop_index("ix_mail_bounces_recipient")
        batch.drop_constraint("fk_mail_bounces_cleared_by_user_id_users", type_="foreignkey")
        batch.drop_column("cleared_by_user_id")
        batch.drop_column("cleared_at")
