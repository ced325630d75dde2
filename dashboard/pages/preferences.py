"""Each person's notification preferences: per kind of message, at once, in one daily digest,
or not at all (models/outbox/preferences.py; README, "Notifications").

Every logged-in person has this page; it reads and writes only their own choices. An
invitation is a link to act on, so it is never held for a digest: its "daily" is not offered.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, html

from dashboard import data
from dashboard.components.common import error_alert, login_redirect
from dashboard.components.page import frame
from dashboard.data import DomainError
from models.core.i18n import gettext

dash.register_page(
    __name__,
    path="/preferences",
    title=lambda **_: gettext("Notifications · Common Measure"),
    name="Notification preferences",
)


def modes() -> list[tuple[str, str]]:
    """Each way of sending, as the reader says it."""
    return [
        ("immediate", gettext("At once")),
        ("daily", gettext("Daily digest")),
        ("off", gettext("Off")),
    ]


def _choice(pref: data.Preference) -> html.Tr:
    options = [
        {
            "label": label,
            "value": mode,
            "disabled": mode == "daily" and pref.kind in data.NEVER_DAILY,
        }
        for mode, label in modes()
    ]
    return html.Tr(
        [
            html.Td(pref.label[:1].upper() + pref.label[1:], className="align-middle"),
            html.Td(
                [
                    dbc.RadioItems(
                        id={"type": "prefs-mode", "kind": pref.kind},
                        options=options,
                        value=pref.mode,
                        inline=True,
                        className="mb-0",
                    ),
                    html.Div(
                        id={"type": "prefs-error", "kind": pref.kind},
                        className="cm-field-error",
                    ),
                ]
            ),
        ],
        id=f"prefs-row-{pref.kind}",
    )


def layout(**_):
    viewer = data.whoami()
    if not viewer.logged_in:
        return login_redirect("/preferences")
    try:
        prefs = data.notification_preferences()
    except DomainError as exc:
        return error_alert(exc)
    return frame(
        "prefs",
        gettext("Notifications"),
        gettext(
            "Which messages Common Measure sends to %(email)s, and when: at once, gathered in "
            "one mail a day, or not at all. Every message also carries a link that turns its "
            "kind off.",
            email=viewer.email,
        ),
        dbc.Card(
            dbc.CardBody(
                [
                    dbc.Table(
                        [
                            html.Thead(
                                html.Tr(
                                    [html.Th(gettext("Messages about")), html.Th(gettext("Send"))]
                                )
                            ),
                            html.Tbody([_choice(p) for p in prefs]),
                        ],
                        hover=True,
                        className="mb-3",
                        id="prefs-table",
                    ),
                    html.Div(
                        [
                            dbc.Button(gettext("Save"), id="prefs-save", color="primary"),
                            html.Div(id="prefs-feedback", className="flex-grow-1"),
                        ],
                        className="d-flex flex-wrap align-items-start gap-3",
                    ),
                ]
            ),
            className="shadow-sm",
            style={"maxWidth": "56rem"},
        ),
    )


@callback(
    Output("prefs-feedback", "children"),
    Output({"type": "prefs-mode", "kind": ALL}, "value"),
    Output({"type": "prefs-error", "kind": ALL}, "children"),
    Input("prefs-save", "n_clicks"),
    State({"type": "prefs-mode", "kind": ALL}, "value"),
    State({"type": "prefs-mode", "kind": ALL}, "id"),
    prevent_initial_call=True,
)
def save_preferences(_clicks, modes, idents):
    """Save every choice at once; a refusal shows under the kind it names."""
    kinds = [i["kind"] for i in idents]
    try:
        saved = data.save_notification_preferences(dict(zip(kinds, modes, strict=True)))
    except DomainError as exc:
        errors = [exc.message if exc.field == kind else None for kind in kinds]
        alert = None if exc.field in kinds else error_alert(exc)
        named = (
            gettext("Not saved: see the message under the kind it names.")
            if exc.field in kinds
            else None
        )
        feedback = alert or dbc.Alert(named, color="danger", className="mb-0 py-2")
        return feedback, modes, errors
    chosen = {p.kind: p.mode for p in saved}
    return (
        dbc.Alert(
            gettext("Saved. New messages follow these choices."),
            color="success",
            className="mb-0 py-2",
            id="prefs-saved",
            duration=6000,
        ),
        [chosen.get(kind, mode) for kind, mode in zip(kinds, modes, strict=True)],
        [None] * len(kinds),
    )
