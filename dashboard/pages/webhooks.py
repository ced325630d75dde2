"""Webhooks: the backbone team manages the endpoints its initiative's events are posted to
(README, Webhooks) and reads each one's delivery log.

A page of its own, linked from setup (whose tabs configure what is measured): the endpoints on
the left, select one to edit, enable or disable, rotate its secret or delete it; "New" to add
one. A secret appears only in the answer of the create or rotate that made it, in a copyable
box, and never again: not in the layout, the list, a store or any later answer. Every change
goes through ``dashboard/data.py`` to ``models/webhooks/endpoints.py``, which checks that the
user runs the initiative and each field; a refusal appears under the field it names.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.components.common import error_alert, shown_once, sync_url
from dashboard.components.field_errors import choice_field, field, mixed_errors, mixed_outputs
from dashboard.components.page import enter, frame, initiative_picker, pickers
from dashboard.data import DomainError
from models.core.i18n import gettext, ngettext

dash.register_page(
    __name__,
    path="/webhooks",
    title=lambda **_: gettext("Webhooks · Common Measure"),
    name="Webhooks",
)

# Texts are made when shown, in the reader's language (README, "Languages").


def _not_allowed() -> str:
    return gettext(
        "Webhooks are managed by the initiative's backbone team. "
        "Your account does not run any initiative's configuration."
    )


def event_labels() -> dict[str, str]:
    return {
        "report_approved": gettext("A report is approved"),
        "report_reopened": gettext("An approved report is reopened"),
        "period_published": gettext("A period is published"),
    }


# The domain's field names → this page's inputs: the text inputs get field_errors' flag and
# message, the choices (checklist, switch) only the message (``_messages``).
FIELDS = {
    "url": "webhooks-url",
    "description": "webhooks-description",
    "events": "webhooks-events",
    "enabled": "webhooks-enabled",
}
TEXT_FIELDS = ("url", "description")
CHOICE_FIELDS = ("events", "enabled")


def _endpoint_columns() -> list[dict]:
    return [
        {"field": "url", "headerName": "URL", "flex": 2, "minWidth": 220},
        {
            "field": "description",
            "headerName": gettext("Description"),
            "flex": 1,
            "minWidth": 140,
        },
        {"field": "events_shown", "headerName": gettext("Events"), "flex": 1, "minWidth": 160},
        {"field": "state", "headerName": gettext("State"), "width": 100},
        {
            "field": "secret_set_at",
            "headerName": gettext("Secret set"),
            "width": 190,
            "sortable": False,
        },
        {"field": "last", "headerName": gettext("Last delivery"), "flex": 1, "minWidth": 180},
    ]


def _delivery_columns() -> list[dict]:
    return [
        {"field": "at", "headerName": gettext("Time"), "width": 190, "sortable": False},
        {"field": "event_text", "headerName": gettext("Event"), "width": 140},
        {"field": "attempt", "headerName": gettext("Try"), "width": 70, "type": "rightAligned"},
        {
            "field": "result",
            "headerName": gettext("Status or error"),
            "flex": 1,
            "minWidth": 150,
        },
        {"field": "duration_ms", "headerName": "ms", "width": 80, "type": "rightAligned"},
        {"field": "outcome_text", "headerName": gettext("Outcome"), "width": 105},
    ]


SINGLE = {"rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}}


def _grid(ident: str, columns: list[dict], height: str, **options) -> dag.AgGrid:
    return dag.AgGrid(
        id=ident,
        rowData=[],
        columnDefs=columns,
        defaultColDef={"resizable": True, "sortable": True},
        getRowId="params.data.id",
        dashGridOptions=options,
        style={"height": height},
        className="ag-theme-alpine cm-grid mb-2",
    )


def _form() -> html.Div:
    return html.Div(
        [
            html.H2(gettext("New endpoint"), className="h6", id="webhooks-heading"),
            dbc.Row(
                [
                    field(
                        "URL",
                        dbc.Input(id="webhooks-url", placeholder="https://example.org/hooks"),
                        hint=gettext(
                            "https://; private and local addresses are refused unless the server "
                            "allows them (README, Webhooks)."
                        ),
                        md=12,
                    ),
                    field(gettext("Description"), dbc.Input(id="webhooks-description"), md=12),
                    choice_field(
                        gettext("Events"),
                        dbc.Checklist(
                            id="webhooks-events",
                            options=[
                                {"label": event_labels().get(e, e), "value": e}
                                for e in data.WEBHOOK_EVENTS
                            ],
                            value=list(data.WEBHOOK_EVENTS),
                        ),
                        md=8,
                    ),
                    choice_field(
                        gettext("Enabled"),
                        dbc.Switch(id="webhooks-enabled", value=True, label=gettext("Deliver")),
                        md=4,
                    ),
                ],
                className="g-2 mb-2",
            ),
            html.Div(
                [
                    dbc.Button(gettext("Save"), id="webhooks-save", color="primary", size="sm"),
                    dbc.Button(
                        gettext("New"),
                        id="webhooks-new",
                        color="secondary",
                        outline=True,
                        size="sm",
                    ),
                    dbc.Button(
                        gettext("Disable"),
                        id="webhooks-toggle",
                        color="warning",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                    dbc.Button(
                        gettext("Rotate secret"),
                        id="webhooks-rotate",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                    dcc.ConfirmDialogProvider(
                        dbc.Button(
                            gettext("Delete"),
                            id="webhooks-delete-button",
                            color="danger",
                            outline=True,
                            size="sm",
                            disabled=True,
                        ),
                        id="webhooks-delete",
                        message=gettext(
                            "Delete this endpoint and its delivery log? It gets no more events."
                        ),
                    ),
                ],
                className="d-flex flex-wrap gap-2",
            ),
        ]
    )


def layout(initiative: str | None = None, **_):
    entry = enter(
        "/webhooks", "webhooks", data.review_workspaces, _not_allowed(), initiative=initiative
    )
    if entry.instead is not None:
        return entry.instead
    return frame(
        "webhooks",
        gettext("Webhooks"),
        [
            gettext(
                "Endpoints your initiative's events are posted to, each signed with its "
                "secret. Select one to change it or read its delivery log."
            )
            + " ",
            dcc.Link(gettext("Back to setup"), href="/setup"),
        ],
        pickers(initiative_picker("webhooks", entry, md=6)),
        html.Div(id="webhooks-feedback"),
        html.Div(id="webhooks-secret"),
        html.Div(id="webhooks-count", className="small text-muted mb-1"),
        _grid("webhooks-grid", _endpoint_columns(), "240px", **SINGLE),
        dbc.Row(
            [
                dbc.Col(_form(), lg=5),
                dbc.Col(
                    [
                        html.H2(gettext("Delivery log"), className="h6"),
                        html.Div(id="webhooks-log-note", className="small text-muted mb-1"),
                        _grid("webhooks-deliveries", _delivery_columns(), "340px"),
                    ],
                    lg=7,
                ),
            ],
            className="g-4 mt-1",
        ),
        dcc.Store(id="webhooks-selected"),
        dcc.Store(id="webhooks-refresh", data=0),
    )


def outcome_text(outcome: str | None) -> str:
    """A delivery's outcome as the reader's language says it."""
    names = {
        "delivered": gettext("delivered"),
        "failed": gettext("failed"),
        "retrying": gettext("retrying"),
    }
    return names.get(outcome or "", outcome or "")


def _row(found: dict) -> dict:
    if found["last_outcome"]:
        last = gettext(
            "%(outcome)s · %(at)s", outcome=outcome_text(found["last_outcome"]), at=found["last_at"]
        )
    else:
        last = gettext("none yet")
    return {
        **found,
        "events_shown": "; ".join(event_labels().get(e, e) for e in found["events"]),
        "state": gettext("enabled") if found["enabled"] else gettext("disabled"),
        "last": last,
    }


def _messages(exc: DomainError | None) -> tuple[list, html.Div | None]:
    """The values of the save's message outputs and an alert for an error naming no field of
    the form."""
    return mixed_errors(exc, FIELDS, TEXT_FIELDS, CHOICE_FIELDS, what=gettext("That endpoint"))


def _done(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="py-2")


def _secret(said: str, secret: str) -> dbc.Alert:
    """``said`` (what was done, a whole sentence) and the secret, shown once."""
    return shown_once(
        "webhooks-secret-value",
        secret,
        html.Div([said + " ", html.Strong(gettext("Copy its signing secret now:"))]),
        html.Div(
            gettext(
                "You will not see it again: it is shown only this once. Rotate the secret if it "
                "is lost."
            ),
            className="small",
        ),
    )


# --- callbacks: the list and the selection --------------------------------------------------------


@callback(
    Output("webhooks-grid", "rowData"),
    Output("webhooks-count", "children"),
    Input("webhooks-initiative", "value"),
    Input("webhooks-refresh", "data"),
)
def webhooks_list(initiative, _refresh):
    if not initiative:
        return [], None
    try:
        found = data.webhooks(initiative)
    except DomainError as exc:
        return [], error_alert(exc, what=gettext("That initiative"))
    count = ngettext("%(n)s endpoint", "%(n)s endpoints", len(found))
    return [_row(r) for r in found], count


@callback(
    Output("webhooks-selected", "data"),
    Output("webhooks-url", "value"),
    Output("webhooks-description", "value"),
    Output("webhooks-events", "value"),
    Output("webhooks-enabled", "value"),
    Output("webhooks-heading", "children"),
    Output("webhooks-grid", "selectedRows"),
    Output("webhooks-secret", "children", allow_duplicate=True),
    Input("webhooks-grid", "selectedRows"),
    Input("webhooks-new", "n_clicks"),
    Input("webhooks-initiative", "value"),
    prevent_initial_call=True,
)
def webhooks_select(rows, _new, _initiative):
    """Fill the form from the row picked (the grid's own data, already the user's), or empty
    it for a new endpoint; a secret still on show goes with the endpoint it belongs to."""
    if ctx.triggered_id == "webhooks-grid" and rows:
        row = rows[0]
        return (
            row["id"],
            row["url"],
            row.get("description"),
            row["events"],
            row["enabled"],
            gettext("Endpoint"),
            dash.no_update,
            None,
        )
    if ctx.triggered_id == "webhooks-grid":
        raise PreventUpdate
    return None, None, None, list(data.WEBHOOK_EVENTS), True, gettext("New endpoint"), [], None


@callback(
    Output("webhooks-toggle", "disabled"),
    Output("webhooks-toggle", "children"),
    Output("webhooks-rotate", "disabled"),
    Output("webhooks-delete-button", "disabled"),
    Input("webhooks-selected", "data"),
    Input("webhooks-grid", "rowData"),
)
def webhooks_buttons(selected, rows):
    row = next((r for r in rows or [] if r["id"] == selected), None)
    if row is None:
        return True, gettext("Disable"), True, True
    return False, gettext("Disable") if row["enabled"] else gettext("Enable"), False, False


@callback(
    Output("webhooks-deliveries", "rowData"),
    Output("webhooks-log-note", "children"),
    Input("webhooks-selected", "data"),
    Input("webhooks-refresh", "data"),
    State("webhooks-initiative", "value"),
)
def webhooks_log(selected, _refresh, initiative):
    if not selected or not initiative:
        return [], gettext("Select an endpoint to read its delivery log.")
    try:
        found, total = data.webhook_deliveries(initiative, int(selected))
    except (DomainError, TypeError, ValueError) as exc:
        return [], error_alert(exc, what=gettext("That endpoint"))
    if not total:
        return [], gettext("No delivery yet.")
    labels = event_labels()
    rows = [
        {
            **d,
            "outcome_text": outcome_text(d.get("outcome")),
            "event_text": labels.get(d.get("event") or "", d.get("event") or ""),
        }
        for d in found
    ]
    if len(found) < total:
        note = ngettext(
            "the latest %(shown)s of %(n)s attempt, newest first",
            "the latest %(shown)s of %(n)s attempts, newest first",
            total,
            shown=len(found),
        )
    else:
        note = ngettext("%(n)s attempt, newest first", "%(n)s attempts, newest first", total)
    return rows, note


# --- callbacks: changing an endpoint ----------------------------------------------------------------


@callback(
    Output("webhooks-feedback", "children", allow_duplicate=True),
    Output("webhooks-secret", "children", allow_duplicate=True),
    Output("webhooks-refresh", "data", allow_duplicate=True),
    Output("webhooks-selected", "data", allow_duplicate=True),
    Output("webhooks-heading", "children", allow_duplicate=True),
    *mixed_outputs(FIELDS, TEXT_FIELDS, CHOICE_FIELDS),
    Input("webhooks-save", "n_clicks"),
    State("webhooks-initiative", "value"),
    State("webhooks-selected", "data"),
    State("webhooks-url", "value"),
    State("webhooks-description", "value"),
    State("webhooks-events", "value"),
    State("webhooks-enabled", "value"),
    State("webhooks-refresh", "data"),
    prevent_initial_call=True,
)
def webhooks_save(clicks, initiative, selected, url, description, events, enabled, refresh):
    """Create (nothing selected; the answer shows the secret once) or change the endpoint."""
    if not clicks or not initiative:
        raise PreventUpdate
    skip = dash.no_update
    fields = {
        "url": (url or "").strip(),
        "description": (description or "").strip() or None,
        "events": list(events or []),
        "enabled": bool(enabled),
    }
    try:
        row, secret = data.save_webhook(initiative, int(selected) if selected else None, fields)
    except DomainError as exc:
        errors, alert = _messages(exc)
        return alert, None, skip, skip, skip, *errors
    errors, _ = _messages(None)
    if secret is not None:
        shown = _secret(gettext("Endpoint added: %(url)s.", url=row["url"]), secret)
        return None, shown, (refresh or 0) + 1, row["id"], gettext("Endpoint"), *errors
    saved = _done(gettext("Saved %(url)s.", url=row["url"]))
    return saved, None, (refresh or 0) + 1, skip, skip, *errors


@callback(
    Output("webhooks-feedback", "children", allow_duplicate=True),
    Output("webhooks-secret", "children", allow_duplicate=True),
    Output("webhooks-refresh", "data", allow_duplicate=True),
    Output("webhooks-enabled", "value", allow_duplicate=True),
    Input("webhooks-toggle", "n_clicks"),
    Input("webhooks-rotate", "n_clicks"),
    State("webhooks-initiative", "value"),
    State("webhooks-selected", "data"),
    State("webhooks-enabled", "value"),
    State("webhooks-grid", "rowData"),
    State("webhooks-refresh", "data"),
    prevent_initial_call=True,
)
def webhooks_act(_toggle, _rotate, initiative, selected, enabled, rows, refresh):
    """Enable or disable the selected endpoint (as saved, whatever the form holds), or give it
    a new secret, shown once."""
    if not selected or not initiative or not (_toggle or _rotate):
        raise PreventUpdate
    skip = dash.no_update
    saved = next((r for r in rows or [] if r["id"] == selected), None)
    try:
        if ctx.triggered_id == "webhooks-rotate":
            row, secret = data.rotate_webhook_secret(initiative, int(selected))
            shown = _secret(gettext("New secret for %(url)s.", url=row["url"]), secret)
            return None, shown, (refresh or 0) + 1, skip
        now = not (saved["enabled"] if saved is not None else enabled)
        row, _ = data.save_webhook(initiative, int(selected), {"enabled": now})
    except (DomainError, TypeError, ValueError) as exc:
        return error_alert(exc, what=gettext("That endpoint")), None, skip, skip
    if row["enabled"]:
        said = gettext("%(url)s enabled.", url=row["url"])
    else:
        said = gettext("%(url)s disabled: it gets no new events.", url=row["url"])
    return _done(said), None, (refresh or 0) + 1, row["enabled"]


@callback(
    Output("webhooks-feedback", "children", allow_duplicate=True),
    Output("webhooks-secret", "children", allow_duplicate=True),
    Output("webhooks-refresh", "data", allow_duplicate=True),
    Output("webhooks-new", "n_clicks"),
    Input("webhooks-delete", "submit_n_clicks"),
    State("webhooks-initiative", "value"),
    State("webhooks-selected", "data"),
    State("webhooks-new", "n_clicks"),
    State("webhooks-refresh", "data"),
    prevent_initial_call=True,
)
def webhooks_delete(confirmed, initiative, selected, new_clicks, refresh):
    """Delete the selected endpoint once confirmed; the form empties for a new one."""
    if not confirmed or not selected or not initiative:
        raise PreventUpdate
    try:
        gone = data.delete_webhook(initiative, int(selected))
    except (DomainError, TypeError, ValueError) as exc:
        return (
            error_alert(exc, what=gettext("That endpoint")),
            None,
            dash.no_update,
            dash.no_update,
        )
    done = _done(gettext("Deleted %(url)s and its delivery log.", url=gone["url"]))
    return done, None, (refresh or 0) + 1, (new_clicks or 0) + 1


sync_url("webhooks", "initiative")
