"""Writing messages: one outbox row per recipient and channel, in the caller's transaction.

The workflow (a report returned, approved or reopened; a period published; an invitation)
calls these in the same transaction as its change, so the message exists exactly when the
change commits: a rollback takes it away, a commit hands it to the delivery worker
(models/notifications/worker.py). Recipients are resolved now, from the grants of the moment,
and each row has an idempotency key (event, recipient, channel): writing the same event twice
is a no-op, which is also how scheduled reminders are sent once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.outbox.preferences import daily, muted
from models.tables.access import RoleGrant, User
from models.tables.base import utcnow
from models.tables.notifications import OutboxMessage

CHANNEL = "email"


def reporters(*, session: Session, initiative_id: int, organisation_id: int) -> list[User]:
    """The active people who report for the organisation in the initiative."""
    return _granted(
        session,
        (RoleGrant.role == "reporter")
        & (RoleGrant.initiative_id == initiative_id)
        & (RoleGrant.organisation_id == organisation_id),
    )


def funders_and_backbone(*, session: Session, initiative_id: int) -> list[User]:
    """The active funders and backbone staff of the initiative."""
    return _granted(
        session,
        RoleGrant.role.in_(("funder", "backbone")) & (RoleGrant.initiative_id == initiative_id),
    )


def backbone_staff(*, session: Session, initiative_id: int) -> list[User]:
    """The active backbone staff of the initiative."""
    return _granted(
        session, (RoleGrant.role == "backbone") & (RoleGrant.initiative_id == initiative_id)
    )


def _granted(session: Session, where: Any) -> list[User]:
    ids = select(RoleGrant.user_id).where(where)
    return list(
        session.scalars(
            select(User).where(User.id.in_(ids), User.is_active.is_(True)).order_by(User.id)
        )
    )


def insert_once(session: Session) -> Insert:
    """An INSERT that does nothing when the idempotency key is taken."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(OutboxMessage).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
    return sqlite.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])


def enqueue(
    *,
    session: Session,
    kind: str,
    event: str,
    recipients: Sequence[User],
    payload: dict[str, Any],
    initiative_id: int | None = None,
    exclude: Iterable[int | None] = (),
    available_at: datetime | None = None,
) -> int:
    """Write one message of ``kind`` per recipient (those who turned the kind off and those in
    ``exclude``, the change's own author, left out), keyed ``{event}:{user}:{channel}``; a
    recipient who wants the kind daily has it held for their next digest. Answers how many
    rows were new."""
    ids = [u.id for u in recipients]
    skip = set(exclude) | muted(session=session, user_ids=ids, kind=kind)
    held = daily(session=session, user_ids=ids, kind=kind)
    rows = [
        {
            "idempotency_key": f"{event}:{user.id}:{CHANNEL}",
            "kind": kind,
            "channel": CHANNEL,
            "recipient_user_id": user.id,
            "address": user.email,
            "initiative_id": initiative_id,
            "payload": payload,
            "status": "held" if user.id in held else "pending",
            "attempts": 0,
            "available_at": available_at or utcnow(),
            "created_at": utcnow(),
        }
        for user in recipients
        if user.id not in skip
    ]
    if not rows:
        return 0
    written = 0
    for row in rows:  # one statement a row: RETURNING tells which were new on both databases
        new = session.execute(insert_once(session).values(row).returning(OutboxMessage.id)).first()
        written += new is not None
    return written
