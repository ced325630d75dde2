"""A hard bounce holds mail to its address (README, "Notifications": Bounces): the worker skips
every later mail to it, saying why, until an admin clears it (API and mailbox page, audited);
a soft bounce holds nothing, and nobody else's mail waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from models import AuditEvent, OutboxMessage
from models.core.db import session_scope
from models.notifications.bounces import record_bounce
from models.notifications.email import SmtpSender
from models.notifications.reminders import schedule_reminders
from models.notifications.worker import DeliveryWorker

from ..conftest import BACKENDS
from ..dash_calls import call, response_of, text_of
from ..factories import PASSWORD
from . import world as w
from .smtp import SmtpServer
from .test_bounces import BOUNCES, _key, _post, dsn

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
CLEAR = f"{BOUNCES}/clear"


def _remind_again(factory, days_before: int) -> dict:
    """The reminders of ``days_before`` the due date, through a local SMTP server: what the
    server received, by recipient, and what the outbox says of each reminder."""
    with session_scope(factory) as session:
        schedule_reminders(session=session, today=w.DUE - timedelta(days=days_before))
    server = SmtpServer().start()
    try:
        DeliveryWorker(factory, SmtpSender(server.url, "cm@x.org")).run_once(reminders=False)
    finally:
        server.stop()
    received = {m["To"] for m in server.inbox.messages}
    with factory() as session:
        latest = session.execute(
            select(OutboxMessage.address, OutboxMessage.status, OutboxMessage.last_error)
            .where(OutboxMessage.kind == "reminder")
            .order_by(OutboxMessage.id)
        ).all()
    outbox = {address: (status, error) for address, status, error in latest}
    return {"received": received, "outbox": outbox}


def test_a_hard_bounce_holds_mail_to_its_address_until_an_admin_clears_it(factory, sent) -> None:
    with TestClient(create_app(factory)) as client:
        admin = _key(client, "admin@x.org")
        assert _post(client, dsn(sent["e1@x.org"]), admin).status_code == 200

        week = _remind_again(factory, 3)
        assert "e1@x.org" not in week["received"] and "e2@x.org" in week["received"]
        status, why = week["outbox"]["e1@x.org"]
        assert status == "skipped"
        assert why.startswith("held: e1@x.org bounced on ") and "(5.1.1)" in why
        assert week["outbox"]["e2@x.org"] == ("sent", None)

        [listed] = client.get(BOUNCES, headers=admin).json()
        assert (listed["holds"], listed["cleared_at"]) == (True, None)

        # Only an admin clears it; the address is read as the bounce recorded it.
        backbone = _key(client, "bb@x.org")
        assert client.post(CLEAR, json={"address": "e1@x.org"}, headers=backbone).status_code == 403
        cleared = client.post(CLEAR, json={"address": " E1@x.org "}, headers=admin)
        assert cleared.status_code == 200, cleared.text
        assert cleared.json() == {"address": "e1@x.org", "cleared": 1}
        again = client.post(CLEAR, json={"address": "e1@x.org"}, headers=admin)
        assert again.status_code == 404 and "e1@x.org" in again.json()["detail"]
        bad = client.post(CLEAR, json={}, headers=admin)
        assert bad.status_code == 422 and "address" in bad.text

        [listed] = client.get(BOUNCES, headers=admin).json()
        assert listed["holds"] is False and listed["cleared_at"] is not None

    day = _remind_again(factory, -1)
    assert {"e1@x.org", "e2@x.org"} <= day["received"]
    assert day["outbox"]["e1@x.org"] == ("sent", None)
    with factory() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "bounce_cleared")
        ).all()
        assert event.before == {"to": "e1@x.org", "status": "5.1.1"}
        assert event.actor_label and event.initiative_id is not None


def test_a_soft_bounce_holds_nothing(factory, sent) -> None:
    with TestClient(create_app(factory)) as client:
        admin = _key(client, "admin@x.org")
        raw = dsn(sent["e1@x.org"], status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")
        assert _post(client, raw, admin).status_code == 200
        [listed] = client.get(BOUNCES, headers=admin).json()
        assert listed["holds"] is False
        assert client.post(CLEAR, json={"address": "e1@x.org"}, headers=admin).status_code == 404
    week = _remind_again(factory, 3)
    assert {"e1@x.org", "e2@x.org"} <= week["received"]


def test_the_mailbox_page_shows_what_is_held_and_clears_it(factory, sent) -> None:
    with TestClient(create_app(factory)) as client:
        assert _post(client, dsn(sent["e1@x.org"]), _key(client, "admin@x.org")).status_code == 200
        login = client.post(
            "/auth/login",
            data={"email": "admin@x.org", "password": PASSWORD},
            follow_redirects=False,
        )
        assert login.status_code == 303
        page = response_of(
            call(client, "..mailbox-grid.rowData", [("mailbox-grid", "id", "mailbox-grid")])
        )
        [row] = page["mailbox-bounces"]["rowData"]
        assert row["held"] == "held until cleared"
        assert page["mailbox-held"]["options"] == [{"label": "e1@x.org", "value": "e1@x.org"}]

        answer = call(
            client,
            "..mailbox-clear-feedback.children",
            [("mailbox-clear", "n_clicks", 1)],
            state=[("mailbox-held", "value", "e1@x.org")],
        )
        assert "Mail to e1@x.org goes out again (1 bounce cleared)" in text_of(answer)
        cleared = response_of(answer)
        assert cleared["mailbox-held"]["options"] == []
        assert cleared["mailbox-bounces"]["rowData"][0]["held"].startswith("cleared ")

        # A backbone officer's browser is refused by the domain, whatever it sends.
        client.cookies.clear()
        client.post(
            "/auth/login", data={"email": "bb@x.org", "password": PASSWORD}, follow_redirects=False
        )
        refused = call(
            client,
            "..mailbox-clear-feedback.children",
            [("mailbox-clear", "n_clicks", 1)],
            state=[("mailbox-held", "value", "e1@x.org")],
        )
        assert "admin" in text_of(refused)


def test_a_report_naming_another_address_holds_nothing(factory, sent) -> None:
    """Whoever received a mail of ours knows its Message-ID: a report on e1's reminder naming
    e2 is recorded, but holds only mail to the address that reminder went to."""
    forged = dsn(sent["e1@x.org"], recipient="e2@x.org")
    with session_scope(factory) as session:
        report = record_bounce(session, forged)  # as the mail server's pipe hands it in
    assert [b.recipient for b in report.recorded] == ["e2@x.org"]
    week = _remind_again(factory, 3)
    assert {"e1@x.org", "e2@x.org"} <= week["received"]
    with TestClient(create_app(factory)) as client:
        [listed] = client.get(BOUNCES, headers=_key(client, "admin@x.org")).json()
        assert (listed["recipient"], listed["holds"]) == ("e2@x.org", False)


def test_clear_answers_the_address_it_cleared(factory, sent) -> None:
    with TestClient(create_app(factory)) as client:
        admin = _key(client, "admin@x.org")
        assert _post(client, dsn(sent["e1@x.org"]), admin).status_code == 200
        cleared = client.post(CLEAR, json={"address": "rfc822; <E1@x.org>"}, headers=admin)
        assert cleared.status_code == 200, cleared.text
        assert cleared.json() == {"address": "e1@x.org", "cleared": 1}
