"""The invitation page: an invited person chooses their password, then logs in.

Public on purpose: the link's token is the proof (models/access/invitations.py). A link that
was used, replaced, or whose account changed says so and asks for a new one; a password that
breaks the rules every password follows is refused next to the field.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.components.field_errors import error_outputs, field, field_errors
from dashboard.data import DomainError
from models.core.i18n import gettext

dash.register_page(
    __name__,
    path="/invite",
    title=lambda **_: gettext("Accept your invitation · Common Measure"),
    name="Invitation",
)

FIELDS = {"password": "invite-password", "repeat": "invite-repeat"}


# Where the address goes in a translated sentence, so it can be shown in bold wherever the
# translation puts it (the sentence stays whole for translators).
MARK = "\x00"


def _around(sentence: str, part) -> list:
    """The sentence with ``part`` (a component) where :data:`MARK` is."""
    before, _mark, after = sentence.partition(MARK)
    return [text for text in (before, part, after) if not isinstance(text, str) or text]


def _card(*children) -> dbc.Row:
    return dbc.Row(
        dbc.Col(
            dbc.Card(dbc.CardBody(list(children)), className="shadow-sm"),
            xs=12,
            sm=10,
            md=7,
            lg=5,
        ),
        justify="center",
    )


def _dead_link(exc: DomainError) -> dbc.Alert:
    return dbc.Alert(
        exc.message[:1].upper() + exc.message[1:] + ".", color="warning", id="invite-dead"
    )


def layout(token: str | None = None, **_):
    if not token:
        return _card(
            html.H1(gettext("Invitation"), className="h4 mb-3"),
            dbc.Alert(
                gettext("Open this page with the link you were given: it holds your invitation."),
                color="info",
                id="invite-missing",
            ),
        )
    try:
        invited = data.invitation(token)
    except DomainError as exc:
        return _card(html.H1(gettext("Invitation"), className="h4 mb-3"), _dead_link(exc))
    greeting = (
        gettext("Welcome, %(name)s.", name=invited.name) if invited.name else gettext("Welcome.")
    )
    form = html.Div(
        [
            html.P(
                [
                    greeting + " ",
                    *_around(
                        gettext(
                            "Choose the password you will log in with as %(email)s.", email=MARK
                        ),
                        html.Strong(invited.email, id="invite-email"),
                    ),
                ]
            ),
            dbc.Row(
                [
                    field(
                        gettext("Password"),
                        dbc.Input(
                            id="invite-password",
                            type="password",
                            autoComplete="new-password",
                            autoFocus=True,
                        ),
                        hint=gettext(
                            "At least 12 characters, not starting or ending with a space."
                        ),
                        xs=12,
                    ),
                    field(
                        gettext("Repeat it"),
                        dbc.Input(id="invite-repeat", type="password", autoComplete="new-password"),
                        xs=12,
                    ),
                ],
                className="g-2 mb-3",
            ),
            dbc.Button(gettext("Set my password"), id="invite-accept", color="primary"),
            html.P(
                gettext("The link works once and until %(day)s.", day=data.day(invited.expires_at)),
                className="small text-muted mt-3 mb-0",
            ),
        ],
        id="invite-form",
    )
    return _card(
        html.H1(gettext("Accept your invitation"), className="h4 mb-3"),
        html.Div(id="invite-result"),
        form,
        dcc.Store(id="invite-token", data=token),
    )


@callback(
    Output("invite-result", "children"),
    Output("invite-form", "hidden"),
    *error_outputs(*FIELDS.values()),
    Input("invite-accept", "n_clicks"),
    State("invite-password", "value"),
    State("invite-repeat", "value"),
    State("invite-token", "data"),
    prevent_initial_call=True,
)
def accept(clicks, password, repeat, token):
    """Set the password with the link's token; the person logs in as anyone does afterwards."""
    if not clicks:
        raise PreventUpdate
    try:
        if (password or "") != (repeat or ""):
            raise data.InvalidInput(gettext("the two passwords differ"), field="repeat")
        email = data.accept_person_invitation(token or "", password or "")
    except DomainError as exc:
        errors, _ = field_errors(exc, FIELDS)
        if exc.field == "token":
            return _dead_link(exc), True, *errors
        return None, False, *errors
    errors, _ = field_errors(None, FIELDS)
    done = dbc.Alert(
        [
            html.Div(
                _around(
                    gettext("Your password is set. Log in as %(email)s.", email=MARK),
                    html.Strong(email),
                )
            ),
            dbc.Button(
                gettext("Log in"),
                href="/login",
                color="primary",
                className="mt-2",
                id="invite-login",
            ),
        ],
        color="success",
        id="invite-done",
    )
    return done, True, *errors
