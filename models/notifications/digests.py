"""Daily digests: one mail a day per person who chose some kinds "daily", listing what was held
for them (models/outbox/preferences.py).

A held message waits in the outbox (status ``held``). Once its day is over (UTC), the worker
writes one ``digest`` message for the person with every message held before that midnight and
marks those ``bundled`` into it, all in one transaction: a message is in exactly one digest.
The digest's key names the day and its first message, so two workers bundling at once write it
once (the second finds the key taken and leaves the messages to the first).

A digest also lists the reports its person still owes as a reporter (models/notifications/
obligations.py), each with its due date and pre-filled template; but owing a report alone
writes no digest: the reminders' schedule says when to speak of it, and a person who wants
those daily has them held here like any other kind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.notifications.obligations import open_reports
from models.outbox.messages import CHANNEL, enqueue
from models.tables.access import RoleGrant, User
from models.tables.notifications import OutboxMessage


def owed(*, session: Session, user_id: int, today: date) -> list[dict[str, str]]:
    """The reports ``user_id`` still owes today as a reporter, as a digest lists them."""
    grants = session.execute(
        select(RoleGrant.initiative_id, RoleGrant.organisation_id).where(
            RoleGrant.user_id == user_id, RoleGrant.role == "reporter"
        )
    ).all()
    pairs = [(i, o) for i, o in grants if i is not None and o is not None]
    return [r.payload() for r in open_reports(session=session, today=today, organisations=pairs)]


def bundle_digests(*, session: Session, now: datetime, today: date | None = None) -> int:
    """Write the digests due by ``now``, listing the reports owed on ``today`` (the calendar's,
    models.core.dates.today; by default ``now``'s day); answers how many were written."""
    day = now.astimezone(UTC).date()
    today = today or day
    midnight = datetime.combine(day, time(0), UTC)
    held = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient_user_id,
            OutboxMessage.kind,
            OutboxMessage.payload,
        )
        .where(OutboxMessage.status == "held", OutboxMessage.created_at < midnight)
        .order_by(OutboxMessage.recipient_user_id, OutboxMessage.id)
    ).all()
    written = 0
    for user_id, rows in groupby(held, key=lambda row: row.recipient_user_id):
        items = list(rows)
        ids = [row.id for row in items]
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            _mark(session, ids, status="skipped", last_error="the account is deactivated")
            continue
        event = f"digest:{day.isoformat()}:{ids[0]}"
        new = enqueue(
            session=session,
            kind="digest",
            event=event,
            recipients=[user],
            payload={
                "day": (day - timedelta(days=1)).isoformat(),  # the last day it covers
                "items": [{"kind": row.kind, "payload": row.payload} for row in items],
                "obligations": owed(session=session, user_id=user.id, today=today),
            },
        )
        if not new:
            continue  # another worker is writing this digest
        digest_id = session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.idempotency_key == f"{event}:{user.id}:{CHANNEL}"
            )
        )
        _mark(session, ids, status="bundled", bundled_into=digest_id)
        written += 1
    return written


def _mark(session: Session, ids: list[int], **values: object) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "held")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
