"""Publishing a period, its vintages, and the public summary and open-data package (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import LoggedInDep, ReadSessionDep, SessionDep
from api.http_caching import public_answer
from api.links import SLUG, link, links
from api.schemas.common import ErrorRead
from api.schemas.publishing import (
    PublicSummary,
    PublishIn,
    VintageRead,
)
from models.publishing.publish import datapackage, public_summary, publish, vintages

router = APIRouter(tags=["publication"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}


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
    slug: str, key: str, session: SessionDep, actor: LoggedInDep, body: PublishIn | None = None
):
    """Make the period's approved, suppressed rollups public as a new vintage (backbone).
    Later corrections stay private until the period is published again."""
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
def list_vintages(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """Every publication of the period ("as published on …") and what each revised."""
    return [
        VintageRead.model_validate(v, from_attributes=True)
        for v in vintages(session=session, actor=actor, initiative_slug=slug, period_key=key)
    ]


@router.get(
    "/public/initiatives/{slug}/summary",
    response_model=PublicSummary,
    responses={404: {"model": ErrorRead}},
)
def summary(slug: str, request: Request, session: ReadSessionDep) -> Response:
    """Published, suppressed rollups of every published period (latest vintage). No login.
    Anyone may keep it and revalidate it (ETag, 304)."""
    read = PublicSummary.model_validate(public_summary(session=session, initiative_slug=slug))
    return public_answer(request, read.model_dump_json().encode(), "application/json")


@router.get(
    "/public/initiatives/{slug}/datapackage.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "A Frictionless Data Package."},
        404: {"model": ErrorRead},
    },
)
def open_data(slug: str, request: Request, session: ReadSessionDep) -> Response:
    """The published rollups as an open-data Frictionless Data Package (datapackage.json + CSV).
    Anyone may keep it and revalidate it (ETag, 304)."""
    body = datapackage(session=session, initiative_slug=slug)
    return public_answer(
        request,
        body,
        "application/zip",
        **{"Content-Disposition": f'attachment; filename="{slug}-datapackage.zip"'},
    )
