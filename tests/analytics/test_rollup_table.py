"""The maintained rollup table always equals a full rebuild from the values."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from models.analytics.rollups import rebuild
from models.core.actors import SYSTEM
from models.core.errors import DomainError
from models.reporting.submissions import get_submission, save_values, transition
from models.reporting.validation import ValueInput
from models.tables.rollups import RollupRow

from .. import factories as f

ORGS = ["a", "b", "c"]
PERIODS = ["2025Q1", "2025Q2"]


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="roll")
    race = f.dimension(session, init, "race", ["x", "y"])
    rate = f.indicator(session, init, "rate", code="R")
    rate.dimensions = [race]
    count = f.indicator(session, init, "count", code="C")
    avg = f.indicator(session, init, "average", code="A")
    for slug in ORGS:
        m = f.member(session, init, f.organisation(session, slug=f"roll-{slug}"))
        for ind in (rate, count, avg):
            f.obligation(session, m, ind)
    for key in PERIODS:  # open: a report is returned only while its partner may correct it
        f.open_period(session, init, key)
    session.flush()
    return init


def _table(session, initiative_id):
    return sorted(
        (
            r.indicator_id,
            r.period_id,
            r.disaggregation,
            round(r.sum_value, 6),
            round(r.sum_numerator, 6),
            round(r.sum_denominator, 6),
            round(r.sum_weighted, 6),
            r.contributors,
        )
        for r in session.scalars(select(RollupRow).where(RollupRow.initiative_id == initiative_id))
    )


def _random_values(rng: random.Random) -> list[ValueInput]:
    den = rng.randint(1, 60)
    num = rng.randint(0, den)
    x = rng.randint(0, num)
    dx = rng.randint(0, den - num) + x
    values = [
        ValueInput("R", numerator=num, denominator=den),
        ValueInput("C", value=rng.randint(0, 500)),
        ValueInput("A", value=rng.uniform(0, 100), denominator=rng.randint(1, 40)),
    ]
    if dx and rng.random() < 0.7:
        values += [
            ValueInput("R", "race=x", numerator=x, denominator=dx),
        ]
    return values


@pytest.mark.parametrize("seed", range(6))
def test_incremental_maintenance_equals_a_full_rebuild(session, world, seed) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        org, period = rng.choice(ORGS), rng.choice(PERIODS)
        kw = {
            "session": session,
            "actor": SYSTEM,
            "initiative_slug": "roll",
            "org_slug": f"roll-{org}",
            "period_key": period,
        }
        # Mostly legal moves for the current status, sometimes an illegal one.
        action = rng.choice(
            {
                "not_started": ["write"],
                "draft": ["write", "submit", "submit"],
                "returned": ["write", "submit"],
                "submitted": ["approve", "approve", "return", "reopen", "write"],
                "approved": ["reopen", "write", "approve"],
            }[get_submission(**kw).status]
        )
        try:
            with session.begin_nested():
                if action == "write":
                    save_values(**kw, inputs=_random_values(rng))
                else:
                    comment = "because" if action in ("return", "reopen") else None
                    transition(**kw, action=action, comment=comment)
        except DomainError:
            pass  # an illegal step in the random walk: nothing changed
    maintained = _table(session, world.id)
    rebuild(session=session, initiative_id=world.id)
    assert maintained == _table(session, world.id)
    assert maintained, "the walk should have approved something"
