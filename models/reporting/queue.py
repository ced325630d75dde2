"""The review queue: the submitted reports waiting for the backbone team, the longest waiting
first, each with what the queue shows of it (its partner's name, its period, version, lateness
and when it came in), in one statement after the initiative's: the page is asked again after
every decision, and a listing of the period's submissions, then its periods, then its members'
names cost four statements and as many lookups more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core.actors import Actor
from models.core.paging import MAX_LIMIT
from models.tables.initiative import Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import Submission


@dataclass(frozen=True)
class Waiting:
    """A submitted report as the queue lists it."""

    organisation: str
    organisation_name: str
    period: str
    version: int
    is_late: bool
    submitted_at: datetime | None


@cache
def _statements() -> dict[str, Executable]:
    """Every period's, or one period's (``period``), waiting reports: the latest periods' first
    ``limit`` as a listing of the submissions takes them (``list_submissions``), with the
    period's start and the partner's name to order and show them. Built once."""
    listed = (
        select(
            Organisation.slug,
            Organisation.name,
            Period.key,
            Period.starts_on,
            Submission.version,
            Submission.is_late,
            Submission.submitted_at,
        )
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .where(
            Submission.initiative_id == bindparam("initiative_id"),
            Submission.status == "submitted",
        )
    )
    ordered = (Period.starts_on.desc(), Organisation.slug)
    return {
        "all": listed.order_by(*ordered).limit(bindparam("limit")),
        "period": listed.where(Period.key == bindparam("period"))
        .order_by(*ordered)
        .limit(bindparam("limit")),
    }


def review_queue(
    *, session: Session, actor: Actor, initiative_slug: str, period_key: str | None = None
) -> list[Waiting]:
    """Submitted reports awaiting review, the longest waiting first: the oldest period, then
    the earliest submitted (a report without a submission time last), then by partner. Every
    period unless ``period_key`` narrows it. Backbone only (others: PermissionDenied, or
    NotFound for an initiative they may not see)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    statements = _statements()
    params: dict[str, object] = {"initiative_id": initiative.id, "limit": MAX_LIMIT}
    if period_key:
        params["period"] = period_key
    rows = sorted(
        session.connection().execute(statements["period" if period_key else "all"], params),
        key=lambda r: (
            r.starts_on or date.max,
            r.submitted_at is None,
            r.submitted_at or datetime.min,
            r.slug,
        ),
    )
    return [
        Waiting(r.slug, r.name, r.key, r.version, bool(r.is_late), r.submitted_at) for r in rows
    ]
