"""Messages computed from each initiative's schedule and the calendar's today
(models.core.dates.today), without cron: reminders of reports not yet submitted, escalations of
overdue ones to the backbone team, and the notice that a period opens for reports.

A schedule is a list of days from a period's due date: by default 14 and 3 days before, 1 and 7
days after (``-14, -3, 1, 7``), and a number of days overdue after which the backbone team is
told (7 by default; None: never); the backbone team edits both. On each day the worker takes the
reports still owed (models/notifications/obligations.py: members obliged to report that have not
submitted, in periods open to them) and writes:

- a **reminder** of the schedule's day that came last, to the member's reporters. A member with a
  deadline extension is reminded against its extension's day. A worker that was down on a
  reminder's day sends it when it is back, within three days and until the next reminder's day
  comes (then only the newer one goes out); nothing once the period has closed to the member.
- an **escalation**, once the report is overdue by the schedule's days, to the initiative's
  backbone staff: one per member, period and due date (an extension is a new due date, missed
  anew), whatever day the worker first sees it while the member may still write the report. An
  extension's day is the last its member may write, so a missed extension is escalated after
  it, within three days of the escalation's day.
- a **period-opening** notice, on the period's ``opens_on`` (or within three days after, for a
  worker that was down), to the member's reporters, with the pre-filled template's link.

Each message's idempotency key names its member, period (and offset, or the extended due date)
and recipient: written at most once, however often the worker asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core.actors import Actor
from models.core.errors import InvalidInput
from models.core.i18n import gettext
from models.notifications.obligations import OpenReport, open_reports
from models.outbox.messages import CHANNEL, backbone_staff, enqueue, reporters
from models.outbox.preferences import muted
from models.tables.access import User
from models.tables.initiative import Initiative
from models.tables.notifications import ESCALATE_AFTER_DAYS, OutboxMessage, ReminderSchedule

DEFAULT_OFFSETS = (-14, -3, 1, 7)
MAX_OFFSETS = 10
LIMIT_DAYS = 120
# A worker that was down on a reminder's day still sends it this many days later.
CATCH_UP_DAYS = 3


@dataclass(frozen=True)
class Schedule:
    offsets: list[int]
    escalate_after_days: int | None


def _schedule(session: Session, initiative_id: int) -> Schedule:
    stored = session.get(ReminderSchedule, initiative_id)
    if stored is None:
        return Schedule(list(DEFAULT_OFFSETS), ESCALATE_AFTER_DAYS)
    return Schedule(sorted(stored.offsets), stored.escalate_after_days)


def schedule(*, session: Session, actor: Actor, initiative_slug: str) -> Schedule:
    """The initiative's reminder days (from the due date; negative before it) and escalation."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    return _schedule(session, initiative.id)


def set_schedule(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    offsets: Sequence[int],
    escalate_after_days: int | None = ESCALATE_AFTER_DAYS,
) -> Schedule:
    """Replace the initiative's schedule (backbone): at most ten distinct whole days within 120
    days of the due date (an empty list sends no reminders), and the days overdue, 1 to 120,
    after which the backbone team is told of a missing report (None: never)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    if len(offsets) > MAX_OFFSETS:
        raise InvalidInput(
            gettext("at most %(max_offsets)s reminder days", max_offsets=MAX_OFFSETS),
            field="offsets",
        )
    if len(set(offsets)) != len(offsets):
        raise InvalidInput(gettext("each reminder day once"), field="offsets")
    if any(abs(o) > LIMIT_DAYS for o in offsets):
        raise InvalidInput(
            gettext(
                "reminder days lie within %(limit_days)s days of the due date",
                limit_days=LIMIT_DAYS,
            ),
            field="offsets",
        )
    if escalate_after_days is not None and not 1 <= escalate_after_days <= LIMIT_DAYS:
        raise InvalidInput(
            gettext(
                "escalate after 1 to %(limit_days)s days overdue, or never (null)",
                limit_days=LIMIT_DAYS,
            ),
            field="escalate_after_days",
        )
    stored = session.get(ReminderSchedule, initiative.id)
    if stored is None:
        stored = ReminderSchedule(initiative_id=initiative.id)
        session.add(stored)
    stored.offsets = sorted(offsets)
    stored.escalate_after_days = escalate_after_days
    session.flush()
    return Schedule(sorted(offsets), escalate_after_days)


def current_offset(offsets: Sequence[int], due_on: date, today: date) -> int | None:
    """The offset whose day came last by ``today``, while it is still worth sending (up to
    :data:`CATCH_UP_DAYS` after its day, and not once the next one's day has come); else None."""
    passed = [o for o in sorted(offsets) if due_on + timedelta(days=o) <= today]
    if not passed or today > due_on + timedelta(days=passed[-1] + CATCH_UP_DAYS):
        return None
    return passed[-1]


@dataclass(frozen=True)
class Planned:
    """One message the worker would write today, for one recipient."""

    kind: str  # reminder, escalation or period_opened
    event: str
    initiative_id: int
    initiative: str
    organisation: str
    period: str
    offset: int | None  # a reminder's day of the schedule; days overdue for an escalation
    due_on: date
    user: User
    payload: dict[str, Any]

    @property
    def email(self) -> str:
        return self.user.email

    def describe(self) -> str:
        """``reminder c2c eastside 2026Q4: due in 14 days (due 2027-01-30)``."""
        what = f"{self.kind} {self.initiative} {self.organisation} {self.period}"
        due = f"(due {self.due_on.isoformat()})"
        if self.kind == "period_opened":
            return f"{what}: open for reports {due}"
        offset = self.offset or 0
        if self.kind == "reminder" and offset < 0:
            when = f"due in {-offset} day{'s' if offset != -1 else ''}"
        elif offset == 0:
            when = "due today"
        else:
            when = f"{offset} day{'s' if offset != 1 else ''} overdue"
        return f"{what}: {when} {due}"


KIND_ORDER = ("period_opened", "reminder", "escalation")


def plan(*, session: Session, today: date) -> list[Planned]:
    """Every message due ``today`` and not written yet, for every initiative: by initiative,
    period, organisation, kind (opening, reminder, escalation) and recipient."""
    out: list[Planned] = []
    for initiative in session.scalars(select(Initiative).order_by(Initiative.slug)):
        chosen = _schedule(session, initiative.id)
        staff: list[User] | None = None
        owed = open_reports(
            session=session,
            today=today,
            initiative_id=initiative.id,
            ended_within=(chosen.escalate_after_days or 0) + CATCH_UP_DAYS,
        )
        for report in owed:
            # (kind, event, offset, recipients (None: the member's reporters), payload's extra)
            candidates: list[tuple[str, str, int | None, list[User] | None, dict[str, Any]]] = []
            opening = report.opens_on <= today <= report.opens_on + timedelta(days=CATCH_UP_DAYS)
            if report.writable and opening:
                event = f"period_opened:{report.member_id}:{report.period_id}"
                candidates.append(("period_opened", event, None, None, {}))
            offset = current_offset(chosen.offsets, report.due_on, today)
            if report.writable and offset is not None:
                event = f"reminder:{report.member_id}:{report.period_id}:{offset}{_due(report)}"
                candidates.append(("reminder", event, offset, None, {"offset": offset}))
            late = (today - report.due_on).days
            if _escalate(chosen.escalate_after_days, report, late):
                if staff is None:
                    staff = backbone_staff(session=session, initiative_id=initiative.id)
                event = f"escalation:{report.member_id}:{report.period_id}{_due(report)}"
                extra = {"days_overdue": late, "extended": report.extended}
                candidates.append(("escalation", event, late, staff, extra))
            if not candidates:
                continue
            people = reporters(
                session=session,
                initiative_id=initiative.id,
                organisation_id=report.organisation_id,
            )
            for kind, event, offset, to, extra in candidates:
                recipients = people if to is None else to
                payload = report.payload() | extra
                out += _unwritten(session, kind, event, report, offset, recipients, payload)
    return out


def _escalate(after: int | None, report: OpenReport, late: int) -> bool:
    """Whether the report is overdue long enough to tell the backbone team: while its member may
    still write it, or, after a deadline extension ended (the extension's day being the last
    its member could write), up to three days past the escalation's day."""
    if after is None or late < after:
        return False
    return report.writable or late <= after + CATCH_UP_DAYS


def _due(report: OpenReport) -> str:
    """An extended due date is part of its messages' keys: a new deadline, told anew."""
    return f":{report.due_on.isoformat()}" if report.extended else ""


def _unwritten(
    session: Session,
    kind: str,
    event: str,
    report: OpenReport,
    offset: int | None,
    people: list[User],
    payload: dict[str, Any],
) -> list[Planned]:
    off = muted(session=session, user_ids=(u.id for u in people), kind=kind)
    written = set(
        session.scalars(
            select(OutboxMessage.recipient_user_id).where(
                OutboxMessage.idempotency_key.in_([f"{event}:{u.id}:{CHANNEL}" for u in people])
            )
        )
    )
    return [
        Planned(
            kind,
            event,
            report.initiative_id,
            report.initiative,
            report.organisation,
            report.period,
            offset,
            report.due_on,
            user,
            payload,
        )
        for user in people
        if user.id not in off and user.id not in written
    ]


def schedule_reminders(*, session: Session, today: date) -> int:
    """Write today's reminders, escalations and period-opening notices into the outbox (each
    once); answers how many were new."""
    return sum(
        enqueue(
            session=session,
            kind=p.kind,
            event=p.event,
            recipients=[p.user],
            payload=p.payload,
            initiative_id=p.initiative_id,
        )
        for p in plan(session=session, today=today)
    )
