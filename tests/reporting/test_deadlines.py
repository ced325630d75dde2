"""Deadline extensions: one partner writes its report after the period closed, through the API
(save, import, submit), the one-step return with an extension, who may grant and read them,
validation naming the field, the lock that no extension opens, and the audit of each change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, DeadlineExtension, Indicator, Period, Submission
from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.core.dates import day
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.reporting import deadlines

from .. import factories as f

I = "/api/v1/initiatives/c2c"
EAST_Q2 = f"{I}/submissions/eastside/2025Q2"
EXTENSION = f"{I}/deadline-extensions/eastside/2025Q2"
TODAY = date.today()
SERVED = {"values": [{"indicator": "SERVED", "value": 120}]}


def _grant(client, headers, until=TODAY + timedelta(days=7), reason="school closure", url=None):
    return client.put(
        url or EXTENSION, json={"until": until.isoformat(), "reason": reason}, headers=headers
    )


def _events(session, action=None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.entity_type == "deadline_extension")
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.scalars(stmt.order_by(AuditEvent.id)))


def test_an_extension_lets_one_partner_save_and_submit_in_a_closed_period(
    client, world, session
) -> None:
    h = world["h"]
    refused = client.put(EAST_Q2, json=SERVED, headers=h["reporter"])
    assert refused.status_code == 409 and refused.json()["code"] == "period_closed"
    assert "extend your deadline" in refused.json()["detail"]

    until = TODAY + timedelta(days=7)
    granted = _grant(client, h["backbone"], until)
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert (body["organisation"], body["period"], body["until"]) == (
        "eastside",
        "2025Q2",
        until.isoformat(),
    )
    assert body["running"] is True and body["reason"] == "school closure"
    assert body["granted_by"] == world["users"]["backbone"].email
    assert body["closes_on"] == (TODAY - timedelta(days=1)).isoformat()

    saved = client.put(EAST_Q2, json=SERVED, headers=h["reporter"])
    assert saved.status_code == 200, saved.text
    submitted = client.post(f"{EAST_Q2}/submit", headers=h["reporter"])
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["is_late"] is True  # past its due date all the same

    # One partner's extension, not the period's: westside is still refused.
    west = client.put(f"{I}/submissions/westside/2025Q2", json=SERVED, headers=h["other"]).json()
    assert west["code"] == "period_closed"

    [event] = _events(session)
    assert (event.action, event.reason) == ("create", "school closure")
    assert event.after == {
        "organisation": "eastside",
        "period": "2025Q2",
        "until": until.isoformat(),
        "reason": "school closure",
    }


def test_an_extension_opens_the_import_of_that_partner_only(client, world) -> None:
    h = world["h"]
    csv = b"organisation,period,indicator,disaggregation,value\neastside,2025Q2,SERVED,total,7\n"

    def upload():
        return client.post(
            f"{I}/imports",
            files={"file": ("values.csv", csv, "text/csv")},
            headers=h["reporter"],
        )

    refused = upload()
    assert refused.status_code == 422
    assert "closed on" in refused.json()["errors"][0]["reason"]
    assert _grant(client, h["backbone"]).status_code == 200
    assert upload().status_code == 200


def test_an_ended_or_revoked_extension_closes_the_report_again(client, world, session) -> None:
    h = world["h"]
    assert _grant(client, h["backbone"]).status_code == 200
    extension = session.scalar(select(DeadlineExtension))
    extension.until = TODAY - timedelta(days=1)  # ran out yesterday
    session.commit()
    ended = client.put(EAST_Q2, json=SERVED, headers=h["reporter"]).json()
    assert ended["code"] == "period_closed"
    assert f"the extension ended on {day(extension.until)}" in ended["detail"]
    listed = client.get(f"{I}/deadline-extensions", headers=h["backbone"]).json()
    assert [item["running"] for item in listed["items"]] == [False]

    assert _grant(client, h["backbone"]).status_code == 200
    assert client.put(EAST_Q2, json=SERVED, headers=h["reporter"]).status_code == 200
    revoked = client.delete(EXTENSION, headers=h["backbone"])
    assert revoked.status_code == 200 and revoked.json()["organisation"] == "eastside"
    again = client.put(EAST_Q2, json=SERVED, headers=h["reporter"])
    assert again.json()["code"] == "period_closed"
    assert client.delete(EXTENSION, headers=h["backbone"]).status_code == 404
    assert client.get(EXTENSION, headers=h["backbone"]).status_code == 404
    assert [e.action for e in _events(session)] == ["create", "update", "delete"]


def test_granting_the_same_again_changes_nothing_and_moving_it_is_audited(
    client, world, session
) -> None:
    h = world["h"]
    first = _grant(client, h["backbone"]).json()
    again = _grant(client, h["backbone"]).json()
    assert again == first
    assert len(_events(session)) == 1
    later = TODAY + timedelta(days=20)
    moved = _grant(client, h["backbone"], later, reason="still closed").json()
    assert moved["until"] == later.isoformat()
    update = _events(session, "update")[0]
    assert update.before["until"] != update.after["until"]
    assert update.reason == "still closed"


@pytest.mark.parametrize(
    ("until", "reason", "field"),
    [
        (TODAY - timedelta(days=1), "why", "until"),  # the day the period closed: not after it
        (TODAY - timedelta(days=30), "why", "until"),
        (TODAY + timedelta(days=3), "", "reason"),
    ],
)
def test_a_bad_extension_answers_422_naming_the_field(client, world, until, reason, field) -> None:
    r = _grant(client, world["h"]["backbone"], until, reason)
    assert r.status_code == 422, r.text
    assert r.json()["field"].endswith(field)


def test_an_extension_must_not_end_in_the_past(world, session) -> None:
    """A period closed long ago: a day after its close but before today is refused."""
    period = f.period(
        session,
        world["init"],
        "2024Q4",
        opens_on=TODAY - timedelta(days=90),
        due_on=TODAY - timedelta(days=60),
        closes_on=TODAY - timedelta(days=30),
    )
    with pytest.raises(InvalidInput) as caught:
        deadlines.grant_extension(
            session=session,
            actor=SYSTEM,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key=period.key,
            until=TODAY - timedelta(days=5),
            reason="late transcripts",
        )
    assert caught.value.field == "until" and "or later" in caught.value.message
    with pytest.raises(InvalidInput) as blank:
        deadlines.grant_extension(
            session=session,
            actor=SYSTEM,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key=period.key,
            until=TODAY,
            reason="   ",
        )
    assert blank.value.field == "reason"


def test_a_locked_period_stays_locked(client, world, session) -> None:
    h = world["h"]
    assert _grant(client, h["backbone"]).status_code == 200
    session.scalar(select(Period).where(Period.key == "2025Q2")).locked = True
    session.commit()
    locked = client.put(EAST_Q2, json=SERVED, headers=h["reporter"]).json()
    assert locked["code"] == "period_locked"
    refused = _grant(client, h["backbone"], TODAY + timedelta(days=9))
    assert refused.status_code == 409 and refused.json()["field"] == "period"


def test_who_may_grant_and_read_extensions(client, world) -> None:
    h = world["h"]
    assert _grant(client, h["reporter"]).status_code == 403  # sees its report, may not extend
    for role in ("other", "funder", "outsider"):
        assert _grant(client, h[role]).status_code == 404, role
    assert _grant(client, {}).status_code == 401
    assert _grant(client, h["backbone"]).status_code == 200

    assert client.get(EXTENSION, headers=h["reporter"]).json()["until"]
    for role in ("other", "funder", "outsider"):
        assert client.get(EXTENSION, headers=h[role]).status_code == 404, role
    assert client.delete(EXTENSION, headers=h["reporter"]).status_code == 403

    listing = f"{I}/deadline-extensions"
    mine = client.get(listing, headers=h["reporter"]).json()
    assert [i["organisation"] for i in mine["items"]] == ["eastside"]
    assert client.get(listing, headers=h["other"]).json()["items"] == []
    assert client.get(listing, headers=h["funder"]).status_code == 403
    assert client.get(listing, headers=h["outsider"]).status_code == 404
    filtered = client.get(listing, params={"period": "2025Q3"}, headers=h["backbone"]).json()
    assert filtered == {"items": [], "total": 0, "limit": filtered["limit"], "offset": 0}


def _submitted_in_closed_period(session, world) -> Submission:
    """Eastside's report for the closed 2025Q2, submitted (version 1) with one value."""
    period = session.scalar(select(Period).where(Period.key == "2025Q2"))
    sub = f.submission(session, world["east"], period, "submitted")
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    f.reported_value(session, sub, served, value=100)
    session.commit()
    return sub


def test_return_with_extension_returns_and_extends_in_one_step(client, world, session) -> None:
    h = world["h"]
    sub = _submitted_in_closed_period(session, world)
    url = f"{EAST_Q2}/return-with-extension"
    until = TODAY + timedelta(days=10)
    body = {"comment": "Please recount SERVED", "until": until.isoformat()}

    assert client.post(url, json=body, headers=h["reporter"]).status_code == 403
    bad = client.post(
        url, json={**body, "until": (TODAY - timedelta(days=1)).isoformat()}, headers=h["backbone"]
    )
    assert bad.status_code == 422 and bad.json()["field"] == "until"
    session.expire_all()
    assert session.get(Submission, sub.id).status == "submitted"  # nothing happened

    done = client.post(url, json=body, headers={**h["backbone"], "If-Match": '"1"'})
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["submission"]["status"] == "returned"
    assert answer["submission"]["comment"] == "Please recount SERVED"
    assert answer["extension"]["until"] == until.isoformat()
    assert answer["extension"]["reason"] == "Please recount SERVED"
    assert done.headers["ETag"] == f'"{answer["submission"]["version"]}"'

    # The partner corrects and resubmits although the period has closed.
    fixed = client.put(
        EAST_Q2, json={"values": [{"indicator": "SERVED", "value": 90}]}, headers=h["reporter"]
    )
    assert fixed.status_code == 200, fixed.text
    assert client.post(f"{EAST_Q2}/submit", headers=h["reporter"]).status_code == 200

    # A second return needs the report submitted again; the stale version answers 412.
    stale = client.post(url, json=body, headers={**h["backbone"], "If-Match": '"1"'})
    assert stale.status_code == 412


def test_report_deadline_tells_whether_the_partner_may_write(world, session) -> None:
    backbone = world["users"]["backbone"]
    actor = actor_for_user(session=session, user=backbone)
    closed = deadlines.report_deadline(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q2",
    )
    assert (closed.partner_may_write, closed.extended_until) == (False, None)
    assert "closed on" in closed.partner_refusal
    open_ = deadlines.report_deadline(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
    )
    assert open_.partner_may_write and open_.partner_refusal is None
    until = TODAY + timedelta(days=4)
    deadlines.grant_extension(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q2",
        until=until,
        reason="flood",
    )
    extended = deadlines.report_deadline(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q2",
    )
    assert (extended.partner_may_write, extended.extended_until) == (True, until)
    reporter = actor_for_user(session=session, user=world["users"]["other"])
    with pytest.raises(PermissionDenied):
        deadlines.grant_extension(
            session=session,
            actor=actor_for_user(session=session, user=world["users"]["reporter"]),
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q2",
            until=until,
            reason="flood",
        )
    with pytest.raises(NotFound):
        deadlines.report_deadline(
            session=session,
            actor=reporter,
            initiative_slug="c2c",
            org_slug="eastside",
            period_key="2025Q2",
        )
