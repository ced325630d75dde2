"""Two writers with the same version: exactly one wins, the other gets 412, nothing is lost."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Submission, Value
from models.core.actors import SYSTEM
from models.core.errors import PreconditionFailed
from models.reporting.submissions import save_values
from models.reporting.validation import ValueInput

from .. import factories as f
from ..conftest import BACKENDS

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)


def _save(session: Session, value: int, expected: int | None):
    return save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="race",
        org_slug="racer",
        period_key="2020Q1",
        inputs=[ValueInput("N", value=value)],
        expected_version=expected,
    )


def test_two_writers_with_the_same_version(fresh_database) -> None:
    fresh_database.migrate()
    engine = fresh_database.engine
    with Session(engine) as s:
        init = f.initiative(s, slug="race")
        mem = f.member(s, init, f.organisation(s, slug="racer"))
        f.obligation(s, mem, f.indicator(s, init, "count", code="N"))
        f.period(s, init, "2020Q1")
        version = _save(s, 1, None).submission.version
        s.commit()

    # Hold both writers at their version UPDATE until both have read the same version.
    barrier = threading.Barrier(2, timeout=10)

    @event.listens_for(engine, "before_cursor_execute")
    def _meet(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SUBMISSIONS SET VERSION"):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    outcomes: dict[int, str] = {}

    def writer(value: int) -> None:
        with Session(engine) as s:
            try:
                _save(s, value, version)
                s.commit()
                outcomes[value] = "won"
            except PreconditionFailed:
                s.rollback()
                outcomes[value] = "412"

    threads = [threading.Thread(target=writer, args=(v,)) for v in (100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    event.remove(engine, "before_cursor_execute", _meet)

    assert sorted(outcomes.values()) == ["412", "won"], outcomes
    winner = next(v for v, o in outcomes.items() if o == "won")
    with Session(engine) as s:
        assert s.scalar(select(Value.value)) == winner
        assert s.scalar(select(Submission.version)) == version + 1


def _served_world(engine) -> tuple[dict, int]:
    """The race initiative with a saved draft; a reporter's headers and the draft's version."""
    from datetime import date, timedelta

    today = date.today()
    with Session(engine) as s:
        init = f.initiative(s, slug="race")
        mem = f.member(s, init, f.organisation(s, slug="racer"))
        f.obligation(s, mem, f.indicator(s, init, "count", code="N"))
        f.period(
            s,
            init,
            "2020Q1",
            opens_on=today - timedelta(days=1),
            due_on=today + timedelta(days=10),
            closes_on=today + timedelta(days=20),
        )
        f.user(s, "reporter", org=mem.organisation, email="racer@race.org")
        version = _save(s, 1, None).submission.version
        s.commit()
    return {"username": "racer@race.org", "password": f.PASSWORD}, version


def _client(engine):
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(sessionmaker(engine), with_dashboard=False))


PUT = "/api/v1/initiatives/race/submissions/racer/2020Q1"


def test_concurrent_retries_with_one_idempotency_key_replay_the_first_answer(
    fresh_database,
) -> None:
    """50 identical PUTs at once, one key: 8 answered 412 and 1 409 (they ran the write again
    after the first had moved the version, or collided storing the key)."""
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    fresh_database.migrate()
    engine = fresh_database.engine
    login, version = _served_world(engine)
    client = _client(engine)
    token = client.post("/api/v1/auth/token", data=login).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": "retry-storm",
        "If-Match": f'"{version}"',
    }
    body = {"values": [{"indicator": "N", "value": 7}]}
    start = threading.Barrier(50, timeout=30)

    def put(_):
        start.wait()
        return client.put(PUT, json=body, headers=headers)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(put, range(50)))

    assert Counter(a.status_code for a in answers) == {200: 50}, [
        a.text for a in answers if a.status_code != 200
    ]
    replayed = Counter(a.headers.get("Idempotent-Replayed") for a in answers)
    assert replayed == {None: 1, "true": 49}
    assert all(a.json() == answers[0].json() for a in answers)
    with Session(engine) as s:
        assert s.scalar(select(Submission.version)) == version + 1
        assert s.scalar(select(Value.value)) == 7
        updates = select(func.count()).where(
            AuditEvent.entity_type == "value", AuditEvent.action == "update"
        )
        assert s.scalar(updates) == 1


def test_a_retry_waits_for_the_first_request_then_gives_up_with_409(
    fresh_database, monkeypatch
) -> None:
    """While the first request with a key runs, a retry waits (here 1 s), then answers 409; once
    the first request is gone without an answer (rolled back), the retry runs the write."""
    from models.core import idempotency
    from models.core.idempotency import Claim, claim_key, request_fingerprint

    if fresh_database.backend != "postgresql":
        pytest.skip("SQLite waits its busy timeout and answers 503, as for any locked write")
    fresh_database.migrate()
    engine = fresh_database.engine
    login, _ = _served_world(engine)
    client = _client(engine)
    token = client.post("/api/v1/auth/token", data=login).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "slow"}
    body = {"values": [{"indicator": "N", "value": 9}]}
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 1)

    with Session(engine) as first:  # a request that claimed the key and is still writing
        fingerprint = request_fingerprint("PUT", PUT, b"")
        held = claim_key(
            session=first, actor_label="user:racer@race.org", key="slow", fingerprint=fingerprint
        )
        assert isinstance(held, Claim)
        began = time.monotonic()
        waiting = client.put(PUT, json=body, headers=headers)
        assert 1 <= time.monotonic() - began < 10
        assert waiting.status_code == 409
        assert waiting.json()["code"] == "idempotency_key_in_progress"
        first.rollback()

    retried = client.put(PUT, json=body, headers=headers)
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    with Session(engine) as s:
        assert s.scalar(select(Value.value)) == 9
