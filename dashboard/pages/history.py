"""A value's history: every change of one reported value (who, when, before, after, why).

Reached from the review queue (each value) and, for the backbone team, from an indicator's
partner comparison. The page names the report (``initiative``, ``org``, ``period``) and the
value, by its id (``value``) or by ``indicator`` and ``disaggregation`` (the total when left
out). The domain answers 404 for a report the user may not see, so a hand-made address shows
nothing more than the user could open anyway.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from dashboard.components.common import error_alert, page_url
from dashboard.components.history import history_table
from dashboard.components.page import enter, frame
from dashboard.data import DomainError
from models.core.i18n import gettext

dash.register_page(
    __name__,
    path="/history",
    title=lambda **_: gettext("Value history · Common Measure"),
    name="Value history",
)


def not_allowed() -> str:
    return gettext(
        "A value's history is for the partner that reported it and the initiative's backbone team."
    )


def how() -> str:
    return gettext(
        "Open a value's history from the review queue (each value has a History link) or, for "
        "the backbone team, from an indicator's partner comparison."
    )


def layout(
    initiative: str | None = None,
    org: str | None = None,
    period: str | None = None,
    value: str | None = None,
    indicator: str | None = None,
    disaggregation: str | None = None,
    **_,
):
    entry = enter(
        "/history",
        "history",
        data.workspaces,
        not_allowed(),
        initiative=initiative,
        org=org,
        period=period,
        value=value,
        indicator=indicator,
        disaggregation=disaggregation,
    )
    if entry.instead is not None:
        return entry.instead
    problem = _problem(initiative, org, period, value, indicator)
    if problem:
        return _page(dbc.Alert(problem, color="warning", id="history-problem"))
    assert initiative and org and period  # _problem said so
    try:
        trail = data.value_trail(
            initiative,
            org,
            period,
            value_id=int(value) if value else None,
            indicator=indicator,
            disaggregation=disaggregation or "total",
        )
    except DomainError as exc:
        return _page(error_alert(exc, what="That value"))
    back = dbc.Button(
        gettext("%(indicator)s over time", indicator=trail.indicator_name),
        href=page_url("/indicator", initiative=trail.initiative, code=trail.indicator),
        color="secondary",
        outline=True,
        size="sm",
        id="history-indicator-link",
    )
    return _page(history_table(trail), html.Div(back, className="mt-3"))


def _problem(initiative, org, period, value, indicator) -> str | None:
    """What is wrong with the address, said plainly; None when it names a value."""
    if not (initiative and org and period):
        return gettext("This address names no report.") + " " + how()
    if value:
        if not value.isdigit():
            return gettext(
                "value must be a value's number (a whole number), not %(value)r.", value=value
            )
    elif not indicator:
        return (
            gettext("This address names a report but no value (value, or indicator).") + " " + how()
        )
    return None


def _page(*body) -> html.Div:
    return frame(
        "history",
        gettext("Value history"),
        gettext(
            "Every change of one reported value: who made it, when, what it was before and "
            "after, and the reason given."
        ),
        *body,
    )
