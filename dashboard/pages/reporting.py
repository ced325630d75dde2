"""Reporting: who has reported what for a period (backbone only).

A completeness heat map (members × indicators), the counts per state, the late and missing
submissions, and the values flagged for a second look, each linking to the review queue; and the
deadline extensions granted for the period (one partner's report written after it closed), next
to that partner's status and listed with their reasons.
Anyone but the backbone team (and admins) gets a "not allowed" alert: the domain refuses them.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import data, figures
from dashboard.components.common import (
    error_alert,
    flag_badge,
    page_url,
    status_badge,
    sync_url,
)
from dashboard.components.page import enter, frame, initiative_picker, picker, pickers
from dashboard.components.periods import choose_period
from dashboard.components.tables import data_table
from dashboard.data import DomainError

dash.register_page(
    __name__, path="/reporting", title="Reporting · Common Measure", name="Reporting"
)

NOT_ALLOWED = (
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
    entry = enter(
        "/reporting",
        "reporting",
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
    return frame(
        "reporting",
        html.Div(
            [
                html.H1("Reporting", className="h3 mb-1 me-auto"),
                dbc.Button(
                    "Open the review queue",
                    href=page_url("/reporting/review", initiative=entry.slug, period=period),
                    color="primary",
                    outline=True,
                    size="sm",
                    id="reporting-review-link",
                ),
            ],
            className="d-flex flex-wrap align-items-center gap-2",
        ),
        "Who has reported what for the period, who is late, and what was flagged.",
        pickers(
            initiative_picker("reporting", entry, md=6),
            picker("Period", "reporting-period", period_options, period, md=6, clearable=False),
        ),
        html.Div(id="reporting-feedback"),
        html.Div(id="reporting-counts", className="mb-3"),
        dcc.Loading(
            dcc.Graph(id="reporting-heatmap", figure=EMPTY, config=GRAPH_CONFIG),
            type="dot",
            delay_show=400,
        ),
        html.Details(
            [
                html.Summary(
                    "Heat map as a table", className="small", id="reporting-heatmap-summary"
                ),
                html.Div(id="reporting-heatmap-table"),
            ],
            className="mb-2",
        ),
        html.Div(id="reporting-lists", className="mt-3"),
    )


# --- pieces ---------------------------------------------------------------------------------


def _counts(counts: dict[str, int]) -> html.Div:
    return html.Div(
        [
            dbc.Badge(
                f"{state}: {counts.get(state, 0)}",
                color=colour,
                className="me-2 mb-1 fs-6 fw-normal",
                id=f"reporting-count-{state}",
            )
            for state, colour in COUNT_COLOURS.items()
        ]
    )


def heatmap_rows(c) -> list[dict]:
    names = dict(c.members)
    return [
        {
            "partner": names.get(x.organisation, x.organisation),
            "indicator": x.indicator,
            "state": x.state,
            "late": "late" if x.late else "",
        }
        for x in c.cells
    ]


HEATMAP_COLUMNS = [
    ("partner", "Partner"),
    ("indicator", "Indicator"),
    ("state", "State"),
    ("late", "Late"),
]


def extension_badge(extension: data.ExtensionView | None, **kw) -> dbc.Badge | None:
    """A partner's deadline extension for the period, as its status reads it."""
    if extension is None:
        return None
    running = extension.running
    return dbc.Badge(
        f"{'extended to' if running else 'extension ended'} {data.day(extension.until)}",
        color="info" if running else "secondary",
        className="ms-1 fw-normal",
        title=f"Deadline extension: {extension.reason}",
        **kw,
    )


def extensions_table(extensions: list[data.ExtensionView], period: str, initiative: str):
    """Every deadline extension granted for the period: partner, until, reason, by whom."""
    manage = html.A(
        "Grant or revoke on the setup page",
        href=page_url("/setup", initiative=initiative, tab="extension"),
        className="small",
        id="reporting-extensions-manage",
    )
    if not extensions:
        return html.Div(
            [
                html.P(
                    f"No partner's deadline is extended for {period}.",
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
                html.Td([data.day(e.until), " (ended)" if not e.running else ""]),
                html.Td(e.reason, className="cm-extension-reason"),
                html.Td(
                    f"{e.granted_by or 'a removed account'}, {data.day(e.granted_at)}",
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
                        html.Th("Partner"),
                        html.Th("Period"),
                        html.Th("Until"),
                        html.Th("Reason"),
                        html.Th("Granted"),
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


def _lists(
    view: data.ReportingProgress, initiative: str, extensions: list[data.ExtensionView]
) -> html.Div:
    period = view.completeness.period
    review = page_url("/reporting/review", initiative=initiative, period=period)
    extended = {e.organisation: e for e in extensions}
    late = (
        dbc.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th("Partner"),
                            html.Th("Status"),
                            html.Th("Late"),
                            html.Th("Not reported"),
                        ]
                    )
                ),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(s["name"]),
                                html.Td(
                                    [
                                        status_badge(s["status"]),
                                        extension_badge(
                                            extended.get(s["organisation"]),
                                            id=f"reporting-extended-{s['organisation']}",
                                        ),
                                    ]
                                ),
                                html.Td(dbc.Badge("late", color="danger") if s["late"] else ""),
                                html.Td(s["missing"] or "—", className="small"),
                            ]
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
        else html.P("Everyone has reported.", className="text-muted", id="reporting-late")
    )
    flagged = (
        html.Ul(
            [
                html.Li(
                    [
                        *[flag_badge(f) for f in v["flags"]],
                        html.Span(f"{v['name']} · ", className="fw-semibold"),
                        html.Code(v["indicator"]),
                        f" {v['disaggregation']} ",
                        status_badge(v["status"]),
                        " ",
                        html.A("review", href=review),
                    ],
                    className="small mb-1",
                )
                for v in view.flagged
            ],
            className="list-unstyled",
            id="reporting-flagged",
        )
        if view.flagged
        else html.P("No value is flagged.", className="text-muted", id="reporting-flagged")
    )
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H2("Late and missing", className="h5"),
                    html.Div(late, className="table-responsive"),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H2("Flagged values", className="h5"),
                    flagged,
                    html.A("Go to the review queue →", href=review, id="reporting-queue-link"),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    html.H2("Deadline extensions", className="h5"),
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
        return EMPTY, None, None, error_alert(exc, what="That initiative")
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
        HEATMAP_COLUMNS,
        heatmap_rows(c),
        f"{initiative}-{c.period}-completeness.csv",
    )


@callback(
    Output("reporting-period", "options"),
    Output("reporting-period", "value"),
    Input("reporting-initiative", "value"),
    prevent_initial_call=True,
)
def _choose_initiative(initiative):
    try:
        return choose_period(initiative, None)
    except DomainError:
        return [], None


sync_url("reporting", "initiative", "period")
