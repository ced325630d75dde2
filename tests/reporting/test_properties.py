"""Property tests: whatever a client sends, a rejected write leaves the database unchanged,
and an accepted one keeps every data rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import AuditEvent, Submission, Value
from models.core.actors import SYSTEM
from models.core.errors import DomainError
from models.reporting.submissions import save_values
from models.reporting.validation import ValueInput

from .. import factories as f

INDICATORS = ["RATE", "COUNT", "AVG", "AMOUNT", "UNKNOWN"]
DISAGGREGATIONS = ["total", "race=a", "race=b", "race=zzz", "sex=a", ""]

numbers = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0, 1, 10, 99.5, 100, 101, 1e9, -0.0]),
)
value_inputs = st.builds(
    ValueInput,
    indicator=st.sampled_from(INDICATORS),
    disaggregation=st.sampled_from(DISAGGREGATIONS),
    value=numbers,
    numerator=numbers,
    denominator=numbers,
    note=st.one_of(st.none(), st.text(max_size=30)),
    remove=st.booleans(),
)


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="prop")
    race = f.dimension(session, init, "race", ["a", "b"])
    inds = [
        f.indicator(session, init, "rate", code="RATE", valid_min=0, valid_max=100),
        f.indicator(session, init, "count", code="COUNT", valid_max=1000),
        f.indicator(session, init, "average", code="AVG", valid_min=0, valid_max=100),
        f.indicator(session, init, "amount", code="AMOUNT"),
    ]
    mem = f.member(session, init, f.organisation(session, slug="org-p"))
    for ind in inds:
        ind.dimensions = [race]
        f.obligation(session, mem, ind)
    f.period(session, init, "2020Q1")
    session.flush()
    # A starting draft, so rejected writes have something to leave untouched.
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="prop",
        org_slug="org-p",
        period_key="2020Q1",
        inputs=[ValueInput("COUNT", value=5)],
    )
    session.flush()
    return init


def _snapshot(session):
    values = session.execute(
        select(
            Value.indicator_id,
            Value.disaggregation,
            Value.value,
            Value.numerator,
            Value.denominator,
            Value.note,
        ).order_by(Value.indicator_id, Value.disaggregation)
    ).all()
    return (
        values,
        session.scalar(select(func.count()).select_from(AuditEvent)),
        session.scalars(select(Submission.version)).all(),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.lists(value_inputs, min_size=1, max_size=6))
def test_rejected_writes_change_nothing_and_accepted_ones_keep_the_rules(session, world, payload):
    before = _snapshot(session)
    savepoint = session.begin_nested()
    try:
        save_values(
            session=session,
            actor=SYSTEM,
            initiative_slug="prop",
            org_slug="org-p",
            period_key="2020Q1",
            inputs=payload,
        )
        session.flush()
    except DomainError:
        savepoint.rollback()
        session.expire_all()
        assert _snapshot(session) == before
        return
    try:
        for v in session.scalars(select(Value)):
            assert math.isfinite(v.value)
            if v.measure_type == "count":
                assert v.value >= 0 and v.value == int(v.value)
            if v.measure_type == "rate":
                assert 0 <= v.numerator <= v.denominator and v.denominator > 0
                assert v.value == pytest.approx(100 * v.numerator / v.denominator)
            if v.measure_type == "average":
                assert v.denominator > 0
    finally:
        savepoint.rollback()
        session.expire_all()
