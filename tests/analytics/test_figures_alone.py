"""The figure views answered without a session (``api.routers.analytics._figures_alone``, on
PostgreSQL's primary): the data version, the access revision and the answer key in one
statement on a pooled connection, the key's kept actor, then a 304, the response cache or
the answer kept under its key. The answer is the one a session gives, byte for byte; a change
through raw SQL from another engine shows in the next answer; a revoked key stops at once;
and no viewer gets another's answer (another initiative's team, a partner's suppressed view)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.routers.analytics import _figures_cache
from models.audit.trail import record
from models.core.actors import SYSTEM
from models.tables.initiative import Initiative
from models.tables.organisation import Organisation

from .. import factories as f
from .test_completeness_kept import HEADERS
from .test_fresh_figures import _setup
from .test_revisions import two_engines  # noqa: F401 (a fixture)

VIEWS = (
    "/api/v1/initiatives/mine/scorecard?period=2025Q3",
    "/api/v1/initiatives/mine/indicators/KIDS/series",
    "/api/v1/initiatives/mine/indicators/RATE/series?by=race",
    "/api/v1/initiatives/mine/indicators/RATE/equity?dimension=race",
)


@pytest.fixture
def world(two_engines) -> Iterator[dict]:  # noqa: F811
    """``test_fresh_figures``' world (East's reports of two quarters approved), an API key of
    the backbone of ``mine``, one of its partner East (a reporter's) and one of the backbone of
    ``other``, and a client of an app on the reader engine whose statements are counted."""
    from api.app import create_app

    writer, reader = two_engines
    ids = _setup(writer)
    with Session(writer) as s:
        mine = s.get(Initiative, ids["mine"])
        other = s.get(Initiative, ids["other"])
        f.user(s, "backbone", init=mine, email="bob@example.org")
        east = s.scalar(select(Organisation).where(Organisation.slug == "east"))
        f.user(s, "reporter", init=mine, org=east, email="fay@example.org")
        f.user(s, "backbone", init=other, email="oli@example.org")
        s.commit()
    seen: list[str] = []

    @event.listens_for(reader, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    with TestClient(app) as client:
        keys = {}
        for name, scope in (
            ("bob", {"initiative": "mine"}),
            ("fay", {"organisation": "east"}),
            ("oli", {"initiative": "other"}),
        ):
            token = client.post(
                "/api/v1/auth/token",
                data={"username": f"{name}@example.org", "password": f.PASSWORD},
            ).json()["access_token"]
            made = client.post(
                "/api/v1/api-keys",
                json={"name": "sync", **scope},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert made.status_code == 201, made.text
            keys[name] = {"Authorization": f"Bearer {made.json()['key']}"}
            keys[f"{name}_id"] = made.json()["id"]
        yield {**ids, "writer": writer, "reader": reader, "client": client, "seen": seen, **keys}


def _postgresql(world) -> bool:
    return world["reader"].dialect.name == "postgresql"


def _kept(world, path: str, headers: dict) -> None:
    """Ask until the key's actor is kept (its first use is booked, which keeps nothing)."""
    for _ in range(3):
        assert world["client"].get(path, headers=headers).status_code in (200, 404)


def _touch(world) -> None:
    """An audit event of the initiative, as the app's writes leave one (raw SQL leaves none)."""
    with Session(world["writer"]) as s:
        record(
            session=s,
            actor=SYSTEM,
            initiative_id=world["mine"],
            entity_type="bench",
            entity_id=None,
            action="touch",
        )
        s.commit()


@pytest.mark.parametrize("path", VIEWS)
def test_the_answer_without_a_session_is_the_sessions_byte_for_byte(world, path) -> None:
    client, seen = world["client"], world["seen"]
    _kept(world, path, world["bob"])
    cache = client.app.state.response_cache
    for encoding in ("identity", "gzip"):
        cache.clear()
        _figures_cache(client.app).clear()
        headers = {**world["bob"], "Accept-Encoding": encoding}
        fresh = client.get(path, headers=headers)  # computed, with a session
        for case in ("asked again", "after an audit event"):
            if case == "after an audit event":
                _touch(world)
            seen.clear()
            again = client.get(path, headers=headers)
            # Without a session on PostgreSQL (one statement, unseen here); SQLite: with one.
            assert (seen == []) == _postgresql(world), seen
            assert again.status_code == fresh.status_code == 200
            assert again.content == fresh.content
            for name in HEADERS:
                if case == "asked again" or name not in ("etag", "last-modified"):
                    assert again.headers.get(name) == fresh.headers.get(name), name
            not_modified = client.get(
                path, headers={**headers, "If-None-Match": again.headers["ETag"]}
            )
            assert not_modified.status_code == 304
            assert (seen == []) == _postgresql(world), seen


def test_a_change_through_raw_sql_shows_and_a_revoked_key_stops_at_once(world) -> None:
    client, path = world["client"], VIEWS[0]
    _kept(world, path, world["bob"])

    def kids() -> float:
        answer = client.get(path, headers=world["bob"])
        assert answer.status_code == 200, answer.text
        return next(r for r in answer.json()["rows"] if r["code"] == "KIDS")["current"]["value"]

    assert kids() == 5
    with world["writer"].begin() as conn:
        conn.execute(text("UPDATE rollups SET sum_value = 8 WHERE sum_value = 5"))
    _touch(world)
    assert kids() == 8
    kids()  # kept again
    with world["writer"].begin() as conn:
        conn.execute(
            text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": world["bob_id"]},
        )
    assert client.get(path, headers=world["bob"]).status_code == 401


@pytest.mark.parametrize("path", VIEWS)
def test_no_viewer_gets_anothers_answer(world, path) -> None:
    """Another initiative's backbone is refused before and after the backbone's answer is
    kept, asked again and after an audit event; the partner gets its own (suppressed) answer."""
    client = world["client"]
    first = {name: client.get(path, headers=world[name]) for name in ("oli", "fay")}
    assert first["oli"].status_code == 404
    _kept(world, path, world["bob"])
    _kept(world, path, world["oli"])
    _kept(world, path, world["fay"])
    mine = client.get(path, headers=world["bob"])
    for case in ("asked again", "after an audit event"):
        if case == "after an audit event":
            _touch(world)
            assert client.get(path, headers=world["bob"]).content == mine.content
        for name in ("oli", "fay"):
            theirs = client.get(path, headers=world[name])
            assert theirs.status_code == first[name].status_code, (name, case)
            assert theirs.content == first[name].content, (name, case)
            if theirs.status_code == 200:
                assert theirs.headers["ETag"] != mine.headers["ETag"]
            refused = client.get(
                path, headers={**world[name], "If-None-Match": mine.headers["ETag"]}
            )
            assert refused.status_code != 304, (name, case)
