"""Delivery with real parts: a local SMTP server receives the messages and their links work;
the SMTP server down (messages wait, then go); a worker killed between claiming and marking
(the lease runs out, another worker delivers, nothing is marked twice); two workers on
PostgreSQL sharing the outbox (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import logging
import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models import AuditEvent, MailboxMessage, OutboxMessage, User
from models.access.invitations import invite_user
from models.access.permissions import actor_for_user
from models.core.db import session_scope
from models.notifications.claims import BATCH, Tick, claim
from models.notifications.email import MailboxSender, SmtpSender
from models.notifications.worker import DeliveryWorker, deliver
from models.outbox.messages import enqueue
from models.tables.base import utcnow

from ..conftest import BACKENDS
from ..factories import PASSWORD
from . import world as w
from .smtp import SmtpServer

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
LINK = re.compile(r"https?://\S+")
REMINDER = {
    "initiative": "c2c",
    "initiative_name": "Cradle",
    "organisation": "eastside",
    "organisation_name": "Eastside",
    "period": "2025Q3",
    "due_on": "2027-01-30",
    "offset": -14,
}


@pytest.fixture
def factory(fresh_database) -> sessionmaker[Session]:
    fresh_database.migrate()
    return sessionmaker(fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _returned(factory) -> None:
    """eastside's report submitted and returned with a comment: two messages in the outbox."""
    with session_scope(factory) as session:
        world = w.build(session)
        w.submit(session, "eastside")
    with session_scope(factory) as session:
        w.decide(session, world, "eastside", "return", "Recount the <b>autumn</b> intake")


def _statuses(factory) -> dict[str, int]:
    with factory() as session:
        return dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_messages_reach_a_real_smtp_server_and_their_links_work(factory, smtp) -> None:
    from api.app import create_app

    _returned(factory)
    worker = DeliveryWorker(factory, SmtpSender(smtp.url, "Common Measure <cm@x.org>"))
    tick = worker.run_once(reminders=False)
    assert (tick.sent, tick.retrying, tick.failed) == (2, 0, 0)
    assert _statuses(factory) == {"sent": 2}
    assert sorted(to for _, [to] in smtp.inbox.envelopes) == ["e1@x.org", "e2@x.org"]
    mail = next(m for m in smtp.inbox.messages if m["To"] == "e1@x.org")
    assert mail["Subject"] == "Eastside: your 2025Q3 report was returned with a comment"
    text_part = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert "Recount the <b>autumn</b> intake" in text_part  # plain text as written
    assert "Recount the &lt;b&gt;autumn&lt;/b&gt; intake" in html_part  # HTML escaped
    assert "Cradle &lt;to&gt; Career" in html_part
    links = LINK.findall(text_part)
    portal, unsubscribe = links[0], links[-1]
    assert unsubscribe in html_part.replace("&amp;", "&")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert _path(portal) == "/portal?initiative=c2c&org=eastside&period=2025Q3"

    with factory() as session:  # each message sent is in the audit trail, once
        events = session.execute(
            select(AuditEvent.action, AuditEvent.after["to"].as_string()).where(
                AuditEvent.entity_type == "notification"
            )
        ).all()
    assert sorted(events) == [("sent", "e1@x.org"), ("sent", "e2@x.org")]

    # A second round finds nothing to do: each message went once.
    assert worker.run_once(reminders=False).claimed == 0
    assert len(smtp.inbox.messages) == 2

    with TestClient(create_app(factory)) as client, _client_unlogged():
        assert client.get(_path(portal)).status_code == 200
        page = client.get(_path(unsubscribe))  # no login
        assert page.status_code == 200 and "Unsubscribe" in page.text
        done = client.post(_path(unsubscribe))
        assert done.status_code == 200, done.text
        assert done.json()["kind"] == "report_returned"
        broken = client.post(_path(unsubscribe)[:-3] + "abc")
        assert broken.status_code == 422 and broken.json()["field"] == "token"

    # e1 turned returns off: the next return reaches e2 only.
    with session_scope(factory) as session:
        w.submit(session, "eastside")
        w.decide(session, None, "eastside", "return", "Once more")
    worker.run_once(reminders=False)
    assert [m["To"] for m in smtp.inbox.messages[2:]] == ["e2@x.org"]


def test_an_invitation_mails_a_link_that_works(factory, smtp) -> None:
    from api.app import create_app

    with session_scope(factory) as session:
        world = w.build(session)
        invite_user(
            session=session,
            actor=actor_for_user(session=session, user=world["admin"]),
            email="new@x.org",
            role="funder",
            initiative_slug="c2c",
            base_url="http://testserver/",
        )
    DeliveryWorker(factory, SmtpSender(smtp.url, "cm@x.org")).run_once(reminders=False)
    [mail] = smtp.inbox.messages
    link = LINK.findall(mail.get_body(("plain",)).get_content())[0]
    token = link.split("token=", 1)[1]
    with TestClient(create_app(factory)) as client:
        accepted = client.post(
            "/api/v1/auth/invitations/accept",
            json={"token": token, "password": "a-new-password-2027"},
        )
        assert accepted.status_code == 200, accepted.text


def test_with_the_smtp_server_down_messages_wait_and_go_when_it_returns(factory) -> None:
    _returned(factory)
    server = SmtpServer()  # its port, nobody listening yet
    worker = DeliveryWorker(factory, SmtpSender(server.url, "cm@x.org", timeout=5))
    start = utcnow()
    tick = worker.run_once(start, reminders=False)
    assert (tick.sent, tick.retrying) == (0, 2)
    with factory() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.available_at >= start + timedelta(seconds=30) for r in rows)
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in rows)

    assert worker.run_once(start + timedelta(seconds=10), reminders=False).claimed == 0
    server.start()
    try:
        tick = worker.run_once(start + timedelta(seconds=31), reminders=False)
    finally:
        server.stop()
    assert tick.sent == 2
    assert sorted(m["To"] for m in server.inbox.messages) == ["e1@x.org", "e2@x.org"]
    assert _statuses(factory) == {"sent": 2}


def test_after_the_most_attempts_a_message_is_failed_and_kept(factory, monkeypatch) -> None:
    from models.core.settings import get_settings

    monkeypatch.setenv("CM_NOTIFY_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    try:
        _returned(factory)
        worker = DeliveryWorker(factory, SmtpSender(SmtpServer().url, "cm@x.org", timeout=5))
        start = utcnow()
        worker.run_once(start, reminders=False)
        tick = worker.run_once(start + timedelta(minutes=5), reminders=False)
        assert tick.failed == 2
        assert _statuses(factory) == {"failed": 2}
        with factory() as session:
            failed = session.scalars(
                select(AuditEvent.reason).where(AuditEvent.action == "failed")
            ).all()
        assert len(failed) == 2 and all("ConnectionRefusedError" in r for r in failed)
        assert worker.run_once(start + timedelta(days=1), reminders=False).claimed == 0
    finally:
        get_settings.cache_clear()


def _reminders(factory, count: int) -> None:
    with session_scope(factory) as session:
        world = w.build(session)
        for n in range(count):
            enqueue(
                session=session,
                kind="reminder",
                event=f"test:{n}",
                recipients=[world["east1"]],
                payload=REMINDER,
            )


def test_a_batch_goes_out_over_one_smtp_connection(factory, smtp) -> None:
    _reminders(factory, BATCH + 5)
    tick = DeliveryWorker(factory, SmtpSender(smtp.url, "cm@x.org")).run_once(reminders=False)
    assert (tick.claimed, tick.sent, tick.retrying) == (BATCH + 5, BATCH + 5, 0)
    assert len(smtp.inbox.messages) == BATCH + 5
    assert smtp.inbox.connections == 2  # a full batch, then the five left


def test_a_connection_dropped_mid_batch_is_opened_again(factory, smtp) -> None:
    _reminders(factory, 5)
    smtp.inbox.drop_after = 2  # the server hangs up after every second message
    tick = DeliveryWorker(factory, SmtpSender(smtp.url, "cm@x.org")).run_once(reminders=False)
    assert (tick.sent, tick.retrying, tick.failed) == (5, 0, 0)
    ids = sorted(m["Message-ID"] for m in smtp.inbox.messages)
    assert len(ids) == len(set(ids)) == 5  # each once
    assert smtp.inbox.connections == 3
    assert _statuses(factory) == {"sent": 5}


def test_a_worker_killed_mid_batch_loses_nothing_and_marks_nothing_twice(factory) -> None:
    with session_scope(factory) as session:
        world = w.build(session)
        for n in range(3):
            enqueue(
                session=session,
                kind="reminder",
                event=f"test:{n}",
                recipients=[world["east1"]],
                payload=REMINDER,
            )
    sender = MailboxSender()
    start = utcnow()
    lease = timedelta(seconds=300)
    # The first worker claims two messages and dies before sending or marking either.
    dead = claim(factory, now=start, limit=2, lease=lease)
    assert len(dead) == 2
    # A second worker, within the lease, takes only the third.
    other = DeliveryWorker(factory, sender)
    assert other.run_once(start + timedelta(seconds=10), reminders=False).sent == 1
    assert _statuses(factory) == {"sending": 2, "sent": 1}
    # Once the lease has run out, the two are claimed afresh and delivered.
    tick = other.run_once(start + lease + timedelta(seconds=1), reminders=False)
    assert tick.sent == 2
    # The first worker comes back and tries to finish its old claim: it marks nothing.
    late = Tick()
    for message in dead:
        deliver(factory, sender, message, now=start + lease, tick=late)
    assert (late.sent, late.lost) == (0, 2)
    with factory() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        mailbox = list(session.scalars(select(MailboxMessage.outbox_id)))
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2), ("sent", 2), ("sent", 1)]
    assert sorted(mailbox) == [r.id for r in rows]  # each message delivered exactly once
    with factory() as session:
        sent = session.scalars(
            select(AuditEvent.entity_id).where(AuditEvent.entity_type == "notification")
        ).all()
    assert sorted(sent) == [r.id for r in rows]  # and audited once


def test_two_workers_share_the_outbox_without_taking_the_same_message(
    factory, fresh_database
) -> None:
    if fresh_database.backend != "postgresql":
        pytest.skip("several workers share the outbox on PostgreSQL; SQLite has one writer")
    with session_scope(factory) as session:
        w.build(session)
        users = [
            User(email=f"p{n}@x.org", password_hash="!", name=None, is_active=True)
            for n in range(20)
        ]
        session.add_all(users)
        session.flush()
        for n in range(10):
            enqueue(
                session=session,
                kind="reminder",
                event=f"load:{n}",
                recipients=users,
                payload=REMINDER,
            )
    ids = sorted(_ids(factory))
    assert len(ids) == 200

    # A claim held open elsewhere is skipped, not waited for.
    with factory() as holder:
        locked = (
            holder.execute(
                text("SELECT id FROM outbox_messages ORDER BY available_at, id LIMIT 20 FOR UPDATE")
            )
            .scalars()
            .all()
        )
        began = time.monotonic()
        taken = claim(factory, now=utcnow(), limit=20)
        assert time.monotonic() - began < 2
        assert len(taken) == 20 and not set(locked) & {m.id for m in taken}
        holder.rollback()
    with session_scope(factory) as session:  # put them back
        session.execute(
            text(
                "UPDATE outbox_messages SET status = 'pending', claim_token = NULL, "
                "lease_until = NULL, attempts = 0"
            )
        )

    class Recording:
        def __init__(self) -> None:
            self.sent: list[int] = []
            self.lock = threading.Lock()

        def send(self, session, outbox_id, mail) -> None:
            time.sleep(0.002)
            with self.lock:
                self.sent.append(outbox_id)

    sender = Recording()
    ticks: list[Tick] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        ticks.append(DeliveryWorker(factory, sender).run_once(reminders=False))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(sender.sent) == ids  # every message sent, none twice
    assert sum(t.sent for t in ticks) == 200 and all(t.sent > 0 for t in ticks)
    assert _statuses(factory) == {"sent": 200}


@contextmanager
def _client_unlogged():
    """The test client (httpx) logs every URL it requests, signed links included; the app logs
    routes, never queries, and the suite checks that nothing it logged holds a token."""
    client_log = logging.getLogger("httpx")
    level = client_log.level
    client_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        client_log.setLevel(level)


def _ids(factory) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage.id)))


def test_the_app_runs_the_worker_while_it_serves(factory) -> None:
    """``cm serve`` (CM_WORKER=app): the app's lifespan runs the worker in a thread; without
    CM_SMTP_URL the mail lands in the local mailbox, which the admin reads through the API."""
    from api.app import create_app

    _returned(factory)
    app = create_app(factory, run_worker=True)
    with TestClient(app) as client:
        deadline = time.monotonic() + 20
        while _statuses(factory) != {"sent": 2} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _statuses(factory) == {"sent": 2}
        token = client.post(
            "/api/v1/auth/token", data={"username": "admin@x.org", "password": PASSWORD}
        ).json()["access_token"]
        mailbox = client.get(
            "/api/v1/notifications/mailbox", headers={"Authorization": f"Bearer {token}"}
        )
        assert mailbox.status_code == 200
        assert sorted(m["to"] for m in mailbox.json()["items"]) == ["e1@x.org", "e2@x.org"]
        assert "Recount the &lt;b&gt;autumn&lt;/b&gt; intake" in mailbox.json()["items"][0]["html"]
    assert not any(t.name == "cm-delivery-worker" for t in threading.enumerate())


def test_kinds_chosen_daily_arrive_in_one_digest_the_next_day(factory, smtp) -> None:
    from models.outbox.preferences import set_preferences

    with session_scope(factory) as session:
        world = w.build(session)
        e1 = actor_for_user(session=session, user=world["east1"])
        set_preferences(
            session=session,
            actor=e1,
            modes={"report_returned": "daily", "report_approved": "daily"},
        )
        w.submit(session, "eastside")
        w.decide(session, world, "eastside", "return", "Recount it")
        w.submit(session, "eastside")
        w.decide(session, world, "eastside", "approve")
    worker = DeliveryWorker(factory, SmtpSender(smtp.url, "cm@x.org"))
    today = utcnow()
    tick = worker.run_once(today, reminders=False)
    assert (tick.sent, tick.digests) == (2, 0)  # e2's two, at once; e1's are held
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["e2@x.org", "e2@x.org"]
    assert _statuses(factory) == {"sent": 2, "held": 2}

    tomorrow = today + timedelta(days=1)
    tick = worker.run_once(tomorrow, reminders=False)
    assert (tick.digests, tick.sent) == (1, 1)
    assert worker.run_once(tomorrow + timedelta(hours=1), reminders=False).digests == 0
    [digest] = [m for m in smtp.inbox.messages if m["To"] == "e1@x.org"]
    assert digest["Subject"].startswith("Common Measure daily digest, ")
    assert digest["Subject"].endswith(": 2 messages")
    body = digest.get_body(("plain",)).get_content()
    assert "Eastside: your 2025Q3 report was returned with a comment" in body
    assert "Eastside: your 2025Q3 report was approved" in body
    assert _statuses(factory) == {"sent": 3, "bundled": 2}

    # The digest's own link turns off what e1 chose to receive daily.
    unsubscribe = LINK.findall(body)[-1]
    with TestClient(create_app(factory)) as client, _client_unlogged():
        assert client.post(_path(unsubscribe)).json()["kind"] == "digest"
    with factory() as session:
        from models.outbox.preferences import preferences

        chosen = {p.kind: p.mode for p in preferences(session=session, actor=e1)}
    assert chosen["report_returned"] == chosen["report_approved"] == "off"
    assert chosen["reminder"] == "immediate"


class _SlowBatch(MailboxSender):
    """A sender whose first message takes the whole lease (the test's clock moves on); it
    notes each claim's lease as its message goes out."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.leases: list = []

    def send(self, session, outbox_id, mail) -> None:
        self.leases.append(session.get(OutboxMessage, outbox_id).lease_until)
        super().send(session, outbox_id, mail)
        if len(self.leases) == 1:
            self.clock[0] += 300  # the lease (CM_NOTIFY_LEASE_SECONDS) has gone by


@pytest.mark.parametrize("take_over", [False, True])
def test_a_long_batch_renews_each_claim_and_leaves_one_taken_over(
    factory, monkeypatch, take_over
) -> None:
    """Twenty slow webhooks in a batch outlast its lease: each later message's claim is renewed
    just before it goes, and one another worker took meanwhile is theirs, not sent twice."""
    from models.notifications import worker as worker_module

    with session_scope(factory) as session:
        world = w.build(session)
        for n in range(2):
            enqueue(
                session=session,
                kind="reminder",
                event=f"slow:{n}",
                recipients=[world["east1"]],
                payload=REMINDER,
            )
    clock = [1000.0]
    monkeypatch.setattr(worker_module, "_clock", lambda: clock[0])
    renew = worker_module.renew

    def another_worker_first(session_factory, message, **kw):
        """Meanwhile, another worker saw the lease gone and claimed the message."""
        if take_over:
            with session_scope(session_factory) as other:
                other.execute(
                    text(
                        "UPDATE outbox_messages SET claim_token = 'another worker', "
                        "lease_until = :until WHERE id = :id"
                    ),
                    {"until": utcnow() + timedelta(seconds=300), "id": message.id},
                )
        return renew(session_factory, message, **kw)

    monkeypatch.setattr(worker_module, "renew", another_worker_first)
    sender = _SlowBatch(clock)
    tick = DeliveryWorker(factory, sender).run_once(reminders=False)
    with factory() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    if take_over:
        assert (tick.sent, tick.overtaken, len(sender.leases)) == (1, 1, 1)
        assert [(r.status, r.claim_token) for r in rows] == [
            ("sent", None),
            ("sending", "another worker"),
        ]
    else:
        assert (tick.sent, tick.overtaken) == (2, 0)
        first, second = sender.leases
        assert second > first  # renewed just before it was sent
        assert [r.status for r in rows] == ["sent", "sent"]
