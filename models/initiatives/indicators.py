"""Indicators: definition, measure type, valid range, baseline, interim and end targets.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from models.access.permissions import manageable_initiative, viewable_initiative
from models.analytics.disclosure import audience_of, told_baselines
from models.audit.trail import EntityAudit
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from models.core.fields import (
    any_row,
    checked_choice,
    checked_integer,
    checked_number,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, contains_text, page_of
from models.initiatives.computed import check_computed, checked_expression, readers_of
from models.initiatives.outcomes import next_position
from models.tables.indicator import (
    DIRECTIONS,
    FREQUENCIES,
    KINDS,
    MEASURE_TYPES,
    PERFORMANCE_TYPES,
    Category,
    Dimension,
    GapTarget,
    Indicator,
    IndicatorTarget,
    Outcome,
    indicator_contributions,
)
from models.tables.initiative import Initiative, Period
from models.tables.reporting import Value

INDICATOR_CODE_PATTERN = r"^[A-Z0-9_]{1,60}$"
INDICATOR_SCALARS = (
    "name",
    "definition",
    "unit",
    "measure_type",
    "direction",
    "valid_min",
    "valid_max",
    "decimals",
    "frequency",
    "data_source",
    "position",
    "kind",
    "performance_type",
    "expression",
)
# What create and update take besides the scalars.
INDICATOR_LISTS = ("outcome", "dimensions", "baseline", "target", "targets", "contributes_to")


def _indicator_query(initiative_id: int) -> Select[Indicator]:
    return (
        select(Indicator)
        .where(Indicator.initiative_id == initiative_id)
        .options(
            selectinload(Indicator.outcome),
            selectinload(Indicator.dimensions),
            selectinload(Indicator.targets),
            selectinload(Indicator.contributes_to),
            selectinload(Indicator.gap_targets).selectinload(GapTarget.dimension),
        )
    )


def describe_indicators(
    *, session: Session, indicators: Sequence[Indicator]
) -> list[dict[str, Any]]:
    """Indicators as plain dicts: outcome and dimension codes, baseline and targets by period key.

    One query for the period keys of the whole list.
    """
    period_ids = {
        pid
        for ind in indicators
        for pid in (
            ind.baseline_period_id,
            ind.target_period_id,
            *(t.period_id for t in ind.targets),
            *(p for g in ind.gap_targets for p in (g.baseline_period_id, g.target_period_id)),
        )
        if pid is not None
    }
    periods: dict[int, tuple[str, date]] = {}
    if period_ids:
        periods = {
            pid: (key, start)
            for pid, key, start in session.execute(
                select(Period.id, Period.key, Period.starts_on).where(Period.id.in_(period_ids))
            )
        }

    def key_of(period_id: int | None) -> str | None:
        return periods[period_id][0] if period_id in periods else None

    out = []
    for ind in indicators:
        targets = sorted(ind.targets, key=lambda t: periods.get(t.period_id, ("", date.min))[1])
        out.append(
            {
                "code": ind.code,
                **{name: getattr(ind, name) for name in INDICATOR_SCALARS},
                "outcome": ind.outcome.code if ind.outcome is not None else None,
                "dimensions": [
                    d.code for d in sorted(ind.dimensions, key=lambda d: (d.position, d.code))
                ],
                "contributes_to": [
                    p.code for p in sorted(ind.contributes_to, key=lambda p: (p.position, p.code))
                ],
                "baseline": None
                if ind.baseline_value is None
                else {"value": ind.baseline_value, "period": key_of(ind.baseline_period_id)},
                "target": None
                if ind.target_value is None
                else {"value": ind.target_value, "period": key_of(ind.target_period_id)},
                "targets": [
                    {"period": key_of(t.period_id), "value": t.value, "note": t.note}
                    for t in targets
                ],
                "gap_targets": sorted(
                    (
                        describe_gap_target(g, {pid: key for pid, (key, _) in periods.items()})
                        for g in ind.gap_targets
                    ),
                    key=lambda g: g["dimension"],
                ),
            }
        )
    return out


def described_for(
    *, session: Session, actor: Actor, initiative: Initiative, indicators: Sequence[Indicator]
) -> list[dict[str, Any]]:
    """Indicators described as ``actor`` may read them: below backbone a baseline (with the
    interim targets) or a gap target's baseline gap that would tell the viewer more than its
    period's figures it is shown is left out (``models.analytics.disclosure.baseline_told``;
    README, Disclosure)."""
    described = describe_indicators(session=session, indicators=indicators)
    if actor.is_backbone(initiative.id):
        return described
    told, told_gaps = told_baselines(
        session=session,
        initiative=initiative,
        audience=audience_of(session=session, actor=actor, initiative=initiative),
        indicators=indicators,
    )
    for indicator, out in zip(indicators, described, strict=True):
        if out["baseline"] is not None and indicator.id not in told:
            # Interim targets on the line would draw it back to the baseline.
            out["baseline"], out["baseline_withheld"], out["targets"] = None, True, []
        for gap in out["gap_targets"]:
            if (indicator.id, gap["dimension"]) not in told_gaps:
                gap["baseline"] = None
    return described


def describe_gap_target(row: GapTarget, period_keys: Mapping[int, str]) -> dict[str, Any]:
    """A gap target as a plain dict (``models.initiatives.gap_targets``), its periods by key."""
    return {
        "dimension": row.dimension.code,
        "baseline": {"value": row.baseline_value, "period": period_keys[row.baseline_period_id]},
        "target": {"value": row.target_value, "period": period_keys[row.target_period_id]},
        "note": row.note,
    }


def _find_indicator(session: Session, initiative: Initiative, code: str) -> Indicator:
    indicator = session.scalar(_indicator_query(initiative.id).where(Indicator.code == code))
    if indicator is None:
        raise NotFound(
            gettext("no indicator %(code)r in %(slug)r", code=code, slug=initiative.slug),
            field="code",
        )
    return indicator


def _period_id(session: Session, initiative: Initiative, key: Any, field: str) -> int:
    period_id = session.scalar(
        select(Period.id).where(Period.initiative_id == initiative.id, Period.key == key)
    )
    if period_id is None:
        raise InvalidInput(
            gettext("no period %(key)r in %(slug)r", key=key, slug=initiative.slug), field=field
        )
    return period_id


def _checked_point(
    session: Session, initiative: Initiative, point: Mapping[str, Any] | None, field: str
) -> tuple[float | None, int | None]:
    """A baseline or end target ``{value, period}`` as (value, period id)."""
    if point is None:
        return None, None
    value = checked_number(point.get("value"), f"{field}.value", required=True)
    period = point.get("period")
    period_id = (
        None if period is None else _period_id(session, initiative, period, f"{field}.period")
    )
    return value, period_id


def _set_indicator_fields(
    session: Session, initiative: Initiative, indicator: Indicator, values: Mapping[str, Any]
) -> None:
    """Check and apply indicator fields (create and update share this)."""
    for name, value in values.items():
        if name in ("name", "unit"):
            setattr(
                indicator, name, checked_text(value, name, max_length=200 if name == "name" else 40)
            )
        elif name in ("definition", "data_source"):
            setattr(indicator, name, checked_text(value, name, required=False))
        elif name == "measure_type":
            indicator.measure_type = checked_choice(value, MEASURE_TYPES, name)
        elif name == "direction":
            indicator.direction = checked_choice(value, DIRECTIONS, name)
        elif name == "frequency":
            indicator.frequency = checked_choice(value, FREQUENCIES, name)
        elif name in ("valid_min", "valid_max"):
            setattr(indicator, name, checked_number(value, name))
        elif name == "decimals":
            indicator.decimals = checked_integer(value, name, minimum=0, maximum=6)
        elif name == "position":
            indicator.position = checked_integer(value, name)
        elif name == "outcome":
            indicator.outcome = (
                None
                if value is None
                else session.scalar(
                    select(Outcome).where(
                        Outcome.initiative_id == initiative.id, Outcome.code == value
                    )
                )
            )
            if value is not None and indicator.outcome is None:
                raise InvalidInput(
                    gettext("no outcome %(value)r in %(slug)r", value=value, slug=initiative.slug),
                    field=name,
                )
        elif name == "dimensions":
            indicator.dimensions = _dimensions_by_code(session, initiative, value or [])
            # A gap target is on a dimension the indicator collects: it goes with it.
            kept = {d.id for d in indicator.dimensions}
            for gap in [g for g in indicator.gap_targets if g.dimension_id not in kept]:
                indicator.gap_targets.remove(gap)
        elif name == "baseline":
            indicator.baseline_value, indicator.baseline_period_id = _checked_point(
                session, initiative, value, name
            )
        elif name == "target":
            indicator.target_value, indicator.target_period_id = _checked_point(
                session, initiative, value, name
            )
        elif name == "targets":
            _set_targets(session, initiative, indicator, value or [])
        elif name == "kind":
            indicator.kind = checked_choice(value, KINDS, name)
        elif name == "performance_type":
            indicator.performance_type = (
                None if value is None else checked_choice(value, PERFORMANCE_TYPES, name)
            )
        elif name == "contributes_to":
            indicator.contributes_to = _contributions(session, initiative, indicator, value or [])
        elif name == "expression":
            indicator.expression = checked_expression(value)
    _check_kind(session, indicator, values)
    check_computed(session, initiative, indicator)
    if (
        indicator.valid_min is not None
        and indicator.valid_max is not None
        and indicator.valid_min > indicator.valid_max
    ):
        raise InvalidInput(gettext("valid_min must not be above valid_max"), field="valid_min")


def _named(
    session: Session,
    initiative: Initiative,
    model: type[Dimension | Indicator],
    codes: Sequence[str],
    field: str,
) -> list[Any]:
    """The initiative's rows of ``model`` named by ``codes`` (repeats dropped), in their order;
    an unknown code is refused at its place in the list."""
    codes = list(dict.fromkeys(codes))
    rows: list[Any] = list(
        session.scalars(
            select(model).where(model.initiative_id == initiative.id, model.code.in_(codes))
        )
    )
    found = {row.code: row for row in rows}
    for index, code in enumerate(codes):
        if code not in found:
            # A whole sentence for each (README, "Languages": no word slotted into one).
            words = {"code": code, "slug": initiative.slug}
            raise InvalidInput(
                gettext("no dimension %(code)r in %(slug)r", **words)
                if model is Dimension
                else gettext("no indicator %(code)r in %(slug)r", **words),
                field=f"{field}[{index}]",
                extra={"value": code},
            )
    return [found[code] for code in codes]


def _contributions(
    session: Session, initiative: Initiative, indicator: Indicator, codes: Sequence[str]
) -> list[Indicator]:
    """The population indicators named by ``codes``, in the indicator's own initiative."""
    targets: list[Indicator] = _named(session, initiative, Indicator, codes, "contributes_to")
    for index, target in enumerate(targets):
        field = f"contributes_to[{index}]"
        if target.code == indicator.code:
            raise InvalidInput(gettext("a measure cannot contribute to itself"), field=field)
        if target.kind != "population":
            raise InvalidInput(
                gettext(
                    "%(code)r is a performance measure; measures contribute to population "
                    "indicators only",
                    code=target.code,
                ),
                field=field,
                extra={"value": target.code},
            )
    return targets


def _check_kind(session: Session, indicator: Indicator, values: Mapping[str, Any]) -> None:
    """A performance measure has a type; a population indicator has none and contributes to
    nothing. Turning a population indicator into a performance measure while measures
    contribute to it would leave them pointing at a measure: refused."""
    if indicator.kind == "performance":
        if indicator.performance_type is None:
            raise InvalidInput(
                gettext("a performance measure needs its type: how_much, how_well or better_off"),
                field="performance_type",
            )
        if indicator.id is not None:
            feeding = select(indicator_contributions.c.performance_id).where(
                indicator_contributions.c.population_id == indicator.id
            )
            if any_row(session=session, stmt=feeding):
                raise Conflict(
                    gettext(
                        "performance measures contribute to %(code)r; unlink them before it "
                        "becomes a performance measure",
                        code=indicator.code,
                    ),
                    field="kind",
                )
        return
    # A population indicator: what only a performance measure has is refused when asked for,
    # and dropped when the kind changed.
    if values.get("performance_type") is not None:
        raise InvalidInput(
            gettext("only a performance measure has a performance type"), field="performance_type"
        )
    if values.get("contributes_to"):
        raise InvalidInput(
            gettext("a population indicator contributes to nothing; make it a performance measure"),
            field="contributes_to",
        )
    indicator.performance_type = None
    if indicator.contributes_to:
        indicator.contributes_to = []


def _dimensions_by_code(
    session: Session, initiative: Initiative, codes: Sequence[str]
) -> list[Dimension]:
    """The dimensions named; a cross-tab only with both its components (README, "Cross-tabs"):
    its cells are checked and protected against their one-way breakdowns."""
    found = _named(session, initiative, Dimension, codes, "dimensions")
    named = {d.code for d in found}
    for index, dimension in enumerate(found):
        missing = [c for c in dimension.components or () if c not in named]
        if missing:
            raise InvalidInput(
                gettext(
                    "the cross-tab %(code)r needs its components collected too: add %(missing)s",
                    code=dimension.code,
                    missing=", ".join(repr(m) for m in missing),
                ),
                field=f"dimensions[{index}]",
                extra={"value": dimension.code},
            )
    return sorted(found, key=lambda d: (d.position, d.code))


def _set_targets(
    session: Session,
    initiative: Initiative,
    indicator: Indicator,
    targets: Sequence[Mapping[str, Any]],
) -> None:
    """Replace the interim targets, updating rows in place by period (keeps the unique key)."""
    wanted: dict[int, tuple[float, str | None]] = {}
    for index, item in enumerate(targets):
        where = f"targets[{index}]"
        period_id = _period_id(session, initiative, item.get("period"), f"{where}.period")
        if period_id in wanted:
            raise InvalidInput(
                gettext("period %(value)r has two targets", value=item.get("period")),
                field=f"{where}.period",
            )
        value = checked_number(item.get("value"), f"{where}.value", required=True)
        wanted[period_id] = (value, checked_text(item.get("note"), f"{where}.note", required=False))
    for target in list(indicator.targets):
        if target.period_id not in wanted:
            indicator.targets.remove(target)
    existing = {t.period_id: t for t in indicator.targets}
    for period_id, (value, note) in wanted.items():
        current = existing.get(period_id)
        if current is None:
            indicator.targets.append(IndicatorTarget(period_id=period_id, value=value, note=note))
        else:
            current.value, current.note = value, note


def indicator_names(*, session: Session, actor: Actor, initiative: str) -> dict[str, str]:
    """The initiative's indicators, code → name, in their order, as plain rows: pages that
    only name indicators (a report under review) need none of what ``list_indicators``
    describes."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return dict(
        session.execute(
            select(Indicator.code, Indicator.name)
            .where(Indicator.initiative_id == init.id)
            .order_by(Indicator.position, Indicator.code)
        ).all()
    )


def list_indicators(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    outcome: str | None = None,
    measure_type: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """The initiative's indicators, described (see :func:`describe_indicators`)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = _indicator_query(init.id).order_by(Indicator.position, Indicator.code)
    if outcome:
        stmt = stmt.where(
            Indicator.outcome_id.in_(
                select(Outcome.id).where(Outcome.initiative_id == init.id, Outcome.code == outcome)
            )
        )
    if measure_type:
        stmt = stmt.where(
            Indicator.measure_type == checked_choice(measure_type, MEASURE_TYPES, "measure_type")
        )
    if kind:
        stmt = stmt.where(Indicator.kind == checked_choice(kind, KINDS, "kind"))
    if q:
        stmt = stmt.where(or_(contains_text(Indicator.name, q), contains_text(Indicator.code, q)))
    page = page_of(session=session, stmt=stmt, limit=limit, offset=offset)
    return Page(
        items=described_for(session=session, actor=actor, initiative=init, indicators=page.items),
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


def get_indicator(*, session: Session, actor: Actor, initiative: str, code: str) -> dict[str, Any]:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    return described_for(session=session, actor=actor, initiative=init, indicators=[indicator])[0]


def create_indicator(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    unit: str,
    measure_type: str,
    **fields: Any,
) -> dict[str, Any]:
    """Backbone: a new indicator; ``fields`` as in :func:`update_indicator`."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    code = checked_pattern(code, INDICATOR_CODE_PATTERN, "code", "indicator code")
    reject_unknown_changes(fields, (*INDICATOR_SCALARS, *INDICATOR_LISTS))
    taken = select(Indicator.id).where(Indicator.initiative_id == init.id, Indicator.code == code)
    if any_row(session=session, stmt=taken):
        raise Conflict(
            gettext("an indicator with code %(code)r exists already", code=code), field="code"
        )
    indicator = Indicator(
        initiative_id=init.id,
        code=code,
        direction="higher",
        decimals=1,
        frequency="quarterly",
        kind="population",
        dimensions=[],
        targets=[],
        contributes_to=[],
        gap_targets=[],
    )
    if fields.get("position") is None:
        fields["position"] = next_position(
            session=session, column=Indicator.position, where=Indicator.initiative_id == init.id
        )
    values = {"name": name, "unit": unit, "measure_type": measure_type, **fields}
    # Optional fields left as None take the defaults above.
    for optional in ("direction", "decimals", "frequency", "kind"):
        if values.get(optional) is None:
            values.pop(optional, None)
    with session.no_autoflush:
        _set_indicator_fields(session, init, indicator, values)
    session.add(indicator)
    flush_unique(
        session=session,
        field="code",
        message=gettext("an indicator with code %(code)r exists already", code=code),
    )
    described = describe_indicators(session=session, indicators=[indicator])[0]
    EntityAudit(
        session=session, actor=actor, entity_type="indicator", initiative_id=init.id
    ).created(indicator.id, described)
    return described


def update_indicator(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Backbone: change any field but the code.

    ``measure_type`` cannot change once values are reported, nor can a dimension with values be
    dropped from ``dimensions``.
    """
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    reject_unknown_changes(changes, (*INDICATOR_SCALARS, *INDICATOR_LISTS))
    before = describe_indicators(session=session, indicators=[indicator])[0]
    if "measure_type" in changes:
        new_type = checked_choice(changes["measure_type"], MEASURE_TYPES, "measure_type")
        has_values = select(Value.id).where(Value.indicator_id == indicator.id)
        if new_type != indicator.measure_type and any_row(session=session, stmt=has_values):
            raise Conflict(
                gettext("%(code)r has reported values; its measure_type cannot change", code=code),
                field="measure_type",
            )
    if "dimensions" in changes:
        kept = set(changes["dimensions"] or [])
        for dimension in indicator.dimensions:
            if dimension.code in kept:
                continue
            in_use = select(Value.id).where(
                Value.indicator_id == indicator.id,
                Value.category_id.in_(
                    select(Category.id).where(Category.dimension_id == dimension.id)
                ),
            )
            if any_row(session=session, stmt=in_use):
                raise Conflict(
                    gettext(
                        "%(code)r has values broken down by %(code2)r; keep that dimension",
                        code=code,
                        code2=dimension.code,
                    ),
                    field="dimensions",
                )
    for required in ("name", "unit", "measure_type", "direction", "decimals", "frequency", "kind"):
        if required in changes and changes[required] is None:
            raise InvalidInput(gettext("must not be null"), field=required)
    with session.no_autoflush:
        _set_indicator_fields(session, init, indicator, changes)
    session.flush()
    after = describe_indicators(session=session, indicators=[indicator])[0]
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="indicator", initiative_id=init.id
        ).updated(indicator.id, before, after)
    return after


def delete_indicator(
    *, session: Session, actor: Actor, initiative: str, code: str
) -> dict[str, Any]:
    """Refused once values are reported for the indicator (they would go with it)."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    indicator = _find_indicator(session, init, code)
    if any_row(session=session, stmt=select(Value.id).where(Value.indicator_id == indicator.id)):
        raise Conflict(
            gettext("%(code)r has reported values; it cannot be deleted", code=code), field="code"
        )
    readers = readers_of(session, indicator)
    if readers:
        raise Conflict(
            gettext(
                "%(code)r is read by the expression of %(readers)s; it cannot be deleted",
                code=code,
                readers=", ".join(readers),
            ),
            field="code",
            extra={"value": readers},
        )
    described = describe_indicators(session=session, indicators=[indicator])[0]
    audit = EntityAudit(
        session=session, actor=actor, entity_type="indicator", initiative_id=init.id
    )
    audit.deleted(indicator.id, described)
    # The measures that contributed to it lose the link with it (the database cascades it):
    # their own trail says so.
    contributors = list(
        session.scalars(
            _indicator_query(init.id).where(
                Indicator.id.in_(
                    select(indicator_contributions.c.performance_id).where(
                        indicator_contributions.c.population_id == indicator.id
                    )
                )
            )
        )
    )
    before = describe_indicators(session=session, indicators=contributors)
    session.delete(indicator)
    session.flush()
    for measure, was in zip(contributors, before, strict=True):
        session.refresh(measure, ["contributes_to"])
        audit.updated(
            measure.id, was, describe_indicators(session=session, indicators=[measure])[0]
        )
    return described
