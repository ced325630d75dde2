"""Rollup math, progress, equity and completeness: the numbers people act on must be right."""

from __future__ import annotations

import gzip
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models.analytics.views import completeness, equity, scorecard, series
from models.core.actors import SYSTEM, Actor
from models.publishing.publish import publish
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.tables.indicator import Indicator

from .. import factories as f


def _publish(session, period="2025Q3"):
    """Below backbone, initiative figures are those of the period's publication."""
    publish(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        period_key=period,
        confirm_incomplete=True,
    )


def _report(session, org, period, inputs, status="approved"):
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug=org,
        period_key=period,
        inputs=inputs,
    )
    if status in ("submitted", "approved"):
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug="math",
            org_slug=org,
            period_key=period,
            action="submit",
        )
    if status == "approved":
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug="math",
            org_slug=org,
            period_key=period,
            action="approve",
        )


def test_rate_rolls_up_as_sum_of_numerators_over_sum_of_denominators(session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("RATE", numerator=9, denominator=10)])
    _report(session, "two", "2025Q3", [ValueInput("RATE", numerator=1, denominator=90)])
    row = next(
        r
        for r in scorecard(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "RATE"
    )
    assert row.current.value == pytest.approx(10.0)  # not the mean of 90% and 1.1% (45.6%)
    assert row.current.n == 100
    assert row.contributors == 2 and row.expected == 3


def test_weighted_average(session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("AVG", value=100, denominator=10)])
    _report(session, "two", "2025Q3", [ValueInput("AVG", value=200, denominator=30)])
    row = next(
        r
        for r in scorecard(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "AVG"
    )
    assert row.current.value == pytest.approx(175.0)


def test_only_approved_values_count(session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=50)], status="submitted")
    _report(session, "three", "2025Q3", [ValueInput("KIDS", value=25)], status="draft")
    row = next(
        r
        for r in scorecard(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "KIDS"
    )
    assert row.current.value == 100
    transition(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug="two",
        period_key="2025Q3",
        action="approve",
    )
    row = next(
        r
        for r in scorecard(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "KIDS"
    )
    assert row.current.value == 150  # fresh the moment it is approved


def _row(session, code, period="2025Q3", actor=SYSTEM):
    card = scorecard(session=session, actor=actor, initiative_slug="math", period_key=period)
    return next(r for r in card.rows if r.code == code)


def test_lower_is_better_progress_and_status(session, world) -> None:
    _report(session, "one", "2025Q2", [ValueInput("ABSENT", numerator=18, denominator=100)])
    _report(session, "one", "2025Q3", [ValueInput("ABSENT", numerator=12, denominator=100)])
    row = _row(session, "ABSENT")
    assert row.progress == pytest.approx(0.8)  # 20 → 12 of the way 20 → 10
    assert row.trend == "improving"  # 18 % → 12 % absent is better
    assert row.status == "incomplete"  # 1 of 3 partners: not judged against the target
    for org in ("two", "three"):
        _report(session, org, "2025Q3", [ValueInput("ABSENT", numerator=12, denominator=100)])
    row = _row(session, "ABSENT")
    assert row.complete and row.status == "off_track"  # the target for 2025Q3 (the end) is 10 %
    transition(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug="three",
        period_key="2025Q3",
        action="reopen",
        comment="recount",
    )
    _report(session, "three", "2025Q3", [ValueInput("ABSENT", numerator=0, denominator=100)])
    row = _row(session, "ABSENT")
    assert row.current.value == pytest.approx(8.0)
    assert row.status == "met"


def test_higher_is_better_on_the_trajectory(session, world) -> None:
    # Trajectory 40 (2025Q1) → 60 (2025Q3): the 2025Q2 target is about 50.
    for org in ("one", "two", "three"):
        _report(session, org, "2025Q2", [ValueInput("RATE", numerator=52, denominator=100)])
    row = _row(session, "RATE", "2025Q2")
    assert 49 < row.target < 51
    assert row.status == "on_track"
    assert row.change_since_baseline == pytest.approx(12)


def test_series_and_equity_by_category(session, world) -> None:
    _report(
        session,
        "one",
        "2025Q3",
        [
            ValueInput("RATE", numerator=60, denominator=100),
            ValueInput("RATE", "race=a", numerator=45, denominator=60),
            ValueInput("RATE", "race=b", numerator=15, denominator=40),
        ],
    )
    s = series(
        session=session, actor=SYSTEM, initiative_slug="math", indicator_code="RATE", by="race"
    )
    assert [p.figure.value for p in s.total] == [pytest.approx(60.0)]
    assert {p.key: p.figure.value for p in s.breakdown} == {"race=a": 75.0, "race=b": 37.5}
    e = equity(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        indicator_code="RATE",
        dimension="race",
    )
    [point] = e.points
    assert (point.best, point.worst) == ("race=a", "race=b")
    assert point.gap == pytest.approx(37.5)
    assert point.ratio == pytest.approx(2.0)


def test_funders_see_suppressed_figures_and_only_sharing_partners(session, world) -> None:
    for org, n in (("one", 40), ("two", 50), ("three", 60)):
        _report(session, org, "2025Q3", [ValueInput("KIDS", value=n)])
    funder = Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))

    def by_partner():
        return series(
            session=session,
            actor=funder,
            initiative_slug="math",
            indicator_code="KIDS",
            by="partner",
        )

    s = by_partner()
    assert s.suppressed and "three" not in {p.key for p in s.breakdown}
    # Three partners: the total is hidden, so nothing ties the partners' figures together and
    # those that share are shown; "three" stays unknown.
    assert s.total[0].figure.value is None
    assert {p.key: p.figure.value for p in s.breakdown} == {"one": 40, "two": 50}
    # A fourth partner (sharing) makes the total showable; total − the shown partners must
    # then be a figure of at least three partners, so two sharing partners are hidden too.
    four = f.member(session, world, f.organisation(session, slug="four"), shares_with_funders=True)
    kids = session.scalar(
        select(Indicator).where(Indicator.initiative_id == world.id, Indicator.code == "KIDS")
    )
    f.obligation(session, four, kids)
    session.flush()
    _report(session, "four", "2025Q3", [ValueInput("KIDS", value=70)])
    s = by_partner()
    assert s.total[0].figure.marker == "not yet published"  # below backbone: publications only
    _publish(session)
    s = by_partner()
    assert s.total[0].figure.value == 220
    shown = {p.key: p.figure.value for p in s.breakdown}
    assert set(shown) == {"one", "two", "four"}
    assert sorted(v for v in shown.values() if v is not None) == [70]
    # Then "four" reopens its report: the published total stays what was published, and the
    # partner figures shown now would mix two moments (220 − 40 − 50 would be "three" and
    # "four" together): none is shown.
    transition(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug="four",
        period_key="2025Q3",
        action="reopen",
        comment="recount",
    )
    s = by_partner()
    assert s.total[0].figure.value == 220
    assert {p.key: p.figure.value for p in s.breakdown} == {"one": None, "two": None}


@pytest.mark.usefixtures("few_partners_allowed")
def test_small_counts_are_suppressed_below_backbone(session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=7)])
    _publish(session)
    reporter = Actor(
        user_id=998,
        label="r",
        reporter_in=frozenset({(world.id, world.members[0].organisation_id)}),
    )
    row = next(
        r
        for r in scorecard(
            session=session, actor=reporter, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "KIDS"
    )
    assert row.current.value is None and row.current.marker == "<10"
    backbone_row = next(
        r
        for r in scorecard(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3"
        ).rows
        if r.code == "KIDS"
    )
    assert backbone_row.current.value == 7


def test_completeness_states(session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=5)])
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=5)], status="draft")
    c = completeness(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        period_key="2025Q3",
        today=date(2030, 1, 1),
    )
    state = {(x.organisation, x.indicator): (x.state, x.late) for x in c.cells}
    assert state[("one", "KIDS")][0] == "approved"
    assert state[("two", "KIDS")] == ("draft", True)
    assert state[("three", "KIDS")] == ("missing", True)
    assert state[("one", "RATE")][0] == "missing"
    assert c.counts["approved"] == 1


def test_a_partner_with_an_extension_is_not_late_before_its_day(session, world) -> None:
    """README ("Notifications"): a partner whose deadline is extended is not called overdue
    before the extension's day; after it, it is."""
    from models.tables.initiative import Member, Organisation, Period
    from models.tables.reporting import DeadlineExtension

    period = session.scalars(select(Period).where(Period.key == "2025Q3")).one()
    two = session.scalars(select(Member).join(Organisation).where(Organisation.slug == "two")).one()
    session.add(
        DeadlineExtension(
            initiative_id=period.initiative_id,
            member_id=two.id,
            period_id=period.id,
            until=date(2030, 1, 10),
            reason="recount",
        )
    )
    session.commit()

    def late(day: date) -> dict[str, bool]:
        grid = completeness(
            session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3", today=day
        )
        return {c.organisation: c.late for c in grid.cells if c.indicator == "KIDS"}

    assert late(date(2030, 1, 1)) == {"one": True, "two": False, "three": True}
    assert late(date(2030, 1, 10)) == {"one": True, "two": False, "three": True}
    assert late(date(2030, 1, 11)) == {"one": True, "two": True, "three": True}


def test_completeness_rows_kept_across_answers_render_what_the_read_model_would(
    session, world
) -> None:
    """The grid is made and rendered a member's row at a time, rows kept across answers: after
    a report changes, the answer is still exactly the read model's, and only its row is new."""
    from api.routers.analytics import _completeness_json, _completeness_read

    def grid():
        c = completeness(
            session=session,
            actor=SYSTEM,
            initiative_slug="math",
            period_key="2025Q3",
            today=date(2030, 1, 1),
        )
        assert _completeness_json(c) == _completeness_read(c).model_dump_json().encode()
        return c

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=5)])
    _report(session, "two", "2025Q3", [ValueInput("AVG", value=5, denominator=2)], "draft")
    first = grid()
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=7)], status="submitted")
    second = grid()
    changed = {key[0]: a is not b for (key, a), (_, b) in zip(first.rows, second.rows, strict=True)}
    assert changed == {"one": False, "two": True, "three": False}  # only two's row is new
    state = {(x.organisation, x.indicator): x.state for x in second.cells}
    assert state["two", "KIDS"] == state["two", "AVG"] == "submitted"
    assert state["two", "RATE"] == "missing" and state["one", "KIDS"] == "approved"


def test_completeness_follows_setup_changes_and_drafts_after_kept_answers(session, world) -> None:
    """Periods, members and obligations are kept across answers under the initiative's figures
    version, and each report's totals under its version: a setup change made through the
    domain (it leaves its audit event) shows in the next answer, and so does a draft."""
    from models.initiatives.members import set_obligations, update_member

    def grid():
        c = completeness(
            session=session,
            actor=SYSTEM,
            initiative_slug="math",
            period_key="2025Q3",
            today=date(2030, 1, 1),
        )
        return {(x.organisation, x.indicator): x.state for x in c.cells}, [m for m, _ in c.members]

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=5)])
    cells, members = grid()
    assert cells["one", "KIDS"] == "approved" and ("one", "RATE") in cells
    assert "two" in members
    set_obligations(
        session=session, actor=SYSTEM, initiative="math", organisation="one", indicators=["KIDS"]
    )
    cells, _ = grid()
    assert {code for org, code in cells if org == "one"} == {"KIDS"}
    update_member(
        session=session,
        actor=SYSTEM,
        initiative="math",
        organisation="two",
        changes={"active": False},
    )
    cells, members = grid()
    assert "two" not in members and not any(org == "two" for org, _ in cells)
    assert cells["three", "KIDS"] == "missing"
    _report(session, "three", "2025Q3", [ValueInput("KIDS", value=1)], "draft")
    cells, _ = grid()
    assert cells["three", "KIDS"] == "draft"
    _report(session, "three", "2025Q3", [ValueInput("KIDS", remove=True)], "draft")
    cells, _ = grid()
    assert cells["three", "KIDS"] == "missing"


def test_completeness_is_for_backbone_only(session, world) -> None:
    from models.core.errors import PermissionDenied

    funder = Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))
    with pytest.raises(PermissionDenied):
        completeness(session=session, actor=funder, initiative_slug="math")


def test_unchanged_views_answer_304_and_changes_refresh_the_etag(client, session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    user = f.user(session, "backbone", init=world, email="etag@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path in (
        "/api/v1/initiatives/math/scorecard?period=2025Q3",
        "/api/v1/initiatives/math/indicators/KIDS/series",
        "/api/v1/initiatives/math/completeness?period=2025Q3",
    ):
        first = client.get(path, headers=headers)
        etag = first.headers["ETag"]
        again = client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    etag = client.get(path, headers=headers).headers["ETag"]
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=50)])  # new approved data
    session.commit()
    fresh = client.get(path, headers={**headers, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert next(r for r in fresh.json()["rows"] if r["code"] == "KIDS")["current"]["value"] == 150


def _login(client, session, world, role: str, email: str) -> dict[str, str]:
    user = f.user(session, role, init=None if role == "admin" else world, email=email)
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_commit_stamped_before_the_newest_event_still_changes_the_etag(
    client, session, world
) -> None:
    """Overlapping writers can commit out of time order; the ETag must not miss the late one."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from models.tables.audit import AuditEvent

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "late@example.org")
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    etag = client.get(path, headers=headers).headers["ETag"]
    newest = session.scalar(select(func.max(AuditEvent.at)))
    session.add(
        AuditEvent(
            at=newest - timedelta(seconds=5),
            actor_label="test",
            initiative_id=world.id,
            entity_type="submission",
            action="approve",
        )
    )
    session.commit()
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag


def test_last_modified_is_honoured_only_once_the_data_is_quiet(
    client, session, world, monkeypatch
) -> None:
    import models.analytics.views

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "lm@example.org")
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    first = client.get(path, headers=headers)
    modified = first.headers["Last-Modified"]
    assert modified.endswith(" GMT")
    # Just written: a late commit could still land behind this time, so no 304 by date.
    busy = client.get(path, headers={**headers, "If-Modified-Since": modified})
    assert busy.status_code == 200
    monkeypatch.setattr(models.analytics.views, "RECENT_SECONDS", 0)  # as if minutes had passed
    modified = client.get(path, headers=headers).headers["Last-Modified"]
    quiet = client.get(path, headers={**headers, "If-Modified-Since": modified})
    assert quiet.status_code == 304
    older = client.get(
        path, headers={**headers, "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    )
    assert older.status_code == 200
    garbage = client.get(path, headers={**headers, "If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200


def test_rendered_answers_are_reused_per_viewer_and_never_shared_across_roles(
    client, session, world
) -> None:
    """The cache serves the same viewer's repeated question; a funder never gets the
    backbone's unsuppressed answer."""
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    backbone = _login(client, session, world, "backbone", "cache-b@example.org")
    funder = _login(client, session, world, "funder", "cache-f@example.org")
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    first = client.get(path, headers=backbone)
    cache = client.app.state.response_cache
    hits = cache.hits
    second = client.get(path, headers=backbone)
    assert second.status_code == 200 and second.content == first.content
    assert cache.hits == hits + 1
    as_funder = client.get(path, headers=funder)
    assert as_funder.status_code == 200
    assert as_funder.json()["suppressed"] is True and first.json()["suppressed"] is False
    assert cache.hits == hits + 1  # the funder's answer was rendered for the funder


def test_right_after_many_writes_answers_are_fresh_and_carry_no_validators(
    client, session, world, monkeypatch
) -> None:
    import models.analytics.views

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "busy@example.org")
    monkeypatch.setattr(
        models.analytics.views, "RECENT_LIMIT", 1
    )  # any recent event counts as busy
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and "ETag" not in first.headers
    assert "Last-Modified" not in first.headers
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=50)])
    session.commit()
    second = client.get(path, headers=headers)
    assert next(r for r in second.json()["rows"] if r["code"] == "KIDS")["current"]["value"] == 150


def test_renaming_a_partner_refreshes_cached_answers(client, session, world) -> None:
    """Organisations are deployment-wide (their audit events name no initiative), yet their
    names are in the answers: the data version covers them too."""
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "rename@example.org")
    path = "/api/v1/initiatives/math/completeness?period=2025Q3"
    before = client.get(path, headers=headers)
    admin = _login(client, session, world, "admin", "rename-admin@example.org")
    renamed = client.patch("/api/v1/organisations/one", json={"name": "Renamed One"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    after = client.get(path, headers={**headers, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert {"key": "one", "name": "Renamed One"} in after.json()["members"]


def test_a_new_day_changes_the_validators(client, session, world, monkeypatch) -> None:
    """Lateness depends on the day: yesterday's copy must not be confirmed as current."""
    from models.core.settings import get_settings

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "day@example.org")
    path = "/api/v1/initiatives/math/completeness?period=2025Q3"
    first = client.get(path, headers=headers)

    monkeypatch.setenv("CM_TODAY", (date.today() + timedelta(days=1)).isoformat())
    get_settings.cache_clear()
    try:
        again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
    finally:
        monkeypatch.delenv("CM_TODAY")
        get_settings.cache_clear()
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert again.headers["Last-Modified"] != first.headers["Last-Modified"]


def test_validators_never_turn_a_refusal_into_304(client, session, world, monkeypatch) -> None:
    import models.analytics.views

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    funder = _login(client, session, world, "funder", "no304@example.org")
    backbone = _login(client, session, world, "backbone", "yes304@example.org")
    monkeypatch.setattr(models.analytics.views, "RECENT_SECONDS", 0)  # quiet data
    path = "/api/v1/initiatives/math/completeness?period=2025Q3"
    modified = client.get(path, headers=backbone).headers["Last-Modified"]
    for extra in ({"If-None-Match": "*"}, {"If-Modified-Since": modified}):
        assert client.get(path, headers={**funder, **extra}).status_code == 403
        missing = client.get(
            "/api/v1/initiatives/math/indicators/NOPE/series", headers={**backbone, **extra}
        )
        assert missing.status_code == 404
    assert client.get(path, headers={**backbone, "If-None-Match": "*"}).status_code == 200


def test_unknown_query_parameters_share_the_cached_answer(client, session, world) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "params@example.org")
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    first = client.get(path, headers=headers)
    cache = client.app.state.response_cache
    hits = cache.hits
    other = client.get(path + "&whatever=1", headers=headers)
    assert other.headers["ETag"] == first.headers["ETag"] and cache.hits == hits + 1


def test_a_sole_contributor_is_not_exposed_below_backbone(session, world) -> None:
    """The one partner reporting a figure: funders and partners see neither the figure, its
    breakdown, nor a contributor count that would say whose it is (issue: sole contributor)."""
    _report(
        session,
        "three",
        "2025Q3",
        [
            ValueInput("RATE", numerator=60, denominator=100),
            ValueInput("RATE", disaggregation="race=a", numerator=30, denominator=50),
            ValueInput("RATE", disaggregation="race=b", numerator=30, denominator=50),
        ],
    )
    _publish(session)
    funder = Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))
    other = Actor(
        user_id=998,
        label="r",
        reporter_in=frozenset({(world.id, world.members[0].organisation_id)}),
    )
    for viewer in (funder, other):
        card = scorecard(session=session, actor=viewer, initiative_slug="math", period_key="2025Q3")
        row = next(r for r in card.rows if r.code == "RATE")
        assert row.current.value is None and row.current.marker == "<4 partners"
        assert row.contributors is None and row.status == "hidden"
        by_race = series(
            session=session, actor=viewer, initiative_slug="math", indicator_code="RATE", by="race"
        )
        assert all(p.figure.value is None for p in by_race.total + by_race.breakdown)
    backbone = scorecard(session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3")
    row = next(r for r in backbone.rows if r.code == "RATE")
    assert row.current.value == 60 and row.contributors == 1


def test_a_partner_cannot_subtract_its_own_figure_from_a_small_total(session, world) -> None:
    """total − own is the others' figure: with two contributors it is the other's own, with
    three it is two partners'. The figure is hidden from everyone below backbone until what
    is left without any one partner comes from three partners; the partner's own stays exact."""
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=40)])
    _report(session, "two", "2025Q3", [ValueInput("KIDS", value=70)])
    one = Actor(
        user_id=998,
        label="r",
        reporter_in=frozenset({(world.id, world.members[0].organisation_id)}),
    )
    funder = Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))
    for partners in (2, 3):
        if partners == 3:
            _report(session, "three", "2025Q3", [ValueInput("KIDS", value=55)])
        _publish(session)
        for viewer in (one, funder):
            card = scorecard(
                session=session, actor=viewer, initiative_slug="math", period_key="2025Q3"
            )
            row = next(r for r in card.rows if r.code == "KIDS")
            assert row.current.value is None and row.current.marker == "<4 partners"
            assert row.contributors is None
        own = series(
            session=session,
            actor=one,
            initiative_slug="math",
            indicator_code="KIDS",
            org=world.members[0].organisation.slug,
        )
        assert [p.figure.value for p in own.breakdown if p.period == "2025Q3"] == [40]
    backbone = scorecard(session=session, actor=SYSTEM, initiative_slug="math", period_key="2025Q3")
    row = next(r for r in backbone.rows if r.code == "KIDS")
    assert row.current.value == 165 and row.contributors == 3


def test_views_answer_compressed_the_same_answer_compressed_once(client, session, world) -> None:
    """A client that accepts gzip gets the view's answer compressed, the same JSON as a plain
    client, under the same ETag; the repeated answer is the first one's bytes (kept, not
    compressed again), and a client refusing gzip gets it plain."""
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "gzip@example.org")
    path = "/api/v1/initiatives/math/scorecard?period=2025Q3"
    plain = client.get(path, headers={**headers, "Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert len(plain.content) >= 1024  # worth compressing
    raw = []
    for _ in range(2):
        with client.stream("GET", path, headers={**headers, "Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-encoding"] == "gzip"
            assert "Accept-Encoding" in r.headers["vary"] and "Authorization" in r.headers["vary"]
            assert r.headers["etag"] == plain.headers["etag"]
            raw.append(b"".join(r.iter_raw()))
    assert raw[0] == raw[1] and len(raw[0]) < len(plain.content) / 2
    assert gzip.decompress(raw[0]) == plain.content
    refused = client.get(path, headers={**headers, "Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.content == plain.content


def test_pages_and_bundles_are_compressed_and_small_answers_are_not(client) -> None:
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js[^"]*)"', page.text)
    assert scripts
    bundle = client.get(scripts[0], headers={"Accept-Encoding": "gzip"})
    assert bundle.status_code == 200 and bundle.headers["content-encoding"] == "gzip"
    health = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in health.headers  # a few bytes: not worth it
