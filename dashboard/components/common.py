"""Layout pieces every page uses: the login redirect, error alerts, status and flag badges."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, clientside_callback, dcc, html

from dashboard.data import DomainError, NotFound, PermissionDenied
from dashboard.session import login_url
from models.core.i18n import gettext, number_separators, pgettext
from models.reporting.words import status_name

STATUS_COLOURS = {
    "not_started": "secondary",
    "draft": "info",
    "submitted": "primary",
    "returned": "warning",
    "approved": "success",
}


def grid_number_format() -> dict:
    """An AG Grid ``valueFormatter`` writing numbers the reader's way (``1.234,5`` in
    Spanish, README "Languages"): up to two decimals, grouped, blank for no value. Built per
    request, as the columns are, with the language's marks."""
    decimal, group = number_separators()
    marks = json.dumps(
        {"decimal": decimal, "thousands": group, "grouping": [3], "currency": ["", ""]}
    )
    return {
        "function": f"params.value == null ? '' : d3.formatLocale({marks}).format(',.2~f')"
        "(params.value)"
    }


def late_title() -> str:
    """What "late" means wherever a report is marked so (badges, the heat map's dot), in the
    reader's language."""
    return gettext(
        "Late: first submitted after the due date, or not submitted and past it. A report "
        "returned for a correction keeps the lateness of its first submission."
    )


def late_word() -> str:
    """The badge on a late report."""
    return gettext("late")


class _FlagLabels(Mapping[str, str]):
    """A warning flag's short name in the reader's language, read when shown (README,
    "Languages"); a mapping so pages look a flag up as they always have."""

    def _labels(self) -> dict[str, str]:
        return {
            "sum_mismatch": gettext("breakdown ≠ total"),
            "outlier": gettext("outlier"),
            "jump": pgettext("flag", "jump"),
        }

    def __getitem__(self, flag: str) -> str:
        return self._labels()[flag]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


FLAG_LABELS: Mapping[str, str] = _FlagLabels()


# The id of the JSON block of words the page's scripts write (dashboard/assets/40-a11y.js).
WORDS_ID = "cm-words"


def script_words() -> dict[str, str]:
    """The words the browser's scripts write into the page (the chart's table and caption),
    in the reader's language: the scripts hold no English of their own. ``{n}`` is filled in
    by the script."""
    return {
        "chartAsTable": gettext("Chart as a table"),
        "value": gettext("Value"),
        "andMore": gettext(", and %(count)s more", count="{n}"),
    }


def script_words_block() -> str:
    """:func:`script_words` as a JSON block for the index page (safe inside ``<script>``)."""
    text = json.dumps(script_words(), ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{WORDS_ID}">{text}</script>'


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
                # One sentence, all of it the link: a translation may order it freely.
                html.A(gettext("Please log in to see this page."), href=href),
                color="info",
                id="cm-please-log-in",
            ),
        ]
    )


def not_found_sentence(what: str = "") -> str:
    """ "That report was not found, or you may not see it." as a whole sentence in the reader's
    language (README, "Languages": no English word slotted into a translated sentence).

    ``what`` is the English subject pages have always passed ("That report"); one this table
    does not know is said the general way."""
    sentences = {
        "That report": gettext("That report was not found, or you may not see it."),
        "That initiative": gettext("That initiative was not found, or you may not see it."),
        "That period": gettext("That period was not found, or you may not see it."),
        "That value": gettext("That value was not found, or you may not see it."),
        "That indicator": gettext("That indicator was not found, or you may not see it."),
        "That story": gettext("That story was not found, or you may not see it."),
        "That strategy": gettext("That strategy was not found, or you may not see it."),
        "That action": gettext("That action was not found, or you may not see it."),
        "That endpoint": gettext("That endpoint was not found, or you may not see it."),
    }
    return sentences.get(what) or gettext("That was not found, or you may not see it.")


def error_alert(exc: Exception, *, what: str = "") -> dbc.Alert:
    """A domain error as the user should read it; never any data. The domain's message is
    already in the reader's language (models raise through gettext)."""
    if isinstance(exc, NotFound):
        text = not_found_sentence(what)
    elif isinstance(exc, PermissionDenied):
        text = gettext("Not allowed: %(reason)s", reason=exc.message)
    elif isinstance(exc, DomainError):
        text = exc.message
    else:
        text = gettext("Something went wrong; please try again.")
    return dbc.Alert(text, color="danger", className="mb-3 cm-error")


def status_badge(status: str, **kw) -> dbc.Badge:
    return dbc.Badge(
        status_name(status),
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
                        dcc.Clipboard(target_id=ident, title=gettext("Copy"), id=f"{ident}-copy")
                    ),
                ],
                className="mt-2",
            ),
        ],
        color="success",
        dismissable=True,
    )
