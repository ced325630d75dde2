"""The analytics tests' world: three partners, four indicators, a race breakdown (a test file
may define its own ``world`` instead)."""

from __future__ import annotations

import pytest

from .. import factories as f


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="math", suppression_threshold=10)
    race = f.dimension(session, init, "race", ["a", "b"])
    out = f.outcome(session, init, code="READY", name="Ready for school")
    p1, _p2, p3 = (f.period(session, init, k) for k in ("2025Q1", "2025Q2", "2025Q3"))
    rate = f.indicator(
        session,
        init,
        "rate",
        code="RATE",
        outcome_id=out.id,
        baseline_value=40,
        baseline_period_id=p1.id,
        target_value=60,
        target_period_id=p3.id,
    )
    rate.dimensions = [race]
    absent = f.indicator(
        session,
        init,
        "rate",
        code="ABSENT",
        direction="lower",
        outcome_id=out.id,
        baseline_value=20,
        baseline_period_id=p1.id,
        target_value=10,
        target_period_id=p3.id,
    )
    avg = f.indicator(session, init, "average", code="AVG", outcome_id=out.id)
    count = f.indicator(session, init, "count", code="KIDS", outcome_id=out.id)
    members = {}
    for slug, shares in (("one", True), ("two", True), ("three", False)):
        m = f.member(session, init, f.organisation(session, slug=slug), shares_with_funders=shares)
        for ind in (rate, absent, avg, count):
            f.obligation(session, m, ind)
        members[slug] = m
    session.flush()
    return init
