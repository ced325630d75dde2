"""Bounces: the delivery status notifications (RFC 3464) a mail server sends back when a mail it
had taken could not be delivered, handed in by the MTA (``cm notify bounce`` on stdin, or the
API), recorded against the outbox message they tell of (README, "Notifications").

The SMTP server's refusal while sending already fails a message (models/notifications/worker.py);
with a relay most failures come later, as a DSN. The outbox keeps such a message "sent" (that is
what our accounting saw); the bounce is a row of its own, read beside it by the period's history.

A *hard* bounce (status 5.x.x: no such mailbox, domain gone, refused for good) holds mail to its
address: the worker skips every later mail to it, saying why, until an admin clears the bounce
(the mailbox works again) — a relay that keeps sending to dead addresses loses its reputation,
and everybody's mail with it. A soft bounce (4.x.x: mailbox full, try later) holds nothing.
A person whose address changes is mailed at the new one at once.

A DSN names the original by its Message-ID, which ``models.notifications.email.render`` derives
from the outbox row's idempotency key; the key is not stored hashed, so the row is found by
hashing the keys of the mail sent to the bounced recipients (and, failing that, of all mail).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string
from email.message import Message
from email.policy import default

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.actors import Actor, require_login
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.core.i18n import format_number, gettext
from models.notifications.claims import ACTOR
from models.tables.audit import AuditEvent
from models.tables.base import utcnow
from models.tables.notifications import MailBounce, OutboxMessage

MAX_BYTES = 1_000_000  # a DSN quoting a whole digest stays well under this
DIAGNOSTIC_CHARS = 1000
OURS = re.compile(r"^<([0-9a-f]{32})@common-measure>$")
SCAN = 1000  # keys hashed per query when the recipients' own mail does not hold the message


@dataclass(frozen=True)
class Bounced:
    recipient: str
    status: str
    action: str
    diagnostic: str | None
    new: bool  # False: this DSN had been recorded before


@dataclass(frozen=True)
class BounceReport:
    """What one DSN said and what of it was recorded."""

    outbox_id: int
    message_id: str
    bounced: list[Bounced]
    # Recipients the report names with another action (delayed, delivered, relayed, expanded).
    other: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recorded(self) -> list[Bounced]:
        return [b for b in self.bounced if b.new]


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(reason, field="message")


def _address(value: str | None) -> str:
    """``rfc822; someone@x.org`` as the address alone, lower case."""
    text = str(value or "").strip()
    if ";" in text:
        text = text.split(";", 1)[1]
    return text.strip().strip("<>").strip().lower()


def _status_part(dsn: Message) -> Message:
    if dsn.get_content_type() != "multipart/report":
        raise _refuse(
            gettext("the message is not a delivery status notification (multipart/report)")
        )
    for part in dsn.walk():
        if part.get_content_type() == "message/delivery-status":
            return part
    raise _refuse(gettext("the report has no message/delivery-status part"))


def _original_message_id(dsn: Message) -> str | None:
    """The Message-ID of the mail the report is about, from its quoted headers or message."""
    for part in dsn.walk():
        kind = part.get_content_type()
        quoted: Message
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            quoted = message_from_string(text, policy=default)
        elif kind == "message/rfc822":
            inner = part.get_payload()
            if not isinstance(inner, list) or not inner or not isinstance(inner[0], Message):
                continue
            quoted = inner[0]
        else:
            continue
        found = quoted.get("Message-ID")
        if found:
            return str(found).strip()
    return None


def _blocks(status: Message) -> list[Message]:
    """The per-recipient field blocks (the first block is about the message as a whole)."""
    blocks = status.get_payload()
    if not isinstance(blocks, list):
        raise _refuse(gettext("the delivery-status part cannot be read"))
    return [b for b in blocks[1:] if isinstance(b, Message)]


def _find(session: Session, message_id: str, addresses: set[str]) -> int | None:
    """The outbox mail whose Message-ID is ``message_id``: hashed keys compared (see above)."""
    ours = OURS.match(message_id)
    if ours is None:
        return None
    digest = ours.group(1)
    mail = select(OutboxMessage.id, OutboxMessage.idempotency_key).where(
        OutboxMessage.channel == "email"
    )
    for outbox_id, key in session.execute(mail.where(OutboxMessage.address.in_(addresses))):
        if hashlib.sha256(key.encode()).hexdigest()[:32] == digest:
            return int(outbox_id)
    after = 0
    while True:  # a forwarded address: the report names another recipient than ours
        rows = session.execute(
            mail.where(OutboxMessage.id > after).order_by(OutboxMessage.id).limit(SCAN)
        ).all()
        if not rows:
            return None
        for outbox_id, key in rows:
            if hashlib.sha256(key.encode()).hexdigest()[:32] == digest:
                return int(outbox_id)
        after = rows[-1][0]


def record_bounce(session: Session, raw: bytes, *, actor: Actor | None = None) -> BounceReport:
    """Record a DSN's failed recipients against the outbox message it names (once, however
    often it is handed in), with an audit event for each new one. ``actor`` is the API's caller
    (admin only); the CLI, run by the mail server, has none. A message that is no DSN, or
    names no mail of ours, is refused."""
    if actor is not None:
        require_login(actor)
        if not actor.is_admin:
            raise PermissionDenied(gettext("only an admin hands in bounces"))
    if not raw.strip():
        raise _refuse(gettext("the message is empty"))
    if len(raw) > MAX_BYTES:
        raise _refuse(
            gettext("the message is over %(max_bytes)s bytes", max_bytes=format_number(MAX_BYTES))
        )
    dsn = message_from_bytes(raw, policy=default)
    status = _status_part(dsn)
    message_id = _original_message_id(dsn)
    if message_id is None:
        raise _refuse(gettext("the report quotes no Message-ID of the original mail"))
    failed: list[tuple[str, str, str | None]] = []
    other: list[tuple[str, str]] = []
    for block in _blocks(status):
        recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
        action = str(block.get("Action") or "").strip().lower()
        if not recipient or not action:
            continue
        if action != "failed":
            other.append((recipient, action))
            continue
        words = str(block.get("Status") or "").split()
        diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split()) or None
        failed.append((recipient, words[0][:16] if words else "5.0.0", diagnostic))
    addresses = {r for r, *_ in failed} | {r for r, _ in other}
    outbox_id = _find(session, message_id, addresses)
    if outbox_id is None:
        raise _refuse(
            gettext(
                "the report is about %(message_id)s, which is no message of ours",
                message_id=message_id,
            )
        )
    message = session.get(OutboxMessage, outbox_id)
    assert message is not None  # just found
    now = datetime.now(UTC)
    bounced: list[Bounced] = []
    for recipient, code, diagnostic in failed:
        capped = diagnostic[:DIAGNOSTIC_CHARS] if diagnostic else None
        seen = session.scalar(
            select(MailBounce.id).where(
                MailBounce.message_id == message_id,
                MailBounce.recipient == recipient,
                MailBounce.status_code == code,
            )
        )
        if seen is None:
            try:  # the same report handed in at once by another process: its row stands
                with session.begin_nested():
                    session.add(
                        MailBounce(
                            outbox_id=outbox_id,
                            message_id=message_id,
                            recipient=recipient,
                            status_code=code,
                            action="failed",
                            diagnostic=capped,
                            received_at=now,
                        )
                    )
            except IntegrityError:
                seen = 0
        bounced.append(Bounced(recipient, code, "failed", capped, new=seen is None))
        if seen is not None:
            continue
        # Bookkeeping of a message, like its sending (claims.audit): no figure view moves.
        session.add(
            AuditEvent(
                actor_user_id=actor.user_id if actor else None,
                actor_label=actor.label if actor else ACTOR,
                initiative_id=message.initiative_id,
                entity_type="notification",
                entity_id=outbox_id,
                action="bounce",
                after={
                    "kind": message.kind,
                    "to": recipient,
                    "status": code,
                    "message_id": message_id,
                },
                reason=capped,
            )
        )
    session.flush()
    return BounceReport(outbox_id, message_id, bounced, other)


def is_hard(status_code: str) -> bool:
    """A permanent failure (RFC 3463 class 5): the address will not take mail tried again."""
    return status_code.strip().startswith("5")


def hold_on(session: Session, address: str) -> MailBounce | None:
    """The latest hard bounce of ``address`` not cleared yet: mail to it is held while there is
    one."""
    wanted = address.strip().lower()
    return session.scalars(
        select(MailBounce)
        .join(OutboxMessage, OutboxMessage.id == MailBounce.outbox_id)
        .where(
            MailBounce.recipient == wanted,
            # Only a report about mail sent to this address holds it: anyone holding a mail of
            # ours has its Message-ID, and could otherwise name any address in a forged report.
            func.lower(OutboxMessage.address) == wanted,
            MailBounce.status_code.like("5%"),
            MailBounce.cleared_at.is_(None),
        )
        .order_by(MailBounce.received_at.desc(), MailBounce.id.desc())
        .limit(1)
    ).first()


def held_because(bounce: MailBounce) -> str:
    """Why a mail was not sent, as the outbox and the period's history say it."""
    return (
        f"held: {bounce.recipient} bounced on {bounce.received_at:%Y-%m-%d} "
        f"({bounce.status_code}); mail to it waits until an administrator clears the bounce"
    )


@dataclass(frozen=True)
class Cleared:
    address: str  # as the bounces recorded it: the address alone, lower case
    count: int


def clear_bounces(*, session: Session, actor: Actor, address: str) -> Cleared:
    """Clear the hard bounces of ``address`` (admin: its owner says the mailbox works again),
    so that mail to it goes out again; each cleared bounce is audited. 404 when nothing holds
    the address."""
    require_login(actor)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only an admin clears bounces"))
    wanted = _address(address)
    held = list(
        session.scalars(
            select(MailBounce).where(
                MailBounce.recipient == wanted,
                MailBounce.status_code.like("5%"),
                MailBounce.cleared_at.is_(None),
            )
        )
    )
    if not held:
        raise NotFound(
            gettext("no bounce holds mail to %(address)s", address=wanted)
            if wanted
            else gettext("no bounce holds mail to that address")
        )
    now = utcnow()
    session.execute(
        update(MailBounce)
        .where(MailBounce.id.in_([b.id for b in held]))
        .values(cleared_at=now, cleared_by_user_id=actor.user_id)
    )
    for bounce in held:
        message = session.get(OutboxMessage, bounce.outbox_id) if bounce.outbox_id else None
        session.add(
            AuditEvent(
                actor_user_id=actor.user_id,
                actor_label=actor.label,
                initiative_id=message.initiative_id if message else None,
                entity_type="notification",
                entity_id=bounce.outbox_id,
                action="bounce_cleared",
                before={"to": bounce.recipient, "status": bounce.status_code},
                after={"to": bounce.recipient, "cleared_at": now.isoformat()},
            )
        )
    session.flush()
    return Cleared(wanted, len(held))


@dataclass(frozen=True)
class BounceView:
    id: int
    outbox_id: int | None
    kind: str | None
    recipient: str
    status: str
    diagnostic: str | None
    received_at: datetime
    message_id: str
    holds: bool  # a hard bounce not cleared: mail to the address is held
    cleared_at: datetime | None


def recent(*, session: Session, actor: Actor, limit: int = 50) -> list[BounceView]:
    """The latest bounces, newest first (admin): which addresses stopped taking our mail."""
    require_login(actor)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only an admin reads the bounces"))
    rows = session.execute(
        select(MailBounce, OutboxMessage.kind, OutboxMessage.address)
        .outerjoin(OutboxMessage, OutboxMessage.id == MailBounce.outbox_id)
        .order_by(MailBounce.id.desc())
        .limit(limit)
    ).all()
    return [
        BounceView(
            b.id,
            b.outbox_id,
            kind,
            b.recipient,
            b.status_code,
            b.diagnostic,
            b.received_at,
            b.message_id,
            holds=is_hard(b.status_code)
            and b.cleared_at is None
            and (address or "").lower() == b.recipient,
            cleared_at=b.cleared_at,
        )
        for b, kind, address in rows
    ]
