"""A value's audit trail as a table: who changed it, when, from what, to what, and why.

The review page shows it in a dialog, the history page on its own; both read
``data.value_trail``, which asks the domain (``models.reporting.submissions.value_history``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from dashboard.components.common import page_url
from dashboard.components.tables import html_element
from models.core.actors import shown_label
from models.core.i18n import current_locale, format_number, gettext, pgettext


def action_word(action: str) -> str:
    """What a change did to a value, as the reader says it."""
    names = {
        "create": pgettext("value change", "reported"),
        "update": pgettext("value change", "changed"),
        "delete": pgettext("value change", "removed"),
    }
    return names.get(action, action)


def number(value: Any) -> str:
    """A stored figure as people read it: 1,234 or 12.5 (never 12.500000001)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value)
        if current_locale() != "en":  # the reader's marks (README, "Languages")
            return format_number(v, max_digits=2)
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def figure_text(fields: dict[str, Any] | None) -> str:
    """One version of a value in a few words: "50 (45 / 90)" for a rate, "1,234" for a count,
    with its note; "—" where there was none."""
    if not fields:
        return "—"
    text = number(fields.get("value"))
    if fields.get("numerator") is not None:
        text += f" ({number(fields.get('numerator'))} / {number(fields.get('denominator'))})"
    elif fields.get("denominator") is not None:
        text += " " + gettext("(weight %(weight)s)", weight=number(fields.get("denominator")))
    if fields.get("note"):
        text += " · " + gettext("note: %(note)s", note=fields["note"])
    return text.strip() or "—"


def who(label: str | None) -> str:
    return shown_label(label) if label else gettext("not recorded")


def when(at: datetime | None) -> str:
    return gettext("not recorded") if at is None else data.moment(at)


def history_url(initiative: str, org: str, period: str, **value: str | None) -> str:
    """The history page of a value: ``value`` (its id), or ``indicator`` and
    ``disaggregation`` (the total when left out)."""
    return page_url("/history", initiative=initiative, org=org, period=period, **value)


def history_table(trail: data.ValueTrail) -> html.Div:
    """The heading naming the value, and one row per change, oldest first."""
    rows = [
        html.Tr(
            [
                html.Td(when(e.at), className="text-nowrap"),
                html.Td(who(e.actor_label)),
                html.Td(action_word(e.action)),
                html.Td(figure_text(e.before)),
                html.Td(figure_text(e.after), className="fw-semibold"),
                html.Td(e.reason or "", className="text-muted"),
            ],
            className="cm-history-row",
        )
        for e in trail.entries
    ]
    return html.Div(
        [
            html.P(
                [
                    html.Strong(trail.indicator_name),
                    " ",
                    html.Code(trail.indicator),
                    f" · {trail.label} · {trail.organisation_name} · {trail.period}",
                ],
                className="mb-2",
                id="history-heading",
            ),
            html.Div(
                dbc.Table(
                    [
                        html.Thead(
                            html.Tr(
                                [
                                    html.Th(h)
                                    for h in (
                                        gettext("When"),
                                        gettext("Who"),
                                        gettext("What"),
                                        gettext("Before"),
                                        gettext("After"),
                                        gettext("Why"),
                                    )
                                ]
                            )
                        ),
                        html.Tbody(rows),
                    ],
                    size="sm",
                    striped=True,
                    className="small mb-1",
                    id="history-table",
                ),
                className="table-responsive",
            ),
            html.P(
                gettext(
                    "A value loaded in bulk has no recorded changes: its history is its figure "
                    "as stored, with its report's submitter and submission time where known."
                ),
                className="small text-muted mb-0",
            )
            if len(trail.entries) == 1 and trail.entries[0].at is None
            else None,
        ]
    )


def _partner_urls(initiative: str, period: str, indicator: str) -> Callable[[str], str]:
    """``history_url`` of each partner's value of ``indicator`` in ``period``, its address
    encoded once rather than once per partner: only the partner in it changes."""
    marker = quote_plus("{partner}")  # no slug, code or period key holds a brace
    parts = history_url(initiative, "{partner}", period, indicator=indicator).split(marker)
    if len(parts) != 2:
        return lambda org: history_url(initiative, org, period, indicator=indicator)
    before, after = parts
    return lambda org: (
        before + quote_plus(org) + after
        if org
        else history_url(initiative, org, period, indicator=indicator)
    )


def partner_history_links(s: data.Series, initiative: str, period: str) -> html.Div | None:
    """For the backbone team (who see the partners' exact figures), a link to the history of
    each partner's value in an indicator's partner comparison; nothing for anyone else."""
    if s.suppressed:
        return None
    points = [p for p in s.breakdown if p.period == period and p.figure.value is not None]
    if not points:
        return None
    url = _partner_urls(initiative, period, s.indicator)
    links: list = []
    for p in sorted(points, key=lambda p: p.label):
        if links:
            links.append(" · ")
        # Sent as the element it is (dashboard.components.tables.html_element).
        links.append(html_element("A", p.label, href=url(p.key), className="cm-partner-history"))
    return html.P(
        [
            html.Span(
                gettext("History of each partner's %(period)s value:", period=period) + " ",
                className="fw-semibold",
            ),
            *links,
        ],
        className="small mb-0",
        id="indicator-partner-history",
    )
