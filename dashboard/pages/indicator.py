"""Indicator: its trend against baseline and target, the partners compared for a period, the
story behind the curve for that period, and the equity view by a disaggregation. Under every
chart, a table of exactly what it shows (CSV).

The story (README: Stories): the backbone team edits the period's current version, with a
preview drawn by the same renderer the public page uses; everyone else reads the version the
period's latest publication carries.

Figures come from ``models.analytics.views`` through the data seam, suppressed for anyone but the
backbone team; a forged callback gets what the cookie's user may see, for anonymous nothing.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures
from dashboard.components.charts import described_chart
from dashboard.components.common import error_alert, page_url, sync_url
from dashboard.components.history import partner_history_links
from dashboard.components.indicators import (
    EMPTY,
    GRAPH_CONFIG,
    enter_indicator,
    indicator_picker,
    picker_for,
)
from dashboard.components.kinds import performance_types
from dashboard.components.page import frame, initiative_picker, picker, pickers
from dashboard.components.tables import data_table
from dashboard.data import DomainError, day
from models.core.i18n import format_number, gettext

dash.register_page(
    __name__,
    path="/indicator",
    title=lambda **_: gettext("Indicator · Common Measure"),
    name="Indicator",
)


def _chart(name: str, title: str, extra=None, *more: str) -> dbc.Card:
    """A card with the chart ``indicator-{name}`` (and the charts ``more`` names under it)
    and the table of what they show."""
    graphs = [
        described_chart(
            dcc.Loading(
                dcc.Graph(id=f"indicator-{ident}", figure=EMPTY, config=GRAPH_CONFIG),
                type="dot",
                delay_show=400,
            )
        )
        for ident in (name, *more)
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(title, className="h5"),
                extra,
                *graphs,
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
    opened = enter_indicator("/indicator", "indicator", initiative, code, by=by, period=period)
    if opened.instead is not None:
        return opened.instead
    entry, choices = opened.entry, opened.choices
    chosen = next(c for c in choices if c["code"] == opened.code)
    try:
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
        [
            html.Code(chosen["code"]),
            f" · {chosen['unit']}" if chosen["unit"] else "",
            html.Span(
                kind_line(chosen, choices, entry.slug), id="indicator-kind", className="d-block"
            ),
            dcc.Link(
                gettext("Turn the curve: forecast, strategies and story as a one-page report"),
                href=page_url("/turn-the-curve", initiative=entry.slug, code=chosen["code"]),
                id="indicator-ttc-link",
                className="small",
            ),
        ],
        pickers(
            initiative_picker("indicator", entry, md=4),
            indicator_picker("indicator", opened),
        ),
        _chart("trend", gettext("Trend")),
        _chart(
            "partners",
            gettext("Partner comparison"),
            dbc.Row(
                picker(
                    gettext("Period"),
                    "indicator-period",
                    [{"label": p, "value": p} for p in reversed(periods)],
                    period,
                    md=4,
                    clearable=False,
                )
            ),
        ),
        _story_card(),
        _chart(
            "equity",
            gettext("Equity"),
            dbc.Row(
                picker(
                    gettext("Disaggregation"),
                    "indicator-by",
                    [{"label": n, "value": c} for c, n in dims],
                    by,
                    md=4,
                    clearable=False,
                    placeholder=gettext("This indicator has no disaggregation"),
                )
            ),
            "equity-gap",
        ),
    )


def kind_line(chosen: dict, choices: list[dict], initiative: str) -> list:
    """What kind of measure this is (README, "Two kinds of measure") and its links: the
    population indicators a performance measure contributes to, or the partners' measures
    that bear on a population indicator, each a link to its own page."""
    names = {c["code"]: c["name"] for c in choices}

    def links(codes: list[str]) -> list:
        out: list = []
        for n, code in enumerate(codes):
            out += [", "] if n else []
            out.append(
                dcc.Link(
                    names.get(code, code),
                    href=page_url("/indicator", initiative=initiative, code=code),
                    className="cm-kind-link",
                    id=f"indicator-kind-link-{code}",
                )
            )
        return out

    if chosen["kind"] == "performance":
        what = dict(performance_types()).get(chosen["performance_type"] or "", "")
        parts: list = [html.Strong(gettext("Partner performance measure")), f" · {what}"]
        if chosen["contributes_to"]:
            parts += [" · ", gettext("contributes to"), " ", *links(chosen["contributes_to"])]
            parts.append(" " + gettext("(contribution, not attribution)"))
        else:
            parts.append(" · " + gettext("linked to no population indicator"))
        return parts
    parts = [
        html.Strong(gettext("Population indicator")),
        " · " + gettext("how the whole community is doing"),
    ]
    if chosen["contributed_by"]:
        parts += [
            " · " + gettext("partners' measures that bear on it:") + " ",
            *links(chosen["contributed_by"]),
        ]
    return parts


def _story_card() -> dbc.Card:
    """The story of the period picked above: an editor for the backbone team (hidden until
    the domain says the viewer may write), the published story for everyone else."""
    editor = html.Div(
        [
            dbc.Label("Markdown", html_for="indicator-story-text", className="small"),
            dbc.Textarea(
                id="indicator-story-text",
                rows=6,
                maxLength=data.STORY_MAX_LENGTH,
                placeholder=gettext(
                    "What is happening, why, and the partners with a role to play."
                ),
            ),
            html.Div(id="indicator-story-count", className="small text-muted mb-2"),
            dbc.Button(
                gettext("Save story"), id="indicator-story-save", color="primary", size="sm"
            ),
            html.Div(id="indicator-story-status", className="mt-2"),
            html.H3(gettext("Preview"), className="h6 mt-3"),
            html.Div(
                dcc.Markdown(id="indicator-story-preview", dangerously_allow_html=True),
                className="border rounded p-2 cm-story",
            ),
        ],
        id="indicator-story-editor",
        hidden=True,
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Story behind the curve"), className="h5"),
                html.Div(id="indicator-story-note", className="small text-muted mb-2"),
                html.Div(
                    dcc.Markdown(id="indicator-story-published", dangerously_allow_html=True),
                    className="cm-story",
                ),
                editor,
                dcc.Store(id="indicator-story-version"),
            ]
        ),
        className="mb-4 shadow-sm",
        id="indicator-story",
    )


def story_note(panel, period: str) -> str:
    """Which version the viewer sees, and whether the public sees it too."""
    story = panel.story
    if not panel.can_write:
        if story is None:
            return gettext("No story published for %(period)s.", period=period)
        return gettext("As published for %(period)s.", period=period)
    if story is None:
        return gettext("No story for %(period)s yet: write one below.", period=period)
    if story.published_version is None:
        return gettext("Version %(version)s, not yet published.", version=story.version)
    if story.published_version == story.version:
        return gettext("Version %(version)s, as published.", version=story.version)
    return gettext(
        "Version %(version)s; the publication carries version %(published)s until the period "
        "is published again.",
        version=story.version,
        published=story.published_version,
    )


# --- tables: exactly what the charts show ---------------------------------------------------


def trend_rows(s, marks=()) -> list[dict]:
    """One row per period, with the strategies running in it and the actions done in it (the
    chart's spans and markers, in words)."""
    targets = dict(s.targets)
    order = [p.period for p in s.total]

    def running(period: str) -> str:
        at = order.index(period)
        return "; ".join(
            m.title
            for m in marks
            if m.first in order and m.last in order
            if order.index(m.first) <= at <= order.index(m.last)
        )

    return [
        {
            "period": p.period,
            "value": p.figure.value,
            "marker": p.figure.marker or "",
            "target": targets.get(p.period),
            "baseline": s.baseline,
            "series_break": next((note for k, note in s.breaks if k == p.period), ""),
            "strategies": running(p.period),
            "actions_done": "; ".join(
                f"{d.title} ({day(d.done_on)})"
                for m in marks
                for d in m.done
                if d.period == p.period
            ),
        }
        for p in s.total
    ]


def strategies_caption(strategies) -> str | None:
    """The strategies aimed at the indicator, with their dates: the chart's spans in words."""
    if not strategies:
        return None
    named = [
        gettext(
            "%(title)s (%(starts)s – %(ends)s, %(done)s of %(total)s actions done)",
            title=st.title,
            starts=day(st.starts_on),
            ends=day(st.ends_on) if st.ends_on else gettext("open-ended"),
            done=format_number(st.actions_done),
            total=format_number(st.actions_total),
        )
        for st in strategies
    ]
    return gettext(
        "Strategies aimed at this indicator (shaded on the chart): %(strategies)s.",
        strategies="; ".join(named),
    )


def trend_columns() -> list[tuple[str, str]]:
    """The trend table's columns: keys, and headings in the reader's language."""
    return [
        ("period", gettext("Period")),
        ("value", gettext("All partners")),
        ("marker", gettext("Marker")),
        ("target", gettext("Target")),
        ("baseline", gettext("Baseline")),
        ("series_break", gettext("Series break")),
        ("strategies", gettext("Strategies running")),
        ("actions_done", gettext("Actions done")),
    ]


def partner_rows(s, period: str) -> list[dict]:
    points = [p for p in s.breakdown if p.period == period]
    points.sort(key=lambda p: (p.figure.value is None, -(p.figure.value or 0)))
    return [
        {"partner": p.label, "value": p.figure.value, "marker": p.figure.marker or ""}
        for p in points
    ]


def partner_columns() -> list[tuple[str, str]]:
    return [
        ("partner", gettext("Partner")),
        ("value", gettext("Value")),
        ("marker", gettext("Marker")),
    ]


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
                    "gap": point.target.gap if point.target else point.gap,
                    "expected_gap": point.target.expected if point.target else None,
                    "gap_status": figures.gap_status_text(point.target and point.target.status),
                }
            )
    return rows


def equity_columns() -> list[tuple[str, str]]:
    return [
        ("period", gettext("Period")),
        ("category", gettext("Category")),
        ("value", gettext("Value")),
        ("marker", gettext("Marker")),
        ("gap", gettext("Gap (best − worst)")),
        ("expected_gap", gettext("Gap expected")),
        ("gap_status", gettext("Against the gap target")),
    ]


def _failed(exc: DomainError):
    return EMPTY, error_alert(exc, what=gettext("That indicator"))


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
        strategies, marks = data.indicator_strategies(initiative, code, [p.period for p in s.total])
    except DomainError as exc:
        return _failed(exc)
    return figures.trend(s, marks), data_table(
        "trend",
        trend_columns(),
        trend_rows(s, marks),
        f"{initiative}-{code}-trend.csv",
        caption=strategies_caption(strategies),
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
        s = data.indicator_series(initiative, code, by="partner", period=period)
    except DomainError as exc:
        return _failed(exc)
    rows = partner_rows(s, period)
    table = data_table(
        "partners", partner_columns(), rows, f"{initiative}-{code}-{period}-partners.csv"
    )
    if not rows:
        why = (
            gettext(
                "%(code)s is computed from %(expression)s: no partner reports it, and each "
                "input's own page compares its partners.",
                code=code,
                expression=s.expression,
            )
            if s.expression is not None
            else gettext(
                "No partner figures of %(period)s that you may see for this indicator: "
                "partners see their own organisation's, and only for what it reports.",
                period=period,
            )
        )
        table = html.Div(
            [
                html.P(
                    why,
                    className="small text-muted",
                    id="indicator-partners-none",
                ),
                table,
            ]
        )
    return figures.partner_bars(s, period), [table, partner_history_links(s, initiative, period)]


@callback(
    Output("indicator-equity", "figure"),
    Output("indicator-equity-gap", "figure"),
    Output("indicator-equity-table", "children"),
    Input("indicator-initiative", "value"),
    Input("indicator-code", "value"),
    Input("indicator-by", "value"),
)
def indicator_equity(initiative, code, by):
    if not (initiative and code):
        return EMPTY, EMPTY, None
    if not by:
        return (
            EMPTY,
            EMPTY,
            html.P(gettext("This indicator has no disaggregation."), className="text-muted"),
        )
    try:
        e = data.indicator_equity(initiative, code, by)
    except DomainError as exc:
        return (EMPTY, *_failed(exc))
    _shown, left_out = figures.equity_shown(e)
    hidden = any(
        figure.marker for point in e.points for _k, label, figure in point.categories
        if label in left_out
    )  # fmt: skip
    note = (
        html.P(
            gettext(
                "Not drawn, with no figure to show in any period: %(categories)s.",
                categories=", ".join(left_out),
            )
            + (
                " " + gettext("Their markers in the table say why they are hidden.")
                if hidden
                else ""
            ),
            className="small text-muted mb-1",
            id="indicator-equity-left-out",
        )
        if left_out
        else None
    )
    table = data_table(
        "equity", equity_columns(), equity_rows(e), f"{initiative}-{code}-{by}-equity.csv"
    )
    if e.cross_tab is not None:  # a cross-tab: its pairs as a grid, hidden ones marked
        return figures.cross_tab_heatmap(e), figures.equity_gap(e), table
    return figures.equity_lines(e), figures.equity_gap(e), html.Div([note, table])


@callback(
    Output("indicator-by", "options"),
    Output("indicator-by", "value"),
    Output("indicator-title", "children"),
    Output("indicator-kind", "children"),
    Output("indicator-ttc-link", "href"),
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
        return [], None, dash.no_update, dash.no_update, dash.no_update
    dims = chosen["dimensions"]
    return (
        [{"label": n, "value": c} for c, n in dims],
        dims[0][0] if dims else None,
        chosen["name"],
        kind_line(chosen, choices, initiative),
        page_url("/turn-the-curve", initiative=initiative, code=code),
    )


@callback(
    Output("indicator-code", "options"),
    Output("indicator-code", "value"),
    Input("indicator-initiative", "value"),
    State("indicator-code", "value"),
    prevent_initial_call=True,
)
def indicator_codes(initiative, code):
    """Another initiative has other indicators: offer its own, a partner's first, keeping
    the chosen one where it has it too."""
    return picker_for(initiative, code)


@callback(
    Output("indicator-period", "options"),
    Output("indicator-period", "value"),
    Input("indicator-code", "value"),
    State("indicator-initiative", "value"),
    State("indicator-period", "value"),
    prevent_initial_call=True,
)
def indicator_periods(code, initiative, period):
    """The periods with figures of the chosen indicator (latest first), keeping the chosen
    one where the indicator has it."""
    if not (initiative and code):
        return [], None
    try:
        periods = data.indicator_series(initiative, code).periods
    except DomainError:
        return [], None
    options = [{"label": p, "value": p} for p in reversed(periods)]
    return options, period if period in periods else (periods[-1] if periods else None)


@callback(
    Output("indicator-story-editor", "hidden"),
    Output("indicator-story-text", "value"),
    Output("indicator-story-version", "data"),
    Output("indicator-story-published", "children"),
    Output("indicator-story-note", "children"),
    Input("indicator-initiative", "value"),
    Input("indicator-code", "value"),
    Input("indicator-period", "value"),
)
def indicator_story(initiative, code, period):
    """The period's story: the editor with the current text for the backbone team, the
    published story for everyone else."""
    if not (initiative and code and period):
        return True, "", None, "", ""
    try:
        panel = data.story_panel(initiative, code, period)
    except DomainError as exc:
        return True, "", None, "", error_alert(exc, what=gettext("That story"))
    story = panel.story
    if panel.can_write:
        return (
            False,
            story.text if story else "",
            story.version if story else 0,
            "",
            story_note(panel, period),
        )
    return True, "", None, data.story_html(story.text if story else ""), story_note(panel, period)


@callback(
    Output("indicator-story-preview", "children"),
    Output("indicator-story-count", "children"),
    Input("indicator-story-text", "value"),
)
def indicator_story_preview(text):
    """The preview, drawn by the renderer every page uses."""
    text = text or ""
    return data.story_html(text), gettext(
        "%(used)s / %(most)s characters",
        used=format_number(len(text)),
        most=format_number(data.STORY_MAX_LENGTH),
    )


@callback(
    Output("indicator-story-status", "children"),
    Output("indicator-story-version", "data", allow_duplicate=True),
    Output("indicator-story-note", "children", allow_duplicate=True),
    Input("indicator-story-save", "n_clicks"),
    State("indicator-initiative", "value"),
    State("indicator-code", "value"),
    State("indicator-period", "value"),
    State("indicator-story-text", "value"),
    State("indicator-story-version", "data"),
    prevent_initial_call=True,
)
def indicator_story_save(clicks, initiative, code, period, text, version):
    if not (clicks and initiative and code and period):
        return dash.no_update, dash.no_update, dash.no_update
    try:
        story = data.save_story(initiative, code, period, text or "", version)
        panel = data.story_panel(initiative, code, period)
    except DomainError as exc:
        return error_alert(exc, what=gettext("That story")), dash.no_update, dash.no_update
    saved = dbc.Alert(
        gettext("Saved as version %(version)s.", version=story.version),
        color="success",
        className="mb-0 py-2",
        id="indicator-story-saved",
    )
    return saved, story.version, story_note(panel, period)


sync_url("indicator", "initiative", "code", "by", "period")
