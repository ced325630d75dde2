"""Strategies in the dashboard: spans and action markers on the indicator's trend chart and in
its table, the overview's list, and the strategies page's doors (README: Strategies)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import data
from dashboard.components.forms import summarise_change
from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.strategies.strategies import add_action, create_strategy, list_strategies

from ..dash_calls import call, call_declared, render_page, response_of, text_of
from .test_analytics_pages import INIT, _as, world  # noqa: F401 - the fixture

DONE_ON = date(2025, 8, 14)  # within PERIOD (2025Q3)


@pytest.fixture
def planned(session, world):  # noqa: F811
    """Two strategies aimed at KIDS: p1's, with one action done and one planned, and p2's."""
    create_strategy(
        session=session,
        actor=SYSTEM,
        initiative=INIT,
        code="reading",
        title="Summer reading push",
        starts_on=date(2025, 7, 1),
        owners=["p1"],
        indicators=["KIDS"],
    )
    for title, status, done_on in (
        ("Library late nights", "done", DONE_ON),
        ("Book bus", "planned", None),
    ):
        add_action(
            session=session,
            actor=SYSTEM,
            initiative=INIT,
            code="reading",
            title=title,
            status=status,
            done_on=done_on,
        )
    create_strategy(
        session=session,
        actor=SYSTEM,
        initiative=INIT,
        code="meals",
        title="Breakfast club",
        starts_on=date(2025, 9, 1),
        ends_on=date(2025, 9, 30),
        owners=["p2"],
        indicators=["KIDS"],
    )
    session.commit()
    return world


def _trend(client):
    answer = call(
        client,
        "..indicator-trend.figure",
        [("indicator-initiative", "value", INIT), ("indicator-code", "value", "KIDS")],
    )
    return response_of(answer), text_of(answer)


def test_the_trend_chart_shades_each_strategy_and_marks_actions_done(client, planned) -> None:
    _as(client, planned, "backbone")
    response, text = _trend(client)
    figure = response["indicator-trend"]["figure"]
    spans = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert len(spans) == 2
    assert all(s["yref"] == "y domain" and s["layer"] == "below" for s in spans)
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert "Strategy: Summer reading push" in titles and "Strategy: Breakfast club" in titles
    [done] = [t for t in figure["data"] if t.get("name") == "Action done"]
    assert done["x"] == ["2025Q3"]
    assert done["text"] == ["Library late nights (14 Aug 2025), Summer reading push"]
    # The table under the chart says the same in words.
    assert "Summer reading push" in text and "Library late nights (14 Aug 2025)" in text
    assert "1 of 2 actions done" in text


def test_a_partner_sees_only_its_own_strategy_on_the_chart(client, planned) -> None:
    _as(client, planned, "reporter")  # p1's reporter
    response, text = _trend(client)
    spans = [s for s in response["indicator-trend"]["figure"]["layout"].get("shapes", [])]
    assert len([s for s in spans if s["type"] == "rect"]) == 1
    assert "Summer reading push" in text and "Breakfast club" not in text
    _as(client, planned, "funder")
    assert "Breakfast club" in _trend(client)[1]
    _as(client, planned, "outsider")
    assert "Summer reading push" not in _trend(client)[1]


def test_the_data_door_writes_for_the_backbone_only(session, planned) -> None:
    backbone = actor_for_user(session=session, user=planned["backbone"])
    with data.acting_as(backbone):
        made = data.save_strategy(
            INIT,
            None,
            {
                "code": "tutoring",
                "title": "Tutoring",
                "starts_on": "2025-10-01",
                "ends_on": "",
                "owners": ["p1"],
                "indicators": ["KIDS"],
            },
        )
        assert (made.starts_on, made.ends_on) == (date(2025, 10, 1), None)
        with pytest.raises(InvalidInput) as refused:
            data.save_strategy(INIT, "tutoring", {"ends_on": "2025-09-01"})
        assert refused.value.field == "ends_on"
        with pytest.raises(InvalidInput) as refused:
            data.save_strategy(INIT, "tutoring", {"starts_on": "not a date"})
        assert refused.value.field == "starts_on"
        action = data.save_action(INIT, "tutoring", None, {"title": "Hire tutors"})
        data.save_action(INIT, "tutoring", action.id, {"status": "done", "done_on": "2025-10-02"})
        assert [s.code for s in data.strategies(INIT, "KIDS")] == ["reading", "meals", "tutoring"]
        changes = data.setup_changes(INIT, (), "strategy", "tutoring")
        assert [(c["entity_type"], c["action"]) for c in changes] == [
            ("strategy_action", "update"),
            ("strategy_action", "create"),
            ("strategy", "create"),
        ]
        assert summarise_change(changes[0]) == (
            "tutoring · Hire tutors",
            "status: planned → done; done_on: — → 2025-10-02",
        )
        data.delete_action(INIT, "tutoring", action.id)
        data.delete_strategy(INIT, "tutoring")
    reporter = actor_for_user(session=session, user=planned["reporter"])
    with data.acting_as(reporter):
        assert [s.code for s in data.strategies(INIT)] == ["reading"]
        with pytest.raises(PermissionDenied):
            data.save_strategy(INIT, "reading", {"title": "Mine now"})
        with pytest.raises(NotFound):
            data.save_strategy(INIT, "meals", {"title": "Theirs now"})
    session.expire_all()
    assert [
        s.title for s in list_strategies(session=session, actor=SYSTEM, initiative=INIT).items
    ] == [
        "Summer reading push",
        "Breakfast club",
    ]


def _page_list(client, code=None):
    return call_declared(
        client,
        "..strategies-list.children",
        {"strategies-initiative.value": INIT, "strategies-code.value": code},
        "strategies-initiative.value",
    )


def test_the_strategies_page_shows_each_reader_what_it_may_read(client, planned) -> None:
    _as(client, planned, "backbone")
    assert "strategies-list" in text_of(render_page(client, "/strategies", f"?initiative={INIT}"))
    response = response_of(_page_list(client))
    assert response["strategies-editor"]["hidden"] is False
    text = text_of(_page_list(client))
    assert "Summer reading push" in text and "Breakfast club" in text
    assert "P1" in text and "P2" in text  # the owners, by organisation name
    assert [o["value"] for o in response["strategies-form-owners"]["options"]] == ["p1", "p2"]
    _as(client, planned, "reporter")  # p1's: its own strategy, read-only
    response = response_of(_page_list(client))
    assert response["strategies-editor"]["hidden"] is True
    assert [o["value"] for o in response["strategies-code"]["options"]] == ["reading"]
    assert "Breakfast club" not in text_of(_page_list(client))
    _as(client, planned, "outsider")
    assert "Summer reading push" not in text_of(_page_list(client))


def _save(client, **values):
    form = {
        "strategies-save.n_clicks": 1,
        "strategies-initiative.value": INIT,
        "strategies-form-starts.value": "2025-07-01",
        **values,
    }
    return call_declared(client, "..strategies-form-code.invalid", form, "strategies-save.n_clicks")


def test_the_backbone_saves_through_the_page_and_markup_stays_text(client, session, planned):
    _as(client, planned, "backbone")
    bad = response_of(
        _save(
            client,
            **{
                "strategies-form-code.value": "late",
                "strategies-form-title.value": "Late start",
                "strategies-form-ends.value": "2025-01-01",
            },
        )
    )
    assert bad["strategies-form-ends"]["invalid"] is True
    assert "start" in bad["strategies-form-ends-error"]["children"]
    attack = "<script>alert(1)</script> [x](javascript:alert(1)) **bold**"
    good = _save(
        client,
        **{
            "strategies-form-code.value": "safe",
            "strategies-form-title.value": "Safe",
            "strategies-form-description.value": attack,
            "strategies-form-owners.value": ["p2"],
            "strategies-form-indicators.value": ["KIDS"],
        },
    )
    assert response_of(good)["strategies-code"]["value"] == "safe"
    shown = text_of(_page_list(client, "safe"))
    assert "<script" not in shown and "href=" not in shown, "no tag, no link to run"
    assert "&lt;script&gt;" in shown and "<strong>bold</strong>" in shown
    _as(client, planned, "reporter")  # p1's reporter forges a save: refused, nothing written
    forged = _save(
        client,
        **{"strategies-form-code.value": "forged", "strategies-form-title.value": "Forged"},
    )
    assert "only the initiative's backbone staff" in text_of(forged)
    session.expire_all()
    codes = [s.code for s in list_strategies(session=session, actor=SYSTEM, initiative=INIT).items]
    assert codes == ["reading", "safe", "meals"]  # by start date


def test_the_overview_lists_the_strategies_under_the_indicators(client, planned) -> None:
    def overview() -> str:
        answer = call(
            client,
            "..overview-body.children",
            [
                ("overview-initiative", "value", INIT),
                ("overview-period", "value", None),
                ("overview-outcome", "value", None),
            ],
        )
        return text_of(answer)

    _as(client, planned, "funder")
    text = overview()
    assert "overview-strategies" in text
    assert "ov-strategy-reading" in text and "ov-strategy-meals" in text
    assert "1 / 2" in text and "P1" in text and "open-ended" in text
    _as(client, planned, "reporter")
    text = overview()
    assert "ov-strategy-reading" in text and "ov-strategy-meals" not in text


def test_actions_are_added_and_refused_through_the_page(client, session, planned) -> None:
    _as(client, planned, "backbone")

    def save(**values):
        form = {
            "strategies-action-save.n_clicks": 1,
            "strategies-initiative.value": INIT,
            "strategies-code.value": "reading",
            "strategies-action-status.value": "planned",
            **values,
        }
        return call_declared(
            client, "..strategies-action-title.invalid", form, "strategies-action-save.n_clicks"
        )

    future = save(
        **{
            "strategies-action-title.value": "Too soon",
            "strategies-action-status.value": "done",
            "strategies-action-done.value": "2999-01-01",
        }
    )
    assert response_of(future)["strategies-action-done"]["invalid"] is True
    added = response_of(save(**{"strategies-action-title.value": "Visit schools"}))
    labels = [o["label"] for o in added["strategies-action"]["options"]]
    assert labels[-1] == "Visit schools (planned)"
    session.expire_all()
    [reading] = [
        s
        for s in list_strategies(session=session, actor=SYSTEM, initiative=INIT).items
        if s.code == "reading"
    ]
    assert [a.title for a in reading.actions] == [
        "Library late nights",
        "Book bus",
        "Visit schools",
    ]
