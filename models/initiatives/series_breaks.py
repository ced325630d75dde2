"""Series breaks: where an indicator's definition or source changed, so trends stop there.

A break is named by its indicator and the first period measured the new way; its note (why)
may be corrected, and a break marked by mistake removed. Every change is audited.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import record
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    NotFound,
)
from models.core.fields import any_row, checked_text
from models.core.i18n import gettext
from models.initiatives.indicators import _find_indicator, _period_id
from models.tables.indicator import (
    Indicator,
    SeriesBreak,
)
from models.tables.initiative import Period


@dataclass(frozen=True)
class BreakView:
    """One break of the initiative's list: the indicator, the period it starts, why."""

    indicator: str
    indicator_name: str
    period: str
    note: str


def initiative_series_breaks(*, session: Session, actor: Actor, initiative: str) -> list[BreakView]:
    """Every series break of the initiative, by indicator then period (one query)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    rows = session.execute(
        select(Indicator.code, Indicator.name, Period.key, SeriesBreak.note)
        .join(Indicator, Indicator.id == SeriesBreak.indicator_id)
        .join(Period, Period.id == SeriesBreak.period_id)
        .where(Indicator.initiative_id == init.id)
        .order_by(Indicator.position, Indicator.code, Period.starts_on)
    )
    return [BreakView(code, name, key, note) for code, name, key, note in rows]


def list_series_breaks(
    *, session: Session, actor: Actor, initiative: str, code: str
) -> list[tuple[str, str]]:
    """An indicator's definition changes: (period key, note), earliest first."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    return [
        (key, note)
        for key, note in session.execute(
            select(Period.key, SeriesBreak.note)
            .join(Period, Period.id == SeriesBreak.period_id)
            .where(SeriesBreak.indicator_id == indicator.id)
            .order_by(Period.starts_on)
        )
    ]


def add_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str, note: Any
) -> tuple[str, str]:
    """Backbone: mark that the indicator is measured differently from ``period`` on (e.g. a
    new reading test), so charts show the break and trends do not compare across it."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    period_id = _period_id(session, init, period, "period")
    text = checked_text(note, "note", required=True, max_length=2000)
    if any_row(
        session=session,
        stmt=select(SeriesBreak.id).where(
            SeriesBreak.indicator_id == indicator.id, SeriesBreak.period_id == period_id
        ),
    ):
        raise Conflict(
            gettext("%(code)s already has a series break at %(period)s", code=code, period=period),
            field="period",
        )
    row = SeriesBreak(indicator_id=indicator.id, period_id=period_id, note=text)
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        entity_type="series_break",
        entity_id=row.id,
        action="create",
        initiative_id=init.id,
        after={"indicator": code, "period": period, "note": text},
    )
    return (period, text)


def _find_break(
    session: Session, actor: Actor, initiative: str, code: str, period: str
) -> tuple[int, SeriesBreak]:
    """(the initiative's id, the break), for the backbone; 404 naming the period when none."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    period_id = _period_id(session, init, period, "period")
    row = session.scalar(
        select(SeriesBreak).where(
            SeriesBreak.indicator_id == indicator.id, SeriesBreak.period_id == period_id
        )
    )
    if row is None:
        raise NotFound(
            gettext("%(code)s has no series break at %(period)s", code=code, period=period),
            field="period",
        )
    return init.id, row


def update_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str, note: Any
) -> tuple[str, str]:
    """Backbone: correct the note of a break (its indicator and period name it: to move it,
    remove it and mark the right period)."""
    initiative_id, row = _find_break(session, actor, initiative, code, period)
    text = checked_text(note, "note", required=True, max_length=2000)
    before = row.note
    if text != before:
        row.note = text
        session.flush()
        record(
            session=session,
            actor=actor,
            entity_type="series_break",
            entity_id=row.id,
            action="update",
            initiative_id=initiative_id,
            before={"indicator": code, "period": period, "note": before},
            after={"indicator": code, "period": period, "note": text},
        )
    return (period, text)


def remove_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str
) -> tuple[str, str]:
    """Backbone: the break was marked by mistake; trends compare across the period again."""
    initiative_id, row = _find_break(session, actor, initiative, code, period)
    note = row.note
    record(
        session=session,
        actor=actor,
        entity_type="series_break",
        entity_id=row.id,
        action="delete",
        initiative_id=initiative_id,
        before={"indicator": code, "period": period, "note": note},
    )
    session.delete(row)
    session.flush()
    return (period, note)
