"""Browser sessions for the dashboard: a login form, a session cookie, logout; and the
same-origin guard for every state-changing request a browser sends to the dashboard.

The cookie holds an ordinary access token (models.access.login.issue_token): HttpOnly so scripts
cannot read it, SameSite=Lax so other sites' forms and fetches do not carry it, Secure when
the site is served over HTTPS. Logging out revokes every token of the user. On top of
SameSite, a POST whose ``Origin`` (or, without one, ``Referer``) names another site is refused
with 403 before it reaches a Dash callback or the login form.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import SessionDep, client_address
from api.errors import error_body
from dashboard.session import SESSION_COOKIE, login_url, safe_next
from models.access.login import TOKEN_TTL, authenticate, issue_token, revoke_tokens, user_from_token
from models.core import i18n
from models.core.errors import AuthenticationFailed, TooManyAttempts
from models.core.i18n import gettext

log = logging.getLogger("cm.auth")
router = APIRouter(include_in_schema=False)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


# --- same-origin guard ------------------------------------------------------------------------


def _netloc(scheme: str, netloc: str) -> str:
    """host[:port] in lower case, without the scheme's default port."""
    netloc = netloc.lower().rsplit("@", 1)[-1]
    default = _DEFAULT_PORTS.get(scheme.lower())
    if default and netloc.endswith(f":{default}"):
        netloc = netloc[: -len(default) - 1]
    return netloc


def cross_origin_reason(headers: Headers) -> str | None:
    """Why a state-changing request is not from this site, or None when it is (or can't tell).

    Browsers send ``Origin`` with every POST (and ``Referer`` when they do not); a client that
    sends neither is not a browser, so it cannot be a cross-site request forgery.
    """
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return None
    if source.strip().lower() == "null":
        return "opaque origin"
    try:
        parts = urlsplit(source.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket: no origin anyone can be from
        return f"unreadable origin {source!r}"
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return f"unexpected origin {source!r}"
    origin = _netloc(parts.scheme, parts.netloc)
    hosts = {
        _netloc(parts.scheme, value.split(",")[0].strip())
        for value in (headers.get("host"), headers.get("x-forwarded-host"))
        if value
    }
    if origin not in hosts:
        return f"origin {origin} is not this site"
    return None


def refusal(reason: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            gettext("cross-origin request refused: %(reason)s", reason=reason), "cross_origin"
        ),
        status_code=403,
    )


class SameOriginMiddleware:
    """Answer 403 to any state-changing request from another site (ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            reason = cross_origin_reason(Headers(scope=scope))
            if reason is not None:
                log.warning(
                    "cross-origin request refused",
                    extra={"event": "cross_origin", "path": scope.get("path"), "reason": reason},
                )
                await refusal(reason)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- login and logout -------------------------------------------------------------------------


def is_https(request: Request) -> bool:
    """Served over HTTPS, directly or behind a proxy that terminates TLS."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/auth/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the form's e-mail and password; set the session cookie and go to ``next``."""
    reason = cross_origin_reason(request.headers)
    if reason is not None:
        return refusal(reason)
    target = safe_next(next)
    client = client_address(request)
    try:
        user = authenticate(
            session=session,
            email=email,
            password=password,
            client=client,
            throttle=request.app.state.login_throttle,
        )
    except TooManyAttempts:
        log.warning("login throttled", extra={"event": "login_throttled", "client": client})
        return _redirect(login_url(target, error="throttled"))
    except AuthenticationFailed:
        log.warning("login failed", extra={"event": "login_failed", "client": client})
        return _redirect(login_url(target, error="1"))
    issued = issue_token(user)
    log.info("login", extra={"event": "login", "user_id": user.id, "client": client})
    response = _redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        issued.access_token,
        max_age=int(TOKEN_TTL.total_seconds()),
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )
    if user.locale:  # the user's language from the first page on (README, "Languages")
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            user.locale,
            max_age=int(TOKEN_TTL.total_seconds()),
            path="/",
            secure=is_https(request),
            httponly=True,
            samesite="lax",
        )
    return response


@router.post("/auth/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Revoke every token of the cookie's user and clear the cookie."""
    reason = cross_origin_reason(request.headers)
    if reason is not None:
        return refusal(reason)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            user = user_from_token(session=session, token=token)
        except AuthenticationFailed:
            pass  # expired or revoked already: clearing the cookie is all there is to do
        else:
            revoke_tokens(user)
            log.info("logout", extra={"event": "logout", "user_id": user.id})
    response = _redirect(login_url(logged_out="1"))
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )
    return response
