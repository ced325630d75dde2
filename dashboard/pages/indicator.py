"""Indicator: its trend against baseline and target, the partners compared for a period, and the
equity view by a disaggregation. Under every chart, a table of exactly what it shows (CSV).

Figures come from ``models.analytics.views`` through the data seam, suppressed for anyone but the
backbone team; a forged callback gets what the cookie's user may see, for anonymous nothing.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import data, figures
from dashboard.components.common import error_alert, sync_url
from dashboard.components.history import partner_history_links
from dashboard.components.page import NO_FIGURES, enter, frame, initiative_picker, picker, pickers
from dashboard.components.tables import data_table
from dashboard.data import DomainError

dash.register_page(
    __name__, path="/indicator", title="Indicator · Common Measure", name="Indicator"
)

GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
EMPTY = {
    "data": [],
    "layout": {"height": 120, "xaxis": {"visible": False}, "yaxis": {"visible": False}},
}


def _chart(name: str, title: str, extra=None) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(title, className="h5"),
                extra,
                dcc.Loading(
                    dcc.Graph(id=f"indicator-{name}", figure=EMPTY, config=GRAPH_CONFIG),
                    type="dot",
                    delay_show=400,
                ),
                html.Div(id=f"indicator-{name}-table", className="mt-2"),
            ]
        ),
        className="mb-4 shadow-sm",
    )


def layout(
    initiative: str | None = None,
    code: str | None = None,
    by: str | None = None,
    period: str | None = None,
    **_,
):
    entry = enter(
        "/indicator",
        "indicator",
        data.analytics_workspaces,
        NO_FIGURES,
        initiative=initiative,
        code=code,
        by=by,
        period=period,
    )
    if entry.instead is not None:
        return entry.instead
    try:
        choices = data.indicator_choices(entry.slug)
        if not choices:
            return dbc.Alert("This initiative has no indicators yet.", color="info")
        chosen = next((c for c in choices if c["code"] == code), choices[0])
        # The periods with figures to compare (the series' periods), latest first.
        periods = data.indicator_series(entry.slug, chosen["code"]).periods
    except DomainError as exc:
        return error_alert(exc)
    dims = chosen["dimensions"]
    by = by if by in dict(dims) else (dims[0][0] if dims else None)
    period = period if period in periods else (periods[-1] if periods else None)
    return frame(
        "indicator",
        html.H1(chosen["name"], className="h3 mb-1", id="indicator-title"),
        [html.Code(chosen["code"]), f" · {chosen['unit']}" if chosen["unit"] else ""],
        pickers(
            initiative_picker("indicator", entry, md=4),
            picker(
                "Indicator",
                "indicator-code",
                [{"label": f"{c['name']} ({c['code']})", "value": c["code"]} for c in choices],
                chosen["code"],
                md=8,
                clearable=False,
            ),
        ),
        _chart("trend", "Trend"),
        _chart(
            "partners",
            "Partner comparison",
            dbc.Row(
                picker(
                    "Period",
                    "indicator-period",
                    [{"label": p, "value": p} for p in reversed(periods)],
                    period,
                    md=4,
                    clearable=False,
                )
            ),
        ),
        _chart(
            "equity",
            "Equity",
            dbc.Row(
                picker(
                    "Disaggregation",
                    "indicator-by",
                    [{"label": n, "value": c} for c, n in dims],
                    by,
                    md=4,
                    clearable=False,
                    placeholder="This indicator has no disaggregation",
                )
            ),
        ),
    )


# --- tables: exactly what the charts show ---------------------------------------------------


def trend_rows(s) -> list[dict]:
    targets = dict(s.targets)
    return [
        {
            "period": p.period,
            "value": p.figure.value,
            "marker": p.figure.marker or "",
            "target": targets.get(p.period),
            "baseline": s.baseline,
            "series_break": next((note for k, note in s.breaks if k == p.period), ""),
        }
        for p in s.total
    ]


TREND_COLUMNS = [
    ("period", "Period"),
    ("value", "All partners"),
    ("marker", "Marker"),
    ("target", "Target"),
    ("baseline", "Baseline"),
    ("series_break", "Series break"),
]


def partner_rows(s, period: str) -> list[dict]:
    points = [p for p in s.breakdown if p.period == period]
    points.sort(key=lambda p: (p.figure.value is None, -(p.figure.value or 0)))
    return [
        {"partner": p.label, "value": p.figure.value, "marker": p.figure.marker or ""}
        for p in points
    ]


PARTNER_COLUMNS = [("partner", "Partner"), ("value", "Value"), ("marker", "Marker")]


def equity_rows(e) -> list[dict]:
    rows = []
    for point in e.points:
        for _key, label, fig in point.categories:
            rows.append(
                {
                    "period": point.period,
                    "category": label,
                    "value": fig.value,
                    "marker": fig.marker or "",
                    "gap": point.gap,
                }
            )
    return rows


EQUITY_COLUMNS = [
    ("period", "Period"),
    ("category", "Category"),
    ("value", "Value"),
    ("marker", "Marker"),
    ("gap", "Gap (best − worst)"),
]


def _failed(exc: DomainError):
    return EMPTY, error_alert(exc, what="That indicator")


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("indicator-trend", "figure"),
    Output("indicator-trend-table", "children"),
    Input("indicator-initiative", "value"),
    Input("indicator-code", "value"),
)
def indicator_trend(initiative, code):
    if not (initiative and code):
        return EMPTY, None
    try:
        s = data.indicator_series(initiative, code)
    except DomainError as exc:
        return _failed(exc)
    return figures.trend(s), data_table(
        "trend", TREND_COLUMNS, trend_rows(s), f"{initiative}-{code}-trend.csv"
    )


@callback(
    Output("indicator-partners", "figure"),
    Output("indicator-partners-table", "children"),
    Input("indicator-initiative", "value"),
    Input("indicator-code", "value"),
    Input("indicator-period", "value"),
)
def indicator_partners(initiative, code, period):
    if not (initiative and code and period):
        return EMPTY, None
    try:
        s = data.indicator_series(initiative, code, by="partner")
    except DomainError as exc:
        return _failed(exc)
    return figures.partner_bars(s, period), [
        data_table(
            "partners",
            PARTNER_COLUMNS,
            partner_rows(s, period),
            f"{initiative}-{code}-{period}-partners.csv",
        ),
        partner_history_links(s, initiative, period),
    ]


@callback(
    Output("indicator-equity", "figure"),
    Output("indicator-equity-table", "children"),
    Input("indicator-initiative", "value"),
    Input("indicator-code", "value"),
    Input("indicator-by", "value"),
)
def indicator_equity(initiative, code, by):
    if not (initiative and code):
        return EMPTY, None
    if not by:
        return EMPTY, html.P("This indicator has no disaggregation.", className="text-muted")
    try:
        e = data.indicator_equity(initiative, code, by)
    except DomainError as exc:
        return _failed(exc)
    return figures.equity_lines(e), data_table(
        "equity", EQUITY_COLUMNS, equity_rows(e), f"{initiative}-{code}-{by}-equity.csv"
    )


@callback(
    Output("indicator-by", "options"),
    Output("indicator-by", "value"),
    Output("indicator-title", "children"),
    Input("indicator-code", "value"),
    Input("indicator-initiative", "value"),
    prevent_initial_call=True,
)
def indicator_dimensions(code, initiative):
    try:
        choices = data.indicator_choices(initiative) if initiative else []
    except DomainError:
        choices = []
    chosen = next((c for c in choices if c["code"] == code), None)
    if chosen is None:
        return [], None, dash.no_update
    dims = chosen["dimensions"]
    return (
        [{"label": n, "value": c} for c, n in dims],
        dims[0][0] if dims else None,
        chosen["name"],
    )


sync_url("indicator", "initiative", "code", "by", "period")
