"""Series breaks: where an indicator's definition or source changed, so trends stop there.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

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
from models.initiatives.indicators import _find_indicator, _period_id
from models.tables.indicator import (
    SeriesBreak,
)
from models.tables.initiative import Period


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
        raise Conflict(f"{code} already has a series break at {period}", field="period")
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


def remove_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str
) -> tuple[str, str]:
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    period_id = _period_id(session, init, period, "period")
    row = session.scalar(
        select(SeriesBreak).where(
            SeriesBreak.indicator_id == indicator.id, SeriesBreak.period_id == period_id
        )
    )
    if row is None:
        raise NotFound(f"{code} has no series break at {period}", field="period")
    note = row.note
    record(
        session=session,
        actor=actor,
        entity_type="series_break",
        entity_id=row.id,
        action="delete",
        initiative_id=init.id,
        before={"indicator": code, "period": period, "note": note},
    )
    session.delete(row)
    session.flush()
    return (period, note)
