"""Two workers of one deployment agree: the login throttle and the rate limit hold across them,
and the same data gives the same answer, with the same validators, from either.

Each worker is a process of its own (``uvicorn api.asgi:app``, as ``cm serve --workers 2`` or
two containers run it) on one database, counting in the database (the default) or in Redis
(``CM_REDIS_URL``). A client going from one worker to the other, as a load balancer sends it,
must meet the limits it meets on one.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.orm import Session

from .. import conftest
from .. import factories as f

RATE_LIMIT = 10  # requests per minute and user, for these workers
SETUPS = [
    ("sqlite", "database"),
    ("sqlite", "redis"),
    ("postgresql", "database"),
    ("postgresql", "redis"),
]


@dataclass
class Workers:
    a: httpx.Client
    b: httpx.Client


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """One worker process, serving on a socket bound here."""
    sock = conftest.listening_socket()
    port = sock.getsockname()[1]
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.asgi:app",
                "--fd",
                str(sock.fileno()),
                "--log-level",
                "warning",
            ],
            env={**os.environ, **env},
            pass_fds=[sock.fileno()],
            start_new_session=True,
        )
    finally:
        sock.close()  # the server has its own copy
    return proc, f"http://127.0.0.1:{port}"


def _wait_until_ready(proc: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with status {proc.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the worker did not start")


@pytest.fixture(scope="module", params=SETUPS, ids=["-".join(s) for s in SETUPS])
def workers(request, tmp_path_factory) -> Iterator[Workers]:
    """Two workers on one migrated database with a small world, counting in ``store``."""
    backend, store = request.param
    database = conftest.TestDatabase(backend, tmp_path_factory.mktemp(backend))
    procs: list[subprocess.Popen] = []
    try:
        database.migrate()
        with Session(database.engine) as s:
            init = f.initiative(s, slug="two")
            indicator = f.indicator(s, init, code="KIDS", name="Children served")
            member = f.member(s, init, f.organisation(s, slug="east"))
            f.obligation(s, member, indicator)
            f.period(s, init, "2025Q3")
            for name in ("throttled", "alternating", "steady", "spread", "reader"):
                f.user(s, "admin", email=f"{name}@two.org")
            s.commit()
        env = {
            "CM_DATABASE_URL": database.url,
            "CM_SECRET_KEY": secrets.token_urlsafe(32),  # one deployment: one key
            "CM_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            "CM_REDIS_URL": "",
            "CM_LOG_LEVEL": "warning",
        }
        if store == "redis":
            env["CM_REDIS_URL"] = request.getfixturevalue("redis_url")
        started = [_start(env) for _ in range(2)]  # both start at once
        procs.extend(proc for proc, _ in started)
        for proc, base in started:
            _wait_until_ready(proc, base)
        bases = [base for _, base in started]
        with (
            httpx.Client(base_url=bases[0], timeout=30) as a,
            httpx.Client(base_url=bases[1], timeout=30) as b,
        ):
            yield Workers(a, b)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        database.drop()


def _login(client: httpx.Client, email: str, password: str = f.PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _bearer(client: httpx.Client, email: str) -> dict[str, str]:
    answer = _login(client, email)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _failures_until_throttled(clients, email: str) -> int:
    """Wrong passwords, each to the next of ``clients``, until one answers 429."""
    for n, client in enumerate(itertools.islice(itertools.cycle(clients), 30)):
        answer = _login(client, email, "wrong-password-1")
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
            return n
        assert answer.status_code == 401, answer.text
    return 30


def test_failed_logins_alternating_between_workers_meet_the_same_throttle(workers) -> None:
    on_one = _failures_until_throttled([workers.a], "throttled@two.org")
    on_both = _failures_until_throttled([workers.a, workers.b], "alternating@two.org")
    assert on_one == on_both == 5
    # Even the right password waits out the window, on either worker.
    assert _login(workers.b, "alternating@two.org").status_code == 429
    assert _login(workers.a, "alternating@two.org").status_code == 429


def _requests_until_limited(clients, headers) -> int:
    for n, client in enumerate(itertools.islice(itertools.cycle(clients), 3 * RATE_LIMIT)):
        answer = client.get("/api/v1/me", headers=headers)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            return n
        assert answer.status_code == 200, answer.text
    return 3 * RATE_LIMIT


def test_the_rate_limit_holds_across_workers(workers) -> None:
    steady = _bearer(workers.a, "steady@two.org")
    spread = _bearer(workers.b, "spread@two.org")  # a token of one worker serves on the other
    on_one = _requests_until_limited([workers.a], steady)
    on_both = _requests_until_limited([workers.a, workers.b], spread)
    assert on_one == on_both == RATE_LIMIT


def test_the_same_data_gives_the_same_answer_from_either_worker(workers) -> None:
    """The response cache is each worker's own, but keyed by the data's version in the
    database: both answer alike, each takes the other's ETag, and a write through one is the
    other's next answer."""
    headers = _bearer(workers.a, "reader@two.org")
    path = "/api/v1/initiatives/two/scorecard?period=2025Q3"
    first_a = workers.a.get(path, headers=headers)
    first_b = workers.b.get(path, headers=headers)
    assert first_a.status_code == first_b.status_code == 200, first_a.text
    assert first_a.content == first_b.content and b"Children served" in first_a.content
    etag = first_a.headers["ETag"]
    assert first_b.headers["ETag"] == etag
    assert workers.b.get(path, headers={**headers, "If-None-Match": etag}).status_code == 304

    renamed = workers.a.patch(
        "/api/v1/initiatives/two/indicators/KIDS",
        json={"name": "Children reached"},
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.text
    then_b = workers.b.get(path, headers={**headers, "If-None-Match": etag})
    assert then_b.status_code == 200 and b"Children reached" in then_b.content
    assert then_b.headers["ETag"] != etag
    then_a = workers.a.get(path, headers=headers)
    assert then_a.content == then_b.content and then_a.headers["ETag"] == then_b.headers["ETag"]


def test_a_viewer_is_keyed_alike_whatever_order_its_grants_were_loaded_in() -> None:
    """Two workers may load one person's grants in different orders; a set's ``repr`` follows
    that order (``{9, 1}`` or ``{1, 9}``), and an ETag made of it would differ by worker."""
    from api.routers.analytics import _viewer
    from models.core.actors import Actor

    one = Actor(user_id=3, label="user:3", backbone_of=frozenset([9, 1]))
    other = Actor(user_id=3, label="user:3", backbone_of=frozenset([1, 9]))
    assert repr(one) != repr(other)
    assert _viewer(one) == _viewer(other) and hash(_viewer(one)) == hash(_viewer(other))
