"""Coverage is part of the figure: partners reported of expected, their share of the usual
size, "incomplete" instead of a judged status, trends that compare like with like, and what of
it each audience may see."""

from __future__ import annotations

import json

import pytest

from models.analytics.coverage import PartnerHistory, size
from models.analytics.rollups import PartnerFigure
from models.analytics.views import scorecard
from models.core.actors import SYSTEM, Actor
from models.publishing.publish import publish
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, find, response_of

SLUG = "cov"
PARTNERS = [f"c{i}" for i in range(1, 7)]


def _report(session, org, period, inputs):
    kw = {
        "session": session,
        "actor": SYSTEM,
        "initiative_slug": SLUG,
        "org_slug": org,
        "period_key": period,
    }
    save_values(**kw, inputs=inputs)
    transition(**kw, action="submit")
    transition(**kw, action="approve")


def _publish(session, *periods):
    """Below backbone, initiative figures are those of the period's publication."""
    for period in periods:
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug=SLUG,
            period_key=period,
            confirm_incomplete=True,
        )


def _each(session, period, **by_code: dict[str, float]):
    """One report per partner for the period, with its value of every indicator given."""
    inputs: dict[str, list[ValueInput]] = {}
    for code, values in by_code.items():
        for org, value in values.items():
            inputs.setdefault(org, []).append(ValueInput(code, value=value))
    for org, values in inputs.items():
        _report(session, org, period, values)


@pytest.fixture
def world(session):
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    periods = {k: f.period(session, init, k) for k in ("2025Q1", "2025Q2", "2025Q3", "2025Q4")}
    codes = {
        # KIDS: 400 at the baseline, 800 by the end of 2025.
        "KIDS": f.indicator(
            session,
            init,
            "count",
            code="KIDS",
            baseline_value=400,
            baseline_period_id=periods["2025Q1"].id,
            target_value=800,
            target_period_id=periods["2025Q4"].id,
        ),
        "VISITS": f.indicator(session, init, "count", code="VISITS"),
        "TREND": f.indicator(session, init, "count", code="TREND"),
        "RATE": f.indicator(session, init, "rate", code="RATE"),
        "MONEY": f.indicator(session, init, "amount", code="MONEY", unit="USD"),
        "AVG": f.indicator(session, init, "average", code="AVG", unit="days"),
    }
    obliged = {
        "KIDS": PARTNERS,
        "VISITS": PARTNERS,
        "TREND": PARTNERS,
        "RATE": PARTNERS[:4],
        "MONEY": PARTNERS[:2],
        "AVG": PARTNERS[:2],
    }
    members = {}
    for slug in PARTNERS:
        members[slug] = f.member(session, init, f.organisation(session, slug=slug))
    for code, slugs in obliged.items():
        for slug in slugs:
            f.obligation(session, members[slug], codes[code])
    session.flush()
    return init


def _row(session, code, period, actor=SYSTEM):
    card = scorecard(session=session, actor=actor, initiative_slug=SLUG, period_key=period)
    return next(r for r in card.rows if r.code == code)


def _funder(world) -> Actor:
    return Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))


# --- share arithmetic -----------------------------------------------------------------------


def _pf(mt, value=None, numerator=None, denominator=None, member=1, period=1):
    return PartnerFigure(member, 1, period, "total", mt, value, numerator, denominator)


def test_a_partners_size_by_measure_type() -> None:
    assert size(_pf("count", 120)) == 120
    assert size(_pf("amount", -300.0)) == 300.0  # a loss is as big as a gain
    assert size(_pf("rate", 25.0, 25, 100)) == 100  # the people the rate is about
    assert size(_pf("average", 4.5, None, 40)) == 40


def test_share_counts_missing_partners_at_their_last_known_size(session, world) -> None:
    _each(session, "2025Q1", KIDS={**dict.fromkeys(PARTNERS[:5], 100), "c6": 400})
    _each(session, "2025Q2", KIDS={**dict.fromkeys(PARTNERS[:5], 100), "c6": 50})
    _each(session, "2025Q3", KIDS=dict.fromkeys(PARTNERS[:5], 100))
    row = _row(session, "KIDS", "2025Q2")
    assert (row.reported, row.expected, row.share, row.complete) == (6, 6, 1.0, True)
    row = _row(session, "KIDS", "2025Q3")
    # c6 is missing: counted at its latest size (50 in 2025Q2), not its older 400.
    assert (row.reported, row.expected) == (5, 6)
    assert row.share == pytest.approx(500 / 550)
    assert row.complete and row.status != "incomplete"
    _each(session, "2025Q4", KIDS=dict.fromkeys(PARTNERS[:4], 100))
    row = _row(session, "KIDS", "2025Q4")
    assert row.share == pytest.approx(400 / (400 + 100 + 50))
    assert not row.complete and row.status == "incomplete"


def test_a_partner_that_never_reported_makes_the_share_unknown(session, world) -> None:
    _each(session, "2025Q3", VISITS=dict.fromkeys(PARTNERS[:5], 100))
    row = _row(session, "VISITS", "2025Q3")
    assert (row.reported, row.expected, row.share, row.complete) == (5, 6, None, False)


def test_share_of_rates_amounts_and_averages(session, world) -> None:
    def rate():
        return ValueInput("RATE", numerator=10, denominator=100)

    _report(
        session,
        "c1",
        "2025Q2",
        [rate(), ValueInput("MONEY", value=-300), ValueInput("AVG", value=5, denominator=40)],
    )
    _report(
        session,
        "c2",
        "2025Q2",
        [rate(), ValueInput("MONEY", value=100), ValueInput("AVG", value=7, denominator=10)],
    )
    for org in ("c3", "c4"):
        _report(session, org, "2025Q2", [rate()])
    _report(
        session,
        "c1",
        "2025Q3",
        [rate(), ValueInput("MONEY", value=-300), ValueInput("AVG", value=5, denominator=40)],
    )
    for org in ("c2", "c3"):
        _report(session, org, "2025Q3", [rate()])
    row = _row(session, "RATE", "2025Q3")
    assert row.share == pytest.approx(0.75) and not row.complete  # by denominator: c4's 100
    row = _row(session, "MONEY", "2025Q3")
    assert row.share == pytest.approx(0.75)  # |−300| of |−300| + |100|
    row = _row(session, "AVG", "2025Q3")
    assert row.share == pytest.approx(0.8) and row.complete  # 40 of 50: at the setting


def test_the_coverage_setting_decides(session, world, monkeypatch) -> None:
    from models.core.settings import get_settings

    _each(session, "2025Q2", KIDS=dict.fromkeys(PARTNERS, 100))
    _each(session, "2025Q3", KIDS=dict.fromkeys(PARTNERS[:4], 100))
    assert not _row(session, "KIDS", "2025Q3").complete  # 4/6 < 0.8
    monkeypatch.setenv("CM_COVERAGE_MIN_SHARE", "0.6")
    get_settings.cache_clear()
    try:
        assert _row(session, "KIDS", "2025Q3").complete
    finally:
        monkeypatch.delenv("CM_COVERAGE_MIN_SHARE")
        get_settings.cache_clear()


def test_partner_history_in_memory() -> None:
    from datetime import date

    from models import Period

    periods = [Period(id=i, key=f"P{i}", starts_on=date(2025, i, 1)) for i in (1, 2, 3)]
    history = PartnerHistory(
        [
            _pf("count", 10, member=1, period=1),
            _pf("count", 30, member=2, period=1),
            _pf("count", 12, member=1, period=2),
            _pf("count", 14, member=1, period=3),
        ],
        periods,
    )
    assert history.last_size(1, 2, 3) == 30
    assert history.last_size(1, 2, 1) == 30
    cov = history.coverage(1, 3, frozenset({1, 2}), 0.8)
    assert cov.share == pytest.approx(14 / 44) and not cov.complete
    assert history.coverage(1, 3, frozenset(), 0.8).complete  # nobody is expected
    assert history.figure(1, 3, {1, 2}, "count") == 14


# --- status and progress --------------------------------------------------------------------


def test_an_incomplete_figure_is_not_judged_against_its_target(session, world) -> None:
    _each(session, "2025Q2", KIDS=dict.fromkeys(PARTNERS, 100))
    _each(session, "2025Q3", KIDS=dict.fromkeys(PARTNERS[:4], 150))
    backbone = _row(session, "KIDS", "2025Q3")
    assert backbone.current.value == 600
    assert backbone.status == "incomplete"  # not "off track" (the 2025Q3 target is about 665)
    assert backbone.progress == pytest.approx(0.5)  # the backbone keeps the number
    assert backbone.share == pytest.approx(600 / 800)
    _publish(session, "2025Q2", "2025Q3")
    funder = _row(session, "KIDS", "2025Q3", _funder(world))
    assert funder.current.value == 600  # shown: four partners
    assert funder.status == "incomplete" and funder.progress is None
    assert (funder.reported, funder.expected, funder.share, funder.complete) == (4, 6, None, False)
    _each(session, "2025Q3", KIDS={"c5": 40, "c6": 40})
    row = _row(session, "KIDS", "2025Q3")
    assert row.complete and row.status == "on_track" and row.progress == pytest.approx(0.7)
    # Republished, the figure would differ from the first publication by two partners' 80:
    # below backbone it is hidden (Δ), and no longer judged.
    _publish(session, "2025Q3")
    row = _row(session, "KIDS", "2025Q3", _funder(world))
    assert row.current.marker == "Δ" and row.status == "hidden" and row.complete


# --- like with like -------------------------------------------------------------------------


def test_a_partner_that_joins_does_not_make_the_trend(session, world) -> None:
    _each(session, "2025Q1", TREND=dict.fromkeys(PARTNERS[:3], 100))
    _each(session, "2025Q2", TREND=dict.fromkeys(PARTNERS[:5], 100))
    _each(session, "2025Q3", TREND={**dict.fromkeys(PARTNERS[:5], 90), "c6": 120})
    backbone = _row(session, "TREND", "2025Q3")
    assert (backbone.previous.value, backbone.current.value) == (500, 570)  # raw: a jump up
    assert backbone.trend == "worsening"  # the same five partners went from 500 to 450
    assert backbone.trend_basis == "the 5 partners that reported in both periods"
    assert (backbone.trend_previous, backbone.trend_current) == (500, 450)
    _publish(session, "2025Q1", "2025Q2", "2025Q3")
    funder = _row(session, "TREND", "2025Q3", _funder(world))
    assert (funder.previous.value, funder.current.value) == (500, 570)
    assert funder.trend == "worsening"
    assert funder.trend_basis == "the 5 partners that reported in both periods"
    assert funder.trend_previous is None and funder.trend_current is None
    # 2025Q1's figure (three partners) is hidden below backbone: no trend from it there.
    backbone = _row(session, "TREND", "2025Q2")
    assert backbone.trend == "steady"
    assert backbone.trend_basis == "the 3 partners that reported in both periods"
    funder = _row(session, "TREND", "2025Q2", _funder(world))
    assert funder.previous.value is None
    assert funder.trend is None and funder.trend_basis is None


def test_the_same_partners_compare_as_all_partners(session, world) -> None:
    _each(session, "2025Q2", TREND=dict.fromkeys(PARTNERS, 100))
    _each(session, "2025Q3", TREND=dict.fromkeys(PARTNERS, 110))
    _publish(session, "2025Q2", "2025Q3")
    for actor in (SYSTEM, _funder(world)):
        row = _row(session, "TREND", "2025Q3", actor)
        assert (row.trend, row.trend_basis) == ("improving", "all partners")
    row = _row(session, "TREND", "2025Q2")
    assert row.trend is None and row.trend_basis is None  # nothing to compare with


# --- who sees what --------------------------------------------------------------------------


def _token(client, session, world, role):
    user = f.user(session, role, init=world)
    session.commit()
    r = client.post("/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_below_backbone_the_share_is_never_told(client, session, world) -> None:
    _each(session, "2025Q2", KIDS=dict.fromkeys(PARTNERS, 100))
    # VISITS: two partners, too few to show below backbone.
    _each(
        session,
        "2025Q3",
        KIDS=dict.fromkeys(PARTNERS[:4], 150),
        VISITS=dict.fromkeys(PARTNERS[:2], 100),
    )
    path = f"/api/v1/initiatives/{SLUG}/scorecard?period=2025Q3"
    rows = {
        r["code"]: r
        for r in client.get(path, headers=_token(client, session, world, "backbone")).json()["rows"]
    }
    assert rows["KIDS"]["share"] == pytest.approx(0.75) and rows["KIDS"]["reported"] == 4
    assert rows["VISITS"]["reported"] == 2
    _publish(session, "2025Q2", "2025Q3")
    session.commit()
    answer = client.get(path, headers=_token(client, session, world, "funder")).json()
    assert all(r["share"] is None for r in answer["rows"])
    assert all(r["trend_previous"] is None and r["trend_current"] is None for r in answer["rows"])
    rows = {r["code"]: r for r in answer["rows"]}
    assert (rows["KIDS"]["reported"], rows["KIDS"]["complete"]) == (4, False)
    assert rows["KIDS"]["status"] == "incomplete" and rows["KIDS"]["progress"] is None
    # Two partners: the figure and its contributor count are hidden, and so is "reported".
    assert rows["VISITS"]["current"]["value"] is None and rows["VISITS"]["contributors"] is None
    assert rows["VISITS"]["reported"] is None and rows["VISITS"]["complete"] is False


# --- the overview ---------------------------------------------------------------------------


def _overview(client, session, world, role):
    client.cookies.clear()
    user = f.user(session, role, init=world)
    session.commit()
    r = client.post(
        "/auth/login",
        data={"email": user.email, "password": f.PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return response_of(
        call(
            client,
            "..overview-body.children",
            [
                ("overview-initiative", "value", SLUG),
                ("overview-period", "value", "2025Q3"),
                ("overview-outcome", "value", None),
            ],
        )
    )


def test_the_overview_shows_coverage_status_and_trend_basis(client, session, world) -> None:
    _each(
        session,
        "2025Q2",
        KIDS=dict.fromkeys(PARTNERS, 100),
        TREND=dict.fromkeys(PARTNERS[:5], 100),
    )
    _each(
        session,
        "2025Q3",
        KIDS=dict.fromkeys(PARTNERS[:4], 150),
        TREND={**dict.fromkeys(PARTNERS[:5], 90), "c6": 120},
    )
    _publish(session, "2025Q2", "2025Q3")
    body = _overview(client, session, world, "backbone")
    kids = json.dumps(find(body, "ov-row-KIDS"), ensure_ascii=False)
    assert "4 of 6 partners, 75 % of the usual size" in kids
    assert '"incomplete"' in kids and "cm-progress-incomplete" in kids
    trend = json.dumps(find(body, "ov-row-TREND"), ensure_ascii=False)
    assert "trend of the 5 partners that reported in both periods" in trend
    assert "500.0 → 450.0" in trend
    assert "6 of 6 partners" in trend and "usual size" not in trend

    body = _overview(client, session, world, "funder")
    kids = json.dumps(find(body, "ov-row-KIDS"), ensure_ascii=False)
    assert "4 of 6 partners" in kids and "usual size" not in kids and "75 %" not in kids
    assert '"incomplete"' in kids and "cm-progress" not in kids
    trend = json.dumps(find(body, "ov-row-TREND"), ensure_ascii=False)
    assert "trend of the 5 partners that reported in both periods" in trend
    assert "450" not in trend  # the direction only, never the common partners' figures
