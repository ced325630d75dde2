"""Login: a plain HTML form posted to /auth/login, which sets the session cookie.

The form is not a Dash callback on purpose: the password goes straight to the login route,
the answer is a redirect with an HttpOnly cookie, and the page reloads as the new user.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from dashboard.session import safe_next

dash.register_page(__name__, path="/login", title="Log in · Common Measure", name="Log in")

MESSAGES = {
    "1": ("The e-mail address and password do not match an active account.", "danger"),
    "throttled": ("Too many failed attempts. Wait a few minutes, then try again.", "danger"),
}


def _field(label: str, **input_props) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=input_props["id"], className="form-label"),
            dbc.Input(**input_props),
        ],
        className="mb-3",
    )


def layout(next: str | None = None, error: str | None = None, logged_out: str | None = None, **_):
    viewer = data.whoami()
    if viewer.logged_in:
        return dbc.Alert(
            [
                f"You are logged in as {viewer.email}. ",
                html.A("Continue", href=safe_next(next), id="login-continue"),
                " or log out from the menu bar.",
            ],
            color="info",
            id="login-already",
        )
    notices = []
    if error:
        text, colour = MESSAGES.get(error, MESSAGES["1"])
        notices.append(dbc.Alert(text, color=colour, id="login-error"))
    if logged_out:
        notices.append(dbc.Alert("You have logged out.", color="success", id="login-logged-out"))
    form = html.Form(
        [
            _field(
                "E-mail",
                id="login-email",
                name="email",
                type="email",
                required=True,
                autocomplete="username",
                autofocus=True,
            ),
            _field(
                "Password",
                id="login-password",
                name="password",
                type="password",
                required=True,
                autocomplete="current-password",
            ),
            dbc.Input(type="hidden", name="next", value=safe_next(next), id="login-next"),
            dbc.Button("Log in", type="submit", color="primary", id="login-submit"),
        ],
        action="/auth/login",
        method="post",
        id="login-form",
    )
    return dbc.Row(
        dbc.Col(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H1("Log in", className="h4 mb-3"),
                        *notices,
                        form,
                        html.P(
                            "Partners, backbone staff and funders log in with the account "
                            "their initiative gave them.",
                            className="small text-muted mt-3 mb-0",
                        ),
                    ]
                ),
                className="shadow-sm",
            ),
            xs=12,
            sm=10,
            md=7,
            lg=5,
        ),
        justify="center",
    )
