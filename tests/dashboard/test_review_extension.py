"""Returning a report whose partner may no longer write, over HTTP: the review page offers the
return with an extension in the same step (its day beside the button, a week from today by
default) while a plain return stays refused and says why; the day's refusal lands beside its
field; a stale version or another role changes nothing. Afterwards the partner writes again
and its portal says until when, the reporting page lists the extension, and the portal opens
on that period once no other is open."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from dashboard import data
from models import AuditEvent, DeadlineExtension, Indicator, Period, Submission
from models.access.permissions import actor_for_user
from models.core.dates import day
from models.reporting import deadlines

from .. import factories as f
from ..dash_calls import call, find, log_in, render_page, response_of

TODAY = date.today()
WEEK = TODAY + timedelta(days=7)
WEST, EAST = "westside|2025Q2", "eastside|2025Q3"
WEST_SERVED = 4321


@pytest.fixture
def world(session, client):
    """Two-partner world (2025Q3 open, 2025Q2 closed yesterday): Westside's 2025Q2 report and
    Eastside's 2025Q3 report wait for review."""
    built = f.two_partner_world(session)
    init = built["init"]
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    periods = {p.key: p for p in session.scalars(select(Period))}
    west = f.submission(session, built["west"], periods["2025Q2"], "submitted")
    f.reported_value(session, west, served, value=WEST_SERVED)
    east = f.submission(session, built["east"], periods["2025Q3"], "submitted")
    f.reported_value(session, east, served, value=7)
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "west": f.user(session, "reporter", org=built["west"].organisation),
        "east": f.user(session, "reporter", org=built["east"].organisation),
        "funder": f.user(session, "funder", init=init),
    }
    session.commit()
    return {**built, "users": users, "west_sub": west.id, "east_sub": east.id}


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _find(node, ident: str):
    """The props of the component with id ``ident`` in a callback's answer, or None."""
    found = find(node, ident)
    return found and found["props"]


def _text(node) -> str:
    return json.dumps(node, ensure_ascii=False)


def _detail(client, chosen: str) -> dict:
    return response_of(
        call(
            client,
            "..review-detail.children",
            [
                ("review-queue", "value", chosen),
                ("review-queue", "options", [{"label": chosen, "value": chosen}]),
            ],
            [("review-initiative", "value", "c2c")],
        )
    )


def _decide(client, chosen: dict | None, comment, until, action="review-return") -> dict:
    return response_of(
        call(
            client,
            "..review-feedback.children...review-refresh",
            [
                ("review-approve", "n_clicks", 1 if action == "review-approve" else None),
                ("review-return", "n_clicks", 1 if action == "review-return" else None),
            ],
            [
                ("review-selected", "data", chosen),
                ("review-comment", "value", comment),
                ("review-refresh", "data", 0),
                ("review-until", "date", until),
            ],
            changed=[f"{action}.n_clicks"],
        )
    )


def _west(extend=True, version=1) -> dict:
    return {
        "initiative": "c2c",
        "organisation": "westside",
        "name": "Westside",
        "period": "2025Q2",
        "version": version,
        "extend": extend,
    }


def _untouched(session, world) -> None:
    """The closed report still waits, and no extension was granted."""
    session.expire_all()
    assert session.get(Submission, world["west_sub"]).status == "submitted"
    assert session.scalar(select(DeadlineExtension)) is None


def test_a_report_its_partner_may_still_write_is_returned_plainly(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _detail(client, EAST)
    assert out["review-extension"]["hidden"] is True  # no extension field
    assert out["review-return"]["children"] == "Return with comment"
    assert out["review-return"]["disabled"] is False
    assert out["review-until"]["date"] is None
    assert _find(out["review-detail"], "review-cannot-return") is None
    chosen = out["review-selected"]["data"]
    assert chosen["extend"] is False
    done = _decide(client, chosen, "Recount please", WEEK.isoformat())  # the day is ignored
    assert _find(done["review-feedback"], "review-done") is not None
    assert "may correct it until" not in _text(done["review-feedback"])
    session.expire_all()
    assert session.get(Submission, world["east_sub"]).status == "returned"
    assert session.scalar(select(DeadlineExtension)) is None


def test_a_closed_report_offers_the_return_with_an_extension(client, world) -> None:
    _as(client, world, "backbone")
    out = _detail(client, WEST)
    assert out["review-extension"]["hidden"] is False
    assert out["review-until"]["date"] == WEEK.isoformat()  # a week from today
    assert out["review-return"]["children"] == "Return with an extension"
    assert out["review-return"]["disabled"] is False
    assert out["review-approve"]["disabled"] is False
    assert out["review-selected"]["data"]["extend"] is True
    why = _text(_find(out["review-detail"], "review-cannot-return"))
    assert "A plain return is refused" in why
    assert "closed on" in why and "extend the partner's deadline" in why
    assert "Return with an extension instead" in why


def test_returning_with_an_extension_lets_the_partner_write_again(client, world, session) -> None:
    _as(client, world, "backbone")
    chosen = _detail(client, WEST)["review-selected"]["data"]
    until = TODAY + timedelta(days=10)
    done = _decide(client, chosen, "Please recount SERVED", until.isoformat())
    message = _text(done["review-feedback"])
    assert "review-done" in message and "returned" in message
    assert f"may correct it until {day(until)}" in message
    assert done["review-refresh"]["data"] == 1  # the queue is read again
    assert done["review-comment"]["value"] == ""
    assert not done["review-until-error"]["children"]
    session.expire_all()
    sub = session.get(Submission, world["west_sub"])
    assert (sub.status, sub.comment) == ("returned", "Please recount SERVED")
    extension = session.scalar(select(DeadlineExtension))
    assert (extension.until, extension.reason) == (until, "Please recount SERVED")
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "deadline_extension")
    ).all()
    assert actions == ["create"]  # audited with its reason

    # The partner's portal: editable again, and it says until when.
    _as(client, world, "west")
    grid = response_of(
        call(
            client,
            "..portal-grid.rowData",
            [
                ("portal-initiative", "value", "c2c"),
                ("portal-org", "value", "westside"),
                ("portal-period", "value", "2025Q2"),
                ("portal-save", "n_clicks", None),
                ("portal-submit", "n_clicks", None),
            ],
            [("portal-grid", "rowData", []), ("portal-version", "data", None)],
            changed=["portal-period.value"],
        )
    )
    assert grid["portal-save"]["disabled"] is False
    assert any(row["edit_value"] for row in grid["portal-grid"]["rowData"])
    note = _text(_find(grid["portal-status"], "portal-extension-note"))
    assert f"You may still write 2025Q2 until {day(until)}" in note
    assert "extension granted by the backbone team" in note

    # The reporting page shows it next to Westside's status, and lists it with its reason.
    _as(client, world, "backbone")
    view = response_of(
        call(
            client,
            "..reporting-heatmap.figure",
            [("reporting-initiative", "value", "c2c"), ("reporting-period", "value", "2025Q2")],
        )
    )
    lists = view["reporting-lists"]["children"]
    badge = _find(lists, "reporting-extended-westside")
    assert badge is not None and badge["children"] == f"extended to {day(until)}"
    listed = _text(_find(lists, "reporting-extensions"))
    name = world["west"].organisation.name
    assert name in listed and "Please recount SERVED" in listed and day(until) in listed
    assert world["users"]["backbone"].email in listed


@pytest.mark.parametrize(
    ("until", "words"),
    [
        (
            (TODAY - timedelta(days=1)).isoformat(),
            f"after the period closes ({day(TODAY - timedelta(days=1))})",
        ),
        ("soon", "must be a date"),
        (None, "must be a date"),
    ],
)
def test_the_day_is_refused_beside_its_field(client, world, session, until, words) -> None:
    _as(client, world, "backbone")
    out = _decide(client, _west(), "Please recount", until)
    assert words.lower() in out["review-until-error"]["children"].lower()
    assert out["review-feedback"]["children"] is None  # not beside the buttons
    assert "review-refresh" not in out  # the report stays as it is
    _untouched(session, world)


def test_a_return_with_an_extension_needs_a_comment(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _decide(client, _west(), "  ", WEEK.isoformat())
    assert "a comment is required to return a submission" in _text(out["review-feedback"])
    assert not out["review-until-error"]["children"]
    _untouched(session, world)


def test_a_stale_version_changes_nothing(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _decide(client, _west(version=7), "Please recount", WEEK.isoformat())
    assert "cm-error" in _text(out["review-feedback"])
    assert "review-refresh" not in out
    _untouched(session, world)


@pytest.mark.parametrize("role", [None, "west", "east", "funder"])
def test_no_one_else_returns_with_an_extension(client, world, session, role) -> None:
    _as(client, world, role)
    out = _decide(client, _west(), "Please recount", WEEK.isoformat())
    assert "cm-error" in _text(out["review-feedback"])
    _untouched(session, world)


def test_a_plain_return_in_a_closed_period_is_refused_and_points_to_the_extension(
    client, world, session
) -> None:
    """A page opened before the period closed still offers the plain return: the domain
    refuses it, the message says why and where the extension is, and the report is read
    again (so its Return step offers the extension)."""
    _as(client, world, "backbone")
    out = _decide(client, _west(extend=False), "Please recount", None)
    said = _text(out["review-feedback"])
    assert "extend the partner's deadline" in said and "Return with an extension" in said
    assert out["review-refresh"]["data"] == 1
    _untouched(session, world)


def test_the_portal_opens_the_period_the_partner_may_write(client, world, session) -> None:
    """With no period open, a partner whose deadline is extended lands on that period; the
    other partner on the latest that opened, as before."""
    session.execute(
        update(Period)
        .where(Period.key == "2025Q3")
        .values(due_on=TODAY - timedelta(days=5), closes_on=TODAY - timedelta(days=2))
    )
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    deadlines.grant_extension(
        session=session,
        actor=backbone,
        initiative_slug="c2c",
        org_slug="westside",
        period_key="2025Q2",
        until=WEEK,
        reason="flooded office",
    )
    session.commit()
    for role, period in (("west", "2025Q2"), ("east", "2025Q3")):
        _as(client, world, role)
        page = response_of(render_page(client, "/portal", "?initiative=c2c"))
        assert _find(page, "portal-period")["value"] == period, role
        # Named in the address, the period asked for wins.
        named = response_of(render_page(client, "/portal", "?initiative=c2c&period=2025Q3"))
        assert _find(named, "portal-period")["value"] == "2025Q3"
    with data.acting_as(backbone):
        assert data.reporting_period("c2c", "westside") == "2025Q2"
        assert data.reporting_period("c2c", "eastside") is None
