"""Turn the curve: one indicator's actual curve against the baseline forecast (where it was
heading before the first strategy aimed at it started), its target, the strategies over time
and the latest story, with the method stated; downloadable as a one-page PNG or PDF report for
a partner meeting.

Everything comes from ``models.strategies.turn_the_curve`` through the data seam, as the viewer
may see it: figures hidden from a funder or a partner are neither drawn nor used by the
forecast, and the downloads are drawn from the same view.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures
from dashboard.components.charts import described_chart
from dashboard.components.common import error_alert, page_url, sync_url
from dashboard.components.indicators import (
    EMPTY,
    GRAPH_CONFIG,
    enter_indicator,
    indicator_picker,
    picker_for,
)
from dashboard.components.page import frame, initiative_picker, pickers
from dashboard.data import DomainError, day
from models.core.i18n import format_number, gettext

dash.register_page(
    __name__,
    path="/turn-the-curve",
    title=lambda **_: gettext("Turn the curve · Common Measure"),
    name="Turn the curve",
)


def layout(initiative: str | None = None, code: str | None = None, **_):
    # Population indicators first: the curve a strategy sets out to turn.
    opened = enter_indicator("/turn-the-curve", "ttc", initiative, code, population_first=True)
    if opened.instead is not None:
        return opened.instead
    return frame(
        "ttc",
        html.H1(gettext("Turn the curve"), className="h3 mb-1", id="ttc-title"),
        gettext(
            "Where the curve was heading before the strategies aimed at it started (the "
            "baseline forecast), where it went, and the target: one page to present at a "
            "partner meeting."
        ),
        pickers(
            initiative_picker("ttc", opened.entry, md=4),
            indicator_picker("ttc", opened),
        ),
        html.Div(
            [
                dbc.Button(gettext("Download PNG"), id="ttc-png", color="primary", size="sm"),
                dbc.Button(
                    gettext("Download PDF"), id="ttc-pdf", color="primary", outline=True, size="sm"
                ),
                html.A(gettext("Indicator page"), id="ttc-indicator-link", className="small ms-2"),
                dcc.Download(id="ttc-download"),
            ],
            className="d-flex gap-2 align-items-center mb-3",
        ),
        dbc.Card(
            dbc.CardBody(
                [
                    html.H2(id="ttc-name", className="h5"),
                    described_chart(
                        dcc.Loading(
                            dcc.Graph(id="ttc-chart", figure=EMPTY, config=GRAPH_CONFIG),
                            type="dot",
                            delay_show=400,
                        )
                    ),
                    html.H3(gettext("Method"), className="h6 mt-2"),
                    html.P(id="ttc-method", className="small mb-1"),
                    html.P(id="ttc-hidden", className="small text-muted mb-0"),
                ]
            ),
            className="mb-4 shadow-sm",
        ),
        dbc.Row(
            [
                dbc.Col(
                    dbc.Card(
                        dbc.CardBody(
                            [
                                html.H2(gettext("Strategies aimed at it"), className="h5"),
                                html.Div(id="ttc-strategies"),
                            ]
                        ),
                        className="mb-4 shadow-sm h-100",
                    ),
                    md=6,
                ),
                dbc.Col(
                    dbc.Card(
                        dbc.CardBody(
                            [
                                html.H2(gettext("Story behind the curve"), className="h5"),
                                html.Div(id="ttc-story-note", className="small text-muted"),
                                html.Div(
                                    dcc.Markdown(id="ttc-story", dangerously_allow_html=True),
                                    className="cm-story",
                                ),
                            ]
                        ),
                        className="mb-4 shadow-sm h-100",
                    ),
                    md=6,
                ),
            ]
        ),
    )


def strategy_items(view) -> list:
    """The strategies the viewer may read, with dates, owners and actions done."""
    if not view.strategies:
        return [
            html.P(
                gettext("No strategy that you may see aims at this indicator."),
                className="small",
            )
        ]
    items = []
    for s in view.strategies:
        ends = day(s.ends_on) if s.ends_on else gettext("open-ended")
        owners = ", ".join(o.name for o in s.owners) or gettext("no owner named")
        items.append(
            html.Li(
                [
                    html.Strong(s.title),
                    html.Div(
                        gettext(
                            "%(starts)s – %(ends)s · %(done)s of %(total)s actions done · "
                            "owners: %(owners)s",
                            starts=day(s.starts_on),
                            ends=ends,
                            done=format_number(s.actions_done),
                            total=format_number(s.actions_total),
                            owners=owners,
                        ),
                        className="small text-muted",
                    ),
                    dcc.Link(
                        gettext("Open the strategy"),
                        href=page_url("/strategies", initiative=view.initiative, code=s.code),
                        className="small",
                    ),
                ],
                className="mb-2",
                id=f"ttc-strategy-{s.code}",
            )
        )
    return [html.Ul(items, className="list-unstyled mb-0")]


def hidden_note(view) -> str:
    """The gaps in the curve, explained: each hidden period with its marker's meaning."""
    if not view.hidden:
        return ""
    markers = dict.fromkeys(p.figure.marker for p in view.hidden)
    return (
        gettext(
            "Hidden from you, so neither drawn nor used by the forecast: %(periods)s.",
            periods=", ".join(f"{p.period} ({p.figure.marker})" for p in view.hidden),
        )
        + " "
        + " ".join(f"{m}: {data.explain(m)}." for m in markers)
    )


def story_note(view) -> str:
    if view.story is None:
        return gettext("No story that you may read yet.")
    return gettext("The story of %(period)s, the latest you may read.", period=view.story.period)


@callback(
    Output("ttc-chart", "figure"),
    Output("ttc-name", "children"),
    Output("ttc-method", "children"),
    Output("ttc-hidden", "children"),
    Output("ttc-strategies", "children"),
    Output("ttc-story", "children"),
    Output("ttc-story-note", "children"),
    Output("ttc-indicator-link", "href"),
    Input("ttc-initiative", "value"),
    Input("ttc-code", "value"),
)
def ttc_view(initiative, code):
    if not (initiative and code):
        return EMPTY, "", "", "", None, "", "", None
    link = page_url("/indicator", initiative=initiative, code=code)
    try:
        view = data.turn_the_curve(initiative, code)
    except DomainError as exc:
        return EMPTY, "", error_alert(exc, what=gettext("That indicator")), "", None, "", "", link
    return (
        figures.turn_the_curve(view),
        f"{view.name} ({view.indicator})",
        view.forecast.method,
        hidden_note(view),
        strategy_items(view),
        data.story_html(view.story.text if view.story else ""),
        story_note(view),
        link,
    )


@callback(
    Output("ttc-download", "data"),
    Input("ttc-png", "n_clicks"),
    Input("ttc-pdf", "n_clicks"),
    State("ttc-initiative", "value"),
    State("ttc-code", "value"),
    prevent_initial_call=True,
)
def ttc_download(_png, _pdf, initiative, code):
    """The report as the viewer may see it, drawn on the server."""
    fmt = "pdf" if dash.ctx.triggered_id == "ttc-pdf" else "png"
    if not (initiative and code):
        return dash.no_update
    try:
        name, content = data.turn_the_curve_report(initiative, code, fmt)
    except DomainError:
        return dash.no_update
    return dcc.send_bytes(content, name)


@callback(
    Output("ttc-code", "options"),
    Output("ttc-code", "value"),
    Input("ttc-initiative", "value"),
    State("ttc-code", "value"),
    prevent_initial_call=True,
)
def ttc_codes(initiative, code):
    """Another initiative has other indicators: its own, population indicators first."""
    return picker_for(initiative, code, population_first=True)


sync_url("ttc", "initiative", "code")
