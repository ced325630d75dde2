"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is migrated once per database (through Alembic, as in production) into a private
SQLite file or PostgreSQL schema; each test then runs inside a transaction that is rolled back,
so tests are independent and can run in any order. In CI (``CI=true``) an unreachable
PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import atexit
import glob
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models.core.db import make_engine

# Tests make thousands of requests as one user in seconds; the limiter has tests of its own.
os.environ.setdefault("CM_RATE_LIMIT_PER_MINUTE", "0")
# The tests' webhook receivers listen on this machine; tests/core/test_addresses.py and the
# webhook tests turn the guard back on where they test it.
os.environ["CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true"
# Tests choose their counters' store themselves (a developer's own Redis is not theirs to use).
os.environ["CM_REDIS_URL"] = ""
# What the app keeps under its var directory (the secret key it generates on first use, the
# default SQLite file) goes to a directory of this process's own, removed at exit: ./var would be
# shared by the workers of ``pytest -n``, and two workers generating the key at once would sign
# with different keys (and the run would write into a developer's own var/).
_VAR_DIR = tempfile.mkdtemp(prefix="cm-test-var-")
atexit.register(shutil.rmtree, _VAR_DIR, ignore_errors=True)
os.environ["CM_VAR_DIR"] = _VAR_DIR

POSTGRES_URL = os.environ.get(
    "CM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgresql"]


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
    pytest.skip(message)


def missing_capability(message: str) -> NoReturn:
    """Skip a test that cannot run here; in CI (``CI=true``) fail it instead."""
    if IN_CI:
        pytest.fail(message + " (CI=true: this test must run)")
    pytest.skip(message)


def listening_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1 and listening, for a test server to serve
    on (``sock.getsockname()[1]`` is the port). The server is handed the socket itself, not a
    port found free a moment before: another test (under ``pytest -n``, on another worker)
    cannot take the port in between, nor be reached instead of this test's server."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _postgres_bin_dir() -> Path | None:
    """A directory holding both initdb and pg_ctl: from PATH (following symlinks, so both come
    from the same installation), then pg_config, then the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found:
            candidates += [Path(found).resolve().parent, Path(found).parent]
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], check=False, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            candidates.append(Path(out))

    def version(path: str) -> list[int]:
        return [int(n) for n in re.findall(r"\d+", Path(path).parent.name)]

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += [Path(d) for d in debian] + [Path("/usr/local/pgsql/bin")]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return directory
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster; see ``private_postgres_cluster``."""

    def __init__(self, bin_dir: Path, root: Path, as_user: list[str]) -> None:
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.root = root
        self._as_user = as_user
        self.port = 0
        self.url = ""

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [*self._as_user, str(self.bin_dir / tool), *args]
        done = subprocess.run(
            command, check=False, cwd=self.root, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}{log}"
            )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def _cluster_tools(*tools: str) -> tuple[Path, list[str], pwd.struct_passwd | None]:
    """Where initdb, pg_ctl and ``tools`` are; the command prefix to run them with; the OS user
    that owns a private cluster's files (None when not root). PostgreSQL refuses to run as
    root, so as root they run as the ``postgres`` OS user (``runuser -u postgres --``). Without
    them the test is skipped, or fails in CI."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None or not all(os.access(bin_dir / t, os.X_OK) for t in tools):
        missing_capability(
            f"a private PostgreSQL cluster needs {', '.join(('initdb', 'pg_ctl', *tools))} "
            "(on PATH or under /usr/lib/postgresql/*/bin)"
        )
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        switch = shutil.which("runuser")
        if owner is None or switch is None:
            missing_capability(
                "running as root, a private PostgreSQL cluster needs a 'postgres' OS user "
                "and runuser to run initdb/pg_ctl as (PostgreSQL refuses to run as root)"
            )
        as_user = [switch, "-u", "postgres", "--"]
    return bin_dir, as_user, owner


def _new_cluster(
    bin_dir: Path, as_user: list[str], owner: pwd.struct_passwd | None
) -> PrivateCluster:
    """A cluster whose files will live in a new temporary directory (owned by ``owner``)."""
    root = Path(tempfile.mkdtemp(prefix="cm-pg-"))
    cluster = PrivateCluster(bin_dir, root, as_user)
    cluster.sockets.mkdir()
    if owner is not None:
        for path in (root, cluster.sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    return cluster


def _start_on_a_free_port(cluster: PrivateCluster) -> None:
    for attempt in range(3):  # a free port can be taken before the server binds it
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cluster.port = s.getsockname()[1]
        try:
            cluster.start()
            return
        except RuntimeError:
            if attempt == 2:
                raise


def _discard(cluster: PrivateCluster) -> None:
    """Stop the cluster if it runs and delete its files."""
    if cluster.running():
        try:
            cluster.stop("immediate")
        except (RuntimeError, OSError, subprocess.SubprocessError):
            pass  # cleanup must not hide the test's own failure
    shutil.rmtree(cluster.root, ignore_errors=True)


@contextmanager
def private_postgres_cluster(database: str = "cm") -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of the test's own, for tests that stop or reconfigure PostgreSQL.

    Why: stopping the shared cluster (the one at ``POSTGRES_URL``) makes every other PostgreSQL
    test running at the same time under ``pytest -n`` fail with "the database system is
    shutting down". So such a test gets its own cluster: ``initdb`` into a temporary directory
    (trust authentication), started with ``pg_ctl`` on a free port of 127.0.0.1 with its
    sockets in that directory, with an empty database ``database``; yields it with ``url``
    set (postgresql+psycopg://postgres@127.0.0.1:PORT/DATABASE, not migrated). The cluster is
    stopped and deleted on exit. PostgreSQL refuses to run as root, so as root initdb and
    pg_ctl run as the ``postgres`` OS user, which owns the directory. Without initdb/pg_ctl
    (or, as root, without a ``postgres`` user) the test is skipped, or fails in CI.
    """
    bin_dir, as_user, owner = _cluster_tools()
    cluster = _new_cluster(bin_dir, as_user, owner)
    try:
        cluster._run(
            "initdb",
            "-D",
            str(cluster.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        _start_on_a_free_port(cluster)
        base = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}"
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        cluster.url = f"{base}/{database}"
        yield cluster
    finally:
        _discard(cluster)


@contextmanager
def private_replica(primary: PrivateCluster) -> Iterator[PrivateCluster]:
    """A hot standby of ``primary`` (a private cluster), streaming from it: ``pg_basebackup -R``
    into a temporary directory, started on a free port of its own. initdb's defaults allow it
    (``wal_level=replica``, WAL senders, and a pg_hba.conf that trusts local replication
    connections), so the primary needs no reconfiguring. Yields it with ``url`` naming the
    primary's database on the replica's port; stopped and deleted on exit. Without
    pg_basebackup the test is skipped, or fails in CI."""
    bin_dir, as_user, owner = _cluster_tools("pg_basebackup")
    replica = _new_cluster(bin_dir, as_user, owner)
    try:
        replica._run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )
        _start_on_a_free_port(replica)
        replica.url = (
            make_url(primary.url).set(port=replica.port).render_as_string(hide_password=False)
        )
        yield replica
    finally:
        _discard(replica)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A Redis server of this test process's own, on a Unix socket (no port to collide with
    another worker of ``pytest -n``), empty and without persistence; its URL. Without
    ``redis-server`` the test is skipped, or fails in CI."""
    server = shutil.which("redis-server")
    if server is None:
        missing_capability("redis-server is not installed (apt-get install redis-server)")
    import redis

    directory = tmp_path_factory.mktemp("redis")
    sock = directory / "redis.sock"
    proc = subprocess.Popen(
        [
            server,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"unix://{sock}"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.RedisError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class _LogCapture(logging.Handler):
    """Keeps every log line of this process's run, so it can be scanned for secrets."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage() + " " + repr(vars(record)))
        except Exception:  # noqa: BLE001 - a broken record must not break the run
            self.lines.append(repr(vars(record)))


LOG_CAPTURE = _LogCapture()
logging.getLogger().addHandler(LOG_CAPTURE)
logging.getLogger().setLevel(logging.DEBUG)
for _name in ("cm", "uvicorn", "uvicorn.error", "sqlalchemy"):
    logging.getLogger(_name).addHandler(LOG_CAPTURE)
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)  # no statement echo
# Selenium logs every WebDriver command at DEBUG, the text a browser test types included (the
# demo password on the login form): the test's own typing, not the app's logging.
logging.getLogger("selenium").setLevel(logging.INFO)

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
API_KEY = re.compile(r"cm_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")  # signs webhooks (README, Webhooks)
# The one credential the app logs on purpose: with no mail yet, an invitation's link goes to the
# server log for the inviter to hand over (models/access/invitations.py). Only the line of that
# event may hold it, and only as the link; its token anywhere else is a leak like any other.
INVITATION_EVENT = "'event': 'invitation_link'"
INVITATION_LINK = re.compile(r"/invite\?token=[A-Za-z0-9_.-]+")


def _scanned(line: str) -> str:
    """The line as the secret scan reads it: the invitation event's own link taken out."""
    if INVITATION_EVENT in line:
        return INVITATION_LINK.sub("/invite?token=(the invitation link)", line)
    return line


def logged_secrets() -> list[str]:
    """The lines logged so far in this process that hold a password (the tests' or the demo's),
    an access token, an API key, a webhook's secret or an invitation's token (outside its own
    event's link), each cut to 300 characters."""
    from models.demo.spec import DEMO_PASSWORD

    from .factories import PASSWORD

    return [
        line[:300]
        for line in map(_scanned, LOG_CAPTURE.lines)
        if PASSWORD in line
        or DEMO_PASSWORD in line
        or JWT.search(line)
        or API_KEY.search(line)
        or WEBHOOK_SECRET.search(line)
    ]


@pytest.fixture(autouse=True, scope="session")
def _nothing_secret_was_logged():
    """When the run ends, nothing it logged holds a secret: every login, failed login, API-key
    call and token use of the suite went through the app's logging. The check is made by each
    process, so under ``pytest -n`` by every worker, of everything it ran (an error at the
    teardown of its last test otherwise)."""
    yield
    leaked = logged_secrets()
    assert not leaked, f"{len(leaked)} logged lines hold a secret:\n" + "\n".join(leaked[:10])


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2 at production cost takes ~50 ms a hash; tests hash hundreds of passwords."""
    from argon2 import PasswordHasher

    from models.access import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


@pytest.fixture(autouse=True, scope="session")
def _counters_of_their_own() -> Iterator[weakref.WeakSet]:
    """Every app the tests create counts failed logins and requests in memory of its own,
    unless the test hands it counters: the shared ones (Redis, the database's table or its
    SQLite file) would carry one test's failed logins into the next. The shared stores have
    tests of their own (tests/core/test_counters.py, tests/core/test_two_workers.py). Session
    scoped, so that the apps of module-scoped fixtures get theirs too."""
    from models.core import counters

    made: weakref.WeakSet = weakref.WeakSet()

    def in_memory(_session_factory):
        store = counters.MemoryCounters()
        made.add(store)
        return store

    deployments = counters.configured
    counters.configured = in_memory
    yield made
    counters.configured = deployments


@pytest.fixture(autouse=True)
def _no_counts_from_earlier_tests(_counters_of_their_own):
    """Every test starts with no failed logins or requests counted, also by an app it shares
    with other tests (a module's world, a live server)."""
    for store in list(_counters_of_their_own):
        store.clear_all()


class TestDatabase:
    """A private, migrated database: a SQLite file or a PostgreSQL schema."""

    def __init__(self, backend: str, tmp_dir) -> None:
        self.backend = backend
        self.schema: str | None = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_dir / f'cm-{uuid.uuid4().hex[:8]}.db'}"
        else:
            require_postgres()
            self.schema = f"cm_test_{uuid.uuid4().hex[:10]}"
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            admin.dispose()
            url = make_url(POSTGRES_URL).update_query_dict(
                {"options": f"-csearch_path={self.schema}"}
            )
            self.url = url.render_as_string(hide_password=False)
        self.engine: Engine = make_engine(self.url)

    def migrate(self) -> None:
        migrations.upgrade(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema:
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database(request, tmp_path_factory) -> Iterator[TestDatabase]:
    db = TestDatabase(request.param, tmp_path_factory.mktemp(request.param))
    db.migrate()
    yield db
    db.drop()


@pytest.fixture
def fresh_database(request, tmp_path) -> Iterator[TestDatabase]:
    """An empty, unmigrated database of the backend named by the test's parameter."""
    db = TestDatabase(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def connection(database: TestDatabase):
    with database.engine.connect() as conn:
        trans = conn.begin()
        if conn.dialect.name == "postgresql":
            # The tests' commits are savepoints of this one transaction, which never commits:
            # what PostgreSQL defers to the commit (the revision triggers, migration 0023) runs
            # at each statement instead, as if every statement were committed.
            conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        yield conn
        if trans.is_active:
            trans.rollback()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    """Sessions that share the test's outer transaction; their commits become savepoints."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def app(session_factory):
    from api.app import create_app

    return create_app(session_factory)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def few_partners_allowed(monkeypatch):
    """For tests of the other disclosure rules in worlds of one or two partners: the partner
    rules (tested on their own) are off: one partner is enough, no dominance rule, and the
    viewers are not assumed to be partners who take their own share away."""
    import models.analytics.disclosure
    from models.core.settings import get_settings

    monkeypatch.setenv("CM_MIN_CONTRIBUTORS", "1")
    monkeypatch.setenv("CM_DOMINANCE_PERCENT", "0")
    monkeypatch.setattr(models.analytics.disclosure, "PARTNERS_ARE_VIEWERS", False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
