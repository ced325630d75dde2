"""Read replicas: dashboards, analytics and public pages read from a streaming replica; writes,
who is logged in and whatever a user reads right after their own write go to the primary; a
lagging replica answers its older figures under their older ETag, never under the primary's
(architecture: Scale).

The replica is a real one: a private primary cluster and a hot standby of it made with
``pg_basebackup -R`` (``private_replica`` in tests/conftest.py), built once per pytest worker.
Lag is made by pausing the standby's replay (``pg_wal_replay_pause()``).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.core.db import (
    data_as_of,
    get_read_engine,
    get_read_sessionmaker,
    get_sessionmaker,
    make_engine,
    make_read_engine,
    read_sessionmaker,
)
from models.core.settings import ConfigError, Settings, get_settings
from models.tables.audit import AuditEvent

from .. import factories as f
from ..conftest import POSTGRES_URL, private_postgres_cluster, private_replica, require_postgres

PERIOD = "2020Q1"


@dataclass
class Replicated:
    """A primary and its streaming replica: their engines as the app makes them, and one that
    steers the replica's replay."""

    primary: Engine
    replica: Engine
    control: Engine

    def sessions(self) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
        return sessionmaker(self.primary, expire_on_commit=False), read_sessionmaker(self.replica)

    def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with self.primary.connect() as conn:
            lsn = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.control.connect() as conn:
                replayed = conn.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
                ).scalar_one()
            if replayed:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {lsn} in 30 s")

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica applies nothing the primary writes until the block ends (the startup
        process checks the pause request before each record), then catches up."""
        with self.control.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        try:
            yield
        finally:
            with self.control.connect() as conn:
                conn.execute(text("SELECT pg_wal_replay_resume()"))
            self.caught_up()


@pytest.fixture(scope="session")
def replicated() -> Iterator[Replicated]:
    """Once per worker (each with its own directories and ports): a migrated primary cluster
    and a hot standby of it."""
    with private_postgres_cluster() as primary:
        migrations.upgrade(primary.url)
        with private_replica(primary) as replica:
            engines = Replicated(
                make_engine(primary.url),
                make_read_engine(replica.url),
                create_engine(replica.url, isolation_level="AUTOCOMMIT"),
            )
            try:
                engines.caught_up()
                yield engines
            finally:
                for engine in (engines.primary, engines.replica, engines.control):
                    engine.dispose()


@dataclass
class World:
    slug: str
    orgs: list[str]
    email: str


def _world(engine: Engine) -> World:
    """An initiative of its own (the clusters are shared by the tests of a worker): one count
    indicator, four partners obliged to report it, an open quarter, a backbone officer."""
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        init = f.initiative(s, slug=f"replica-{tag}")
        indicator = f.indicator(s, init, "count", code="N0")
        orgs = []
        for m in range(4):
            member = f.member(s, init, f.organisation(s, slug=f"replica-{tag}-{m}"))
            f.obligation(s, member, indicator)
            orgs.append(member.organisation.slug)
        today = date.today()
        f.period(
            s,
            init,
            PERIOD,
            opens_on=today - timedelta(days=1),
            due_on=today + timedelta(days=10),
            closes_on=today + timedelta(days=20),
        )
        email = f"backbone-{tag}@replica.org"
        f.user(s, "backbone", init=init, email=email)
        slug = init.slug
        s.commit()
    return World(slug, orgs, email)


@dataclass
class Clients:
    replica: TestClient  # the app reading its views from the replica
    primary: TestClient  # the same app with no replica: what the primary answers


@pytest.fixture(scope="session")
def clients(replicated) -> Clients:
    """The API on the primary with the replica for its reads, and on the primary alone (made
    once: an app takes a second or two to build)."""
    from api.app import create_app

    primary, read = replicated.sessions()
    return Clients(
        TestClient(create_app(primary, read_session_factory=read, with_dashboard=False)),
        TestClient(create_app(primary, with_dashboard=False)),
    )


def _login(client: TestClient, world: World) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": world.email, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _report(client: TestClient, headers, world: World, org: str, value: int, *, approve=True):
    """Save, submit (and approve) one partner's report through the API."""
    url = f"/api/v1/initiatives/{world.slug}/submissions/{org}/{PERIOD}"
    saved = client.put(url, json={"values": [{"indicator": "N0", "value": value}]}, headers=headers)
    assert saved.status_code == 200, saved.text
    for action in ("submit", "approve") if approve else ("submit",):
        done = client.post(f"{url}/{action}", headers=headers)
        assert done.status_code == 200, done.text


def _figure(answer) -> float:
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    return row["current"]["value"]


def _point(answer) -> float:
    assert answer.status_code == 200, answer.text
    [point] = [p for p in answer.json()["total"] if p["period"] == PERIOD]
    return point["figure"]["value"]


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_lagging_replica_answers_its_older_figures_with_their_older_etag(
    replicated, clients
) -> None:
    world = _world(replicated.primary)
    client, primary_only = clients.replica, clients.primary
    headers = _login(client, world)
    scorecard = f"/api/v1/initiatives/{world.slug}/scorecard?period={PERIOD}"
    completeness = f"/api/v1/initiatives/{world.slug}/completeness?period={PERIOD}"
    _report(client, headers, world, world.orgs[0], 10)
    replicated.caught_up()
    first = client.get(scorecard, headers=headers)
    assert _figure(first) == 10
    old, old_completeness = first.headers["ETag"], client.get(completeness, headers=headers)

    with replicated.replay_paused():
        # Writes go to the primary: the standby is read-only and applies nothing now.
        _report(client, headers, world, world.orgs[1], 5)
        own = client.get(
            f"/api/v1/initiatives/{world.slug}/submissions/{world.orgs[1]}/{PERIOD}",
            headers=headers,
        )
        assert own.json()["status"] == "approved"  # read-your-writes: from the primary
        on_primary = primary_only.get(scorecard, headers=headers)
        assert _figure(on_primary) == 15
        new = on_primary.headers["ETag"]
        assert new != old

        lagging = client.get(scorecard, headers=headers)
        assert _figure(lagging) == 10 and lagging.headers["ETag"] == old
        assert client.get(scorecard, headers={**headers, "If-None-Match": old}).status_code == 304
        # Asked with the primary's newer ETag, the replica answers its data with its own ETag.
        asked_new = client.get(scorecard, headers={**headers, "If-None-Match": new})
        assert _figure(asked_new) == 10 and asked_new.headers["ETag"] == old
        again = client.get(completeness, headers=headers)
        assert again.json()["counts"] == old_completeness.json()["counts"]
        assert again.headers["ETag"] == old_completeness.headers["ETag"]
        assert primary_only.get(completeness, headers=headers).json()["counts"]["approved"] == 2
        # A view first asked now (nothing cached): computed on the replica, under its version.
        series = f"/api/v1/initiatives/{world.slug}/indicators/N0/series"
        lagging_series = client.get(series, headers=headers)
        assert _point(lagging_series) == 10
        series_etag = lagging_series.headers["ETag"]
        assert series_etag != primary_only.get(series, headers=headers).headers["ETag"]

    caught_up = client.get(scorecard, headers={**headers, "If-None-Match": old})
    assert _figure(caught_up) == 15
    assert caught_up.headers["ETag"] == new  # the primary's version of the same data
    assert client.get(scorecard, headers={**headers, "If-None-Match": new}).status_code == 304
    assert _point(client.get(series, headers={**headers, "If-None-Match": series_etag})) == 15


@pytest.mark.postgres
def test_the_public_summary_is_read_from_the_replica(replicated, clients) -> None:
    world = _world(replicated.primary)
    client = clients.replica
    headers = _login(client, world)
    for org, value in zip(world.orgs, (40, 30, 20, 25), strict=True):
        _report(client, headers, world, org, value)
    summary = f"/api/v1/public/initiatives/{world.slug}/summary"
    replicated.caught_up()
    assert client.get(summary).status_code == 404  # nothing published yet
    with replicated.replay_paused():
        published = client.post(
            f"/api/v1/initiatives/{world.slug}/periods/{PERIOD}/publish",
            json={"confirm_incomplete": True},
            headers=headers,
        )
        assert published.status_code == 201, published.text
        assert client.get(summary).status_code == 404  # the replica has not replayed it
        assert client.get(f"{summary.removesuffix('summary')}datapackage.zip").status_code == 404
    shown = client.get(summary)
    assert shown.status_code == 200, shown.text
    assert PERIOD in shown.text


# --- the dashboard's doors ------------------------------------------------------------------


@pytest.fixture
def dashboard_on(replicated):
    """dashboard.data configured with the primary and the replica; restored afterwards."""
    from dashboard import data

    before = data._session_factory, data._read_session_factory
    data.configure(*replicated.sessions())
    yield data
    data.configure(*before)


def _actor(engine: Engine, email: str) -> Actor:
    from models.tables.access import User

    with Session(engine) as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        return actor_for_user(session=s, user=user)


@pytest.mark.postgres
def test_dashboard_figures_come_from_the_replica_and_the_review_from_the_primary(
    replicated, clients, dashboard_on
) -> None:
    data = dashboard_on
    world = _world(replicated.primary)
    client = clients.replica
    headers = _login(client, world)
    _report(client, headers, world, world.orgs[0], 10)
    _report(client, headers, world, world.orgs[1], 5, approve=False)
    replicated.caught_up()
    with data.acting_as(_actor(replicated.primary, world.email)):
        card, _outcomes, _legend = data.overview(world.slug, PERIOD)
        assert [r.current.value for r in card.rows] == [10]
        with replicated.replay_paused():
            detail = data.review_detail(world.slug, world.orgs[1], PERIOD)
            decided = data.review_decision(
                world.slug, world.orgs[1], PERIOD, "approve", None, detail.submission.version
            )
            assert decided.status == "approved"
            # The reviewer reads their own decision back at once…
            assert data.review_detail(world.slug, world.orgs[1], PERIOD).submission.status == (
                "approved"
            )
            # …while the figures lag with the replica.
            card, _outcomes, _legend = data.overview(world.slug, PERIOD)
            assert [r.current.value for r in card.rows] == [10]
            progress = data.reporting(world.slug, PERIOD)
            assert progress.completeness.counts["approved"] == 1
        card, _outcomes, _legend = data.overview(world.slug, PERIOD)
        assert [r.current.value for r in card.rows] == [15]
        assert data.reporting(world.slug, PERIOD).completeness.counts["approved"] == 2


# --- the replica's own clock ------------------------------------------------------------------


@pytest.mark.postgres
def test_replica_reads_are_one_read_only_snapshot_dated_by_what_was_replayed(
    replicated, clients
) -> None:
    primary, read = replicated.sessions()
    with read() as s:
        assert s.execute(text("SHOW transaction_isolation")).scalar_one() == "repeatable read"
        assert s.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
    with primary() as s:
        assert abs(data_as_of(s) - datetime.now(UTC)) < timedelta(seconds=5)
    world = _world(replicated.primary)
    client = clients.replica
    headers = _login(client, world)
    replicated.caught_up()
    with replicated.replay_paused():
        _report(client, headers, world, world.orgs[0], 10)
        with primary() as s:
            written = s.scalar(select(func.max(AuditEvent.at)))
        time.sleep(0.2)
        with read() as s:
            as_of = data_as_of(s)
        # Paused, the replica vouches for nothing past what it replayed (never "now").
        assert as_of is None or as_of < written
    with read() as s:
        as_of = data_as_of(s)
    assert as_of is not None and as_of >= written


# --- configuration ----------------------------------------------------------------------------


@pytest.fixture
def fresh_configuration():
    """Settings, engines and session factories made afresh from the environment the test sets,
    and dropped (their connections closed) afterwards."""
    from models.core.db import get_engine

    caches = (get_settings, get_sessionmaker, get_read_sessionmaker, get_read_engine, get_engine)
    for cache in caches:
        cache.cache_clear()
    yield
    for made in (get_engine, get_read_engine):
        if made.cache_info().currsize:
            engine = made()
            if engine is not None:
                engine.dispose()
    for cache in caches:
        cache.cache_clear()


def test_the_read_url_must_name_a_postgresql_replica(monkeypatch, fresh_configuration) -> None:
    assert Settings(database_read_url="postgresql://u@replica/cm").database_read_url == (
        "postgresql+psycopg://u@replica/cm"
    )
    monkeypatch.setenv("CM_DATABASE_READ_URL", "sqlite:///var/replica.db")
    with pytest.raises(ConfigError, match="CM_DATABASE_READ_URL: must be a postgresql URL"):
        get_settings()
    get_settings.cache_clear()
    # A replica streams from a PostgreSQL primary: with SQLite there is none.
    monkeypatch.setenv("CM_DATABASE_READ_URL", "postgresql://u@replica/cm")
    monkeypatch.delenv("CM_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="needs a PostgreSQL CM_DATABASE_URL"):
        get_read_sessionmaker()


def test_without_a_read_url_every_read_goes_to_the_primary(monkeypatch, fresh_configuration):
    from api.app import create_app

    monkeypatch.delenv("CM_DATABASE_READ_URL", raising=False)
    assert get_read_engine() is None
    assert get_read_sessionmaker() is get_sessionmaker()
    app = create_app(with_dashboard=False)
    assert app.state.read_session_factory is app.state.session_factory


@pytest.mark.postgres
def test_an_unreachable_replica_is_reported_in_one_line(monkeypatch, fresh_configuration) -> None:
    from models.core.db import check_database

    require_postgres()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CM_DATABASE_URL", POSTGRES_URL)
    monkeypatch.setenv("CM_DATABASE_READ_URL", f"postgresql://postgres@127.0.0.1:{port}/cm")
    with pytest.raises(ConfigError) as refused:
        check_database()
    message = str(refused.value)
    assert message.startswith(
        f"cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:{port}/cm"
    )
    assert "\n" not in message
    monkeypatch.setenv("CM_DATABASE_READ_URL", POSTGRES_URL)  # a read URL naming the primary
    get_settings.cache_clear()
    get_read_engine.cache_clear()
    check_database()
