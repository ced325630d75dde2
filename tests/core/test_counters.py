"""The shared counters behind the login throttle and the rate limit: every store counts alike,
a limit admits exactly that many hits even when they race, and a store that does not answer is
stood in for by the worker's memory."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from models.core import counters
from models.core.counters import (
    DatabaseCounters,
    MemoryCounters,
    RedisCounters,
    Resilient,
    Window,
)
from models.core.settings import get_settings
from models.tables.counters import SharedCounter

from .. import conftest

# The deployment's choice, as the app makes it (tests/conftest.py hands every other test's app
# counters of its own).
configured = counters.configured

STORES = ["memory", "redis", "sqlite", "postgresql"]
MINUTE = Window(seconds=60, buckets=12)  # buckets of 5 s
T0 = 1_800_000_000.0  # a bucket boundary


@pytest.fixture(scope="module")
def postgres_database(tmp_path_factory) -> Iterator[conftest.TestDatabase]:
    conftest.require_postgres()
    db = conftest.TestDatabase("postgresql", tmp_path_factory.mktemp("counters"))
    db.migrate()
    yield db
    db.drop()


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    """Each store as a deployment has it, empty: Redis flushed, a SQLite counters file of the
    test's own, or the migrated table of a PostgreSQL schema through an engine of the counters'
    own, with committed rows (keys are unique per test)."""
    if request.param == "memory":
        return MemoryCounters()
    if request.param == "redis":
        store = RedisCounters.from_url(request.getfixturevalue("redis_url"))
        store.client.flushdb()
        return store
    if request.param == "sqlite":
        return DatabaseCounters(url=f"sqlite:///{tmp_path / 'cm.counters.db'}")
    return DatabaseCounters(url=request.getfixturevalue("postgres_database").url)


def _key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_a_limit_admits_exactly_that_many_hits(store) -> None:
    key = _key()
    tallies = [store.add(key, MINUTE, now=T0 + i, limit=3) for i in range(5)]
    assert [t.added for t in tallies] == [True, True, True, False, False]
    assert [t.total for t in tallies] == [1, 2, 3, 3, 3]
    # The first hit (at T0) leaves the window at T0 + 60: seen at T0 + 4, 56 s from then.
    assert tallies[-1].retry_after(MINUTE, 3, T0 + 4) == 56
    assert store.add(_key(), MINUTE, now=T0, limit=3).added  # another key has its own count


def test_reading_adds_nothing_and_clearing_forgets(store) -> None:
    key = _key()
    assert store.read(key, MINUTE, now=T0).total == 0
    store.add(key, MINUTE, now=T0)
    store.add(key, MINUTE, now=T0)
    assert store.read(key, MINUTE, now=T0 + 1).total == 2
    assert store.read(key, MINUTE, now=T0 + 1).total == 2
    store.clear(key)
    assert store.read(key, MINUTE, now=T0 + 1).total == 0
    assert store.add(key, MINUTE, now=T0 + 1, limit=1).added


def test_hits_leave_the_window_as_it_slides(store) -> None:
    key = _key()
    store.add(key, MINUTE, now=T0)
    store.add(key, MINUTE, now=T0 + 2)
    store.add(key, MINUTE, now=T0 + 30)
    assert store.read(key, MINUTE, now=T0 + 59).total == 3
    assert store.read(key, MINUTE, now=T0 + 60).total == 1  # the first bucket has left
    assert store.add(key, MINUTE, now=T0 + 60, limit=2).added
    assert not store.add(key, MINUTE, now=T0 + 61, limit=2).added
    assert store.read(key, MINUTE, now=T0 + 95).total == 1  # the one at T0 + 60
    assert store.read(key, MINUTE, now=T0 + 120).total == 0


def test_hits_racing_for_the_last_places_never_pass_the_limit(store) -> None:
    """Eight threads, each with its own connection, ask for 80 hits where 25 are allowed."""
    key = _key()
    added: list[bool] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(10):
            added.append(store.add(key, MINUTE, now=T0 + 1, limit=25).added)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(added) == 80 and sum(added) == 25
    assert store.read(key, MINUTE, now=T0 + 1).total == 25


def test_a_burst_of_concurrent_guesses_gets_no_more_tries_than_a_slow_one(store) -> None:
    """The login throttle counts an attempt before the password is checked, atomically: twenty
    guesses sent at once get the account's five tries, not twenty."""
    from models.access.login import LoginThrottle
    from models.core.errors import TooManyAttempts

    throttle = LoginThrottle(store)
    account = f"{uuid.uuid4().hex[:8]}@example.org"
    outcomes: list[str] = []
    start = threading.Barrier(20)

    def guess() -> None:
        start.wait()
        try:
            throttle.attempt(account, "203.0.113.9")
            outcomes.append("tried")
        except TooManyAttempts:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["throttled"] * 15 + ["tried"] * 5


@pytest.mark.parametrize("store", ["redis", "sqlite", "postgresql"], indirect=True)
def test_the_shared_stores_hold_no_email_address(store) -> None:
    key = f"login:account:alice-{uuid.uuid4().hex[:6]}@example.org"
    store.add(key, MINUTE, now=T0)
    if isinstance(store, RedisCounters):
        stored = [k.decode() for k in store.client.keys("*")]
    else:
        with store._sessions()() as session:
            stored = list(session.scalars(select(SharedCounter.key)))
    assert stored and not any("alice" in k or "example" in k for k in stored)
    assert store.read(key, MINUTE, now=T0).total == 1


def test_a_store_that_does_not_answer_is_stood_in_for_by_the_workers_memory(caplog) -> None:
    """Redis down: the limits still hold, in each worker's memory, and the worker says so
    once; a few seconds later it asks the shared store again."""
    from models.core.metrics import REGISTRY

    def fallbacks() -> float:
        return REGISTRY.get_sample_value("cm_shared_counters_fallbacks_total") or 0.0

    class Asked(MemoryCounters):
        times = 0

        def add(self, *args, **kwargs):
            self.times += 1
            return super().add(*args, **kwargs)

    store = Resilient(RedisCounters.from_url("unix:///nonexistent/cm-redis.sock"))
    before = fallbacks()
    with caplog.at_level(logging.WARNING, logger="cm.counters"):
        added = [store.add("k", MINUTE, now=T0, limit=2).added for _ in range(3)]
    assert added == [True, True, False]
    assert fallbacks() == before + 3
    assert [r.event for r in caplog.records] == ["shared_counters_unavailable"]

    store.shared = shared = Asked()  # the store answers again…
    store.add("k", MINUTE, now=T0)
    assert shared.times == 0  # …but the worker still counts on its own for a few seconds
    store._down_until = 0.0  # they have passed
    store.add("k", MINUTE, now=T0)
    assert shared.times == 1


def test_the_deployment_counts_in_redis_else_in_its_database(
    monkeypatch, tmp_path, redis_url
) -> None:
    from sqlalchemy import create_engine

    sqlite_file = sessionmaker(create_engine(f"sqlite:///{tmp_path / 'cm.db'}"))
    postgres = sessionmaker(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    in_memory = sessionmaker(create_engine("sqlite://"))

    chosen = configured(postgres)
    assert isinstance(chosen, Resilient) and isinstance(chosen.shared, DatabaseCounters)
    assert chosen.shared.url == "postgresql+psycopg://nobody@127.0.0.1:1/none"  # the app's
    chosen = configured(sqlite_file)
    assert isinstance(chosen, Resilient) and isinstance(chosen.shared, DatabaseCounters)
    assert chosen.shared.url == f"sqlite:///{tmp_path / 'cm.counters.db'}"  # a file of its own
    assert isinstance(configured(in_memory), MemoryCounters)  # nothing to share

    monkeypatch.setenv("CM_REDIS_URL", redis_url)
    get_settings.cache_clear()
    try:
        chosen = configured(postgres)
        assert isinstance(chosen, Resilient) and isinstance(chosen.shared, RedisCounters)
        assert chosen.shared.client.ping()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("value", ["localhost:6379", "http://cache:6379", "postgresql://x/y"])
def test_a_redis_url_that_is_not_one_is_refused_naming_the_setting(monkeypatch, value) -> None:
    from models.core.settings import ConfigError

    monkeypatch.setenv("CM_REDIS_URL", value)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="CM_REDIS_URL: must be a redis://"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_a_hit_on_postgresql_is_one_round_trip_and_leaves_the_pool_as_it_was(
    postgres_database,
) -> None:
    """PostgreSQL counts a hit with one script outside a transaction block: one round trip,
    no statement of the driver's own (BEGIN, COMMIT), and the connection goes back to the
    application's pool in its transactions again; a connection ended under it answers
    'unavailable' (the worker counts on its own a while) and is not handed out again."""
    from sqlalchemy import create_engine, event
    from sqlalchemy import text as sql

    engine = create_engine(postgres_database.url, pool_size=1, max_overflow=0)
    store = DatabaseCounters(sessionmaker(engine))
    store._next_sweep = float("inf")  # the once-a-minute sweep is a transaction of its own
    key = _key()
    commands: list[bytes] = []
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        backend = conn.scalar(sql("SELECT pg_backend_pid()"))
        conn.rollback()
    from psycopg import _connection_base

    sent = _connection_base.BaseConnection._exec_command

    def recording(self, command, *args, **kwargs):
        commands.append(bytes(command) if not isinstance(command, str) else command.encode())
        return sent(self, command, *args, **kwargs)

    _connection_base.BaseConnection._exec_command = recording
    try:
        assert [store.add(key, MINUTE, now=T0, limit=2).added for _ in range(3)] == [
            True,
            True,
            False,
        ]
    finally:
        _connection_base.BaseConnection._exec_command = sent
    assert commands == []
    assert store.read(key, MINUTE, now=T0).buckets == {MINUTE.bucket(T0): 2}
    assert dbapi.autocommit is False
    with engine.connect() as conn:  # the one pooled connection, in a transaction again
        assert conn.connection.driver_connection is dbapi
        conn.execute(sql("CREATE TEMP TABLE t (x int)"))
        conn.rollback()
        assert conn.scalar(sql("SELECT to_regclass('pg_temp.t')")) is None

    stopped: list[object] = []
    event.listen(engine, "invalidate", lambda *args: stopped.append(args))
    with create_engine(postgres_database.url).connect() as admin:
        admin.execute(sql("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with pytest.raises(counters.Unavailable):
        for _ in range(3):  # the ended connection may look sound until it is used
            store.add(_key(), MINUTE, now=T0)
    assert stopped
    assert store.add(key, MINUTE, now=T0 + 60, limit=2).added  # a new connection


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_a_sweep_the_database_fails_is_unavailable_like_any_failure_of_a_hit(store) -> None:
    """The once-a-minute sweep runs within a hit: its failure (a deadlock with another worker's
    sweep, a connection lost) must reach ``Resilient`` as ``Unavailable``, so the worker counts
    on its own a while, and not escape as a database error, a 500 for that request."""
    from sqlalchemy import event

    engine = store._sessions().kw["bind"]
    dbapi = engine.dialect.loaded_dbapi

    def failing(conn, cursor, statement, *args) -> None:
        if "expires <" in statement:
            raise dbapi.OperationalError("deadlock detected")

    event.listen(engine, "before_cursor_execute", failing)
    try:
        store._next_sweep = 0.0
        with pytest.raises(counters.Unavailable):
            store.add(_key(), MINUTE, now=T0)
    finally:
        event.remove(engine, "before_cursor_execute", failing)
