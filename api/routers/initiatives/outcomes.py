"""Outcomes of the common agenda. HTTP only; the rules are in models/initiatives/outcomes.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SearchDep, SessionDep
from api.links import (
    OUTCOME,
    SLUG,
    crud,
)
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page
from api.schemas.initiatives import (
    OutcomeCreate,
    OutcomeRead,
    OutcomeUpdate,
)
from models.initiatives import outcomes as outcome_rules

router = APIRouter(prefix="/initiatives/{slug}/outcomes", tags=["outcomes"])


@router.get(
    "",
    response_model=Page[OutcomeRead],
    responses=listed(
        "The outcomes.", crud("Outcome", OUTCOME, slug=SLUG, code="$response.body#/items/0/code")
    ),
)
def list_outcomes(
    slug: str, session: SessionDep, actor: LoggedInDep, page: PageDep, q: SearchDep = None
):
    """The initiative's outcomes, in order."""
    return Page[OutcomeRead].model_validate(
        outcome_rules.list_outcomes(
            session=session, actor=actor, initiative=slug, q=q, limit=page.limit, offset=page.offset
        )
    )


@router.post(
    "",
    response_model=OutcomeRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201, "The new outcome.", crud("Outcome", OUTCOME, slug=SLUG, code="$response.body#/code")
    ),
)
def create_outcome(slug: str, body: OutcomeCreate, session: SessionDep, actor: LoggedInDep):
    """Add an outcome (backbone)."""
    return outcome_rules.create_outcome(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@router.get("/{code}", response_model=OutcomeRead, responses=READ)
def get_outcome(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """One outcome."""
    return outcome_rules.get_outcome(session=session, actor=actor, initiative=slug, code=code)


@router.patch("/{code}", response_model=OutcomeRead, responses=WRITE)
def update_outcome(
    slug: str, code: str, body: OutcomeUpdate, session: SessionDep, actor: LoggedInDep
):
    """Change an outcome's name, description or position (backbone)."""
    return outcome_rules.update_outcome(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{code}", response_model=OutcomeRead, responses=WRITE)
def delete_outcome(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """Delete an outcome (backbone); refused with 409 while it has indicators."""
    return outcome_rules.delete_outcome(session=session, actor=actor, initiative=slug, code=code)
