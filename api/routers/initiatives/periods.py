"""Reporting periods, their windows, locking. HTTP only; the rules are in models/initiatives/periods.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SessionDep
from api.links import (
    PERIOD,
    SLUG,
    link,
    period_links,
)
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page
from api.schemas.initiatives import (
    PeriodCreate,
    PeriodKind,
    PeriodRead,
    PeriodUpdate,
)
from models.initiatives import periods as period_rules

router = APIRouter(prefix="/initiatives/{slug}/periods", tags=["periods"])


@router.get(
    "",
    response_model=Page[PeriodRead],
    responses=listed("The periods.", period_links("$response.body#/items/0/key")),
)
def list_periods(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    kind: PeriodKind | None = None,
):
    """The initiative's reporting periods, earliest first."""
    return Page[PeriodRead].model_validate(
        period_rules.list_periods(
            session=session,
            actor=actor,
            initiative=slug,
            kind=kind,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.post(
    "",
    response_model=PeriodRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(201, "The new period.", period_links("$response.body#/key")),
)
def create_period(slug: str, body: PeriodCreate, session: SessionDep, actor: LoggedInDep):
    """Add a period from its key (``2025Q3`` or ``2025``); the dates of the reporting window
    default to opening the day after it ends, due 30 and closing 60 days after its end."""
    return period_rules.create_period(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@router.get("/{key}", response_model=PeriodRead, responses=READ)
def get_period(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """One period."""
    return period_rules.get_period(session=session, actor=actor, initiative=slug, key=key)


@router.patch("/{key}", response_model=PeriodRead, responses=WRITE)
def update_period(slug: str, key: str, body: PeriodUpdate, session: SessionDep, actor: LoggedInDep):
    """Move the reporting window (backbone); opens ≤ due ≤ closes."""
    return period_rules.update_period(
        session=session,
        actor=actor,
        initiative=slug,
        key=key,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{key}", response_model=PeriodRead, responses=WRITE)
def delete_period(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """Delete a period (backbone); refused with 409 once it has submissions, a publication,
    or holds an indicator's baseline or target."""
    return period_rules.delete_period(session=session, actor=actor, initiative=slug, key=key)


@router.post(
    "/{key}/lock",
    response_model=PeriodRead,
    responses=answer(
        200,
        "The locked period.",
        {"UnlockPeriod": link("POST", PERIOD + "/unlock", slug=SLUG, key="$request.path.key")},
    ),
)
def lock_period(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """Lock a period: its submissions accept no more writes (backbone)."""
    return period_rules.set_period_locked(
        session=session, actor=actor, initiative=slug, key=key, locked=True
    )


@router.post("/{key}/unlock", response_model=PeriodRead, responses=WRITE)
def unlock_period(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """Unlock a period again (backbone)."""
    return period_rules.set_period_locked(
        session=session, actor=actor, initiative=slug, key=key, locked=False
    )
