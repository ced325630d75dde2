"""Engine and session factory.

SQLite gets WAL, foreign keys and a busy timeout so concurrent writers wait instead of failing;
PostgreSQL gets a sized pool that checks a connection before handing it out, so a restarted
server does not break the app (a round trip only when the check needs one: :func:`_check_pooled`). With
``CM_DATABASE_READ_URL`` the reads that may lag (dashboards, analytics, public pages) get
sessions of their own on a streaming replica (architecture: Scale).
"""

from __future__ import annotations

import re
import select
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from models.core.settings import ConfigError, Settings, get_settings

T = TypeVar("T")


def make_engine(url: str, settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000}
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"connect_timeout": 5, **_statement_timeout(url, settings)},
    )
    _check_pooled(engine)
    return engine


# A pooled connection idle longer than this is pinged before use: what a network may have
# dropped silently (a firewall's idle timeout, a failover to another host) shows only then.
PING_AFTER_IDLE_SECONDS = 5.0
_RETURNED = "cm_returned"  # a pool record's info: when its connection came back (monotonic)
_UNCHECKED = "cm_unchecked"  # a pool record's info: handed out unpinged, no statement run yet

# Set while a unit of work runs that :func:`retrying_stale` will run again: only then may a
# connection go out without its ping (a connection ended a moment ago may look sound).
_RETRIED: ContextVar[bool] = ContextVar("cm_retried", default=False)
STALE_ATTEMPTS = 3


class StaleConnection(OperationalError):
    """The first statement on a connection handed out without a ping found it ended: nothing
    of the unit of work reached the database, so :func:`retrying_stale` runs it again."""


def retrying_stale(work: Callable[[], T]) -> T:
    """Run ``work`` (a whole unit of work: its session begun and ended inside) letting the
    pool hand out connections without their ping, and run it again when the first statement
    on one finds it ended (:class:`StaleConnection`): pg_terminate_backend returns before the
    server process says why and closes its socket, and a connection handed out in that
    moment looks sound. The pool is emptied of connections as old by then."""
    token = _RETRIED.set(True)
    try:
        for attempt in range(1, STALE_ATTEMPTS + 1):
            try:
                return work()
            except StaleConnection:
                if attempt == STALE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises
    finally:
        _RETRIED.reset(token)


def _check_pooled(engine: Engine) -> None:
    """Check each PostgreSQL connection as the pool hands it out, as ``pool_pre_ping`` does,
    without its round trip for a connection back in the pool a moment ago with nothing to
    read, when the unit of work asking will run again if it was ended all the same
    (:func:`retrying_stale`): a server that restarted or ended the session closed the socket
    or sent its reason, which makes it readable; an idle one answers nothing. Such a
    connection, or one idle for :data:`PING_AFTER_IDLE_SECONDS`, is pinged; one that fails is
    replaced (the pool tries a new connection). Every request takes a connection, and the
    ping was one of its few round trips (README, "Scaling")."""

    @event.listens_for(engine, "connect")
    def connected(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        since = record.info.get(_RETURNED)
        recent = since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS
        if recent and _RETRIED.get() and not _has_news(dbapi_connection):
            record.info[_UNCHECKED] = True
            return
        record.info.pop(_UNCHECKED, None)
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc

    @event.listens_for(engine, "after_cursor_execute")
    def ran(conn: Connection, *_: Any) -> None:
        conn.connection.info.pop(_UNCHECKED, None)

    @event.listens_for(engine, "handle_error")
    def failed(context: Any) -> BaseException | None:
        conn = context.connection
        if not context.is_disconnect or conn is None or conn.invalidated:
            return None
        if not conn.connection.info.pop(_UNCHECKED, False):
            return None
        return StaleConnection(
            context.statement,
            context.parameters,
            context.original_exception,
            connection_invalidated=True,
        )


def _has_news(dbapi_connection: Any) -> bool:
    """Whether an idle connection has anything to read (the server closed it, or said why it
    will) or is not idle and sound: then only a round trip tells whether it still works."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _statement_timeout(url: str, settings: Settings) -> dict[str, str]:
    """Cancel runaway queries server-side, unless the URL already sets its own options."""
    if not settings.db_statement_timeout_ms or "options" in make_url(url).query:
        return {}
    return {"options": f"-c statement_timeout={int(settings.db_statement_timeout_ms)}"}


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(
        dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry
    ) -> None:  # pragma: no cover - driver hook
        # Let SQLAlchemy, not the driver, decide when transactions begin (SAVEPOINT support).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:  # pragma: no cover - driver hook
        conn.exec_driver_sql("BEGIN")


_WRITES = "cm_writes"  # a connection's count of data-changing statements (PostgreSQL)
_WRITES_AT_BEGIN = "cm_writes_at_begin"  # that count when the session's transaction began


def _writes(conn: Connection) -> int:
    """How many rows (SQLite: ``total_changes``) or data-changing statements (others: counted
    by :func:`_count_writes`) the connection has written since it was opened."""
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.dbapi_connection
        return int(dbapi.total_changes) if dbapi is not None else -1
    return int(conn.info.get(_WRITES, 0))


@event.listens_for(Engine, "after_cursor_execute")
def _count_writes(
    conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:  # pragma: no cover - driver hook
    if conn.dialect.name == "sqlite":
        return  # SQLite counts its own
    compiled = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    if compiled or _writes_data(statement):
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


# Statements that change rows, by their first word; a WITH that holds one of the first four
# (a data-changing CTE) does too. A read taken for a write only keeps nothing.
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY", "CALL", "DO"})
_FIRST_WORD = re.compile(r"\s*(\w+)")
_CHANGES_ROWS = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def _writes_data(statement: str) -> bool:
    """Whether a statement written as text changes rows (a compiled one says so itself)."""
    first = _FIRST_WORD.match(statement)
    word = first.group(1).upper() if first else ""
    return word in _DML or (word == "WITH" and _CHANGES_ROWS.search(statement) is not None)


@event.listens_for(Session, "after_begin")
def _writes_at_begin(session: Session, transaction: Any, conn: Connection) -> None:
    session.info[_WRITES_AT_BEGIN] = _writes(conn)


def transaction_wrote(session: Session) -> bool:
    """Whether the session's transaction has written (its own writes, not yet committed).
    What such a transaction reads must not be kept for others: it may still roll back, and a
    revision it moved may then be moved again by a commit that wrote otherwise. Counted from
    the session's transaction's start (a test's session inside an outer transaction starts
    afresh at each of its savepoints)."""
    conn = session.connection()
    began = session.info.get(_WRITES_AT_BEGIN)
    return began is None or _writes(conn) != began


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


# The flag a replica's sessions carry in ``Session.info`` (see ``read_sessionmaker``).
REPLICA = "cm_replica"


def make_read_engine(url: str, settings: Settings | None = None) -> Engine:
    """An engine on a streaming replica. Each of its transactions is REPEATABLE READ READ ONLY:
    one snapshot for everything a read asks, so an answer's data version (its ETag) is that of
    the very data it was computed from, however far the replica lags (architecture: Scale)."""
    return make_engine(url, settings).execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )


def read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions on a replica's engine, marked as such for :func:`data_as_of`."""
    return sessionmaker(engine, expire_on_commit=False, info={REPLICA: True})


@lru_cache
def get_read_engine() -> Engine | None:
    """The replica's engine when ``CM_DATABASE_READ_URL`` is set, else None."""
    settings = get_settings()
    if not settings.database_read_url:
        return None
    if make_url(settings.effective_database_url).get_backend_name() != "postgresql":
        raise ConfigError(
            "CM_DATABASE_READ_URL: a read replica needs a PostgreSQL CM_DATABASE_URL "
            "(it streams from that primary)"
        )
    return make_read_engine(settings.database_read_url, settings)


@lru_cache
def get_read_sessionmaker() -> sessionmaker[Session]:
    """Sessions for the reads that may lag behind the last write by the replica's delay: the
    replica's when one is configured, else exactly the primary's (:func:`get_sessionmaker`)."""
    engine = get_read_engine()
    return read_sessionmaker(engine) if engine is not None else get_sessionmaker()


_AS_OF = text(
    """
    SELECT pg_is_in_recovery(),
           CASE WHEN pg_last_wal_replay_lsn() >= r.latest_end_lsn THEN r.last_msg_send_time END,
           pg_last_xact_replay_timestamp()
    FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true
    """
)


def data_as_of(session: Session) -> datetime | None:
    """The time up to which the session's data holds every commit, None when unknown.

    On the primary (and SQLite) that is now. A replica holds the primary's commits up to a
    point: the primary's time of the last message it received, once it has replayed all the
    WAL the primary had then (reading that needs the role pg_read_all_stats or a superuser);
    otherwise the commit time of the last transaction it replayed; unknown when it has
    replayed none since it started. The data version judges "nothing can still land behind
    the newest event" by this time, not by the clock, which a lagging replica is behind
    (architecture: Scale).
    """
    now = datetime.now(UTC)
    if not session.info.get(REPLICA):
        return now
    standby, caught_up_at, last_replayed = session.execute(_AS_OF).one()
    if not standby:
        return now  # a read URL that names the primary itself (or a promoted replica)
    as_of = caught_up_at or last_replayed
    return min(as_of, now) if as_of is not None else None


@contextmanager
def session_scope(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. The API (per request), the
    dashboard (per callback) and the CLI all use it, from ``factory`` when given (an
    application's or a test's sessions), else from the configured database's.
    """
    session = (factory or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database(engine: Engine | None = None) -> None:
    """Raise ConfigError with one readable line when the database cannot be reached: ``engine``,
    else the configured primary and, when there is one, the read replica."""
    engines = [engine] if engine is not None else [get_engine(), get_read_engine()]
    for each in engines:
        if each is None:
            continue
        try:
            with each.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            where = each.url.render_as_string(hide_password=True)
            raise ConfigError(f"cannot reach the database at {where}: {reason}") from None
