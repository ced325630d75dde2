"""Writing webhook messages: one outbox row per enabled endpoint of the initiative that listens
for the event, in the caller's transaction (README, "Webhooks").

As for mail (``models/outbox/messages.py``), the message exists exactly when the change
commits, and its idempotency key (event, endpoint, channel) makes writing the event twice a
no-op. The payload names what happened and where to read more, never a figure: a funder's or a
city's system reads figures through the API, with its own access (links are added on sending).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.outbox.messages import insert_once
from models.tables.base import utcnow
from models.tables.notifications import OutboxMessage
from models.tables.webhooks import WebhookEndpoint

CHANNEL = "webhook"


def announce(
    *, session: Session, kind: str, event: str, initiative_id: int, data: dict[str, Any]
) -> int:
    """Write ``kind`` for every enabled endpoint of the initiative subscribed to it, keyed
    ``{event}:{endpoint}:webhook``; answers how many rows were new."""
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.events)
        .where(WebhookEndpoint.initiative_id == initiative_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)
    ).all()
    payload = {**data, "occurred_at": utcnow().isoformat()}
    written = 0
    for endpoint_id, url, events in endpoints:
        if kind not in events:
            continue
        row = {
            "idempotency_key": f"{event}:{endpoint_id}:{CHANNEL}",
            "kind": kind,
            "channel": CHANNEL,
            "recipient_user_id": None,
            "webhook_endpoint_id": endpoint_id,
            "address": url[:254],
            "initiative_id": initiative_id,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "available_at": utcnow(),
            "created_at": utcnow(),
        }
        new = session.execute(insert_once(session).values(row).returning(OutboxMessage.id))
        written += new.first() is not None
    return written
