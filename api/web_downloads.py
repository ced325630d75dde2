"""Downloads for the browser, with the dashboard's login: the pre-filled Excel template.

The API's ``template.xlsx`` reads bearer tokens only, so a reporter clicking a mail's link in a
browser would get 401. This route reads the session cookie instead (api.web_auth sets it), sends
a visitor without a valid one to the login page and back here, and answers the file the API
builds, with the same permission rules (models.spreadsheets.templates): a reporter for their own
organisation, the backbone team for any member; others the API's 404 or 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.routers.spreadsheets import OrgQuery, PeriodQuery, xlsx_template_response
from dashboard.session import SESSION_COOKIE, login_url
from models.access.login import user_from_token
from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.core.errors import AuthenticationFailed
from models.notifications.email import TEMPLATE_DOWNLOAD
from models.spreadsheets.templates import build_template

router = APIRouter(include_in_schema=False)


def cookie_actor(request: Request, session: SessionDep) -> Actor | None:
    """The session cookie's user, or None without a valid one (absent, expired, revoked).

    Only access tokens count, as for the dashboard (dashboard.data.current_actor): API keys are
    for machines and are not accepted from a cookie.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user = user_from_token(session=session, token=token)
    except AuthenticationFailed:
        return None
    actor = actor_for_user(session=session, user=user)
    request.state.actor_label = actor.label
    request.app.state.rate_limiter.hit(actor.label)  # the API's limit, per person
    return actor


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(login_url(here), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(TEMPLATE_DOWNLOAD)
def template_download(
    request: Request,
    session: SessionDep,
    initiative: Annotated[str, Query(min_length=1, max_length=80)],
    org: OrgQuery = None,
    period: PeriodQuery = None,
) -> Response:
    """The pre-filled Excel template of ``initiative`` (README, "Notifications")."""
    actor = cookie_actor(request, session)
    if actor is None:
        return _to_login(request)
    template = build_template(
        session=session, actor=actor, initiative_slug=initiative, org_slug=org, period_key=period
    )
    return xlsx_template_response(template)
