"""Indicators with baseline, interim and end targets. HTTP only; the rules are in models/initiatives/indicators.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import LoggedInDep, PageDep, SearchDep, SessionDep
from api.links import (
    indicator_links,
)
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page
from api.schemas.initiatives import (
    IndicatorCreate,
    IndicatorRead,
    IndicatorUpdate,
    Kind,
    MeasureType,
)
from models.initiatives import indicators as indicator_rules

router = APIRouter(prefix="/initiatives/{slug}/indicators", tags=["indicators"])


@router.get(
    "",
    response_model=Page[IndicatorRead],
    responses=listed("The indicators.", indicator_links("$response.body#/items/0/code")),
)
def list_indicators(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    outcome: Annotated[str | None, Query(description="Outcome code.")] = None,
    measure_type: MeasureType | None = None,
    kind: Kind | None = None,
    q: SearchDep = None,
):
    """The initiative's indicators with baseline and targets, in order."""
    return Page[IndicatorRead].model_validate(
        indicator_rules.list_indicators(
            session=session,
            actor=actor,
            initiative=slug,
            outcome=outcome,
            measure_type=measure_type,
            kind=kind,
            q=q,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.post(
    "",
    response_model=IndicatorRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(201, "The new indicator.", indicator_links("$response.body#/code")),
)
def create_indicator(slug: str, body: IndicatorCreate, session: SessionDep, actor: LoggedInDep):
    """Add an indicator (backbone), with its dimensions, baseline, end and interim targets; a
    partner performance measure with its type and the population indicators it contributes to."""
    return indicator_rules.create_indicator(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@router.get("/{code}", response_model=IndicatorRead, responses=READ)
def get_indicator(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """One indicator with its baseline and targets."""
    return indicator_rules.get_indicator(session=session, actor=actor, initiative=slug, code=code)


@router.patch("/{code}", response_model=IndicatorRead, responses=WRITE)
def update_indicator(
    slug: str, code: str, body: IndicatorUpdate, session: SessionDep, actor: LoggedInDep
):
    """Change an indicator (backbone). ``dimensions``, ``targets`` and ``contributes_to`` replace
    their lists;
    ``measure_type`` cannot change once values are reported (409)."""
    return indicator_rules.update_indicator(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{code}", response_model=IndicatorRead, responses=WRITE)
def delete_indicator(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """Delete an indicator (backbone); refused with 409 once values are reported for it."""
    return indicator_rules.delete_indicator(
        session=session, actor=actor, initiative=slug, code=code
    )
