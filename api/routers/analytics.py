"""Scorecard, series, equity and completeness: what the dashboards and funders read.

Figures below backbone level arrive suppressed (`marker` says why a value is missing).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from api.deps import ActorDep, SessionDep
from api.schemas import ErrorRead, ReadModel
from models.analytics import completeness, data_stamp, equity, scorecard, series
from models.security import AuthenticationFailed

router = APIRouter(prefix="/initiatives/{slug}", tags=["analytics"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}
PeriodKey = Annotated[str | None, Query(max_length=16, examples=["2026Q3"])]


class FigureRead(ReadModel):
    value: float | None
    n: float | None
    marker: str | None = None
    reason: str | None = None


class SparkPoint(ReadModel):
    period: str
    value: float | None


class ScorecardRowRead(ReadModel):
    outcome: str | None
    outcome_name: str | None
    code: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    current: FigureRead
    baseline: float | None
    baseline_period: str | None
    target: float | None
    end_target: float | None
    end_target_period: str | None
    progress: float | None
    status: str
    previous: FigureRead | None
    trend: str | None
    change_since_baseline: float | None
    sparkline: list[SparkPoint]
    contributors: int
    expected: int
    series_break: bool


class ScorecardRead(ReadModel):
    initiative: str
    initiative_name: str
    period: str
    periods: list[str]
    suppressed: bool
    threshold: int
    rows: list[ScorecardRowRead]


class SeriesPointRead(ReadModel):
    period: str
    key: str
    label: str
    figure: FigureRead


class TargetPoint(ReadModel):
    period: str
    target: float | None


class BreakRead(ReadModel):
    period: str
    note: str


class SeriesRead(ReadModel):
    initiative: str
    indicator: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    by: str | None
    periods: list[str]
    total: list[SeriesPointRead]
    breakdown: list[SeriesPointRead]
    targets: list[TargetPoint]
    baseline: float | None
    baseline_period: str | None
    end_target: float | None
    end_target_period: str | None
    breaks: list[BreakRead]
    suppressed: bool


class EquityCategory(ReadModel):
    key: str
    label: str
    figure: FigureRead


class EquityPointRead(ReadModel):
    period: str
    categories: list[EquityCategory]
    best: str | None
    worst: str | None
    gap: float | None
    ratio: float | None


class EquityRead(ReadModel):
    indicator: str
    dimension: str
    direction: str
    unit: str
    points: list[EquityPointRead]


class CompletenessCellRead(ReadModel):
    organisation: str
    indicator: str
    state: str
    late: bool
    reported: bool


class NamedRead(ReadModel):
    key: str
    name: str


class CompletenessRead(ReadModel):
    initiative: str
    period: str
    due_on: date
    members: list[NamedRead]
    indicators: list[NamedRead]
    cells: list[CompletenessCellRead]
    counts: dict[str, int]


def _login(actor) -> None:
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")


def _conditional(request: Request, session, actor, slug: str, build) -> Response:
    """Answer 304 when the client's ETag still describes the data; else build the answer.

    The ETag comes from the initiative's data stamp, the viewer and the query, so a dashboard
    polling a view that has not changed costs one indexed query and no body.
    """
    stamp = data_stamp(session=session, actor=actor, initiative_slug=slug)
    seed = f"{stamp}|{actor.label}|{request.url.path}?{request.url.query}"
    etag = f'W/"{hashlib.sha256(seed.encode()).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return JSONResponse(jsonable_encoder(build()), headers=headers)


@router.get("/scorecard", response_model=ScorecardRead, responses=ERRORS)
def get_scorecard(
    slug: str,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    period: PeriodKey = None,
    outcome: Annotated[str | None, Query(max_length=60)] = None,
):
    """Per indicator: rollup, baseline, target, progress, direction-aware status, trend,
    sparkline and how many partners reported. Default period: the latest with approved data."""
    _login(actor)
    return _conditional(
        request,
        session,
        actor,
        slug,
        lambda: _scorecard_read(
            scorecard(
                session=session,
                actor=actor,
                initiative_slug=slug,
                period_key=period,
                outcome=outcome,
            )
        ),
    )


def _scorecard_read(card) -> ScorecardRead:
    return ScorecardRead(
        **{
            k: getattr(card, k)
            for k in (
                "initiative",
                "initiative_name",
                "period",
                "periods",
                "suppressed",
                "threshold",
            )
        },
        rows=[
            ScorecardRowRead.model_validate(
                {
                    **vars(r),
                    "sparkline": [{"period": p, "value": v} for p, v in r.sparkline],
                    "current": vars(r.current),
                    "previous": vars(r.previous) if r.previous else None,
                }
            )
            for r in card.rows
        ],
    )


def _series_read(s) -> SeriesRead:
    return SeriesRead.model_validate(
        {
            **vars(s),
            "total": [{**vars(p), "figure": vars(p.figure)} for p in s.total],
            "breakdown": [{**vars(p), "figure": vars(p.figure)} for p in s.breakdown],
            "targets": [{"period": p, "target": t} for p, t in s.targets],
            "breaks": [{"period": p, "note": n} for p, n in s.breaks],
        }
    )


@router.get("/indicators/{code}/series", response_model=SeriesRead, responses=ERRORS)
def get_series(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    by: Annotated[
        str | None, Query(max_length=40, description="A dimension code or `partner`.")
    ] = None,
    org: Annotated[str | None, Query(max_length=80)] = None,
):
    """The indicator's rollup per period, per category of `by` or per partner, with the target
    line, baseline and series breaks."""
    _login(actor)
    return _conditional(
        request,
        session,
        actor,
        slug,
        lambda: _series_read(
            series(
                session=session,
                actor=actor,
                initiative_slug=slug,
                indicator_code=code,
                by=by,
                org=org,
            )
        ),
    )


@router.get("/indicators/{code}/equity", response_model=EquityRead, responses=ERRORS)
def get_equity(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    dimension: Annotated[str, Query(max_length=40, examples=["race"])],
):
    """Each category's value over time with the gap and disparity ratio between best and worst."""
    _login(actor)
    return _conditional(
        request,
        session,
        actor,
        slug,
        lambda: _equity_read(
            equity(
                session=session,
                actor=actor,
                initiative_slug=slug,
                indicator_code=code,
                dimension=dimension,
            )
        ),
    )


def _equity_read(e) -> EquityRead:
    return EquityRead.model_validate(
        {
            **vars(e),
            "points": [
                {
                    **vars(p),
                    "categories": [
                        {"key": k, "label": label, "figure": vars(f)}
                        for k, label, f in p.categories
                    ],
                }
                for p in e.points
            ],
        }
    )


@router.get("/completeness", response_model=CompletenessRead, responses=ERRORS)
def get_completeness(
    slug: str, request: Request, session: SessionDep, actor: ActorDep, period: PeriodKey = None
):
    """Member × indicator for a period: approved, submitted, draft, returned, missing, late
    (backbone)."""
    _login(actor)
    return _conditional(
        request,
        session,
        actor,
        slug,
        lambda: _completeness_read(
            completeness(session=session, actor=actor, initiative_slug=slug, period_key=period)
        ),
    )


def _completeness_read(c) -> CompletenessRead:
    return CompletenessRead.model_validate(
        {
            **vars(c),
            "members": [{"key": k, "name": n} for k, n in c.members],
            "indicators": [{"key": k, "name": n} for k, n in c.indicators],
            "cells": [vars(x) for x in c.cells],
        }
    )
