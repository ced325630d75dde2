"""Reporting periods: quarters and years with their reporting window (opens, due, closes).

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import EntityAudit, record, snapshot
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from models.core.fields import (
    any_row,
    checked_choice,
    checked_date,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, page_of
from models.tables.indicator import (
    GapTarget,
    Indicator,
    IndicatorTarget,
)
from models.tables.initiative import PERIOD_KINDS, Initiative, Period
from models.tables.publication import Publication
from models.tables.reporting import Submission

PERIOD_KEY_PATTERN = r"^(\d{4})(?:Q([1-4]))?$"
MIN_YEAR, MAX_YEAR = 1900, 2999

# Defaults for a new period's reporting window, counted from the period's last day.
OPENS_AFTER = timedelta(days=1)
DUE_AFTER = timedelta(days=30)
CLOSES_AFTER = timedelta(days=60)
PERIOD_FIELDS = (
    "key",
    "kind",
    "starts_on",
    "ends_on",
    "opens_on",
    "due_on",
    "closes_on",
    "locked",
)


def parse_period_key(key: str) -> tuple[str, str, date, date]:
    """``2025Q3`` → (key, "quarter", 2025-07-01, 2025-09-30); ``2025`` → (key, "year", …)."""
    normalised = key.strip().upper() if isinstance(key, str) else ""
    match = re.fullmatch(PERIOD_KEY_PATTERN, normalised)
    if not match:
        raise InvalidInput(
            gettext(
                "%(key)r is not a period key: use 2025Q3 for a quarter or 2025 for a year", key=key
            ),
            field="key",
        )
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            gettext(
                "year must be between %(min_year)s and %(max_year)s",
                min_year=MIN_YEAR,
                max_year=MAX_YEAR,
            ),
            field="key",
        )
    if match.group(2) is None:
        return normalised, "year", date(year, 1, 1), date(year, 12, 31)
    quarter = int(match.group(2))
    start = date(year, 3 * quarter - 2, 1)
    next_start = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return normalised, "quarter", start, next_start - timedelta(days=1)


def _check_window(opens_on: date, due_on: date, closes_on: date) -> None:
    if opens_on > due_on:
        raise InvalidInput(
            gettext(
                "due_on (%(due_on)s) is before opens_on (%(opens_on)s); need opens ≤ due ≤ closes",
                due_on=due_on,
                opens_on=opens_on,
            ),
            field="due_on",
        )
    if due_on > closes_on:
        raise InvalidInput(
            gettext(
                "closes_on (%(closes_on)s) is before due_on (%(due_on)s); need opens ≤ "
                "due ≤ closes",
                closes_on=closes_on,
                due_on=due_on,
            ),
            field="closes_on",
        )


def _find_period(session: Session, initiative: Initiative, key: str) -> Period:
    period = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == key)
    )
    if period is None:
        raise NotFound(
            gettext("no period %(key)r in %(slug)r", key=key, slug=initiative.slug), field="key"
        )
    return period


def list_periods(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Period]:
    """The initiative's periods, earliest first (a year before its first quarter)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = (
        select(Period)
        .where(Period.initiative_id == init.id)
        .order_by(Period.starts_on, Period.ends_on.desc(), Period.key)
    )
    if kind:
        stmt = stmt.where(Period.kind == checked_choice(kind, PERIOD_KINDS, "kind"))
    return page_of(session=session, stmt=stmt, limit=limit, offset=offset)


def get_period(*, session: Session, actor: Actor, initiative: str, key: str) -> Period:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return _find_period(session, init, key)


def create_period(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    key: str,
    opens_on: date | None = None,
    due_on: date | None = None,
    closes_on: date | None = None,
) -> Period:
    """Backbone: a period from its key; the reporting window defaults to opening the day after
    the period ends, due 30 days after its end and closing 60 days after."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    key, kind, starts_on, ends_on = parse_period_key(key)
    opens_on = ends_on + OPENS_AFTER if opens_on is None else checked_date(opens_on, "opens_on")
    due_on = ends_on + DUE_AFTER if due_on is None else checked_date(due_on, "due_on")
    closes_on = (
        ends_on + CLOSES_AFTER if closes_on is None else checked_date(closes_on, "closes_on")
    )
    _check_window(opens_on, due_on, closes_on)
    taken = select(Period.id).where(Period.initiative_id == init.id, Period.key == key)
    if any_row(session=session, stmt=taken):
        raise Conflict(gettext("period %(key)r exists already", key=key), field="key")
    period = Period(
        initiative_id=init.id,
        key=key,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        opens_on=opens_on,
        due_on=due_on,
        closes_on=closes_on,
        locked=False,
    )
    session.add(period)
    flush_unique(
        session=session, field="key", message=gettext("period %(key)r exists already", key=key)
    )
    EntityAudit(session=session, actor=actor, entity_type="period", initiative_id=init.id).created(
        period.id, snapshot(period, PERIOD_FIELDS)
    )
    return period


def update_period(
    *, session: Session, actor: Actor, initiative: str, key: str, changes: Mapping[str, Any]
) -> Period:
    """Backbone: move the reporting window (``opens_on``, ``due_on``, ``closes_on``)."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    period = _find_period(session, init, key)
    reject_unknown_changes(changes, ("opens_on", "due_on", "closes_on"))
    dates = {
        name: checked_date(changes.get(name, getattr(period, name)), name)
        for name in ("opens_on", "due_on", "closes_on")
    }
    _check_window(**dates)
    before = snapshot(period, PERIOD_FIELDS)
    for name, value in dates.items():
        setattr(period, name, value)
    session.flush()
    after = snapshot(period, PERIOD_FIELDS)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="period", initiative_id=init.id
        ).updated(period.id, before, after)
    return period


def set_period_locked(
    *, session: Session, actor: Actor, initiative: str, key: str, locked: bool
) -> Period:
    """Backbone: lock a period (no more writes to its submissions) or unlock it again."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    period = _find_period(session, init, key)
    if period.locked != locked:
        before = snapshot(period, PERIOD_FIELDS)
        period.locked = locked
        session.flush()
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="period",
            entity_id=period.id,
            action="lock" if locked else "unlock",
            before=before,
            after=snapshot(period, PERIOD_FIELDS),
        )
    return period


def delete_period(*, session: Session, actor: Actor, initiative: str, key: str) -> Period:
    """Refused once a submission, a publication or an indicator's baseline or target (or gap
    target) uses it."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    period = _find_period(session, init, key)
    if any_row(
        session=session, stmt=select(Submission.id).where(Submission.period_id == period.id)
    ):
        raise Conflict(
            gettext("period %(key)r has submissions; it cannot be deleted", key=key), field="key"
        )
    if any_row(
        session=session, stmt=select(Publication.id).where(Publication.period_id == period.id)
    ):
        raise Conflict(
            gettext("period %(key)r has been published; it cannot be deleted", key=key), field="key"
        )
    used_by = session.scalars(
        select(Indicator.code)
        .where(
            Indicator.initiative_id == init.id,
            or_(
                Indicator.baseline_period_id == period.id,
                Indicator.target_period_id == period.id,
                Indicator.id.in_(
                    select(IndicatorTarget.indicator_id).where(
                        IndicatorTarget.period_id == period.id
                    )
                ),
                Indicator.id.in_(
                    select(GapTarget.indicator_id).where(
                        or_(
                            GapTarget.baseline_period_id == period.id,
                            GapTarget.target_period_id == period.id,
                        )
                    )
                ),
            ),
        )
        .order_by(Indicator.code)
    ).all()
    if used_by:
        raise Conflict(
            gettext(
                "period %(key)r holds the baseline or a target of %(used_by)s",
                key=key,
                used_by=", ".join(used_by),
            ),
            field="key",
        )
    EntityAudit(session=session, actor=actor, entity_type="period", initiative_id=init.id).deleted(
        period.id, snapshot(period, PERIOD_FIELDS)
    )
    session.delete(period)
    session.flush()
    return period
