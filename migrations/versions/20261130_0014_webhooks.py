"""Webhooks: each initiative's endpoints, their delivery log, and webhook messages in the outbox.

An outbox row is now a mail to a person (``recipient_user_id``) or a webhook to an endpoint
(``webhook_endpoint_id``), never neither: the channel says which. Downgrade deletes the webhook
messages (the older schema has no place for them) before restoring the e-mail-only outbox.

Managing endpoints (audit events ``webhook``) moves no figure, as access and messages sent do
not: the figure views' partial index (0010_figure_events) leaves them out from here on.

Changing the outbox rebuilds ``outbox_messages`` on SQLite, whose DROP TABLE (foreign keys on)
sets to NULL every reference to the old table's rows: the mailbox's ``outbox_id`` and the
digests' ``bundled_into`` are read before and written back after (as 0013_escalations does).

Revision ID: 0014_webhooks
Revises: 0013_escalations
Create Date: 2026-11-30 20:40:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_webhooks"
down_revision: str | None = "0013_escalations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# models.tables.audit.MOVES_FIGURES before and after this revision (each revision keeps its own).
FIGURES_BEFORE = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')))"
)
MOVES_FIGURES = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')))"
)
RECIPIENT = (
    "(channel = 'email' AND recipient_user_id IS NOT NULL) OR "
    "(channel = 'webhook' AND webhook_endpoint_id IS NOT NULL)"
)


OUTBOX = sa.table(
    "outbox_messages", sa.column("id", sa.Integer), sa.column("bundled_into", sa.Integer)
)
MAILBOX = sa.table(
    "mailbox_messages", sa.column("id", sa.Integer), sa.column("outbox_id", sa.Integer)
)


@contextmanager
def _references_kept() -> Iterator[None]:
    """Rebuild the outbox inside, keeping every reference to its rows."""
    conn = op.get_bind()
    o, m = OUTBOX.c, MAILBOX.c
    bundled = conn.execute(sa.select(o.id, o.bundled_into).where(o.bundled_into.is_not(None)))
    bundled_rows = [{"row": i, "into": into} for i, into in bundled]
    mailed = conn.execute(sa.select(m.id, m.outbox_id).where(m.outbox_id.is_not(None)))
    mailed_rows = [{"row": i, "outbox": outbox} for i, outbox in mailed]
    yield
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


def _figures_index(where: str) -> None:
    op.drop_index("ix_audit_events_figures", table_name="audit_events")
    op.create_index(
        "ix_audit_events_figures",
        "audit_events",
        ["initiative_id", "at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    _figures_index(MOVES_FIGURES)
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("secret_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_webhook_endpoints_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_webhook_endpoints_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_initiative_id"),
        "webhook_endpoints",
        ["initiative_id"],
        unique=False,
    )
    with _references_kept(), op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_endpoint_id", sa.Integer(), nullable=True))
        batch_op.alter_column("recipient_user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_webhook_endpoint_id_webhook_endpoints"),
            "webhook_endpoints",
            ["webhook_endpoint_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_webhook_endpoint_id"),
            ["webhook_endpoint_id"],
            unique=False,
        )
        batch_op.drop_constraint(op.f("ck_outbox_messages_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_channel"), "channel IN ('email', 'webhook')"
        )
        batch_op.create_check_constraint(op.f("ck_outbox_messages_recipient"), RECIPIENT)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('delivered', 'retrying', 'failed')",
            name=op.f("ck_webhook_deliveries_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_webhook_deliveries_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_deliveries_outbox_id"), "webhook_deliveries", ["outbox_id"], unique=False
    )


def downgrade() -> None:
    _figures_index(FIGURES_BEFORE)
    op.drop_index(op.f("ix_webhook_deliveries_outbox_id"), table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_endpoint", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.execute("DELETE FROM outbox_messages WHERE channel = 'webhook'")
    with _references_kept(), op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_recipient"), type_="check")
        batch_op.drop_constraint(op.f("ck_outbox_messages_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_messages_channel"), "channel IN ('email')")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_webhook_endpoint_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_webhook_endpoint_id_webhook_endpoints"),
            type_="foreignkey",
        )
        batch_op.alter_column("recipient_user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("webhook_endpoint_id")
    op.drop_index(op.f("ix_webhook_endpoints_initiative_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
