"""Outcomes: the results of the common agenda that indicators are grouped under.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnExpressionArgument, func, or_, select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import EntityAudit, snapshot
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    NotFound,
)
from models.core.fields import (
    any_row,
    checked_integer,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, contains_text, page_of
from models.tables.indicator import (
    Indicator,
    Outcome,
)
from models.tables.initiative import Initiative

OUTCOME_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,60}$"
OUTCOME_FIELDS = ("code", "name", "description", "position")


def _find_outcome(session: Session, initiative: Initiative, code: str) -> Outcome:
    outcome = session.scalar(
        select(Outcome).where(Outcome.initiative_id == initiative.id, Outcome.code == code)
    )
    if outcome is None:
        raise NotFound(
            gettext("no outcome %(code)r in %(slug)r", code=code, slug=initiative.slug),
            field="code",
        )
    return outcome


def next_position(
    *,
    session: Session,
    column: ColumnExpressionArgument[int],
    where: ColumnExpressionArgument[bool],
) -> int:
    """One past the largest ``column`` of the rows ``where`` selects (1 when there are none)."""
    return (session.scalar(select(func.max(column)).where(where)) or 0) + 1


def list_outcomes(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Outcome]:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = (
        select(Outcome)
        .where(Outcome.initiative_id == init.id)
        .order_by(Outcome.position, Outcome.code)
    )
    if q:
        stmt = stmt.where(or_(contains_text(Outcome.name, q), contains_text(Outcome.code, q)))
    return page_of(session=session, stmt=stmt, limit=limit, offset=offset)


def get_outcome(*, session: Session, actor: Actor, initiative: str, code: str) -> Outcome:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return _find_outcome(session, init, code)


def create_outcome(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    description: str | None = None,
    position: int | None = None,
) -> Outcome:
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    code = checked_pattern(code, OUTCOME_CODE_PATTERN, "code", "outcome code")
    name = checked_text(name, "name", max_length=200)
    description = checked_text(description, "description", required=False)
    if position is None:
        position = next_position(
            session=session, column=Outcome.position, where=Outcome.initiative_id == init.id
        )
    position = checked_integer(position, "position")
    taken = select(Outcome.id).where(Outcome.initiative_id == init.id, Outcome.code == code)
    if any_row(session=session, stmt=taken):
        raise Conflict(
            gettext("an outcome with code %(code)r exists already", code=code), field="code"
        )
    outcome = Outcome(
        initiative_id=init.id, code=code, name=name, description=description, position=position
    )
    session.add(outcome)
    flush_unique(
        session=session,
        field="code",
        message=gettext("an outcome with code %(code)r exists already", code=code),
    )
    EntityAudit(session=session, actor=actor, entity_type="outcome", initiative_id=init.id).created(
        outcome.id, snapshot(outcome, OUTCOME_FIELDS)
    )
    return outcome


def update_outcome(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> Outcome:
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    outcome = _find_outcome(session, init, code)
    reject_unknown_changes(changes, ("name", "description", "position"))
    before = snapshot(outcome, OUTCOME_FIELDS)
    for name, value in changes.items():
        if name == "name":
            outcome.name = checked_text(value, name, max_length=200)
        elif name == "description":
            outcome.description = checked_text(value, name, required=False)
        else:
            outcome.position = checked_integer(value, name)
    session.flush()
    after = snapshot(outcome, OUTCOME_FIELDS)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="outcome", initiative_id=init.id
        ).updated(outcome.id, before, after)
    return outcome


def delete_outcome(*, session: Session, actor: Actor, initiative: str, code: str) -> Outcome:
    """Refused while indicators belong to the outcome."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    outcome = _find_outcome(session, init, code)
    codes = session.scalars(
        select(Indicator.code).where(Indicator.outcome_id == outcome.id).order_by(Indicator.code)
    ).all()
    if codes:
        raise Conflict(
            gettext(
                "outcome %(code)r has indicators (%(codes)s); move or delete them first",
                code=code,
                codes=", ".join(codes),
            ),
            field="code",
        )
    EntityAudit(session=session, actor=actor, entity_type="outcome", initiative_id=init.id).deleted(
        outcome.id, snapshot(outcome, OUTCOME_FIELDS)
    )
    session.delete(outcome)
    session.flush()
    return outcome
