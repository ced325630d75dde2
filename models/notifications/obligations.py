"""The reports partners still owe: one per active member obliged to report and period open to
it today, not yet submitted (no report, a draft, or one returned to it). Reminders, escalations,
period-opening notices and digests all read it (README, "Notifications").

A period is open to a member from its ``opens_on`` while it is unlocked and until it closes, or
until the member's deadline extension ends (models/reporting/deadlines.py); a member with an
extension owes its report by the extension's day, not the period's due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from models.tables.indicator import Obligation
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import DeadlineExtension, Submission

NOT_SUBMITTED = ("draft", "returned")


@dataclass(frozen=True)
class OpenReport:
    initiative_id: int
    initiative: str
    initiative_name: str
    member_id: int
    organisation_id: int
    organisation: str
    organisation_name: str
    period_id: int
    period: str
    opens_on: date
    due_on: date  # the member's own: its extension's day when it has one past the due date
    extended: bool
    writable: bool  # False: the member's extension has ended (``ended_within``)

    def payload(self) -> dict[str, Any]:
        """What a message about the report says."""
        return {
            "initiative": self.initiative,
            "initiative_name": self.initiative_name,
            "organisation": self.organisation,
            "organisation_name": self.organisation_name,
            "period": self.period,
            "due_on": self.due_on.isoformat(),
        }


def open_reports(
    *,
    session: Session,
    today: date,
    initiative_id: int | None = None,
    organisations: Iterable[tuple[int, int]] | None = None,
    ended_within: int = 0,
) -> list[OpenReport]:
    """The reports owed today, of one initiative or every one, or of the given (initiative,
    organisation) pairs only; by initiative, period and organisation. With ``ended_within``,
    also those whose deadline extension ended that many days ago or less (not ``writable``: an
    extension's day is the last its member may write, so only after it is it missed)."""
    submitted = exists().where(
        Submission.member_id == Member.id,
        Submission.period_id == Period.id,
        Submission.status.not_in(NOT_SUBMITTED),
    )
    obliged = exists().where(Obligation.member_id == Member.id)
    query = (
        select(
            Initiative.id,
            Initiative.slug,
            Initiative.name,
            Member.id,
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Period.id,
            Period.key,
            Period.opens_on,
            Period.due_on,
            DeadlineExtension.until,
            Period.closes_on,
        )
        .join(Member, Member.initiative_id == Initiative.id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.initiative_id == Initiative.id)
        .outerjoin(
            DeadlineExtension,
            and_(
                DeadlineExtension.member_id == Member.id,
                DeadlineExtension.period_id == Period.id,
            ),
        )
        .where(
            Member.active.is_(True),
            obliged,
            ~submitted,
            Period.locked.is_(False),
            Period.opens_on <= today,
            or_(
                Period.closes_on >= today,
                DeadlineExtension.until >= today - timedelta(days=ended_within),
            ),
        )
        .order_by(Initiative.slug, Period.starts_on, Organisation.slug)
    )
    if initiative_id is not None:
        query = query.where(Initiative.id == initiative_id)
    if organisations is not None:
        pairs = list(organisations)
        if not pairs:
            return []
        query = query.where(
            or_(*(and_(Initiative.id == init, Organisation.id == org) for init, org in pairs))
        )
    out = []
    for row in session.execute(query):
        (init_id, slug, name, member_id, org_id, org_slug, org_name, period_id, key) = row[:9]
        opens_on, due_on, until, closes_on = row[9:]
        extended = until is not None and until > due_on
        writable = today <= closes_on or (until is not None and today <= until)
        out.append(
            OpenReport(
                init_id,
                slug,
                name,
                member_id,
                org_id,
                org_slug,
                org_name,
                period_id,
                key,
                opens_on,
                until if extended else due_on,
                extended,
                writable,
            )
        )
    return out
