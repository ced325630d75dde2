"""Publish: the backbone team checks what the public will see for a period, then publishes it.

The preview is exactly what publishing would freeze (``models.publishing.publish.preview``
reads the period as ``publish`` does: the same disclosure decision, markers and coverage),
with the reports still missing or under way and the incomplete indicators that the API's 409
``incomplete_period`` lists; publishing them anyway takes the explicit confirmation the API
asks for. Publishing goes through the API's own domain function, and only if the figures are
still those previewed. Below, every vintage of the period with the figures it revised.

The preview shows figures nobody below the backbone team may see before they are published:
the page and every callback ask the domain with ``manage=True``, which refuses anyone else.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components.common import error_alert, page_url, status_badge, sync_url
from dashboard.components.page import enter_period, follow_initiative, frame, period_pickers
from dashboard.components.periods import choose_period
from dashboard.data import DomainError
from models.core.i18n import format_number, gettext, lazy_gettext, ngettext

dash.register_page(
    __name__,
    path="/reporting/publish",
    title=lambda **_: gettext("Publish · Common Measure"),
    name="Publish",
)

NOT_ALLOWED = lazy_gettext(
    "Publishing is for the initiative's backbone team. "
    "Your account is not allowed to publish or preview a period."
)


def layout(initiative: str | None = None, period: str | None = None, **_):
    entry = enter_period(
        "/reporting/publish", "publish", str(NOT_ALLOWED), initiative, period, _periods
    )
    if entry.instead is not None:
        return entry.instead
    form = dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Publish"), className="h5"),
                dbc.Label(gettext("Note for the public (optional)"), html_for="publish-note"),
                dbc.Textarea(
                    id="publish-note",
                    rows=2,
                    maxLength=2000,
                    placeholder=gettext(
                        "e.g. First release of the quarter; two partners still to report."
                    ),
                    className="mb-2",
                ),
                html.Div(
                    [
                        dbc.Checkbox(
                            id="publish-confirm",
                            value=False,
                            label=gettext("Publish what is approved anyway"),
                        ),
                        html.Div(id="publish-confirm-help", className="small text-muted"),
                        html.Div(id="publish-confirm-feedback", className="small text-danger"),
                    ],
                    id="publish-confirm-group",
                    className="mb-2",
                ),
                dbc.Button(
                    gettext("Publish"),
                    id="publish-submit",
                    color="primary",
                    disabled=True,
                    className="me-2",
                ),
                html.Div(id="publish-feedback", className="mt-2", role="status"),
            ]
        ),
        className="mb-3 shadow-sm",
    )
    return frame(
        "publish",
        gettext("Publish a period"),
        gettext(
            "Check what the public will see for a period — the figures as they will be "
            "published, hidden figures with their markers, and what they are made of — then "
            "publish it. Until then, funders, partners and the public see the period's latest "
            "publication."
        ),
        period_pickers("publish", entry, clearable=False),
        dbc.Row(
            [
                dbc.Col(
                    [
                        form,
                        html.Div(id="publish-readiness"),
                        html.Div(id="publish-vintages", className="mb-3"),
                    ],
                    lg=4,
                    className="cm-publish-side",
                ),
                dbc.Col(
                    dcc.Loading(html.Div(id="publish-preview"), type="dot", delay_show=400),
                    lg=8,
                ),
            ],
            className="g-3",
        ),
        dcc.Store(id="publish-previewed"),
        dcc.Store(id="publish-refresh", data=0),
    )


def _periods(initiative: str, wanted: str | None) -> tuple[list[dict], str | None]:
    """The period picker: the one asked for, else the latest whose reporting has closed (the
    one usually published next), else the pickers' usual default."""
    options, chosen = choose_period(initiative, wanted)
    if wanted and chosen == wanted:
        return options, chosen
    today = data.today()
    closed = [
        p
        for p in data.periods(initiative)
        if p.state(today) in ("closed", "locked") and p.opens_on <= today
    ]
    if closed:
        return options, max(closed, key=lambda p: (p.starts_on, p.key)).key
    return options, chosen


# --- pieces ---------------------------------------------------------------------------------


def shown(figure: dict, decimals: int) -> str:
    """A figure as the public page writes it: the number, or its marker."""
    if figure.get("value") is None:
        return figure.get("marker") or gettext("not available")
    return format_number(figure["value"], digits=decimals)


def coverage_sentence(coverage: dict) -> str:
    """What the publication would be made of, as the public page will say it."""
    approved, expected = coverage["approved"], coverage["expected"]
    incomplete = [c for c in coverage.get("indicators") or [] if not c.get("complete", True)]
    if approved >= expected:
        text = ngettext(
            "Based on the approved reports of all %(n)s partners.",
            "Based on the approved reports of all %(n)s partners.",
            expected,
        )
    else:
        text = ngettext(
            "Based on the approved reports of %(approved)s of %(n)s partner: the figures may "
            "change when the others report.",
            "Based on the approved reports of %(approved)s of %(n)s partners: the figures may "
            "change when the others report.",
            expected,
            approved=approved,
        )
    if incomplete:
        text += " " + ngettext(
            "%(n)s of the figures is marked incomplete: too few of the partners expected to "
            "report them did.",
            "%(n)s of the figures are marked incomplete: too few of the partners expected to "
            "report them did.",
            len(incomplete),
        )
    return text


def preview_rows(p: data.Preview) -> list[dict]:
    """Every figure the public would see, in the public page's order: the indicator's total,
    then each category; with the figure the latest publication showed where it differs."""
    changed = {c.key: c for c in p.changes}
    incomplete = {i["indicator"] for i in p.incomplete}
    rows = []
    for ind in p.figures["indicators"]:
        code, decimals = ind["indicator"], ind.get("decimals") or 0
        groups = [("total", gettext("All"), ind["total"])] + [
            (c["key"], f"{b['dimension_name']}: {c['label']}", c)
            for b in ind["breakdowns"]
            for c in b["categories"]
        ]
        for key, group, figure in groups:
            change = changed.get(f"{code} {key}")
            rows.append(
                {
                    "outcome": ind.get("outcome_name") or gettext("Other indicators"),
                    "indicator": code,
                    "name": ind["name"],
                    "group": group,
                    "total": key == "total",
                    "shown": shown(figure, decimals),
                    "marker": figure.get("marker"),
                    "unit": (ind.get("unit") or "") if figure.get("value") is not None else "",
                    "incomplete": key == "total" and code in incomplete,
                    "was": None
                    if change is None
                    else shown(change.before, decimals)
                    if change.before
                    else gettext("not published"),
                }
            )
    return rows


def stories_sentence(p: data.Preview) -> str:
    """Which stories behind the curves the vintage would carry (README: Stories)."""
    if not p.stories:
        return gettext(
            "No story behind any curve of this period yet: the backbone team writes them on "
            "the indicator page."
        )
    told = ", ".join(
        gettext("%(code)s (version %(version)s)", code=code, version=version)
        for code, version in sorted(p.stories.items())
    )
    return gettext("With the stories behind the curves of %(told)s.", told=told)


def _preview(p: data.Preview) -> html.Div:
    legend = p.figures.get("legend") or {}
    rows = preview_rows(p)
    parts: list = [
        html.H2(
            gettext("What the public will see for %(period)s", period=p.period),
            className="h5 mb-1",
        ),
        html.P(coverage_sentence(p.coverage), className="small text-muted mb-1"),
        html.P(stories_sentence(p), className="small text-muted mb-1", id="publish-stories"),
    ]
    if p.vintages:
        parts.append(
            html.P(
                ngettext(
                    "Published once already: publishing again makes revision %(next)s, and ",
                    "Published %(n)s times already: publishing again makes revision %(next)s, and ",
                    p.vintages,
                    next=p.vintages + 1,
                )
                + (
                    ngettext(
                        "%(n)s figure would change (highlighted, with what the public sees now).",
                        "%(n)s figures would change (highlighted, with what the public sees now).",
                        len(p.changes),
                    )
                    if p.changes
                    else gettext("no figure would change.")
                ),
                className="small mb-1",
                id="publish-revision",
            )
        )
    used = sorted({r["marker"] for r in rows if r["marker"]})
    if used:
        parts.append(
            html.Ul(
                [
                    html.Li(
                        [html.Code(m), f" — {legend.get(m) or gettext('hidden')}"],
                        className="small",
                    )
                    for m in used
                ],
                className="list-unstyled mb-2",
                id="publish-legend",
            )
        )
    outcome = None
    body: list = []
    for r in rows:
        if r["outcome"] != outcome:
            outcome = r["outcome"]
            body.append(html.Tr(html.Th(outcome, colSpan=3, className="table-light pt-2")))
        value = (
            html.Span(
                r["shown"],
                className="cm-preview-value cm-preview-marker",
                title=legend.get(r["marker"], ""),
            )
            if r["marker"]
            else html.Span(r["shown"], className="cm-preview-value")
        )
        body.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Span(r["name"], className="fw-semibold") if r["total"] else None,
                            " ",
                            html.Code(r["indicator"], className="small") if r["total"] else None,
                            dbc.Badge(
                                gettext("incomplete"),
                                color="warning",
                                text_color="dark",
                                className="ms-1",
                            )
                            if r["incomplete"]
                            else None,
                        ]
                        if r["total"]
                        else html.Span(r["group"], className="ps-3")
                    ),
                    html.Td(
                        [value, f" {r['unit']}" if r["unit"] else ""],
                        className="text-end cm-preview-total" if r["total"] else "text-end",
                    ),
                    html.Td(
                        gettext("was %(before)s", before=r["was"]) if r["was"] is not None else "",
                        className="small text-muted",
                    ),
                ],
                className="cm-preview-changed" if r["was"] is not None else None,
                id={"type": "publish-figure", "key": f"{r['indicator']} {r['group']}"},
            )
        )
    parts.append(
        html.Div(
            dbc.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th(gettext("Indicator / group")),
                                html.Th(gettext("Public figure"), className="text-end"),
                                html.Th(gettext("Public now, where it differs")),
                            ]
                        )
                    ),
                    html.Tbody(body),
                ],
                size="sm",
                className="small mb-0",
                id="publish-figures",
            ),
            className="table-responsive",
        )
    )
    return html.Div(parts, className="cm-preview")


def _readiness(p: data.Preview, initiative: str) -> dbc.Card:
    """Whether the period is complete, and if not, what is missing (as the 409 lists it)."""
    pending, expected = p.pending, len(p.reports)
    approved = expected - len(pending)
    if p.nothing_to_publish:
        colour, state = "secondary", gettext("nothing to publish")
        head = gettext("Nothing to publish for %(period)s: no report is approved.", period=p.period)
    elif p.needs_confirmation:
        colour, state = "warning", gettext("incomplete")
        head = gettext(
            "%(period)s is not complete: publishing it needs a confirmation.", period=p.period
        )
    else:
        colour, state = "success", gettext("complete")
        head = gettext(
            "%(period)s is complete: every expected report is approved.", period=p.period
        )
    parts: list = [
        html.P(
            [dbc.Badge(state, color=colour, className="me-2 text-uppercase"), html.Strong(head)],
            className="mb-1",
        ),
        html.P(
            ngettext(
                "%(approved)s of %(n)s partner's reports approved.",
                "%(approved)s of %(n)s partners' reports approved.",
                expected,
                approved=approved,
            ),
            className="small mb-2",
        ),
    ]
    if pending:
        review = page_url("/reporting/review", initiative=initiative, period=p.period)
        parts += [
            html.Div(gettext("Not approved yet"), className="cm-muted-label"),
            html.Ul(
                [
                    html.Li(
                        [
                            r.name,
                            " ",
                            status_badge(r.status),
                            html.A(" " + gettext("review"), href=review, className="small ms-1")
                            if r.status == "submitted"
                            else None,
                        ],
                        className="small",
                    )
                    for r in pending
                ],
                className="list-unstyled mb-2 cm-scroll-list",
                id="publish-pending",
            ),
        ]
    if p.incomplete:
        names = {i["indicator"]: i["name"] for i in p.figures["indicators"]}
        parts += [
            html.Div(gettext("Incomplete indicators"), className="cm-muted-label"),
            html.Ul(
                [
                    html.Li(
                        [
                            names.get(i["indicator"], i["indicator"]),
                            ": "
                            + ngettext(
                                "%(reported)s of %(n)s partner reported",
                                "%(reported)s of %(n)s partners reported",
                                i["expected"],
                                reported=i["reported"],
                            ),
                        ],
                        className="small",
                        title=i["indicator"],
                    )
                    for i in p.incomplete
                ],
                className="list-unstyled mb-0 cm-scroll-list",
                id="publish-incomplete",
            ),
        ]
    return dbc.Card(
        dbc.CardBody(parts),
        className=f"mb-3 border-start border-4 border-{colour}",
        id="publish-status",
    )


def confirmation_reasons(missing: dict) -> str:
    """What makes a period incomplete, counted as the 409 lists it (``reports``, ``indicators``)."""
    reports = len(missing.get("reports") or [])
    indicators = len(missing.get("indicators") or [])
    said_reports = ngettext(
        "%(n)s partner's report not approved", "%(n)s partners' reports not approved", reports
    )
    said_indicators = ngettext(
        "%(n)s indicator with incomplete coverage",
        "%(n)s indicators with incomplete coverage",
        indicators,
    )
    if reports and indicators:
        return gettext(
            "%(reports)s and %(indicators)s", reports=said_reports, indicators=said_indicators
        )
    if reports:
        return said_reports
    return said_indicators if indicators else ""


def confirmation_help(p: data.Preview) -> str:
    reasons = confirmation_reasons({"reports": p.pending, "indicators": p.incomplete})
    return gettext(
        "Needed because of %(reasons)s (listed below): the publication says so, and later "
        "reports become public only when you publish again.",
        reasons=reasons,
    )


def vintage_list(vintages: list[data.VintageDetail], period: str) -> html.Div:
    """Every publication of the period, newest first, with the figures each revised."""
    if not vintages:
        return html.P(
            gettext("%(period)s has not been published yet.", period=period),
            className="small text-muted",
        )
    items = []
    for v in reversed(vintages):
        when = data.moment(v.published_at)
        head = html.Div(
            [
                html.Strong(
                    gettext("Revision %(number)s", number=v.number)
                    if v.number > 1
                    else gettext("First publication")
                ),
                " · "
                + (
                    gettext("%(when)s by %(who)s", when=when, who=v.published_by)
                    if v.published_by
                    else when
                ),
            ]
        )
        body: list = [head]
        if v.note:
            body.append(html.Div(html.Q(v.note), className="small"))
        if v.coverage:
            body.append(html.Div(coverage_sentence(v.coverage), className="small text-muted"))
        if v.number > 1 and not v.changes:
            body.append(html.Div(gettext("No public figure changed."), className="small"))
        elif v.changes:
            body.append(
                dbc.Table(
                    [
                        html.Thead(
                            html.Tr(
                                [
                                    html.Th(gettext("Figure")),
                                    html.Th(gettext("Before")),
                                    html.Th(gettext("After")),
                                ]
                            )
                        ),
                        html.Tbody(
                            [
                                html.Tr(
                                    [
                                        html.Td(f"{c.indicator_name} · {c.group}"),
                                        html.Td(_plain(c.before)),
                                        html.Td(_plain(c.after)),
                                    ]
                                )
                                for c in v.changes
                            ]
                        ),
                    ],
                    size="sm",
                    className="small mb-0 mt-1",
                )
            )
        items.append(dbc.ListGroupItem(body, className="cm-vintage"))
    return html.Div(
        [
            html.H2(gettext("Publications of %(period)s", period=period), className="h5"),
            dbc.ListGroup(items, id="publish-vintage-list"),
        ]
    )


def _plain(figure: dict | None) -> str:
    if not figure:
        return gettext("not published")
    if figure.get("value") is None:
        return figure.get("marker") or gettext("hidden")
    return format_number(float(figure["value"]), max_digits=2)


# --- callbacks ------------------------------------------------------------------------------


follow_initiative("publish", _periods)


@callback(
    Output("publish-readiness", "children"),
    Output("publish-preview", "children"),
    Output("publish-vintages", "children"),
    Output("publish-previewed", "data"),
    Output("publish-confirm-group", "hidden"),
    Output("publish-confirm-help", "children"),
    Output("publish-confirm", "value"),
    Output("publish-submit", "disabled"),
    Output("publish-submit", "children"),
    Input("publish-initiative", "value"),
    Input("publish-period", "value"),
    Input("publish-refresh", "data"),
)
def publish_preview(initiative, period, _refresh):
    """The preview, what it needs confirmed and the period's vintages (backbone only)."""
    off = (None, None, None, None, True, None, False, True, gettext("Publish"))
    if not (initiative and period):
        return off
    try:
        p = data.publication_preview(initiative, period)
        vintages = data.publications(initiative, period)
    except DomainError as exc:
        return (error_alert(exc, what=gettext("That period")), *off[1:])
    label = (
        gettext("Publish %(period)s again", period=p.period)
        if p.vintages
        else gettext("Publish %(period)s", period=p.period)
    )
    return (
        _readiness(p, initiative),
        None if p.nothing_to_publish else _preview(p),
        vintage_list(vintages, p.period),
        p.fingerprint,
        not p.needs_confirmation,
        confirmation_help(p) if p.needs_confirmation else None,
        False,
        p.nothing_to_publish,
        label,
    )


@callback(
    Output("publish-feedback", "children"),
    Output("publish-confirm-feedback", "children"),
    Output("publish-refresh", "data"),
    Output("publish-note", "value"),
    Input("publish-submit", "n_clicks"),
    State("publish-initiative", "value"),
    State("publish-period", "value"),
    State("publish-note", "value"),
    State("publish-confirm", "value"),
    State("publish-previewed", "data"),
    State("publish-refresh", "data"),
    prevent_initial_call=True,
)
def publish_now(clicks, initiative, period, note, confirm, previewed, refresh):
    """Publish what the preview showed; a missing confirmation is said next to its box."""
    if not (clicks and initiative and period):
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    try:
        vintage = data.publish_period(initiative, period, note, bool(confirm), previewed)
    except DomainError as exc:
        if exc.code == "incomplete_period":
            return (
                None,
                gettext(
                    "Tick the box to publish %(period)s although it is not complete: %(reasons)s.",
                    period=period,
                    reasons=confirmation_reasons(exc.extra),
                ),
                dash.no_update,
                dash.no_update,
            )
        if exc.code == "preview_outdated":
            # Show the preview as it is now; the user checks it and publishes again.
            return (
                dbc.Alert(exc.message, color="warning", className="small mb-0"),
                None,
                (refresh or 0) + 1,
                dash.no_update,
            )
        return error_alert(exc, what=gettext("That period")), None, dash.no_update, dash.no_update
    public = f"/public/{initiative}?period={vintage.period}"
    done = dbc.Alert(
        [
            ngettext(
                "Published %(period)s: %(n)s figure revised. ",
                "Published %(period)s: %(n)s figures revised. ",
                len(vintage.revised),
                period=vintage.period,
            )
            if vintage.revised
            else gettext("Published %(period)s. ", period=vintage.period),
            html.A(gettext("See the public page"), href=public, id="publish-public-link"),
        ],
        color="success",
        className="small mb-0",
        id="publish-done",
    )
    return done, None, (refresh or 0) + 1, ""


sync_url("publish", "initiative", "period")
