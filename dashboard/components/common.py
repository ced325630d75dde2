"""Layout pieces every page uses: the login redirect, error alerts, status and flag badges."""

from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, clientside_callback, dcc, html

from dashboard.data import DomainError, NotFound, PermissionDenied
from dashboard.session import login_url

STATUS_COLOURS = {
    "not_started": "secondary",
    "draft": "info",
    "submitted": "primary",
    "returned": "warning",
    "approved": "success",
}
# What "late" means wherever a report is marked so (badges, the heat map's dot).
LATE = (
    "Late: first submitted after the due date, or not submitted and past it. A report "
    "returned for a correction keeps the lateness of its first submission."
)
FLAG_LABELS = {
    "sum_mismatch": "breakdown ≠ total",
    "outlier": "outlier",
    "jump": "jump",
}


def page_url(path: str, **query: str | None) -> str:
    params = {k: v for k, v in query.items() if v}
    return path + (f"?{urlencode(params)}" if params else "")


def login_redirect(path: str, **query: str | None) -> html.Div:
    """Send an anonymous visitor to the login page, and back here afterwards."""
    href = login_url(page_url(path, **query))
    return html.Div(
        [
            dcc.Location(id="cm-login-redirect", href=href, refresh=True),
            dbc.Alert(
                ["Please ", html.A("log in", href=href), " to see this page."],
                color="info",
                id="cm-please-log-in",
            ),
        ]
    )


def error_alert(exc: Exception, *, what: str = "") -> dbc.Alert:
    """A domain error as the user should read it; never any data."""
    if isinstance(exc, NotFound):
        text = f"{what or 'That'} was not found, or you may not see it."
    elif isinstance(exc, PermissionDenied):
        text = f"Not allowed: {exc.message}"
    elif isinstance(exc, DomainError):
        text = exc.message
    else:
        text = "Something went wrong; please try again."
    return dbc.Alert(text, color="danger", className="mb-3 cm-error")


def status_badge(status: str, **kw) -> dbc.Badge:
    return dbc.Badge(
        status.replace("_", " "),
        color=STATUS_COLOURS.get(status, "secondary"),
        className="cm-status text-uppercase",
        **kw,
    )


def flag_badge(flag: str, title: str | None = None) -> dbc.Badge:
    return dbc.Badge(
        FLAG_LABELS.get(flag, flag),
        color="warning",
        text_color="dark",
        className="me-1 cm-flag",
        title=title or flag,
    )


def missing_and_warnings(sub, *, missing_label: str, warnings_id: str | None = None) -> list:
    """A submission's indicators not yet reported and its warnings, as the portal (to the
    partner) and the review page (to the backbone team) both show them."""
    parts: list = []
    if sub.missing:
        parts.append(
            html.P(
                [html.Span(missing_label, className="fw-semibold"), ", ".join(sub.missing)],
                className="small mb-2",
            )
        )
    if sub.warnings:
        items = [
            html.Li(
                [flag_badge(w.code, w.message), html.Code(w.indicator), f" {w.message}"],
                className="small",
            )
            for w in sub.warnings
        ]
        extra = {"id": warnings_id} if warnings_id else {}
        parts.append(html.Ul(items, className="list-unstyled mb-2", **extra))
    return parts


def sync_url(page: str, *names: str) -> None:
    """Keep the address bar's query in step with the page's pickers, so a view can be
    bookmarked and shared, without asking the page router to render the page again.

    Registers one clientside callback from the inputs ``{page}-{name}`` (their ``value``) to
    the store ``{page}-url-sync``; call it at module level of the page. Other query parameters
    are kept; a cleared picker removes its parameter.
    """
    setters = "\n".join(
        f"        if (values[{i}]) {{ params.set('{name}', values[{i}]); }}"
        f" else {{ params.delete('{name}'); }}"
        for i, name in enumerate(names)
    )
    clientside_callback(
        f"""
    function () {{
        var values = arguments;
        var params = new URLSearchParams(window.location.search);
{setters}
        var query = params.toString();
        var url = window.location.pathname + (query ? '?' + query : '');
        if (url !== window.location.pathname + window.location.search) {{
            window.history.replaceState(window.history.state, '', url);
        }}
        return window.dash_clientside.no_update;
    }}
    """,
        Output(f"{page}-url-sync", "data"),
        *[Input(f"{page}-{name}", "value") for name in names],
    )


def shown_once(ident: str, secret: str, *lines) -> dbc.Alert:
    """A secret in a read-only field with a copy button: this answer is the only place it
    appears."""
    return dbc.Alert(
        [
            *lines,
            dbc.InputGroup(
                [
                    dbc.Input(id=ident, value=secret, readonly=True, className="font-monospace"),
                    dbc.InputGroupText(
                        dcc.Clipboard(target_id=ident, title="Copy", id=f"{ident}-copy")
                    ),
                ],
                className="mt-2",
            ),
        ],
        color="success",
        dismissable=True,
    )
