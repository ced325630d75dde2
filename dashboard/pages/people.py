"""People: who has access, with which role; invitations; API keys.

Admins manage everyone; backbone staff the funders of their initiatives and the reporters of
their partners (models/access/users.py). Every list and every change goes through the data
seam to those rules: this page offers what the domain says the user may hand out and shows
what it refuses, next to the field it names. Changing an account itself (deactivating it,
resetting its password, a new invitation link) needs authority over every grant it holds.

Secrets are shown once: an invitation's link (the invitee is also mailed one) and a new API key
appear in the answer to the click that made them, and nowhere else in the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.components.common import error_alert, shown_once, sync_url
from dashboard.components.field_errors import error_outputs, field, field_errors
from dashboard.components.page import enter, frame, initiative_picker, pickers
from dashboard.data import DomainError
from models.core.i18n import gettext, ngettext

dash.register_page(
    __name__, path="/people", title=lambda **_: gettext("People · Common Measure"), name="People"
)

# Texts are made when shown, in the reader's language (README, "Languages").


def _not_allowed() -> str:
    return gettext(
        "The People page is for admins and the initiatives' backbone teams. "
        "Your account does not manage anyone's access."
    )


def role_labels() -> dict[str, str]:
    return {
        "admin": gettext("Admin (the whole deployment)"),
        "backbone": gettext("Backbone staff (runs an initiative)"),
        "reporter": gettext("Reporter (for a partner organisation)"),
        "funder": gettext("Funder (reads shared figures)"),
    }


GRID_OPTIONS = {
    "domLayout": "autoHeight",
    "pagination": True,
    "paginationPageSize": 20,
    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
}


def _user_columns() -> list[dict]:
    return [
        {"field": "email", "headerName": gettext("E-mail"), "flex": 2, "minWidth": 170},
        {"field": "name", "headerName": gettext("Name"), "flex": 1, "minWidth": 100},
        {"field": "status_text", "headerName": gettext("Status"), "width": 165},
        {
            "field": "grants",
            "headerName": gettext("Roles you manage"),
            "flex": 3,
            "minWidth": 160,
            "wrapText": True,
            "autoHeight": True,
        },
    ]


def _key_columns() -> list[dict]:
    return [
        {"field": "name", "headerName": gettext("Name"), "flex": 1, "minWidth": 140},
        {"field": "prefix", "headerName": gettext("Key"), "width": 180},
        {"field": "scope", "headerName": gettext("Acts for"), "flex": 2, "minWidth": 200},
        {"field": "created_by", "headerName": gettext("Created by"), "flex": 1, "minWidth": 160},
        {"field": "last_used", "headerName": gettext("Last used"), "width": 150},
        {"field": "expires", "headerName": gettext("Expires"), "width": 130},
        {"field": "state_text", "headerName": gettext("State"), "width": 100},
    ]


# The domain's field names → this page's inputs.
INVITE_FIELDS = {
    "email": "people-invite-email",
    "name": "people-invite-name",
    "role": "people-invite-role",
    "initiative": "people-invite-initiative",
    "organisation": "people-invite-organisation",
}
GRANT_FIELDS = {
    "role": "people-grant-role",
    "initiative": "people-grant-initiative",
    "organisation": "people-grant-organisation",
}
PASSWORD_FIELDS = {"password": "people-reset-password"}
KEY_FIELDS = {
    "name": "people-key-name",
    "scope": "people-key-scope",
    "expires_at": "people-key-expires",
}


def layout(initiative: str | None = None, **_):
    entry = enter(
        "/people", "people", data.people_workspaces, _not_allowed(), initiative=initiative
    )
    if entry.instead is not None:
        return entry.instead
    try:
        choices = data.people_choices()
        initiatives, organisations = data.api_key_scopes()
    except DomainError as exc:
        return error_alert(exc)
    picked = entry.slug if entry.slug != data.ALL_PEOPLE else None
    stored = {
        "roles": list(choices.roles),
        "initiatives": [list(i) for i in choices.initiatives],
        "members": {k: [list(m) for m in v] for k, v in choices.members.items()},
    }
    search = dbc.Col(
        [
            dbc.Label(gettext("Find"), html_for="people-search", className="cm-muted-label"),
            dbc.Input(
                id="people-search", type="search", placeholder=gettext("E-mail, name or role")
            ),
        ],
        md=6,
    )
    users = dag.AgGrid(
        id="people-users",
        rowData=[],
        columnDefs=_user_columns(),
        defaultColDef={"resizable": True, "sortable": True},
        getRowId="params.data.id",
        dashGridOptions=GRID_OPTIONS,
        className="ag-theme-alpine cm-grid mb-2",
    )
    return frame(
        "people",
        gettext("People"),
        gettext(
            "Who has access to your initiatives, and with which role. Select someone to change "
            "their grants or their account; invite new people; manage the API keys machines "
            "report with."
        ),
        pickers(initiative_picker("people", entry, md=6), search),
        html.Div(id="people-feedback"),
        dbc.Row(
            [
                dbc.Col(
                    [html.Div(id="people-count", className="small text-muted mb-1"), users],
                    lg=7,
                ),
                dbc.Col(
                    dbc.Card(
                        dbc.CardBody(
                            [
                                html.Div(id="people-detail-feedback"),
                                html.Div(
                                    html.P(
                                        gettext("Select someone in the list to see their grants."),
                                        className="text-muted small mb-0",
                                    ),
                                    id="people-detail",
                                ),
                            ]
                        ),
                        className="mb-3",
                    ),
                    lg=5,
                ),
            ],
            className="g-3 mb-3",
        ),
        _invite_card(stored, picked),
        _keys_card(initiatives, organisations, picked),
        dcc.Store(id="people-choices", data=stored),
        dcc.Store(id="people-selected"),
        dcc.Store(id="people-refresh", data=0),
        dcc.Store(id="people-keys-refresh", data=0),
    )


# --- pieces ---------------------------------------------------------------------------------


def _role_options(roles) -> list[dict]:
    labels = role_labels()
    return [{"label": labels.get(r, r), "value": r} for r in roles]


def _grant_form(
    prefix: str, stored: dict, initiative: str | None, *, narrow: bool = False
) -> list[dbc.Col]:
    """Role, initiative and organisation pickers (``{prefix}-role`` …), offering what the
    domain says the user may grant; the organisation is asked for reporter grants only."""
    roles = stored.get("roles") or []
    role = "reporter" if "reporter" in roles else (roles[0] if roles else None)
    initiatives = [{"label": name, "value": slug} for slug, name in stored.get("initiatives") or []]
    initiative = initiative or (initiatives[0]["value"] if initiatives else None)
    organisations, org_disabled = organisation_options(stored, role, initiative)
    widths = (12, 6, 6) if narrow else (4, 4, 4)  # the detail panel is narrow
    return [
        field(
            gettext("Role"),
            dbc.Select(id=f"{prefix}-role", options=_role_options(roles), value=role),
            md=widths[0],
        ),
        field(
            gettext("Initiative"),
            dbc.Select(
                id=f"{prefix}-initiative",
                options=initiatives,
                value=initiative,
                disabled=role == "admin",
            ),
            md=widths[1],
        ),
        field(
            gettext("Organisation"),
            dbc.Select(
                id=f"{prefix}-organisation",
                options=organisations,
                value=organisations[0]["value"] if organisations else None,
                disabled=org_disabled,
            ),
            md=widths[2],
        ),
    ]


def organisation_options(stored: dict, role: str | None, initiative: str | None):
    """(options, disabled) of the organisation picker: the initiative's members for a reporter
    grant; nothing to pick for other roles."""
    if role != "reporter":
        return [], True
    members = (stored or {}).get("members", {}).get(initiative or "", [])
    return [{"label": name, "value": slug} for slug, name in members], False


def _invite_card(stored: dict, initiative: str | None) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Invite someone"), className="h5"),
                html.P(
                    gettext(
                        "The account is created with the role you choose, and you get a link "
                        "with which the person chooses their own password. No e-mail is sent: "
                        "copy the link and give it to them. It works once, for 7 days."
                    ),
                    className="small text-muted",
                ),
                dbc.Row(
                    [
                        field(
                            gettext("E-mail"),
                            dbc.Input(id="people-invite-email", type="email", maxLength=254),
                            md=6,
                        ),
                        field(
                            gettext("Name (optional)"),
                            dbc.Input(id="people-invite-name", type="text", maxLength=200),
                            md=6,
                        ),
                    ],
                    className="g-2 mb-1",
                ),
                dbc.Row(_grant_form("people-invite", stored, initiative), className="g-2 mb-2"),
                dbc.Button(gettext("Create invitation"), id="people-invite-send", color="primary"),
                html.Div(id="people-invite-result", className="mt-3"),
            ]
        ),
        className="mb-3",
        id="people-invite-card",
    )


def _keys_card(initiatives, organisations, initiative: str | None) -> dbc.Card:
    scopes = [
        {
            "label": gettext("Initiative · %(name)s (backbone rights)", name=name),
            "value": f"initiative:{slug}",
        }
        for slug, name in initiatives
    ] + [
        {
            "label": gettext("Organisation · %(name)s (reporter rights)", name=name),
            "value": f"organisation:{slug}",
        }
        for slug, name in organisations
    ]
    chosen = f"initiative:{initiative}" if initiative else None
    if chosen not in [s["value"] for s in scopes]:
        chosen = scopes[0]["value"] if scopes else None
    grid = dag.AgGrid(
        id="people-keys",
        rowData=[],
        columnDefs=_key_columns(),
        defaultColDef={"resizable": True, "sortable": True},
        getRowId="params.data.id",
        dashGridOptions={**GRID_OPTIONS, "pagination": False},
        className="ag-theme-alpine cm-grid mb-2",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("API keys"), className="h5"),
                html.P(
                    gettext(
                        "Machines report and read with a key. A key acts with the rights its "
                        "creator has at the moment, never more: it stops when they lose the "
                        "role or their account is deactivated. Its secret is shown once, when "
                        "it is made."
                    ),
                    className="small text-muted",
                ),
                html.Div(id="people-keys-feedback"),
                grid,
                dbc.Button(
                    gettext("Revoke the selected key"),
                    id="people-key-revoke",
                    color="danger",
                    outline=True,
                    size="sm",
                    disabled=True,
                    className="mb-3",
                ),
                html.H3(gettext("New key"), className="h6"),
                dbc.Row(
                    [
                        field(
                            gettext("Name"),
                            dbc.Input(
                                id="people-key-name",
                                maxLength=120,
                                placeholder=gettext("e.g. student-information-system"),
                            ),
                            md=4,
                        ),
                        field(
                            gettext("Acts for"),
                            dbc.Select(id="people-key-scope", options=scopes, value=chosen),
                            md=5,
                        ),
                        field(
                            gettext("Expires (optional)"),
                            dbc.Input(id="people-key-expires", type="date"),
                            hint=gettext("It works until the end of that day (UTC)."),
                            md=3,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                dbc.Button(gettext("Create key"), id="people-key-create", color="primary"),
                html.Div(id="people-key-result", className="mt-3"),
            ]
        ),
        className="mb-3",
        id="people-keys-card",
    )


def _when(moment: datetime | None) -> str:
    return data.moment(moment) if moment else ""


def grant_text(grant: dict) -> str:
    """A grant as a whole phrase of the reader's language (one per role)."""
    role = grant["role"]
    if role == "admin":
        return gettext("admin")
    if role == "reporter":
        return gettext(
            "reporter for %(organisation)s in %(initiative)s",
            organisation=grant["organisation"],
            initiative=grant["initiative"],
        )
    if role == "backbone":
        return gettext("backbone of %(initiative)s", initiative=grant["initiative"])
    if role == "funder":
        return gettext("funder of %(initiative)s", initiative=grant["initiative"])
    return f"{role} · {grant['initiative']}"


def status_of(person: dict) -> str:
    """The account's state, a code: ``active``, ``deactivated`` or ``invitation pending``."""
    if not person["is_active"]:
        return "deactivated"
    if person.get("invitation_pending"):
        return "invitation pending"
    return "active"


def status_text(status: str) -> str:
    """:func:`status_of` in the reader's language."""
    names = {
        "active": gettext("active"),
        "deactivated": gettext("deactivated"),
        "invitation pending": gettext("invitation pending"),
    }
    return names.get(status, status)


def key_state(state: str) -> str:
    """An API key's state in the reader's language."""
    names = {
        "active": gettext("active"),
        "expired": gettext("expired"),
        "revoked": gettext("revoked"),
    }
    return names.get(state, state)


def user_rows(people: list[dict]) -> list[dict]:
    return [
        {
            "id": p["id"],
            "email": p["email"],
            "name": p["name"] or "",
            "status": status_of(p),
            "status_text": status_text(status_of(p)),
            "grants": "; ".join(grant_text(g) for g in p["grants"]),
        }
        for p in people
    ]


def _scope_text(scope: str, name: str) -> str:
    """What a key acts for: an initiative or an organisation, and its name."""
    if scope == "initiative":
        return gettext("initiative · %(name)s", name=name)
    if scope == "organisation":
        return gettext("organisation · %(name)s", name=name)
    return f"{scope} · {name}"


def key_rows(keys: list[dict]) -> list[dict]:
    return [
        {
            "id": k["id"],
            "name": k["name"],
            "prefix": f"{k['prefix']}_…",
            "scope": _scope_text(k["scope"], k["scope_name"]),
            "created_by": k["created_by"] or gettext("(deleted account)"),
            "last_used": _when(k["last_used_at"]) or gettext("never"),
            "expires": data.day(k["expires_at"]) if k["expires_at"] else gettext("never"),
            "state": k["state"],
            "state_text": key_state(k["state"]),
            "may_revoke": k["may_revoke"],
        }
        for k in keys
    ]


def _invitation_alert(made: data.InvitationLink, said: str) -> dbc.Alert:
    """``said`` (what was done, a whole sentence) and the link, shown once."""
    return shown_once(
        "people-invitation-link",
        made.link,
        html.Div([said + " ", html.Strong(gettext("Copy the link now:"))]),
        html.Div(
            gettext(
                "It is shown only this once, works once, and expires on %(moment)s. Give it to "
                "the person: no e-mail is sent.",
                moment=data.moment(made.expires_at),
            ),
            className="small",
        ),
    )


def _detail(person: dict, stored: dict, initiative: str | None) -> html.Div:
    badge_colour = {"active": "success", "deactivated": "secondary"}.get(
        status_of(person), "warning"
    )
    facts = []
    if person.get("name"):
        facts.append(person["name"])
    if person.get("created_at"):
        facts.append(gettext("since %(day)s", day=data.day(person["created_at"])))
    if person.get("manages_account"):
        last = _when(person.get("last_login_at"))
        facts.append(
            gettext("last login %(moment)s", moment=last) if last else gettext("last login never")
        )
    grants = [
        html.Li(
            [
                html.Span(grant_text(g), className="me-2"),
                dbc.Button(
                    gettext("Revoke"),
                    id={"type": "people-revoke", "grant": g["id"]},
                    color="danger",
                    outline=True,
                    size="sm",
                ),
            ],
            className="d-flex align-items-center justify-content-between mb-1",
        )
        for g in person["grants"]
    ]
    parts: list = [
        html.Div(
            [
                html.H2(person["email"], className="h5 mb-0 me-2", id="people-detail-email"),
                dbc.Badge(
                    status_text(status_of(person)), color=badge_colour, id="people-detail-status"
                ),
            ],
            className="d-flex flex-wrap align-items-center gap-2",
        ),
        html.P(" · ".join(facts), className="small text-muted mb-2"),
        html.H3(gettext("Grants you manage"), className="h6 mt-2"),
        html.Ul(grants, className="list-unstyled mb-2", id="people-grants")
        if grants
        else html.P(gettext("None."), className="small text-muted"),
        html.H3(gettext("Add a grant"), className="h6 mt-3"),
        dbc.Row(_grant_form("people-grant", stored, initiative, narrow=True), className="g-2 mb-2"),
        dbc.Button(gettext("Add grant"), id="people-grant-add", color="primary", size="sm"),
        html.H3(gettext("Account"), className="h6 mt-4"),
    ]
    if not person.get("manages_account"):
        parts.append(
            html.P(
                gettext(
                    "This person also works outside the initiatives you manage: only an admin "
                    "may deactivate the account or reset its password. Revoke the grants you "
                    "manage instead."
                ),
                className="small text-muted",
                id="people-account-elsewhere",
            )
        )
        return html.Div(parts)
    buttons = [
        dbc.Button(
            gettext("Deactivate") if person["is_active"] else gettext("Reactivate"),
            # One of the two at a time: a pattern id, so the callback needs neither to exist.
            id={"type": "people-active", "set": "off" if person["is_active"] else "on"},
            color="warning" if person["is_active"] else "success",
            outline=True,
            size="sm",
        )
    ]
    if person.get("invitation_pending") and person["is_active"]:
        buttons.append(
            dbc.Button(
                gettext("New invitation link"),
                id="people-renew",
                color="secondary",
                outline=True,
                size="sm",
            )
        )
    parts += [
        html.Div(buttons, className="d-flex gap-2 mb-3"),
        dbc.Row(
            [
                field(
                    gettext("New password"),
                    dbc.Input(
                        id="people-reset-password", type="password", autoComplete="new-password"
                    ),
                    hint=gettext(
                        "At least 12 characters. Their sessions end and their API keys are revoked."
                    ),
                    md=8,
                ),
                dbc.Col(
                    dbc.Button(
                        gettext("Reset password"),
                        id="people-reset",
                        color="danger",
                        outline=True,
                        size="sm",
                    ),
                    md=4,
                    className="d-flex align-items-start pt-md-4",
                ),
            ],
            className="g-2",
        ),
    ]
    return html.Div(parts)


def _selected_initiative(initiative: str | None) -> str | None:
    return None if initiative in (None, "", data.ALL_PEOPLE) else initiative


# --- callbacks: the list and the selected person ------------------------------------------------


@callback(
    Output("people-users", "rowData"),
    Output("people-count", "children"),
    Output("people-feedback", "children"),
    Input("people-initiative", "value"),
    Input("people-refresh", "data"),
)
def people_list(initiative, _refresh):
    """The users the domain lets this user manage (for one initiative, or all)."""
    try:
        found = data.people(initiative)
    except DomainError as exc:
        return [], None, error_alert(exc, what=gettext("That initiative"))
    shown = len(found.users)
    if shown < found.total:
        count = ngettext(
            "%(n)s person (the first %(shown)s by e-mail)",
            "%(n)s people (the first %(shown)s by e-mail)",
            found.total,
            shown=shown,
        )
    else:
        count = ngettext("%(n)s person", "%(n)s people", found.total)
    return user_rows(found.users), count, None


@callback(
    Output("people-users", "dashGridOptions"),
    Input("people-search", "value"),
    prevent_initial_call=True,
)
def people_search(text):
    return {**GRID_OPTIONS, "quickFilterText": text or ""}


@callback(
    Output("people-selected", "data"),
    Input("people-users", "selectedRows"),
    prevent_initial_call=True,
)
def people_select(rows):
    """Keep the last person picked: the list reloads after a change, the detail stays."""
    if not rows:
        return dash.no_update
    return rows[0].get("id")


@callback(
    Output("people-detail", "children"),
    Input("people-selected", "data"),
    Input("people-refresh", "data"),
    State("people-choices", "data"),
    State("people-initiative", "value"),
    prevent_initial_call=True,
)
def people_detail(user_id, _refresh, stored, initiative):
    if not user_id:
        return dash.no_update
    try:
        person = data.person(int(user_id))
    except (DomainError, TypeError, ValueError) as exc:
        return error_alert(exc, what=gettext("That person"))
    return _detail(person, stored or {}, _selected_initiative(initiative))


def _link_organisations(prefix: str) -> None:
    """The organisation picker follows the role and the initiative; admin grants name no
    initiative."""

    @callback(
        Output(f"{prefix}-organisation", "options"),
        Output(f"{prefix}-organisation", "value"),
        Output(f"{prefix}-organisation", "disabled"),
        Output(f"{prefix}-initiative", "disabled"),
        Input(f"{prefix}-role", "value"),
        Input(f"{prefix}-initiative", "value"),
        State(f"{prefix}-organisation", "value"),
        State("people-choices", "data"),
        prevent_initial_call=True,
    )
    def follow(role, initiative, organisation, stored):
        options, disabled = organisation_options(stored, role, initiative)
        values = [o["value"] for o in options]
        keep = organisation if organisation in values else (values[0] if values else None)
        return options, keep, disabled, role == "admin"


_link_organisations("people-invite")
_link_organisations("people-grant")


def _grant_scope(role, initiative, organisation) -> tuple[str | None, str | None]:
    """What the domain is asked for: an admin grant names no scope, a reporter grant an
    organisation in an initiative, the others an initiative."""
    if role == "admin":
        return None, None
    if role == "reporter":
        return initiative or None, organisation or None
    return initiative or None, None


# --- callbacks: changing a person -----------------------------------------------------------------


def _done(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="success", dismissable=True, id="people-done")


@callback(
    Output("people-detail-feedback", "children", allow_duplicate=True),
    Output("people-refresh", "data", allow_duplicate=True),
    *error_outputs(*GRANT_FIELDS.values()),
    Input("people-grant-add", "n_clicks"),
    State("people-selected", "data"),
    State("people-grant-role", "value"),
    State("people-grant-initiative", "value"),
    State("people-grant-organisation", "value"),
    State("people-refresh", "data"),
    prevent_initial_call=True,
)
def people_add_grant(clicks, user_id, role, initiative, organisation, refresh):
    if not clicks or not user_id:
        raise PreventUpdate
    init, org = _grant_scope(role, initiative, organisation)
    try:
        person = data.add_person_grant(int(user_id), role or "", init, org)
    except DomainError as exc:
        errors, alert = field_errors(exc, GRANT_FIELDS, what=gettext("That person"))
        return alert, dash.no_update, *errors
    errors, _ = field_errors(None, GRANT_FIELDS)
    return _done(_granted(role, person["email"])), (refresh or 0) + 1, *errors


def _granted(role: str | None, email: str) -> str:
    """What granting ``role`` did, one whole sentence per role."""
    if role == "admin":
        return gettext("Granted admin to %(email)s.", email=email)
    if role == "backbone":
        return gettext("Granted backbone to %(email)s.", email=email)
    if role == "funder":
        return gettext("Granted funder to %(email)s.", email=email)
    if role == "reporter":
        return gettext("Granted reporter to %(email)s.", email=email)
    return gettext("Granted %(role)s to %(email)s.", role=role, email=email)


def _on_button(kind: str, key: str, what: Callable[[], str], refused=(DomainError,)):
    """Registers the decorated change to the person shown, ``act(button, user_id)`` (the
    message it answers), as the callback of the buttons ``{"type": kind, key: ...}`` the
    detail draws: the message shown and the list refreshed, or the refusal (``refused``)
    shown about ``what()``. Nothing happens for a button drawn but not clicked."""

    def register(act):
        @callback(
            Output("people-detail-feedback", "children", allow_duplicate=True),
            Output("people-refresh", "data", allow_duplicate=True),
            Input({"type": kind, key: ALL}, "n_clicks"),
            State("people-selected", "data"),
            State("people-refresh", "data"),
            prevent_initial_call=True,
        )
        def press(_clicks, user_id, refresh):
            button = ctx.triggered_id
            if not user_id or not isinstance(button, dict):
                raise PreventUpdate
            if not ctx.triggered or not ctx.triggered[0].get("value"):
                raise PreventUpdate  # the button was drawn, not clicked
            try:
                message = act(button, int(user_id))
            except refused as exc:
                return error_alert(exc, what=what()), dash.no_update
            return _done(message), (refresh or 0) + 1

        return act

    return register


@_on_button(
    "people-revoke", "grant", lambda: gettext("That grant"), (DomainError, TypeError, ValueError)
)
def people_revoke_grant(button: dict, user_id: int) -> str:
    person = data.revoke_person_grant(user_id, int(button["grant"]))
    return gettext("Grant revoked; %(email)s's sessions ended.", email=person["email"])


@_on_button("people-active", "set", lambda: gettext("That person"))
def people_set_active(button: dict, user_id: int) -> str:
    if button.get("set") not in ("on", "off"):
        raise PreventUpdate
    active = button["set"] == "on"
    person = data.set_person_active(user_id, active)
    if active:
        return gettext("%(email)s may log in again.", email=person["email"])
    return gettext(
        "%(email)s is deactivated: their sessions and API keys stopped.", email=person["email"]
    )


@callback(
    Output("people-detail-feedback", "children", allow_duplicate=True),
    Output("people-refresh", "data", allow_duplicate=True),
    *error_outputs(*PASSWORD_FIELDS.values()),
    Input("people-reset", "n_clicks"),
    State("people-selected", "data"),
    State("people-reset-password", "value"),
    State("people-refresh", "data"),
    prevent_initial_call=True,
)
def people_reset_password(clicks, user_id, password, refresh):
    if not clicks or not user_id:
        raise PreventUpdate
    try:
        revoked = data.reset_person_password(int(user_id), password or "")
    except DomainError as exc:
        errors, alert = field_errors(exc, PASSWORD_FIELDS, what=gettext("That person"))
        return alert, dash.no_update, *errors
    errors, _ = field_errors(None, PASSWORD_FIELDS)
    if revoked:
        message = ngettext(
            "Password reset: their sessions ended, %(n)s API key revoked. Give them the new "
            "password.",
            "Password reset: their sessions ended, %(n)s API keys revoked. Give them the new "
            "password.",
            revoked,
        )
    else:
        message = gettext(
            "Password reset: their sessions ended, no API keys. Give them the new password."
        )
    return _done(message), (refresh or 0) + 1, *errors


@callback(
    Output("people-detail-feedback", "children", allow_duplicate=True),
    Input("people-renew", "n_clicks"),
    State("people-selected", "data"),
    prevent_initial_call=True,
)
def people_renew_invitation(clicks, user_id):
    if not clicks or not user_id:
        raise PreventUpdate
    try:
        made = data.renew_person_invitation(int(user_id))
    except DomainError as exc:
        return error_alert(exc, what=gettext("That person"))
    return _invitation_alert(made, gettext("New invitation link for %(email)s.", email=made.email))


# --- callbacks: invitations ---------------------------------------------------------------------


@callback(
    Output("people-invite-result", "children"),
    Output("people-refresh", "data", allow_duplicate=True),
    Output("people-invite-email", "value"),
    Output("people-invite-name", "value"),
    *error_outputs(*INVITE_FIELDS.values()),
    Input("people-invite-send", "n_clicks"),
    State("people-invite-email", "value"),
    State("people-invite-name", "value"),
    State("people-invite-role", "value"),
    State("people-invite-initiative", "value"),
    State("people-invite-organisation", "value"),
    State("people-refresh", "data"),
    prevent_initial_call=True,
)
def people_invite(clicks, email, name, role, initiative, organisation, refresh):
    if not clicks:
        raise PreventUpdate
    if not (email or "").strip():
        errors, _ = field_errors(
            data.InvalidInput(gettext("give the person's e-mail address"), field="email"),
            INVITE_FIELDS,
        )
        return None, dash.no_update, dash.no_update, dash.no_update, *errors
    init, org = _grant_scope(role, initiative, organisation)
    try:
        made = data.invite_person(email, role or "", init, org, (name or "").strip() or None)
    except DomainError as exc:
        errors, alert = field_errors(exc, INVITE_FIELDS)
        return alert, dash.no_update, dash.no_update, dash.no_update, *errors
    errors, _ = field_errors(None, INVITE_FIELDS)
    invited = _invitation_alert(made, gettext("Invited %(email)s.", email=made.email))
    return invited, (refresh or 0) + 1, "", "", *errors


# --- callbacks: API keys ------------------------------------------------------------------------


@callback(
    Output("people-keys", "rowData"),
    Output("people-keys-feedback", "children"),
    Input("people-keys-refresh", "data"),
)
def people_keys(_refresh):
    try:
        return key_rows(data.api_keys()), None
    except DomainError as exc:
        return [], error_alert(exc)


@callback(
    Output("people-key-revoke", "disabled"),
    Input("people-keys", "selectedRows"),
)
def people_key_selected(rows):
    return not (rows and rows[0].get("may_revoke") and rows[0].get("state") != "revoked")


@callback(
    Output("people-keys-feedback", "children", allow_duplicate=True),
    Output("people-keys-refresh", "data", allow_duplicate=True),
    Output("people-keys", "selectedRows"),
    Input("people-key-revoke", "n_clicks"),
    State("people-keys", "selectedRows"),
    State("people-keys-refresh", "data"),
    prevent_initial_call=True,
)
def people_revoke_key(clicks, rows, refresh):
    if not clicks or not rows:
        raise PreventUpdate
    try:
        data.revoke_api_key(int(rows[0]["id"]))
    except (DomainError, KeyError, TypeError, ValueError) as exc:
        return error_alert(exc, what=gettext("That key")), dash.no_update, dash.no_update
    message = gettext(
        "Key %(name)s revoked: it stops working with its next request.", name=rows[0].get("name")
    )
    return _done(message), (refresh or 0) + 1, []


def expiry(text: str | None) -> datetime | None:
    """The end (UTC) of the day picked, or None; InvalidInput for anything but a date."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise data.InvalidInput(
            gettext("give a date, e.g. 2027-01-31"), field="expires_at"
        ) from None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


@callback(
    Output("people-key-result", "children"),
    Output("people-keys-refresh", "data", allow_duplicate=True),
    Output("people-key-name", "value"),
    *error_outputs(*KEY_FIELDS.values()),
    Input("people-key-create", "n_clicks"),
    State("people-key-name", "value"),
    State("people-key-scope", "value"),
    State("people-key-expires", "value"),
    State("people-keys-refresh", "data"),
    prevent_initial_call=True,
)
def people_create_key(clicks, name, scope, expires, refresh):
    if not clicks:
        raise PreventUpdate
    kind, _, slug = (scope or "").partition(":")
    try:
        if not (name or "").strip():
            raise data.InvalidInput(gettext("give the key a name you will recognise"), field="name")
        if kind not in ("initiative", "organisation") or not slug:
            raise data.InvalidInput(gettext("choose what the key acts for"), field="scope")
        _prefix, secret = data.create_api_key(
            name.strip(),
            slug if kind == "initiative" else None,
            slug if kind == "organisation" else None,
            expiry(expires),
        )
    except DomainError as exc:
        if exc.field in ("initiative", "organisation"):
            exc.field = "scope"
        errors, alert = field_errors(exc, KEY_FIELDS)
        return alert, dash.no_update, dash.no_update, *errors
    errors, _ = field_errors(None, KEY_FIELDS)
    shown = shown_once(
        "people-key-secret",
        secret,
        html.Div(
            [
                gettext("Key %(name)s created.", name=name.strip()) + " ",
                html.Strong(gettext("Copy its secret now:")),
            ]
        ),
        html.Div(
            gettext(
                "It is shown only this once; we keep only a hash of it. Send it as "
                "'Authorization: Bearer …'."
            ),
            className="small",
        ),
    )
    return shown, (refresh or 0) + 1, "", *errors


sync_url("people", "initiative")
