"""The pool's check of a PostgreSQL connection as it hands it out (``models.core.db``): no
round trip for one back in the pool a moment ago with nothing to read; a ping for one idle a
while or with something to read, and a new connection for one that fails it, so that a
restarted server or an ended session never reaches a request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from models.core import db
from models.core.db import make_engine

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


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_back_a_moment_ago_is_handed_out_without_a_ping(engine, pings) -> None:
    first = _backend(engine)
    for _ in range(5):
        assert _backend(engine) == first
    assert pings == []


def test_a_connection_idle_a_while_is_pinged_first(engine, pings, monkeypatch) -> None:
    first = _backend(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first
    assert pings == [first]


def test_an_ended_session_is_replaced_before_a_request_sees_it(engine, pings) -> None:
    first = _backend(engine)
    with make_engine(POSTGRES_URL).connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    # The server says why and closes the socket: the pooled connection has news, is pinged,
    # fails and is replaced, within the idle time that would otherwise skip the ping.
    for _ in range(50):
        second = _backend(engine)
        if second != first:
            break
    assert second != first
    assert pings[:1] == [first]
