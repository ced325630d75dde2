"""The pool's check of a PostgreSQL connection as it hands it out (``models.core.db``): no
round trip for one back in the pool a moment ago with nothing to read, when the unit of work
runs again if its first statement finds the connection ended all the same; a ping for one
idle a while, with something to read or for any other unit of work, and a new connection for
one that fails it, so that a restarted server or an ended session never reaches a request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from models.core import db
from models.core.db import make_engine

from ..access.test_kept_actors import PATH as COMPLETENESS
from ..access.test_kept_actors import _kept, two_engines, world  # noqa: F401
from ..conftest import POSTGRES_URL, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    require_postgres()
    engine = make_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch) -> list[int]:
    """Each ping the engine's dialect sends, by the connection's server process."""
    sent: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:
        sent.append(dbapi_connection.info.backend_pid)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def _backend(engine: Engine, retried: bool = True) -> int:
    """The server process of the connection the pool hands out, asked by a unit of work run
    again when that connection was found ended (as the read views' are), or not."""

    def ask() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    return db.retrying_stale(ask) if retried else ask()


def test_a_connection_back_a_moment_ago_is_handed_out_without_a_ping(engine, pings) -> None:
    first = _backend(engine)
    for _ in range(5):
        assert _backend(engine) == first
    assert pings == []


def test_a_unit_of_work_not_run_again_has_its_connection_pinged(engine, pings) -> None:
    # Nothing would run it again if the connection had been ended a moment ago.
    first = _backend(engine, retried=False)
    assert _backend(engine, retried=False) == first
    assert pings == [first, first]


def test_a_connection_idle_a_while_is_pinged_first(engine, pings, monkeypatch) -> None:
    first = _backend(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first
    assert pings == [first]


def test_an_ended_session_is_replaced_before_a_request_sees_it(engine, pings) -> None:
    first = _backend(engine)
    _end(first)  # without its wait, the request may come before the server's word of it
    # The server says why and closes the socket: the pooled connection has news, is pinged,
    # fails and is replaced, within the idle time that would otherwise skip the ping.
    for _ in range(50):
        second = _backend(engine)
        if second != first:
            break
    assert second != first
    assert pings[:1] == [first]


def _end(pid: int) -> None:
    with make_engine(POSTGRES_URL).connect() as admin:
        # Waits (PostgreSQL 14+) until the process is gone: its socket is closed.
        assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()


def test_a_unit_of_work_whose_unpinged_connection_was_ended_runs_again(
    engine, pings, monkeypatch
) -> None:
    first = _backend(engine)
    monkeypatch.setattr(db, "_has_news", lambda dbapi_connection: False)  # its word is late
    _end(first)
    runs: list[int] = []

    def ask() -> int:
        runs.append(1)
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    assert db.retrying_stale(ask) != first
    assert len(runs) == 2 and pings == []


def test_a_connection_ended_after_the_first_statement_is_not_run_again(engine) -> None:
    # Something of the unit of work may have reached the database: its error is the request's.
    runs: list[int] = []

    def ask() -> int:
        runs.append(1)
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            _end(pid)
            return conn.execute(text("SELECT 1")).scalar_one()

    with pytest.raises(OperationalError) as failed:
        db.retrying_stale(ask)
    assert not isinstance(failed.value, db.StaleConnection) and runs == [1]


# --- a session ended before the server's word reaches the socket ------------------------------
#
# pg_terminate_backend returns once the signal is sent; the server process says why and closes
# the socket a moment later. A connection handed out in that moment has nothing to read yet,
# so nothing on the client can tell it apart from a sound one but a round trip. Here the
# server's word is made to arrive late (the pool's look at the socket sees nothing): what the
# request sees must be what a ping would have given it, an answer.

SCORECARD = "/api/v1/initiatives/mine/scorecard"
API_KEYS = "/api/v1/api-keys"


def _end_pooled_sessions(reader: Engine, monkeypatch) -> None:
    """End every session of the app's pool on the server, waiting until each is gone, while
    the pool's look at a connection's socket finds nothing to read."""
    pids = _pooled_pids(reader)
    assert pids, "the app has pooled connections"
    monkeypatch.setattr(db, "_has_news", lambda dbapi_connection: False)
    for pid in pids:
        _end(pid)


def _pooled_pids(engine: Engine) -> list[int]:
    pool: Any = engine.pool
    return [
        record.dbapi_connection.info.backend_pid
        for record in list(pool._pool.queue)
        if record.dbapi_connection is not None
    ]


@pytest.mark.parametrize("path", [SCORECARD, COMPLETENESS, API_KEYS])
def test_a_session_ended_unannounced_gives_the_request_its_answer(world, monkeypatch, path) -> None:  # noqa: F811
    if world["reader"].dialect.name != "postgresql":
        pytest.skip("the pool's check is PostgreSQL's")
    client = world["client"]
    if path == API_KEYS:  # an ordinary view: a session of its own, as most
        headers = world["tokens"]["bob"]
    else:  # a view answered from what is kept
        headers = world["headers"]
        _kept(world, headers, path)
    expected = client.get(path, headers=headers)
    assert expected.status_code == 200, expected.text
    _end_pooled_sessions(world["reader"], monkeypatch)
    again = client.get(path, headers=headers)
    assert again.status_code == 200, again.text
    assert again.content == expected.content
