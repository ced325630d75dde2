"""What the pages about one indicator share: their opening, the indicator picker and an
empty chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dash_bootstrap_components as dbc

from dashboard import data
from dashboard.components.common import error_alert
from dashboard.components.page import Entry, enter, no_figures, picker
from models.core.i18n import gettext

GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
EMPTY = {
    "data": [],
    "layout": {"height": 120, "xaxis": {"visible": False}, "yaxis": {"visible": False}},
}


def code_options(choices: list[dict], own: list[str]) -> list[dict]:
    """The indicator picker: a partner's own indicators first, marked as theirs."""
    mine = [c for c in choices if c["code"] in own]
    others = [c for c in choices if c["code"] not in own]
    return [
        {
            "label": gettext("%(name)s (%(code)s) · you report it", name=c["name"], code=c["code"])
            if c in mine
            else f"{c['name']} ({c['code']})",
            "value": c["code"],
        }
        for c in mine + others
    ]


def default_code(choices: list[dict], own: list[str], wanted: str | None) -> str | None:
    """The indicator asked for if the initiative has it; else, for a partner, the first one it
    reports (another's would compare no partner of its own); else the first."""
    codes = [c["code"] for c in choices]
    if wanted in codes:
        return wanted
    return next((c for c in codes if c in own), codes[0] if codes else None)


@dataclass(frozen=True)
class IndicatorEntry:
    """A page about one indicator, opened: the ``enter`` of its initiative, the initiative's
    indicators (``data.indicator_choices``), the viewer's own codes and the code shown; or
    what the page shows ``instead``."""

    entry: Entry
    choices: list[dict] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    code: str | None = None
    instead: Any = None


def _ordered(choices: list[dict], population_first: bool) -> list[dict]:
    return sorted(choices, key=lambda c: c["kind"] != "population") if population_first else choices


def picker_for(
    initiative: str | None, code: str | None, *, population_first: bool = False
) -> tuple[list[dict], str | None]:
    """The indicator picker's options and value after the initiative changed: its own
    indicators, the viewer's first, keeping the chosen one where it has it too."""
    if not initiative:
        return [], None
    try:
        choices = _ordered(data.indicator_choices(initiative), population_first)
        own = data.own_indicator_codes(initiative)
    except data.DomainError:
        return [], None
    return code_options(choices, own), default_code(choices, own, code)


def enter_indicator(
    path: str,
    page: str,
    initiative: str | None,
    code: str | None,
    *,
    population_first: bool = False,
    **query: str | None,
) -> IndicatorEntry:
    """The opening of a page about one indicator at ``path``: :func:`enter` over the
    initiatives whose figures the user reads, then the initiative's indicators (an alert when
    it has none; ``population_first`` puts the population indicators before the partners'
    measures) and the one shown (:func:`default_code`)."""
    entry = enter(
        path,
        page,
        data.analytics_workspaces,
        no_figures(),
        initiative=initiative,
        code=code,
        **query,
    )
    if entry.instead is not None:
        return IndicatorEntry(entry, instead=entry.instead)
    try:
        choices = data.indicator_choices(entry.slug)
        if not choices:
            alert = dbc.Alert(gettext("This initiative has no indicators yet."), color="info")
            return IndicatorEntry(entry, instead=alert)
        own = data.own_indicator_codes(entry.slug)
    except data.DomainError as exc:
        return IndicatorEntry(entry, instead=error_alert(exc))
    choices = _ordered(choices, population_first)
    return IndicatorEntry(entry, choices, own, default_code(choices, own, code))


def indicator_picker(page: str, opened: IndicatorEntry):
    """The page's indicator picker (``<page>-code``), the viewer's own indicators first."""
    return picker(
        gettext("Indicator"),
        f"{page}-code",
        code_options(opened.choices, opened.own),
        opened.code,
        md=8,
        clearable=False,
    )
