"""Reporting: who has reported what for a period (backbone only).

A completeness heat map (members × indicators), the counts per state, the late and missing
submissions, and the values flagged for a second look, each linking to the review queue; and the
deadline extensions granted for the period (one partner's report written after it closed), next
to that partner's status and listed with their reasons.
Anyone but the backbone team (and admins) gets a "not allowed" alert: the domain refuses them.
"""

from __future__ import annotations

from collections.abc import Callable

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.development.base_component import Component

from dashboard import data, figures
from dashboard.components.charts import described_chart
from dashboard.components.common import (
    error_alert,
    flag_badge,
    page_url,
    status_badge,
    sync_url,
)
from dashboard.components.field_errors import field, field_errors
from dashboard.components.page import enter_period, follow_initiative, frame, period_pickers
from dashboard.components.tables import data_table, html_element
from dashboard.data import DomainError
from dashboard.figures import state_words
from models.core.i18n import format_number, gettext, lazy_gettext, ngettext, pgettext

dash.register_page(
    __name__,
    path="/reporting",
    title=lambda **_: gettext("Reporting · Common Measure"),
    name="Reporting",
)

NOT_ALLOWED = lazy_gettext(
    "Reporting progress is for the initiative's backbone team. "
    "Your account is not allowed to see who has reported."
)
GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
EMPTY = {
    "data": [],
    "layout": {"height": 80, "xaxis": {"visible": False}, "yaxis": {"visible": False}},
}
COUNT_COLOURS = {
    "approved": "success",
    "submitted": "primary",
    "draft": "info",
    "returned": "warning",
    "missing": "danger",
    "late": "dark",
}


def layout(initiative: str | None = None, period: str | None = None, **_):
    entry = enter_period("/reporting", "reporting", str(NOT_ALLOWED), initiative, period)
    if entry.instead is not None:
        return entry.instead
    return frame(
        "reporting",
        html.Div(
            [
                html.H1(gettext("Reporting"), className="h3 mb-1 me-auto"),
                dbc.Button(
                    gettext("Open the review queue"),
                    href=page_url("/reporting/review", initiative=entry.slug, period=entry.period),
                    color="primary",
                    outline=True,
                    size="sm",
                    id="reporting-review-link",
                ),
            ],
            className="d-flex flex-wrap align-items-center gap-2",
        ),
        gettext("Who has reported what for the period, who is late, and what was flagged."),
        period_pickers("reporting", entry, clearable=False),
        html.Div(id="reporting-feedback"),
        # A live region: the new counts are said when the period changes (WCAG 4.1.3).
        html.Div(id="reporting-counts", className="mb-3", role="status"),
        described_chart(
            dcc.Loading(
                dcc.Graph(id="reporting-heatmap", figure=EMPTY, config=GRAPH_CONFIG),
                type="dot",
                delay_show=400,
            ),
            table="none",  # the page's own table of the heat map follows
        ),
        html.Details(
            [
                html.Summary(
                    gettext("Heat map as a table"),
                    className="small",
                    id="reporting-heatmap-summary",
                ),
                html.Div(id="reporting-heatmap-table"),
            ],
            className="mb-2",
        ),
        html.Div(id="reporting-lists", className="mt-3"),
        _reminders_section(),
    )


# --- pieces ---------------------------------------------------------------------------------


def notice_columns() -> list[dict]:
    """The messages grid's columns, headed in the reader's language."""
    return [
        {"field": "partner", "headerName": gettext("Partner"), "flex": 1, "minWidth": 110},
        {
            "field": "message",
            "headerName": gettext("Message"),
            "minWidth": 215,
            "tooltipField": "message",
        },
        {"field": "to", "headerName": gettext("To"), "flex": 1, "minWidth": 150},
        {"field": "written", "headerName": gettext("Written"), "width": 200},
        {"field": "sent", "headerName": gettext("Sent"), "width": 200},
        {"field": "status", "headerName": gettext("Status"), "width": 115},
        {
            "field": "last_error",
            "headerName": gettext("Error or bounce"),
            "flex": 2,
            "minWidth": 200,
            "tooltipField": "last_error",
            "wrapText": True,
            "autoHeight": True,
        },
    ]


def kind_words(kind: str) -> str:
    """What a message was about, in the reader's language."""
    return {
        "reminder": gettext("reminder"),
        "report_returned": gettext("report returned"),
        "report_approved": gettext("report approved"),
        "report_reopened": gettext("report reopened"),
        "period_published": gettext("period published"),
    }.get(kind, kind)


def notice_status_words(status: str) -> str:
    """A message's state in the outbox, in the reader's language."""
    return {
        "pending": pgettext("message", "pending"),
        "sending": pgettext("message", "sending"),
        "sent": pgettext("message", "sent"),
        "failed": pgettext("message", "failed"),
        "bounced": pgettext("message", "bounced"),
        "bundled": pgettext("message", "bundled"),
        "held": pgettext("message", "held"),
        "skipped": pgettext("message", "skipped"),
    }.get(status, status)


def _reminders_section() -> html.Div:
    """Who was reminded when and what failed for the period, and the reminder days."""
    schedule = dbc.Card(
        dbc.CardBody(
            [
                html.H3(gettext("Reminder days"), className="h6"),
                html.P(
                    gettext(
                        "Partners that have not submitted are reminded on these days, counted "
                        "from each period's due date: negative before it, positive after "
                        "(e.g. -14, -3, 1, 7). Leave it empty to send no reminders. A report "
                        "still missing that many days after its deadline is escalated to you."
                    ),
                    className="small text-muted",
                ),
                dbc.Row(
                    [
                        field(
                            gettext("Days from the due date"),
                            dbc.Input(id="reporting-schedule", type="text", debounce=True),
                            md=5,
                        ),
                        field(
                            gettext("Tell the backbone team after (days overdue)"),
                            dbc.Input(
                                id="reporting-escalation",
                                type="text",
                                inputMode="numeric",
                                debounce=True,
                            ),
                            hint=gettext("Empty: never."),
                            md=4,
                        ),
                        dbc.Col(
                            dbc.Button(
                                gettext("Save reminder days"),
                                id="reporting-schedule-save",
                                color="primary",
                                className="mt-md-4",
                            ),
                            md=3,
                        ),
                    ],
                    className="g-2 align-items-start",
                ),
                html.Div(id="reporting-schedule-feedback", className="mt-2"),
            ]
        ),
        className="shadow-sm",
    )
    return html.Div(
        [
            html.H2(gettext("Reminders and messages"), className="h5", id="reporting-reminders"),
            html.P(
                gettext(
                    "Every message about the period, by partner: reminders, returned, approved "
                    "and reopened reports, and who was told of its publication; failed ones "
                    "with the last error."
                ),
                className="small text-muted mb-2",
            ),
            html.Div(id="reporting-notices-summary"),
            dag.AgGrid(
                id="reporting-notices",
                rowData=[],
                columnDefs=notice_columns(),
                defaultColDef={"resizable": True, "sortable": True, "filter": True},
                getRowId="params.data.id",
                dashGridOptions={
                    "domLayout": "autoHeight",
                    "pagination": True,
                    "paginationPageSize": 20,
                    "tooltipShowDelay": 300,
                    "rowClassRules": {"cm-row-failed": "params.data.status === 'failed'"},
                },
                className="ag-theme-alpine cm-grid mb-3",
            ),
            schedule,
        ],
        className="mt-4",
    )


def _when(offset: int) -> str:
    if offset < 0:
        return ngettext("%(n)s day before", "%(n)s days before", -offset)
    if offset == 0:
        return gettext("on the due date")
    return ngettext("%(n)s day after", "%(n)s days after", offset)


def _problem(n: data.Notice) -> str:
    """Why a message did not reach its person: the last error, or the bounce's status and
    diagnostic (README, "Notifications")."""
    if n.status == "failed":
        return n.last_error or ""
    if n.status == "bounced":
        return " ".join(
            p for p in (notice_status_words("bounced"), n.bounce_status, n.bounce_diagnostic) if p
        )
    return ""


def notice_rows(view: data.PeriodNotices) -> list[dict]:
    rows = []
    for n in view.notices:
        message = kind_words(n.kind)
        if n.offset is not None:
            message += f" ({_when(n.offset)})"
        status = notice_status_words(n.status)
        if n.in_digest:
            status += " · " + gettext("in digest")
        rows.append(
            {
                "id": n.id,
                "partner": n.organisation_name or n.organisation or gettext("funders and backbone"),
                "message": message,
                "to": n.to,
                "written": data.moment(n.written_at),
                "sent": data.moment(n.sent_at) if n.sent_at else "—",
                "status": status,
                "last_error": _problem(n),
            }
        )
    return rows


def notices_summary(view: data.PeriodNotices) -> html.P:
    reminded = {n.organisation for n in view.notices if n.kind == "reminder"}
    failed = len(view.failed)
    count = len(view.notices)
    text = ngettext(
        "%(n)s message about %(period)s (due %(due)s); ",
        "%(n)s messages about %(period)s (due %(due)s); ",
        count,
        period=view.period,
        due=data.day(view.due_on),
    ) + ngettext("%(n)s partner reminded. ", "%(n)s partners reminded. ", len(reminded))
    parts: list = [text]
    if failed:
        parts.append(
            dbc.Badge(
                ngettext("%(n)s failed", "%(n)s failed", failed),
                color="danger",
                className="fw-normal",
                id="reporting-failed",
            )
        )
    bounced = len(view.bounced)
    if bounced:
        parts.append(
            dbc.Badge(
                ngettext("%(n)s bounced", "%(n)s bounced", bounced),
                color="warning",
                className="fw-normal ms-1",
                id="reporting-bounced",
            )
        )
    return html.P(parts, className="small mb-2", id="reporting-notices-count")


def _counts(counts: dict[str, int]) -> html.Div:
    words = {**state_words(), "late": gettext("late")}
    return html.Div(
        [
            dbc.Badge(
                f"{words[state]}: {format_number(counts.get(state, 0))}",
                color=colour,
                className="me-2 mb-1 fs-6 fw-normal",
                id=f"reporting-count-{state}",
            )
            for state, colour in COUNT_COLOURS.items()
        ]
    )


def heatmap_rows(c) -> list[dict]:
    names = dict(c.members)
    states, late = state_words(), gettext("late")
    return [
        {
            "partner": names.get(x.organisation, x.organisation),
            "indicator": x.indicator,
            "state": states.get(x.state, x.state),
            "late": late if x.late else "",
        }
        for x in c.cells
    ]


def heatmap_columns() -> list[tuple[str, str]]:
    return [
        ("partner", gettext("Partner")),
        ("indicator", gettext("Indicator")),
        ("state", gettext("State")),
        ("late", gettext("Late")),
    ]


def extension_badge(extension: data.ExtensionView | None, **kw) -> dbc.Badge | None:
    """A partner's deadline extension for the period, as its status reads it."""
    if extension is None:
        return None
    running = extension.running
    return dbc.Badge(
        gettext("extended to %(day)s", day=data.day(extension.until))
        if running
        else gettext("extension ended %(day)s", day=data.day(extension.until)),
        color="info" if running else "secondary",
        className="ms-1 fw-normal",
        title=gettext("Deadline extension: %(reason)s", reason=extension.reason),
        **kw,
    )


def extensions_table(extensions: list[data.ExtensionView], period: str, initiative: str):
    """Every deadline extension granted for the period: partner, until, reason, by whom."""
    manage = html.A(
        gettext("Grant or revoke on the setup page"),
        href=page_url("/setup", initiative=initiative, tab="extension"),
        className="small",
        id="reporting-extensions-manage",
    )
    if not extensions:
        return html.Div(
            [
                html.P(
                    gettext("No partner's deadline is extended for %(period)s.", period=period),
                    className="text-muted small mb-1",
                    id="reporting-extensions",
                ),
                manage,
            ]
        )
    rows = [
        html.Tr(
            [
                html.Td(e.organisation_name),
                html.Td(e.period),
                html.Td([data.day(e.until), " " + gettext("(ended)") if not e.running else ""]),
                html.Td(e.reason, className="cm-extension-reason"),
                html.Td(
                    f"{e.granted_by or gettext('a removed account')}, {data.day(e.granted_at)}",
                    className="text-muted",
                ),
            ]
        )
        for e in extensions
    ]
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(gettext("Partner")),
                        html.Th(gettext("Period")),
                        html.Th(gettext("Until")),
                        html.Th(gettext("Reason")),
                        html.Th(gettext("Granted")),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        hover=True,
        className="small",
        id="reporting-extensions",
    )
    return html.Div([html.Div(table, className="table-responsive"), manage])


def _once(make: Callable[[str], Component]) -> Callable[[str], dict]:
    """``make``'s component for each argument, made once and kept as the JSON it sends."""
    made: dict[str, dict] = {}

    def once(argument: str) -> dict:
        if argument not in made:
            made[argument] = make(argument).to_plotly_json()
        return made[argument]

    return once


def _lists(
    view: data.ReportingProgress, initiative: str, extensions: list[data.ExtensionView]
) -> html.Div:
    period = view.completeness.period
    review = page_url("/reporting/review", initiative=initiative, period=period)
    extended = {e.organisation: e for e in extensions}
    # A period lists hundreds of partners and flagged values with a handful of different
    # badges: each is made once and sent as its JSON wherever it shows (html_element).
    status = _once(status_badge)
    flag = _once(flag_badge)
    late_badge = dbc.Badge(gettext("late"), color="danger").to_plotly_json()
    review_link = html.A(gettext("review"), href=review).to_plotly_json()
    late = (
        dbc.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(gettext("Partner")),
                            html.Th(gettext("Status")),
                            html.Th(gettext("Late")),
                            html.Th(gettext("Not reported")),
                        ]
                    )
                ),
                html.Tbody(
                    [
                        html_element(
                            "Tr",
                            [
                                html_element("Td", s["name"]),
                                html_element(
                                    "Td",
                                    [
                                        status(s["status"]),
                                        extension_badge(
                                            extended.get(s["organisation"]),
                                            id=f"reporting-extended-{s['organisation']}",
                                        ),
                                    ],
                                ),
                                html_element("Td", late_badge if s["late"] else ""),
                                html_element("Td", s["missing"] or "—", className="small"),
                            ],
                        )
                        for s in view.submissions
                    ]
                ),
            ],
            size="sm",
            hover=True,
            className="small",
            id="reporting-late",
        )
        if view.submissions
        else html.P(gettext("Everyone has reported."), className="text-muted", id="reporting-late")
    )
    flagged = (
        html.Ul(
            [
                html_element(
                    "Li",
                    [
                        *[flag(f) for f in v["flags"]],
                        html_element("Span", f"{v['name']} · ", className="fw-semibold"),
                        html_element("Code", v["indicator"]),
                        f" {v['disaggregation']} ",
                        status(v["status"]),
                        " ",
                        review_link,
                    ],
                    className="small mb-1",
                )
                for v in view.flagged
            ],
            className="list-unstyled",
            id="reporting-flagged",
        )
        if view.flagged
        else html.P(gettext("No value is flagged."), className="text-muted", id="reporting-flagged")
    )
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H2(gettext("Late and missing"), className="h5"),
                    html.Div(late, className="table-responsive"),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H2(gettext("Flagged values"), className="h5"),
                    flagged,
                    html.A(
                        gettext("Go to the review queue →"), href=review, id="reporting-queue-link"
                    ),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H2(gettext("Deadline extensions"), className="h5"),
                    extensions_table(extensions, period, initiative),
                ],
                lg=12,
            ),
        ],
        className="g-4",
    )


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("reporting-heatmap", "figure"),
    Output("reporting-counts", "children"),
    Output("reporting-lists", "children"),
    Output("reporting-feedback", "children"),
    Input("reporting-initiative", "value"),
    Input("reporting-period", "value"),
)
def reporting_view(initiative, period):
    """Backbone only: the domain refuses anyone else before anything is read."""
    if not initiative:
        return EMPTY, None, None, None
    try:
        view = data.reporting(initiative, period)
        extensions = data.extensions(initiative, view.completeness.period)
    except DomainError as exc:
        return EMPTY, None, None, error_alert(exc, what=gettext("That initiative"))
    c = view.completeness
    lists = _lists(view, initiative, extensions)
    return figures.completeness_heatmap(c), _counts(c.counts), lists, None


@callback(
    Output("reporting-heatmap-table", "children"),
    Input("reporting-heatmap-summary", "n_clicks"),
    Input("reporting-initiative", "value"),
    Input("reporting-period", "value"),
    prevent_initial_call=True,
)
def reporting_heatmap_table(opened, initiative, period):
    """The heat map's cells as a table, made once someone opens it: a cell per partner and
    indicator is thousands of elements, which every view of the page would otherwise build
    and send for a table that stays folded. Errors show with the heat map."""
    if not (opened and initiative):
        return None
    try:
        c = data.reporting(initiative, period).completeness
    except DomainError:
        return None
    return data_table(
        "completeness",
        heatmap_columns(),
        heatmap_rows(c),
        f"{initiative}-{c.period}-completeness.csv",
    )


follow_initiative("reporting", keep=False)


@callback(
    Output("reporting-notices", "rowData"),
    Output("reporting-notices-summary", "children"),
    Input("reporting-initiative", "value"),
    Input("reporting-period", "value"),
)
def reporting_notices(initiative, period):
    """Backbone only, like the rest of the page: the domain refuses anyone else."""
    if not (initiative and period):
        return [], None
    try:
        view = data.period_notices(initiative, period)
    except DomainError as exc:
        return [], error_alert(exc, what=gettext("That period"))
    return notice_rows(view), notices_summary(view)


@callback(
    Output("reporting-schedule", "value"),
    Output("reporting-escalation", "value"),
    Output("reporting-schedule", "invalid"),
    Output("reporting-schedule-error", "children"),
    Output("reporting-escalation", "invalid"),
    Output("reporting-escalation-error", "children"),
    Output("reporting-schedule-feedback", "children"),
    Input("reporting-initiative", "value"),
    Input("reporting-schedule-save", "n_clicks"),
    State("reporting-schedule", "value"),
    State("reporting-escalation", "value"),
)
def reporting_schedule(initiative, _save, text, escalation):
    """The initiative's reminder days and escalation; saved on the button, a refusal under
    its field."""
    fields = {"offsets": "reporting-schedule", "escalate_after_days": "reporting-escalation"}
    cleared, _ = field_errors(None, fields)
    if not initiative:
        return "", "", *cleared, None
    saving = ctx.triggered_id == "reporting-schedule-save"
    try:
        if saving:
            plan = data.save_reminder_schedule(initiative, text, escalation)
        else:
            plan = data.reminder_schedule(initiative)
    except DomainError as exc:
        marked, alert = field_errors(exc, fields)
        return dash.no_update, dash.no_update, *marked, alert
    shown = ", ".join(str(o) for o in plan.offsets)  # the field's own text: plain numbers
    after = "" if plan.escalate_after_days is None else str(plan.escalate_after_days)
    if not saving:
        return shown, after, *cleared, None
    said = (
        gettext(
            "Saved: reminders go out %(days)s (counted from each period's due date)",
            days=", ".join(_when(o) for o in plan.offsets),
        )
        if plan.offsets
        else gettext("Saved: no reminders will be sent")
    )
    said += (
        gettext("; missing reports are never escalated.")
        if plan.escalate_after_days is None
        else ngettext(
            "; a report missing %(n)s day after its deadline is escalated to the backbone team.",
            "; a report missing %(n)s days after its deadline is escalated to the backbone team.",
            plan.escalate_after_days,
        )
    )
    return (
        shown,
        after,
        *cleared,
        dbc.Alert(said, color="success", className="py-2 mb-0", id="reporting-schedule-saved"),
    )


sync_url("reporting", "initiative", "period")
