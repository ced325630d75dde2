"""Organisations: every logged-in user reads them; admin creates them (an initiative's backbone
adds one as a new member: POST /initiatives/{slug}/members). HTTP only; the rules are in
models/initiatives/organisations.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SearchDep, SessionDep
from api.links import (
    ORGANISATION,
    crud,
)
from api.responses import READ, WRITE, answer, errors
from api.schemas.common import Page
from api.schemas.initiatives import (
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    Sector,
)
from models.initiatives import organisations as organisation_rules

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.get("", response_model=Page[OrganisationRead], responses=errors(401, 422))
def list_organisations(
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    sector: Sector | None = None,
    q: SearchDep = None,
):
    """Every partner organisation, by name; any logged-in user may list them."""
    return Page[OrganisationRead].model_validate(
        organisation_rules.list_organisations(
            session=session, actor=actor, sector=sector, q=q, limit=page.limit, offset=page.offset
        )
    )


@router.post(
    "",
    response_model=OrganisationRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201,
        "The new organisation.",
        crud("Organisation", ORGANISATION, slug="$response.body#/slug"),
    ),
)
def create_organisation(body: OrganisationCreate, session: SessionDep, actor: LoggedInDep):
    """Add a partner organisation to the directory (admin). Backbone staff add one as a new
    member of their initiative instead (``POST /initiatives/{slug}/members`` with
    ``new_organisation``): here they get 403."""
    return organisation_rules.create_organisation(session=session, actor=actor, **body.model_dump())


@router.get("/{slug}", response_model=OrganisationRead, responses=READ)
def get_organisation(slug: str, session: SessionDep, actor: LoggedInDep):
    """One organisation."""
    return organisation_rules.get_organisation(session=session, actor=actor, slug=slug)


@router.patch("/{slug}", response_model=OrganisationRead, responses=WRITE)
def update_organisation(
    slug: str, body: OrganisationUpdate, session: SessionDep, actor: LoggedInDep
):
    """Change an organisation's name, sector, website or description (admin only)."""
    return organisation_rules.update_organisation(
        session=session, actor=actor, slug=slug, changes=body.model_dump(exclude_unset=True)
    )


@router.delete("/{slug}", response_model=OrganisationRead, responses=WRITE)
def delete_organisation(slug: str, session: SessionDep, actor: LoggedInDep):
    """Delete an organisation (admin only); refused with 409 while it is a member anywhere.
    Answers the deleted organisation."""
    return organisation_rules.delete_organisation(session=session, actor=actor, slug=slug)
