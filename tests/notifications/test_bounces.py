"""Bounces: a delivery status notification (RFC 3464) about a reminder that went out through a
real SMTP server is recorded against its outbox message, once, and the backbone reads it in the
period's history (API and reporting page); reports that are not bounces, not DSNs, or about
mail not ours record nothing; the CLI reads stdin; only an admin hands one in over the API."""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import default

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from models import AuditEvent, MailBounce, OutboxMessage
from models.core.db import get_engine, get_sessionmaker, session_scope
from models.core.errors import InvalidInput
from models.core.settings import get_settings
from models.notifications.bounces import record_bounce

from ..conftest import BACKENDS
from ..dash_calls import call, response_of, text_of
from ..factories import PASSWORD

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
DIAGNOSTIC = "smtp; 550 5.1.1 <e1@x.org>: Recipient address rejected: User unknown"
BOUNCES = "/api/v1/notifications/bounces"


def dsn(
    original: Message,
    recipient: str = "e1@x.org",
    *,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = DIAGNOSTIC,
    whole_message: bool = False,
) -> bytes:
    """A DSN as a relay writes one: multipart/report with a human part, the
    message/delivery-status fields and the original's headers (text/rfc822-headers), or the
    whole original (message/rfc822)."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@relay.x.org"
    report["To"] = "cm@x.org"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText(f"Your message to {recipient} could not be delivered.\n"))
    whole = Message()
    whole["Reporting-MTA"] = "dns; relay.x.org"
    whole["Arrival-Date"] = "Mon, 30 Nov 2026 21:00:00 +0000"
    one = Message()
    one["Final-Recipient"] = f"rfc822; {recipient}"
    one["Original-Recipient"] = f"rfc822;{recipient}"
    one["Action"] = action
    one["Status"] = status
    one["Remote-MTA"] = "dns; mx.x.org"
    one["Diagnostic-Code"] = diagnostic
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([whole, one])
    report.attach(status_part)
    if whole_message:
        report.attach(MIMEMessage(original))
    else:
        headers = "".join(f"{k}: {v}\n" for k, v in original.items())
        report.attach(MIMEText(headers, "rfc822-headers"))
    return report.as_bytes()


def _outbox_id(factory, address: str) -> int:
    with factory() as session:
        found = session.scalar(select(OutboxMessage.id).where(OutboxMessage.address == address))
    assert found is not None
    return found


def _key(client: TestClient, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _post(client: TestClient, raw: bytes, headers: dict[str, str]):
    return client.post(BOUNCES, content=raw, headers={**headers, "Content-Type": "message/rfc822"})


def test_a_bounced_reminder_is_recorded_once_and_the_backbone_sees_it(factory, sent) -> None:
    e1 = _outbox_id(factory, "e1@x.org")
    raw = dsn(sent["e1@x.org"])
    with TestClient(create_app(factory)) as client:
        admin = _key(client, "admin@x.org")
        first = _post(client, raw, admin)
        assert first.status_code == 200, first.text
        assert first.json() == {
            "outbox_id": e1,
            "message_id": sent["e1@x.org"]["Message-ID"],
            "recorded": 1,
            "bounced": ["e1@x.org"],
            "other": [],
        }
        again = _post(client, raw, admin)  # the MTA handing the same report in twice
        assert (again.status_code, again.json()["recorded"]) == (200, 0)

        history = client.get(
            "/api/v1/initiatives/c2c/periods/2025Q3/notifications", headers=_key(client, "bb@x.org")
        ).json()
        notices = {n["to"]: n for n in history["notices"]}
        assert notices["e1@x.org"]["status"] == "bounced"
        assert notices["e1@x.org"]["bounce_status"] == "5.1.1"
        assert "User unknown" in notices["e1@x.org"]["bounce_diagnostic"]
        assert notices["e1@x.org"]["sent_at"] is not None  # sent by our accounting
        assert (notices["e2@x.org"]["status"], notices["e2@x.org"]["bounce_status"]) == (
            "sent",
            None,
        )

        listed = client.get(BOUNCES, headers=admin).json()
        assert [(b["recipient"], b["status"], b["kind"]) for b in listed] == [
            ("e1@x.org", "5.1.1", "reminder")
        ]

        # The reporting page's "Reminders and messages", as the backbone's browser asks.
        login = client.post(
            "/auth/login",
            data={"email": "bb@x.org", "password": PASSWORD},
            follow_redirects=False,
        )
        assert login.status_code == 303
        answer = call(
            client,
            "..reporting-notices.rowData",
            [("reporting-initiative", "value", "c2c"), ("reporting-period", "value", "2025Q3")],
        )
        rows = {r["to"]: r for r in response_of(answer)["reporting-notices"]["rowData"]}
        assert rows["e1@x.org"]["status"] == "bounced"
        assert rows["e1@x.org"]["last_error"].startswith("bounced 5.1.1 smtp; 550 5.1.1")
        assert rows["e2@x.org"]["last_error"] == ""
        assert "1 bounced" in text_of(answer)

        # The admin's mailbox page lists it among the latest bounces.
        client.cookies.clear()
        client.post(
            "/auth/login",
            data={"email": "admin@x.org", "password": PASSWORD},
            follow_redirects=False,
        )
        page = response_of(
            call(client, "..mailbox-grid.rowData", [("mailbox-grid", "id", "mailbox-grid")])
        )
        assert [
            (r["recipient"], r["status"], r["kind"]) for r in page["mailbox-bounces"]["rowData"]
        ] == [("e1@x.org", "5.1.1", "reminder")]

    with factory() as session:
        [bounce] = session.scalars(select(MailBounce)).all()
        assert (bounce.outbox_id, bounce.recipient, bounce.action) == (e1, "e1@x.org", "failed")
        assert bounce.message_id == sent["e1@x.org"]["Message-ID"]
        events = session.execute(
            select(AuditEvent.entity_id, AuditEvent.after["status"].as_string()).where(
                AuditEvent.entity_type == "notification", AuditEvent.action == "bounce"
            )
        ).all()
        assert events == [(e1, "5.1.1")]
        # The outbox keeps its accounting: the message went out.
        assert session.get(OutboxMessage, e1).status == "sent"


def test_a_report_quoting_the_whole_message_names_it_too(factory, sent) -> None:
    with session_scope(factory) as session:
        report = record_bounce(session, dsn(sent["e2@x.org"], "e2@x.org", whole_message=True))
        assert report.outbox_id == _outbox_id(factory, "e2@x.org")
        assert [(b.recipient, b.status) for b in report.recorded] == [("e2@x.org", "5.1.1")]


def test_a_forwarded_address_still_finds_its_message(factory, sent) -> None:
    """The report names the address the mail was forwarded to, not ours: the Message-ID alone
    finds the message."""
    with session_scope(factory) as session:
        report = record_bounce(session, dsn(sent["w@x.org"], "old-w@elsewhere.org"))
        assert report.outbox_id == _outbox_id(factory, "w@x.org")
        assert [b.recipient for b in report.recorded] == ["old-w@elsewhere.org"]


def test_a_report_recorded_meanwhile_by_another_process_is_not_recorded_again(
    factory, sent, monkeypatch
) -> None:
    """The other process's row is not seen when looked for (it commits in between): the
    unique key refuses the second, and the report answers it as known, with no audit event."""
    raw = dsn(sent["e1@x.org"])
    with session_scope(factory) as session:
        assert len(record_bounce(session, raw).recorded) == 1
    with session_scope(factory) as session:
        looked_up = session.scalar
        monkeypatch.setattr(
            session,
            "scalar",
            lambda stmt, *a, **k: None if "mail_bounces" in str(stmt) else looked_up(stmt, *a, **k),
        )
        report = record_bounce(session, raw)
        assert (len(report.bounced), report.recorded) == (1, [])
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(MailBounce)) == 1
        bounces = select(func.count()).where(AuditEvent.action == "bounce")
        assert session.scalar(bounces) == 1


def test_a_delay_or_a_delivery_report_is_no_bounce(factory, sent) -> None:
    with session_scope(factory) as session:
        for action in ("delayed", "delivered", "relayed"):
            report = record_bounce(
                session, dsn(sent["w@x.org"], "w@x.org", action=action, status="4.4.7")
            )
            assert report.bounced == [] and report.other == [("w@x.org", action)]
            assert report.outbox_id == _outbox_id(factory, "w@x.org")
        assert session.scalar(select(func.count()).select_from(MailBounce)) == 0


def test_a_long_diagnostic_is_cut_and_another_status_is_another_bounce(factory, sent) -> None:
    long = "smtp; 552 " + "x" * 5000
    with session_scope(factory) as session:
        report = record_bounce(session, dsn(sent["e2@x.org"], "e2@x.org", diagnostic=long))
        [bounce] = report.recorded
        assert bounce.diagnostic is not None and len(bounce.diagnostic) == 1000
        later = record_bounce(session, dsn(sent["e2@x.org"], "e2@x.org", status="5.2.2"))
        assert [b.status for b in later.recorded] == ["5.2.2"]


def test_what_is_not_a_bounce_of_ours_is_refused(factory, sent) -> None:
    plain = EmailMessage(policy=default)
    plain["Subject"] = "Out of office"
    plain.set_content("I am away until Monday.")
    stranger = EmailMessage()
    stranger["Message-ID"] = "<0123456789abcdef0123456789abcdef@common-measure>"
    stranger["To"] = "e1@x.org"
    elsewhere = EmailMessage()
    elsewhere["Message-ID"] = "<abc@somewhere.example>"
    with TestClient(create_app(factory)) as client:
        admin = _key(client, "admin@x.org")
        for raw, reason in [
            (plain.as_bytes(), "not a delivery status notification"),
            (b"", "empty"),
            (dsn(stranger), "no message of ours"),
            (dsn(elsewhere), "no message of ours"),
            (b"x" * 1_000_002, "over 1,000,000 bytes"),
        ]:
            answer = _post(client, raw, admin)
            assert answer.status_code == 422, answer.text
            assert answer.json()["field"] == "message"
            assert reason in answer.text
        for who in ("bb@x.org", "e1@x.org"):
            refused = _post(client, dsn(sent["e1@x.org"]), _key(client, who))
            assert refused.status_code == 403
            assert client.get(BOUNCES, headers=_key(client, who)).status_code == 403
    with factory() as session:
        with pytest.raises(InvalidInput) as caught:
            record_bounce(session, dsn(stranger))
        assert caught.value.field == "message"
        assert session.scalar(select(func.count()).select_from(MailBounce)) == 0


def test_cm_notify_bounce_reads_the_message_on_stdin(
    fresh_database, factory, sent, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("CM_DATABASE_URL", fresh_database.url)
    monkeypatch.setenv("CM_VAR_DIR", str(tmp_path / "var"))
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    try:
        runner = CliRunner()
        raw = dsn(sent["e1@x.org"])
        result = runner.invoke(cli, ["notify", "bounce"], input=raw)
        assert result.exit_code == 0, result.output
        e1 = _outbox_id(factory, "e1@x.org")
        mid = sent["e1@x.org"]["Message-ID"]
        assert result.output.strip() == f"{mid} (outbox #{e1}): 1 bounce recorded"
        again = runner.invoke(cli, ["notify", "bounce"], input=raw)
        assert again.exit_code == 0
        assert again.output.strip() == f"{mid} (outbox #{e1}): 0 bounces recorded, 1 known already"
        delayed = runner.invoke(
            cli, ["notify", "bounce"], input=dsn(sent["w@x.org"], "w@x.org", action="delayed")
        )
        assert delayed.exit_code == 0
        assert "w@x.org delayed, not a bounce" in delayed.output
        refused = runner.invoke(cli, ["notify", "bounce"], input=b"Subject: hello\n\nhi\n")
        assert refused.exit_code == 65  # EX_DATAERR: the mail server gives it up
        assert "not a delivery status notification" in refused.output
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(MailBounce)) == 1
    finally:
        get_engine().dispose()
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()
