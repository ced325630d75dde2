"""Members of an initiative and their obligations. HTTP only; the rules are in models/initiatives/members.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SearchDep, SessionDep
from api.links import (
    member_links,
)
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page
from api.schemas.initiatives import (
    MemberCreate,
    MemberRead,
    MemberUpdate,
    ObligationsRead,
    ObligationsUpdate,
)
from models.initiatives import members as member_rules

router = APIRouter(prefix="/initiatives/{slug}/members", tags=["members"])


@router.get(
    "",
    response_model=Page[MemberRead],
    responses=listed("The members.", member_links("$response.body#/items/0/organisation")),
)
def list_members(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    active: bool | None = None,
    q: SearchDep = None,
):
    """The initiative's member organisations, by name."""
    return Page[MemberRead].model_validate(
        member_rules.list_members(
            session=session,
            actor=actor,
            initiative=slug,
            active=active,
            q=q,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.post(
    "",
    response_model=MemberRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(201, "The new member.", member_links("$response.body#/organisation")),
)
def add_member(slug: str, body: MemberCreate, session: SessionDep, actor: LoggedInDep):
    """Make an organisation a member (backbone): one of the directory (``organisation``), or a
    new one (``new_organisation``) added to the directory and enrolled in one step, the only
    way backbone staff add organisations. Exactly one of the two; refusals name the field
    (``new_organisation.slug`` taken: 409)."""
    return member_rules.add_member(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@router.get("/{org}", response_model=MemberRead, responses=READ)
def get_member(slug: str, org: str, session: SessionDep, actor: LoggedInDep):
    """One member, by its organisation's slug."""
    return member_rules.get_member(session=session, actor=actor, initiative=slug, organisation=org)


@router.patch("/{org}", response_model=MemberRead, responses=WRITE)
def update_member(slug: str, org: str, body: MemberUpdate, session: SessionDep, actor: LoggedInDep):
    """Change ``active``, ``shares_with_funders`` or ``joined_on`` (backbone)."""
    return member_rules.update_member(
        session=session,
        actor=actor,
        initiative=slug,
        organisation=org,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{org}", response_model=MemberRead, responses=WRITE)
def remove_member(slug: str, org: str, session: SessionDep, actor: LoggedInDep):
    """Remove a member (backbone); refused with 409 once it has reported (deactivate it
    instead). Answers the removed member."""
    return member_rules.remove_member(
        session=session, actor=actor, initiative=slug, organisation=org
    )


@router.get("/{org}/obligations", response_model=ObligationsRead, responses=READ)
def get_obligations(slug: str, org: str, session: SessionDep, actor: LoggedInDep):
    """The indicator codes the member is expected to report."""
    codes = member_rules.get_obligations(
        session=session, actor=actor, initiative=slug, organisation=org
    )
    return ObligationsRead(organisation=org, indicators=codes)


@router.put("/{org}/obligations", response_model=ObligationsRead, responses=WRITE)
def set_obligations(
    slug: str, org: str, body: ObligationsUpdate, session: SessionDep, actor: LoggedInDep
):
    """Replace the member's obligations (backbone); an unknown code answers 422 naming it."""
    codes = member_rules.set_obligations(
        session=session, actor=actor, initiative=slug, organisation=org, indicators=body.indicators
    )
    return ObligationsRead(organisation=org, indicators=codes)
