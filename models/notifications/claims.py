"""The outbox's accounting, shared by mail and webhooks: claiming due messages, settling a claim
(only its holder can), the backoff between attempts, and the audit event of every message sent
or given up on. The worker (models/notifications/worker.py) explains the guarantees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.core.db import session_scope
from models.core.settings import get_settings
from models.tables.audit import AuditEvent
from models.tables.notifications import OutboxMessage

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
BATCH = 20
ACTOR = "system:notifications"  # the audit trail's name for the worker


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s doubling, at most an hour."""
    wait: timedelta = BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 20)
    return min(wait, BACKOFF_CAP)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    channel: str
    recipient_user_id: int | None
    webhook_endpoint_id: int | None
    address: str
    payload: dict[str, Any]
    attempts: int
    claim_token: str
    idempotency_key: str
    initiative_id: int | None


@dataclass
class Tick:
    """What one round of the worker did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0  # sent, but the claim had been taken over meanwhile: not marked by us
    overtaken: int = 0  # not sent by us: the claim was another worker's before its turn came
    reminders: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


def claim(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    limit: int = BATCH,
    lease: timedelta | None = None,
) -> list[Claimed]:
    """Claim up to ``limit`` due messages (pending and their time come, or claimed by a worker
    whose lease ran out), in a transaction of their own."""
    lease = lease or timedelta(seconds=get_settings().notify_lease_seconds)
    token = str(uuid.uuid4())
    table = OutboxMessage
    with session_scope(session_factory) as session:
        due = (
            select(table.id)
            .where(
                or_(
                    and_(table.status == "pending", table.available_at <= now),
                    and_(table.status == "sending", table.lease_until < now),
                )
            )
            .order_by(table.available_at, table.id)
            .limit(limit)
        )
        if session.scalar(due.with_only_columns(table.id)) is None:
            return []  # nothing due: no write (an idle outbox takes no lock on SQLite)
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        session.execute(
            update(table)
            .where(table.id.in_(due))
            .values(
                status="sending",
                claim_token=token,
                lease_until=now + lease,
                attempts=table.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(
                table.id,
                table.kind,
                table.channel,
                table.recipient_user_id,
                table.webhook_endpoint_id,
                table.address,
                table.payload,
                table.attempts,
                table.claim_token,
                table.idempotency_key,
                table.initiative_id,
            )
            .where(table.claim_token == token)
            .order_by(table.id)
        ).all()
    return [Claimed(*row) for row in rows]


def renew(
    session_factory: sessionmaker[Session],
    message: Claimed,
    *,
    now: datetime,
    lease: timedelta | None = None,
) -> bool:
    """Extend our claim on ``message`` before sending it; False when it is ours no more.

    A batch's messages are sent one after another, each within its timeout, so the last of
    twenty slow webhooks could start long after the batch's lease ran out — and another worker,
    seeing the lease gone, would send it too. Renewing right before each send keeps a message
    from being sent twice by two live workers; only a worker that dies mid-send leaves a copy
    to its successor (README, "Notifications")."""
    lease = lease or timedelta(seconds=get_settings().notify_lease_seconds)
    with session_scope(session_factory) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.claim_token == message.claim_token,
                OutboxMessage.status == "sending",
            )
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def settle(session: Session, message: Claimed, **values: Any) -> bool:
    """Record the outcome of our claim; False when the claim is no longer ours."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.claim_token == message.claim_token,
            OutboxMessage.status == "sending",
        )
        .values(claim_token=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def audit(
    session: Session,
    message: Claimed,
    action: str,
    error: str | None = None,
    **details: Any,
) -> None:
    """Every message sent, or given up on, is in the audit trail of its initiative (with the
    transaction that marks it, so once)."""
    session.add(
        AuditEvent(
            actor_user_id=None,
            actor_label=ACTOR,
            initiative_id=message.initiative_id,
            entity_type="notification",
            entity_id=message.id,
            action=action,
            after={
                "kind": message.kind,
                "to": message.address,
                "attempts": message.attempts,
                **details,
            },
            reason=error,
        )
    )
    session.flush()
