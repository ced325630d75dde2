"""Counters that every worker and container shares: failed logins, requests per minute.

A limit counts the hits of a key in a sliding window. The window is cut into buckets (a tenth
of it, say), each bucket a counter, and a key's count is the sum of its buckets still inside the
window: the window slides one bucket at a time, and a key costs one counter per bucket whatever
its traffic. Three stores hold the buckets, with the same arithmetic:

- **Redis** (``CM_REDIS_URL``): a hash per key, read and written by one Lua script, which Redis
  runs atomically; the key expires with its newest bucket.
- **The database** (the default): a row per key and bucket (``shared_counters``), each hit a
  short transaction of its own. PostgreSQL: the table in the application's database, one hit at
  a time per key under an advisory lock. SQLite: the same table in a file of its own beside the
  database, because SQLite has one writer per file: a counter written in the data file would
  wait behind every import, and would end the snapshot a request had read, so that request's
  own write would then fail.
- **Memory**: one worker's own (a database in memory, the tests, and the fallback below).

``add`` with a limit counts a hit only while the count is below it, atomically in every store,
so two workers racing for the last allowed hit cannot both get it. A worker whose shared store
does not answer counts in its own memory for a few seconds, then tries again (logged, and
counted in ``cm_shared_counters_fallbacks_total``): an outage weakens the limits to one set per
worker instead of stopping logins or the API.

Keys are hashed with the secret key, so neither Redis nor the table holds an e-mail address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol, TypeVar

import redis
from prometheus_client import Counter
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex, CreateTable

from models.core.db import make_engine, session_scope
from models.core.metrics import REGISTRY
from models.core.settings import get_settings
from models.tables.counters import SharedCounter

log = logging.getLogger("cm.counters")

FALLBACKS = Counter(
    "cm_shared_counters_fallbacks_total",
    "Hits a worker counted in its own memory because the shared counters did not answer",
    registry=REGISTRY,
)
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """``seconds`` long, sliding ``seconds / buckets`` at a time."""

    seconds: int
    buckets: int

    @property
    def width(self) -> float:
        return self.seconds / self.buckets

    def bucket(self, now: float) -> int:
        return math.floor(now / self.width)

    def oldest(self, now: float) -> int:
        """The oldest bucket still inside the window at ``now``."""
        return self.bucket(now) - self.buckets + 1

    def leaves(self, bucket: int) -> float:
        """When the hits of ``bucket`` stop counting (seconds since the epoch)."""
        return (bucket + self.buckets) * self.width


@dataclass(frozen=True)
class Tally:
    """A key's hits in its window by bucket (this call's own included), and whether this call
    added one."""

    buckets: Mapping[int, int]
    added: bool = False

    @property
    def total(self) -> int:
        return sum(self.buckets.values())

    def retry_after(self, window: Window, limit: int, now: float) -> int:
        """Whole seconds until the count is below ``limit`` again (at least 1)."""
        left = self.total
        for bucket in sorted(self.buckets):
            left -= self.buckets[bucket]
            if left < limit:
                return max(1, math.ceil(window.leaves(bucket) - now))
        return max(1, math.ceil(window.seconds))


class Unavailable(Exception):
    """The shared store did not answer: Redis or the database is down, full or locked."""


class Counters(Protocol):
    def add(self, key: str, window: Window, *, now: float, limit: int | None = None) -> Tally:
        """Count a hit of ``key``; with a ``limit``, only while its count is below it."""
        ...

    def read(self, key: str, window: Window, *, now: float) -> Tally:
        """The key's hits in the window, adding none."""
        ...

    def clear(self, key: str) -> None:
        """Forget every hit of ``key``."""
        ...


class MemoryCounters:
    """One worker's counters, in its own memory."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._keys: dict[str, dict[int, int]] = {}
        self._expires: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str, window: Window, *, now: float, limit: int | None = None) -> Tally:
        with self._lock:
            buckets = self._keys.setdefault(key, {})
            _drop_older(buckets, window.oldest(now))
            if limit is not None and sum(buckets.values()) >= limit:
                return Tally(dict(buckets))
            current = window.bucket(now)
            buckets[current] = buckets.get(current, 0) + 1
            self._expires[key] = window.leaves(current)
            if len(self._keys) > self.MAX_KEYS:  # forget idle keys rather than grow forever
                for idle in [k for k, t in self._expires.items() if t <= now]:
                    self._keys.pop(idle, None)
                    del self._expires[idle]
            return Tally(dict(buckets), added=True)

    def read(self, key: str, window: Window, *, now: float) -> Tally:
        with self._lock:
            buckets = self._keys.get(key, {})
            oldest = window.oldest(now)
            return Tally({b: n for b, n in buckets.items() if b >= oldest})

    def clear(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)
            self._expires.pop(key, None)

    def clear_all(self) -> None:
        with self._lock:
            self._keys.clear()
            self._expires.clear()


def _drop_older(buckets: dict[int, int], oldest: int) -> None:
    for bucket in [b for b in buckets if b < oldest]:
        del buckets[bucket]


class _Hashed:
    """Stores that keep keys hashed with the secret key (read once, on first use)."""

    _secret: bytes | None = None

    def _digest(self, key: str) -> str:
        if self._secret is None:
            self._secret = get_settings().effective_secret_key.encode()
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()


# KEYS[1]: the key's hash of bucket → hits. ARGV: the current bucket, the oldest bucket still in
# the window, the limit (-1: none), milliseconds until the current bucket leaves the window, and
# 1 to add a hit or 0 to read. Answers {added, {bucket, hits, …} before the hit}.
_SCRIPT = """
local oldest = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local flat = redis.call('HGETALL', KEYS[1])
local kept, total = {}, 0
for i = 1, #flat, 2 do
  if tonumber(flat[i]) < oldest then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    total = total + tonumber(flat[i + 1])
    kept[#kept + 1] = flat[i]
    kept[#kept + 1] = flat[i + 1]
  end
end
if ARGV[5] == '1' and (limit < 0 or total < limit) then
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, kept}
end
return {0, kept}
"""


class RedisCounters(_Hashed):
    """Counters in Redis: one hash per key, changed only by a script (atomic in Redis)."""

    PREFIX = "cm:counter:"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str) -> RedisCounters:
        # Short timeouts: a hit waits this long at most before the worker counts on its own.
        client = redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1, health_check_interval=30
        )
        return cls(client)

    def add(self, key: str, window: Window, *, now: float, limit: int | None = None) -> Tally:
        return self._run(key, window, now, limit, add=True)

    def read(self, key: str, window: Window, *, now: float) -> Tally:
        return self._run(key, window, now, None, add=False)

    def clear(self, key: str) -> None:
        try:
            self.client.delete(self.PREFIX + self._digest(key))
        except redis.RedisError as exc:
            raise Unavailable(f"redis: {exc}") from exc

    def _run(self, key: str, window: Window, now: float, limit: int | None, *, add: bool) -> Tally:
        current = window.bucket(now)
        ttl_ms = max(1, math.ceil((window.leaves(current) - now) * 1000))
        args = [current, window.oldest(now), -1 if limit is None else limit, ttl_ms, int(add)]
        try:
            added, flat = self._script(keys=[self.PREFIX + self._digest(key)], args=args)
        except redis.RedisError as exc:
            raise Unavailable(f"redis: {exc}") from exc
        buckets = {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
        if added:
            buckets[current] = buckets.get(current, 0) + 1
        return Tally(buckets, added=bool(added))


class DatabaseCounters(_Hashed):
    """Counters in the ``shared_counters`` table, one short transaction per call.

    Sessions come from ``session_factory``, or from an engine of their own for the database at
    ``url`` (made on first use). A deployment's counters have an engine of their own: a request
    holds a connection of the application's pool while it counts, so counting with another one
    of the same pool, every request of a busy worker could hold one and wait for a second.
    """

    SWEEP_EVERY = 60.0  # seconds between two deletions of every key's expired buckets

    def __init__(
        self, session_factory: sessionmaker[Session] | None = None, *, url: str | None = None
    ) -> None:
        if (session_factory is None) == (url is None):
            raise ValueError("give either a session factory or a database URL")
        self._factory = session_factory
        self.url = url
        self._next_sweep = 0.0

    def _sessions(self) -> sessionmaker[Session]:
        if self._factory is None:
            assert self.url is not None
            self._factory = sessionmaker(_own_engine(self.url))
        return self._factory

    def add(self, key: str, window: Window, *, now: float, limit: int | None = None) -> Tally:
        digest = self._digest(key)
        current = window.bucket(now)
        table = SharedCounter.__table__
        bind = self._sessions().kw.get("bind")
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            tally = self._add_postgresql(bind, digest, window, now, limit)
            if tally.added:
                try:  # a failed sweep is the store not answering, as in the statements below
                    self._sweep(now)
                except SQLAlchemyError as exc:
                    raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc
            return tally
        try:
            with session_scope(self._sessions()) as session:
                postgres = session.get_bind().dialect.name == "postgresql"
                if postgres:  # one hit at a time per key (SQLite has one writer at a time)
                    session.execute(select(func.pg_advisory_xact_lock(int(digest[:15], 16))))
                # The first statement writes: on SQLite it takes the write lock before anything
                # is read, so no other hit can land between the read and the write.
                session.execute(
                    delete(table).where(table.c.key == digest, table.c.bucket < window.oldest(now))
                )
                buckets = self._buckets(session, digest, window.oldest(now))
                if limit is not None and sum(buckets.values()) >= limit:
                    return Tally(buckets)
                insert = pg_insert if postgres else sqlite_insert
                upsert = insert(table).values(
                    key=digest, bucket=current, hits=1, expires=math.ceil(window.leaves(current))
                )
                session.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["key", "bucket"], set_={"hits": table.c.hits + 1}
                    )
                )
                buckets[current] = buckets.get(current, 0) + 1
            self._sweep(now)
        except SQLAlchemyError as exc:
            raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc
        return Tally(buckets, added=True)

    @staticmethod
    def _add_postgresql(
        engine: Engine, digest: str, window: Window, now: float, limit: int | None
    ) -> Tally:
        """``add`` on PostgreSQL in one round trip: the rate limit counts every API request,
        and four statements of a transaction of their own, each through the ORM, were a tenth
        of a partner's read (README, "Scaling"). The statements are the same, sent as one
        simple query, which PostgreSQL runs as one transaction: the advisory lock first, then
        each statement with a snapshot taken after it, so no other hit of the key lands
        between the count and the write. Only numbers and the key's hex digest go into the
        text."""
        current, oldest = window.bucket(now), window.oldest(now)
        this_key = f"key = '{digest}' AND bucket >= {oldest}"
        below = (
            "true"
            if limit is None
            else f"(SELECT coalesce(sum(hits), 0) FROM shared_counters WHERE {this_key}) "
            f"< {int(limit)}"
        )
        script = (
            f"SELECT pg_advisory_xact_lock({int(digest[:15], 16)});"
            f"DELETE FROM shared_counters WHERE key = '{digest}' AND bucket < {oldest};"
            f"SELECT bucket, hits FROM shared_counters WHERE {this_key};"
            "INSERT INTO shared_counters (key, bucket, hits, expires) "
            f"SELECT '{digest}', {current}, 1, {math.ceil(window.leaves(current))} WHERE {below} "
            "ON CONFLICT (key, bucket) DO UPDATE SET hits = shared_counters.hits + 1 "
            "RETURNING hits"
        )
        try:
            pooled = engine.raw_connection()
        except SQLAlchemyError as exc:
            raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc
        connection = pooled.driver_connection
        assert connection is not None, "a connection the pool just handed out"
        try:
            # Outside a transaction block the script is one transaction of its own, with no
            # BEGIN and COMMIT of the driver's: two round trips fewer.
            connection.autocommit = True
            try:
                with connection.cursor() as cursor:
                    cursor.execute(script)
                    for _ in range(2):  # the lock's row, the deletion's count
                        cursor.nextset()
                    buckets = {bucket: hits for bucket, hits in cursor.fetchall()}
                    cursor.nextset()
                    added = bool(cursor.fetchall())
            finally:
                if not connection.closed:
                    connection.autocommit = False
        except engine.dialect.loaded_dbapi.Error as exc:
            if connection.closed or connection.broken:
                pooled.invalidate(exc)
            raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc
        finally:
            pooled.close()
        if added:
            buckets[current] = buckets.get(current, 0) + 1
        return Tally(buckets, added=added)

    def read(self, key: str, window: Window, *, now: float) -> Tally:
        try:
            with session_scope(self._sessions()) as session:
                return Tally(self._buckets(session, self._digest(key), window.oldest(now)))
        except SQLAlchemyError as exc:
            raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc

    def clear(self, key: str) -> None:
        table = SharedCounter.__table__
        try:
            with session_scope(self._sessions()) as session:
                session.execute(delete(table).where(table.c.key == self._digest(key)))
        except SQLAlchemyError as exc:
            raise Unavailable(f"database: {str(exc).splitlines()[0]}") from exc

    @staticmethod
    def _buckets(session: Session, digest: str, oldest: int) -> dict[int, int]:
        table = SharedCounter.__table__
        rows = session.execute(
            select(table.c.bucket, table.c.hits).where(
                table.c.key == digest, table.c.bucket >= oldest
            )
        )
        return {bucket: hits for bucket, hits in rows}

    def _sweep(self, now: float) -> None:
        """Delete the expired buckets of every key, once a minute: a key nobody hits again
        would otherwise keep its last rows."""
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.SWEEP_EVERY
        table = SharedCounter.__table__
        with session_scope(self._sessions()) as session:
            session.execute(delete(table).where(table.c.expires < math.floor(now)))


# A count holds a connection for a moment; the pool is small and the counters' own.
COUNTERS_POOL = {"db_pool_size": 2, "db_max_overflow": 8}


@cache
def _own_engine(url: str) -> Engine:
    """The counters' engine for the database at ``url``: on PostgreSQL with a pool of its own
    (the table is the migrations'); a SQLite counters file gets its table here, made by
    whichever worker is first (``IF NOT EXISTS``: two starting together do not collide)."""
    settings = get_settings()
    if make_url(url).get_backend_name() != "sqlite":
        return make_engine(url, settings.model_copy(update=COUNTERS_POOL))
    engine = make_engine(url, settings)
    table = SharedCounter.__table__
    with engine.begin() as conn:
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))
    return engine


def beside(database: str) -> Path:
    """The counters file of a SQLite database file: ``x.db`` → ``x.counters.db``."""
    path = Path(database.removeprefix("file:").split("?", 1)[0])
    return path.with_name(f"{path.stem}.counters{path.suffix or '.db'}")


class Resilient:
    """A shared store that a worker stands in for, in its own memory, while it does not answer.

    After a failure the worker counts on its own for ``RETRY_AFTER`` seconds before asking the
    shared store again, so an outage costs one timeout per worker every few seconds, not one per
    request.
    """

    RETRY_AFTER = 5.0

    def __init__(self, shared: Counters) -> None:
        self.shared = shared
        self.local = MemoryCounters()
        self._down_until = 0.0

    def add(self, key: str, window: Window, *, now: float, limit: int | None = None) -> Tally:
        return self._call(lambda c: c.add(key, window, now=now, limit=limit))

    def read(self, key: str, window: Window, *, now: float) -> Tally:
        return self._call(lambda c: c.read(key, window, now=now))

    def clear(self, key: str) -> None:
        self.local.clear(key)
        self._call(lambda c: c.clear(key))

    def _call(self, operation: Callable[[Counters], T]) -> T:
        if time.monotonic() >= self._down_until:
            try:
                return operation(self.shared)
            except Unavailable as exc:
                self._down_until = time.monotonic() + self.RETRY_AFTER
                log.warning(
                    "shared counters unavailable; this worker counts on its own for a while",
                    extra={"event": "shared_counters_unavailable", "error": str(exc)[:300]},
                )
        FALLBACKS.inc()
        return operation(self.local)


def configured(session_factory: sessionmaker[Session]) -> Counters:
    """The deployment's counters: Redis when ``CM_REDIS_URL`` is set, else the database behind
    ``session_factory``; a worker's own memory when that is a database in memory."""
    url = get_settings().redis_url
    if url:
        return Resilient(RedisCounters.from_url(url))
    bind = session_factory.kw.get("bind")
    if bind is None:
        return MemoryCounters()
    database_url = bind.engine.url
    if database_url.get_backend_name() != "sqlite":
        return Resilient(DatabaseCounters(url=database_url.render_as_string(hide_password=False)))
    database = database_url.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(database_url):
        return MemoryCounters()
    return Resilient(DatabaseCounters(url=f"sqlite:///{beside(database)}"))
