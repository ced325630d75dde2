"""Public summary: an initiative's published, privacy-protected figures. No login.

Everything here comes from ``models.publishing.publish.public_summary`` — the frozen, suppressed
snapshots of published periods — and nothing else: this page never calls a domain function that
could return unsuppressed figures, and it shows no counts of people or partners behind a figure.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures
from dashboard.components.common import sync_url
from dashboard.components.kinds import arrange
from dashboard.components.page import picker, pickers
from dashboard.components.tables import data_table
from dashboard.data import DomainError, NotFound
from models.core.i18n import format_number, gettext, ngettext

dash.register_page(
    __name__,
    path_template="/public/<initiative>",
    path="/public",
    title=lambda **_: gettext("Public summary · Common Measure"),
    name="Public summary",
)


def nothing_text() -> str:
    return gettext(
        "Nothing has been published for this initiative yet. "
        "Published figures will appear here once the backbone team releases them."
    )


GRAPH_CONFIG = {
    "displaylogo": False,
    "displayModeBar": "hover",
    "responsive": True,
    "modeBarButtons": [["toImage"]],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _nothing(slug: str | None) -> dbc.Alert:
    return dbc.Alert(
        [html.H1(gettext("Nothing published yet"), className="h5"), nothing_text()],
        color="info",
        id="public-nothing",
        className="mt-3",
    )


def _not_found(slug: str) -> html.Div:
    """An address that names no initiative: say so, and where the initiatives are."""
    return html.Div(
        [
            html.H1(gettext("Page not found"), className="h3"),
            html.P(
                [
                    gettext("There is no initiative called "),
                    html.Code(slug),
                    gettext(". Check the address, or choose one from the "),
                    dcc.Link(gettext("list of public summaries"), href="/public"),
                    ".",
                ]
            ),
        ],
        id="public-not-found",
        className="mt-3",
    )


def _unpublished_or_missing(slug: str):
    """No public summary for ``slug``: an initiative that has published nothing yet says so;
    an address naming no initiative at all is not found. The directory of initiatives is
    public (models.initiatives.directory), so telling them apart gives nothing away."""
    try:
        known = {s.slug for s in data.directory()}
    except DomainError:
        known = set()
    return _nothing(slug) if slug in known else _not_found(slug)


def layout(initiative: str | None = None, period: str | None = None, **_):
    if not initiative:
        try:
            listed = data.directory()  # names and slugs only: public information
        except DomainError:
            listed = []
        return html.Div(
            [
                html.H1(gettext("Public summary"), className="h3"),
                html.P(
                    gettext("The published, privacy-protected figures of each initiative."),
                    className="text-muted",
                ),
                html.Ul(
                    [html.Li(dcc.Link(s.name, href=f"/public/{s.slug}")) for s in listed],
                    id="public-index",
                ),
            ],
        )
    try:
        summary = data.public(initiative)
    except NotFound:
        return _unpublished_or_missing(initiative)
    except DomainError:
        return _nothing(initiative)
    periods = [p["period"] for p in summary["periods"]]
    if not periods:
        return _nothing(initiative)
    period = period if period in periods else periods[-1]
    legend = summary["legend"]
    return html.Div(
        [
            html.H1(summary["initiative_name"], className="h3 mb-1", id="public-title"),
            html.P(
                [
                    summary.get("region") or "",
                    " · " if summary.get("region") else "",
                    gettext("Public summary"),
                ],
                className="text-muted mb-1",
            ),
            html.P(summary.get("description") or "", className="mb-3"),
            pickers(
                picker(
                    gettext("Period"),
                    "public-period",
                    [{"label": p, "value": p} for p in reversed(periods)],
                    period,
                    md=4,
                    narrow={"xs": 12, "sm": 6},
                    clearable=False,
                    searchable=False,
                )
            ),
            # Above the legend, so a phone shows them on its first screens.
            html.Div(jump_links(summary, period), id="public-jump"),
            dbc.Alert(
                [
                    html.Strong(gettext("How to read the figures. ")),
                    gettext(
                        "To protect the people counted and the partners who report, a figure "
                        "based on fewer than %(threshold)s people, reported by too few "
                        "partners, or made up almost entirely by one partner is hidden, and so "
                        "are the figures it could be worked out from. Each hidden figure shows "
                        "a marker:",
                        threshold=summary["threshold"],
                    ),
                    html.Ul(
                        [
                            html.Li([html.Code(marker), f" — {text}"], className="small")
                            for marker, text in legend.items()
                        ],
                        className="mb-0 mt-1",
                    )
                    if legend
                    else gettext(" No figure published here is hidden."),
                ],
                color="light",
                className="small",
                id="public-legend",
            ),
            dcc.Store(id="public-initiative", data=summary["initiative"]),
            dcc.Loading(html.Div(id="public-body"), type="dot", delay_show=400),
            dcc.Store(id="public-url-sync"),
        ],
        className="mb-5 cm-public",
    )


# --- pieces ---------------------------------------------------------------------------------


def _fmt(value, decimals: int = 1) -> str:
    if value is None:
        return ""
    return format_number(value, digits=decimals)


def shown(figure: dict, decimals: int = 1) -> str:
    """A published figure as text: the number, or its suppression marker."""
    if figure.get("value") is None:
        return figure.get("marker") or gettext("not available")
    return _fmt(figure["value"], decimals)


def public_rows(entry: dict, period: str) -> list[dict]:
    """What the page shows for one indicator: the total and every published category."""
    decimals = entry.get("decimals") or 0
    base = {"period": period, "indicator": entry["indicator"], "unit": entry.get("unit") or ""}
    rows = [
        {
            **base,
            "group": gettext("All"),
            "value": _round(entry["total"].get("value"), decimals),
            "marker": entry["total"].get("marker") or "",
        }
    ]
    for b in entry.get("breakdowns") or []:
        for c in b["categories"]:
            rows.append(
                {
                    **base,
                    "group": f"{b['dimension_name']}: {c['label']}",
                    "value": _round(c.get("value"), decimals),
                    "marker": c.get("marker") or "",
                }
            )
    return rows


def _round(value, decimals: int):
    return None if value is None else round(float(value), decimals)


def coverage_text(coverage: dict | None) -> str:
    """What a publication is made of, said in one sentence (older vintages did not record it)."""
    if not coverage:
        return ""
    approved, expected = coverage["approved"], coverage["expected"]
    incomplete = incomplete_indicators(coverage)
    if approved >= expected:
        text = gettext(
            " Based on the approved reports of all %(expected)s partners.", expected=expected
        )
    else:
        text = gettext(
            " Based on the approved reports of %(approved)s of %(expected)s partners: "
            "the figures may change when the others report.",
            approved=approved,
            expected=expected,
        )
    if incomplete:
        text += ngettext(
            " %(n)s of the figures is marked incomplete: too few of the partners expected to "
            "report them did.",
            " %(n)s of the figures are marked incomplete: too few of the partners expected to "
            "report them did.",
            len(incomplete),
        )
    return text


def incomplete_indicators(coverage: dict | None) -> set[str]:
    """The indicators a publication recorded as incomplete (none for older vintages)."""
    return {
        c["indicator"]
        for c in (coverage or {}).get("indicators") or []
        if not c.get("complete", True)
    }


def incomplete_note() -> str:
    return gettext(
        "Incomplete: too few of the partners expected to report this figure did, so it may "
        "change when the others report."
    )


def describe(entry: dict, period: str, history: list[tuple[str, dict]]) -> str:
    """A sentence saying what the chart shows (the chart's text alternative)."""
    decimals = entry.get("decimals") or 0
    unit = entry.get("unit") or ""
    total = shown(entry["total"], decimals)
    if entry["total"].get("value") is None:
        unit = ""  # "<3 partners visits" reads as nonsense: a marker carries no unit
    parts = [
        gettext("%(name)s in %(period)s: %(total)s", name=entry["name"], period=period, total=total)
        + (f" {unit}" if unit else "")
        + "."
    ]
    if entry.get("breakdowns"):
        b = entry["breakdowns"][0]
        cats = ", ".join(f"{c['label']} {shown(c, decimals)}" for c in b["categories"])
        parts.append(
            gettext("By %(dimension)s: %(cats)s.", dimension=b["dimension_name"].lower(), cats=cats)
        )
    elif len(history) > 1:
        trend = ", ".join(f"{p} {shown(e['total'], decimals)}" for p, e in history)
        parts.append(gettext("Over time: %(trend)s.", trend=trend))
    return " ".join(parts)


def _chart(entry: dict, period: str, history: list[tuple[str, dict]]):
    decimals = entry.get("decimals") or 0
    if entry.get("breakdowns"):
        b = entry["breakdowns"][0]
        cats = b["categories"]
        labels = [c["label"] for c in cats]
        values = [_round(c.get("value"), decimals) for c in cats]
        markers = [c.get("marker") for c in cats]
        title = gettext(
            "By %(dimension)s, %(period)s", dimension=b["dimension_name"].lower(), period=period
        )
        kind = "bar"
    else:
        labels = [p for p, _ in history]
        values = [_round(e["total"].get("value"), decimals) for _, e in history]
        markers = [e["total"].get("marker") for _, e in history]
        title = gettext("Over the published periods")
        kind = "line"
    if all(v is None for v in values):
        return None  # every figure hidden: an empty chart would only draw its axes
    return figures.public_chart(title, labels, values, markers, entry.get("unit") or "", kind)


def hidden_chart_text(entry: dict, history: list[tuple[str, dict]]) -> str:
    """Why an indicator has no chart: every figure it would draw is hidden, with their markers
    (the legend above explains them)."""
    if entry.get("breakdowns"):
        b = entry["breakdowns"][0]
        hidden = list(b["categories"])
        what = gettext("by %(dimension)s", dimension=b["dimension_name"].lower())
    else:
        hidden = [e["total"] for _, e in history]
        what = (
            gettext("over the published periods")
            if len(history) > 1
            else gettext("for this period")
        )
    markers = ", ".join(dict.fromkeys(h.get("marker") or gettext("not available") for h in hidden))
    return gettext(
        "No chart: every figure %(what)s is hidden to protect privacy (marked %(markers)s; "
        "see “How to read the figures” above).",
        what=what,
        markers=markers,
    )


def _story(entry: dict, story: dict | None):
    """The story behind the curve this vintage carries (README: Stories), drawn by the one
    safe renderer; nothing when the vintage carries none."""
    if not story:
        return None
    return html.Div(
        [
            html.H4(gettext("Story behind the curve"), className="h6 small fw-semibold mb-1"),
            dcc.Markdown(data.story_html(story["text"]), dangerously_allow_html=True),
        ],
        className="small mb-2 cm-story",
        id=f"public-story-{entry['indicator']}",
    )


def _card(
    entry: dict,
    period: str,
    history: list[tuple[str, dict]],
    n: int,
    incomplete: bool = False,
    story: dict | None = None,
) -> dbc.Col:
    decimals = entry.get("decimals") or 0
    text = describe(entry, period, history)
    total = entry["total"]
    unit = entry.get("unit") or ""
    headline = shown(total, decimals)
    chart = _chart(entry, period, history)
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.H3(
                        [
                            entry["name"],
                            dbc.Badge(
                                gettext("incomplete"),
                                color="warning",
                                text_color="dark",
                                className="ms-2 cm-incomplete",
                                title=incomplete_note(),
                            )
                            if incomplete
                            else None,
                        ],
                        className="h6 mb-1",
                    ),
                    html.P(
                        gettext(
                            "Partner programme measure: %(question)s",
                            question=_questions().get(entry.get("performance_type") or "", ""),
                        ),
                        className="small text-muted mb-1 cm-measure-kind",
                    )
                    if entry.get("kind") == "performance"
                    else None,
                    html.Div(
                        [
                            html.Span(headline, className="cm-stat"),
                            html.Span(
                                f" {unit}" if total.get("value") is not None else "",
                                className="small",
                            ),
                            html.Span(
                                gettext(" (hidden to protect privacy)")
                                if total.get("value") is None
                                else "",
                                className="small text-muted",
                            ),
                        ],
                        className="mb-1",
                    ),
                    html.P(incomplete_note(), className="small text-warning-emphasis mb-1")
                    if incomplete
                    else None,
                    html.P(entry.get("definition") or "", className="small text-muted mb-2"),
                    _story(entry, story),
                    html.Figure(
                        [
                            # The caption is the chart's text alternative (the figure is named
                            # by it); the chart keeps its download button reachable.
                            dcc.Graph(
                                figure=chart,
                                config=GRAPH_CONFIG,
                                style={
                                    "width": "100%",
                                    "height": f"{chart['layout']['height']}px",
                                },
                            ),
                            html.Figcaption(text, className="small text-muted"),
                        ],
                        className="mb-2",
                    )
                    if chart is not None
                    else html.P(
                        hidden_chart_text(entry, history),
                        className="small text-muted mb-2",
                        id=f"public-no-chart-{entry['indicator']}",
                    ),
                    html.Details(
                        [
                            html.Summary(gettext("Data table"), className="small"),
                            data_table(
                                f"public-{n}",
                                [
                                    ("group", gettext("Group")),
                                    ("value", gettext("Value")),
                                    ("marker", gettext("Marker")),
                                ],
                                public_rows(entry, period),
                                f"{entry['indicator']}-{period}.csv",
                            ),
                        ]
                    ),
                ]
            ),
            className="h-100 shadow-sm",
        ),
        xs=12,
        lg=6,
        className="mb-4 cm-public-card",
    )


def columns() -> list[tuple[str, str]]:
    return [
        ("period", gettext("Period")),
        ("indicator", gettext("Indicator")),
        ("group", gettext("Group")),
        ("value", gettext("Value")),
        ("unit", gettext("Unit")),
        ("marker", gettext("Marker")),
    ]


class _Published:
    """A published indicator as ``kinds.arrange`` reads a scorecard row; vintages frozen before
    kinds existed hold population indicators only. (A plain class: Dash loads pages under a
    name that is not in ``sys.modules``, where a dataclass cannot be built.)"""

    def __init__(self, entry: dict) -> None:
        self.entry = entry

    @property
    def code(self) -> str:
        return self.entry["indicator"]

    @property
    def kind(self) -> str:
        return self.entry.get("kind") or "population"

    @property
    def performance_type(self) -> str | None:
        return self.entry.get("performance_type")

    @property
    def contributes_to(self) -> list[str]:
        return self.entry.get("contributes_to") or []

    @property
    def outcome(self) -> str | None:
        return self.entry.get("outcome")

    @property
    def outcome_name(self) -> str | None:
        return self.entry.get("outcome_name")


def _questions() -> dict[str, str]:
    """A performance measure's question (README, "Two kinds of measure"), as a card says it."""
    return {
        "how_much": gettext("how much did we do?"),
        "how_well": gettext("how well did we do it?"),
        "better_off": gettext("is anyone better off?"),
    }


def _question_headings() -> dict[str, str]:
    """The same questions as the headings of the measures asking them."""
    return {
        "how_much": gettext("How much did we do?"),
        "how_well": gettext("How well did we do it?"),
        "better_off": gettext("Is anyone better off?"),
    }


Section = tuple[str, str | None, list[dict]]


def outcome_sections(chosen: dict) -> list[tuple[str, list[Section]]]:
    """A published period's indicators by outcome in the overview's order (README, "Two kinds
    of measure"), each outcome as ``(role, label, entries)``: ``("population", None, [entry])``
    for each population indicator; ``("contribution", its name, [])`` before the programmes
    bearing on it and ``("unlinked", None, [])`` before an outcome's programmes bearing on no
    population indicator; then ``("type", the performance question, measures)`` per type."""
    entries = chosen["indicators"]
    names = {e["indicator"]: e["name"] for e in entries}
    out: list[tuple[str, list[Section]]] = []
    for (_, outcome_name), arranged in arrange([_Published(e) for e in entries]):
        sections: list[Section] = []
        for role, item in arranged:
            if role == "population":
                sections.append(("population", None, [item.entry]))  # type: ignore[attr-defined]
            elif role == "contribution":
                sections.append(("contribution", names.get(str(item), str(item)), []))
            elif role == "unlinked":
                sections.append(("unlinked", None, []))
            elif role == "type":
                sections.append(("type", None, []))  # named below, in the reader's language
            else:
                sections[-1][2].append(item.entry)  # type: ignore[attr-defined]
        headings = _question_headings()
        sections = [
            (role, headings.get(entries[0].get("performance_type") or "", "") or None, entries)
            if role == "type" and entries
            else (role, label, entries)
            for role, label, entries in sections
        ]
        out.append((outcome_name or gettext("Other indicators"), sections))
    return out


def jump_links(summary: dict, period: str | None) -> html.Nav | None:
    """Links to each outcome's heading of the period's figures (none for a single outcome):
    on a phone the page is many screens long. Plain anchors to the headings' ids
    (assets/30-anchors.js keeps Dash from drawing the page again for them)."""
    by_period = {p["period"]: p for p in summary["periods"]}
    chosen = by_period.get(period or "") or summary["periods"][-1]
    outcomes = [name for name, _ in outcome_sections(chosen)]
    if len(outcomes) < 2:
        return None
    return html.Nav(
        [
            html.H2(
                gettext("Outcomes on this page"), className="h6 mb-1", id="public-outcomes-title"
            ),
            html.Ul(
                [
                    html.Li(html.A(name, href=f"#public-outcome-{number}"), className="mb-1")
                    for number, name in enumerate(outcomes)
                ],
                className="mb-0 ps-3",
            ),
        ],
        id="public-outcomes",
        className="cm-jump-links small mb-3",
        **{"aria-labelledby": "public-outcomes-title"},
    )


def public_body(summary: dict, period: str) -> html.Div:
    by_period = {p["period"]: p for p in summary["periods"]}
    chosen = by_period.get(period) or summary["periods"][-1]
    period = chosen["period"]
    ordered = [p["period"] for p in summary["periods"]]
    upto = ordered[: ordered.index(period) + 1]
    history_of = {
        e["indicator"]: [
            (k, x)
            for k in upto
            for x in by_period[k]["indicators"]
            if x["indicator"] == e["indicator"]
        ]
        for e in chosen["indicators"]
    }
    groups = outcome_sections(chosen)
    parts: list = [
        html.P(
            gettext("Published %(day)s", day=data.day(chosen["published_at"]))
            + (
                gettext(" (revision %(vintage)s)", vintage=chosen["vintage"])
                if chosen.get("vintage", 1) > 1
                else ""
            )
            + (f". {chosen['note']}" if chosen.get("note") else ".")
            + coverage_text(chosen.get("coverage")),
            className="small text-muted",
        )
    ]
    n = 0
    everything = []
    incomplete = incomplete_indicators(chosen.get("coverage"))
    stories = {s["indicator"]: s for s in chosen.get("stories") or []}
    listed: set[str] = set()
    for number, (name, sections) in enumerate(groups):
        parts.append(html.H2(name, className="h5 mt-2 cm-outcome", id=f"public-outcome-{number}"))
        for role, label, members in sections:
            if role == "contribution":
                parts += [
                    html.H3(
                        gettext("Partners' programmes contributing to %(name)s", name=label),
                        className="h6 mb-0 cm-contribution",
                    ),
                    html.P(
                        gettext(
                            "Contribution, not attribution: each programme plays a part in the "
                            "curve above; none moves it alone."
                        ),
                        className="small text-muted fst-italic mb-2",
                    ),
                ]
            elif role == "unlinked":
                parts.append(
                    html.H3(
                        gettext("Other partners' programme measures"),
                        className="h6 mb-2 cm-unlinked",
                    )
                )
            elif role == "type":
                parts.append(html.P(label, className="small fw-semibold mb-1 cm-performance-type"))
            cards = []
            for entry in members:
                cards.append(
                    _card(
                        entry,
                        period,
                        history_of[entry["indicator"]],
                        n,
                        incomplete=entry["indicator"] in incomplete,
                        story=stories.get(entry["indicator"]),
                    )
                )
                if entry["indicator"] not in listed:  # a measure may bear on two curves
                    everything += public_rows(entry, period)
                    listed.add(entry["indicator"])
                n += 1
            if cards:
                parts.append(dbc.Row(cards))
        if len(groups) > 1:
            parts.append(
                html.P(
                    html.A(gettext("Back to the list of outcomes"), href="#public-outcomes"),
                    className="small mt-n2 mb-4",
                )
            )
    parts.append(
        html.Div(
            [
                html.H2(gettext("All figures shown"), className="h6"),
                html.P(
                    gettext("Every figure on this page for the period, as a spreadsheet."),
                    className="small text-muted mb-1",
                ),
                html.Details(
                    [
                        html.Summary(gettext("Table"), className="small"),
                        data_table(
                            "public-all",
                            columns(),
                            everything,
                            f"{summary['initiative']}-{period}.csv",
                        ),
                    ]
                ),
            ],
            id="public-download",
        )
    )
    return html.Div(parts)


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("public-body", "children"),
    Input("public-initiative", "data"),
    Input("public-period", "value"),
)
def public_view(initiative, period):
    """Published figures only (public_summary); nothing needs a login."""
    if not initiative:
        return None
    try:
        summary = data.public(initiative)
    except DomainError:
        return _nothing(initiative)
    if not summary["periods"]:
        return _nothing(initiative)
    return public_body(summary, period)


@callback(
    Output("public-jump", "children"),
    Input("public-period", "value"),
    State("public-initiative", "data"),
    prevent_initial_call=True,  # the layout drew them for the period it opened on
)
def public_jump(period, initiative):
    """The jump links of another period's figures (its outcomes may differ)."""
    if not initiative:
        return None
    try:
        summary = data.public(initiative)
    except DomainError:
        return None
    return jump_links(summary, period) if summary["periods"] else None


sync_url("public", "period")
