"""The pieces the figure views keep of each period and of the setup so that a view computed
after an approval reads again only the approved quarter (``models.analytics.fresh``,
``models.analytics.kept``): the partners' packed totals of each period under its figure
revision and the indicators they were read for, and equity's gap target and cross-tab axes
under the setup revision. A change made by another engine through raw SQL shows in the next
answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import models.analytics.coverage as coverage_module
from models.analytics.fresh import BY_PERIOD
from models.analytics.kept import KEPT
from models.analytics.views import equity, scorecard
from models.core.actors import Actor
from models.reporting.validation import ValueInput
from models.tables.indicator import Indicator
from models.tables.initiative import Member

from .. import factories as f
from .test_fresh_figures import _periods
from .test_revisions import _world, two_engines  # noqa: F401 (a fixture)


def _setup(writer) -> dict:
    """The world of ``test_revisions``, East obliged to report RATE too, with East's reports of 2025Q2 and 2025Q3 approved:
    KIDS (3, then 5) and RATE (1 of 4, then 2 of 4)."""
    with Session(writer) as s:
        ids = _world(s)
        member = s.scalar(select(Member).where(Member.initiative_id == ids["mine"]))
        f.obligation(s, member, s.scalar(select(Indicator).where(Indicator.code == "RATE")))
        for period, kids, num in (("2025Q2", 3, 1), ("2025Q3", 5, 2)):
            inputs = [
                ValueInput("KIDS", value=kids),
                ValueInput("RATE", numerator=num, denominator=4),
            ]
            f.approved_report(s, "mine", "east", period, inputs)
        s.commit()
    return ids


def _rows(session: Session, actor: Actor, **kw) -> dict:
    card = scorecard(
        session=session, actor=actor, initiative_slug="mine", period_key="2025Q3", **kw
    )
    return {row.code: row for row in card.rows}


@pytest.fixture
def spied(monkeypatch) -> list[list[int]]:
    """The periods each read of the packed totals asked for."""
    asked: list[list[int]] = []
    real = coverage_module.packed_totals

    def spy(**kw):
        asked.append(sorted(kw["period_ids"]))
        return real(**kw)

    monkeypatch.setattr(coverage_module, "packed_totals", spy)
    return asked


def test_packed_totals_changed_by_another_engine_show_and_only_their_period_is_read_again(
    two_engines,  # noqa: F811
    spied,
) -> None:
    writer, reader = two_engines
    ids = _setup(writer)
    periods = _periods(writer, ids)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    BY_PERIOD.clear()
    with Session(reader) as s:
        rate = _rows(s, actor)["RATE"]
    assert (rate.reported, rate.trend, rate.trend_basis) == (1, "improving", "all partners")
    assert spied == [sorted([periods["2025Q2"], periods["2025Q3"]])]
    with writer.begin() as conn:  # the partner totals of 2025Q3 gone, its rollup rows kept
        conn.execute(
            text("DELETE FROM partner_totals WHERE period_id = :p"), {"p": periods["2025Q3"]}
        )
    spied.clear()
    with Session(reader) as s:
        rate = _rows(s, actor)["RATE"]
    assert (rate.current.value, rate.reported, rate.trend) == (50, 0, None)
    assert spied == [[periods["2025Q3"]]]  # 2025Q2's as kept under its revision


def test_packed_totals_kept_for_some_indicators_are_not_taken_for_others(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        outcome = _rows(s, actor)["KIDS"].outcome
    BY_PERIOD.clear()
    with Session(reader) as s:
        narrowed = _rows(s, actor, outcome=outcome)  # KIDS only: RATE's totals are not read
        assert set(narrowed) == {"KIDS"}
    with Session(reader) as s:
        after = _rows(s, actor)
    BY_PERIOD.clear()
    with Session(reader) as s:
        afresh = _rows(s, actor)
    assert after["RATE"].reported == afresh["RATE"].reported == 1
    assert after == afresh


def test_equity_takes_a_gap_target_changed_by_another_engine(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    KEPT.clear()

    def rate() -> object:
        with Session(reader) as s:
            return equity(
                session=s,
                actor=actor,
                initiative_slug="mine",
                indicator_code="RATE",
                dimension="race",
            )

    first = rate()
    assert first.gap_target is not None and first.gap_target.target == 5
    assert rate().gap_target == first.gap_target  # asked again: kept
    with writer.begin() as conn:
        conn.execute(text("UPDATE gap_targets SET target_value = 3"))
    assert rate().gap_target.target == 3
    with writer.begin() as conn:
        conn.execute(text("DELETE FROM gap_targets"))
    assert rate().gap_target is None
    assert rate().points[-1].target is None


def test_the_partner_totals_kept_per_period_are_bounded_by_their_bytes(
    two_engines,  # noqa: F811
    spied,
    monkeypatch,
) -> None:
    """What is kept of each period is bounded by the packed bytes it holds, as the groups made
    of them are (``coverage._StoredGroups``): a region of many partners keeps fewer periods,
    not more memory. With room for no row, every view reads the totals again; with room for
    them, only once."""
    writer, reader = two_engines
    ids = _setup(writer)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    BY_PERIOD.clear()
    with Session(reader) as s:
        kept = _rows(s, actor)
    assert len(spied) == 1
    with Session(reader) as s:
        assert _rows(s, actor) == kept
    assert len(spied) == 1  # kept: not read again
    monkeypatch.setattr(BY_PERIOD, "LIMIT_BYTES", 1)
    BY_PERIOD.clear()
    for _ in range(2):
        with Session(reader) as s:
            assert _rows(s, actor) == kept
    assert len(spied) == 3  # no room: read each time, the same answer
    assert BY_PERIOD.bytes <= 1
