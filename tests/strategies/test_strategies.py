"""Strategies and actions through the API: validation naming the field, the audit trail, who
reads what (funders all, a partner its own, another initiative nothing), inert markup, and
that no figure's version moves (README: Strategies)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Strategy, StrategyAction
from models.core.dates import today
from models.strategies.strategies import chart_marks

from .. import factories as f
from ..stories.test_stories import ATTACKS, _parsed, _token

P = "/api/v1"
LIST = f"{P}/initiatives/tales/strategies"


@pytest.fixture
def world(session, client) -> dict[str, dict[str, str]]:
    """Initiative "tales" (KIDS, MEALS; members p1, p2) with its backbone officer, a funder and
    the reporters of p1 and p2; initiative "other" (member p3, indicator FAR) with its own
    backbone officer."""
    init = f.initiative(session, slug="tales", name="Tales City")
    kids = f.indicator(session, init, "count", code="KIDS", name="Children served")
    f.indicator(session, init, "count", code="MEALS", name="Meals")
    p1 = f.organisation(session, slug="p1", name="Partner One")
    p2 = f.organisation(session, slug="p2", name="Partner Two")
    for org in (p1, p2):
        f.obligation(session, f.member(session, init, org), kids)
    other = f.initiative(session, slug="other", name="Other City")
    f.member(session, other, f.organisation(session, slug="p3"))
    f.indicator(session, other, "count", code="FAR")
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "p1": f.user(session, "reporter", org=p1),
        "p2": f.user(session, "reporter", org=p2),
        "other": f.user(session, "backbone", init=other),
    }
    session.commit()
    return {role: _token(client, u) for role, u in users.items()}


START = date(2025, 7, 1)


def _create(client, headers, code="reading", **body):
    payload = {
        "code": code,
        "title": "Summer reading",
        "starts_on": START.isoformat(),
        "owners": ["p1"],
        "indicators": ["KIDS"],
        **body,
    }
    return client.post(LIST, json=payload, headers=headers)


def _events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type.in_(("strategy", "strategy_action")))
            .order_by(AuditEvent.id)
        )
    )


# --- writing and its audit trail --------------------------------------------------------------


def test_a_strategy_and_its_actions_are_written_and_audited(client, session, world) -> None:
    bb = world["backbone"]
    made = _create(client, bb, description="Libraries **open late**.", ends_on="2026-06-30")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["owners"] == [{"organisation": "p1", "name": "Partner One"}]
    assert body["indicators"] == ["KIDS"]
    assert body["html"] == "<p>Libraries <strong>open late</strong>.</p>\n"
    assert (body["actions_done"], body["actions_total"]) == (0, 0)

    url = f"{LIST}/reading"
    first = client.post(f"{url}/actions", json={"title": "Open late"}, headers=bb)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["position"]) == ("planned", 0)
    done_on = (today() - timedelta(days=3)).isoformat()
    second = client.post(
        f"{url}/actions",
        json={"title": "Book bus", "status": "done", "done_on": done_on},
        headers=bb,
    )
    assert (second.json()["position"], second.json()["done_on"]) == (1, done_on)
    action = f"{url}/actions/{first.json()['id']}"
    marked = client.patch(action, json={"status": "done"}, headers=bb)
    assert marked.json()["done_on"] == today().isoformat(), "done without a date: today"
    reopened = client.patch(action, json={"status": "in_progress"}, headers=bb)
    assert reopened.json()["done_on"] is None, "no longer done: no done date"
    read = client.get(url, headers=bb).json()
    assert [a["title"] for a in read["actions"]] == ["Open late", "Book bus"]
    assert (read["actions_done"], read["actions_total"]) == (1, 2)

    changed = client.patch(
        url, json={"owners": ["p1", "p2"], "ends_on": None, "title": "Reading"}, headers=bb
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ends_on"] is None
    assert client.patch(url, json={"title": "Reading"}, headers=bb).status_code == 200
    assert client.delete(action, headers=bb).status_code == 200
    assert client.delete(url, headers=bb).status_code == 200
    assert client.get(url, headers=bb).status_code == 404

    events = _events(session)
    assert [(e.entity_type, e.action) for e in events] == [
        ("strategy", "create"),
        ("strategy_action", "create"),
        ("strategy_action", "create"),
        ("strategy_action", "update"),
        ("strategy_action", "update"),
        ("strategy", "update"),  # the same title again wrote nothing
        ("strategy_action", "delete"),
        ("strategy", "delete"),
    ]
    strategy_id = events[0].entity_id
    assert {e.entity_id for e in events} == {strategy_id}, "actions are recorded under it"
    assert events[0].after == {
        "code": "reading",
        "title": "Summer reading",
        "description": "Libraries **open late**.",
        "starts_on": "2025-07-01",
        "ends_on": "2026-06-30",
        "owners": ["p1"],
        "indicators": ["KIDS"],
    }
    assert events[5].before["owners"] == ["p1"] and events[5].after["owners"] == ["p1", "p2"]
    assert events[5].after["ends_on"] is None
    assert events[7].before["actions"] == 1
    assert all(e.actor_label.startswith("user:") for e in events)
    assert session.scalar(select(StrategyAction.id)) is None


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_on": "2025-06-30"}, "ends_on"),
        ({"owners": ["nobody"]}, "owners"),
        ({"owners": ["p3"]}, "owners"),  # a member of another initiative only
        ({"indicators": ["NOPE"]}, "indicators"),
        ({"indicators": ["FAR"]}, "indicators"),  # another initiative's
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 4001}, "description"),
        ({"code": "Not A Slug"}, "code"),
        ({"starts_on": "soon"}, "starts_on"),
    ],
)
def test_bad_strategies_are_refused_naming_the_field(client, session, world, body, field) -> None:
    answer = _create(client, world["backbone"], **body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].split(".")[-1] == field, answer.json()
    assert session.scalar(select(Strategy.id)) is None
    assert _events(session) == []


def test_bad_changes_and_actions_are_refused_and_write_nothing(client, session, world) -> None:
    bb = world["backbone"]
    assert _create(client, bb).status_code == 201
    url = f"{LIST}/reading"
    assert _create(client, bb).json()["field"] == "code"  # taken: 409
    assert _create(client, bb).status_code == 409
    for body, field in (
        ({"ends_on": "2025-01-01"}, "ends_on"),
        ({"owners": ["p3"], "title": "Renamed"}, "owners"),
        ({"indicators": ["FAR"]}, "indicators"),
        ({"code": "renamed"}, "code"),
    ):
        answer = client.patch(url, json=body, headers=bb)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"].split(".")[-1] == field
    future = (today() + timedelta(days=1)).isoformat()
    for body, field in (
        ({"title": "Later", "status": "done", "done_on": future}, "done_on"),
        ({"title": "Later", "status": "planned", "done_on": "2025-08-01"}, "done_on"),
        ({"title": "Later", "status": "finished"}, "status"),
        ({"title": ""}, "title"),
        ({"title": "Later", "note": "n" * 2001}, "note"),
    ):
        answer = client.post(f"{url}/actions", json=body, headers=bb)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"].split(".")[-1] == field
    assert client.patch(f"{url}/actions/999", json={}, headers=bb).status_code == 404
    read = client.get(url, headers=bb).json()
    assert (read["title"], read["owners"][0]["organisation"], read["actions"]) == (
        "Summer reading",
        "p1",
        [],
    )
    assert [e.action for e in _events(session)] == ["create"]


# --- who reads and writes what ----------------------------------------------------------------


def test_funders_read_all_a_partner_its_own_and_no_one_else_anything(client, world) -> None:
    bb = world["backbone"]
    assert _create(client, bb, code="mine", owners=["p1"]).status_code == 201
    assert _create(client, bb, code="theirs", owners=["p2"], title="Hidden plan").status_code == 201

    def codes(role: str) -> list[str]:
        answer = client.get(LIST, headers=world[role])
        assert answer.status_code == 200, answer.text
        return [s["code"] for s in answer.json()["items"]]

    assert codes("backbone") == ["mine", "theirs"]
    assert codes("funder") == ["mine", "theirs"]
    assert codes("p1") == ["mine"]
    assert codes("p2") == ["theirs"]
    page = client.get(LIST, params={"limit": 1, "offset": 1}, headers=bb).json()
    assert (page["total"], [s["code"] for s in page["items"]]) == (2, ["theirs"])
    assert client.get(LIST, params={"indicator": "MEALS"}, headers=bb).json()["items"] == []

    assert client.get(f"{LIST}/mine", headers=world["p1"]).status_code == 200
    hidden = client.get(f"{LIST}/theirs", headers=world["p1"])
    assert hidden.status_code == 404 and "Hidden plan" not in hidden.text
    # Writing: the owner's partner may read but not write; the other is not told it exists.
    assert client.patch(f"{LIST}/mine", json={"title": "x"}, headers=world["p1"]).status_code == 403
    assert (
        client.patch(f"{LIST}/theirs", json={"title": "x"}, headers=world["p1"]).status_code == 404
    )
    assert client.delete(f"{LIST}/mine", headers=world["funder"]).status_code == 403
    assert _create(client, world["funder"], code="funded").status_code == 403
    assert _create(client, world["p1"], code="partnered").status_code == 403
    for path in (LIST, f"{LIST}/mine"):
        assert client.get(path, headers=world["other"]).status_code == 404
        assert client.get(path).status_code == 401
    assert _create(client, world["other"], code="foreign").status_code == 404


# --- markup, figures' version -----------------------------------------------------------------


def test_markup_in_a_description_is_shown_as_text_never_run(client, world) -> None:
    bb = world["backbone"]
    for number, attack in enumerate(ATTACKS):
        answer = _create(client, bb, code=f"attack-{number}", description=attack)
        assert answer.status_code == 201, answer.text
        html = answer.json()["html"]
        assert answer.json()["description"] == attack.strip()
        for tag, attrs in _parsed(html):
            assert tag in {"p", "a", "code", "pre", "em", "strong"}, (tag, html)
            assert not any(name.startswith("on") for name in attrs), html
        assert "<script" not in html and "<img" not in html and "<iframe" not in html
        assert "javascript:" not in "".join(str(a.get("href")) for _, a in _parsed(html))


def test_strategy_writes_move_no_figure_version(client, world) -> None:
    bb = world["backbone"]
    path = f"{P}/initiatives/tales/indicators/KIDS/series"
    etag = client.get(path, headers=bb).headers["ETag"]
    assert _create(client, bb).status_code == 201
    assert (
        client.post(f"{LIST}/reading/actions", json={"title": "a"}, headers=bb).status_code == 201
    )
    assert client.get(path, headers={**bb, "If-None-Match": etag}).status_code == 304


def test_chart_marks_fall_on_the_periods_they_overlap() -> None:
    from models.strategies.strategies import ActionView, StrategyView

    def strategy(code, starts_on, ends_on, actions=()) -> StrategyView:
        return StrategyView(
            code, code.title(), "", "", starts_on, ends_on, [], [], list(actions), START, START
        )

    periods = [
        ("2025Q1", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025Q2", date(2025, 4, 1), date(2025, 6, 30)),
        ("2025Q3", date(2025, 7, 1), date(2025, 9, 30)),
    ]
    done = ActionView(1, "Opened", "done", None, date(2025, 5, 2), "", 0)
    planned = ActionView(2, "Later", "planned", date(2025, 5, 2), None, "", 1)
    marks = chart_marks(
        [
            strategy("open", date(2025, 2, 15), None, [done, planned]),
            strategy("short", date(2025, 4, 1), date(2025, 4, 30)),
            strategy("before", date(2024, 1, 1), date(2024, 12, 31)),
            strategy("after", date(2026, 1, 1), None),
        ],
        periods,
    )
    assert [(m.code, m.first, m.last) for m in marks] == [
        ("open", "2025Q1", "2025Q3"),
        ("short", "2025Q2", "2025Q2"),
    ]
    assert [(d.period, d.title) for d in marks[0].done] == [("2025Q2", "Opened")]
