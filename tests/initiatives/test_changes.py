"""The audit of one configured object, by its code: what the setup pages show under a form."""

from __future__ import annotations

import pytest

from models.access.permissions import actor_for_user
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.initiatives import indicators, members, periods
from models.initiatives.changes import object_changes

from .. import factories as f


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="alpha")
    org = f.organisation(session, slug="eastside")
    f.member(session, init, org)
    backbone = f.user(session, "backbone", init=init)
    reporter = f.user(session, "reporter", org=org)
    return {
        "backbone": actor_for_user(session=session, user=backbone),
        "reporter": actor_for_user(session=session, user=reporter),
    }


def _changes(session, actor, entity_type, code):
    events, total = object_changes(
        session=session, actor=actor, initiative="alpha", entity_type=entity_type, code=code
    )
    return [(e.entity_type, e.action) for e in events], total


def test_one_objects_changes_newest_first(session, world) -> None:
    actor = world["backbone"]
    for code in ("SERVED", "OTHER"):
        indicators.create_indicator(
            session=session,
            actor=actor,
            initiative="alpha",
            code=code,
            name=code.title(),
            unit="people",
            measure_type="count",
        )
    indicators.update_indicator(
        session=session, actor=actor, initiative="alpha", code="SERVED", changes={"unit": "kids"}
    )
    assert _changes(session, actor, "indicator", "SERVED") == (
        [("indicator", "update"), ("indicator", "create")],
        2,
    )
    # A member's obligations are its changes too.
    members.set_obligations(
        session=session,
        actor=actor,
        initiative="alpha",
        organisation="eastside",
        indicators=["SERVED"],
    )
    assert _changes(session, actor, "member", "eastside") == ([("obligations", "update")], 1)


def test_a_new_object_has_none_of_a_deleted_ones_changes(session, world) -> None:
    """SQLite gives the new period the deleted one's id; its events stay the deleted one's."""
    actor = world["backbone"]
    periods.create_period(session=session, actor=actor, initiative="alpha", key="2026Q1")
    periods.set_period_locked(
        session=session, actor=actor, initiative="alpha", key="2026Q1", locked=True
    )
    periods.delete_period(session=session, actor=actor, initiative="alpha", key="2026Q1")
    periods.create_period(session=session, actor=actor, initiative="alpha", key="2026Q2")
    assert _changes(session, actor, "period", "2026Q2") == ([("period", "create")], 1)


def test_unknown_objects_kinds_and_other_roles_are_refused(session, world) -> None:
    actor = world["backbone"]
    with pytest.raises(NotFound) as missing:
        _changes(session, actor, "indicator", "NOPE")
    assert missing.value.field == "code"
    with pytest.raises(InvalidInput) as kind:
        _changes(session, actor, "value", "1")
    assert kind.value.field == "entity_type"
    with pytest.raises(PermissionDenied):
        _changes(session, world["reporter"], "member", "eastside")
