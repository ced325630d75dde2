"""Webhooks with real parts: a local HTTP receiver checks every delivery's signature as the
README tells a receiver to; approvals and publications reach it once each after their commit and
never after a rollback; a slow receiver times out and gets the event again, while the API keeps
answering; a receiver that is down gets it when it is back; a new secret signs from the moment
it is made; the delivery log and the audit trail tell what happened."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models import AuditEvent, OutboxMessage
from models.core.db import session_scope
from models.notifications.webhooks import WebhookPoster
from models.notifications.worker import DeliveryWorker
from models.publishing.publish import publish
from models.tables.base import utcnow

from .. import factories as f
from ..conftest import BACKENDS
from ..factories import PASSWORD
from . import world as w
from .receiver import Receiver, signature_ok
from .smtp import free_port

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
HOOKS = "/api/v1/initiatives/c2c/webhooks"


@pytest.fixture
def factory(fresh_database) -> sessionmaker[Session]:
    fresh_database.migrate()
    return sessionmaker(fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def api(factory) -> Iterator[TestClient]:
    """The app, without its own worker thread: each test runs the worker as it needs."""
    with TestClient(create_app(factory, with_dashboard=False)) as client:
        yield client


def _login(api: TestClient, email: str) -> dict[str, str]:
    answer = api.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _world(factory) -> None:
    with session_scope(factory) as session:
        w.build(session)


def _hook(api: TestClient, url: str, **fields) -> dict:
    """A webhook registered by the backbone officer through the API; with its secret."""
    answer = api.post(HOOKS, json={"url": url, **fields}, headers=_login(api, "bb@x.org"))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _approve(factory) -> None:
    with session_scope(factory) as session:
        w.submit(session, "eastside")
        w.decide(session, None, "eastside", "approve")


def _worker(factory, timeout: float = 5.0) -> DeliveryWorker:
    return DeliveryWorker(factory, poster=WebhookPoster(timeout=timeout), poll_seconds=0.05)


def _webhook_rows(factory) -> list[OutboxMessage]:
    with factory() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "webhook")
                .order_by(OutboxMessage.id)
            )
        )


@pytest.fixture
def public_url(monkeypatch) -> Iterator[str]:
    """The site's address as people reach it (``CM_PUBLIC_URL``), for the links."""
    from models.core.settings import get_settings

    monkeypatch.setenv("CM_PUBLIC_URL", "https://cm.example.org")
    get_settings.cache_clear()
    yield "https://cm.example.org"
    get_settings.cache_clear()


def test_approve_and_publish_reach_the_receiver_once_each_after_commit(
    factory, api, receiver, public_url
) -> None:
    _world(factory)
    hook = _hook(api, receiver.url, description="the city's dashboard")
    receiver.secret = hook["secret"]
    worker = _worker(factory)

    # An approval whose transaction rolls back leaves nothing to send.
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        w.submit(session, "eastside")
        w.decide(session, None, "eastside", "approve")
        assert len(_webhook_rows_in(session)) == 1  # written with the change…
        raise RuntimeError("the request fails after the decision")
    assert _webhook_rows(factory) == []  # …and gone with it
    assert worker.run_once(reminders=False).claimed == 0
    assert receiver.received == []

    _approve(factory)
    tick = worker.run_once(reminders=False)
    assert (tick.sent, tick.failed) == (3, 0)  # the reporters' two mails, and the webhook
    [approved] = receiver.received
    assert approved.valid, approved.headers
    assert approved.headers["x-cm-event"] == "report_approved"
    assert approved.headers["x-cm-event-id"] == approved.document["id"]
    document = approved.document
    assert document["event"] == "report_approved"
    data = document["data"]
    assert {k: data[k] for k in ("initiative", "organisation", "period")} == {
        "initiative": "c2c",
        "organisation": "eastside",
        "period": "2025Q3",
    }
    # Which report, never what it says: no values, no comment, no reviewer.
    assert set(data) == {
        "initiative",
        "initiative_name",
        "organisation",
        "organisation_name",
        "period",
        "submission",
        "version",
        "occurred_at",
    }
    assert document["links"] == {
        "initiative": f"{public_url}/api/v1/initiatives/c2c",
        "report": f"{public_url}/api/v1/initiatives/c2c/submissions/eastside/2025Q3",
    }
    assert worker.run_once(reminders=False).claimed == 0
    assert len(receiver.received) == 1

    with session_scope(factory) as session:
        publish(
            session=session,
            actor=w.backbone(session),
            initiative_slug="c2c",
            period_key="2025Q3",
            confirm_incomplete=True,
        )
    worker.run_once(reminders=False)
    worker.run_once(reminders=False)
    assert len(receiver.received) == 2
    published = receiver.received[1]
    assert published.valid
    document = published.document
    assert document["event"] == "period_published"
    assert document["data"]["vintage"] == 1 and document["data"]["period"] == "2025Q3"
    assert document["links"]["summary"] == f"{public_url}/api/v1/public/initiatives/c2c/summary"
    assert set(document["links"]) == {
        "initiative",
        "publications",
        "summary",
        "datapackage",
        "page",
    }
    assert "coverage" not in document["data"] and "indicators" not in published.body.decode()

    # Each delivery is in the audit trail once, as a sent mail is.
    with factory() as session:
        sent = session.execute(
            select(AuditEvent.action, AuditEvent.after["kind"].as_string()).where(
                AuditEvent.entity_type == "notification",
                AuditEvent.after["channel"].as_string() == "webhook",
            )
        ).all()
    assert sorted(sent) == [("sent", "period_published"), ("sent", "report_approved")]

    # The backbone reads the delivery log; the list never shows the secret.
    bb = _login(api, "bb@x.org")
    listed = api.get(HOOKS, headers=bb)
    assert listed.status_code == 200 and hook["secret"] not in listed.text
    log = api.get(f"{HOOKS}/{hook['id']}/deliveries", headers=bb).json()
    assert log["total"] == 2
    assert [(d["event"], d["status_code"], d["outcome"]) for d in log["items"]] == [
        ("period_published", 200, "delivered"),
        ("report_approved", 200, "delivered"),
    ]
    assert all(d["duration_ms"] >= 0 and d["at"] for d in log["items"])


def _webhook_rows_in(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")))


def _transactions_of(thread_name: str, engine: Engine) -> set[int]:
    """The connections on which a thread of this name has a transaction open, kept up to date
    from the engine's events for as long as the test runs."""
    open_now: set[int] = set()

    def began(conn) -> None:
        if threading.current_thread().name == thread_name:
            open_now.add(id(conn))

    def ended(conn) -> None:
        open_now.discard(id(conn))

    event.listen(engine, "begin", began)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    return open_now


def test_a_slow_receiver_times_out_and_is_tried_again_while_the_api_answers(
    factory, fresh_database, api, receiver
) -> None:
    _world(factory)
    hook = _hook(api, receiver.url, events=["report_approved"])
    receiver.secret = hook["secret"]
    receiver.delay = 6.0
    _approve(factory)
    bb = _login(api, "bb@x.org")

    worker = _worker(factory, timeout=2.0)
    open_in_worker = _transactions_of("cm-delivery-worker", fresh_database.engine)
    worker.start()
    try:
        assert receiver.arrived.wait(10), "the worker did not post"
        assert not open_in_worker, "the worker holds a transaction while the receiver answers"
        # While the worker waits for the receiver, requests, writes included, are answered
        # (no transaction is held open meanwhile: on SQLite a held write would block them).
        read = api.get(HOOKS, headers=bb)
        write = api.patch(f"{HOOKS}/{hook['id']}", json={"description": "slow"}, headers=bb)
        assert read.status_code == 200 and write.status_code == 200, write.text
        assert _webhook_rows(factory)[0].last_error is None, "answered only after the timeout"
        deadline = time.monotonic() + 10
        while not _webhook_rows(factory)[0].last_error and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    [row] = _webhook_rows(factory)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "timeout after 2 s"

    receiver.delay = 0
    tick = _worker(factory).run_once(utcnow() + timedelta(seconds=31), reminders=False)
    assert tick.sent >= 1
    assert len(receiver.received) == 2 and all(r.valid for r in receiver.received)
    # The same event, twice: a receiver keeps the first and drops the repeat by its id.
    assert len({r.headers["x-cm-event-id"] for r in receiver.received}) == 1
    log = api.get(f"{HOOKS}/{hook['id']}/deliveries", headers=bb).json()["items"]
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (2, 200, "delivered"),
        (1, None, "retrying"),
    ]
    assert log[1]["error"] == "timeout after 2 s" and log[1]["duration_ms"] >= 2000


def test_a_receiver_that_is_down_gets_the_event_when_it_is_back(factory, api) -> None:
    _world(factory)
    down = Receiver(port=free_port())  # its port; nobody listens yet
    hook = _hook(api, down.url)
    down.secret = hook["secret"]
    _approve(factory)
    worker = _worker(factory)
    start = utcnow()
    assert worker.run_once(start, reminders=False).retrying == 1
    [row] = _webhook_rows(factory)
    assert row.status == "pending" and row.available_at >= start + timedelta(seconds=30)
    assert "ConnectError" in (row.last_error or "")
    assert worker.run_once(start + timedelta(seconds=10), reminders=False).claimed == 0
    down.start()
    try:
        assert worker.run_once(start + timedelta(seconds=31), reminders=False).sent >= 1
    finally:
        down.stop()
    [received] = down.received
    assert received.valid and received.document["event"] == "report_approved"
    assert [r.status for r in _webhook_rows(factory)] == ["sent"]


def test_a_refusal_fails_at_once_and_a_busy_receiver_is_tried_again(factory, api, receiver) -> None:
    _world(factory)
    hook = _hook(api, receiver.url)
    receiver.secret = hook["secret"]
    receiver.status = 429  # busy: worth another try
    _approve(factory)
    worker = _worker(factory)
    start = utcnow()
    assert worker.run_once(start, reminders=False).retrying == 1
    receiver.status = 410  # gone: retrying cannot help
    tick = worker.run_once(start + timedelta(seconds=31), reminders=False)
    assert tick.failed == 1
    [row] = _webhook_rows(factory)
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "HTTP 410")
    assert worker.run_once(start + timedelta(days=1), reminders=False).claimed == 0
    with factory() as session:
        [reason] = session.scalars(
            select(AuditEvent.reason).where(
                AuditEvent.entity_type == "notification", AuditEvent.action == "failed"
            )
        ).all()
    assert reason == "HTTP 410"
    log = api.get(f"{HOOKS}/{hook['id']}/deliveries", headers=_login(api, "bb@x.org")).json()
    assert [(d["status_code"], d["outcome"]) for d in log["items"]] == [
        (410, "failed"),
        (429, "retrying"),
    ]


def test_rotating_the_secret_changes_the_signature(factory, api, receiver) -> None:
    _world(factory)
    hook = _hook(api, receiver.url)
    old = receiver.secret = hook["secret"]
    _approve(factory)
    worker = _worker(factory)
    worker.run_once(reminders=False)
    bb = _login(api, "bb@x.org")
    rotated = api.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=bb)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert new not in api.get(f"{HOOKS}/{hook['id']}", headers=bb).text
    receiver.secret = new
    with session_scope(factory) as session:
        w.decide(session, None, "eastside", "reopen", "A correction is due")
    worker.run_once(reminders=False)
    first, second = receiver.received
    assert first.valid and second.valid
    assert second.document["event"] == "report_reopened"
    assert "comment" not in second.document["data"]
    assert not signature_ok(old, second.headers, second.body)
    assert not signature_ok(new, first.headers, first.body)


def test_a_disabled_or_unsubscribed_endpoint_gets_nothing(factory, api, receiver) -> None:
    _world(factory)
    bb = _login(api, "bb@x.org")
    quiet = _hook(api, receiver.url, events=["period_published"])
    paused = _hook(api, receiver.url)
    assert api.patch(f"{HOOKS}/{paused['id']}", json={"enabled": False}, headers=bb).is_success
    _approve(factory)
    assert _webhook_rows(factory) == []
    _worker(factory).run_once(reminders=False)
    assert receiver.received == []
    # An endpoint disabled after its event was written: the event waiting for it is skipped.
    later = _hook(api, receiver.url, events=["report_reopened"])
    with session_scope(factory) as session:
        w.decide(session, None, "eastside", "reopen", "A correction is due")
    assert api.patch(f"{HOOKS}/{later['id']}", json={"enabled": False}, headers=bb).is_success
    assert _worker(factory).run_once(reminders=False).skipped == 1
    assert receiver.received == []
    assert [(r.status, r.last_error) for r in _webhook_rows(factory)] == [
        ("skipped", "endpoint disabled")
    ]
    gone = api.delete(f"{HOOKS}/{quiet['id']}", headers=bb)
    assert gone.status_code == 200 and gone.json()["id"] == quiet["id"]
    assert [h["id"] for h in api.get(HOOKS, headers=bb).json()] == [paused["id"], later["id"]]


def test_endpoints_are_the_backbones_and_bad_input_names_the_field(factory, api) -> None:
    with session_scope(factory) as session:
        w.build(session)
        other = f.initiative(session, slug="other", name="Other")
        f.user(session, "backbone", init=other, email="bb-other@x.org")
    hook = _hook(api, "https://hooks.example.org/cm")
    url = f"{HOOKS}/{hook['id']}"
    for email, status in (("bb-other@x.org", 404), ("e1@x.org", 403), ("funder@x.org", 403)):
        headers = _login(api, email)
        assert api.get(HOOKS, headers=headers).status_code == status, email
        assert api.get(f"{url}/deliveries", headers=headers).status_code == status, email
        assert api.post(f"{url}/rotate-secret", headers=headers).status_code == status, email
        answer = api.post(HOOKS, json={"url": "https://x.org/h"}, headers=headers)
        assert answer.status_code == status, email
    assert api.get(HOOKS).status_code == 401
    bb = _login(api, "bb@x.org")
    for body, field in (
        ({"url": "http://hooks.example.org/cm"}, "url"),
        ({"url": "ftp://127.0.0.1/cm"}, "url"),
        ({"url": "https://user:pw@hooks.example.org/cm"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://hooks.example.org/c m"}, "url"),
        ({"url": "https://hooks.example.org/cm\u0000"}, "url"),
        ({"url": "https://hooks.example.org:http/cm"}, "url"),
        ({"url": "https://hooks.example.org/cm#top"}, "url"),
        ({"url": "https://hooks.example.org/cm", "description": "two\nlines"}, "description"),
        ({"url": "https://hooks.example.org/cm", "events": []}, "events"),
        ({"url": "https://hooks.example.org/cm", "events": ["report_returned"]}, "events[0]"),
        ({"url": "https://hooks.example.org/cm", "events": ["report_approved"] * 2}, "events"),
        ({"url": "https://hooks.example.org/cm", "description": "x" * 301}, "description"),
    ):
        answer = api.post(HOOKS, json=body, headers=bb)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    patched = api.patch(url, json={"url": "http://example.org/cm"}, headers=bb)
    assert patched.status_code == 422 and patched.json()["field"] == "url"
    assert api.get(f"{HOOKS}/999999", headers=bb).status_code == 404
    local = api.post(HOOKS, json={"url": "http://localhost:9/cm"}, headers=bb)
    assert local.status_code == 201, local.text  # the tests allow private networks


def test_private_addresses_are_refused_unless_allowed(factory, api, monkeypatch) -> None:
    """The production default: a backbone officer cannot make the server post to itself, its
    network or a cloud's metadata service (models/core/addresses.py)."""
    from models.core.settings import get_settings

    _world(factory)
    monkeypatch.setenv("CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")
    get_settings.cache_clear()
    try:
        bb = _login(api, "bb@x.org")
        for url in (
            "http://localhost:9/cm",
            "http://127.0.0.1:6379/",
            "https://10.0.0.8/cm",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/cm",
            "https://api.localhost/cm",
        ):
            answer = api.post(HOOKS, json={"url": url}, headers=bb)
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["field"] == "url"
            assert "private network" in answer.json()["detail"]
        assert (
            api.post(HOOKS, json={"url": "https://hooks.example.org/cm"}, headers=bb).status_code
            == 201
        )
    finally:
        get_settings.cache_clear()


def test_the_app_delivers_webhooks_from_its_worker_thread(factory, receiver) -> None:
    """``cm serve``: the worker thread of the app posts them; the app keeps serving."""
    _world(factory)
    with TestClient(create_app(factory, run_worker=True, with_dashboard=False)) as client:
        hook = _hook(client, receiver.url)
        receiver.secret = hook["secret"]
        _approve(factory)
        assert receiver.arrived.wait(20)
        deadline = time.monotonic() + 10
        while [r.status for r in _webhook_rows(factory)] != ["sent"]:
            assert time.monotonic() < deadline, _webhook_rows(factory)
            time.sleep(0.05)
    assert receiver.received[0].valid
    assert not any(t.name == "cm-delivery-worker" for t in threading.enumerate())


def test_an_endpoint_deleted_while_its_event_is_in_flight_loses_nothing_else(
    factory, api, receiver
) -> None:
    """The receiver answers, but the endpoint (and its waiting events) went meanwhile: the
    worker records nothing for it and carries on."""
    _world(factory)
    hook = _hook(api, receiver.url, events=["report_approved"])
    receiver.secret = hook["secret"]
    _approve(factory)
    bb = _login(api, "bb@x.org")

    class DeletedMeanwhile(WebhookPoster):
        def post(self, **request):
            answer = super().post(**request)
            assert api.delete(f"{HOOKS}/{hook['id']}", headers=bb).status_code == 200
            return answer

    worker = DeliveryWorker(factory, poster=DeletedMeanwhile(timeout=5))
    tick = worker.run_once(reminders=False)
    assert (tick.sent, tick.lost) == (2, 1)  # the two mails; the webhook's end is nobody's
    assert len(receiver.received) == 1 and receiver.received[0].valid
    assert _webhook_rows(factory) == []
    assert worker.run_once(reminders=False).claimed == 0


def test_a_receivers_url_stays_out_of_the_log(factory, api, receiver) -> None:
    """A webhook URL may hold the receiver's own token: no log line of a delivery shows it."""
    from ..conftest import LOG_CAPTURE

    _world(factory)
    hook = _hook(api, f"{receiver.url}?token=receiver-token-4c1d")
    receiver.secret = hook["secret"]
    _approve(factory)
    receiver.status = 503
    seen = len(LOG_CAPTURE.lines)
    assert _worker(factory).run_once(reminders=False).retrying == 1
    receiver.status = 200
    assert _worker(factory).run_once(utcnow() + timedelta(minutes=1), reminders=False).sent == 1
    assert [r.valid for r in receiver.received] == [True, True]
    logged = LOG_CAPTURE.lines[seen:]
    assert any("webhook not delivered" in line for line in logged)  # the failure is logged…
    assert not [line for line in logged if "receiver-token-4c1d" in line]  # …not the URL
