"""Gap targets: a target on the gap between the best and the worst category of one of an
indicator's dimensions ("halve the reading gap between the highest and lowest group by 2030").

A gap target has a baseline gap at a period and a target gap due by a later period; the gap
expected in between is the straight line from one to the other, and a smaller gap is better
(``models.analytics.views`` judges the gap against it). One per indicator and dimension; the
dimension must be one the indicator collects and both periods the initiative's own. Each change
is audited under the indicator (entity type ``gap_target``), so the indicator's history on the
setup page shows it next to its other target changes.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import EntityAudit
from models.core.actors import Actor
from models.core.errors import InvalidInput, NotFound
from models.core.fields import checked_number, checked_text, flush_unique
from models.core.i18n import gettext
from models.initiatives.indicators import (
    _find_indicator,
    _period_id,
    describe_gap_target,
    described_for,
)
from models.tables.indicator import Dimension, GapTarget, Indicator
from models.tables.initiative import Initiative, Period

ENTITY = "gap_target"


def _collected(indicator: Indicator, dimension: Any) -> Dimension:
    """The indicator's dimension named ``dimension`` (422 naming it otherwise)."""
    for d in indicator.dimensions:
        if d.code == dimension:
            return d
    raise InvalidInput(
        gettext(
            "%(code)s does not collect a breakdown by %(dimension)r",
            code=indicator.code,
            dimension=dimension,
        ),
        field="dimension",
    )


def _point(
    session: Session, initiative: Initiative, point: Any, field: str
) -> tuple[float, int, Period]:
    """A ``{value, period}`` gap as (gap, period id, period); a gap is never negative."""
    if not isinstance(point, Mapping):
        raise InvalidInput(gettext("must be an object with value and period"), field=field)
    value = checked_number(point.get("value"), f"{field}.value", required=True)
    assert value is not None  # required
    if value < 0:
        raise InvalidInput(gettext("a gap is never negative"), field=f"{field}.value")
    period_id = _period_id(session, initiative, point.get("period"), f"{field}.period")
    period = session.get_one(Period, period_id)
    return value, period_id, period


def list_gap_targets(
    *, session: Session, actor: Actor, initiative: str, code: str
) -> list[dict[str, Any]]:
    """The indicator's gap targets, by dimension (as in the indicator's read model)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    gaps: list[dict[str, Any]] = described_for(
        session=session, actor=actor, initiative=init, indicators=[indicator]
    )[0]["gap_targets"]
    return gaps


def set_gap_target(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    dimension: str,
    baseline: Any,
    target: Any,
    note: Any = None,
) -> dict[str, Any]:
    """Backbone: set (or replace) the indicator's gap target on ``dimension``: the baseline
    gap ``{value, period}`` and the target gap ``{value, period}`` due by its period."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    collected = _collected(indicator, dimension)
    base, base_id, base_period = _point(session, init, baseline, "baseline")
    goal, goal_id, goal_period = _point(session, init, target, "target")
    if goal_period.starts_on <= base_period.starts_on:
        raise InvalidInput(gettext("must be after the baseline period"), field="target.period")
    if goal > base:
        raise InvalidInput(
            gettext("a gap target does not widen the baseline gap"), field="target.value"
        )
    text = checked_text(note, "note", required=False, max_length=2000)
    keys = {base_id: base_period.key, goal_id: goal_period.key}
    row = next((g for g in indicator.gap_targets if g.dimension_id == collected.id), None)
    before = None if row is None else describe_gap_target(row, _keys(session, row) | keys)
    if row is None:
        row = GapTarget(dimension=collected)
        indicator.gap_targets.append(row)
    row.baseline_value, row.baseline_period_id = base, base_id
    row.target_value, row.target_period_id, row.note = goal, goal_id, text
    flush_unique(
        session=session,
        field="dimension",
        message=gettext(
            "%(code)s has a gap target by %(dimension)r already (set at the same time)",
            code=code,
            dimension=dimension,
        ),
    )
    after = describe_gap_target(row, keys)
    audit = EntityAudit(session=session, actor=actor, entity_type=ENTITY, initiative_id=init.id)
    if before is None:
        audit.created(indicator.id, {"indicator": code, **after})
    elif before != after:
        audit.updated(indicator.id, {"indicator": code, **before}, {"indicator": code, **after})
    return after


def _keys(session: Session, row: GapTarget) -> dict[int, str]:
    return dict(
        session.execute(
            select(Period.id, Period.key).where(
                Period.id.in_([row.baseline_period_id, row.target_period_id])
            )
        )
        .tuples()
        .all()
    )


def remove_gap_target(
    *, session: Session, actor: Actor, initiative: str, code: str, dimension: str
) -> dict[str, Any]:
    """Backbone: remove the indicator's gap target on ``dimension`` (404 naming the dimension
    when there is none)."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    row = next((g for g in indicator.gap_targets if g.dimension.code == dimension), None)
    if row is None:
        raise NotFound(
            gettext("%(code)s has no gap target by %(dimension)r", code=code, dimension=dimension),
            field="dimension",
        )
    before = describe_gap_target(row, _keys(session, row))
    EntityAudit(session=session, actor=actor, entity_type=ENTITY, initiative_id=init.id).deleted(
        indicator.id, {"indicator": code, **before}
    )
    indicator.gap_targets.remove(row)
    session.flush()
    return before


def replace_gap_targets(
    *, session: Session, actor: Actor, initiative: str, code: str, gap_targets: Any
) -> list[dict[str, Any]]:
    """Backbone: make the indicator's gap targets these (``[{dimension, baseline, target,
    note}]``, as :func:`set_gap_target` takes them): set each, remove the others. A refusal
    names the row, e.g. ``gap_targets[1].baseline.value`` (the setup form's grid)."""
    if not isinstance(gap_targets, list | tuple):
        raise InvalidInput(gettext("must be a list"), field="gap_targets")
    seen: set[Any] = set()
    for index, item in enumerate(gap_targets):
        where = f"gap_targets[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(gettext("must be an object"), field=where)
        dimension = item.get("dimension")
        if not isinstance(dimension, str) or not dimension:
            raise InvalidInput(gettext("is required"), field=f"{where}.dimension")
        if dimension in seen:
            raise InvalidInput(
                gettext("%(dimension)r has two gap targets", dimension=dimension),
                field=f"{where}.dimension",
            )
        seen.add(dimension)
        try:
            set_gap_target(
                session=session,
                actor=actor,
                initiative=initiative,
                code=code,
                dimension=dimension,
                baseline=item.get("baseline"),
                target=item.get("target"),
                note=item.get("note"),
            )
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"{where}.{exc.field}") from exc
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    for dimension in [g.dimension.code for g in _find_indicator(session, init, code).gap_targets]:
        if dimension not in seen:
            remove_gap_target(
                session=session, actor=actor, initiative=initiative, code=code, dimension=dimension
            )
    return list_gap_targets(session=session, actor=actor, initiative=initiative, code=code)
