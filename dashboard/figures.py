"""Pure figure builders: domain results in, Plotly figures out. No data access here.

Colours follow the Okabe–Ito palette, which stays distinguishable for colour-blind readers,
with its light tones (orange, sky blue, yellow) darkened so that every mark keeps 3:1 against
the white plot (WCAG 1.4.11); tests/dashboard/test_palette.py checks both. Colour is never the
only signal: series also differ in dash and marker, heat-map cells carry a symbol.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.io as pio

from dashboard.data import Completeness, Equity, Series, StrategyMark, TurnTheCurve, day
from models.core import i18n
from models.core.i18n import gettext, lazy_gettext
from models.reporting.words import status_name

OKABE_ITO = [
    "#0072B2",  # blue
    "#A86800",  # orange, darkened
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#3D8FC6",  # sky blue, darkened
    "#D55E00",  # vermillion
    "#6B6B6B",  # grey (in place of the yellow, which no white plot can show at 3:1)
    "#000000",
]
# Lines drawn side by side (a breakdown's categories): six colours that stay apart under every
# colour-vision deficiency, each line with a dash and a marker of its own besides.
SERIES = [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[7], OKABE_ITO[6]]
SERIES_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
SERIES_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star"]
STATUS_COLOURS = {
    "met": "#009E73",
    "on_track": "#0072B2",
    "off_track": "#D55E00",
    "incomplete": "#A86800",
    "no_data": "#767676",
    "hidden": "#767676",
    "no_target": "#767676",
}
STATE_ORDER = ["approved", "submitted", "draft", "returned", "missing"]
# Heat-map fills: the cells carry their state's symbol (STATE_SYMBOLS), so the fills may stay
# light enough for the black symbol to read on every one of them.
STATE_COLOURS = ["#009E73", "#56B4E9", "#F0E442", "#E69F00", "#D55E00"]
STATE_SYMBOLS = {"approved": "✓", "submitted": "↑", "draft": "✎", "returned": "↩", "missing": "✗"}
LATE_MARK = "•"
TEXT_VERMILLION = "#A94700"  # vermillion dark enough for small text (4.5:1) on the white plot
LATE_DOT = lazy_gettext("late: first submitted after the due date, or due and not submitted")
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
# Plotly's default look, which every figure carries as go.Figure would give it.
TEMPLATE = pio.templates["plotly"].to_plotly_json()


def _merged(base: dict, more: dict) -> dict:
    """``base`` with ``more`` laid over it, nested dicts key by key, a None leaving the
    property as it was (as Plotly's ``update`` does); neither is changed."""
    out = dict(base)
    for key, value in more.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _layout(title: str | None = None, height: int = 360, **more) -> dict:
    """The layout every chart shares, with ``more`` laid over it (see :func:`_merged`).

    Figures are plain dicts, exactly as ``go.Figure`` would send them (its default template
    included): building graph objects spent most of a chart callback in Plotly's property
    validation, for figures whose every property is fixed here.
    """
    layout = {
        "template": TEMPLATE,
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 50 if title else 20, "b": 40},
        "font": {"family": FONT, "size": 12},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2, "x": 0},
        "hovermode": "x unified",
        "xaxis": {"showgrid": False, "linecolor": "#ccc", "type": "category"},
        "yaxis": {"gridcolor": "#eee", "zeroline": False},
    }
    if title:
        layout["title"] = {"text": title, "x": 0, "font": {"size": 15}}
    if i18n.current_locale() != i18n.DEFAULT_LOCALE:
        layout["separators"] = i18n.number_separators()  # "1.234,5" (README, "Languages")
    return _merged(layout, more)


def _separators() -> dict:
    """The number marks a chart in the reader's language writes (README, "Languages")."""
    if i18n.current_locale() == i18n.DEFAULT_LOCALE:
        return {}
    return {"separators": i18n.number_separators()}


def _num(value: float, digits: int | None = None) -> str:
    """A number written into a chart's text the reader's way (``%g`` when no ``digits``);
    in English as the charts have always written it (no group separator)."""
    if digits is None:
        return i18n.short_number(value)
    if i18n.current_locale() == i18n.DEFAULT_LOCALE:
        return f"{value:.{digits}f}"
    return i18n.format_number(value, digits=digits)


def _title(text: str | None) -> dict | None:
    """An axis title, or None (no title) for no text."""
    return None if text is None else {"text": text}


def _hline(y: float, line: dict, text: str, position: str) -> tuple[dict, dict]:
    """A horizontal line across the plot and its label at the ``position`` ("top left" or
    "top right"), as ``go.Figure.add_hline`` draws them: (shape, annotation)."""
    side = position.split()[1]
    shape = {
        "type": "line",
        "line": line,
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "y0": y,
        "y1": y,
        "yref": "y",
    }
    label = {
        "showarrow": False,
        "text": text,
        "x": 0 if side == "left" else 1,
        "xanchor": side,
        "xref": "x domain",
        "y": y,
        "yanchor": "bottom",
        "yref": "y",
    }
    return shape, label


def sparkline(points: list[tuple[str, float | None]], colour: str = OKABE_ITO[0]) -> dict:
    """A tiny trend line for a scorecard row, as a plain figure dict.

    A scorecard draws one per indicator; building them as ``go.Figure`` objects spent ~90 % of
    the overview callback in Plotly's property validation, for a figure this fixed.
    """
    return {
        "data": [
            {
                "type": "scatter",
                "x": [p for p, _ in points],
                "y": [v for _, v in points],
                "mode": "lines",
                "line": {"color": colour, "width": 2},
                "connectgaps": False,
                "hovertemplate": "%{x}: %{y:.1f}<extra></extra>",
            }
        ],
        "layout": {
            **_separators(),
            "height": 40,
            "width": 140,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False, "type": "category"},
            "yaxis": {"visible": False},
            "plot_bgcolor": "rgba(0,0,0,0)",
            "paper_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
        },
    }


# Strategy spans: translucent fills from the palette, so the curve stays readable through them.
SPAN_FILLS = ["rgba(0,114,178,0.10)", "rgba(230,159,0,0.14)", "rgba(0,158,115,0.12)"]


def _strategy_spans(
    periods: list[str], marks: Sequence[StrategyMark]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Each strategy as a shaded span over the periods it runs in (to the chart's end while
    open-ended) with its title, and its actions done as markers on a hidden 0–1 axis at the
    foot of the chart, titled in the hover: (shapes, annotations, traces)."""
    shapes, annotations = [], []
    xs, texts = [], []
    for i, mark in enumerate(m for m in marks if m.first in periods and m.last in periods):
        x0, x1 = periods.index(mark.first) - 0.5, periods.index(mark.last) + 0.5
        shapes.append(
            {
                "type": "rect",
                "layer": "below",
                "line": {"width": 0},
                "fillcolor": SPAN_FILLS[i % len(SPAN_FILLS)],
                "x0": x0,
                "x1": x1,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
            }
        )
        ends = day(mark.ends_on) if mark.ends_on else gettext("open-ended")
        annotations.append(
            {
                "x": x0,
                "y": 0.98 - 0.08 * (i % 4),
                "xref": "x",
                "yref": "y domain",
                "text": gettext("Strategy: %(title)s", title=mark.title),
                "hovertext": f"{mark.title}: {day(mark.starts_on)} – {ends}",
                "showarrow": False,
                "font": {"color": "#444", "size": 11},
                "xanchor": "left",
                "yanchor": "top",
            }
        )
        for done in mark.done:
            xs.append(done.period)
            texts.append(f"{done.title} ({day(done.done_on)}), {mark.title}")
    traces = []
    if xs:
        done = gettext("Action done")
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": [0.05] * len(xs),
                "yaxis": "y2",
                "mode": "markers",
                "name": done,
                "marker": {"symbol": "star", "size": 12, "color": OKABE_ITO[3]},
                "text": texts,
                "hovertemplate": f"%{{text}}<extra>{done}</extra>",
            }
        )
    return shapes, annotations, traces


def target_trace(targets: list[tuple[str, float | None]], dash: str) -> list[dict]:
    """The target line over the periods that have one (none without a target)."""
    points = [(p, t) for p, t in targets if t is not None]
    if not points:
        return []
    return [
        {
            "type": "scatter",
            "x": [p for p, _ in points],
            "y": [t for _, t in points],
            "mode": "lines",
            "name": gettext("Target"),
            "line": {"color": OKABE_ITO[2], "dash": dash, "width": 2},
        }
    ]


def trend(s: Series, strategies: Sequence[StrategyMark] = ()) -> dict:
    """The rollup over time with baseline, target line, series-break markers, and the
    strategies aimed at the indicator (spans) with their actions done (markers)."""
    everyone = gettext("All partners")
    data = [
        {
            "type": "scatter",
            "x": [p.period for p in s.total],
            "y": [p.figure.value for p in s.total],
            "mode": "lines+markers",
            "name": everyone,
            "line": {"color": OKABE_ITO[0], "width": 3},
            "text": [p.figure.marker or "" for p in s.total],
            "hovertemplate": f"%{{x}}: %{{y:.1f}} %{{text}}<extra>{everyone}</extra>",
        }
    ]
    data += target_trace(s.targets, "dash")
    shapes, annotations = [], []
    if s.baseline is not None:
        shape, label = _hline(
            s.baseline,
            {"color": "#767676", "dash": "dot"},
            gettext("Baseline %(value)s", value=_num(s.baseline)),
            "top left",
        )
        shapes.append(shape)
        annotations.append(label)
    for period, note in s.breaks:
        if period in s.periods:
            shapes.append(
                {
                    "type": "line",
                    "line": {"color": OKABE_ITO[5], "dash": "dot"},
                    "x0": period,
                    "x1": period,
                    "xref": "x",
                    "y0": 0,
                    "y1": 1,
                    "yref": "y domain",
                }
            )
            annotations.append(
                {
                    "x": period,
                    "y": 1,
                    "yref": "paper",
                    "text": gettext("Series break: %(note)s", note=note),
                    "showarrow": False,
                    "font": {"color": TEXT_VERMILLION, "size": 11},
                    "xanchor": "left",
                    "yanchor": "bottom",
                }
            )
    spans, titles, markers = _strategy_spans([p.period for p in s.total], strategies)
    shapes, annotations = spans + shapes, titles + annotations
    extra: dict = {"yaxis": {"title": _title(s.unit)}}
    if markers:
        data += markers
        extra["yaxis2"] = {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
    if shapes:
        extra.update(shapes=shapes, annotations=annotations)
    return {"data": data, "layout": _layout(gettext("%(name)s over time", name=s.name), **extra)}


def turn_the_curve(v: TurnTheCurve) -> dict:
    """The actual curve, the baseline forecast (dashed), the target line and the strategies
    aimed at the indicator (spans), over every period from the first figure to the end
    target's: the chart of the turn-the-curve page, as the PNG/PDF report draws it."""
    data: list[dict] = []
    data += target_trace(v.targets, "dot")
    forecast, actual = gettext("Baseline forecast"), gettext("Actual")
    if v.forecast.points:
        data.append(
            {
                "type": "scatter",
                "x": [p for p, _ in v.forecast.points],
                "y": [y for _, y in v.forecast.points],
                "mode": "lines",
                "name": forecast,
                "line": {"color": OKABE_ITO[1], "dash": "dash", "width": 2},
                "hovertemplate": f"%{{x}}: %{{y:.1f}}<extra>{forecast}</extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": [p.period for p in v.actual],
            "y": [p.figure.value for p in v.actual],
            "mode": "lines+markers",
            "name": actual,
            "line": {"color": OKABE_ITO[0], "width": 3},
            "text": [p.figure.marker or "" for p in v.actual],
            "hovertemplate": f"%{{x}}: %{{y:.1f}} %{{text}}<extra>{actual}</extra>",
        }
    )
    shapes, annotations, markers = _strategy_spans(v.periods, v.marks)
    extra: dict = {
        "yaxis": {"title": _title(v.unit)},
        "xaxis": {"categoryorder": "array", "categoryarray": v.periods},
    }
    if markers:
        data += markers
        extra["yaxis2"] = {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
    if shapes:
        extra.update(shapes=shapes, annotations=annotations)
    return {"data": data, "layout": _layout(None, height=420, **extra)}


def partner_bars(s: Series, period: str) -> dict:
    """Partners' own figures for one period, with the initiative rollup as a line. A computed
    indicator has none (no partner reports it): the chart says what it is computed from."""
    if s.expression is not None:
        note = {
            "text": gettext(
                "Computed from %(expression)s: no partner reports it.", expression=s.expression
            )
            + "<br>"
            + gettext("Each input's own page compares its partners."),
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
        }
        hidden = {"visible": False}
        return {
            "data": [],
            "layout": _layout(
                gettext("Partners, %(period)s", period=period),
                height=220,
                annotations=[note],
                xaxis=hidden,
                yaxis=hidden,
            ),
        }
    points = [p for p in s.breakdown if p.period == period]
    points.sort(key=lambda p: (p.figure.value is None, -(p.figure.value or 0)))
    bars = {
        "type": "bar",
        "x": [p.label for p in points],
        "y": [p.figure.value if p.figure.value is not None else 0 for p in points],
        "marker": {
            "color": [OKABE_ITO[4] if p.figure.value is not None else "#ddd" for p in points]
        },
        "text": [p.figure.marker or "" for p in points],
        "textposition": "outside",
        "name": gettext("Partner"),
        "hovertemplate": "%{x}: %{y:.1f} %{text}<extra></extra>",
    }
    extra: dict = {"yaxis": {"title": _title(s.unit)}, "xaxis": {"tickangle": -30}}
    total = next((p.figure.value for p in s.total if p.period == period), None)
    if total is not None:
        shape, label = _hline(
            total,
            {"color": OKABE_ITO[0], "width": 2},
            gettext("All partners %(value)s", value=_num(total, s.decimals)),
            "top right",
        )
        extra.update(shapes=[shape], annotations=[label])
    title = gettext("Partners, %(period)s", period=period)
    return {"data": [bars], "layout": _layout(title, height=420, **extra)}


def equity_shown(e: Equity) -> tuple[list[tuple[str, str]], list[str]]:
    """The categories the equity chart draws, as (key, label), and the labels of those it
    leaves out: a category without a single figure to show would be a legend entry with no
    line (the page names them, and the table under the chart has their markers)."""
    shown: dict[str, str] = {}
    labels: dict[str, str] = {}
    for point in e.points:
        for key, label, figure in point.categories:
            labels[key] = label
            if figure.value is not None:
                shown[key] = label
    ordered = [(key, label) for key, label in labels.items() if key in shown]
    return ordered, [label for key, label in labels.items() if key not in shown]


def equity_lines(e: Equity) -> dict:
    """Each category over time, on one axis in the indicator's unit; categories with no figure
    to show are left out (see :func:`equity_shown`). The gap between the best and worst
    category is a chart of its own (:func:`equity_gap`): on a second axis over the same plot
    its ticks could not be read against the lines'."""
    shown, _left_out = equity_shown(e)
    data = []
    for i, (key, label) in enumerate(shown):
        points = [
            (point.period, figure)
            for point in e.points
            for k, _label, figure in point.categories
            if k == key
        ]
        data.append(
            {
                "type": "scatter",
                "x": [period for period, _ in points],
                "y": [figure.value for _, figure in points],
                "text": [figure.marker or "" for _, figure in points],
                "mode": "lines+markers",
                "name": label,
                "line": {
                    "color": SERIES[i % len(SERIES)],
                    "dash": SERIES_DASHES[i % len(SERIES_DASHES)],
                    "width": 2,
                },
                "marker": {"symbol": SERIES_SYMBOLS[i % len(SERIES_SYMBOLS)], "size": 7},
                "hovertemplate": f"{label}: %{{y:.1f}} %{{text}}<extra></extra>",
            }
        )
    layout = _layout(
        gettext("Equity by %(dimension)s", dimension=e.dimension),
        height=380,
        yaxis={"title": _title(e.unit)},
    )
    return {"data": data, "layout": layout}


def cross_tab_heatmap(e: Equity) -> dict:
    """A cross-tab's cells in its latest period with figures, as a grid: rows × columns, each
    cell coloured by its value and labelled with it, or with its marker where it is hidden
    (README, "Cross-tabs"); hidden cells are left uncoloured."""
    axes = e.cross_tab
    assert axes is not None
    point = next((p for p in reversed(e.points) if p.categories), None)
    figures_by_key = {k: f for k, _label, f in point.categories} if point else {}
    at = {(r, c): figures_by_key.get(k) for k, r, c in axes.cells}
    rows, columns = axes.rows[2], axes.columns[2]
    z, text = [], []
    for row_key, _row_label in rows:
        z.append([])
        text.append([])
        for column_key, _column_label in columns:
            figure = at.get((row_key, column_key))
            value = figure.value if figure else None
            z[-1].append(value)
            label = "" if figure is None else figure.marker or ""
            text[-1].append(_num(value, 1) if value is not None else label)
    heat = {
        "type": "heatmap",
        "x": [label for _k, label in columns],
        "y": [label for _k, label in rows],
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "colorscale": "Viridis",
        "hoverongaps": False,
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
        "colorbar": {"title": {"text": _title(e.unit)}},
    }
    period = point.period if point else ""
    layout = _layout(
        f"{axes.rows[1]} × {axes.columns[1]}, {period}",
        height=120 + 50 * len(rows),
        hovermode="closest",
        xaxis={"side": "top"},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return {"data": [heat], "layout": layout}


def gap_status_text(status: str | None) -> str:
    """A gap target's status in words, in the reader's language."""
    return {
        "met": gettext("met"),
        "on_track": gettext("on track"),
        "off_track": gettext("off track"),
        "incomplete": gettext("incomplete"),
        "hidden": gettext("hidden"),
        "no_data": gettext("no data"),
    }.get(status or "", "")


def equity_gap(e: Equity) -> dict:
    """The gap between the best and the worst category shown, period by period: a small bar
    chart in the indicator's unit under the equity lines. With a gap target, the bars are the
    gap as judged against it (none where a category is hidden from the viewer: the gap is not
    known to it), the dashed line the gap expected by each period, and each bar says its
    status."""
    names = {key: label for point in e.points for key, label, _figure in point.categories}
    goal = e.gap_target
    judged = [p.target for p in e.points]
    gaps = [j.gap if j is not None else p.gap for p, j in zip(e.points, judged, strict=True)]
    statuses = [gap_status_text(j.status) if j is not None else "" for j in judged]
    bars = {
        "type": "bar",
        "x": [p.period for p in e.points],
        "y": gaps,
        "marker": {"color": "#6c757d"},  # grey: not one of the categories' colours
        "name": gettext("Gap"),
        "text": statuses,
        "textposition": "outside",
        "customdata": [
            [names.get(p.best or "", ""), names.get(p.worst or "", ""), status]
            for p, status in zip(e.points, statuses, strict=True)
        ],
        "hovertemplate": (
            gettext(
                "%(period)s: gap %(gap)s<br>best %(best)s, worst %(worst)s",
                period="%{x}",
                gap="%{y:.1f}",
                best="%{customdata[0]}",
                worst="%{customdata[1]}",
            )
            + ("<br>%{customdata[2]}" if goal else "")
            + "<extra></extra>"
        ),
    }
    data: list[dict] = [bars]
    title = gettext("Gap between the best and the worst category")
    if goal is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [p.period for p in e.points],
                "y": [j.expected if j is not None else None for j in judged],
                "line": {"color": "#000000", "dash": "dash", "width": 2},
                "name": gettext(
                    "Gap target: %(target)s by %(period)s",
                    target=_num(goal.target),
                    period=goal.target_period,
                ),
                "hovertemplate": gettext(
                    "%(period)s: expected gap %(gap)s", period="%{x}", gap="%{y:.1f}"
                )
                + "<extra></extra>",
            }
        )
        latest = next((s for s in reversed(statuses) if s), "")
        title = gettext(
            "Gap against the target of %(target)s by %(period)s",
            target=_num(goal.target),
            period=goal.target_period,
        ) + (f" ({e.points[-1].period}: {latest})" if latest and e.points else "")
    extra: dict = {
        "yaxis": {"title": _title(e.unit), "rangemode": "tozero"},
        "showlegend": goal is not None,
        "hovermode": "closest",
    }
    if all(g is None for g in gaps) and goal is None:
        extra["annotations"] = [
            {
                "text": gettext("No period has two categories with figures to compare."),
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"color": "#555"},
            }
        ]
    layout = _layout(title, height=260 if goal else 220, **extra)
    return {"data": data, "layout": layout}


def state_words() -> dict[str, str]:
    """A report's state as the heat map says it, in the reader's language."""
    words = {state: status_name(state) for state in STATE_ORDER}
    words["missing"] = i18n.pgettext("status", "missing")
    return words


def completeness_heatmap(c: Completeness) -> dict:
    """Members × indicators coloured by state; late cells marked with a dot."""
    members = [name for _, name in c.members]
    codes = [code for code, _ in c.indicators]
    index = {(x.organisation, x.indicator): x for x in c.cells}
    z, text, marks = [], [], []
    states = state_words()
    late = gettext("late")
    for slug, _name in c.members:
        row, row_text, row_marks = [], [], []
        for code in codes:
            cell = index.get((slug, code))
            if cell is None:
                row.append(None)
                row_text.append(gettext("not expected"))
                row_marks.append("")
            else:
                row.append(STATE_ORDER.index(cell.state))
                row_text.append(states[cell.state] + (f" · {late}" if cell.late else ""))
                row_marks.append(STATE_SYMBOLS[cell.state] + (LATE_MARK if cell.late else ""))
        z.append(row)
        text.append(row_text)
        marks.append(row_marks)
    n = len(STATE_ORDER)
    colourscale = []
    for i, colour in enumerate(STATE_COLOURS):
        colourscale += [[i / n, colour], [(i + 1) / n, colour]]
    data = [
        {
            "type": "heatmap",
            "z": z,
            "x": codes,
            "y": members,
            # Colour is not the only signal: each cell shows its state's symbol, and • if late;
            # the hover says it in words.
            "text": marks,
            "customdata": text,
            "texttemplate": "%{text}",
            "textfont": {"color": "#000000", "size": 13},
            "zmin": -0.5,
            "zmax": n - 0.5,
            "colorscale": colourscale,
            "xgap": 2,
            "ygap": 2,
            "hovertemplate": "%{y}<br>%{x}: %{customdata}<extra></extra>",
            "colorbar": {
                "tickvals": list(range(n)),
                "ticktext": [f"{STATE_SYMBOLS[s]} {states[s]}" for s in STATE_ORDER],
                "title": {"text": gettext("state")},
            },
        }
    ]
    if any(x.late for x in c.cells):
        # The dot (drawn in the late cells' text) is explained in the legend: a mark nobody
        # can read is no mark at all. The legend's entry plots no point of its own.
        data.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "name": str(LATE_DOT),
                "showlegend": True,
                "marker": {"symbol": "circle", "size": 6, "color": "black"},
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        gettext("Reporting for %(period)s (due %(due)s)", period=c.period, due=day(c.due_on)),
        height=max(360, 26 * len(members) + 120),
        hovermode="closest",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return {"data": data, "layout": layout}


def public_chart(
    title: str,
    labels: list[str],
    values: list[float | None],
    markers: list[str | None],
    unit: str,
    kind: str = "bar",
) -> dict:
    """A plain chart for the public page: bars (categories) or a line (periods).

    Hidden (suppressed) values are drawn as no bar / a gap, with their marker as the label, so
    nothing is plotted that the published figures do not show.
    """
    text = [
        m or (i18n.format_number(v, max_digits=1) if v is not None else "")
        for v, m in zip(values, markers, strict=True)
    ]
    if kind == "line":
        trace = {
            "type": "scatter",
            "x": labels,
            "y": values,
            "mode": "lines+markers+text",
            "text": text,
            "textposition": "top center",
            "line": {"color": OKABE_ITO[0], "width": 3},
            "connectgaps": False,
            "hovertemplate": "%{x}: %{text}<extra></extra>",
        }
        axes = {
            "xaxis": {"automargin": True},
            "yaxis": {"title": _title(unit), "rangemode": "tozero", "automargin": True},
        }
    else:
        # Horizontal bars: long category names stay readable on a phone.
        trace = {
            "type": "bar",
            "y": labels,
            "x": [v if v is not None else 0 for v in values],
            "orientation": "h",
            "text": text,
            "textposition": "outside",
            "cliponaxis": False,
            "marker": {"color": [OKABE_ITO[0] if v is not None else "#ddd" for v in values]},
            "hovertemplate": "%{y}: %{text}<extra></extra>",
        }
        axes = {
            "xaxis": {
                "title": _title(unit),
                "rangemode": "tozero",
                "type": "linear",
                "showgrid": True,
                "gridcolor": "#eee",
                "automargin": True,
            },
            "yaxis": {
                "type": "category",
                "autorange": "reversed",
                "gridcolor": "rgba(0,0,0,0)",
                "automargin": True,
            },
        }
    layout = _layout(
        title,
        height=300 if kind == "line" else 90 + 34 * len(labels),
        showlegend=False,
        hovermode="closest",
        margin={"l": 10, "r": 30, "t": 45, "b": 40},
        **axes,
    )
    return {"data": [trace], "layout": layout}


def own_trend(
    own: list[tuple[str, float | None]],
    initiative: list[tuple[str, float | None]],
    label: str,
    unit: str,
    title: str,
    note: str | None = None,
) -> dict:
    """A partner's own figure over time against the initiative's rollup (partner portal);
    ``note`` says, under the chart, why points of the partner's line are missing."""
    data = [
        {
            "type": "scatter",
            "x": [p for p, _ in initiative],
            "y": [v for _, v in initiative],
            "mode": "lines+markers",
            "name": gettext("Initiative (all partners)"),
            "line": {"color": OKABE_ITO[0], "width": 3},
        },
        {
            "type": "scatter",
            "x": [p for p, _ in own],
            "y": [v for _, v in own],
            "mode": "lines+markers",
            "name": label,
            "line": {"color": OKABE_ITO[1], "width": 3, "dash": "dash"},
            "marker": {"symbol": "diamond", "size": 9},
        },
    ]
    extra: dict = {"yaxis": {"title": _title(unit)}, "height": 340}
    if note:
        # Under the axis labels, with the legend moved below it: a taller figure with a fixed
        # plot height (220 px), so the paper-relative positions land where intended.
        extra.update(
            annotations=[
                {
                    "text": note,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": -0.11,
                    "xanchor": "left",
                    "yanchor": "top",
                    "showarrow": False,
                    "align": "left",
                    "font": {"size": 12, "color": "#555"},
                }
            ],
            height=420,
            margin={"b": 150},
            legend={"y": -0.38, "yanchor": "top"},
        )
    return {"data": data, "layout": _layout(title, **extra)}
