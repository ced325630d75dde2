"""Gap targets: set, checked, audited and judged like the indicator's own target, and never
judged from a category figure the viewer may not see (README, Disclosure)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.analytics.views import equity, scorecard
from models.core.actors import SYSTEM, Actor
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.initiatives import gap_targets as rules
from models.initiatives.dimensions import delete_dimension
from models.initiatives.indicators import get_indicator, update_indicator
from models.publishing.publish import publish
from models.reporting.validation import ValueInput
from models.tables.audit import AuditEvent
from models.tables.indicator import GapTarget

from .. import factories as f

P = "/api/v1"
SLUG = "gaps"
GOAL = {"baseline": {"value": 30, "period": "2025Q1"}, "target": {"value": 10, "period": "2026Q1"}}


@pytest.fixture
def world(session):
    """Initiative "gaps": READ (a rate, higher is better) broken down by race a/b/c and
    reported by partners one and two, quarters 2025Q1 to 2026Q1; a spare dimension "sex"."""
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    race = f.dimension(session, init, "race", ["a", "b", "c"])
    sex = f.dimension(session, init, "sex", ["f", "m"])
    f.dimension(session, init, "age", ["young", "old"])  # not collected by READ
    read = f.indicator(session, init, "rate", code="READ", name="Reading")
    read.dimensions = [race, sex]
    for key in ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"):
        f.period(session, init, key)
    for slug in ("one", "two"):
        f.obligation(session, f.member(session, init, f.organisation(session, slug=slug)), read)
    session.flush()
    return init


def _report(session, org, period, cells, total=None):
    """One partner's READ report: ``cells`` race → (numerator, denominator)."""
    inputs = [ValueInput("READ", f"race={k}", numerator=n, denominator=d) for k, (n, d) in cells]
    num = sum(n for _, (n, _) in cells)
    den = sum(d for _, (_, d) in cells)
    inputs.append(ValueInput("READ", numerator=num, denominator=den) if total is None else total)
    f.approved_report(session, SLUG, org, period, inputs)


def _set(session, actor=SYSTEM, **kw):
    return rules.set_gap_target(
        session=session,
        actor=actor,
        initiative=SLUG,
        code="READ",
        **{"dimension": "race", **GOAL, **kw},
    )


def _equity(session, actor=SYSTEM):
    return equity(
        session=session, actor=actor, initiative_slug=SLUG, indicator_code="READ", dimension="race"
    )


def _expected(period_start: date) -> float:
    """The line from 30 at 2025-01-01 to 10 at 2026-01-01, computed here on its own."""
    share = (period_start - date(2025, 1, 1)).days / (date(2026, 1, 1) - date(2025, 1, 1)).days
    return 30 - min(max(share, 0.0), 1.0) * 20


# --- setting, checking, auditing ----------------------------------------------------------------


def test_a_gap_target_is_set_updated_read_and_removed_with_an_audit_trail(session, world) -> None:
    made = _set(session, note="halve it")
    assert made == {
        "dimension": "race",
        "baseline": {"value": 30, "period": "2025Q1"},
        "target": {"value": 10, "period": "2026Q1"},
        "note": "halve it",
    }
    again = _set(session, note="halve it")  # the same: no event
    assert again == made
    changed = _set(session, target={"value": 15, "period": "2025Q4"}, note=None)
    read = get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="READ")
    assert read["gap_targets"] == [changed]
    assert rules.list_gap_targets(session=session, actor=SYSTEM, initiative=SLUG, code="READ") == [
        changed
    ]
    removed = rules.remove_gap_target(
        session=session, actor=SYSTEM, initiative=SLUG, code="READ", dimension="race"
    )
    assert removed == changed
    assert session.scalars(select(GapTarget)).all() == []
    with pytest.raises(NotFound) as gone:
        rules.remove_gap_target(
            session=session, actor=SYSTEM, initiative=SLUG, code="READ", dimension="race"
        )
    assert gone.value.field == "dimension"
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "gap_target").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].before["target"] == {"value": 10, "period": "2026Q1"}
    assert events[1].after["target"] == {"value": 15, "period": "2025Q4"}
    assert {e.initiative_id for e in events} == {world.id}
    assert {e.before["indicator"] for e in events[1:]} == {"READ"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dimension": "age"}, "dimension"),  # the initiative's, but READ does not collect it
        ({"dimension": "nope"}, "dimension"),
        ({"baseline": {"value": -1, "period": "2025Q1"}}, "baseline.value"),
        ({"target": {"value": -0.5, "period": "2026Q1"}}, "target.value"),
        ({"target": {"value": 40, "period": "2026Q1"}}, "target.value"),  # wider than baseline
        ({"target": {"value": 10, "period": "2025Q1"}}, "target.period"),  # not after baseline
        (
            {
                "baseline": {"value": 30, "period": "2025Q4"},
                "target": GOAL["target"] | {"period": "2025Q2"},
            },
            "target.period",
        ),
        ({"baseline": {"value": 30, "period": "1999Q1"}}, "baseline.period"),
        ({"target": {"value": 10, "period": "2030Q1"}}, "target.period"),
        ({"baseline": {"value": "thirty", "period": "2025Q1"}}, "baseline.value"),
        ({"baseline": None}, "baseline"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_a_bad_gap_target_is_refused_naming_the_field(session, world, change, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        _set(session, **change)
    assert refused.value.field == field
    assert session.scalars(select(GapTarget)).all() == []
    assert not session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "gap_target")
    ).all()


def test_only_the_backbone_sets_gap_targets_and_other_tenants_see_nothing(session, world) -> None:
    other = f.initiative(session, slug="other")
    funder = Actor(user_id=998, label="funder", funder_of=frozenset({world.id}))
    stranger = Actor(user_id=999, label="stranger", backbone_of=frozenset({other.id}))
    with pytest.raises(PermissionDenied):
        _set(session, actor=funder)
    with pytest.raises(NotFound):
        _set(session, actor=stranger)
    _set(session)
    with pytest.raises(PermissionDenied):
        rules.remove_gap_target(
            session=session, actor=funder, initiative=SLUG, code="READ", dimension="race"
        )
    with pytest.raises(NotFound):
        rules.list_gap_targets(session=session, actor=stranger, initiative=SLUG, code="READ")


def test_dropping_or_deleting_the_dimension_removes_its_gap_target(session, world) -> None:
    _set(session)
    _set(session, dimension="sex", note="by sex")
    update_indicator(
        session=session, actor=SYSTEM, initiative=SLUG, code="READ", changes={"dimensions": ["sex"]}
    )
    read = get_indicator(session=session, actor=SYSTEM, initiative=SLUG, code="READ")
    assert [g["dimension"] for g in read["gap_targets"]] == ["sex"]
    [event] = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "indicator", AuditEvent.action == "update"
        )
    ).all()
    assert [g["dimension"] for g in event.before["gap_targets"]] == ["race", "sex"]
    delete_dimension(session=session, actor=SYSTEM, initiative=SLUG, code="sex")
    session.expire_all()
    assert session.scalars(select(GapTarget)).all() == []


def test_a_period_a_gap_target_uses_is_not_deleted(session, world) -> None:
    from models.core.errors import Conflict
    from models.initiatives.periods import delete_period

    _set(session)
    for key in ("2025Q1", "2026Q1"):
        with pytest.raises(Conflict) as refused:
            delete_period(session=session, actor=SYSTEM, initiative=SLUG, key=key)
        assert "READ" in refused.value.message
    delete_period(session=session, actor=SYSTEM, initiative=SLUG, key="2025Q2")
    assert len(session.scalars(select(GapTarget)).all()) == 1


# --- judging the gap ------------------------------------------------------------------------------


def test_the_gap_is_judged_against_the_line_to_the_gap_target(session, world) -> None:
    _set(session)
    # 2025Q2: a 90 %, b 50 %: gap 40, above the line (off track).
    for org in ("one", "two"):
        _report(session, org, "2025Q2", [("a", (45, 50)), ("b", (25, 50))])
    # 2025Q3: a 80 %, b 60 %: gap 20, under the line (on track).
    for org in ("one", "two"):
        _report(session, org, "2025Q3", [("a", (40, 50)), ("b", (30, 50))])
    # 2025Q4: a 70 %, b 62 %: gap 8, under the target gap (met).
    for org in ("one", "two"):
        _report(session, org, "2025Q4", [("a", (35, 50)), ("b", (31, 50))])
    # 2026Q1: only partner one, partner two never size-known for it... it reported before, so
    # a share is known: one of two equal partners is half the usual size (incomplete).
    _report(session, "one", "2026Q1", [("a", (35, 50)), ("b", (34, 50))])
    e = _equity(session)
    assert e.gap_target is not None
    assert (e.gap_target.baseline, e.gap_target.target) == (30, 10)
    assert e.gap_target.target_period == "2026Q1"
    judged = {p.period: p.target for p in e.points}
    assert {k: j.status for k, j in judged.items()} == {
        "2025Q2": "off_track",
        "2025Q3": "on_track",
        "2025Q4": "met",
        "2026Q1": "incomplete",
    }
    for key, start in (("2025Q2", date(2025, 4, 1)), ("2025Q3", date(2025, 7, 1))):
        assert judged[key].expected == pytest.approx(_expected(start))
    assert judged["2026Q1"].expected == 10
    assert judged["2025Q3"].gap == pytest.approx(20)
    assert judged["2025Q3"].progress == pytest.approx((30 - 20) / (30 - 10))
    assert judged["2025Q2"].progress == pytest.approx((30 - 40) / 20)
    assert judged["2026Q1"].progress == pytest.approx((30 - 2) / 20)  # backbone: told
    # The scorecard's badge is the same judgement for its period.
    card = scorecard(session=session, actor=SYSTEM, initiative_slug=SLUG, period_key="2025Q3")
    [row] = card.rows
    assert [(g.dimension, g.status) for g in row.gap_targets] == [("race", "on_track")]
    assert row.gap_targets[0] == judged["2025Q3"]
    # An indicator without a gap target has no judgement.
    rules.remove_gap_target(
        session=session, actor=SYSTEM, initiative=SLUG, code="READ", dimension="race"
    )
    assert all(p.target is None for p in _equity(session).points)


def test_with_one_category_there_is_no_gap_to_judge(session, world) -> None:
    _set(session)
    for org in ("one", "two"):
        _report(session, org, "2025Q3", [("a", (40, 50))])
    [point] = _equity(session).points
    assert (point.target.status, point.target.gap, point.target.progress) == ("no_data", None, None)


def _publish(session, period):
    publish(
        session=session,
        actor=SYSTEM,
        initiative_slug=SLUG,
        period_key=period,
        confirm_incomplete=True,
    )


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_funder_never_gets_a_status_from_a_hidden_category(session, world) -> None:
    """Category c is too small to show below backbone. The whole gap (a to c) is off track;
    the gap of the shown categories alone (a to b) would be on track: a funder gets neither,
    only ``hidden``, since either status would bound the hidden figure."""
    _set(session)
    _report(session, "one", "2025Q3", [("a", (40, 50)), ("b", (30, 50)), ("c", (1, 4))])
    _report(session, "two", "2025Q3", [("a", (40, 50)), ("b", (30, 50))])
    # 2025Q4: every category large enough: the funder's judgement is the backbone's.
    for org in ("one", "two"):
        _report(session, org, "2025Q4", [("a", (36, 50)), ("b", (31, 50)), ("c", (31, 50))])
    for period in ("2025Q3", "2025Q4"):
        _publish(session, period)
    funder = Actor(user_id=998, label="funder", funder_of=frozenset({world.id}))
    backbone = {p.period: p for p in _equity(session).points}
    seen = {p.period: p for p in _equity(session, funder).points}
    assert backbone["2025Q3"].target.status == "off_track"  # c at 25 %: a gap of 55
    assert backbone["2025Q3"].target.gap == pytest.approx(80 - 25)
    hidden = seen["2025Q3"]
    assert any(fig.value is None and fig.reason for _, _, fig in hidden.categories)
    assert (hidden.target.status, hidden.target.gap, hidden.target.progress) == (
        "hidden",
        None,
        None,
    )
    assert hidden.target.expected == pytest.approx(_expected(date(2025, 7, 1)))  # not a figure
    assert seen["2025Q4"].target == backbone["2025Q4"].target
    assert seen["2025Q4"].target.status == "met"
    card = scorecard(session=session, actor=funder, initiative_slug=SLUG, period_key="2025Q3")
    assert [g.status for g in card.rows[0].gap_targets] == ["hidden"]
    # A period not yet published shows the funder no category: no status from it either.
    _report(session, "one", "2026Q1", [("a", (40, 50)), ("b", (30, 50))])
    _report(session, "two", "2026Q1", [("a", (40, 50)), ("b", (30, 50))])
    later = {p.period: p for p in _equity(session, funder).points}
    assert later["2026Q1"].target.status == "hidden"


# --- through the API -----------------------------------------------------------------------------


def _token(client, user) -> dict[str, str]:
    r = client.post(f"{P}/auth/token", data={"username": user.email, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_gap_targets_through_the_api(client, session, world) -> None:
    backbone = _token(client, f.user(session, "backbone", init=world, email="bb@gaps.org"))
    funder = _token(client, f.user(session, "funder", init=world, email="fu@gaps.org"))
    for org in ("one", "two"):
        _report(session, org, "2025Q3", [("a", (40, 50)), ("b", (30, 50))])
    session.commit()
    url = f"{P}/initiatives/{SLUG}/indicators/READ/gap-targets"
    assert client.put(f"{url}/race", json=GOAL, headers=funder).status_code == 403
    put = client.put(f"{url}/race", json={**GOAL, "note": "halve it"}, headers=backbone)
    assert put.status_code == 200, put.text
    assert put.json() == {"dimension": "race", **GOAL, "note": "halve it"}
    for body, field in (
        ({**GOAL, "baseline": {"value": -3, "period": "2025Q1"}}, "baseline.value"),
        ({**GOAL, "target": {"value": 5, "period": "2031Q1"}}, "target.period"),
        ({"target": GOAL["target"]}, "baseline"),
    ):
        bad = client.put(f"{url}/race", json=body, headers=backbone)
        assert bad.status_code == 422, bad.text
        assert field in bad.text
    bad = client.put(f"{url}/age", json=GOAL, headers=backbone)
    assert bad.status_code == 422 and bad.json()["field"] == "dimension", bad.text
    read = client.get(f"{P}/initiatives/{SLUG}/indicators/READ", headers=funder).json()
    assert read["gap_targets"] == [put.json()]
    unknown = client.get(
        f"{P}/initiatives/{SLUG}/indicators/READ/equity",
        params={"dimension": "age"},
        headers=backbone,
    )
    # The parameter the client sent is named, not the series' own ``by``.
    assert unknown.status_code == 422 and unknown.json()["field"] == "dimension", unknown.text
    eq = client.get(
        f"{P}/initiatives/{SLUG}/indicators/READ/equity",
        params={"dimension": "race"},
        headers=backbone,
    ).json()
    assert eq["gap_target"]["target"] == 10 and eq["gap_target"]["target_period"] == "2026Q1"
    [point] = eq["points"]
    assert point["gap_status"] == "on_track"
    assert point["expected_gap"] == pytest.approx(_expected(date(2025, 7, 1)))
    assert point["gap_progress"] == pytest.approx(0.5)
    # The funder: 2025Q3 is not published, so no category is shown and the gap is hidden.
    seen = client.get(
        f"{P}/initiatives/{SLUG}/indicators/READ/equity",
        params={"dimension": "race"},
        headers=funder,
    ).json()
    assert [(p["gap_status"], p["gap_progress"]) for p in seen["points"]] == [("hidden", None)]
    card = client.get(
        f"{P}/initiatives/{SLUG}/scorecard", params={"period": "2025Q3"}, headers=backbone
    ).json()
    assert [(g["dimension"], g["status"]) for g in card["rows"][0]["gap_targets"]] == [
        ("race", "on_track")
    ]
    assert client.delete(f"{url}/race", headers=funder).status_code == 403
    assert client.delete(f"{url}/race", headers=backbone).status_code == 200
    assert client.delete(f"{url}/race", headers=backbone).status_code == 404
    eq = client.get(
        f"{P}/initiatives/{SLUG}/indicators/READ/equity",
        params={"dimension": "race"},
        headers=backbone,
    ).json()
    assert eq["gap_target"] is None and eq["points"][0]["gap_status"] is None
