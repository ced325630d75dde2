"""The figure views' JSON as the routes write it (``api.figure_json``, without validating)
is byte for byte the read models' (``api.schemas.analytics``), on the demo's two initiatives
for every kind of viewer, period, breakdown and dimension, and on numbers of the other type
than declared."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.figure_json import equity_json, scorecard_json, series_json
from api.routers.analytics import _equity_read, _scorecard_read, _series_read
from models.analytics.figures import Figure
from models.analytics.views import (
    CrossTabAxes,
    Equity,
    EquityPoint,
    GapGoal,
    GapJudgement,
    Scorecard,
    ScorecardRow,
    Series,
    SeriesPoint,
    equity,
    scorecard,
    series,
)
from models.core.actors import Actor
from models.demo.builder import load_demo
from models.tables.indicator import Indicator, Outcome
from models.tables.initiative import Initiative, Member
from models.tables.organisation import Organisation

TODAY = date(2026, 11, 30)  # as tests/analytics/test_disclosure_demo.py


@pytest.fixture(scope="module")
def demo(database) -> Iterator[Session]:
    """The demo loaded once per database, rolled back after the module."""
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        load_demo(session=session, today=TODAY)
        yield session
        session.close()
        outer.rollback()


def _viewers(session: Session, init: Initiative) -> list[Actor]:
    out = [
        Actor(user_id=1, label="backbone", backbone_of=frozenset({init.id})),
        Actor(user_id=2, label="funder", funder_of=frozenset({init.id})),
    ]
    org_id = session.scalar(
        select(Organisation.id)
        .join(Member, Member.organisation_id == Organisation.id)
        .where(Member.initiative_id == init.id)
        .order_by(Organisation.slug)
        .limit(1)
    )
    out.append(Actor(user_id=3, label="reporter", reporter_in=frozenset({(init.id, org_id)})))
    return out


def _same(fast: bytes, read) -> None:
    assert fast == read.model_dump_json().encode()


@pytest.mark.parametrize("slug", ["cradle-to-career", "extreme-heat"])
def test_every_figure_view_writes_the_read_models_bytes(demo: Session, slug: str) -> None:
    init = demo.scalar(select(Initiative).where(Initiative.slug == slug))
    indicators = list(demo.scalars(select(Indicator).where(Indicator.initiative_id == init.id)))
    outcomes = list(demo.scalars(select(Outcome.code).where(Outcome.initiative_id == init.id)))
    compared = {"scorecard": 0, "series": 0, "equity": 0, "gap": 0, "cross": 0}
    for actor in _viewers(demo, init):
        common = {"session": demo, "actor": actor, "initiative_slug": slug}
        card = scorecard(**common)
        for period in [None, *card.periods[-6:]]:
            card = scorecard(**common, period_key=period)
            _same(scorecard_json(card), _scorecard_read(card))
            compared["scorecard"] += 1
            compared["gap"] += sum(len(r.gap_targets) for r in card.rows)
        for outcome in outcomes:
            card = scorecard(**common, outcome=outcome)
            _same(scorecard_json(card), _scorecard_read(card))
        for indicator in indicators:
            dims = [d.code for d in indicator.dimensions]
            for by in [None, "partner", *dims]:
                s = series(**common, indicator_code=indicator.code, by=by)
                _same(series_json(s), _series_read(s))
                compared["series"] += 1
            for dim in dims:
                e = equity(**common, indicator_code=indicator.code, dimension=dim)
                _same(equity_json(e), _equity_read(e))
                compared["equity"] += 1
                compared["gap"] += e.gap_target is not None
                compared["cross"] += e.cross_tab is not None
    assert compared["scorecard"] and compared["series"] and compared["equity"], compared
    if slug == "cradle-to-career":  # the demo's gap targets and cross-tabs are compared too
        assert compared["gap"] and compared["cross"], compared


def _figure(value, n=None, marker=None, reason=None) -> Figure:
    return Figure(value=value, n=n, marker=marker, reason=reason)


def test_numbers_of_the_other_type_are_written_as_validated() -> None:
    """An int where a float is declared is written as that float, a whole float or Decimal
    where an int is declared as that int, a float 1.5 there fails as validation does."""
    judged = GapJudgement("race", "Race", 3, 2, "off_track", None)
    row = ScorecardRow(
        outcome=None,
        outcome_name=None,
        code="K",
        name='Kids ✓ "quoted" \u2028',
        unit="kids",
        measure_type="count",
        direction="higher",
        decimals=Decimal(1),
        current=_figure(5, 2.0, "<10", "primary"),
        baseline=4,
        baseline_period="2025Q1",
        target=6,
        end_target=float("inf"),
        end_target_period=None,
        progress=float("nan"),
        status="on_track",
        previous=_figure(True),
        trend="steady",
        change_since_baseline=1,
        sparkline=[("2025Q1", 4), ("2025Q2", None), ("2025Q3", 5.5)],
        contributors=3.0,
        expected=4,
        series_break=False,
        reported=2,
        share=1,
        complete=True,
        gap_targets=[judged],
    )
    card = Scorecard("i", "I", "2025Q3", ["2025Q1"], False, 10.0, [row])
    _same(scorecard_json(card), _scorecard_read(card))
    point = SeriesPoint("2025Q1", "total", "All partners", _figure(7, 7))
    s = Series(
        "i", "K", "Kids", "kids", "count", "higher", 0, None, ["2025Q1"], [point], [point],
        [("2025Q1", 3)], 1, "2025Q1", 9, "2025Q3", [("2025Q1", "changed")], True,
    )  # fmt: skip
    _same(series_json(s), _series_read(s))
    axes = CrossTabAxes(
        ("race", "Race", (("race=a", "A"),)),
        ("income", "Income", (("income=low", "Low"),)),
        (("rxi=a.low", "race=a", "income=low"),),
    )
    goal = GapGoal("race", "Race", 2, "2025Q1", 1, "2025Q3", None)
    e = Equity(
        "K", "race", "higher", "kids",
        [EquityPoint("2025Q1", [("race=a", "A", _figure(1))], "race=a", None, 0, 1, judged),
         EquityPoint("2025Q2", [], None, None, None, None)],
        goal, axes,
    )  # fmt: skip
    _same(equity_json(e), _equity_read(e))
    with pytest.raises(ValueError):
        scorecard_json(Scorecard("i", "I", "2025Q3", [], False, 1.5, []))
