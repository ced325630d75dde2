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
from dashboard.components.mail import message_view, pick
from dashboard.components.page import frame
from dashboard.data import DomainError
from models.core.i18n import gettext, ngettext

dash.register_page(
    __name__,
    path="/admin/mailbox",
    title=lambda **_: gettext("Mailbox · Common Measure"),
    name="Mailbox",
)

# Texts are made when shown, in the reader's language (README, "Languages").


def _mail_columns() -> list[dict]:
    return [
        {"field": "at", "headerName": gettext("Received"), "width": 190},
        {"field": "to", "headerName": gettext("To"), "flex": 1, "minWidth": 160},
        {"field": "subject", "headerName": gettext("Subject"), "flex": 2, "minWidth": 200},
    ]


def _outbox_columns() -> list[dict]:
    return [
        {"field": "status_text", "headerName": gettext("Status"), "width": 110},
        {"field": "kind_text", "headerName": gettext("Kind"), "width": 150},
        {"field": "to", "headerName": gettext("To"), "flex": 1, "minWidth": 160},
        {
            "field": "attempts",
            "headerName": gettext("Attempts"),
            "width": 105,
            "type": "numericColumn",
        },
        {"field": "written", "headerName": gettext("Written"), "width": 190},
        {"field": "next", "headerName": gettext("Next try"), "width": 190},
        {
            "field": "last_error",
            "headerName": gettext("Last error"),
            "flex": 2,
            "minWidth": 220,
            "tooltipField": "last_error",
            "wrapText": True,
            "autoHeight": True,
        },
    ]


def _bounce_columns() -> list[dict]:
    return [
        {"field": "received", "headerName": gettext("Bounced"), "width": 190},
        {"field": "kind_text", "headerName": gettext("Kind"), "width": 150},
        {"field": "recipient", "headerName": gettext("To"), "flex": 1, "minWidth": 160},
        {"field": "status", "headerName": gettext("Status"), "width": 100},
        {
            "field": "held",
            "headerName": gettext("Mail to it"),
            "width": 200,
            "tooltipField": "held",
        },
        {
            "field": "diagnostic",
            "headerName": gettext("Diagnostic"),
            "flex": 2,
            "minWidth": 220,
            "tooltipField": "diagnostic",
            "wrapText": True,
            "autoHeight": True,
        },
    ]


def outbox_status(status: str) -> str:
    """An outbox message's status in the reader's language."""
    names = {
        "pending": gettext("pending"),
        "sending": gettext("sending"),
        "sent": gettext("sent"),
        "failed": gettext("failed"),
        "skipped": gettext("skipped"),
        "held": gettext("held"),
        "bundled": gettext("bundled"),
    }
    return names.get(status, status)


def mail_kind(kind: str) -> str:
    """What a message is, in the reader's language."""
    names = {
        "report_returned": gettext("report returned"),
        "report_approved": gettext("report approved"),
        "report_reopened": gettext("report reopened"),
        "period_published": gettext("period published"),
        "invitation": gettext("invitation"),
        "reminder": gettext("reminder"),
        "digest": gettext("digest"),
        "escalation": gettext("escalation"),
        "period_opened": gettext("period opened"),
    }
    return names.get(kind, kind)


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
        return dbc.Alert(
            gettext("The mailbox and the outbox are for administrators."),
            color="danger",
            id="mailbox-not-allowed",
        )
    return frame(
        "mailbox",
        gettext("Mailbox"),
        gettext(
            "Mail delivered here while no SMTP server is configured, and every message that has "
            "not gone out yet: failed ones with the last error, the others waiting for their "
            "turn."
        ),
        html.Div(id="mailbox-feedback"),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.H2(gettext("Local mailbox"), className="h5"),
                        html.P(id="mailbox-count", className="small text-muted mb-2"),
                        _grid(
                            "mailbox-grid",
                            _mail_columns(),
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
                    dbc.Card(
                        dbc.CardBody(html.Div(pick(), id="mailbox-message")), className="h-100"
                    ),
                    lg=5,
                ),
            ],
            className="g-3 mb-4",
        ),
        html.H2(gettext("Not delivered"), className="h5"),
        html.P(
            gettext(
                "Failed messages stay here with their last error; pending ones are retried with "
                "a growing delay."
            ),
            className="small text-muted mb-2",
        ),
        _grid("mailbox-outbox", _outbox_columns()),
        html.H2(gettext("Bounced"), className="h5 mt-4"),
        html.P(
            gettext(
                "Sent, then reported undeliverable by the mail server, newest first. A hard bounce "
                "holds later mail to its address until it is cleared."
            ),
            className="small text-muted mb-2",
        ),
        _grid("mailbox-bounces", _bounce_columns()),
        html.H3(gettext("Mail an address again"), className="h6 mt-3"),
        html.P(
            gettext(
                "A hard bounce (status 5.x.x) holds every later mail to its address, each shown "
                "as skipped with the reason. Once its owner says the mailbox works again, clear "
                "it."
            ),
            className="small text-muted mb-2",
            id="mailbox-held-help",
        ),
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label(
                            gettext("Held address"), html_for="mailbox-held", className="small"
                        ),
                        dcc.Dropdown(
                            id="mailbox-held",
                            options=[],
                            placeholder=gettext("No address is held"),
                        ),
                    ],
                    md=6,
                ),
                dbc.Col(
                    dbc.Button(gettext("Mail it again"), id="mailbox-clear", color="primary"),
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
            "status_text": outbox_status(m.status),
            "kind": m.kind,
            "kind_text": mail_kind(m.kind),
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
            "kind_text": mail_kind(b.kind) if b.kind else "",
            "recipient": b.recipient,
            "status": b.status,
            "held": (
                gettext("held until cleared")
                if b.holds
                else gettext("cleared %(moment)s", moment=data.moment(b.cleared_at))
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
    if shown < total:
        count = ngettext(
            "%(n)s mail, the newest %(shown)s shown",
            "%(n)s mails, the newest %(shown)s shown",
            total,
            shown=shown,
        )
    else:
        count = ngettext("%(n)s mail", "%(n)s mails", total)
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
        alert = dbc.Alert(
            gettext("Choose a held address first."), color="warning", className="small"
        )
        return alert, dash.no_update, dash.no_update, dash.no_update
    try:
        cleared = data.clear_bounces(address)
        bounced = data.bounces()
    except DomainError as exc:
        return error_alert(exc), dash.no_update, dash.no_update, dash.no_update
    alert = dbc.Alert(
        ngettext(
            "Mail to %(address)s goes out again (%(n)s bounce cleared).",
            "Mail to %(address)s goes out again (%(n)s bounces cleared).",
            cleared,
            address=address,
        ),
        color="success",
        className="small",
    )
    return alert, bounce_rows(bounced), held_options(bounced), None


@callback(Output("mailbox-message", "children"), Input("mailbox-grid", "selectedRows"))
def mailbox_message(selected):
    return message_view(selected[0] if selected else None)
