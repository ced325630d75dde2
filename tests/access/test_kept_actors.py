"""Kept actors (migration 0025_access_revision): a worker keeps an API key's actor under the
database's access revision, and resolves it again after any change to the key, its creator,
their grants or the memberships it acts through — made through the API, or by raw SQL from
another engine (another worker, a script) — so a revoked key or grant is never honoured by a
request after its commit. Booking a key's use or a login moves nothing (README, "Scaling")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

import migrations
from api.routers.analytics import _figures_cache
from models.access.api_keys import _KEPT
from models.core.db import make_engine

from .. import factories as f
from ..conftest import BACKENDS

PATH = "/api/v1/initiatives/mine/completeness?period=2025Q3"


@pytest.fixture(params=BACKENDS)
def two_engines(request, tmp_path) -> Iterator[tuple]:
    """A migrated database, a writer engine and the app's own (another worker's)."""
    from ..conftest import TestDatabase

    db = TestDatabase(request.param, tmp_path)
    migrations.upgrade(db.url)
    writer, reader = db.engine, make_engine(db.url)
    yield writer, reader
    reader.dispose()
    db.drop()


@pytest.fixture
def world(two_engines) -> Iterator[dict]:
    """Initiative ``mine`` (one partner, one quarter), its backbone ``bob`` with an initiative
    key, the admin ``ada`` with a key for the partner's organisation, and a client of an app
    on the reader engine, whose statements are counted by table."""
    from api.app import create_app

    writer, reader = two_engines
    with Session(writer) as s:
        mine = f.initiative(s, slug="mine")
        east = f.organisation(s, slug="east", name="East")
        member = f.member(s, mine, east)
        f.obligation(s, member, f.indicator(s, mine, code="KIDS"))
        f.period(s, mine, "2025Q3")
        bob = f.user(s, "backbone", init=mine, email="bob@example.org")
        ada = f.user(s, "admin", email="ada@example.org")
        s.commit()
        ids = {"mine": mine.id, "east": east.id, "bob": bob.id, "ada": ada.id}
    seen: list[str] = []

    @event.listens_for(reader, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    with TestClient(create_app(sessionmaker(reader, expire_on_commit=False))) as client:
        tokens = {}
        for name in ("bob", "ada"):
            r = client.post(
                "/api/v1/auth/token",
                data={"username": f"{name}@example.org", "password": f.PASSWORD},
            )
            tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        made = client.post(
            "/api/v1/api-keys",
            json={"name": "sync", "initiative": "mine"},
            headers=tokens["bob"],
        )
        assert made.status_code == 201, made.text
        org_key = client.post(
            "/api/v1/api-keys",
            json={"name": "admin sync", "organisation": "east"},
            headers=tokens["ada"],
        )
        assert org_key.status_code == 201, org_key.text
        yield {
            **ids,
            "writer": writer,
            "reader": reader,
            "client": client,
            "tokens": tokens,
            "key": made.json(),
            "headers": {"Authorization": f"Bearer {made.json()['key']}"},
            "org_key": {"Authorization": f"Bearer {org_key.json()['key']}"},
            "seen": seen,
        }


def _is_figure_view(path: str) -> bool:
    """A scorecard, series or equity path (``api.routers.analytics``' figure views)."""
    return urlsplit(path).path.rsplit("/", 1)[-1] in ("scorecard", "series", "equity")


def _kept(world, headers, path: str = PATH) -> None:
    """Ask until the key's actor is kept (its first use is booked, and a use being booked
    keeps nothing), then check that asking again reads neither the key nor any grant."""
    client, seen = world["client"], world["seen"]
    for _ in range(2):
        assert client.get(path, headers=headers).status_code == 200
    # The figure views on PostgreSQL read their version first without a session too (any
    # other view, the initiative's own say, answers with a session every time).
    figures = _is_figure_view(path) and world["reader"].dialect.name == "postgresql"
    if path == PATH or figures:
        # Completeness asked again (and a figure view on PostgreSQL) is answered without a
        # session (its one statement runs on a pooled DB-API connection, unseen here);
        # forgetting the answer makes the request answer with one, as any other.
        cache = client.app.state.response_cache
        hits = cache.hits
        seen.clear()
        assert client.get(path, headers=headers).status_code == 200
        assert seen == [] and cache.hits == hits + 1, seen
        cache.clear()
        if figures:
            _figures_cache(client.app).clear()
    seen.clear()
    assert client.get(path, headers=headers).status_code == 200
    read = " ".join(seen)
    # A figure view's session takes the version and access revision read without one.
    assert ("access_revisions" in read) != figures, read
    assert "api_keys" not in read and "role_grants" not in read, read


def _raw(world, sql: str, **params) -> None:
    with world["writer"].begin() as conn:
        conn.execute(text(sql), {**world, **params})


def _access(world) -> tuple:
    with world["writer"].connect() as conn:
        return tuple(conn.execute(text("SELECT revision, changed_at FROM access_revisions")).one())


def test_a_kept_key_stops_at_once_when_revoked_through_the_api(world) -> None:
    client, headers = world["client"], world["headers"]
    _kept(world, headers)
    gone = client.delete(f"/api/v1/api-keys/{world['key']['id']}", headers=world["tokens"]["bob"])
    assert gone.status_code == 200, gone.text
    assert client.get(PATH, headers=headers).status_code == 401


def test_a_kept_key_loses_its_creators_revoked_grant_through_the_api(world) -> None:
    client, headers = world["client"], world["headers"]
    _kept(world, headers)
    ada = world["tokens"]["ada"]
    grants = client.get(f"/api/v1/users/{world['bob']}", headers=ada).json()["grants"]
    (grant,) = grants
    r = client.delete(f"/api/v1/users/{world['bob']}/grants/{grant['id']}", headers=ada)
    assert r.status_code == 200, r.text
    assert client.get(PATH, headers=headers).status_code == 404  # no longer backbone of mine


# Raw SQL from another engine (another worker or a script), each undone after; what the key's
# next request answers in between.
RAW_CHANGES = [
    ("UPDATE api_keys SET revoked_at = :now WHERE id = :key_id", 401),
    ("UPDATE api_keys SET expires_at = :past WHERE id = :key_id", 401),
    ("UPDATE api_keys SET key_hash = 'x' WHERE id = :key_id", 401),
    ("UPDATE users SET is_active = false WHERE id = :bob", 401),
    ("DELETE FROM role_grants WHERE user_id = :bob", 404),
    ("UPDATE role_grants SET role = 'funder' WHERE user_id = :bob", 404),
    ("UPDATE api_keys SET created_by_id = :ada WHERE id = :key_id", 200),  # an admin's: fine
    ("DELETE FROM api_keys WHERE id = :key_id", 401),
]


@pytest.mark.parametrize(("sql", "status"), RAW_CHANGES)
def test_a_kept_key_follows_raw_sql_from_another_engine(world, sql, status) -> None:
    client, headers = world["client"], world["headers"]
    _kept(world, headers)
    before = _access(world)
    now = datetime.now(UTC)
    _raw(world, sql, key_id=world["key"]["id"], now=now, past=now - timedelta(days=1))
    assert _access(world) != before, sql
    assert client.get(PATH, headers=headers).status_code == status, sql


def test_a_membership_added_by_raw_sql_widens_a_kept_admins_key(world) -> None:
    """An organisation key of an admin acts in every initiative its organisation is a member
    of: a membership added elsewhere shows at once."""
    client, headers = world["client"], world["org_key"]
    _kept(world, headers, "/api/v1/initiatives/mine")
    assert client.get("/api/v1/initiatives/other", headers=headers).status_code == 404
    with Session(world["writer"]) as s:
        other = f.initiative(s, slug="other")
        from models import Organisation

        f.member(s, other, s.get(Organisation, world["east"]))
        s.commit()
    assert client.get("/api/v1/initiatives/other", headers=headers).status_code == 200


def test_booking_a_use_or_a_login_moves_no_access_revision(world) -> None:
    """A key's last use (booked once a minute) and a user's login or rehashed password are
    written often and change no one's rights: the counter stays, so kept actors stay."""
    client, headers = world["client"], world["headers"]
    _kept(world, headers)
    before = _access(world)
    _raw(
        world,
        "UPDATE api_keys SET last_used_at = :past WHERE id = :key_id",
        key_id=world["key"]["id"],
        past=datetime.now(UTC) - timedelta(hours=1),
    )
    assert client.get(PATH, headers=headers).status_code == 200  # books the use again
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "bob@example.org", "password": f.PASSWORD}
        ).status_code
        == 200
    )
    _raw(
        world,
        "UPDATE users SET password_hash = password_hash, last_login_at = :now",
        now=datetime.now(UTC),
    )
    assert _access(world) == before
    _kept(world, headers)  # kept again after its use was booked


def test_a_transaction_that_wrote_keeps_no_actor(world) -> None:
    """A session that has written resolves its key from the rows (what it read may roll
    back), and keeps nothing."""
    from models.access.api_keys import actor_from_api_key

    _KEPT.pop(world["reader"], None)
    key = world["headers"]["Authorization"].removeprefix("Bearer ")
    with Session(world["reader"]) as s:
        s.execute(text("UPDATE users SET name = 'Bob' WHERE id = :bob"), world)
        assert actor_from_api_key(session=s, key=key).backbone_of == {world["mine"]}
        s.rollback()
    assert world["reader"] not in _KEPT or _KEPT[world["reader"]].get("") is None
    kept = _KEPT.get(world["reader"])
    assert kept is None or not kept._kept
