"""The one ASGI application: the JSON API under ``/api/v1`` and the Dash front end under ``/``.

Dash runs on its own FastAPI instance, mounted last, because it registers a catch-all GET route;
an explicit ``/api/{path}`` fallback keeps unknown API paths answering JSON 404s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from api.compression import COMPRESS_FROM, LEVEL, Compression
from api.errors import error_body, install_error_handlers
from api.head_requests import HeadAsGet
from api.http_caching import DashCaching
from api.in_flight import InFlightLimit
from api.limits import BodySizeLimit, RateLimiter
from api.links import API_PREFIX
from api.locale import LocaleMiddleware
from api.observability import RequestContextMiddleware, metrics_body
from api.public_pages import PublicPageStatus
from api.routers import (
    access,
    analytics,
    audit,
    deadlines,
    health,
    initiatives,
    notifications,
    publishing,
    reporting,
    spreadsheets,
    stories,
    strategies,
    turn_the_curve,
    webhooks,
)
from api.security_headers import SecurityHeadersMiddleware
from api.web_auth import SameOriginMiddleware
from api.web_auth import router as web_auth_router
from api.web_downloads import router as web_downloads_router
from api.web_locale import router as web_locale_router
from models.access.login import LoginThrottle
from models.core import counters as shared
from models.core.db import get_read_sessionmaker, get_sessionmaker
from models.core.i18n import gettext
from models.core.settings import get_settings
from models.notifications.worker import DeliveryWorker

API_FALLBACK = "/api/{path:path}"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


API_DESCRIPTION = """
Partners submit indicator values each quarter; the backbone team reviews and publishes them;
funders and the public read protected summaries.

## Disclosure

The backbone team sees exact figures. Everyone else (funders, partners, the public summary and
the open-data package) sees every figure under the same rules, decided once per indicator and
quarter, so no two answers can be combined to work out a hidden number:

* **Few people**: a count, or the people behind a rate or average, under the initiative's
  threshold (10 by default) is hidden (`<10`); a rate where few have or lack the outcome is
  hidden (`<10 with/without`) or shown as a band (`<5%`, `>95%`).
* **Few partners**: every partner reads these figures and knows its own share, so what is left
  once any one partner takes its share away must still come from `CM_MIN_CONTRIBUTORS` (3)
  partners: a figure needs one more (`<4 partners`).
* **Dominance** (the p %-rule, `CM_DOMINANCE_PERCENT`, 10): a figure that one or a few partners
  make up almost entirely is hidden (`‡`), as is one where taking any one partner's share away
  leaves fewer people than the threshold.
* **Working it out**: enough other figures are hidden (`*`) that a hidden one cannot be worked
  out from the total, and what the hidden ones add up to passes the rules too.
* **Publications**: a figure a publication of the quarter hid stays hidden in later ones and in
  live answers (`†`).
* **Reports since publishing**: a published figure that partners have joined or left since is
  hidden when the difference would give their figures away (`Δ`).

Initiative figures below backbone are those of the quarter's latest publication (a quarter
not yet published answers `not yet published`): live figures move with each approved report,
and one moment subtracted from the next would be that partner's report. A funder sees the live
figures of partners that share with funders, a partner its own figures, exactly. Each figure carries `marker` and `reason` when hidden; `legend` explains the markers.

## Gap targets

An indicator may have a target on the gap between its best and worst category of a dimension
(`PUT .../indicators/{code}/gap-targets/{dimension}`): a baseline gap at a period and a target
gap due by a later one. The gap expected by a period is the straight line between them; a
smaller gap is better. The equity view and the scorecard judge each period's gap against it
(`met`, `on_track`, `off_track`, `incomplete`, `no_data`) from the category figures the caller
may see: when any category's figure is hidden from the caller, the gap is not known to it and
the status is `hidden`.
"""


def create_app(
    session_factory: sessionmaker[Session] | None = None,
    *,
    read_session_factory: sessionmaker[Session] | None = None,
    with_dashboard: bool = True,
    counters: shared.Counters | None = None,
    run_worker: bool = False,
) -> FastAPI:
    """The application on ``session_factory`` (default: the configured database's), reading
    dashboards, analytics and public views from ``read_session_factory`` (default: the
    configured read replica when the database is the configured one, else the same sessions);
    ``counters`` (failed logins, requests per minute) default to the deployment's shared ones
    (Redis or the database). With ``run_worker`` the notifications' delivery worker runs in a
    thread of this process while it serves (``cm serve`` unless ``CM_WORKER=external``).
    """
    if session_factory is None:
        session_factory = get_sessionmaker()
        read_session_factory = read_session_factory or get_read_sessionmaker()
    read_session_factory = read_session_factory or session_factory
    app = FastAPI(
        title="Common Measure",
        version="1",
        summary="Shared measurement for collective-impact initiatives.",
        description=API_DESCRIPTION,
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/api/openapi.json",
        lifespan=_with_worker(session_factory) if run_worker else None,
    )
    app.state.session_factory = session_factory
    app.state.read_session_factory = read_session_factory
    settings = get_settings()
    # Shared by every worker and container, so the limits hold whichever one a request reaches.
    counters = counters or shared.configured(session_factory)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, counters)
    app.state.login_throttle = LoginThrottle(counters)
    v1 = _api(MATCHED_FIRST + tuple(a for a in AREAS if a not in MATCHED_FIRST))
    _document_in_order(app, v1, _api(AREAS))  # before the error handlers amend the document
    install_error_handlers(app)
    # Outermost last: the request id wraps everything (the wait at the door included, so its
    # log line and Server-Timing say how long the request took), headers go on every answer.
    app.add_middleware(Compression, minimum_size=COMPRESS_FROM, compresslevel=LEVEL)
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        InFlightLimit,
        limit=settings.max_requests_in_flight,
        machine_limit=settings.max_api_requests_in_flight or None,
    )
    app.add_middleware(LocaleMiddleware)  # every answer below, errors too, in its language
    app.add_middleware(HeadAsGet)  # HEAD wherever GET is; the log line still says HEAD
    app.add_middleware(RequestContextMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus text format: request counts and latencies by route, imports, rollups."""
        body, content_type = metrics_body()
        return Response(body, media_type=content_type)

    app.include_router(health.router)
    # Routes are matched in order, each request walking them until one matches: partners'
    # reports first (most of a deadline's requests), then the views dashboards poll. Their
    # paths are their own (tests/app/test_routing.py), so the order changes no answer, and
    # the OpenAPI document keeps the areas in the order they are documented.
    app.include_router(v1)

    # Any method, so that OPTIONS, HEAD or TRACE on an API path also reach it: otherwise
    # Starlette answers 405 from the first route at the path, listing only that route's methods.
    # (A plain function would be routed for GET only; an ASGI callable takes every method.)
    app.router.add_route(API_FALLBACK, _ApiFallback(), include_in_schema=False)

    # The dashboard's login form and logout button post here (a session cookie, not the API's
    # bearer tokens); registered before the Dash mount, which answers every other path.
    app.include_router(web_auth_router)
    # The browser's download of a pre-filled template, with the same cookie (a mail's link).
    app.include_router(web_downloads_router)
    # The language switcher on every page posts here (a cookie, and the user's setting).
    app.include_router(web_locale_router)

    if with_dashboard:
        from api.dash_callbacks import guard_callbacks
        from dashboard.app import create_dash

        dash_app = create_dash(session_factory, read_session_factory)
        guard_callbacks(dash_app)  # 400 for malformed callback calls, a logged 500 for errors
        # Dash callbacks run with the session cookie's user: refuse POSTs from other sites.
        dash_app.server.add_middleware(SameOriginMiddleware)
        # /public/<slug> naming no initiative answers 404 (Dash answers every page with 200).
        dash_app.server.add_middleware(PublicPageStatus, session_factory=session_factory)
        # What browsers and CDNs may keep (bundles for a year, public pages revalidated).
        dash_app.server.add_middleware(DashCaching)
        app.mount("/", dash_app.server)
    return app


def _with_worker(session_factory: sessionmaker[Session]):
    """A lifespan that runs the delivery worker beside the app, stopped with it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = DeliveryWorker(session_factory)
        worker.start()
        try:
            yield
        finally:
            worker.stop()

    return lifespan


# The API's areas as the OpenAPI document (/api/docs) lists them.
AREAS = (
    analytics,
    access,
    initiatives,
    reporting,
    deadlines,
    publishing,
    spreadsheets,
    stories,
    strategies,
    turn_the_curve,
    audit,
    notifications,
    webhooks,
)
MATCHED_FIRST = (reporting, analytics)


def _api(areas: tuple) -> APIRouter:
    v1 = APIRouter(prefix=API_PREFIX)
    for area in areas:
        v1.include_router(area.router)
    return v1


def _document_in_order(app: FastAPI, matched: APIRouter, documented: APIRouter) -> None:
    """Generate ``app``'s OpenAPI document with the API's areas in ``documented``'s order
    rather than the order ``matched`` (included in ``app``) tries them in."""
    holder = APIRouter()
    holder.include_router(documented)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = [
                holder.routes[0] if getattr(route, "original_router", None) is matched else route
                for route in app.routes
            ]
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                terms_of_service=app.terms_of_service,
                contact=app.contact,
                license_info=app.license_info,
                routes=routes,
                webhooks=app.webhooks.routes,
                tags=app.openapi_tags,
                servers=app.servers,
                separate_input_output_schemas=app.separate_input_output_schemas,
                external_docs=app.openapi_external_docs,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class _ApiFallback:
    """405 with every method the path has when some route has it, else a JSON 404."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _fallback_answer(Request(scope, receive))
        await response(scope, receive, send)


def _fallback_answer(request: Request) -> JSONResponse:
    allowed = _methods_for(request.app, request.scope)
    if allowed:
        return JSONResponse(
            error_body(
                gettext("%(method)s is not allowed here", method=request.method),
                "method_not_allowed",
            ),
            status_code=405,
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    return JSONResponse(
        error_body(gettext("no API route %(path)s", path=request.url.path), "not_found"),
        status_code=404,
    )


def _methods_for(app: FastAPI, scope) -> set[str]:
    """The methods routed at this path (for a 405 with ``Allow``), empty when none is.

    Routes are asked rather than read: included routers answer ``matches`` as a whole.
    """
    allowed: set[str] = set()
    for route in app.router.routes:
        if getattr(route, "path", None) == API_FALLBACK:
            break  # the routes after it (the login form, the dashboard) are not API paths
        if route.matches(scope)[0] != Match.PARTIAL:
            continue
        for method in HTTP_METHODS:
            if route.matches({**scope, "method": method})[0] == Match.FULL:
                allowed.add(method)
    return allowed
