"""The packed partner totals always hold every partner's approved total, and read back exactly
what the values give (models.analytics.rollups: partner_totals)."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from models.analytics.coverage import partner_history
from models.analytics.rollups import partner_totals, partner_values, rebuild
from models.core.actors import SYSTEM
from models.core.errors import DomainError
from models.reporting.submissions import get_submission, save_values, transition
from models.reporting.validation import ValueInput
from models.tables.indicator import TOTAL, Indicator
from models.tables.initiative import Period

from .. import factories as f

ORGS = ["a", "b", "c", "d"]
PERIODS = ["2025Q1", "2025Q2", "2025Q3"]


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="packed")
    inds = [
        f.indicator(session, init, "rate", code="R"),
        f.indicator(session, init, "count", code="C"),
        f.indicator(session, init, "average", code="A"),
        f.indicator(session, init, "amount", code="M"),
    ]
    for slug in ORGS:
        m = f.member(session, init, f.organisation(session, slug=f"packed-{slug}"))
        for ind in inds:
            f.obligation(session, m, ind)
    for key in PERIODS:
        f.open_period(session, init, key)
    session.flush()
    return init


def _values(rng: random.Random) -> list[ValueInput]:
    den = rng.randint(1, 60)
    values = [
        ValueInput("R", numerator=rng.randint(0, den), denominator=den),
        ValueInput("C", value=rng.randint(0, 500)),
        ValueInput("A", value=rng.uniform(0, 100), denominator=rng.randint(1, 40)),
        ValueInput("M", value=round(rng.uniform(-500, 500), 2)),
    ]
    return rng.sample(values, rng.randint(1, len(values)))


def _walk(session, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(80):
        org, period = rng.choice(ORGS), rng.choice(PERIODS)
        kw = {
            "session": session,
            "actor": SYSTEM,
            "initiative_slug": "packed",
            "org_slug": f"packed-{org}",
            "period_key": period,
        }
        action = rng.choice(
            {
                "not_started": ["write"],
                "draft": ["write", "submit", "submit"],
                "returned": ["write", "submit"],
                "submitted": ["approve", "approve", "approve", "return", "reopen"],
                "approved": ["reopen", "write", "approve"],
            }[get_submission(**kw).status]
        )
        try:
            with session.begin_nested():
                if action == "write":
                    save_values(**kw, inputs=_values(rng))
                else:
                    comment = "because" if action in ("return", "reopen") else None
                    transition(**kw, action=action, comment=comment)
        except DomainError:
            pass  # an illegal step in the random walk: nothing changed


def _packed(session, initiative_id: int) -> dict:
    ids = session.scalars(select(Indicator.id).where(Indicator.initiative_id == initiative_id))
    periods = session.scalars(select(Period.id).where(Period.initiative_id == initiative_id))
    return {
        (i, p): (
            t.measure_type,
            list(t.members),
            list(t.values),
            list(t.numerators),
            list(t.denominators),
        )
        for i, p, t in partner_totals(
            session=session,
            initiative_id=initiative_id,
            indicator_ids=list(ids),
            period_ids=list(periods),
        )
    }


@pytest.mark.parametrize("seed", range(4))
def test_the_packed_totals_follow_every_approval_and_equal_a_rebuild(session, world, seed) -> None:
    _walk(session, seed)
    maintained = _packed(session, world.id)
    assert maintained, "the walk should have approved something"
    rebuild(session=session, initiative_id=world.id)
    assert _packed(session, world.id) == maintained
    # And they are the approved totals, partner by partner.
    ids = list(session.scalars(select(Indicator.id).where(Indicator.initiative_id == world.id)))
    periods = list(session.scalars(select(Period).where(Period.initiative_id == world.id)))
    figures = partner_values(
        session=session,
        initiative_id=world.id,
        indicator_ids=ids,
        period_ids=[p.id for p in periods],
        disaggregation=TOTAL,
    )
    expected: dict = {}
    for pf in figures:
        expected.setdefault((pf.indicator_id, pf.period_id), {})[pf.member_id] = pf
    assert {k: sorted(v) for k, v in expected.items()} == {
        k: sorted(members) for k, (_, members, *_) in maintained.items()
    }
    history = partner_history(
        session=session, initiative_id=world.id, indicator_ids=ids, periods=periods
    )
    for (indicator_id, period_id), by_member in expected.items():
        mt = next(iter(by_member.values())).measure_type
        assert history.reporters(indicator_id, period_id) == frozenset(by_member)
        for member_id, pf in by_member.items():
            # Each partner's figure, exactly as the values give it.
            assert history.figure(indicator_id, period_id, [member_id], mt) == pf.value


def test_reopening_the_last_report_empties_the_packed_totals(session, world) -> None:
    kw = {
        "session": session,
        "actor": SYSTEM,
        "initiative_slug": "packed",
        "org_slug": "packed-a",
        "period_key": "2025Q2",
    }
    save_values(**kw, inputs=[ValueInput("C", value=12)])
    transition(**kw, action="submit")
    transition(**kw, action="approve")
    assert len(_packed(session, world.id)) == 1
    transition(**kw, action="reopen", comment="a correction")
    assert _packed(session, world.id) == {}
