"""User accounts and role grants (admins; backbone staff for their own partners and funders).

Any change of a user's grants or activity invalidates that user's existing tokens. Who may
manage what is decided in ``models.access.users``; API keys never manage access (403).
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SessionDep
from api.links import crud, link, links
from api.schemas.access import GrantIn, PasswordReset, UserCreate, UserRead, UserUpdate
from api.schemas.common import ErrorRead, Page, RowId
from models.access.users import (
    create_user_as,
    describe_users,
    get_user,
    grant_role,
    reset_password,
    revoke_grant,
    set_active,
    users_page,
)
from models.tables.access import User

router = APIRouter(prefix="/users", tags=["users"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}
USER = "/users/{user_id}"


def _user_links(user_id: str, grant_id: str) -> dict[str, dict]:
    """Where a user's answer leads. No link to POST another grant: its body names the
    initiative and organisation, which the answer cannot fill in, so a client following it
    would send a grant of its own making (and a 404 for its made-up slug is not a lost user)."""
    return {
        **crud("User", USER, ("GET", "PATCH"), user_id=user_id),
        "DeleteGrant": link(
            "DELETE", USER + "/grants/{grant_id}", user_id=user_id, grant_id=grant_id
        ),
    }


def _responses(status_code: int, description: str, links_: dict[str, dict]) -> dict:
    return {**ERRORS, status_code: links(description, links_)}


def _read(session, actor, users: list[User]) -> list[UserRead]:
    return [
        UserRead.model_validate(u)
        for u in describe_users(session=session, actor=actor, users=users)
    ]


# Links from the list only read: the first user listed may be the caller.
@router.get(
    "",
    response_model=Page[UserRead],
    responses=_responses(
        200, "The users.", crud("User", USER, ("GET",), user_id="$response.body#/items/0/id")
    ),
)
def list_users(session: SessionDep, actor: LoggedInDep, page: PageDep):
    """Users whose grants you may manage."""
    found = users_page(session=session, actor=actor, limit=page.limit, offset=page.offset)
    return Page[UserRead].model_validate(found, from_attributes=True)


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=_responses(
        201,
        "The new user.",
        _user_links("$response.body#/id", "$response.body#/grants/0/id"),
    ),
)
def create(body: UserCreate, session: SessionDep, actor: LoggedInDep):
    """Give a person access. Backbone staff may create reporters of their partners and funders
    of their initiative; admins anyone. Backbone staff naming an e-mail that already has an
    account add the grant to that account (its password and name stay as they are)."""
    user = create_user_as(
        session=session,
        actor=actor,
        email=body.email,
        password=body.password,
        role=body.role,
        initiative_slug=body.initiative,
        organisation_slug=body.organisation,
        name=body.name,
    )
    return _read(session, actor, [user])[0]


@router.get("/{user_id}", response_model=UserRead, responses=ERRORS)
def read(user_id: RowId, session: SessionDep, actor: LoggedInDep):
    """One user and their grants."""
    return _read(session, actor, [get_user(session=session, actor=actor, user_id=user_id)])[0]


@router.patch("/{user_id}", response_model=UserRead, responses=ERRORS)
def update(user_id: RowId, body: UserUpdate, session: SessionDep, actor: LoggedInDep):
    """Deactivate or reactivate a user (admins; backbone staff who manage every grant the user
    holds); their tokens and API keys stop working at once."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    set_active(session=session, actor=actor, user=user, active=body.is_active)
    return _read(session, actor, [user])[0]


@router.post(
    "/{user_id}/grants",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=_responses(
        201,
        "The user with the new grant.",
        _user_links("$request.path.user_id", "$response.body#/grants/0/id"),
    ),
)
def add_grant(user_id: RowId, body: GrantIn, session: SessionDep, actor: LoggedInDep):
    """Grant a role; the user's existing tokens are invalidated so it applies at once."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    grant_role(
        session=session,
        actor=actor,
        user=user,
        role=body.role,
        initiative_slug=body.initiative,
        organisation_slug=body.organisation,
    )
    return _read(session, actor, [user])[0]


@router.delete("/{user_id}/grants/{grant_id}", response_model=UserRead, responses=ERRORS)
def remove_grant(user_id: RowId, grant_id: RowId, session: SessionDep, actor: LoggedInDep):
    """Revoke a role; the user's existing tokens are invalidated."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    revoke_grant(session=session, actor=actor, user=user, grant_id=grant_id)
    return _read(session, actor, [user])[0]


@router.post("/{user_id}/password", response_model=UserRead, responses=ERRORS)
def set_password(user_id: RowId, body: PasswordReset, session: SessionDep, actor: LoggedInDep):
    """Reset someone's password (admins; backbone staff who manage every grant the user holds):
    their sessions end and every API key they created is revoked."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    reset_password(session=session, actor=actor, user=user, password=body.password)
    return _read(session, actor, [user])[0]
