"""What the admin reads of the notifications: the local mailbox (mail delivered here when no
``CM_SMTP_URL`` is set) and the outbox itself, failed messages included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.actors import Actor, require_login
from models.core.errors import InvalidInput, PermissionDenied
from models.core.i18n import gettext
from models.tables.notifications import OUTBOX_STATUSES, MailboxMessage, OutboxMessage


def _admin(actor: Actor) -> None:
    require_login(actor)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only an admin reads the mailbox and the outbox"))


@dataclass(frozen=True)
class MailView:
    id: int
    at: datetime
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, Any]


def mailbox(
    *, session: Session, actor: Actor, to: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[MailView], int]:
    """The local mailbox, newest first (admin), optionally one address's mail."""
    _admin(actor)
    where = [] if to is None else [MailboxMessage.to_address == to.strip().lower()]
    total = session.scalar(select(func.count()).select_from(MailboxMessage).where(*where)) or 0
    rows = session.scalars(
        select(MailboxMessage)
        .where(*where)
        .order_by(MailboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        MailView(m.id, m.created_at, m.to_address, m.subject, m.text_body, m.html_body, m.headers)
        for m in rows
    ], total


@dataclass(frozen=True)
class OutboxView:
    id: int
    kind: str
    channel: str
    to: str
    status: str
    attempts: int
    created_at: datetime
    available_at: datetime
    sent_at: datetime | None
    last_error: str | None


def outbox(
    *,
    session: Session,
    actor: Actor,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OutboxView], int]:
    """The outbox's messages, newest first (admin), optionally of one status (``failed``)."""
    _admin(actor)
    if status is not None and status not in OUTBOX_STATUSES:
        raise InvalidInput(
            gettext(
                "status is one of %(outbox_statuses)s", outbox_statuses=", ".join(OUTBOX_STATUSES)
            ),
            field="status",
        )
    where = [] if status is None else [OutboxMessage.status == status]
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    rows = session.scalars(
        select(OutboxMessage)
        .where(*where)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        OutboxView(
            m.id,
            m.kind,
            m.channel,
            m.address,
            m.status,
            m.attempts,
            m.created_at,
            m.available_at,
            m.sent_at,
            m.last_error,
        )
        for m in rows
    ], total
