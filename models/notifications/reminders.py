"""Reminders of reports not yet submitted, computed from each initiative's schedule and the
calendar's today (models.core.dates.today), without cron.

A schedule is a list of days from a period's due date: by default 14 and 3 days before, 1 and 7
days after (``-14, -3, 1, 7``); the backbone team edits it. On each day the worker asks which
reminder's day has come last for every period still open to partners, and writes it for the
members obliged to report in the period that have not submitted (no report, a draft, or a
report returned to them), to their reporters. Each reminder's idempotency key is (member,
period, offset, recipient): written at most once, however often the worker asks. A worker that
was down on a reminder's day sends it when it is back, within three days and until the next
reminder's day comes (then only the newer one goes out); nothing once the period has closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core.actors import Actor
from models.core.errors import InvalidInput
from models.outbox.messages import CHANNEL, enqueue, reporters
from models.outbox.preferences import muted
from models.tables.access import User
from models.tables.indicator import Obligation
from models.tables.initiative import Initiative, Member, Period
from models.tables.notifications import OutboxMessage, ReminderSchedule
from models.tables.organisation import Organisation
from models.tables.reporting import Submission

DEFAULT_OFFSETS = (-14, -3, 1, 7)
NOT_SUBMITTED = ("draft", "returned")
MAX_OFFSETS = 10
LIMIT_DAYS = 120
# A worker that was down on a reminder's day still sends it this many days later.
CATCH_UP_DAYS = 3


def _offsets(session: Session, initiative_id: int) -> list[int]:
    stored = session.get(ReminderSchedule, initiative_id)
    return sorted(stored.offsets) if stored is not None else list(DEFAULT_OFFSETS)


def schedule(*, session: Session, actor: Actor, initiative_slug: str) -> list[int]:
    """The initiative's reminder days (from the due date; negative before it)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    return _offsets(session, initiative.id)


def set_schedule(
    *, session: Session, actor: Actor, initiative_slug: str, offsets: Sequence[int]
) -> list[int]:
    """Replace the initiative's reminder days (backbone): at most ten distinct whole days
    within 120 days of the due date; an empty list sends no reminders."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    if len(offsets) > MAX_OFFSETS:
        raise InvalidInput(f"at most {MAX_OFFSETS} reminder days", field="offsets")
    if len(set(offsets)) != len(offsets):
        raise InvalidInput("each reminder day once", field="offsets")
    if any(abs(o) > LIMIT_DAYS for o in offsets):
        raise InvalidInput(
            f"reminder days lie within {LIMIT_DAYS} days of the due date", field="offsets"
        )
    stored = session.get(ReminderSchedule, initiative.id)
    if stored is None:
        session.add(ReminderSchedule(initiative_id=initiative.id, offsets=sorted(offsets)))
    else:
        stored.offsets = sorted(offsets)
    session.flush()
    return sorted(offsets)


def current_offset(offsets: Sequence[int], due_on: date, today: date) -> int | None:
    """The offset whose day came last by ``today``, while it is still worth sending (up to
    :data:`CATCH_UP_DAYS` after its day, and not once the next one's day has come); else None."""
    passed = [o for o in sorted(offsets) if due_on + timedelta(days=o) <= today]
    if not passed or today > due_on + timedelta(days=passed[-1] + CATCH_UP_DAYS):
        return None
    return passed[-1]


@dataclass(frozen=True)
class PlannedReminder:
    event: str
    initiative_id: int
    initiative: str
    organisation: str
    period: str
    offset: int
    due_on: date
    user: User
    payload: dict[str, Any]

    @property
    def email(self) -> str:
        return self.user.email

    def describe(self) -> str:
        """``c2c eastside 2026Q4: due in 14 days (due 2027-01-30)``."""
        if self.offset < 0:
            when = f"due in {-self.offset} day{'s' if self.offset != -1 else ''}"
        elif self.offset == 0:
            when = "due today"
        else:
            when = f"{self.offset} day{'s' if self.offset != 1 else ''} overdue"
        return (
            f"{self.initiative} {self.organisation} {self.period}: {when} "
            f"(due {self.due_on.isoformat()})"
        )


def plan(*, session: Session, today: date) -> list[PlannedReminder]:
    """Every reminder due ``today`` and not written yet, for every initiative."""
    out: list[PlannedReminder] = []
    for initiative in session.scalars(select(Initiative).order_by(Initiative.slug)):
        offsets = _offsets(session, initiative.id)
        if not offsets:
            continue
        first, last = min(offsets), max(offsets)
        periods = session.scalars(
            select(Period)
            .where(
                Period.initiative_id == initiative.id,
                Period.locked.is_(False),
                Period.closes_on >= today,
                Period.due_on <= today - timedelta(days=first),
                Period.due_on >= today - timedelta(days=last + CATCH_UP_DAYS),
            )
            .order_by(Period.starts_on)
        )
        for period in periods:
            offset = current_offset(offsets, period.due_on, today)
            if offset is None:
                continue
            out += _for_period(session, initiative, period, offset)
    return out


def _for_period(
    session: Session, initiative: Initiative, period: Period, offset: int
) -> list[PlannedReminder]:
    submitted = exists().where(
        Submission.member_id == Member.id,
        Submission.period_id == period.id,
        Submission.status.not_in(NOT_SUBMITTED),
    )
    obliged = exists().where(Obligation.member_id == Member.id)
    members = session.execute(
        select(Member.id, Organisation.id, Organisation.slug, Organisation.name)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == initiative.id, Member.active.is_(True), obliged, ~submitted)
        .order_by(Organisation.slug)
    ).all()
    out: list[PlannedReminder] = []
    for member_id, org_id, org_slug, org_name in members:
        event = f"reminder:{member_id}:{period.id}:{offset}"
        people = reporters(session=session, initiative_id=initiative.id, organisation_id=org_id)
        off = muted(session=session, user_ids=(u.id for u in people), kind="reminder")
        written = set(
            session.scalars(
                select(OutboxMessage.recipient_user_id).where(
                    OutboxMessage.idempotency_key.in_([f"{event}:{u.id}:{CHANNEL}" for u in people])
                )
            )
        )
        payload = {
            "initiative": initiative.slug,
            "initiative_name": initiative.name,
            "organisation": org_slug,
            "organisation_name": org_name,
            "period": period.key,
            "due_on": period.due_on.isoformat(),
            "offset": offset,
        }
        out += [
            PlannedReminder(
                event,
                initiative.id,
                initiative.slug,
                org_slug,
                period.key,
                offset,
                period.due_on,
                user,
                payload,
            )
            for user in people
            if user.id not in off and user.id not in written
        ]
    return out


def schedule_reminders(*, session: Session, today: date) -> int:
    """Write today's reminders into the outbox (each once); answers how many were new."""
    return sum(
        enqueue(
            session=session,
            kind="reminder",
            event=p.event,
            recipients=[p.user],
            payload=p.payload,
            initiative_id=p.initiative_id,
        )
        for p in plan(session=session, today=today)
    )
