"""User accounts and role grants (admins; backbone staff for their own partners and funders).

Any change of a user's grants or activity invalidates that user's existing tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import Field
from sqlalchemy import select

from api.deps import ActorDep, SessionDep
from api.links import crud, link, links
from api.schemas import ErrorRead, Page, ReadModel, RowId, WriteModel
from models.auth import User
from models.initiative import Initiative
from models.organisation import Organisation
from models.security import AuthenticationFailed
from models.users import (
    create_user_as,
    get_user,
    grant_role,
    revoke_grant,
    set_active,
    visible_users,
)

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
    initiative: str | None = Field(None, max_length=80)
    organisation: str | None = Field(None, max_length=80)


class UserCreate(GrantIn):
    email: str = Field(max_length=254)
    name: str | None = Field(None, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class UserUpdate(WriteModel):
    is_active: bool


class GrantRead(ReadModel):
    id: int
    role: str
    initiative: str | None
    organisation: str | None


class UserRead(ReadModel):
    id: int
    email: str
    name: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    grants: list[GrantRead]


def _login(actor) -> None:
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")


def _read(session, users: list[User]) -> list[UserRead]:
    initiatives = dict(session.execute(select(Initiative.id, Initiative.slug)).all())
    orgs = dict(session.execute(select(Organisation.id, Organisation.slug)).all())
    return [
        UserRead(
            id=u.id,
            email=u.email,
            name=u.name,
            is_active=u.is_active,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
            grants=[
                GrantRead(
                    id=g.id,
                    role=g.role,
                    initiative=initiatives.get(g.initiative_id),
                    organisation=orgs.get(g.organisation_id),
                )
                for g in u.grants
            ],
        )
        for u in users
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
        items=_read(session, users[offset : offset + limit]),
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
    """Create a user with one grant. Backbone staff may create reporters of their partners and
    funders of their initiative; admins anyone."""
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
    return _read(session, [user])[0]


@router.get("/{user_id}", response_model=UserRead, responses=ERRORS)
def read(user_id: RowId, session: SessionDep, actor: ActorDep):
    """One user and their grants."""
    _login(actor)
    return _read(session, [get_user(session=session, actor=actor, user_id=user_id)])[0]


@router.patch("/{user_id}", response_model=UserRead, responses=ERRORS)
def update(user_id: RowId, body: UserUpdate, session: SessionDep, actor: ActorDep):
    """Deactivate or reactivate a user (admin); their tokens stop working at once."""
    _login(actor)
    user = get_user(session=session, actor=actor, user_id=user_id)
    set_active(session=session, actor=actor, user=user, active=body.is_active)
    return _read(session, [user])[0]


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
    return _read(session, [user])[0]


@router.delete("/{user_id}/grants/{grant_id}", response_model=UserRead, responses=ERRORS)
def remove_grant(user_id: RowId, grant_id: RowId, session: SessionDep, actor: ActorDep):
    """Revoke a role; the user's existing tokens are invalidated."""
    _login(actor)
    user = get_user(session=session, actor=actor, user_id=user_id)
    revoke_grant(session=session, actor=actor, user=user, grant_id=grant_id)
    return _read(session, [user])[0]
