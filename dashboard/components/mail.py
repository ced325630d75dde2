"""One mail as the admin reads it in the mailbox (dashboard/pages/mailbox.py): its text as
text, and its HTML in a frame sandboxed without any permission, so it runs no script, sends no
form and reaches nothing of this site."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from models.core.i18n import gettext


def pick() -> str:
    return gettext("Choose a message to read it.")


def message_view(row: dict | None):
    """The selected mail: who, what, when, its text as text and its HTML sandboxed."""
    if not row:
        return pick()
    return html.Div(
        [
            html.H3(row.get("subject") or "", className="h6", id="mailbox-subject"),
            html.P(
                [gettext("To %(address)s", address=row.get("to")), html.Br(), row.get("at")],
                className="small text-muted mb-2",
            ),
            dbc.Tabs(
                [
                    dbc.Tab(
                        html.Pre(
                            row.get("text") or "",
                            className="small mt-2 mb-0 cm-mail-text",
                            id="mailbox-text",
                            style={"whiteSpace": "pre-wrap", "wordBreak": "break-word"},
                        ),
                        label=gettext("Text"),
                        tab_id="text",
                    ),
                    dbc.Tab(
                        html.Iframe(
                            srcDoc=row.get("html") or "",
                            sandbox="",  # no scripts, no forms, no access to this site
                            referrerPolicy="no-referrer",
                            id="mailbox-html",
                            title=gettext("The message as HTML"),
                            style={"width": "100%", "height": "26rem", "border": "0"},
                        ),
                        label="HTML",
                        tab_id="html",
                    ),
                ],
                active_tab="text",
            ),
        ]
    )
