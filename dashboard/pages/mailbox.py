"""The admin's mailbox: the mail delivered locally (no ``CM_SMTP_URL``, README "Notifications"),
the outbox's messages that have not gone out, failed ones with their last error, and the latest
bounces the mail server handed in.

A selected mail's text is shown as text and its HTML in a sandboxed frame that runs no script
and reaches nothing of this site, so a message can show what it says and do nothing else.
Anyone but an admin reads "not allowed"; the domain refuses their callbacks too.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components.common import error_alert, login_redirect
from dashboard.components.mail import PICK, message_view
from dashboard.components.page import frame
from dashboard.data import DomainError

dash.register_page(
    __name__, path="/admin/mailbox", title="Mailbox · Common Measure", name="Mailbox"
)

NOT_ALLOWED = "The mailbox and the outbox are for administrators."

MAIL_COLUMNS = [
    {"field": "at", "headerName": "Received", "width": 190},
    {"field": "to", "headerName": "To", "flex": 1, "minWidth": 160},
    {"field": "subject", "headerName": "Subject", "flex": 2, "minWidth": 200},
]
OUTBOX_COLUMNS = [
    {"field": "status", "headerName": "Status", "width": 110},
    {"field": "kind", "headerName": "Kind", "width": 150},
    {"field": "to", "headerName": "To", "flex": 1, "minWidth": 160},
    {"field": "attempts", "headerName": "Attempts", "width": 105, "type": "numericColumn"},
    {"field": "written", "headerName": "Written", "width": 190},
    {"field": "next", "headerName": "Next try", "width": 190},
    {
        "field": "last_error",
        "headerName": "Last error",
        "flex": 2,
        "minWidth": 220,
        "tooltipField": "last_error",
        "wrapText": True,
        "autoHeight": True,
    },
]

BOUNCE_COLUMNS = [
    {"field": "received", "headerName": "Bounced", "width": 190},
    {"field": "kind", "headerName": "Kind", "width": 150},
    {"field": "recipient", "headerName": "To", "flex": 1, "minWidth": 160},
    {"field": "status", "headerName": "Status", "width": 100},
    {"field": "held", "headerName": "Mail to it", "width": 200, "tooltipField": "held"},
    {
        "field": "diagnostic",
        "headerName": "Diagnostic",
        "flex": 2,
        "minWidth": 220,
        "tooltipField": "diagnostic",
        "wrapText": True,
        "autoHeight": True,
    },
]


def _grid(ident: str, columns: list[dict], **options) -> dag.AgGrid:
    return dag.AgGrid(
        id=ident,
        rowData=[],
        columnDefs=columns,
        defaultColDef={"resizable": True, "sortable": True, "filter": True},
        getRowId="params.data.id",
        dashGridOptions={
            "domLayout": "autoHeight",
            "pagination": True,
            "paginationPageSize": 20,
            "tooltipShowDelay": 300,
            **options,
        },
        className="ag-theme-alpine cm-grid",
    )


def layout(**_):
    viewer = data.whoami()
    if not viewer.logged_in:
        return login_redirect("/admin/mailbox")
    if not viewer.is_admin:
        return dbc.Alert(NOT_ALLOWED, color="danger", id="mailbox-not-allowed")
    return frame(
        "mailbox",
        "Mailbox",
        "Mail delivered here while no SMTP server is configured, and every message that has "
        "not gone out yet: failed ones with the last error, the others waiting for their turn.",
        html.Div(id="mailbox-feedback"),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.H2("Local mailbox", className="h5"),
                        html.P(id="mailbox-count", className="small text-muted mb-2"),
                        _grid(
                            "mailbox-grid",
                            MAIL_COLUMNS,
                            rowSelection={
                                "mode": "singleRow",
                                "checkboxes": False,
                                "enableClickSelection": True,
                            },
                        ),
                    ],
                    lg=7,
                ),
                dbc.Col(
                    dbc.Card(dbc.CardBody(html.Div(PICK, id="mailbox-message")), className="h-100"),
                    lg=5,
                ),
            ],
            className="g-3 mb-4",
        ),
        html.H2("Not delivered", className="h5"),
        html.P(
            "Failed messages stay here with their last error; pending ones are retried with "
            "a growing delay.",
            className="small text-muted mb-2",
        ),
        _grid("mailbox-outbox", OUTBOX_COLUMNS),
        html.H2("Bounced", className="h5 mt-4"),
        html.P(
            "Sent, then reported undeliverable by the mail server (README, Notifications: "
            "Bounces), newest first.",
            className="small text-muted mb-2",
        ),
        _grid("mailbox-bounces", BOUNCE_COLUMNS),
        html.H3("Mail an address again", className="h6 mt-3"),
        html.P(
            "A hard bounce (status 5.x.x) holds every later mail to its address, each shown as "
            "skipped with the reason. Once its owner says the mailbox works again, clear it.",
            className="small text-muted mb-2",
            id="mailbox-held-help",
        ),
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Held address", html_for="mailbox-held", className="small"),
                        dcc.Dropdown(
                            id="mailbox-held",
                            options=[],
                            placeholder="No address is held",
                        ),
                    ],
                    md=6,
                ),
                dbc.Col(
                    dbc.Button("Mail it again", id="mailbox-clear", color="primary"),
                    md="auto",
                    className="d-flex align-items-end",
                ),
            ],
            className="g-2 mb-2",
        ),
        html.Div(id="mailbox-clear-feedback", role="status"),
    )


def mail_rows(mails: list[data.MailView]) -> list[dict]:
    return [
        {
            "id": m.id,
            "at": data.moment(m.at),
            "to": m.to,
            "subject": m.subject,
            "text": m.text,
            "html": m.html,
        }
        for m in mails
    ]


def outbox_rows(messages: list[data.OutboxView]) -> list[dict]:
    return [
        {
            "id": m.id,
            "status": m.status,
            "kind": m.kind,
            "to": m.to,
            "attempts": m.attempts,
            "written": data.moment(m.created_at),
            "next": data.moment(m.available_at) if m.status != "failed" else "—",
            "last_error": m.last_error or "",
        }
        for m in messages
    ]


def bounce_rows(bounces: list[data.BounceView]) -> list[dict]:
    return [
        {
            "id": b.id,
            "received": data.moment(b.received_at),
            "kind": b.kind or "",
            "recipient": b.recipient,
            "status": b.status,
            "held": (
                "held until cleared"
                if b.holds
                else f"cleared {data.moment(b.cleared_at)}"
                if b.cleared_at
                else ""
            ),
            "diagnostic": b.diagnostic or "",
        }
        for b in bounces
    ]


def held_options(bounces: list[data.BounceView]) -> list[dict]:
    """The addresses a hard bounce holds, each once."""
    held = sorted({b.recipient for b in bounces if b.holds})
    return [{"label": address, "value": address} for address in held]


@callback(
    Output("mailbox-grid", "rowData"),
    Output("mailbox-count", "children"),
    Output("mailbox-outbox", "rowData"),
    Output("mailbox-feedback", "children"),
    Output("mailbox-bounces", "rowData"),
    Output("mailbox-held", "options"),
    Input("mailbox-grid", "id"),
)
def mailbox_view(_ident):
    """Admin only: the domain refuses anyone else before anything is read."""
    try:
        mails, total = data.mailbox()
        pending = data.undelivered()
        bounced = data.bounces()
    except DomainError as exc:
        return [], None, [], error_alert(exc), [], []
    shown = len(mails)
    count = f"{total} mail{'s' if total != 1 else ''}" + (
        f", the newest {shown} shown" if shown < total else ""
    )
    return (
        mail_rows(mails),
        count,
        outbox_rows(pending),
        None,
        bounce_rows(bounced),
        held_options(bounced),
    )


@callback(
    Output("mailbox-clear-feedback", "children"),
    Output("mailbox-bounces", "rowData", allow_duplicate=True),
    Output("mailbox-held", "options", allow_duplicate=True),
    Output("mailbox-held", "value"),
    Input("mailbox-clear", "n_clicks"),
    State("mailbox-held", "value"),
    prevent_initial_call=True,
)
def mailbox_clear(_clicks, address):
    """Clear the chosen address's hard bounces (admin only: the domain refuses anyone else)."""
    if not address:
        alert = dbc.Alert("Choose a held address first.", color="warning", className="small")
        return alert, dash.no_update, dash.no_update, dash.no_update
    try:
        cleared = data.clear_bounces(address)
        bounced = data.bounces()
    except DomainError as exc:
        return error_alert(exc), dash.no_update, dash.no_update, dash.no_update
    alert = dbc.Alert(
        f"Mail to {address} goes out again ({cleared} bounce{'s' if cleared != 1 else ''} "
        "cleared).",
        color="success",
        className="small",
    )
    return alert, bounce_rows(bounced), held_options(bounced), None


@callback(Output("mailbox-message", "children"), Input("mailbox-grid", "selectedRows"))
def mailbox_message(selected):
    return message_view(selected[0] if selected else None)
