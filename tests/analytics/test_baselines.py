"""A baseline is told below backbone only where its period's figure is (README, Disclosure):
the backbone team often enters that very figure, and a baseline beside a hidden figure, or a
line, a progress or a change drawn from it, would give the hidden figure away."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.analytics.views import equity, scorecard, series
from models.core.actors import SYSTEM, Actor
from models.initiatives import gap_targets as gap_rules
from models.initiatives.indicators import create_indicator, get_indicator, update_indicator
from models.publishing.publish import public_summary, publish
from models.reporting.validation import ValueInput
from models.tables.indicator import Indicator
from models.tables.organisation import Organisation

from .. import factories as f

P = "/api/v1"
SLUG = "bases"
BASE, GOAL = 120.0, 200.0


@pytest.fixture
def world(session):
    """Initiative "bases": SERVED (a count) from 2025Q1 to 2026Q1, baseline 120 in 2025Q1 —
    partner one's own figure that quarter — and 200 by 2026Q1. Partner one reports 2025Q1 and
    2025Q3; partner two only 2025Q3. Both quarters published."""
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    served = f.indicator(session, init, code="SERVED", name="Children served")
    for key in ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"):
        f.period(session, init, key)
    for slug in ("one", "two"):
        f.obligation(session, f.member(session, init, f.organisation(session, slug=slug)), served)
    session.flush()
    update_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        changes={
            "baseline": {"value": BASE, "period": "2025Q1"},
            "target": {"value": GOAL, "period": "2026Q1"},
        },
    )
    f.approved_report(session, SLUG, "one", "2025Q1", [ValueInput("SERVED", value=BASE)])
    for org, value in (("one", 90), ("two", 70)):
        f.approved_report(session, SLUG, org, "2025Q3", [ValueInput("SERVED", value=value)])
    for key in ("2025Q1", "2025Q3"):
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug=SLUG,
            period_key=key,
            confirm_incomplete=True,
        )
    return init


def _funder(world) -> Actor:
    return Actor(user_id=998, label="funder", funder_of=frozenset({world.id}))


def _row(session, actor):
    card = scorecard(session=session, actor=actor, initiative_slug=SLUG, period_key="2025Q3")
    return card.rows[0]


def _public_baselines(session) -> dict[str, float | None]:
    return {
        p["period"]: p["indicators"][0]["baseline"]
        for p in public_summary(session=session, initiative_slug=SLUG)["periods"]
    }


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_baseline_whose_figure_is_shown_is_told_to_everyone(session, world) -> None:
    """One partner is enough here: the 2025Q1 figure is public, so is the baseline, with the
    line to the target, progress and the change since the baseline — as the backbone has them."""
    backbone, funder = _row(session, SYSTEM), _row(session, _funder(world))
    assert funder.current.value == 160
    assert (funder.baseline, funder.baseline_period, funder.baseline_withheld) == (
        BASE,
        "2025Q1",
        False,
    )
    assert (funder.target, funder.target_kind) == (backbone.target, "trajectory")
    assert funder.progress == pytest.approx((160 - BASE) / (GOAL - BASE))
    assert funder.change_since_baseline == pytest.approx(160 - BASE)
    assert _public_baselines(session) == {"2025Q1": BASE, "2025Q3": BASE}


def test_a_baseline_equal_to_a_hidden_figure_is_not_told(client, session, world) -> None:
    """Partner one alone reported 2025Q1: too few partners, the figure is hidden below
    backbone, and the baseline (its figure) with it — and everything drawn from it."""
    backbone, funder = _row(session, SYSTEM), _row(session, _funder(world))
    assert (backbone.baseline, backbone.target_kind, backbone.baseline_withheld) == (
        BASE,
        "trajectory",
        False,
    )
    assert backbone.progress == pytest.approx((160 - BASE) / (GOAL - BASE))
    assert (funder.baseline, funder.baseline_period, funder.baseline_withheld) == (
        None,
        None,
        True,
    )
    # No line from the baseline: the end target itself (a line and its end give the start).
    assert (funder.target, funder.target_kind) == (GOAL, "end")
    assert (funder.progress, funder.change_since_baseline) == (None, None)

    backbone_series = series(
        session=session, actor=SYSTEM, initiative_slug=SLUG, indicator_code="SERVED"
    )
    funder_series = series(
        session=session, actor=_funder(world), initiative_slug=SLUG, indicator_code="SERVED"
    )
    assert backbone_series.baseline == BASE
    assert len({t for _, t in backbone_series.targets}) == len(backbone_series.targets)
    assert (funder_series.baseline, funder_series.baseline_withheld) == (None, True)
    assert {t for _, t in funder_series.targets} == {GOAL}

    described = get_indicator(session=session, actor=_funder(world), initiative=SLUG, code="SERVED")
    assert (described["baseline"], described["baseline_withheld"]) == (None, True)
    assert get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="SERVED")[
        "baseline"
    ] == {"value": BASE, "period": "2025Q1"}
    assert _public_baselines(session) == {"2025Q1": None, "2025Q3": None}

    # Through the API, as a partner reading its initiative's definitions and scorecard.
    two = session.scalar(select(Organisation).where(Organisation.slug == "two"))
    user = f.user(session, "reporter", init=world, org=two)
    token = client.post(f"{P}/auth/token", data={"username": user.email, "password": f.PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    read = client.get(f"{P}/initiatives/{SLUG}/indicators/SERVED", headers=headers).json()
    assert (read["baseline"], read["baseline_withheld"]) == (None, True)
    card = client.get(
        f"{P}/initiatives/{SLUG}/scorecard", params={"period": "2025Q3"}, headers=headers
    ).json()
    row = card["rows"][0]
    assert (row["baseline"], row["baseline_withheld"], row["target_kind"]) == (None, True, "end")
    assert BASE not in (row["target"], row["progress"], row["change_since_baseline"])


def test_a_baseline_with_no_data_in_its_period_is_told(session, world) -> None:
    """A baseline from outside the initiative (no partner reported its period) gives away
    nothing the initiative holds."""
    update_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        changes={"baseline": {"value": 100, "period": "2025Q2"}},
    )
    funder = _row(session, _funder(world))
    assert (funder.baseline, funder.baseline_withheld, funder.target_kind) == (
        100,
        False,
        "trajectory",
    )


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_baseline_gap_over_a_hidden_category_is_not_told(session, world) -> None:
    """A gap target's baseline gap is the gap between the best and worst group of its period:
    with a group hidden from the funder, the funder is told neither the baseline gap nor a
    line drawn from it (the expected gap is the target gap)."""
    race = f.dimension(session, world, "race", ["a", "b", "c"])
    session.scalar(select(Indicator).where(Indicator.code == "SERVED")).dimensions = [race]
    session.flush()
    cells = {"a": 50, "b": 40, "c": 3}  # c is below the threshold of 10
    inputs = [ValueInput("SERVED", f"race={k}", value=v) for k, v in cells.items()]
    inputs.append(ValueInput("SERVED", value=sum(cells.values())))
    f.approved_report(session, SLUG, "one", "2025Q4", inputs)
    publish(
        session=session,
        actor=SYSTEM,
        initiative_slug=SLUG,
        period_key="2025Q4",
        confirm_incomplete=True,
    )
    gap_rules.set_gap_target(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        dimension="race",
        baseline={"value": 47, "period": "2025Q4"},  # 50 − 3: the hidden group's figure in it
        target={"value": 20, "period": "2026Q1"},
    )
    funder = _funder(world)
    seen = equity(
        session=session,
        actor=funder,
        initiative_slug=SLUG,
        indicator_code="SERVED",
        dimension="race",
    )
    assert seen.gap_target.baseline is None
    assert all(p.target.expected == 20 and p.target.progress is None for p in seen.points)
    mine = equity(
        session=session,
        actor=SYSTEM,
        initiative_slug=SLUG,
        indicator_code="SERVED",
        dimension="race",
    )
    assert mine.gap_target.baseline == 47
    row = scorecard(session=session, actor=funder, initiative_slug=SLUG, period_key="2025Q4")
    assert [(g.expected, g.progress) for g in row.rows[0].gap_targets] == [(20, None)]
    described = get_indicator(session=session, actor=funder, initiative=SLUG, code="SERVED")
    assert described["gap_targets"][0]["baseline"] is None
    assert (
        gap_rules.list_gap_targets(session=session, actor=funder, initiative=SLUG, code="SERVED")[
            0
        ]["baseline"]
        is None
    )
    assert get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="SERVED")[
        "gap_targets"
    ][0]["baseline"] == {"value": 47, "period": "2025Q4"}


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_baseline_other_than_the_figure_shown_is_not_told(session, world) -> None:
    """The 2025Q1 figure shown is 120; a baseline of 125 there is not it — say the live figure
    after a correction not yet published — and would tell the change: it is withheld."""
    update_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        changes={"baseline": {"value": 125, "period": "2025Q1"}},
    )
    funder = _row(session, _funder(world))
    assert funder.current.value == 160
    assert (funder.baseline, funder.baseline_withheld, funder.target_kind) == (None, True, "end")
    assert _row(session, SYSTEM).baseline == 125
    # As the indicator writes it (to its decimals), the figure shown is the baseline.
    update_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        changes={"baseline": {"value": 120.04, "period": "2025Q1"}, "decimals": 0},
    )
    assert _row(session, _funder(world)).baseline == 120.04


def test_interim_targets_are_not_told_with_a_withheld_baseline(session, world) -> None:
    """One interim target on the line and the end target draw the line back to the baseline:
    where the baseline is withheld, so are the interim targets."""
    update_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="SERVED",
        changes={"targets": [{"period": "2025Q3", "value": 160}]},
    )
    backbone, funder = _row(session, SYSTEM), _row(session, _funder(world))
    assert (backbone.target, backbone.target_kind) == (160, "interim")
    assert (funder.target, funder.target_kind) == (GOAL, "end")
    seen = series(
        session=session, actor=_funder(world), initiative_slug=SLUG, indicator_code="SERVED"
    )
    assert {t for _, t in seen.targets} == {GOAL}
    described = get_indicator(session=session, actor=_funder(world), initiative=SLUG, code="SERVED")
    assert (described["baseline"], described["targets"]) == (None, [])
    assert get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="SERVED")[
        "targets"
    ] == [{"period": "2025Q3", "value": 160, "note": None}]


def test_a_computed_baseline_is_not_told_where_it_has_no_figure(session, world) -> None:
    """ALL = SERVED + LATER has no figure in 2025Q1 (LATER has no data then), though SERVED
    has one, hidden from the funder: a baseline there (SERVED's, 120) is not "from
    elsewhere" and is withheld."""
    f.indicator(session, world, code="LATER", name="Reported later")
    create_indicator(
        session=session,
        actor=SYSTEM,
        initiative=SLUG,
        code="ALL",
        name="Everything",
        unit="people",
        measure_type="count",
        expression="SERVED + LATER",
        baseline={"value": BASE, "period": "2025Q1"},
    )
    seen = get_indicator(session=session, actor=_funder(world), initiative=SLUG, code="ALL")
    assert (seen["baseline"], seen["baseline_withheld"]) == (None, True)
    assert get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="ALL")[
        "baseline"
    ] == {"value": BASE, "period": "2025Q1"}
