"""The database itself refuses impossible data (docs/architecture.md: Data rules), whatever code writes it."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models import AuditEvent, RoleGrant, User, Value

from .. import factories as f


@pytest.fixture
def setup(session):
    init = f.initiative(session)
    mem = f.member(session, init)
    per = f.period(session, init)
    sub = f.submission(session, mem, per)
    inds = {t: f.indicator(session, init, t) for t in ("count", "amount", "rate", "average")}
    return init, per, sub, inds


def _value(setup, measure_type: str, **kw) -> dict:
    init, per, sub, inds = setup
    return {
        "submission_id": sub.id,
        "initiative_id": init.id,
        "period_id": per.id,
        "indicator_id": inds[measure_type].id,
        "measure_type": measure_type,
        "disaggregation": "total",
        "flags": [],
        **kw,
    }


GOOD = [
    ("count", {"value": 12}),
    ("amount", {"value": -3.5}),
    ("rate", {"value": 50.0, "numerator": 5, "denominator": 10}),
    ("average", {"value": 3.2, "denominator": 40}),
]

BAD = [
    ("negative count", "count", {"value": -1}),
    ("fractional count", "count", {"value": 2.5}),
    ("numerator above denominator", "rate", {"value": 120, "numerator": 12, "denominator": 10}),
    ("rate without denominator", "rate", {"value": 50, "numerator": 5}),
    ("rate with zero denominator", "rate", {"value": 0, "numerator": 0, "denominator": 0}),
    ("negative numerator", "rate", {"value": 0, "numerator": -1, "denominator": 10}),
    ("average without weight", "average", {"value": 3.0}),
]


@pytest.mark.parametrize(("measure_type", "fields"), GOOD)
def test_valid_values_are_accepted(session, setup, measure_type, fields) -> None:
    session.execute(insert(Value), [_value(setup, measure_type, **fields)])


@pytest.mark.parametrize(("why", "measure_type", "fields"), BAD, ids=[b[0] for b in BAD])
def test_impossible_values_are_refused(session, setup, why, measure_type, fields) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Value), [_value(setup, measure_type, **fields)])


def test_measure_type_copy_cannot_drift(session, setup) -> None:
    """values.measure_type must equal its indicator's (composite foreign key)."""
    row = _value(setup, "count", value=5)
    row["measure_type"] = "amount"
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Value), [row])


def test_one_value_per_submission_indicator_disaggregation(session, setup) -> None:
    session.execute(insert(Value), [_value(setup, "count", value=1)])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Value), [_value(setup, "count", value=2)])


def test_total_has_no_category_and_breakdowns_have_one(session, setup) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            insert(Value), [_value(setup, "count", value=1, disaggregation="race=black")]
        )


def test_submission_status_is_checked(session, setup) -> None:
    sub = setup[2]
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE submissions SET status = 'lost' WHERE id = :id"), {"id": sub.id}
        )


def test_role_scope_must_fit_the_role(session) -> None:
    user = User(email="x@example.org", password_hash="x")
    session.add(user)
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(RoleGrant), [{"user_id": user.id, "role": "reporter"}])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(RoleGrant), [{"user_id": user.id, "role": "backbone"}])


def test_audit_trail_is_append_only(session) -> None:
    session.execute(
        insert(AuditEvent),
        [{"actor_label": "test", "entity_type": "value", "action": "update", "reason": "r"}],
    )
    with pytest.raises(SQLAlchemyError, match="append-only"), session.begin_nested():
        session.execute(update(AuditEvent).values(reason="rewritten history"))


def test_a_strategy_ends_after_it_starts_and_its_actions_have_a_known_status(session) -> None:
    """README: Strategies. The domain refuses both first; the database holds the line too."""
    from datetime import date, datetime

    from models import Strategy, StrategyAction

    init = f.initiative(session)
    now = datetime(2026, 1, 1)
    row = {
        "initiative_id": init.id,
        "code": "plan",
        "title": "Plan",
        "description": "",
        "starts_on": date(2026, 1, 1),
        "updated_at": now,
    }
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Strategy), [{**row, "ends_on": date(2025, 12, 31)}])
    strategy_id = session.execute(
        insert(Strategy).returning(Strategy.id), [{**row, "ends_on": date(2026, 1, 1)}]
    ).scalar_one()
    action = {"strategy_id": strategy_id, "title": "Act", "note": "", "position": 0}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            insert(StrategyAction), [{**action, "status": "finished", "updated_at": now}]
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Strategy), [{**row, "ends_on": None}])  # the code is taken
