"""User accounts and role grants (admins; backbone staff for their own partners and funders).

Any change of a user's grants or activity invalidates that user's existing tokens. Who may
manage what is decided in ``models.access.users``; API keys never manage access (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import Field

from api.deps import ActorDep, SessionDep
from api.links import crud, link, links
from api.schemas import ErrorRead, Page, ReadModel, RowId, WriteModel
from models.access.users import (
    create_user_as,
    describe_users,
    get_user,
    grant_role,
    reset_password,
    revoke_grant,
    set_active,
    visible_users,
)
from models.core.errors import AuthenticationFailed
from models.tables.access import User

router = APIRouter(prefix="/users", tags=["users"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}
USER = "/users/{user_id}"


def _user_links(user_id: str, grant_id: str) -> dict[str, dict]:
    return {
        **crud("User", USER, ("GET", "PATCH"), user_id=user_id),
        "PostGrant": link("POST", USER + "/grants", user_id=user_id),
        "DeleteGrant": link(
            "DELETE", USER + "/grants/{grant_id}", user_id=user_id, grant_id=grant_id
        ),
    }


def _responses(status_code: int, description: str, links_: dict[str, dict]) -> dict:
    return {**ERRORS, status_code: links(description, links_)}


class GrantIn(WriteModel):
    role: str = Field(pattern="^(admin|backbone|reporter|funder)$")
    initiative: str | None = Field(
        None,
        max_length=80,
        description="Initiative slug: backbone and funder grants; for a reporter grant the "
        "initiative it reports to (omitted: every initiative of yours the organisation is a "
        "member of).",
    )
    organisation: str | None = Field(None, max_length=80, description="Reporter grants.")


class UserCreate(GrantIn):
    email: str = Field(max_length=254)
    name: str | None = Field(None, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class UserUpdate(WriteModel):
    is_active: bool


class PasswordReset(WriteModel):
    password: str = Field(min_length=1, max_length=1024, json_schema_extra={"format": "password"})


class GrantRead(ReadModel):
    id: int
    role: str
    initiative: str | None
    organisation: str | None


class UserRead(ReadModel):
    """A user as you may see them: only the grants you manage; name and dates only when you
    manage every grant the user holds."""

    id: int
    email: str
    name: str | None
    is_active: bool
    created_at: datetime | None
    last_login_at: datetime | None
    grants: list[GrantRead]


def _login(actor) -> None:
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")


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
def list_users(
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Users whose grants you may manage."""
    _login(actor)
    users = visible_users(session=session, actor=actor)
    return Page[UserRead](
        items=_read(session, actor, users[offset : offset + limit]),
        total=len(users),
        limit=limit,
        offset=offset,
    )


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
def create(body: UserCreate, session: SessionDep, actor: ActorDep):
    """Give a person access. Backbone staff may create reporters of their partners and funders
    of their initiative; admins anyone. Backbone staff naming an e-mail that already has an
    account add the grant to that account (its password and name stay as they are)."""
    _login(actor)
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
def read(user_id: RowId, session: SessionDep, actor: ActorDep):
    """One user and their grants."""
    _login(actor)
    return _read(session, actor, [get_user(session=session, actor=actor, user_id=user_id)])[0]


@router.patch("/{user_id}", response_model=UserRead, responses=ERRORS)
def update(user_id: RowId, body: UserUpdate, session: SessionDep, actor: ActorDep):
    """Deactivate or reactivate a user (admins; backbone staff who manage every grant the user
    holds); their tokens and API keys stop working at once."""
    _login(actor)
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
def add_grant(user_id: RowId, body: GrantIn, session: SessionDep, actor: ActorDep):
    """Grant a role; the user's existing tokens are invalidated so it applies at once."""
    _login(actor)
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
def remove_grant(user_id: RowId, grant_id: RowId, session: SessionDep, actor: ActorDep):
    """Revoke a role; the user's existing tokens are invalidated."""
    _login(actor)
    user = get_user(session=session, actor=actor, user_id=user_id)
    revoke_grant(session=session, actor=actor, user=user, grant_id=grant_id)
    return _read(session, actor, [user])[0]


@router.post("/{user_id}/password", response_model=UserRead, responses=ERRORS)
def set_password(user_id: RowId, body: PasswordReset, session: SessionDep, actor: ActorDep):
    """Reset someone's password (admins; backbone staff who manage every grant the user holds):
    their sessions end and every API key they created is revoked."""
    _login(actor)
    user = get_user(session=session, actor=actor, user_id=user_id)
    reset_password(session=session, actor=actor, user=user, password=body.password)
    return _read(session, actor, [user])[0]
