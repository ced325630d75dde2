"""Faults: a killed import, a restarted PostgreSQL, a read-only or full SQLite file.

Whatever breaks, the answer is a clear JSON 503 (never a traceback), nothing committed is lost,
and the app recovers by itself.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models import Value
from models.core.actors import SYSTEM
from models.core.backup import table_checksums
from models.core.db import make_engine
from models.reporting.submissions import save_values
from models.reporting.validation import ValueInput

from .. import factories as f
from ..conftest import BACKENDS, listening_socket, private_postgres_cluster


def _world(engine, members: int = 1, indicators: int = 1, periods: int = 1) -> list[str]:
    with Session(engine) as s:
        init = f.initiative(s, slug="faults")
        inds = [f.indicator(s, init, "count", code=f"N{i}") for i in range(indicators)]
        orgs = []
        for m in range(members):
            mem = f.member(s, init, f.organisation(s, slug=f"fault-org-{m}"))
            for ind in inds:
                f.obligation(s, mem, ind)
            orgs.append(mem.organisation.slug)
        today = date.today()
        for quarter in range(1, periods + 1):  # open quarters: 2020Q1, 2020Q2, …
            f.period(
                s,
                init,
                f"2020Q{quarter}",
                opens_on=today - timedelta(days=1),
                due_on=today + timedelta(days=10),
                closes_on=today + timedelta(days=20),
            )
        f.user(s, "backbone", init=init, email="bb@faults.org")
        s.commit()
    return orgs


def _client(engine):
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(sessionmaker(engine), with_dashboard=False))


def _token(client) -> dict:
    r = client.post(
        "/api/v1/auth/token", data={"username": "bb@faults.org", "password": f.PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# --- SQLite: read-only file, full disk --------------------------------------------------------


@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
def test_read_only_database_answers_503_and_loses_nothing(fresh_database) -> None:
    fresh_database.migrate()
    [org] = _world(fresh_database.engine)
    with Session(fresh_database.engine) as s:
        save_values(
            session=s,
            actor=SYSTEM,
            initiative_slug="faults",
            org_slug=org,
            period_key="2020Q1",
            inputs=[ValueInput("N0", value=5)],
        )
        s.commit()
    before = table_checksums(fresh_database.engine)
    path = fresh_database.url.removeprefix("sqlite:///")
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    client = _client(read_only)
    headers = _token_or_none(client)
    r = client.put(
        f"/api/v1/initiatives/faults/submissions/{org}/2020Q1",
        json={"values": [{"indicator": "N0", "value": 6}]},
        headers=headers,
    )
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "database_unavailable"
    assert client.get("/healthz").status_code == 200
    read_only.dispose()
    assert table_checksums(fresh_database.engine) == before


def _token_or_none(client) -> dict:
    """Logging in writes (last login); on a read-only file use a token made beforehand."""
    from models.access.login import issue_token
    from models.tables.access import User

    with client.app.state.session_factory() as s:
        user = s.scalar(select(User).where(User.email == "bb@faults.org"))
        return {"Authorization": f"Bearer {issue_token(user).access_token}"}


@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
def test_full_disk_answers_503_and_loses_nothing(fresh_database) -> None:
    fresh_database.migrate()
    orgs = _world(fresh_database.engine, members=1, indicators=20)
    before = table_checksums(fresh_database.engine)
    full = create_engine(fresh_database.url)

    @event.listens_for(full, "connect")
    def _no_room(dbapi_connection, _record) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    client = _client(full)
    headers = _token_or_none(client)
    values = [{"indicator": f"N{i}", "value": i, "note": "n" * 2000} for i in range(20)]
    r = client.put(
        f"/api/v1/initiatives/faults/submissions/{orgs[0]}/2020Q1",
        json={"values": values, "reason": "r" * 2000},
        headers=headers,
    )
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "database_unavailable"
    full.dispose()
    assert table_checksums(fresh_database.engine) == before


# --- PostgreSQL restarted during traffic -------------------------------------------------------


@pytest.mark.postgres
def test_postgres_restart_gives_503_then_recovers_without_restarting_the_app() -> None:
    # The restart is of a cluster of the test's own: stopping the shared one would break every
    # other PostgreSQL test running alongside under pytest -n.
    with private_postgres_cluster() as cluster:
        migrations.upgrade(cluster.url)
        engine = make_engine(cluster.url)
        try:
            [org] = _world(engine)
            client = _client(engine)
            headers = _token(client)
            url = f"/api/v1/initiatives/faults/submissions/{org}/2020Q1"
            assert (
                client.put(
                    url, json={"values": [{"indicator": "N0", "value": 1}]}, headers=headers
                ).status_code
                == 200
            )
            cluster.stop()
            try:
                assert client.get("/readyz").status_code == 503
                r = client.get(url, headers=headers)
                assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
                assert "Traceback" not in r.text
            finally:
                cluster.start()
            for _ in range(60):
                if client.get("/readyz").status_code == 200:
                    break
                time.sleep(0.5)
            r = client.put(url, json={"values": [{"indicator": "N0", "value": 2}]}, headers=headers)
            assert r.status_code == 200, r.text
            with Session(engine) as s:
                assert s.scalar(select(Value.value)) == 2
        finally:
            engine.dispose()


# --- a killed import ----------------------------------------------------------------------------


def _big_csv(orgs: list[str], indicators: int, periods: int = 1) -> bytes:
    out = io.StringIO()
    out.write("organisation,period,indicator,value\n")
    for quarter in range(1, periods + 1):
        for org in orgs:
            for i in range(indicators):
                out.write(f"{org},2020Q{quarter},N{i},{i + 1}\n")
    return out.getvalue().encode()


def _cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (Linux /proc): a kill "partway through the work" then
    lands there whatever the machine's speed, where a wall-clock delay would not."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(url: str) -> tuple[subprocess.Popen, str]:
    """The app in a process of its own (so it can be killed), serving on a socket bound here."""
    sock = listening_socket()
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
            env={**os.environ, "CM_DATABASE_URL": url, "CM_LOG_LEVEL": "warning"},
            pass_fds=[sock.fileno()],
            start_new_session=True,
        )
    finally:
        sock.close()  # the server has its own copy
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_import_killed_midway_leaves_nothing_and_reruns_once(fresh_database) -> None:
    fresh_database.migrate()
    orgs = _world(fresh_database.engine, members=100, indicators=600, periods=3)
    body = _big_csv(orgs, 600, periods=3)  # 180,000 rows
    before = table_checksums(fresh_database.engine)
    fresh_database.engine.dispose()

    proc, base = _serve(fresh_database.url)
    headers = {}
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = _token(client)
            headers["Idempotency-Key"] = "import-q1"

            def upload():
                return client.post(
                    "/api/v1/initiatives/faults/imports",
                    files={"file": ("q1.csv", body, "text/csv")},
                    headers=headers,
                )

            import threading

            answers: list = []
            idle = _cpu_seconds(proc.pid)
            sender = threading.Thread(
                target=lambda: _swallow(lambda: answers.append(upload())), daemon=True
            )
            sender.start()
            # Kill once the server has spent 0.4 s of CPU on the upload: past receiving and
            # reading the file, into checking and writing 180,000 rows, long before the end.
            # (On PostgreSQL most of an import's time is the database's, so the application's
            # whole share is about a second.)
            deadline = time.monotonic() + 60
            while _cpu_seconds(proc.pid) - idle < 0.4 and not answers:
                assert time.monotonic() < deadline, "the server never got to work"
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            sender.join(timeout=10)
            assert not answers, "the import finished before the kill: give it a bigger file"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    after = table_checksums(fresh_database.engine)
    after.pop("users"), before.pop("users")  # logging in records the login time; nothing else
    assert after == before  # nothing half-written
    fresh_database.engine.dispose()

    proc, base = _serve(fresh_database.url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            first = client.post(
                "/api/v1/initiatives/faults/imports",
                files={"file": ("q1.csv", body, "text/csv")},
                headers=headers,
            )
            assert first.status_code == 200, (first.status_code, first.text)
            assert first.json()["created"] == 180_000
            again = client.post(
                "/api/v1/initiatives/faults/imports",
                files={"file": ("q1.csv", body, "text/csv")},
                headers=headers,
            )
            assert again.status_code == 200
            assert again.headers.get("idempotent-replayed") == "true"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    with Session(fresh_database.engine) as s:
        assert s.scalar(select(func.count()).select_from(Value)) == 180_000


def _swallow(fn) -> None:
    try:
        fn()
    except httpx.HTTPError:
        pass  # the server was killed mid-request: that is the point
