"""Differencing across the figure views: one cell (an indicator's total, or one category, in
one period) is told the same way by the scorecard, the series and equity to the same viewer,
so that comparing them discloses nothing one of them hides (README, "Suppression")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.analytics.views import equity, scorecard, series
from models.demo.builder import load_demo
from models.tables.indicator import Indicator
from models.tables.initiative import Initiative

from .test_figure_json import _viewers

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo(database) -> Iterator[Session]:
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        load_demo(session=session, today=TODAY)
        yield session
        session.close()
        outer.rollback()


def _told(figure) -> tuple:
    return (figure.value, figure.marker)


@pytest.mark.parametrize("slug", ["cradle-to-career", "extreme-heat"])
def test_each_cell_is_told_alike_by_every_view(demo: Session, slug: str) -> None:
    init = demo.scalar(select(Initiative).where(Initiative.slug == slug))
    indicators = list(demo.scalars(select(Indicator).where(Indicator.initiative_id == init.id)))
    compared = 0
    for actor in _viewers(demo, init)[1:]:  # the funder and a reporter: what is hidden
        common = {"session": demo, "actor": actor, "initiative_slug": slug}
        cards = {p: scorecard(**common, period_key=p) for p in scorecard(**common).periods}
        for indicator in indicators:
            s = series(**common, indicator_code=indicator.code)
            totals = {p.period: _told(p.figure) for p in s.total}
            for period, card in cards.items():
                row = next((r for r in card.rows if r.code == indicator.code), None)
                if row is None or period not in totals:
                    continue
                assert _told(row.current) == totals[period], (actor.label, indicator.code, period)
                for p, v in row.sparkline:
                    if p in totals:
                        assert v == totals[p][0], (actor.label, indicator.code, p)
                compared += 1
            for by_what in ["partner", *(d.code for d in indicator.dimensions)]:
                by = series(**common, indicator_code=indicator.code, by=by_what)
                assert {p.period: _told(p.figure) for p in by.total} == totals, by_what
            for dim in [d.code for d in indicator.dimensions]:
                by = series(**common, indicator_code=indicator.code, by=dim)
                cells = {(p.period, p.key): _told(p.figure) for p in by.breakdown}
                e = equity(**common, indicator_code=indicator.code, dimension=dim)
                for point in e.points:
                    for key, _, figure in point.categories:
                        assert _told(figure) == cells[(point.period, key)], (
                            actor.label,
                            indicator.code,
                            point.period,
                            key,
                        )
                        compared += 1
        # One outcome's scorecard tells each of its rows as the whole scorecard does.
        outcomes = {r.outcome for card in cards.values() for r in card.rows if r.outcome}
        for outcome in sorted(outcomes):
            for period, card in cards.items():
                alone = scorecard(**common, period_key=period, outcome=outcome)
                whole = {r.code: r for r in card.rows if r.outcome == outcome}
                assert {r.code: r for r in alone.rows} == whole, (actor.label, outcome, period)
                compared += 1
    assert compared
