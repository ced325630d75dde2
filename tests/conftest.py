"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is migrated once per database (through Alembic, as in production) into a private
SQLite file or PostgreSQL schema; each test then runs inside a transaction that is rolled back,
so tests are independent and can run in any order. In CI (``CI=true``) an unreachable
PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models.db import make_engine

# Tests make thousands of requests as one user in seconds; the limiter has tests of its own.
os.environ.setdefault("CM_RATE_LIMIT_PER_MINUTE", "0")

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


class _LogCapture(logging.Handler):
    """Keeps every log line of the whole run, so a last test can scan it for secrets."""

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


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2 at production cost takes ~50 ms a hash; tests hash hundreds of passwords."""
    from argon2 import PasswordHasher

    from models import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


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
    import models.disclosure
    from models.settings import get_settings

    monkeypatch.setenv("CM_MIN_CONTRIBUTORS", "1")
    monkeypatch.setenv("CM_DOMINANCE_PERCENT", "0")
    monkeypatch.setattr(models.disclosure, "PARTNERS_ARE_VIEWERS", False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
