"""Series breaks: where an indicator's definition changed, so trends stop there. HTTP only; the
rules are in models/initiatives/series_breaks.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, SessionDep
from api.links import (
    INDICATOR,
    SLUG,
    link,
)
from api.responses import READ, WRITE, answer
from api.schemas.initiatives import SeriesBreakIn, SeriesBreakRead, SeriesBreakUpdate
from models.initiatives import series_breaks as series_break_rules

router = APIRouter(prefix="/initiatives/{slug}/indicators", tags=["indicators"])


@router.get("/{code}/breaks", response_model=list[SeriesBreakRead], responses=READ)
def list_breaks(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """Periods from which the indicator is measured differently (charts mark them)."""
    return [
        SeriesBreakRead(period=p, note=n)
        for p, n in series_break_rules.list_series_breaks(
            session=session, actor=actor, initiative=slug, code=code
        )
    ]


@router.post(
    "/{code}/breaks",
    response_model=SeriesBreakRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201,
        "The new break.",
        {
            **{
                f"{method.title()}Break": link(
                    method,
                    INDICATOR + "/breaks/{period}",
                    slug=SLUG,
                    code="$request.path.code",
                    period="$response.body#/period",
                )
                for method in ("PATCH", "DELETE")
            },
            "GetBreaks": link("GET", INDICATOR + "/breaks", slug=SLUG, code="$request.path.code"),
        },
    ),
)
def add_break(slug: str, code: str, body: SeriesBreakIn, session: SessionDep, actor: LoggedInDep):
    """Mark a series break: the definition changed from this period on (backbone)."""
    p, n = series_break_rules.add_series_break(
        session=session, actor=actor, initiative=slug, code=code, period=body.period, note=body.note
    )
    return SeriesBreakRead(period=p, note=n)


@router.patch("/{code}/breaks/{period}", response_model=SeriesBreakRead, responses=WRITE)
def update_break(
    slug: str,
    code: str,
    period: str,
    body: SeriesBreakUpdate,
    session: SessionDep,
    actor: LoggedInDep,
):
    """Correct a series break's note (backbone); to move it, remove it and mark another."""
    p, n = series_break_rules.update_series_break(
        session=session, actor=actor, initiative=slug, code=code, period=period, note=body.note
    )
    return SeriesBreakRead(period=p, note=n)


@router.delete("/{code}/breaks/{period}", response_model=SeriesBreakRead, responses=WRITE)
def remove_break(slug: str, code: str, period: str, session: SessionDep, actor: LoggedInDep):
    """Remove a series break (backbone)."""
    p, n = series_break_rules.remove_series_break(
        session=session, actor=actor, initiative=slug, code=code, period=period
    )
    return SeriesBreakRead(period=p, note=n)
