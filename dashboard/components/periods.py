"""The period picker both reporting pages use: opened periods, newest first, with their state."""

from __future__ import annotations

from datetime import date

from dashboard import data
from models.core.i18n import gettext


def period_state(state: str) -> str:
    """A period's state (``data.PeriodInfo.state``) as the reader says it."""
    names = {
        "open": gettext("open"),
        "not open yet": gettext("not open yet"),
        "closed": gettext("closed"),
        "locked": gettext("locked"),
    }
    return names.get(state, state)


def period_options(periods: list[data.PeriodInfo], today: date) -> list[dict]:
    """The periods that have started or opened, newest first, each with its state. The one
    under way takes drafts before its reporting window opens (the domain's rule), so it is
    offered, saying from when it can be submitted."""
    shown = [p for p in periods if p.opens_on <= today or p.starts_on <= today] or periods
    options = []
    for p in sorted(shown, key=lambda p: (p.starts_on, p.key), reverse=True):
        state = p.state(today)
        if state == "open":
            detail = gettext("open until %(day)s", day=data.day(p.closes_on))
        elif state == "not open yet" and p.starts_on <= today:
            detail = gettext("under way · drafts, submit from %(day)s", day=data.day(p.opens_on))
        else:
            detail = period_state(state)
        options.append({"label": f"{p.key} · {detail}", "value": p.key})
    return options


def choose_period(
    initiative: str, wanted: str | None, today: date | None = None, preferred: str | None = None
) -> tuple[list[dict], str | None]:
    """The picker's options and value: ``wanted`` if the initiative has it, else
    ``preferred`` (the portal: the period the member's reporters may write, an extended
    deadline included), else the default."""
    today = today or data.today()
    periods = data.periods(initiative)
    options = period_options(periods, today)
    for key in (wanted, preferred):
        if key and any(p.key == key for p in periods):
            if not any(o["value"] == key for o in options):
                options.insert(0, {"label": key, "value": key})
            return options, key
    return options, data.default_period(periods, today)
