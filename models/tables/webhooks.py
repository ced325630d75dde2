"""Webhooks: an initiative's endpoints, which its backbone team registers so that a funder's or
a city's systems hear of approvals and publications, and the log of every delivery attempt
(README, "Webhooks").

The secret signs each delivery (HMAC-SHA256), so the server must keep it readable: it is stored
as is, shown once when made, and never listed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, JSONType, TimestampMixin
from models.tables.organisation import _in

# What an endpoint may subscribe to: the decisions a funder's or a city's systems act on.
WEBHOOK_EVENTS = ("report_approved", "report_reopened", "period_published")
# delivered: a 2xx; retrying: a timeout, a connection error, 408, 429 or a 5xx, tried again
# later; failed: any other answer, or the last attempt.
DELIVERY_OUTCOMES = ("delivered", "retrying", "failed")


class WebhookEndpoint(TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(String(300))
    events: Mapped[list[str]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    secret: Mapped[str] = mapped_column(String(100))
    secret_set_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint: when, what came back, how long."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(_in("outcome", DELIVERY_OUTCOMES), name="outcome"),
        # The endpoint's log, newest first.
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(24))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
