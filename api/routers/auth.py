"""Logging in and out, who am I, and API keys for machine submission."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, status
from pydantic import AwareDatetime, Field
from sqlalchemy import select

from api.deps import ActorDep, SessionDep, client_address
from api.links import link, links
from api.schemas import ErrorRead, ReadModel, RowId, WriteModel
from models.access.api_keys import create_api_key, list_api_keys, revoke_api_key
from models.access.login import authenticate, issue_token, revoke_tokens
from models.access.users import change_own_password
from models.core.errors import AuthenticationFailed, NotFound
from models.tables.access import User
from models.tables.initiative import Initiative
from models.tables.organisation import Organisation

log = logging.getLogger("cm.auth")
router = APIRouter(tags=["auth"])
LOGIN_FIRST = {401: {"model": ErrorRead, "description": "Not logged in."}}
NOT_FOUND = {404: {"model": ErrorRead, "description": "Missing, or not yours to manage."}}
FORBIDDEN = {403: {"model": ErrorRead, "description": "Visible to you, but not yours to manage."}}


class PasswordForm:
    """The OAuth2 password form (``username``, ``password``); other OAuth2 fields are ignored.

    Both must be non-empty: FastAPI reads an empty form field as a missing one (422).
    """

    def __init__(
        self,
        username: Annotated[str, Form(min_length=1, description="Your e-mail address.")],
        password: Annotated[str, Form(min_length=1, json_schema_extra={"format": "password"})],
    ) -> None:
        self.username = username
        self.password = password


class TokenRead(ReadModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class GrantRead(ReadModel):
    role: str
    initiative: str | None = None
    organisation: str | None = None


class MeRead(ReadModel):
    kind: Literal["user", "api_key"]
    email: str | None = None
    name: str | None = None
    label: str
    grants: list[GrantRead]


class ApiKeyCreate(WriteModel):
    name: str = Field(min_length=1, max_length=120)
    organisation: str | None = Field(None, description="Organisation slug (reporter rights).")
    initiative: str | None = Field(None, description="Initiative slug (backbone rights).")
    expires_at: Annotated[AwareDatetime, Field(strict=False)] | None = Field(
        None, description="When the key stops working (RFC 3339 with a time zone); none: never."
    )


class ApiKeyRead(ReadModel):
    """A key's metadata. It acts with its own scope intersected with its creator's rights of
    the moment: it stops when the creator is deactivated or loses the grant."""

    id: int
    name: str
    prefix: str
    organisation_id: int | None
    initiative_id: int | None
    created_by_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class PasswordChange(WriteModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown this once; store it now.")


@router.post(
    "/auth/token",
    response_model=TokenRead,
    responses={
        401: {"model": ErrorRead, "description": "Wrong e-mail or password."},
        429: {"model": ErrorRead, "description": "Too many failed logins; see Retry-After."},
    },
)
def login(
    request: Request,
    form: Annotated[PasswordForm, Depends()],
    session: SessionDep,
) -> TokenRead:
    """OAuth2 password flow: e-mail as `username`, password; answers a bearer token."""
    client = client_address(request)
    try:
        user = authenticate(
            session=session, email=form.username, password=form.password, client=client
        )
    except AuthenticationFailed:
        log.warning("login failed", extra={"event": "login_failed", "client": client})
        raise
    log.info("login", extra={"event": "login", "user_id": user.id, "client": client})
    issued = issue_token(user)
    return TokenRead(access_token=issued.access_token, expires_at=issued.expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=LOGIN_FIRST)
def logout(session: SessionDep, actor: ActorDep) -> None:
    """Invalidate every access token of the current user."""
    if actor.user_id is None:
        raise AuthenticationFailed("log in first")
    revoke_tokens(session.get(User, actor.user_id))


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**LOGIN_FIRST, 403: {"model": ErrorRead}, 422: {"model": ErrorRead}},
)
def change_password(body: PasswordChange, session: SessionDep, actor: ActorDep) -> None:
    """Change your own password; your other sessions end (API keys keep working)."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    change_own_password(
        session=session, actor=actor, current=body.current_password, new=body.new_password
    )


@router.get("/me", response_model=MeRead, responses=LOGIN_FIRST)
def me(session: SessionDep, actor: ActorDep) -> MeRead:
    """The current user (or API key) and its role grants."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    slugs = dict(session.execute(select(Initiative.id, Initiative.slug)).all())
    orgs = dict(session.execute(select(Organisation.id, Organisation.slug)).all())
    grants = [GrantRead(role="admin")] if actor.is_admin else []
    grants += [GrantRead(role="backbone", initiative=slugs.get(i)) for i in actor.backbone_of]
    grants += [GrantRead(role="funder", initiative=slugs.get(i)) for i in actor.funder_of]
    grants += [
        GrantRead(role="reporter", initiative=slugs.get(i), organisation=orgs.get(o))
        for i, o in sorted(actor.reporter_in)
    ]
    if actor.user_id is None:
        return MeRead(kind="api_key", label=actor.label, grants=grants)
    user = session.get(User, actor.user_id)
    return MeRead(kind="user", email=user.email, name=user.name, label=actor.label, grants=grants)


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses={
        **LOGIN_FIRST,
        **FORBIDDEN,
        **NOT_FOUND,
        201: links(
            "The new key, with its secret.",
            {"DeleteApiKey": link("DELETE", "/api-keys/{key_id}", key_id="$response.body#/id")},
        ),
    },
)
def create_key(body: ApiKeyCreate, session: SessionDep, actor: ActorDep) -> ApiKeyCreated:
    """Create an API key for an organisation (reporter rights) or an initiative (backbone)."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    org_id = init_id = None
    # An unknown slug is a 404 here: passed on as a made-up id, an admin (who may create keys
    # for any scope) got as far as the insert, and a foreign-key error (409).
    if body.organisation:
        org_id = session.scalar(
            select(Organisation.id).where(Organisation.slug == body.organisation)
        )
        if org_id is None:
            raise NotFound("organisation not found", field="organisation")
    if body.initiative:
        init_id = session.scalar(select(Initiative.id).where(Initiative.slug == body.initiative))
        if init_id is None:
            raise NotFound("initiative not found", field="initiative")
    key, plaintext = create_api_key(
        session=session,
        actor=actor,
        name=body.name,
        organisation_id=org_id,
        initiative_id=init_id,
        expires_at=body.expires_at,
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=plaintext)


@router.get(
    "/api-keys",
    response_model=list[ApiKeyRead],
    responses={**LOGIN_FIRST, 403: {"model": ErrorRead, "description": "Keys manage no keys."}},
)
def list_keys(session: SessionDep, actor: ActorDep) -> list[ApiKeyRead]:
    """The keys the current user may manage (never their secrets)."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    return [ApiKeyRead.model_validate(k) for k in list_api_keys(session=session, actor=actor)]


@router.delete(
    "/api-keys/{key_id}",
    response_model=ApiKeyRead,
    responses={**LOGIN_FIRST, **NOT_FOUND, **FORBIDDEN},
)
def revoke_key(key_id: RowId, session: SessionDep, actor: ActorDep) -> ApiKeyRead:
    """Revoke a key; it stops working with the very next request."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    return ApiKeyRead.model_validate(revoke_api_key(session=session, actor=actor, key_id=key_id))
