"""The language switcher's form (every page's menu): remember the choice in a cookie, and in
the user's own setting when logged in, then go back to the page (README, "Languages")."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.web_auth import cross_origin_reason, is_https, refusal
from dashboard.session import SESSION_COOKIE, safe_next
from models.access.login import user_from_token
from models.access.permissions import actor_for_user
from models.access.users import set_own_locale
from models.core import i18n
from models.core.errors import AuthenticationFailed

router = APIRouter(include_in_schema=False)
ONE_YEAR = 365 * 24 * 3600


def _back(request: Request) -> str:
    """The page the form was sent from (its path on this site), else home."""
    referer = request.headers.get("referer")
    if not referer:
        return "/"
    try:
        parts = urlsplit(referer)
    except ValueError:  # unreadable: home
        return "/"
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


@router.post("/locale")
def switch_locale(
    request: Request, session: SessionDep, locale: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Switch to ``locale`` (an unknown one switches to English)."""
    reason = cross_origin_reason(request.headers)
    if reason is not None:
        return refusal(reason)
    chosen = i18n.supported(locale) or i18n.DEFAULT_LOCALE
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            user = user_from_token(session=session, token=token)
        except AuthenticationFailed:
            pass  # an expired session still switches the cookie
        else:
            set_own_locale(
                session=session, actor=actor_for_user(session=session, user=user), locale=chosen
            )
    response = RedirectResponse(_back(request), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        i18n.LOCALE_COOKIE,
        chosen,
        max_age=ONE_YEAR,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )
    return response
