"""The indicator pickers' choices (models.initiatives.choices) are what the indicators' and
dimensions' listings say of them, kept under the setup revision: a change to the setup, however
made, is in the next request's choices; someone who may not see the initiative gets none."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from models.access.permissions import actor_for_user
from models.analytics.kept import KEPT
from models.core.actors import SYSTEM
from models.core.errors import NotFound
from models.core.paging import MAX_LIMIT
from models.initiatives.choices import indicator_choices
from models.initiatives.dimensions import list_dimensions
from models.initiatives.indicators import list_indicators
from models.tables.indicator import Indicator, indicator_contributions

from .. import factories as f


def _listed(session):
    """The choices as the listings gave them."""
    described = list_indicators(session=session, actor=SYSTEM, initiative="math", limit=MAX_LIMIT)
    dims = list_dimensions(session=session, actor=SYSTEM, initiative="math", limit=MAX_LIMIT)
    names = {d.code: d.name for d in dims.items}
    return [
        (
            i["code"],
            i["name"],
            i.get("unit"),
            i["kind"],
            i["performance_type"],
            tuple((d, names.get(d)) for d in i.get("dimensions") or []),
            tuple(i["contributes_to"]),
        )
        for i in described.items
    ]


def _choices(session, actor=SYSTEM):
    return [
        (c.code, c.name, c.unit, c.kind, c.performance_type, c.dimensions, c.contributes_to)
        for c in indicator_choices(session=session, actor=actor, initiative="math")
    ]


def _id(session, code):
    return session.scalar(select(Indicator.id).where(Indicator.code == code))


def test_choices_are_the_listings_and_follow_setup_changes(session, world) -> None:
    KEPT.clear()
    gender = f.dimension(session, world, "gender", ["f", "m"])
    f.indicator(
        session, world, "count", code="VISITS", kind="performance", performance_type="how_much"
    )
    session.flush()
    session.execute(
        insert(indicator_contributions).values(
            performance_id=_id(session, "VISITS"), population_id=_id(session, "KIDS")
        )
    )
    kids = session.get(Indicator, _id(session, "KIDS"))
    kids.dimensions.append(gender)
    session.commit()
    assert _choices(session) == _listed(session)
    kept = indicator_choices(session=session, actor=SYSTEM, initiative="math")
    assert indicator_choices(session=session, actor=SYSTEM, initiative="math") is kept
    assert ("VISITS", ("KIDS",)) in [(c[0], c[6]) for c in _choices(session)]
    # Renamed by a statement of its own: the setup revision moved, the choice follows.
    session.execute(update(Indicator).where(Indicator.code == "KIDS").values(name="Children"))
    session.commit()
    assert ("KIDS", "Children") in [(c[0], c[1]) for c in _choices(session)]
    assert _choices(session) == _listed(session)


def test_no_choices_for_someone_who_may_not_see_the_initiative(session, world) -> None:
    other = f.initiative(session, slug="elsewhere")
    outsider = actor_for_user(session=session, user=f.user(session, "backbone", init=other))
    session.commit()
    with pytest.raises(NotFound):
        indicator_choices(session=session, actor=outsider, initiative="math")
