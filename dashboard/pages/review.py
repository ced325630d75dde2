"""Review queue: the backbone team approves submitted reports or returns them with a comment.

Only backbone staff (and admins) get data here: the data seam asks the domain for the
initiative with ``manage=True``, so a reporter's or funder's request, or a forged callback, is
refused before any submission is read.
"""

from __future__ import annotations

from collections import defaultdict

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import data
from dashboard.components.common import (
    FLAG_LABELS,
    LATE,
    error_alert,
    missing_and_warnings,
    status_badge,
    sync_url,
)
from dashboard.components.entry_grid import sentence
from dashboard.components.page import enter, frame, initiative_picker, picker, pickers
from dashboard.components.periods import choose_period
from dashboard.data import DomainError

dash.register_page(
    __name__,
    path="/reporting/review",
    title="Review queue · Common Measure",
    name="Review queue",
)

NOT_ALLOWED = (
    "The review queue is for the initiative's backbone team. "
    "Your account is not allowed to review submissions."
)

QUEUE_COLUMNS = [
    {"field": "organisation_name", "headerName": "Organisation", "flex": 2, "minWidth": 200},
    {"field": "period", "headerName": "Period", "width": 100},
    {"field": "version", "headerName": "Version", "width": 100, "type": "rightAligned"},
    {"field": "submitted_at", "headerName": "Submitted", "width": 190},
    {"field": "late", "headerName": "Late", "width": 90, "headerTooltip": LATE},
]

_FORMAT = {"function": "params.value == null ? '' : d3.format(',.2~f')(params.value)"}
VALUE_COLUMNS = [
    {"field": "indicator", "headerName": "Indicator", "width": 136},
    {
        "field": "name",
        "headerName": "Name",
        "flex": 2,
        "minWidth": 170,
        "wrapText": True,
        "autoHeight": True,
    },
    {"field": "disaggregation", "headerName": "Disaggregation", "width": 150},
    *[
        {
            "field": f,
            "headerName": f.title(),
            "width": w,
            "type": "rightAligned",
            "valueFormatter": _FORMAT,
        }
        for f, w in (("value", 96), ("numerator", 108), ("denominator", 118))
    ],
    {
        "field": "note",
        "headerName": "Note",
        "flex": 1,
        "minWidth": 120,
        "wrapText": True,
        "autoHeight": True,
    },
    {
        "field": "checks",
        "headerName": "Flags",
        "flex": 1,
        "minWidth": 140,
        "cellDataType": False,
        "cellRenderer": "CheckBadges",
        "autoHeight": True,
        "wrapText": True,
        "sortable": False,
    },
]


def layout(initiative: str | None = None, period: str | None = None, **_):
    entry = enter(
        "/reporting/review",
        "review",
        data.review_workspaces,
        NOT_ALLOWED,
        initiative=initiative,
        period=period,
    )
    if entry.instead is not None:
        return entry.instead
    try:
        period_options, period = choose_period(entry.slug, period)
    except DomainError as exc:
        return error_alert(exc)
    queue = dag.AgGrid(
        id="review-queue",
        rowData=[],
        columnDefs=QUEUE_COLUMNS,
        defaultColDef={"resizable": True, "sortable": True},
        getRowId="params.data.id",
        dashGridOptions={
            "domLayout": "autoHeight",
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
        },
        className="ag-theme-alpine cm-grid mb-2",
    )
    actions = dbc.Card(
        dbc.CardBody(
            [
                dbc.Label("Comment to the partner (needed to return)", html_for="review-comment"),
                dbc.Textarea(
                    id="review-comment",
                    rows=2,
                    placeholder="What should the partner check or fix?",
                    className="mb-2",
                ),
                html.Div(
                    [
                        dbc.Button("Approve", id="review-approve", color="success", disabled=True),
                        dbc.Button(
                            "Return with comment",
                            id="review-return",
                            color="warning",
                            disabled=True,
                        ),
                    ],
                    className="d-flex gap-2",
                ),
            ]
        ),
        className="mb-3",
    )
    return frame(
        "review",
        "Review queue",
        "Submitted reports waiting for the backbone team. Select one to see its "
        "values and flags, then approve it or return it to the partner with a comment.",
        pickers(
            initiative_picker("review", entry, md=6),
            picker(
                "Period",
                "review-period",
                period_options,
                period,
                md=6,
                placeholder="All periods",
            ),
        ),
        html.Div(id="review-feedback"),
        html.Div(id="review-queue-count", className="small text-muted mb-1"),
        queue,
        html.Div(id="review-detail", className="mt-3"),
        actions,
        dcc.Store(id="review-selected"),
        dcc.Store(id="review-refresh", data=0),
    )


# --- pieces ---------------------------------------------------------------------------------


def queue_rows(items: list[data.QueueItem]) -> list[dict]:
    return [
        {
            "id": f"{item.organisation}|{item.period}",
            "organisation": item.organisation,
            "organisation_name": item.organisation_name,
            "period": item.period,
            "version": item.version,
            "submitted_at": item.submitted_at,
            "late": "late" if item.is_late else "",
        }
        for item in items
    ]


def value_rows(detail: data.ReviewDetail) -> list[dict]:
    sub = detail.submission
    messages: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for w in sub.warnings:
        messages[(w.indicator, w.disaggregation)][w.code] = w.message
    order = {code: n for n, code in enumerate(dict.fromkeys(v.indicator for v in sub.values))}
    ordered = sorted(
        sub.values,
        key=lambda v: (order[v.indicator], v.disaggregation != "total", v.disaggregation),
    )
    rows = []
    for v in ordered:
        found = messages[(v.indicator, v.disaggregation)]
        flags = sorted(set(v.flags) | set(found))
        rows.append(
            {
                "id": f"{v.indicator}|{v.disaggregation}",
                "indicator": v.indicator,
                "name": detail.indicator_names.get(v.indicator, "")
                if v.disaggregation == "total"
                else "",
                "disaggregation": v.disaggregation,
                "value": v.value,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "note": v.note or "",
                "checks": [
                    {
                        "kind": "warning",
                        "label": FLAG_LABELS.get(f, f),
                        "message": found.get(f, f),
                    }
                    for f in flags
                ],
            }
        )
    return rows


def _detail(detail: data.ReviewDetail) -> html.Div:
    sub = detail.submission
    flagged = sum(1 for row in sub.values if row.flags)
    header = html.Div(
        [
            html.H2(f"{detail.organisation_name} · {sub.period}", className="h5 mb-0 me-2"),
            status_badge(sub.status, id="review-detail-status"),
            html.Span(f"version {sub.version}", className="small text-muted"),
            dbc.Badge("late", color="danger", title=LATE) if sub.is_late else None,
            html.Span(f"{len(sub.values)} values, {flagged} flagged", className="small text-muted"),
            html.Span(_submitted(sub), className="small text-muted") if sub.submitted_at else None,
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )
    parts: list = [header, *missing_and_warnings(sub, missing_label="Not reported: ")]
    if sub.status == "submitted" and detail.send_back:
        parts.append(
            dbc.Alert(
                [html.Strong("It cannot be returned now. "), sentence(detail.send_back)],
                color="warning",
                className="small py-2",
                id="review-cannot-return",
            )
        )
    parts.append(
        dag.AgGrid(
            id="review-values",
            rowData=value_rows(detail),
            columnDefs=VALUE_COLUMNS,
            defaultColDef={"resizable": True, "sortable": True},
            getRowId="params.data.id",
            dashGridOptions={"domLayout": "autoHeight"},
            csvExportParams={"fileName": f"{sub.initiative}-{sub.organisation}-{sub.period}.csv"},
            className="ag-theme-alpine cm-grid mb-3",
        )
    )
    return html.Div(parts, id="review-detail-body")


def _submitted(sub) -> str:
    """When the report was submitted; the first time too when it came back since (its
    lateness is the first submission's)."""
    text = f"submitted {data.moment(sub.submitted_at)}"
    first = sub.first_submitted_at
    if first is not None and data.moment(first) != data.moment(sub.submitted_at):
        text += f", first on {data.day(first)}"
    return text


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("review-period", "options"),
    Output("review-period", "value"),
    Input("review-initiative", "value"),
    State("review-period", "value"),
    prevent_initial_call=True,
)
def _choose_initiative(initiative, period):
    try:
        return choose_period(initiative, period)
    except DomainError:
        return [], None


@callback(
    Output("review-queue", "rowData"),
    Output("review-queue-count", "children"),
    Output("review-feedback", "children", allow_duplicate=True),
    Input("review-initiative", "value"),
    Input("review-period", "value"),
    Input("review-refresh", "data"),
    prevent_initial_call="initial_duplicate",
)
def review_queue(initiative, period, _refresh):
    """The submitted reports of the initiative (and period): backbone staff only."""
    if not initiative:
        return [], None, None
    try:
        items = data.review_queue(initiative, period)
    except DomainError as exc:
        return [], None, error_alert(exc, what="That initiative")
    count = f"{len(items)} report{'s' if len(items) != 1 else ''} waiting for review"
    return queue_rows(items), count, dash.no_update


@callback(
    Output("review-detail", "children"),
    Output("review-selected", "data"),
    Output("review-approve", "disabled"),
    Output("review-return", "disabled"),
    Input("review-queue", "selectedRows"),
    State("review-initiative", "value"),
)
def review_selection(selected, initiative):
    if not selected or not initiative:
        return (
            html.P("Select a report in the queue to review it.", className="text-muted small"),
            None,
            True,
            True,
        )
    row = selected[0]
    try:
        detail = data.review_detail(initiative, row.get("organisation"), row.get("period"))
    except DomainError as exc:
        return error_alert(exc, what="That report"), None, True, True
    sub = detail.submission
    chosen = {
        "initiative": initiative,
        "organisation": sub.organisation,
        "name": detail.organisation_name,
        "period": sub.period,
        "version": sub.version,
    }
    waiting = sub.status == "submitted"
    return _detail(detail), chosen, not waiting, not waiting or detail.send_back is not None


@callback(
    Output("review-feedback", "children"),
    Output("review-refresh", "data"),
    Output("review-comment", "value"),
    Output("review-queue", "selectedRows"),
    Input("review-approve", "n_clicks"),
    Input("review-return", "n_clicks"),
    State("review-selected", "data"),
    State("review-comment", "value"),
    State("review-refresh", "data"),
    prevent_initial_call=True,
)
def review_decide(_approve, _return, chosen, comment, refresh):
    if not chosen or ctx.triggered_id not in ("review-approve", "review-return"):
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    action = "approve" if ctx.triggered_id == "review-approve" else "return"
    try:
        view = data.review_decision(
            chosen["initiative"],
            chosen["organisation"],
            chosen["period"],
            action,
            comment,
            chosen.get("version"),
        )
    except DomainError as exc:
        return error_alert(exc, what="That report"), dash.no_update, dash.no_update, dash.no_update
    verb = "Approved" if action == "approve" else "Returned to the partner"
    message = dbc.Alert(
        [
            f"{verb}: {chosen.get('name') or view.organisation} · {view.period} is now ",
            status_badge(view.status),
            f" (version {view.version}).",
        ],
        color="success",
        id="review-done",
        dismissable=True,
    )
    # Deselect: the decided report leaves the queue, and its detail with it.
    return message, (refresh or 0) + 1, "", []


sync_url("review", "initiative", "period")
