"""Publishing a period, its vintages, and the public summary and open-data package (no login)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import Field

from api.deps import ActorDep, SessionDep
from api.links import SLUG, link, links
from api.schemas import ErrorRead, ReadModel, WriteModel
from models.core.errors import AuthenticationFailed
from models.publishing.publish import datapackage, public_summary, publish, vintages

router = APIRouter(tags=["publication"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}


class PublishIn(WriteModel):
    note: str | None = Field(None, max_length=2000, examples=["First release of 2026Q3."])
    confirm_incomplete: bool = Field(
        False,
        description="Publish although some partners' reports are not approved or some "
        "indicator's coverage is incomplete (the 409 `incomplete_period` without it lists "
        "them: `reports` and `indicators` with reported/expected); the vintage records its "
        "coverage.",
    )


class VintageRead(ReadModel):
    id: int
    period: str
    published_at: datetime
    note: str | None
    revised: list[str] = Field(description="Figures that differ from the previous vintage.")


class PublicFigure(ReadModel):
    value: float | None
    n: float | None
    marker: str | None


class PublicCategory(PublicFigure):
    key: str
    label: str


class PublicBreakdown(ReadModel):
    dimension: str
    dimension_name: str
    categories: list[PublicCategory]


class PublicIndicator(ReadModel):
    outcome: str | None
    outcome_name: str | None
    indicator: str
    name: str
    definition: str | None
    unit: str
    measure_type: str
    direction: str
    decimals: int
    target: float | None
    baseline: float | None
    contributors: int | None
    expected: int
    total: PublicFigure
    breakdowns: list[PublicBreakdown]


class IndicatorCoverage(ReadModel):
    indicator: str
    complete: bool = Field(
        description="Every expected partner reported, or those that did stood for at least "
        "CM_COVERAGE_MIN_SHARE of the partners' usual size."
    )


class Coverage(ReadModel):
    approved: int = Field(description="Partners whose reports for the period were approved.")
    expected: int = Field(description="Active partners obliged to report.")
    indicators: list[IndicatorCoverage] | None = Field(
        None, description="Per published indicator, whether it was complete (newer vintages)."
    )


class PublicPeriod(ReadModel):
    period: str
    published_at: datetime
    note: str | None
    vintage: int
    coverage: Coverage | None = Field(description="What the vintage is made of (newer ones).")
    indicators: list[PublicIndicator]


class PublicSummary(ReadModel):
    initiative: str
    initiative_name: str
    description: str | None
    region: str | None
    threshold: int
    legend: dict[str, str]
    periods: list[PublicPeriod]


@router.post(
    "/initiatives/{slug}/periods/{key}/publish",
    response_model=VintageRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        201: links(
            "The new vintage.",
            {
                "GetPublications": link(
                    "GET",
                    "/initiatives/{slug}/periods/{key}/publications",
                    slug=SLUG,
                    key="$request.path.key",
                ),
                "GetPublicSummary": link("GET", "/public/initiatives/{slug}/summary", slug=SLUG),
            },
        ),
    },
)
def publish_period(
    slug: str, key: str, session: SessionDep, actor: ActorDep, body: PublishIn | None = None
):
    """Make the period's approved, suppressed rollups public as a new vintage (backbone).
    Later corrections stay private until the period is published again."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    v = publish(
        session=session,
        actor=actor,
        initiative_slug=slug,
        period_key=key,
        note=body.note if body else None,
        confirm_incomplete=body.confirm_incomplete if body else False,
    )
    return VintageRead.model_validate(v, from_attributes=True)


@router.get(
    "/initiatives/{slug}/periods/{key}/publications",
    response_model=list[VintageRead],
    responses=ERRORS,
)
def list_vintages(slug: str, key: str, session: SessionDep, actor: ActorDep):
    """Every publication of the period ("as published on …") and what each revised."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    return [
        VintageRead.model_validate(v, from_attributes=True)
        for v in vintages(session=session, actor=actor, initiative_slug=slug, period_key=key)
    ]


@router.get(
    "/public/initiatives/{slug}/summary",
    response_model=PublicSummary,
    responses={404: {"model": ErrorRead}},
)
def summary(slug: str, session: SessionDep) -> Any:
    """Published, suppressed rollups of every published period (latest vintage). No login."""
    return public_summary(session=session, initiative_slug=slug)


@router.get(
    "/public/initiatives/{slug}/datapackage.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "A Frictionless Data Package."},
        404: {"model": ErrorRead},
    },
)
def open_data(slug: str, session: SessionDep) -> Response:
    """The published rollups as an open-data Frictionless Data Package (datapackage.json + CSV)."""
    body = datapackage(session=session, initiative_slug=slug)
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{slug}-datapackage.zip"'},
    )
