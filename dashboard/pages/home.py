"""Home: the initiatives hosted here, their partners, what they measure and their current period."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from models.core.i18n import gettext

dash.register_page(
    __name__,
    path="/",
    title=lambda **_: gettext("Initiatives · Common Measure"),
    name="Initiatives",
)


def _stat(value: object, label: str) -> dbc.Col:
    return dbc.Col(
        [html.Div(str(value), className="cm-stat"), html.Div(label, className="cm-stat-label")],
        xs=6,
        md=3,
    )


def _card(summary: data.InitiativeSummary) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H4(summary.name, className="card-title"),
                html.P(
                    [summary.region or "", html.Span(f" · {summary.slug}", className="text-muted")],
                    className="small mb-2",
                ),
                html.P(summary.description or "", className="mb-3"),
                dbc.Row(
                    [
                        _stat(summary.members, gettext("partners")),
                        _stat(summary.outcomes, gettext("outcomes")),
                        _stat(summary.indicators, gettext("indicators")),
                        _stat(summary.current_period or "—", gettext("current period")),
                    ],
                    className="g-2",
                ),
                html.P(
                    gettext(
                        "Latest approved data: %(period)s",
                        period=summary.latest_approved_period or gettext("none yet"),
                    ),
                    className="small text-muted mt-3 mb-2",
                ),
                html.Details(
                    [
                        html.Summary(gettext("Partners (%(count)s)", count=summary.members)),
                        html.Ul([html.Li(name) for name in summary.member_names]),
                    ]
                ),
            ]
        ),
        className="cm-initiative-card mb-4 shadow-sm",
        id=f"initiative-{summary.slug}",
    )


def layout(**_query: str):
    summaries = data.directory()
    if not summaries:
        return dbc.Alert(
            [gettext("No initiatives yet. Load the demo with "), html.Code("cm demo"), "."],
            color="info",
        )
    table = dag.AgGrid(
        id="initiative-table",
        rowData=[
            {
                "Initiative": s.name,
                "Slug": s.slug,
                "Partners": s.members,
                "Outcomes": s.outcomes,
                "Indicators": s.indicators,
                "Current period": s.current_period,
                "Latest approved": s.latest_approved_period,
            }
            for s in summaries
        ],
        columnDefs=[
            {"field": "Initiative", "headerName": gettext("Initiative"), "flex": 2},
            {"field": "Slug", "headerName": gettext("Slug"), "flex": 1},
            {
                "field": "Partners",
                "headerName": gettext("Partners"),
                "type": "numericColumn",
                "flex": 1,
            },
            {
                "field": "Outcomes",
                "headerName": gettext("Outcomes"),
                "type": "numericColumn",
                "flex": 1,
            },
            {
                "field": "Indicators",
                "headerName": gettext("Indicators"),
                "type": "numericColumn",
                "flex": 1,
            },
            {"field": "Current period", "headerName": gettext("Current period"), "flex": 1},
            {"field": "Latest approved", "headerName": gettext("Latest approved"), "flex": 1},
        ],
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={"domLayout": "autoHeight"},
        csvExportParams={"fileName": "initiatives.csv"},
        className="ag-theme-alpine mb-4",
    )
    return html.Div(
        [
            html.H1(gettext("Initiatives"), className="h3 mb-1"),
            html.P(
                gettext(
                    "Collective-impact initiatives sharing one measurement system on this site."
                ),
                className="text-muted",
            ),
            table,
            *[_card(s) for s in summaries],
        ]
    )
