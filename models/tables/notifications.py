"""Notifications: the outbox of messages to deliver, the local mailbox, what each person wants
to hear about, and each initiative's reminder schedule (README, "Notifications").

An outbox row is written in the same transaction as the change it tells of, so a change that
rolls back leaves no message and a committed one always has its message; the delivery worker
(``models.notifications.worker``) sends and marks them afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, JSONType, TimestampMixin
from models.tables.organisation import _in

KINDS = (
    "report_returned",
    "report_approved",
    "report_reopened",
    "period_published",
    "invitation",
    "reminder",
    "digest",
    "escalation",
    "period_opened",
)
CHANNELS = ("email", "webhook")
# pending: waiting for its time; sending: claimed by a worker until lease_until; sent; failed:
# gave up after the most attempts (kept, visible); skipped: its recipient turned the kind off
# after it was written, or it no longer stands; held: its recipient wants this kind in a daily
# digest, not written yet; bundled: gone out in the digest ``bundled_into``.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "held", "bundled")
MODES = ("immediate", "daily", "off")
ESCALATE_AFTER_DAYS = 7  # a report this many days overdue is escalated to the backbone team
RECIPIENT = (
    "(channel = 'email' AND recipient_user_id IS NOT NULL) OR "
    "(channel = 'webhook' AND webhook_endpoint_id IS NOT NULL)"
)


class OutboxMessage(TimestampMixin, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        # A mail goes to a person, a webhook to an endpoint (README, "Webhooks").
        CheckConstraint(RECIPIENT, name="recipient"),
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        # The worker's one question: what is due (pending and its time come, or a lease gone).
        Index("ix_outbox_messages_due", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One message per event, recipient and channel: writing it twice is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(12))
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A webhook's endpoint; deleting the endpoint takes its undelivered messages with it.
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # The recipient's e-mail, or the endpoint's URL (cut to fit), when written.
    address: Mapped[str] = mapped_column(String(254))
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    # What the message says, as the change saw it (names, comment, dates): rendered on sending.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    available_at: Mapped[datetime]
    # A claim: the worker holding it, until when; another worker may take it over afterwards.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    bundled_into: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )


class MailboxMessage(TimestampMixin, Base):
    """Mail delivered here instead of the network when no ``CM_SMTP_URL`` is set."""

    __tablename__ = "mailbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), unique=True
    )
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType)


class MailBounce(Base):
    """A delivery status notification saying a mail we sent failed for one recipient, after
    the SMTP server had taken it (README, "Notifications"): one row per failed recipient."""

    __tablename__ = "mail_bounces"
    __table_args__ = (
        # The same report handed in twice is recorded once.
        UniqueConstraint("message_id", "recipient", "status_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(254))  # the original's, with its brackets
    recipient: Mapped[str] = mapped_column(String(254), index=True)  # lower case
    status_code: Mapped[str] = mapped_column(String(16))  # RFC 3463, e.g. "5.1.1"
    action: Mapped[str] = mapped_column(String(16))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    # A hard bounce (5.x.x) holds mail to its address until an admin clears it.
    cleared_at: Mapped[datetime | None]
    cleared_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class NotificationPreference(Base):
    """How a person wants one kind of message; no row: immediately."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(_in("mode", MODES), name="mode"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    mode: Mapped[str] = mapped_column(String(12))


class ReminderSchedule(Base):
    """When an initiative's partners are reminded of a report not yet submitted: days from the
    period's due date (negative before it); and after how many days overdue its backbone team
    hears of it (None: never). No row: the default schedule."""

    __tablename__ = "reminder_schedules"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    offsets: Mapped[list[int]] = mapped_column(JSONType)
    escalate_after_days: Mapped[int | None] = mapped_column(
        Integer, default=ESCALATE_AFTER_DAYS, server_default=str(ESCALATE_AFTER_DAYS)
    )
