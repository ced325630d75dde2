"""What the pickers of an initiative's indicators show of each (its code, name, unit, kind,
dimensions and the population indicators it contributes to: README, "Two kinds of measure"),
kept across requests under the initiative's setup revision (``models.analytics.kept``).

Every indicator page opens on these choices and its pickers ask for them again at each change
of indicator; they are setup alone, the same for everyone who may see the initiative, and the
setup revision moves with any change to indicators, dimensions, contributions or organisations,
whoever makes it. Read as plain rows, in the order and within the limit of the listings they
replace (``list_indicators``, ``list_dimensions``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import viewable_initiative
from models.analytics.kept import kept
from models.core.actors import Actor
from models.core.paging import MAX_LIMIT
from models.tables.indicator import (
    Dimension,
    Indicator,
    indicator_contributions,
    indicator_dimensions,
)


@dataclass(frozen=True)
class IndicatorChoice:
    """One indicator as a picker shows it (names as written, before any translation)."""

    code: str
    name: str
    unit: str | None
    kind: str
    performance_type: str | None
    # (code, name: None beyond the dimensions' listing), in the dimensions' order
    dimensions: tuple[tuple[str, str | None], ...]
    contributes_to: tuple[str, ...]  # population indicators' codes, in their order


def indicator_choices(
    *, session: Session, actor: Actor, initiative: str
) -> tuple[IndicatorChoice, ...]:
    """The initiative's indicators in its order (position, then code), at most
    :data:`MAX_LIMIT` as listed; NotFound for an initiative the actor may not see. Shared:
    read them, never change them."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return kept(session, init.id, "indicator_choices", (), lambda: _read(session, init.id))


def _read(session: Session, initiative_id: int) -> tuple[IndicatorChoice, ...]:
    indicators = session.execute(
        select(
            Indicator.id,
            Indicator.code,
            Indicator.name,
            Indicator.unit,
            Indicator.kind,
            Indicator.performance_type,
        )
        .where(Indicator.initiative_id == initiative_id)
        .order_by(Indicator.position, Indicator.code)
        .limit(MAX_LIMIT)
    ).all()
    # A dimension is named as the listing of the initiative's dimensions names it (none beyond
    # that listing's limit).
    names = dict(
        session.execute(
            select(Dimension.code, Dimension.name)
            .where(Dimension.initiative_id == initiative_id)
            .order_by(Dimension.position, Dimension.code)
            .limit(MAX_LIMIT)
        ).all()
    )
    dims: dict[int, list[str]] = defaultdict(list)
    for indicator_id, code in session.execute(
        select(indicator_dimensions.c.indicator_id, Dimension.code)
        .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
        .where(Dimension.initiative_id == initiative_id)
        .order_by(Dimension.position, Dimension.code)
    ):
        dims[indicator_id].append(code)
    population = Indicator.__table__.alias("population")
    feeds: dict[int, list[str]] = defaultdict(list)
    for performance_id, code in session.execute(
        select(indicator_contributions.c.performance_id, population.c.code)
        .join(population, population.c.id == indicator_contributions.c.population_id)
        .where(population.c.initiative_id == initiative_id)
        .order_by(population.c.position, population.c.code)
    ):
        feeds[performance_id].append(code)
    return tuple(
        IndicatorChoice(
            code=row.code,
            name=row.name,
            unit=row.unit,
            kind=row.kind,
            performance_type=row.performance_type,
            dimensions=tuple((d, names.get(d)) for d in dims.get(row.id, ())),
            contributes_to=tuple(feeds.get(row.id, ())),
        )
        for row in indicators
    )
