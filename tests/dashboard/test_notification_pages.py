"""The notification pages over HTTP, as the browser calls them and as a forger would: the
admin's mailbox, each person's preferences, the period's messages and the reminder days on the
backbone's reporting page, and the portal's next deadline; each role gets what it may see."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from dashboard.components.mail import message_view
from models import OutboxMessage, Period
from models.notifications.reminders import schedule_reminders
from models.tables.notifications import MailboxMessage, NotificationPreference, ReminderSchedule

from ..dash_calls import call, log_in, render_page, response_of, text_of
from ..notifications import world as w

ERROR = "PermanentFailure: 550 no such mailbox here"
SECRET_SUBJECT = "Subject-for-the-admin-8e1f"
EMAILS = {
    "admin": "admin@x.org",
    "backbone": "bb@x.org",
    "reporter": "e1@x.org",
    "west": "w@x.org",
    "funder": "funder@x.org",
}


@pytest.fixture
def world(session):
    """The notification world, 2025Q3 due in 10 days; eastside's reporters reminded (e1's
    failed), a mail in the local mailbox."""
    built = w.build(session)
    today = date.today()
    session.execute(
        update(Period).values(
            opens_on=today - timedelta(days=20),
            due_on=today + timedelta(days=10),
            closes_on=today + timedelta(days=40),
        )
    )
    session.add(
        MailboxMessage(
            to_address="e2@x.org",
            subject=SECRET_SUBJECT,
            text_body="Hello <b>there</b>",
            html_body="<p>Hello</p><script>alert(1)</script>",
            headers={},
        )
    )
    w.submit(session, "westside")
    assert schedule_reminders(session=session, today=today - timedelta(days=4)) == 2  # -14
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.address == "e1@x.org")
        .values(status="failed", attempts=1, last_error=ERROR)
    )
    session.commit()
    return built


def _as(client, role: str | None) -> None:
    log_in(client, role and EMAILS[role])


# --- the mailbox --------------------------------------------------------------------------------


def _mailbox(client):
    return call(client, "..mailbox-grid.rowData", [("mailbox-grid", "id", "mailbox-grid")])


def test_the_admin_reads_the_mailbox_and_what_failed(client, world) -> None:
    _as(client, "admin")
    assert "mailbox-grid" in text_of(render_page(client, "/admin/mailbox"))
    out = response_of(_mailbox(client))
    [mail] = out["mailbox-grid"]["rowData"]
    assert (mail["to"], mail["subject"]) == ("e2@x.org", SECRET_SUBJECT)
    assert out["mailbox-count"]["children"] == "1 mail"
    by_status = {r["status"]: r for r in out["mailbox-outbox"]["rowData"]}
    assert by_status["failed"]["last_error"] == ERROR
    assert by_status["pending"]["to"] == "e2@x.org"


@pytest.mark.parametrize("role", ["backbone", "reporter", "funder"])
def test_others_are_not_allowed_in_the_mailbox(client, world, role) -> None:
    _as(client, role)
    page = text_of(render_page(client, "/admin/mailbox"))
    assert "mailbox-not-allowed" in page and "mailbox-grid" not in page
    forged = _mailbox(client)
    assert SECRET_SUBJECT not in text_of(forged) and ERROR not in text_of(forged)
    assert "cm-error" in text_of(forged)


def test_anonymous_is_sent_to_log_in(client, world) -> None:
    _as(client, None)
    for path in ("/admin/mailbox", "/preferences"):
        assert "cm-login-redirect" in text_of(render_page(client, path))
    assert SECRET_SUBJECT not in text_of(_mailbox(client))


def test_a_message_shows_its_text_as_text_and_its_html_in_a_sandbox() -> None:
    shown = message_view(
        {"subject": "S", "to": "a@b.org", "at": "now", "text": "<b>x</b>", "html": "<script>"}
    )
    frames = [c for c in _walk(shown) if type(c).__name__ == "Iframe"]
    [frame] = frames
    assert (frame.sandbox, frame.srcDoc) == ("", "<script>")  # no scripts, no same origin
    [pre] = [c for c in _walk(shown) if type(c).__name__ == "Pre"]
    assert pre.children == "<b>x</b>"  # a string child: React escapes it


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


# --- preferences --------------------------------------------------------------------------------


def test_everyone_saves_their_own_preferences(client, world, session) -> None:
    _as(client, "reporter")
    page = text_of(render_page(client, "/preferences"))
    assert "prefs-table" in page and "Reminders of a report due" in page
    saved = _pattern_save(client, {"reminder": "off", "report_returned": "daily"})
    assert "prefs-saved" in text_of(saved)
    session.expire_all()
    assert _prefs_of(session, "e1@x.org") == {"reminder": "off", "report_returned": "daily"}
    assert _prefs_of(session, "e2@x.org") == {}  # only one's own


def test_an_invitation_cannot_wait_for_the_digest(client, world) -> None:
    _as(client, "funder")
    refused = _pattern_save(client, {"invitation": "daily", "reminder": "off"})
    out = response_of(refused)
    errors = {
        json.loads(key)["kind"]: value["children"]
        for key, value in out.items()
        if "prefs-error" in key
    }
    assert "at once or not at all" in errors["invitation"]
    assert errors["reminder"] is None


def _prefs_of(session, email: str) -> dict[str, str]:
    from models import User

    user_id = session.scalar(select(User.id).where(User.email == email))
    return dict(
        session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )


def _pattern_save(client, modes: dict[str, str]):
    """The save callback as the browser posts it: the wildcard state expanded to each kind."""
    deps = client.get("/_dash-dependencies").json()
    [dep] = [d for d in deps if d["output"].startswith("..prefs-feedback.children")]
    ids = [{"kind": k, "type": "prefs-mode"} for k in modes]
    errors = [{"kind": k, "type": "prefs-error"} for k in modes]
    outputs = [
        {"id": "prefs-feedback", "property": "children"},
        [{"id": i, "property": "value"} for i in ids],
        [{"id": i, "property": "children"} for i in errors],
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": "prefs-save", "property": "n_clicks", "value": 1}],
        "state": [
            [
                {"id": i, "property": "value", "value": m}
                for i, m in zip(ids, modes.values(), strict=True)
            ],
            [{"id": i, "property": "id", "value": i} for i in ids],
        ],
        "changedPropIds": ["prefs-save.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def test_the_menu_links_the_new_pages_by_role(client, world) -> None:
    _as(client, "admin")
    layout = text_of(client.get("/_dash-layout"))
    assert "nav-mailbox" in layout and "nav-preferences" in layout
    for role in ("backbone", "reporter"):
        _as(client, role)
        layout = text_of(client.get("/_dash-layout"))
        assert "nav-mailbox" not in layout and "nav-preferences" in layout
    _as(client, None)
    assert "nav-preferences" not in text_of(client.get("/_dash-layout"))


# --- the period's messages and the reminder days (reporting page) ------------------------------


def _notices(client, period: str = "2025Q3"):
    return call(
        client,
        "..reporting-notices.rowData",
        [("reporting-initiative", "value", "c2c"), ("reporting-period", "value", period)],
    )


def test_the_backbone_sees_who_was_reminded_and_what_failed(client, world) -> None:
    _as(client, "backbone")
    out = response_of(_notices(client))
    rows = [
        (r["partner"], r["message"], r["to"], r["status"], r["last_error"])
        for r in out["reporting-notices"]["rowData"]
    ]
    assert rows == [
        ("Eastside", "reminder (14 days before)", "e1@x.org", "failed", ERROR),
        ("Eastside", "reminder (14 days before)", "e2@x.org", "pending", ""),
    ]
    summary = text_of(_notices(client))
    assert "2 messages about 2025Q3" in summary and "1 failed" in summary


@pytest.mark.parametrize("role", ["reporter", "west", "funder"])
def test_partners_and_funders_get_no_messages(client, world, role) -> None:
    _as(client, role)
    answer = _notices(client)
    assert response_of(answer)["reporting-notices"]["rowData"] == []
    assert "e1@x.org" not in text_of(answer) and ERROR not in text_of(answer)
    assert "reporting-not-allowed" in text_of(render_page(client, "/reporting"))


def _schedule(client, text: str | None, escalation: str | None = "7", *, save: bool = True):
    return call(
        client,
        "..reporting-schedule.value",
        [
            ("reporting-initiative", "value", "c2c"),
            ("reporting-schedule-save", "n_clicks", 1 if save else None),
        ],
        [("reporting-schedule", "value", text), ("reporting-escalation", "value", escalation)],
        changed=["reporting-schedule-save.n_clicks" if save else "reporting-initiative.value"],
    )


def test_the_backbone_edits_the_reminder_days_and_reads_why_not(client, world, session) -> None:
    _as(client, "backbone")
    loaded = response_of(_schedule(client, None, None, save=False))
    assert loaded["reporting-schedule"]["value"] == "-14, -3, 1, 7"
    assert loaded["reporting-escalation"]["value"] == "7"
    for text, escalation, field, why in [
        ("-7, soon", "7", "reporting-schedule", "Write whole days"),
        ("2, 2", "7", "reporting-schedule", "Each reminder day once"),
        ("-200", "7", "reporting-schedule", "within 120 days"),
        ("1", "a week", "reporting-escalation", "Write a whole number"),
        ("1", "0", "reporting-escalation", "1 to 120 days"),
    ]:
        out = response_of(_schedule(client, text, escalation))
        assert out[field]["invalid"] is True
        assert why in out[f"{field}-error"]["children"]
    saved = response_of(_schedule(client, "7 , -10,0", " 10 "))
    assert saved["reporting-schedule"]["value"] == "-10, 0, 7"
    assert saved["reporting-escalation"]["value"] == "10"
    said = text_of(_schedule(client, "7,-10,0", "10"))
    assert "10 days before, on the due date, 7 days after" in said
    assert "missing 10 days after its deadline" in said
    session.expire_all()
    stored = session.scalars(select(ReminderSchedule)).one()
    assert (stored.offsets, stored.escalate_after_days) == ([-10, 0, 7], 10)
    # Empty: never escalated, and kept so when the reminder days alone change.
    never = text_of(_schedule(client, "1", ""))
    assert "never escalated" in never
    reloaded = response_of(_schedule(client, None, None, save=False))
    assert reloaded["reporting-escalation"]["value"] == ""
    session.expire_all()
    assert session.scalars(select(ReminderSchedule.escalate_after_days)).one() is None


def test_a_partner_may_not_change_the_reminder_days(client, world, session) -> None:
    _as(client, "reporter")
    answer = text_of(_schedule(client, "1"))
    assert "Not allowed" in answer
    session.expire_all()
    assert session.scalars(select(ReminderSchedule.offsets)).all() == []


# --- the portal's next deadline ----------------------------------------------------------------


def _deadline(client, org: str):
    return call(
        client,
        "portal-next-deadline.children",
        [
            ("portal-initiative", "value", "c2c"),
            ("portal-org", "value", org),
            ("portal-version", "data", None),
        ],
    )


def test_the_portal_shows_the_next_deadline_and_the_days_left(client, world) -> None:
    _as(client, "reporter")
    text = text_of(_deadline(client, "eastside"))
    assert "Next deadline" in text and "2025Q3" in text and "10 days left" in text
    _as(client, "west")  # westside has submitted: nothing is owed
    assert "No report is due" in text_of(_deadline(client, "westside"))
    # Another partner's deadline is not shown to a reporter.
    assert "Next deadline" not in text_of(_deadline(client, "eastside"))
