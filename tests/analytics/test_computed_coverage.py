"""A computed indicator is as complete as the reported indicators it stands on (README,
"Computed indicators"): the scorecard, the equity view's gap judgement and a publication's
coverage all count it incomplete while an input is, never complete for having no partners."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.analytics.coverage import coverage_by_period, indicator_coverage
from models.analytics.views import equity, scorecard
from models.core.actors import SYSTEM
from models.initiatives import gap_targets as rules
from models.publishing.publish import preview
from models.reporting.validation import ValueInput
from models.tables.indicator import Indicator
from models.tables.initiative import Period

from .. import factories as f

SLUG = "computedcover"


@pytest.fixture
def world(session):
    """RATE = 100 × DONE / SENIORS by race, DONE and SENIORS reported by partners one and
    two; a gap target on RATE by race. In 2025Q3 only partner one has reported."""
    init = f.initiative(session, slug=SLUG, suppression_threshold=1)
    race = f.dimension(session, init, "race", ["a", "b"])
    done = f.indicator(session, init, code="DONE")
    seniors = f.indicator(session, init, code="SENIORS")
    done.dimensions = [race]
    seniors.dimensions = [race]
    rate = f.indicator(
        session, init, "rate", code="RATE", unit="%", expression="100 * DONE / SENIORS"
    )
    rate.dimensions = [race]
    for key in ("2025Q3", "2026Q1"):
        f.period(session, init, key)
    for slug in ("one", "two"):
        member = f.member(session, init, f.organisation(session, slug=slug))
        f.obligation(session, member, done)
        f.obligation(session, member, seniors)
    session.flush()
    rules.set_gap_target(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="RATE",
        dimension="race",
        baseline={"value": 30, "period": "2025Q3"},
        target={"value": 10, "period": "2026Q1"},
    )
    _report(session, "one")
    session.commit()
    return init


def _report(session, org):
    f.approved_report(
        session,
        SLUG,
        org,
        "2025Q3",
        [
            ValueInput("DONE", value=60),
            ValueInput("DONE", "race=a", value=40),
            ValueInput("DONE", "race=b", value=20),
            ValueInput("SENIORS", value=150),
            ValueInput("SENIORS", "race=a", value=75),
            ValueInput("SENIORS", "race=b", value=75),
        ],
    )


def _coverage(session, world, code):
    period = session.query(Period).filter_by(initiative_id=world.id, key="2025Q3").one()
    ids = dict(
        session.execute(
            select(Indicator.code, Indicator.id).where(Indicator.initiative_id == world.id)
        ).all()
    )
    exact = indicator_coverage(
        session=session, initiative=world, period=period, indicator_ids=[ids[code]]
    )[ids[code]]
    judged = coverage_by_period(
        session=session,
        initiative_id=world.id,
        indicator_id=ids[code],
        periods=[period],
        period_ids=[period.id],
    )[period.id]
    return exact, judged


def _gap_status(session):
    view = equity(
        session=session, actor=SYSTEM, initiative_slug=SLUG, indicator_code="RATE", dimension="race"
    )
    [point] = [p for p in view.points if p.period == "2025Q3"]
    return point.target.status


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_computed_indicator_is_incomplete_while_an_input_is(session, world) -> None:
    for code in ("DONE", "RATE"):
        exact, judged = _coverage(session, world, code)
        assert (exact.complete, exact.reported, exact.expected) == (False, 1, 2), code
        assert judged == exact, code
    [rate] = [
        r
        for r in scorecard(session=session, actor=SYSTEM, initiative_slug=SLUG).rows
        if r.code == "RATE"
    ]
    assert rate.complete is False
    assert _gap_status(session) == "incomplete"
    shown = preview(session=session, actor=SYSTEM, initiative_slug=SLUG, period_key="2025Q3")
    assert {i["indicator"] for i in shown.incomplete} == {"DONE", "SENIORS", "RATE"}
    complete = {c["indicator"]: c["complete"] for c in shown.coverage["indicators"]}
    assert complete["RATE"] is False


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_computed_indicator_is_complete_once_every_input_is(session, world) -> None:
    _report(session, "two")
    session.commit()
    exact, judged = _coverage(session, world, "RATE")
    assert (exact.complete, exact.reported, exact.expected) == (True, 2, 2)
    assert judged == exact
    assert _gap_status(session) != "incomplete"
    shown = preview(session=session, actor=SYSTEM, initiative_slug=SLUG, period_key="2025Q3")
    assert shown.incomplete == []
