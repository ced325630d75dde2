"""The initiative directory: what each initiative is, who takes part, what it measures.

This is public information in a collective-impact effort (partners are named on every report),
so it is visible to every actor; figures are not part of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.access.permissions import can_view_initiative
from models.core import dates
from models.core.actors import Actor
from models.tables.indicator import Indicator, Outcome
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import Submission


@dataclass(frozen=True)
class InitiativeSummary:
    slug: str
    name: str
    region: str | None
    description: str | None
    members: int
    outcomes: int
    indicators: int
    current_period: str | None  # the period that contains today (or the latest started)
    latest_approved_period: str | None  # the latest period with any approved submission
    member_names: tuple[str, ...]


def initiative_directory(
    *, session: Session, actor: Actor, today: date | None = None
) -> list[InitiativeSummary]:
    """Every initiative with its counts, in five set-based queries whatever their number."""
    del actor  # public information; kept in the signature so every rule reads the same way
    today = today or dates.today()

    members = dict(
        session.execute(
            select(Member.initiative_id, func.count())
            .where(Member.active)
            .group_by(Member.initiative_id)
        ).all()
    )
    outcomes = dict(
        session.execute(
            select(Outcome.initiative_id, func.count()).group_by(Outcome.initiative_id)
        ).all()
    )
    indicators = dict(
        session.execute(
            select(Indicator.initiative_id, func.count()).group_by(Indicator.initiative_id)
        ).all()
    )

    current = (
        select(Period.key)
        .where(Period.initiative_id == Initiative.id, Period.starts_on <= today)
        .order_by(Period.starts_on.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_approved = (
        select(Period.key)
        .join(Submission, Submission.period_id == Period.id)
        .where(Period.initiative_id == Initiative.id, Submission.status == "approved")
        .order_by(Period.starts_on.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Initiative, current, latest_approved).order_by(Initiative.name)
    ).all()

    names: dict[int, list[str]] = {}
    for initiative_id, name in session.execute(
        select(Member.initiative_id, Organisation.name)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.active)
        .order_by(Organisation.name)
    ):
        names.setdefault(initiative_id, []).append(name)

    return [
        InitiativeSummary(
            slug=initiative.slug,
            name=initiative.name,
            region=initiative.region,
            description=initiative.description,
            members=members.get(initiative.id, 0),
            outcomes=outcomes.get(initiative.id, 0),
            indicators=indicators.get(initiative.id, 0),
            current_period=current_key,
            latest_approved_period=approved_key,
            member_names=tuple(names.get(initiative.id, ())),
        )
        for initiative, current_key, approved_key in rows
    ]


def visible_initiatives(*, session: Session, actor: Actor) -> list[tuple[str, str, int]]:
    """(slug, name, id) of the initiatives the actor may see (``get_initiative``'s rule), by
    name as the directory lists them: the pages' initiative pickers, which need none of the
    directory's counts and member names."""
    return [
        (slug, name, initiative_id)
        for initiative_id, slug, name in session.execute(
            select(Initiative.id, Initiative.slug, Initiative.name).order_by(Initiative.name)
        )
        if can_view_initiative(session=session, actor=actor, initiative_id=initiative_id)
    ]


def initiative_slugs(*, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Slugs of the given initiatives (public names), for answers that carry ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(Initiative.id, Initiative.slug).where(Initiative.id.in_(wanted))
    return {i: slug for i, slug in session.execute(query)}


def any_initiative(*, session: Session) -> bool:
    """Whether the deployment hosts any initiative yet (the demo loads on a first start only)."""
    return session.scalar(select(Initiative.id).limit(1)) is not None


def initiative_exists(*, session: Session, slug: str) -> bool:
    """Whether an initiative of this slug is hosted here: public, like the directory, so the
    public summary's address answers 404 exactly when it names no initiative."""
    query = select(Initiative.id).where(Initiative.slug == slug).limit(1)
    return session.scalar(query) is not None
