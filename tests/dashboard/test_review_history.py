"""The review page and a value's history over HTTP: every waiting report whatever its period,
the longest waiting first; a report's values grouped by indicator with their labels and what
changed since it was returned; moving through the queue; the history of each value, in the
review's dialog, on its own page and from an indicator's partner comparison (backbone)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import Indicator, Period, Value
from models.access.permissions import actor_for_user
from models.reporting.submissions import transition
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, log_in, render_page, response_of, text_of

EAST, WEST = "eastside|2025Q3", "westside|2025Q2"
WEST_SERVED = 4321  # a number no layout prints by chance


@pytest.fixture
def world(session, client):
    """Eastside's 2025Q3 report, returned and submitted again with SERVED corrected and a
    category removed; Westside's 2025Q2 report, older, still waiting."""
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built, ("backbone", "reporter", "other", "funder"))
    session.flush()
    rep = actor_for_user(session=session, user=users["reporter"])
    bb = actor_for_user(session=session, user=users["backbone"])
    f.save_report(
        session,
        rep,
        [
            ValueInput("K_READY", numerator=45, denominator=90),
            ValueInput("K_READY", "race=black", numerator=20, denominator=50),
            ValueInput("K_READY", "race=white", numerator=25, denominator=40),
            ValueInput("SERVED", value=120),
            ValueInput("SCORE", value=231.5, denominator=88),
        ],
    )
    f.move_report(session, rep, "submit")
    f.move_report(session, bb, "return", "SERVED looks low")
    f.save_report(
        session,
        rep,
        [ValueInput("SERVED", value=150), ValueInput("K_READY", "race=white", remove=True)],
        reason="recount",
    )
    f.move_report(session, rep, "submit")
    q2 = session.scalar(select(Period).where(Period.key == "2025Q2"))
    older = f.submission(session, built["west"], q2, "submitted")
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    f.reported_value(session, older, served, value=WEST_SERVED)
    session.commit()
    served_id = session.scalar(
        select(Value.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(
            Value.submission_id == _east_submission(session),
            Indicator.code == "SERVED",
            Value.disaggregation == "total",
        )
    )
    return {"users": users, "served": served_id}


def _east_submission(session) -> int:
    from models import Member, Organisation, Submission

    return session.scalar(
        select(Submission.id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Organisation.slug == "eastside", Period.key == "2025Q3")
    )


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _queue(client, period=None, shown=(), current=None, refresh=0):
    return call(
        client,
        "..review-queue.options",
        [
            ("review-initiative", "value", "c2c"),
            ("review-period", "value", period),
            ("review-refresh", "data", refresh),
        ],
        [("review-queue", "options", list(shown)), ("review-queue", "value", current)],
    )


def _detail(client, chosen, options):
    return call(
        client,
        "..review-detail.children",
        [("review-queue", "value", chosen), ("review-queue", "options", options)],
        [("review-initiative", "value", "c2c")],
    )


def _grid(answer) -> list[dict]:
    """The rowData of the values grid in the detail's answer."""

    def find(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "review-values":
                return node["props"]["rowData"]
            for value in node.values():
                found = find(value)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = find(value)
                if found is not None:
                    return found
        return None

    return find(response_of(answer)["review-detail"]["children"])


def _history(client, value_id, chosen=None):
    chosen = chosen or {"initiative": "c2c", "organisation": "eastside", "period": "2025Q3"}
    return call(
        client,
        "..review-history.is_open",
        [("review-values", "cellClicked", {"colId": "history", "value": value_id})],
        [("review-selected", "data", chosen)],
    )


def test_waiting_lists_every_period_the_longest_waiting_first(client, world) -> None:
    _as(client, world, "backbone")
    page = text_of(render_page(client, "/reporting/review", "?initiative=c2c"))
    assert "All periods" in page
    assert '"id":"review-period"' in page.replace(" ", "")
    picker = page.replace(" ", "").split('"id":"review-period"')[0].rsplit("{", 1)[-1]
    assert '"value":null' in picker  # no period chosen: every period
    out = response_of(_queue(client))
    assert [o["value"] for o in out["review-queue"]["options"]] == [WEST, EAST]
    assert out["review-queue"]["value"] == WEST  # the oldest is opened
    assert "2 reports waiting, oldest first" in json.dumps(out["review-queue-count"])
    narrowed = response_of(_queue(client, period="2025Q3"))
    assert [o["value"] for o in narrowed["review-queue"]["options"]] == [EAST]


def test_the_report_reads_by_indicator_with_labels_and_what_changed(client, world) -> None:
    _as(client, world, "backbone")
    options = response_of(_queue(client))["review-queue"]["options"]
    answer = _detail(client, EAST, options)
    out = response_of(answer)
    assert out["review-position"]["children"] == "2 of 2"
    assert (out["review-prev"]["disabled"], out["review-next"]["disabled"]) == (False, True)
    assert out["review-approve"]["disabled"] is False
    rows = _grid(answer)
    assert [r["id"] for r in rows] == [
        "K_READY|total",
        "K_READY|race=black",
        "K_READY|race=white",
        "SCORE|total",  # the initiative's order: position, then code
        "SERVED|total",
    ]
    by_id = {r["id"]: r for r in rows}
    assert by_id["K_READY|race=black"]["label"] == "Race: Black"  # a label, not race=black
    assert by_id["K_READY|total"]["label"].endswith("(K_READY)")
    assert by_id["SERVED|total"]["change"] == "was 120"
    assert by_id["SERVED|total"]["value"] == 150
    assert by_id["K_READY|race=white"]["change"] == "removed (was 62.5 (25 / 40))"
    assert by_id["K_READY|race=white"]["value"] is None
    assert by_id["SCORE|total"]["change"] == "" and by_id["K_READY|race=black"]["change"] == ""
    assert by_id["SERVED|total"]["history"] == world["served"]
    assert all(isinstance(r["history"], int) for r in rows)  # the removed one too
    text = text_of(answer)
    assert "Returned" in text and "SERVED looks low" in text
    assert "1 changed, 1 removed" in text


def test_a_value_history_opens_in_a_dialog(client, world) -> None:
    _as(client, world, "backbone")
    out = response_of(_history(client, world["served"]))
    assert out["review-history"]["is_open"] is True
    text = json.dumps(out["review-history-body"], ensure_ascii=False)
    assert "recount" in text and "150" in text and "120" in text
    assert world["users"]["reporter"].email in text
    assert "SERVED" in text and "2025Q3" in text
    assert f"value={world['served']}" in out["review-history-page"]["href"]
    # The removed category's history too: its row is gone, its trail is not.
    rows = _grid(_detail(client, EAST, response_of(_queue(client))["review-queue"]["options"]))
    removed = next(r for r in rows if r["id"] == "K_READY|race=white")
    text = text_of(_history(client, removed["history"]))
    assert "removed" in text and "25 / 40" in text


@pytest.mark.parametrize("role", [None, "other", "funder"])
def test_no_one_else_reads_the_queue_a_report_or_a_history(client, world, role) -> None:
    _as(client, world, role)
    queue = _queue(client)
    assert response_of(queue)["review-queue"]["options"] == []
    detail = _detail(client, WEST, [{"label": "x", "value": WEST}])
    assert str(WEST_SERVED) not in text_of(detail)
    history = _history(client, world["served"])
    assert "recount" not in text_of(history) and "cm-error" in text_of(history)


def test_next_and_previous_move_through_the_queue(client, world) -> None:
    _as(client, world, "backbone")
    options = response_of(_queue(client))["review-queue"]["options"]

    def move(button, current):
        return response_of(
            call(
                client,
                "review-queue.value",
                [
                    ("review-prev", "n_clicks", 1 if button == "review-prev" else None),
                    ("review-next", "n_clicks", 1 if button == "review-next" else None),
                ],
                [("review-queue", "options", options), ("review-queue", "value", current)],
                changed=[f"{button}.n_clicks"],
            )
        )["review-queue"]["value"]

    assert move("review-next", WEST) == EAST
    assert move("review-next", EAST) == EAST  # the last stays
    assert move("review-prev", EAST) == WEST
    assert move("review-prev", WEST) == WEST
    assert move("review-next", None) == WEST


def _decide(session, world, org, period):
    transition(
        session=session,
        actor=actor_for_user(session=session, user=world["users"]["backbone"]),
        initiative_slug="c2c",
        org_slug=org,
        period_key=period,
        action="approve",
    )
    session.commit()


def test_a_decision_opens_the_next_report_else_the_one_before(client, world, session) -> None:
    _as(client, world, "backbone")
    options = response_of(_queue(client))["review-queue"]["options"]
    # Still waiting: the report shown stays shown.
    same = response_of(_queue(client, shown=options, current=EAST, refresh=1))
    assert same["review-queue"]["value"] == EAST
    # Decided: the one after it opens.
    _decide(session, world, "westside", "2025Q2")
    after = response_of(_queue(client, shown=options, current=WEST, refresh=2))
    assert [o["value"] for o in after["review-queue"]["options"]] == [EAST]
    assert after["review-queue"]["value"] == EAST
    # The last decided: nothing is left, nothing is shown.
    _decide(session, world, "eastside", "2025Q3")
    empty = response_of(_queue(client, shown=after["review-queue"]["options"], current=EAST))
    assert empty["review-queue"]["options"] == [] and empty["review-queue"]["value"] is None


# --- the history page ---------------------------------------------------------------------------


def test_the_history_page_names_the_value_and_lists_its_changes(client, world) -> None:
    for role in ("backbone", "reporter"):
        _as(client, world, role)
        text = text_of(
            render_page(
                client, "/history", "?initiative=c2c&org=eastside&period=2025Q3&indicator=SERVED"
            )
        )
        assert "history-table" in text and "recount" in text, role
        assert text.count("cm-history-row") == 2  # reported, then changed
        by_id = text_of(
            render_page(
                client,
                "/history",
                f"?initiative=c2c&org=eastside&period=2025Q3&value={world['served']}",
            )
        )
        assert "recount" in by_id
    category = text_of(
        render_page(
            client,
            "/history",
            "?initiative=c2c&org=eastside&period=2025Q3&indicator=K_READY"
            "&disaggregation=race%3Dblack",
        )
    )
    assert "Race: Black" in category


@pytest.mark.parametrize(
    ("role", "search", "expected"),
    [
        ("other", "?initiative=c2c&org=eastside&period=2025Q3&indicator=SERVED", "cm-error"),
        ("funder", "?initiative=c2c&org=eastside&period=2025Q3&indicator=SERVED", "not-allowed"),
        ("backbone", "?initiative=c2c&org=eastside&period=2025Q3&value=abc", "whole number"),
        ("backbone", "?initiative=c2c", "names no report"),
        ("backbone", "?initiative=c2c&org=eastside&period=2025Q3", "no value"),
        ("backbone", "?initiative=c2c&org=eastside&period=2025Q3&indicator=NOPE", "cm-error"),
        ("backbone", "?initiative=c2c&org=westside&period=2025Q2&value=1", "cm-error"),
    ],
)
def test_the_history_page_says_what_is_wrong(client, world, role, search, expected) -> None:
    _as(client, world, role)
    text = text_of(render_page(client, "/history", search))
    assert expected in text
    assert "recount" not in text and "history-table" not in text


def test_the_indicator_page_links_each_partners_value_to_its_history(client, world, session):
    from models.access.permissions import actor_for_user as actor

    f.move_report(session, actor(session=session, user=world["users"]["backbone"]), "approve")
    session.commit()
    request = [
        ("indicator-initiative", "value", "c2c"),
        ("indicator-code", "value", "SERVED"),
        ("indicator-period", "value", "2025Q3"),
    ]
    _as(client, world, "backbone")
    text = text_of(call(client, "..indicator-partners.figure", request))
    assert "indicator-partner-history" in text
    assert "/history?initiative=c2c&org=eastside&period=2025Q3&indicator=SERVED" in text
    _as(client, world, "funder")
    assert "indicator-partner-history" not in text_of(
        call(client, "..indicator-partners.figure", request)
    )
