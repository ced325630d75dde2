"""Overview: the scorecard of every indicator, grouped by outcome, for one period.

Within an outcome each population indicator comes first, then the partners' performance measures
that contribute to it, by how much / how well / better off (README, "Two kinds of measure");
performance measures linked to no population indicator on the page come after.

Backbone staff see exact figures; funders and reporters see them suppressed (the domain decides:
``models.analytics.views.scorecard`` applies the initiative's threshold for anyone but the backbone).
The outcome and period filters are kept in the address bar, so a view can be shared.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures
from dashboard.components.charts import described_chart
from dashboard.components.common import error_alert, page_url, sync_url
from dashboard.components.kinds import arrange
from dashboard.components.page import enter, frame, initiative_picker, no_figures, picker, pickers
from dashboard.data import DomainError, day
from models.analytics.views import basis_note, basis_words, trend_words
from models.core import i18n
from models.core.i18n import format_number, gettext, lazy_gettext, ngettext

dash.register_page(
    __name__,
    path="/overview",
    title=lambda **_: gettext("Overview · Common Measure"),
    name="Overview",
)

# Each status's words, in the reader's language, and its colour.
STATUS = {
    "met": (lazy_gettext("met"), "success"),
    "on_track": (lazy_gettext("on track"), "info"),
    "off_track": (lazy_gettext("off track"), "danger"),
    "incomplete": (lazy_gettext("incomplete"), "warning"),
    "no_data": (lazy_gettext("no data"), "secondary"),
    "hidden": (lazy_gettext("hidden"), "secondary"),
    "no_target": (lazy_gettext("no target"), "light"),
}
TREND = {"improving": "▲", "worsening": "▼", "steady": "▶"}
MINUS = "\u2212"  # a real minus sign: "−12 %" reads as negative, "-12 %" as a dash
NBSP = "\u00a0"  # between a number and its "%", so a narrow column does not split them


def status_words(status: str) -> tuple[str, str]:
    """A status's words (a plain string, as Dash sends it) and its colour."""
    words, colour = STATUS.get(status, (status, "secondary"))
    return str(words), colour


def expected_words(kind: str | None, default: str = "") -> str:
    """Where the figure expected by a period comes from (models.analytics.views._target_for)."""
    return {
        "interim": gettext("its interim target for the period"),
        "trajectory": gettext("on the straight line from the baseline to the target"),
        "end": gettext("the target itself"),
    }.get(kind or "", default)


def incomplete_text() -> str:
    return gettext(
        "Too few of the partners expected to report this figure did: it is not judged against "
        "its target until they do."
    )


def fmt(value: float | None, decimals: int = 1) -> str:
    """A figure with the row's decimals, written the reader's way (``1,234.5`` /
    ``1.234,5``)."""
    if value is None:
        return "—"
    return format_number(value, digits=decimals)


def layout(
    initiative: str | None = None, period: str | None = None, outcome: str | None = None, **_
):
    entry = enter(
        "/overview",
        "overview",
        data.analytics_workspaces,
        no_figures(),
        initiative=initiative,
        period=period,
        outcome=outcome,
    )
    if entry.instead is not None:
        return entry.instead
    try:
        card, outcomes, _legend = data.overview(entry.slug, None, None)
    except DomainError as exc:
        return error_alert(exc)
    period, outcome = _kept(card, outcomes, period, outcome)
    return frame(
        "overview",
        gettext("Overview"),
        gettext("Every indicator's latest figure against its baseline and target."),
        pickers(
            initiative_picker("overview", entry, md=4),
            picker(
                gettext("Outcome"),
                "overview-outcome",
                _outcome_options(outcomes),
                outcome,
                md=5,
                placeholder=gettext("All outcomes"),
            ),
            picker(
                gettext("Period"),
                "overview-period",
                _period_options(card, period),
                period,
                md=3,
                clearable=False,
            ),
        ),
        # Said to a screen reader when a filter changes what the scorecard shows (WCAG 4.1.3);
        # it stays in the page while the scorecard under it is redrawn.
        html.Div(id="overview-status", role="status", className="visually-hidden"),
        dcc.Loading(html.Div(id="overview-body"), type="dot", delay_show=400),
    )


# --- pieces ---------------------------------------------------------------------------------


def _kept(card, outcomes, period: str | None, outcome: str | None) -> tuple[str, str | None]:
    """The chosen period and outcome where the initiative has them; else its latest period
    and all outcomes."""
    return (
        period if period in card.periods else card.period,
        outcome if outcome in dict(outcomes) else None,
    )


def _outcome_options(outcomes: list[tuple[str, str | None]]) -> list[dict]:
    return [{"label": name or code, "value": code} for code, name in outcomes]


def _period_options(card, chosen: str | None) -> list[dict]:
    """The periods that have opened, newest first (a future quarter would show only "no
    data"); a period chosen otherwise (a shared URL) is offered too, so the picker shows it."""
    keys = list(reversed(card.opened))
    if chosen and chosen not in keys:
        keys.insert(0, chosen)
    return [{"label": key, "value": key} for key in keys]


def _value(row, legend: dict[str, str], ident: str):
    cur = row.current
    if cur.value is None and cur.marker:
        return html.Span(
            [
                html.Span(cur.marker, className="cm-marker", id=ident),
                dbc.Tooltip(legend.get(cur.marker, cur.reason or gettext("hidden")), target=ident),
            ]
        )
    text = fmt(cur.value, row.decimals)
    unit = f" {row.unit}" if row.unit and cur.value is not None else ""
    return html.Span([html.Span(text, className="cm-current"), html.Small(unit)])


def percent(share: float) -> str:
    """A share as the page writes it: ``0.83`` → ``83 %``, ``-0.12`` → ``−12 %``."""
    pct = round(share * 100)
    return f"{MINUS if pct < 0 else ''}{format_number(abs(pct))}{NBSP}%"


def progress_text(row) -> str:
    """How the progress figure is computed, with the row's own numbers."""
    start = fmt(row.baseline, row.decimals)
    if row.baseline_period:
        start += f" ({row.baseline_period})"
    end = fmt(row.end_target, row.decimals)
    if row.end_target_period:
        end += f" ({row.end_target_period})"
    values = {"share": percent(row.progress), "start": start, "end": end}
    if row.progress < 0:
        return gettext(
            "%(share)s of the way from the baseline %(start)s to the target %(end)s: the "
            "figure has moved away from the target, below where it started.",
            **values,
        )
    if row.progress > 1:
        return gettext(
            "%(share)s of the way from the baseline %(start)s to the target %(end)s: past the "
            "target.",
            **values,
        )
    return gettext(
        "%(share)s of the way from the baseline %(start)s to the target %(end)s.", **values
    )


def _progress(row):
    """Progress toward the target the Target column shows: a bar and its number. A negative
    one fills from the right, in red, and says so in words (a colour alone is not read by
    everyone); past the target the bar is full and the number says how far."""
    if row.progress is None:
        if row.status == "incomplete":
            return html.Small(
                gettext("incomplete"), className="text-muted", title=incomplete_text()
            )
        why = (
            gettext("no baseline or target to measure from") if row.end_target is not None else None
        )
        if row.baseline_withheld:
            why = gettext("the baseline is not shown: the figure of its period is hidden")
        return html.Small("—", className="text-muted", title=why)
    pct = row.progress * 100
    backwards = pct < 0
    incomplete = row.status == "incomplete"
    colour = "danger" if backwards else status_words(row.status)[1]
    bar = dbc.Progress(
        value=min(100.0, abs(pct)),
        color="secondary" if incomplete else colour,
        striped=incomplete,
        style={
            "height": "0.75rem",
            "minWidth": "4rem",
            # A bar going the other way: it fills from the right end.
            **({"flexDirection": "row-reverse"} if backwards else {}),
        },
        className="cm-progress flex-grow-1"
        + (" cm-progress-incomplete" if incomplete else "")
        + (" cm-progress-negative" if backwards else ""),
    )
    title = progress_text(row)
    if incomplete:  # backbone: the number, greyed and said to be partial
        title += " " + gettext("The figure is incomplete.")
    parts = [
        html.Div(
            [
                # The bar draws the number beside it; a screen reader reads the number only.
                html.Div(bar, className="flex-grow-1", **{"aria-hidden": "true"}),
                html.Span(percent(row.progress), className="small ms-2 cm-progress-label"),
            ],
            className="d-flex align-items-center",
        )
    ]
    if backwards:
        parts.append(html.Div(gettext("worse than baseline"), className="small text-danger"))
    return html.Div(parts, title=title)


def _target(row, period: str):
    """The target progress is measured toward (its value and the period it is set for), and
    under it the figure expected by this period on the way there, which on/off track judge."""
    if row.end_target is None and row.target is None:
        return html.Span("—", className="text-muted")
    if row.end_target is None:  # only a target for this period: it is what the row shows
        return html.Div(
            [
                html.Span(fmt(row.target, row.decimals), className="cm-target"),
                html.Div(gettext("for %(period)s", period=period), className="small text-muted"),
            ]
        )
    parts = [
        html.Span(fmt(row.end_target, row.decimals), className="cm-target"),
        html.Div(
            gettext("by %(period)s", period=row.end_target_period)
            if row.end_target_period
            else gettext("end target"),
            className="small text-muted cm-target-period",
        ),
    ]
    if row.target is not None and row.target_kind != "end":
        parts.append(
            html.Div(
                gettext("now %(value)s", value=fmt(row.target, row.decimals)),
                className="small text-muted cm-target-now",
                title=gettext(
                    "Expected by %(period)s: %(value)s, %(how)s. On track means at or better "
                    "than this.",
                    period=period,
                    value=fmt(row.target, row.decimals),
                    how=expected_words(row.target_kind, gettext("on the way to the target")),
                ),
            )
        )
    return html.Div(parts)


def status_title(row, period: str) -> str | None:
    """What the status means for this row, with its numbers."""
    expected = fmt(row.target, row.decimals)
    how = expected_words(row.target_kind)
    if row.status == "met":
        return gettext(
            "Met: the figure has reached the target of %(target)s.",
            target=fmt(row.end_target, row.decimals),
        )
    if row.status == "on_track":
        return gettext(
            "On track: at or better than the %(expected)s expected by %(period)s (%(how)s).",
            expected=expected,
            period=period,
            how=how,
        )
    if row.status == "off_track":
        return gettext(
            "Off track: behind the %(expected)s expected by %(period)s (%(how)s).",
            expected=expected,
            period=period,
            how=how,
        )
    if row.status == "incomplete":
        return incomplete_text()
    if row.status == "no_target":
        return gettext("No target is set for this indicator.")
    if row.status == "hidden":
        return gettext("The figure is hidden from you, so it is not judged here.")
    return None


def coverage_text(row) -> str:
    """Who the figure is made of: "3 of 4 partners", with the share of their usual size
    where the viewer may know it (backbone)."""
    if row.expression:  # nobody reports it: its inputs' partners do
        return gettext("computed: %(expression)s", expression=row.expression)
    if row.reported is None:  # the count would name a partner
        return ngettext(
            "%(n)s partner expected; too few reported to tell",
            "%(n)s partners expected; too few reported to tell",
            row.expected,
        )
    if row.share is not None and 0 < row.reported < row.expected:
        return ngettext(
            "%(reported)s of %(n)s partner, %(share)s of the usual size",
            "%(reported)s of %(n)s partners, %(share)s of the usual size",
            row.expected,
            reported=row.reported,
            share=format_percent_text(row.share),
        )
    return ngettext(
        "%(reported)s of %(n)s partner",
        "%(reported)s of %(n)s partners",
        row.expected,
        reported=row.reported,
    )


def format_percent_text(share: float) -> str:
    """A share as a whole percentage with a space before the sign (``83 %``)."""
    return f"{format_number(round(share * 100))} %"


def _coverage(row):
    badge = None
    if not row.complete and row.status != "incomplete" and row.reported != 0:
        badge = dbc.Badge(
            gettext("incomplete"),
            color="warning",
            text_color="dark",
            className="ms-1 cm-incomplete",
            title=incomplete_text(),
        )
    return [html.Span(coverage_text(row), className="cm-coverage"), badge]


def _trend(row):
    """The arrow, and what it compares when that is not every partner (like with like)."""
    if row.trend is None:
        return None
    words, basis = trend_words(row.trend) or "", basis_words(row)
    title = f"{words}, {basis}" if basis else words
    if row.trend_previous is not None and row.trend_current is not None:
        title += (
            f": {fmt(row.trend_previous, row.decimals)} → {fmt(row.trend_current, row.decimals)}"
        )
    arrow = html.Span(TREND.get(row.trend, ""), title=title, className="ms-2 cm-trend")
    note = basis_note(row)
    if note is None:
        return arrow
    return html.Span(
        [
            arrow,
            html.Div(
                note,
                className="small text-muted text-wrap cm-trend-basis",
            ),
        ]
    )


def _row(row, card, legend, ident: str | None = None, kind: str = "population"):
    """One indicator's row; ``ident`` tells apart a performance measure shown under a second
    population indicator (its first place keeps ``ov-row-<code>``)."""
    ident = ident or row.code
    status, colour = status_words(row.status)
    explained = status_title(row, card.period)
    link = page_url("/indicator", initiative=card.initiative, code=row.code, period=card.period)
    spark = described_chart(
        dcc.Graph(
            figure=figures.sparkline(row.sparkline),
            config={"staticPlot": True, "displayModeBar": False},
            style={"height": "40px", "width": "140px"},
            className="cm-sparkline",
        ),
        table="hidden",  # the row reads the current figure; the indicator page, the series
        className="mb-0",
    )
    return html.Tr(
        [
            html.Td(
                [
                    dcc.Link(row.name, href=link, className="fw-semibold"),
                    html.Div(row.code, className="small text-muted"),
                ],
                className="ps-4" if kind == "performance" else None,
            ),
            html.Td(_value(row, legend, f"ov-marker-{ident}"), className="text-end text-nowrap"),
            html.Td(_target(row, card.period), className="text-end text-nowrap"),
            html.Td(_progress(row), style={"minWidth": "7rem"}),
            html.Td(
                [
                    dbc.Badge(
                        status,
                        color=colour,
                        className="text-uppercase cm-status",
                        title=explained,
                        **({"text_color": "dark"} if row.status == "incomplete" else {}),
                    ),
                    _trend(row),
                    dbc.Badge(
                        gettext("series break"),
                        color="warning",
                        text_color="dark",
                        className="ms-1",
                        title=series_break_text(),
                    )
                    if row.series_break
                    else None,
                    *_gap_badges(row),
                ],
                className="text-nowrap",
            ),
            html.Td(spark, className="d-none d-md-table-cell"),
            html.Td(_coverage(row), className="small text-nowrap"),
        ],
        id=f"ov-row-{ident}",
        className=f"cm-scorecard-row cm-{kind}-row",
    )


def contribution_text() -> str:
    return gettext(
        "Partners' performance measures that bear on it: contribution, not attribution (each "
        "programme plays a part in the curve above; none moves it alone)."
    )


def unlinked_text() -> str:
    return gettext("Performance measures linked to no population indicator on this page")


def _caption_row(text: str, class_name: str):
    return html.Tr(html.Td(text, colSpan=len(COLUMNS), className=class_name))


def _table_rows(entries: list[tuple[str, object]], card, legend, placed: set[str]) -> list:
    """The table rows of one outcome; ``placed`` holds the codes whose row is already on the
    page (a measure contributing to two population indicators is shown under both)."""
    out: list = []
    under = None
    for role, item in entries:
        if role == "population":
            placed.add(item.code)
            out.append(_row(item, card, legend))
        elif role == "contribution":
            under = item
            out.append(
                _caption_row(contribution_text(), "small text-muted fst-italic cm-contribution")
            )
        elif role == "unlinked":
            under = None
            out.append(_caption_row(unlinked_text(), "small fw-semibold cm-unlinked"))
        elif role == "type":
            out.append(_caption_row(str(item), "small fw-semibold ps-3 cm-performance-type"))
        else:
            again = item.code in placed
            placed.add(item.code)
            ident = f"{item.code}-under-{under}" if again else item.code
            out.append(_row(item, card, legend, ident, "performance"))
    return out


def _gap_badges(row) -> list:
    """A small badge per gap target of the indicator: the period's gap judged against it
    (models.analytics.views.judge_gap), from the category figures the viewer may see."""
    badges = []
    for gap in row.gap_targets:
        status, colour = status_words(gap.status)
        if gap.gap is not None:
            title = gettext(
                "Gap between the best and worst %(dimension)s group: %(status)s (gap %(gap)s, "
                "expected %(expected)s)",
                dimension=gap.dimension_name,
                status=status,
                gap=fmt(gap.gap, row.decimals),
                expected=fmt(gap.expected, row.decimals),
            )
        elif gap.status == "hidden":
            title = gettext(
                "Gap between the best and worst %(dimension)s group: %(status)s (a group's "
                "figure is hidden, so the gap is not known)",
                dimension=gap.dimension_name,
                status=status,
            )
        else:
            title = gettext(
                "Gap between the best and worst %(dimension)s group: %(status)s",
                dimension=gap.dimension_name,
                status=status,
            )
        badges.append(
            html.Div(
                dbc.Badge(
                    gettext(
                        "gap by %(dimension)s: %(status)s",
                        dimension=gap.dimension_name,
                        status=status,
                    ),
                    color=colour,
                    className="cm-gap-status fw-normal",
                    title=title,
                    **({"text_color": "dark"} if gap.status == "incomplete" else {}),
                ),
                id=f"ov-gap-{row.code}-{gap.dimension}",
                className="mt-1",
            )
        )
    return badges


COLUMNS = ("indicator", "current", "target", "progress", "status", "over_time", "partners")


def header() -> html.Thead:
    """The scorecard's column headings, in the reader's language."""
    return html.Thead(
        html.Tr(
            [
                html.Th(gettext("Indicator")),
                html.Th(gettext("Current"), className="text-end"),
                html.Th(
                    gettext("Target"),
                    className="text-end",
                    title=gettext(
                        "The target and the period it is set for; under it, the figure "
                        "expected by now"
                    ),
                ),
                html.Th(
                    gettext("Progress"),
                    title=gettext("From the baseline (0 %) to the target (100 %)"),
                ),
                html.Th(
                    gettext("Status"),
                    title=gettext("Judged against the figure expected by now; ▲ ▼ ▶: trend"),
                ),
                html.Th(gettext("Over time"), className="d-none d-md-table-cell"),
                html.Th(gettext("Partners reported")),
            ]
        )
    )


def series_break_text() -> str:
    return gettext(
        "The indicator's definition changed at this period: figures before it are not "
        "directly comparable."
    )


def legend_box(card, markers: dict[str, str]) -> html.Div:
    """How to read the table: target and progress, the statuses, the trend arrows, and the
    markers of hidden figures that appear on the page."""
    steady = f"{i18n.short_number(data.STEADY * 100)} %"
    items = [
        (
            gettext("Target"),
            gettext(
                "the indicator's target and the period it is set for; under it, the figure "
                "expected by now on the way there."
            ),
        ),
        (
            gettext("Progress"),
            gettext(
                "how far the figure has come from its baseline toward that target: 0 %% at the "
                "baseline, 100 %% at the target. A red bar filling from the right with a minus "
                "sign (%(example)s) means the figure is worse than its baseline.",
                example=f"{MINUS}12{NBSP}%",
            ),
        ),
        (
            gettext("Status"),
            gettext(
                "met: the target is reached · on track: at or better than the figure expected by "
                "now · off track: behind it · incomplete: too few partners reported to judge. "
                "Hover a status for its numbers."
            ),
        ),
        (
            gettext("Trend"),
            gettext(
                "since the previous period: ▲ better · ▼ worse · ▶ steady (a change under "
                "%(steady)s). Better follows the indicator's direction: where lower is better, "
                "a fall is ▲.",
                steady=steady,
            ),
        ),
    ]
    if any(row.kind == "performance" for row in card.rows):
        items.append(
            (
                gettext("Population and performance"),
                gettext(
                    "each population indicator (how the whole community is doing) comes "
                    "first; under it, indented, the partners' performance measures that bear "
                    "on it: how much they did, how well, and whether anyone is better off."
                ),
            )
        )
    seen = {
        row.current.marker
        for row in card.rows
        if row.current.value is None and row.current.marker in markers
    }
    items += [(marker, markers[marker]) for marker in markers if marker in seen]
    return html.Div(
        [
            html.Div(gettext("How to read the table"), className="fw-semibold mb-1"),
            html.Ul(
                [
                    html.Li([html.Strong(term, className="me-1"), text], className="mb-1")
                    for term, text in items
                ],
                className="mb-0 ps-3",
            ),
        ],
        className="small border rounded p-2 mb-3 bg-light cm-legend",
        id="overview-legend",
    )


def _incomplete_caption() -> str:
    return " " + gettext(
        "A figure is incomplete when not every partner expected to report it did and those "
        "who did make up less than %(share)s of their usual size: it is not judged against "
        "its target. When the partners differ from the previous period, the trend compares "
        "those that reported in both.",
        share=format_percent_text(data.coverage_min_share()),
    )


def strategies_section(card, strategies) -> list:
    """The strategies the viewer may read that aim at an indicator shown (README: Strategies):
    title, owners, the indicators aimed at, dates and actions done of those planned."""
    shown = {r.code: r.name for r in card.rows}
    aimed = [s for s in strategies if shown.keys() & set(s.indicators)]
    if not aimed:
        return []
    rows = [
        html.Tr(
            [
                html.Td(
                    dcc.Link(
                        s.title,
                        href=page_url("/strategies", initiative=card.initiative, code=s.code),
                        className="fw-semibold",
                    )
                ),
                html.Td(", ".join(o.name for o in s.owners) or "—"),
                html.Td(", ".join(shown[c] for c in s.indicators if c in shown)),
                html.Td(
                    f"{day(s.starts_on)} – "
                    + (day(s.ends_on) if s.ends_on else gettext("open-ended")),
                    className="text-nowrap",
                ),
                html.Td(f"{s.actions_done} / {s.actions_total}", className="text-end"),
            ],
            id=f"ov-strategy-{s.code}",
        )
        for s in aimed
    ]
    heading = html.Thead(
        html.Tr(
            [
                html.Th(gettext("Strategy")),
                html.Th(gettext("Owners")),
                html.Th(gettext("Aims at")),
                html.Th(gettext("Runs")),
                html.Th(gettext("Actions done"), className="text-end"),
            ]
        )
    )
    return [
        html.H2(
            [
                gettext("Strategies") + " ",
                dcc.Link(
                    gettext("all strategies"),
                    href=page_url("/strategies", initiative=card.initiative),
                    className="small fw-normal",
                ),
            ],
            className="h5 mt-4",
            id="overview-strategies",
        ),
        html.Div(
            dbc.Table([heading, html.Tbody(rows)], size="sm", className="align-middle mb-2"),
            className="table-responsive",
        ),
    ]


def scorecard_body(card, legend, strategies=()) -> html.Div:
    parts: list = [
        html.P(
            [
                gettext(
                    "%(initiative)s · period %(period)s. ",
                    initiative=card.initiative_name,
                    period=card.period,
                ),
                gettext(
                    "Figures are those the backbone team has published for the period. "
                    "Figures based on fewer than %(threshold)s people, reported by fewer than "
                    "%(partners)s partners, or made up almost entirely by one partner are "
                    "hidden, with a marker that says why (hover it), and so are figures they "
                    "could be worked out from.",
                    threshold=format_number(card.threshold),
                    partners=format_number(data.min_contributors()),
                )
                if card.suppressed
                else gettext("You see exact figures (backbone team)."),
                _incomplete_caption(),
            ],
            className="small text-muted",
            id="overview-caption",
        ),
        legend_box(card, legend),
    ]
    placed: set[str] = set()
    for (code, name), entries in arrange(card.rows):
        parts.append(html.H2(name or code or gettext("Other indicators"), className="h5 mt-4"))
        parts.append(
            html.Div(
                dbc.Table(
                    [header(), html.Tbody(_table_rows(entries, card, legend, placed))],
                    hover=True,
                    size="sm",
                    className="align-middle mb-2 cm-scorecard",
                ),
                className="table-responsive",
            )
        )
    if not card.rows:
        parts.append(dbc.Alert(gettext("No indicators yet."), color="info"))
    parts += strategies_section(card, strategies)
    return html.Div(parts, id="overview-scorecard")


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("overview-body", "children"),
    Output("overview-status", "children"),
    Input("overview-initiative", "value"),
    Input("overview-period", "value"),
    Input("overview-outcome", "value"),
)
def overview_scorecard(initiative, period, outcome):
    """The scorecard for the cookie's user: nothing at all for anyone who may not see it."""
    if not initiative:
        return None, ""
    try:
        card, legend, strategies = data.overview_scorecard(initiative, period, outcome)
    except DomainError as exc:
        return error_alert(exc, what=gettext("That initiative")), ""
    said = ngettext(
        "%(initiative)s · period %(period)s: %(n)s indicator.",
        "%(initiative)s · period %(period)s: %(n)s indicators.",
        len(card.rows),
        initiative=card.initiative_name,
        period=card.period,
    )
    return scorecard_body(card, legend, strategies), said


@callback(
    Output("overview-period", "options"),
    Output("overview-period", "value"),
    Output("overview-outcome", "options"),
    Output("overview-outcome", "value"),
    Input("overview-initiative", "value"),
    State("overview-period", "value"),
    State("overview-outcome", "value"),
    prevent_initial_call=True,
)
def overview_choices(initiative, period, outcome):
    """Another initiative has other periods and outcomes: offer its own, keeping the chosen
    period and outcome where it has them too. Dash runs the scorecard after this."""
    if not initiative:
        return [], None, [], None
    try:
        card, outcomes, _legend = data.overview(initiative, None, None)
    except DomainError:
        return [], None, [], None  # the scorecard callback explains
    period, outcome = _kept(card, outcomes, period, outcome)
    return _period_options(card, period), period, _outcome_options(outcomes), outcome


sync_url("overview", "initiative", "period", "outcome")
