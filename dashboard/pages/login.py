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
from models.core.i18n import gettext

dash.register_page(
    __name__, path="/login", title=lambda **_: gettext("Log in · Common Measure"), name="Log in"
)


def messages() -> dict[str, tuple[str, str]]:
    return {
        "1": (
            gettext("The e-mail address and password do not match an active account."),
            "danger",
        ),
        "throttled": (
            gettext("Too many failed attempts. Wait a few minutes, then try again."),
            "danger",
        ),
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
                gettext("You are logged in as %(email)s. ", email=viewer.email),
                html.A(gettext("Continue"), href=safe_next(next), id="login-continue"),
                gettext(" or log out from the menu bar."),
            ],
            color="info",
            id="login-already",
        )
    notices = []
    if error:
        known = messages()
        text, colour = known.get(error, known["1"])
        notices.append(dbc.Alert(text, color=colour, id="login-error"))
    if logged_out:
        notices.append(
            dbc.Alert(gettext("You have logged out."), color="success", id="login-logged-out")
        )
    form = html.Form(
        [
            _field(
                gettext("E-mail"),
                id="login-email",
                name="email",
                type="email",
                required=True,
                autocomplete="username",
                autofocus=True,
            ),
            _field(
                gettext("Password"),
                id="login-password",
                name="password",
                type="password",
                required=True,
                autocomplete="current-password",
            ),
            dbc.Input(type="hidden", name="next", value=safe_next(next), id="login-next"),
            dbc.Button(gettext("Log in"), type="submit", color="primary", id="login-submit"),
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
                        html.H1(gettext("Log in"), className="h4 mb-3"),
                        *notices,
                        form,
                        html.P(
                            gettext(
                                "Partners, backbone staff and funders log in with the account "
                                "their initiative gave them."
                            ),
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
