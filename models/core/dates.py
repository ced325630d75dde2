"""Dates as people read them: one format for every message and page ("30 Nov 2026"); and the
one reading of today's date that the reporting calendar uses.

The API's date *fields* stay ISO 8601 (``2026-11-30``) for machines; these two functions are for
text a person reads: the domain's messages (a refused write says when the period closed) and
every date the dashboard shows. Day, abbreviated English month and year cannot be misread the
way 11/30 and 30/11 can.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.core import i18n
from models.core.settings import get_settings


def today() -> date:
    """The day the reporting calendar reads as today: ``CM_TODAY`` when set, else the real date.

    Every rule and page asks here rather than the clock, so an initiative (the demo built with
    ``cm demo --today``) can be served as of one day; a test that reads the source keeps
    ``date.today()`` out of everything else."""
    return get_settings().today or date.today()


def day(when: date) -> str:
    """``date(2026, 11, 30)`` → ``30 Nov 2026`` (a datetime reads as its UTC day); in another
    language, its long form."""
    if isinstance(when, datetime):
        when = _utc(when).date()
    if i18n.current_locale() != i18n.DEFAULT_LOCALE:
        return i18n.format_date(when)  # "1 de diciembre de 2026" (README, "Languages")
    return f"{when.day} {when:%b %Y}"


def moment(when: datetime) -> str:
    """A timestamp to the minute, in UTC and said so: ``30 Nov 2026, 14:05 UTC``.

    Stored times are UTC; a naive one (SQLite hands some back without a zone) is taken as UTC."""
    when = _utc(when)
    return f"{day(when)}, {when:%H:%M} UTC"


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
