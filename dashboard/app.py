"""Dash application factory: a multi-page app on its own FastAPI server."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html
from dash import _callback as dash_callbacks
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from dashboard import bundles, data
from dashboard.components.common import script_words_block
from models.core import i18n
from models.core.i18n import gettext

HERE = Path(__file__).resolve().parent

if TYPE_CHECKING:  # types only: the dashboard builds no queries
    from sqlalchemy.orm import Session, sessionmaker


def create_dash(
    session_factory: sessionmaker[Session],
    read_session_factory: sessionmaker[Session] | None = None,
) -> Dash:
    data.configure(session_factory, read_session_factory)
    app = _Dash(
        __name__,
        server=FastAPI(docs_url=None, redoc_url=None, openapi_url=None),
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Common Measure",
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = _shell
    _adopt_page_callbacks(app)
    _toggle_menu(app)
    _finish_setup_now(app)
    _serve_index_for_page_urls(app)
    _lighter_charting_library(app)
    _callbacks_off_the_event_loop(app)  # last: the set-up above registers the page router's
    return app


class _Dash(Dash):
    """Dash, with a public page's index naming only the bundles it uses (dashboard.bundles)."""

    def interpolate_index(self, **kwargs: Any) -> str:
        try:
            path = self.backend.request_adapter().path
        except RuntimeError:  # no request (an index rendered outside one): the full set
            path = ""
        if bundles.is_light(path):
            prefix = self.config.requests_pathname_prefix
            kwargs["scripts"] = bundles.light_scripts(kwargs["scripts"], prefix)
        index = super().interpolate_index(**kwargs)
        # WCAG 3.1.1: the document says its language (README, "Languages"), for screen readers
        # too (Dash's index template does not).
        index = index.replace("<html>", f'<html lang="{i18n.current_locale()}">', 1)
        # The words the page's scripts write (the chart's table) in the reader's language.
        return index.replace("</head>", script_words_block() + "</head>", 1)


def _lighter_charting_library(app: Dash) -> None:
    """Dash's plotly.js address answered with the cartesian bundle (dashboard.bundles), ahead
    of Dash's own component-suite route."""
    route = bundles.charting_library_route(app.config.requests_pathname_prefix)
    app.server.router.routes.insert(0, route)


def _adopt_page_callbacks(app: Dash) -> None:
    """Bind the callbacks the page modules just registered to this app, and only to it.

    Dash executes every page module for each app it creates, and ``dash.callback`` collects
    into a process-wide list that the first app to serve a request takes over. With several
    apps in one process (tests), that app would get every copy and the browser would see
    duplicate callbacks; moving them over now gives each app exactly its own set.
    """
    app.callback_map.update(dash_callbacks.GLOBAL_CALLBACK_MAP)
    app._callback_list.extend(dash_callbacks.GLOBAL_CALLBACK_LIST)
    app._inline_scripts.extend(dash_callbacks.GLOBAL_INLINE_SCRIPTS)  # clientside callbacks
    dash_callbacks.GLOBAL_CALLBACK_MAP.clear()
    dash_callbacks.GLOBAL_CALLBACK_LIST.clear()
    dash_callbacks.GLOBAL_INLINE_SCRIPTS.clear()


def _finish_setup_now(app: Dash) -> None:
    """Run Dash's first-request set-up now instead of on the first request to a Dash route.

    Dash completes itself (the page router's callbacks and its page-title script) in hooks
    that run before its own routes only; the catch-all that serves page URLs skips them. A
    bookmarked page URL as the very first request would then get an index without the title
    script, and the browser would fail calling it. The hooks are idempotent.
    """
    for hook in list(getattr(app.backend, "_before_request_funcs", ())):
        hook()


def _callbacks_off_the_event_loop(app: Dash) -> None:
    """Run every server callback in the thread pool, never on the event loop.

    Dash's FastAPI backend calls a synchronous callback right inside its async route, so while
    one page reads the database and serialises its figures, its worker answers no other request
    at all (not even ``/healthz``). Wrapped in a coroutine that hands the whole call (the
    callback, then Dash checking and serialising its answer) to the thread pool, each callback
    runs as the API's synchronous routes do; Dash awaits coroutine callbacks as they come.
    Clientside callbacks (no ``callback``) run in the browser; coroutine callbacks are left as
    they are.
    """
    for spec in app.callback_map.values():
        callback = spec.get("callback")
        if callback is not None and not inspect.iscoroutinefunction(callback):
            spec["callback"] = _in_thread_pool(callback)


def _in_thread_pool(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    async def in_thread_pool(*args: Any, **kwargs: Any) -> Any:
        # The thread gets a copy of the request's context: Dash's request and callback context,
        # the request id of the logs.
        return await run_in_threadpool(callback, *args, **kwargs)

    return in_thread_pool


def _serve_index_for_page_urls(app: Dash) -> None:
    """Answer any other GET with the Dash index, so a bookmarked page URL loads the app.

    Dash registers this catch-all on its server's startup event, but a mounted sub-app never
    receives lifespan events, so it is registered here, right after Dash's own routes.
    """
    app.backend._setup_catchall()


def _nav_links(viewer: data.Viewer) -> list:
    # The initiatives are home: the brand links there (one link fewer keeps a full menu on one
    # line at 1280 px).
    links: list = []
    if viewer.logged_in and viewer.roles:
        links.append(
            dbc.NavLink(gettext("Overview"), href="/overview", active="partial", id="nav-overview")
        )
        # Everyone with a role reads strategies: funders all, a partner those it owns.
        links.append(
            dbc.NavLink(
                gettext("Strategies"), href="/strategies", active="partial", id="nav-strategies"
            )
        )
    if viewer.may_review:
        links.append(
            dbc.NavLink(gettext("Reporting"), href="/reporting", active="exact", id="nav-reporting")
        )
    if viewer.may_report:
        links.append(
            dbc.NavLink(gettext("Portal"), href="/portal", active="partial", id="nav-portal")
        )
    if viewer.may_review:
        links.append(
            dbc.NavLink(
                gettext("Review"), href="/reporting/review", active="partial", id="nav-review"
            )
        )
        links.append(
            dbc.NavLink(
                gettext("Publish"), href="/reporting/publish", active="partial", id="nav-publish"
            )
        )
    if viewer.may_manage_people:
        links.append(
            dbc.NavLink(gettext("People"), href="/people", active="exact", id="nav-people")
        )
    if viewer.may_review:
        links.append(dbc.NavLink(gettext("Setup"), href="/setup", active="partial", id="nav-setup"))
    if viewer.is_admin:
        links.append(
            dbc.NavLink(gettext("Mailbox"), href="/admin/mailbox", active="exact", id="nav-mailbox")
        )
    links.append(dbc.NavLink(gettext("Public"), href="/public", active="partial", id="nav-public"))
    return links


def _role_name(role: str) -> str:
    names = {
        "admin": i18n.pgettext("role", "admin"),
        "backbone": i18n.pgettext("role", "backbone"),
        "funder": i18n.pgettext("role", "funder"),
        "reporter": i18n.pgettext("role", "reporter"),
    }
    return names.get(role, role)


def _account(viewer: data.Viewer):
    if not viewer.logged_in:
        return dbc.Button(
            gettext("Log in"), href="/login", color="light", size="sm", id="nav-login"
        )
    return html.Form(
        [
            # One's own account: the e-mail opens one's notification preferences.
            html.A(
                html.Span(
                    [
                        viewer.email,
                        html.Span(
                            f" · {', '.join(_role_name(r) for r in viewer.roles)}",
                            className="opacity-75",
                        )
                        if viewer.roles
                        else None,
                    ],
                    className="text-light small cm-nav-user",
                    id="nav-user",
                ),
                href="/preferences",
                className="me-2 text-decoration-none",
                id="nav-preferences",
                title=gettext("%(email)s: your notification preferences", email=viewer.email),
            ),
            dbc.Button(
                gettext("Log out"),
                type="submit",
                color="light",
                outline=True,
                size="sm",
                id="nav-logout",
            ),
        ],
        action="/auth/logout",
        method="post",
        className="d-flex align-items-center mb-0",
    )


def _shell():
    """The frame around every page; built per page load, for the request's user.

    Below the md breakpoint the menu folds behind a toggler, so a phone opens on the page
    rather than on the menu."""
    viewer = data.whoami()
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Common Measure", href="/", id="nav-home"),
                dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
                dbc.Collapse(
                    [
                        dbc.Nav(_nav_links(viewer), navbar=True, className="me-auto"),
                        html.Div(
                            [
                                html.A(
                                    gettext("API docs"),
                                    href="/api/docs",
                                    className="text-light small me-3 text-nowrap",
                                    id="nav-api-docs",
                                ),
                                _account(viewer),
                            ],
                            className="d-flex align-items-center py-2 py-md-0",
                        ),
                    ],
                    id="nav-collapse",
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid="xxl",
        ),
        color="primary",
        dark=True,
        expand="md",
        className="mb-4",
    )
    # A keyboard user skips the menu with the first Tab; the page is the <main> landmark.
    skip = html.A(
        gettext("Skip to main content"), href="#main", className="cm-skip-link", id="skip-link"
    )
    main = html.Main(dbc.Container(dash.page_container, fluid="xxl"), id="main", tabIndex="-1")
    return html.Div([skip, navbar, main, _language_switcher()])


def _language_switcher():
    """Every page's footer: the languages, each named in itself; the form posts to
    ``/locale`` (api.web_locale), which remembers the choice and comes back to the page."""
    current = i18n.current_locale()
    return html.Footer(
        html.Form(
            [
                html.Span(gettext("Language:"), className="me-2"),
                *(
                    html.Button(
                        name,
                        type="submit",
                        name="locale",
                        value=code,
                        lang=code,
                        disabled=code == current,
                        className="btn btn-link btn-sm p-0 me-2",
                        id=f"language-{code}",
                    )
                    for code, name in i18n.LANGUAGE_NAMES.items()
                ),
            ],
            action="/locale",
            method="post",
            className="d-flex align-items-center small mb-0",
        ),
        className="container-xxl py-3",
        id="language-switcher",
    )


def _toggle_menu(app: Dash) -> None:
    """The phone menu's toggler opens and closes it, in the browser (no server round trip)."""
    app.clientside_callback(
        "function (n, open) { return n ? !open : open; }",
        dash.Output("nav-collapse", "is_open"),
        dash.Input("nav-toggler", "n_clicks"),
        dash.State("nav-collapse", "is_open"),
        prevent_initial_call=True,
    )
