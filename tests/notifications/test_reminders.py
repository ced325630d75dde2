"""Reminders from the schedules and the clock: which partners are reminded on a fixed day, each
reminder once, the schedule edited by the backbone team, and `cm notify preview`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli
from models import OutboxMessage
from models.core.db import get_engine, get_sessionmaker, session_scope
from models.core.settings import get_settings
from models.notifications.reminders import (
    Schedule,
    current_offset,
    plan,
    schedule_reminders,
    set_schedule,
)

from ..conftest import BACKENDS
from . import world as w

DUE = w.DUE


def _plan(session, day: date) -> list[tuple[str, str, int]]:
    return [
        (p.email, p.organisation, p.offset)
        for p in plan(session=session, today=day)
        if p.kind == "reminder"
    ]


def test_the_latest_reminder_day_counts_for_three_days_and_until_the_next() -> None:
    offsets = [-14, -3, 1, 7]
    on = {n: current_offset(offsets, DUE, DUE + timedelta(days=n)) for n in range(-16, 12)}
    assert [n for n, o in on.items() if o == -14] == [-14, -13, -12, -11]
    assert [n for n, o in on.items() if o == -3] == [-3, -2, -1, 0]
    assert [n for n, o in on.items() if o == 1] == [1, 2, 3, 4]
    assert [n for n, o in on.items() if o == 7] == [7, 8, 9, 10]


def test_partners_that_have_not_submitted_are_reminded_once_per_day_of_the_schedule(
    session,
) -> None:
    w.build(session)
    w.submit(session, "westside")  # westside has submitted: never reminded
    assert _plan(session, DUE - timedelta(days=15)) == []
    fourteen = DUE - timedelta(days=14)
    assert _plan(session, fourteen) == [
        ("e1@x.org", "eastside", -14),
        ("e2@x.org", "eastside", -14),
    ]
    assert schedule_reminders(session=session, today=fourteen) == 2
    assert schedule_reminders(session=session, today=fourteen) == 0  # once per key
    assert schedule_reminders(session=session, today=fourteen + timedelta(days=1)) == 0
    assert _plan(session, fourteen + timedelta(days=1)) == []
    overdue = DUE + timedelta(days=1)
    assert schedule_reminders(session=session, today=overdue) == 2
    keys = list(session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)))
    assert [k.split(":")[3] for k in keys] == ["-14", "-14", "1", "1"]
    # eastside has still not submitted; westside, which has, stays quiet.
    assert {p[1] for p in _plan(session, DUE + timedelta(days=7))} == {"eastside"}


def test_the_backbone_team_edits_the_schedule(session) -> None:
    from models.access.permissions import actor_for_user
    from models.core.errors import InvalidInput, PermissionDenied

    world = w.build(session)
    assert set_schedule(
        session=session, actor=w.backbone(session), initiative_slug="c2c", offsets=[0, -5]
    ) == Schedule([-5, 0], 7)
    assert _plan(session, DUE - timedelta(days=14)) == []
    assert {p[2] for p in _plan(session, DUE - timedelta(days=5))} == {-5}
    funder = actor_for_user(session=session, user=world["funder"])
    with pytest.raises(PermissionDenied):
        set_schedule(session=session, actor=funder, initiative_slug="c2c", offsets=[1])
    with pytest.raises(InvalidInput):
        set_schedule(
            session=session, actor=w.backbone(session), initiative_slug="c2c", offsets=[1, 1]
        )


def test_schedule_and_preferences_through_the_api(client, session) -> None:
    w.build(session)
    session.commit()

    def login(email: str) -> dict[str, str]:
        from tests.factories import PASSWORD

        answer = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    bb, funder, e1 = login("bb@x.org"), login("funder@x.org"), login("e1@x.org")
    url = "/api/v1/initiatives/c2c/reminder-schedule"
    assert client.get(url, headers=funder).json() == {
        "offsets": [-14, -3, 1, 7],
        "escalate_after_days": 7,
    }
    assert client.put(url, json={"offsets": [-7, 2]}, headers=funder).status_code == 403
    bad = client.put(url, json={"offsets": [500]}, headers=bb)
    assert bad.status_code == 422
    assert client.put(url, json={"offsets": [2, -7]}, headers=bb).json() == {
        "offsets": [-7, 2],
        "escalate_after_days": 7,
    }
    never = {"offsets": [2], "escalate_after_days": None}
    assert client.put(url, json=never, headers=bb).json() == never
    assert client.get(url, headers=funder).json() == never
    for wrong in (0, 121, "7", 2.5):
        answer = client.put(url, json={"offsets": [], "escalate_after_days": wrong}, headers=bb)
        assert answer.status_code == 422, wrong
        assert answer.json()["field"] == "escalate_after_days"
    ten = {"offsets": [-7, 2], "escalate_after_days": 10}
    assert client.put(url, json=ten, headers=bb).json() == ten

    prefs = client.put(
        "/api/v1/notifications/preferences",
        json={"modes": {"reminder": "off"}},
        headers=e1,
    )
    assert prefs.status_code == 200
    assert {p["kind"]: p["mode"] for p in prefs.json()}["reminder"] == "off"
    assert [p[0] for p in _plan(session, DUE - timedelta(days=7))] == ["e2@x.org", "w@x.org"]
    assert client.get("/api/v1/notifications/mailbox", headers=bb).status_code == 403


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_cm_notify_preview_prints_the_days_reminders(fresh_database, tmp_path, monkeypatch):
    fresh_database.migrate()
    monkeypatch.setenv("CM_DATABASE_URL", fresh_database.url)
    monkeypatch.setenv("CM_VAR_DIR", str(tmp_path / "var"))
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    try:
        with session_scope() as session:
            w.build(session)
            w.submit(session, "westside")
        runner = CliRunner()
        day = (DUE - timedelta(days=3)).isoformat()
        result = runner.invoke(cli, ["notify", "preview", "--date", day])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"{day}: 2 reminders",
            "  e1@x.org  reminder c2c eastside 2025Q3: due in 3 days (due 2027-01-30)",
            "  e2@x.org  reminder c2c eastside 2025Q3: due in 3 days (due 2027-01-30)",
        ]
        quiet = runner.invoke(cli, ["notify", "preview", "--date", "2027-01-20"])
        assert quiet.output.strip() == "2027-01-20: no messages"
        # A week overdue: the reminder of the schedule's day 7 and the backbone's escalation.
        late = runner.invoke(cli, ["notify", "preview", "--date", "2027-02-06"])
        assert late.output.splitlines() == [
            "2027-02-06: 2 reminders, 1 escalation",
            "  e1@x.org  reminder c2c eastside 2025Q3: 7 days overdue (due 2027-01-30)",
            "  e2@x.org  reminder c2c eastside 2025Q3: 7 days overdue (due 2027-01-30)",
            "  bb@x.org  escalation c2c eastside 2025Q3: 7 days overdue (due 2027-01-30)",
        ]
        opening = runner.invoke(cli, ["notify", "preview", "--date", "2025-10-01"])
        assert opening.output.splitlines() == [
            "2025-10-01: 2 period openings",
            "  e1@x.org  period_opened c2c eastside 2025Q3: open for reports (due 2027-01-30)",
            "  e2@x.org  period_opened c2c eastside 2025Q3: open for reports (due 2027-01-30)",
        ]
        with session_scope() as session:  # a preview writes nothing
            assert session.scalar(select(OutboxMessage.id)) is None
    finally:
        get_engine().dispose()
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()


def _kinds(session, day: date) -> list[tuple[str, str, str, int | None, date]]:
    return [
        (p.kind, p.email, p.organisation, p.offset, p.due_on)
        for p in plan(session=session, today=day)
    ]


def test_overdue_reports_are_escalated_once_to_the_backbone_team_after_the_initiatives_days(
    session,
) -> None:
    w.build(session)
    w.submit(session, "westside")
    set_schedule(
        session=session,
        actor=w.backbone(session),
        initiative_slug="c2c",
        offsets=[],
        escalate_after_days=3,
    )
    assert _kinds(session, DUE + timedelta(days=2)) == []
    third = DUE + timedelta(days=3)
    assert _kinds(session, third) == [("escalation", "bb@x.org", "eastside", 3, DUE)]
    assert schedule_reminders(session=session, today=third) == 1
    message = session.scalars(select(OutboxMessage)).one()
    assert (message.kind, message.address, message.status) == ("escalation", "bb@x.org", "pending")
    event = f"escalation:{_member(session, 'eastside')}:{_period(session)}"
    assert message.idempotency_key == f"{event}:{message.recipient_user_id}:email"
    assert message.payload == {
        "initiative": "c2c",
        "initiative_name": "Cradle <to> Career",
        "organisation": "eastside",
        "organisation_name": "Eastside",
        "period": "2025Q3",
        "due_on": DUE.isoformat(),
        "days_overdue": 3,
        "extended": False,
    }
    # The backbone officer may take escalations in the daily digest instead.
    from models.outbox.preferences import set_preferences

    set_preferences(session=session, actor=w.backbone(session), modes={"escalation": "daily"})
    session.execute(OutboxMessage.__table__.delete())
    assert schedule_reminders(session=session, today=third) == 1
    assert session.scalars(select(OutboxMessage.status)).one() == "held"
    # Once per member and period, whatever day the worker asks again.
    for later in (third, third + timedelta(days=1), third + timedelta(days=20)):
        assert schedule_reminders(session=session, today=later) == 0
    # Never, for an initiative that asks for none.
    set_schedule(
        session=session,
        actor=w.backbone(session),
        initiative_slug="c2c",
        offsets=[],
        escalate_after_days=None,
    )
    session.execute(OutboxMessage.__table__.delete())
    assert _kinds(session, third + timedelta(days=10)) == []


def _member(session, org: str) -> int:
    from models import Member, Organisation

    return session.scalar(select(Member.id).join(Organisation).where(Organisation.slug == org))


def _period(session) -> int:
    from models import Period

    return session.scalar(select(Period.id).where(Period.key == "2025Q3"))


def test_a_member_with_an_extension_is_reminded_and_escalated_against_its_own_deadline(
    session,
) -> None:
    from models.reporting.deadlines import grant_extension

    w.build(session)
    until = date(2027, 3, 20)  # the period closes on 1 Mar 2027
    grant_extension(
        session=session,
        actor=w.backbone(session),
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
        until=until,
        reason="The data team was away",
        today=date(2027, 1, 1),
    )
    week_late = DUE + timedelta(days=7)
    # westside is a week overdue: reminded and escalated; eastside owes nothing before 20 Mar.
    assert _kinds(session, week_late) == [
        ("reminder", "w@x.org", "westside", 7, DUE),
        ("escalation", "bb@x.org", "westside", 7, DUE),
    ]
    assert schedule_reminders(session=session, today=week_late) == 2
    assert _kinds(session, date(2027, 3, 5)) == []  # closed to westside; eastside not due yet
    fortnight_before = until - timedelta(days=14)
    assert _kinds(session, fortnight_before) == [
        ("reminder", "e1@x.org", "eastside", -14, until),
        ("reminder", "e2@x.org", "eastside", -14, until),
    ]
    assert schedule_reminders(session=session, today=fortnight_before) == 2
    # The extension's day is the last eastside may write: no reminder after it, but a week
    # later the backbone team hears that the extended deadline passed without a report.
    assert _kinds(session, until + timedelta(days=6)) == []
    week_after = until + timedelta(days=7)
    assert _kinds(session, week_after) == [("escalation", "bb@x.org", "eastside", 7, until)]
    assert schedule_reminders(session=session, today=week_after) == 1
    escalation = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "escalation",
            OutboxMessage.payload["organisation"].as_string() == "eastside",
        )
    ).one()
    assert escalation.payload["due_on"] == until.isoformat()
    assert escalation.payload["extended"] is True
    assert _kinds(session, until + timedelta(days=8)) == []  # once


def test_reporters_hear_once_that_a_period_opens_for_reports(session) -> None:
    from models import Period

    w.build(session)
    opens = session.scalar(select(Period.opens_on).where(Period.key == "2025Q3"))
    assert _kinds(session, opens - timedelta(days=1)) == []
    expected = [
        ("period_opened", email, org, None, DUE)
        for email, org in (
            ("e1@x.org", "eastside"),
            ("e2@x.org", "eastside"),
            ("w@x.org", "westside"),
        )
    ]
    assert _kinds(session, opens) == expected
    assert schedule_reminders(session=session, today=opens) == 3
    assert schedule_reminders(session=session, today=opens + timedelta(days=1)) == 0
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {r.kind for r in rows} == {"period_opened"}
    assert rows[0].payload == {
        "initiative": "c2c",
        "initiative_name": "Cradle <to> Career",
        "organisation": "eastside",
        "organisation_name": "Eastside",
        "period": "2025Q3",
        "due_on": DUE.isoformat(),
    }
    # A worker that was down on the day tells within three days, and not later.
    session.execute(OutboxMessage.__table__.delete())
    assert len(_kinds(session, opens + timedelta(days=3))) == 3
    assert _kinds(session, opens + timedelta(days=4)) == []
