"""Logging in and out, changing one's password, and who am I. HTTP only; the rules are in
models/access/login.py."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status

from api.deps import ActorDep, LoggedInDep, SessionDep, client_address
from api.responses import errors
from api.schemas.access import LocaleRead, LocaleWrite, MeRead, PasswordChange, TokenRead
from api.schemas.common import ErrorRead
from models.access.login import authenticate, issue_token, log_out
from models.access.permissions import describe_actor
from models.access.users import change_own_password, set_own_locale
from models.core.errors import AuthenticationFailed

log = logging.getLogger("cm.auth")
router = APIRouter(tags=["auth"])
LOGIN_FIRST = errors(401)


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
            session=session,
            email=form.username,
            password=form.password,
            client=client,
            throttle=request.app.state.login_throttle,
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
    log_out(session=session, actor=actor)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**LOGIN_FIRST, 403: {"model": ErrorRead}, 422: {"model": ErrorRead}},
)
def change_password(body: PasswordChange, session: SessionDep, actor: LoggedInDep) -> None:
    """Change your own password; your other sessions end (API keys keep working)."""
    change_own_password(
        session=session, actor=actor, current=body.current_password, new=body.new_password
    )


@router.get("/me", response_model=MeRead, responses=LOGIN_FIRST)
def me(session: SessionDep, actor: LoggedInDep) -> MeRead:
    """The current user (or API key) and its role grants."""
    return MeRead.model_validate(describe_actor(session=session, actor=actor))


@router.put(
    "/me/locale",
    response_model=LocaleRead,
    responses={**LOGIN_FIRST, 403: {"model": ErrorRead}, 422: {"model": ErrorRead}},
)
def put_locale(body: LocaleWrite, session: SessionDep, actor: LoggedInDep) -> LocaleRead:
    """Your language for pages, messages and e-mails (README, "Languages")."""
    return LocaleRead(locale=set_own_locale(session=session, actor=actor, locale=body.locale))
