"""Completeness asked again, attacked (``api.routers.analytics._completeness_kept`` and the
reports kept under the reports revision, ``models.analytics.views._Reports``): after a change
committed behind the app's back (raw SQL from another engine, TRUNCATE on PostgreSQL, a
transaction that wrote and rolled back) the next answer is the one computed afresh from the
database; a viewer the grid is not for never gets a 304 for it; the pooled connection the
session-free path used is handed back with nothing open."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session, sessionmaker

from models.core import dates

from .. import factories as f
from ..access.test_kept_actors import PATH, _kept, _raw, two_engines, world  # noqa: F401


def _forget_all(world) -> None:  # noqa: F811
    """Everything this process keeps for completeness, forgotten (the actors stay kept)."""
    from api.routers import analytics as router
    from models.analytics import views

    for kept in (
        views._SETUP._setups,
        views._SETUP._last,
        views._REPORTS._kept,
        views._GRIDS._grids,
        views._REPORTED._sets,
        views._ROWS._rows,
        router._ROW_JSON._json,
        router._GRID_JSON._json,
    ):
        kept.clear()
    world["client"].app.state.response_cache.clear()


def _answer(world) -> dict:  # noqa: F811
    r = world["client"].get(PATH, headers=world["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def _fresh(world) -> dict:  # noqa: F811
    """The answer computed from the database with nothing kept."""
    _forget_all(world)
    return _answer(world)


def _ids(world) -> dict:  # noqa: F811
    with world["writer"].connect() as conn:
        row = conn.execute(
            text(
                "SELECT m.id AS member, p.id AS period, i.id AS indicator "
                "FROM members m, periods p, indicators i WHERE m.initiative_id = :mine "
                "AND p.initiative_id = :mine AND i.initiative_id = :mine"
            ),
            world,
        ).one()
    return dict(row._mapping)


def _report(world, status: str = "submitted", *, total: bool = True) -> int:  # noqa: F811
    """A report of the partner for the quarter, written by raw SQL, with a total for KIDS."""
    ids = _ids(world)
    submitted = "CURRENT_TIMESTAMP" if status != "draft" else "NULL"
    with world["writer"].begin() as conn:
        sid = conn.execute(
            text(
                "INSERT INTO submissions (initiative_id, member_id, period_id, status, version, "
                "is_late, first_submitted_at, submitted_at, created_at, updated_at) VALUES "
                f"(:mine, :member, :period, :status, 1, false, {submitted}, {submitted}, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {**world, **ids, "status": status},
        ).scalar_one()
        if total:
            conn.execute(
                text(
                    'INSERT INTO "values" (submission_id, initiative_id, period_id, '
                    "indicator_id, measure_type, disaggregation, value, flags, updated_at) "
                    "VALUES (:sid, :mine, :period, :indicator, 'count', 'total', 7, '[]', "
                    "CURRENT_TIMESTAMP)"
                ),
                {**world, **ids, "sid": sid},
            )
    return sid


def _kept_twice(world) -> dict:  # noqa: F811
    """The answer kept (the key's actor, the reports, the grid, the response), as it is."""
    _kept(world, world["headers"])
    first = _answer(world)
    assert _answer(world) == first
    return first


# Changes committed by raw SQL from another engine after the answer was kept.
RAW_CHANGES = {
    "status": "UPDATE submissions SET status = 'approved' WHERE id = :sid",
    "returned": "UPDATE submissions SET status = 'returned', submitted_at = NULL WHERE id = :sid",
    "totals deleted, version bumped": (
        'DELETE FROM "values" WHERE submission_id = :sid; '
        "UPDATE submissions SET version = version + 1 WHERE id = :sid"
    ),
    "report deleted": "DELETE FROM submissions WHERE id = :sid",
    "report moved to another period": (
        "INSERT INTO periods (initiative_id, key, kind, starts_on, ends_on, opens_on, due_on, "
        "closes_on) SELECT initiative_id, '2025Q4', kind, starts_on, ends_on, opens_on, due_on, "
        "closes_on FROM periods WHERE id = :period; "
        "UPDATE submissions SET period_id = (SELECT id FROM periods WHERE key = '2025Q4') "
        "WHERE id = :sid"
    ),
    "member deactivated": "UPDATE members SET active = false WHERE id = :member",
    "obligation dropped": "DELETE FROM obligations WHERE member_id = :member",
    "extension granted": (
        "INSERT INTO deadline_extensions (initiative_id, member_id, period_id, until, reason, "
        "granted_at) VALUES (:mine, :member, :period, :later, 'flood', CURRENT_TIMESTAMP)"
    ),
    "organisation renamed": "UPDATE organisations SET name = 'East side' WHERE id = :east",
}


@pytest.mark.parametrize("status", ["draft", "submitted"])
@pytest.mark.parametrize("change", sorted(RAW_CHANGES))
def test_a_kept_answer_follows_raw_sql_from_another_engine(world, change, status) -> None:  # noqa: F811
    sid = _report(world, status)
    before = _kept_twice(world)
    ids = _ids(world)
    for sql in RAW_CHANGES[change].split("; "):
        _raw(world, sql, sid=sid, **ids, later=date.today() + timedelta(days=30))
    after = _answer(world)
    assert after == _fresh(world), change
    # An extension changes nothing for a report on time; everything else moves a cell.
    assert (after != before) is not (change == "extension granted" and status == "submitted")


def test_an_obligation_added_by_raw_sql_shows(world) -> None:  # noqa: F811
    sid = _report(world)
    before = _kept_twice(world)
    ids = _ids(world)
    with world["writer"].begin() as conn:
        new = conn.execute(
            text(
                "INSERT INTO indicators (initiative_id, code, name, measure_type, direction, "
                "unit, frequency) SELECT initiative_id, 'MEALS', 'Meals', measure_type, "
                "direction, unit, frequency FROM indicators WHERE id = :indicator RETURNING id"
            ),
            ids,
        ).scalar_one()
        conn.execute(
            text("INSERT INTO obligations (member_id, indicator_id) VALUES (:member, :new)"),
            {**ids, "new": new},
        )
    after = _answer(world)
    assert after == _fresh(world) and after != before and sid


@pytest.mark.parametrize("table", ["submissions", "deadline_extensions", "obligations"])
def test_a_kept_answer_follows_a_table_emptied(world, table) -> None:  # noqa: F811
    """TRUNCATE (PostgreSQL: it fires no row trigger) or DELETE without WHERE (SQLite)."""
    _report(world, "draft")
    ids = _ids(world)
    _raw(
        world,
        "INSERT INTO deadline_extensions (initiative_id, member_id, period_id, until, reason, "
        "granted_at) VALUES (:mine, :member, :period, :later, 'flood', CURRENT_TIMESTAMP)",
        **ids,
        later=date.today() + timedelta(days=30),
    )
    before = _kept_twice(world)
    postgres = world["writer"].dialect.name == "postgresql"
    _raw(world, f"TRUNCATE {table} CASCADE" if postgres else f"DELETE FROM {table}")
    after = _answer(world)
    assert after == _fresh(world), table
    assert after != before, table


def test_the_day_a_report_becomes_late(world, monkeypatch) -> None:  # noqa: F811
    """Asked the day the period is due and the next: the draft is late the second day only,
    whether the answer is kept or not."""
    _report(world, "draft")
    with world["writer"].connect() as conn:
        due = conn.execute(text("SELECT due_on FROM periods")).scalar_one()
    due = due if isinstance(due, date) else date.fromisoformat(due)
    monkeypatch.setattr(dates, "today", lambda: due)
    on_time = _kept_twice(world)
    monkeypatch.setattr(dates, "today", lambda: due + timedelta(days=1))
    late = _answer(world)
    assert late == _fresh(world) and late != on_time
    assert [c["late"] for c in on_time["cells"]] == [False]
    assert [c["late"] for c in late["cells"]] == [True]


def test_a_write_that_rolled_back_leaves_nothing_kept(world) -> None:  # noqa: F811
    """A transaction of the app's own engine writes a report's status and reads completeness
    (nothing it reads may be kept), then rolls back; another commit then moves the reports
    revision to the number the rolled-back one had: the answer is the committed state."""
    from models.access.api_keys import actor_from_api_key
    from models.analytics.views import completeness

    sid = _report(world)
    _kept_twice(world)
    key = world["headers"]["Authorization"].removeprefix("Bearer ")
    with Session(world["reader"]) as s:
        s.execute(text("UPDATE submissions SET status = 'approved' WHERE id = :sid"), {"sid": sid})
        actor = actor_from_api_key(session=s, key=key)
        mid = completeness(session=s, actor=actor, initiative_slug="mine", period_key="2025Q3")
        assert {c.state for c in mid.cells} == {"approved"}
        s.rollback()
    _raw(world, "UPDATE submissions SET status = 'returned' WHERE id = :sid", sid=sid)
    after = _answer(world)
    assert {c["state"] for c in after["cells"]} == {"returned"}
    assert after == _fresh(world)


def test_a_write_of_another_engine_that_rolled_back_changes_nothing(world) -> None:  # noqa: F811
    sid = _report(world)
    before = _kept_twice(world)
    with world["writer"].connect() as conn:
        conn.execute(
            text("UPDATE submissions SET status = 'approved' WHERE id = :sid"), {"sid": sid}
        )
        conn.rollback()
    assert _answer(world) == before
    _raw(world, "UPDATE submissions SET status = 'returned' WHERE id = :sid", sid=sid)
    after = _answer(world)
    assert {c["state"] for c in after["cells"]} == {"returned"} and after == _fresh(world)


def _etag_for(world, viewer) -> str:  # noqa: F811
    """The ETag the router would give ``viewer`` for completeness now (what anyone who can
    read the initiative's revisions can work out)."""
    from api.routers.analytics import _viewer
    from models.analytics.views import revisions

    with Session(world["reader"]) as s:
        version = revisions(session=s, actor=viewer, initiative_slug="mine")
    key = (
        version.stamp,
        _viewer(viewer),
        "/api/v1/initiatives/mine/completeness",
        (("period", "2025Q3"),),
        dates.today(),
    )
    return f'W/"{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}"'


def test_a_viewer_the_grid_is_not_for_never_gets_a_304(world) -> None:  # noqa: F811
    """The admin's organisation key reports for the partner (it may see the initiative, not
    who has not reported): with the ETag it would have had, it is refused, never told 304."""
    from models.access.api_keys import actor_from_api_key

    _report(world)
    _kept_twice(world)
    org_key = world["org_key"]
    client = world["client"]
    key = world["headers"]["Authorization"].removeprefix("Bearer ")
    with Session(world["reader"]) as s:
        backbone = actor_from_api_key(session=s, key=key)
    # The ETag is worked out as the router makes it: the backbone's is the one it is given.
    assert _etag_for(world, backbone) == client.get(PATH, headers=world["headers"]).headers["ETag"]
    for _ in range(3):  # kept, then asked without a session
        assert client.get(PATH, headers=org_key).status_code == 403
    with Session(world["reader"]) as s:
        reporter = actor_from_api_key(
            session=s, key=org_key["Authorization"].removeprefix("Bearer ")
        )
    assert reporter.reporter_in and not reporter.backbone_of
    guessed = _etag_for(world, reporter)
    for method in ("GET", "HEAD"):
        r = client.request(method, PATH, headers={**org_key, "If-None-Match": guessed})
        assert r.status_code == 403, (method, r.status_code)


def test_the_session_free_path_hands_its_connection_back_clean(world) -> None:  # noqa: F811
    """No transaction left open (PostgreSQL: no snapshot held) on the app's connections."""
    _report(world)
    _kept_twice(world)
    reader = world["reader"]
    reader.pool.dispose()  # its connections from now on are the session-free path's
    pids: list[int] = []

    @event.listens_for(reader, "connect")
    def _pid(dbapi_connection, _record) -> None:
        if reader.dialect.name == "postgresql":
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])

    cache = world["client"].app.state.response_cache
    hits = cache.hits
    world["seen"].clear()
    for _ in range(5):
        assert world["client"].get(PATH, headers=world["headers"]).status_code == 200
    assert cache.hits == hits + 5 and world["seen"] == []  # all without a session
    assert reader.pool.checkedout() == 0
    if reader.dialect.name != "postgresql":
        raw = reader.raw_connection()
        try:
            assert not raw.driver_connection.in_transaction
        finally:
            raw.close()
        return
    with world["writer"].connect() as conn:
        states = conn.execute(
            text(
                "SELECT pid, state, backend_xid, backend_xmin FROM pg_stat_activity "
                "WHERE pid IN :pids"
            ).bindparams(bindparam("pids", expanding=True)),
            {"pids": pids},
        ).all()
    assert pids and len(states) == len(pids), (pids, states)
    assert all(s.state == "idle" and s.backend_xmin is None for s in states), states


def test_a_rate_limit_counts_the_session_free_answers(world) -> None:  # noqa: F811
    _kept_twice(world)
    limiter = world["client"].app.state.rate_limiter
    limiter.per_minute = 3
    statuses = [world["client"].get(PATH, headers=world["headers"]).status_code for _ in range(6)]
    assert statuses.count(429) >= 3, statuses


def test_truncate_triggers_cover_every_watched_table_and_go_with_a_downgrade(two_engines) -> None:  # noqa: F811
    import importlib.util
    from pathlib import Path

    import migrations

    versions = Path(migrations.__file__).parent / "versions"

    def module(name: str):
        spec = importlib.util.spec_from_file_location(name, versions / f"{name}.py")
        assert spec is not None and spec.loader is not None
        found = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(found)
        return found

    setup = module("20261201_0023_setup_revision")
    stamps = module("20261201_0027_report_stamps")
    assert stamps.TRUNCATED == {t: kind for t, (kind, _) in setup.WATCHED.items()}
    writer, _reader = two_engines
    if writer.dialect.name != "postgresql":
        return
    count = text(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND t.tgname LIKE 'revision_%_truncate'"
    )
    with writer.connect() as conn:
        assert conn.execute(count).scalar_one() == len(stamps.TRUNCATED)
    url = writer.url.render_as_string(hide_password=False)
    writer.dispose()
    migrations.downgrade(url, "0026_content_translations")
    with writer.connect() as conn:
        assert conn.execute(count).scalar_one() == 0
    writer.dispose()
    migrations.upgrade(url)
    with writer.connect() as conn:
        assert conn.execute(count).scalar_one() == len(stamps.TRUNCATED)


@pytest.mark.parametrize("role", ["funder", "reporter"])
def test_a_logged_in_viewer_the_grid_is_not_for_never_gets_a_304(world, role) -> None:  # noqa: F811
    """A funder or a reporter of the initiative (logged in, a bearer token) sends the ETag it
    would have had: refused, never told 304 (which would say the reports revision it guessed)."""
    from models import Initiative, Organisation
    from models.access.login import actor_for_token

    _report(world)
    _kept_twice(world)
    with Session(world["writer"]) as s:
        mine = s.get(Initiative, world["mine"])
        east = s.get(Organisation, world["east"])
        email = f"{role}@example.org"
        f.user(s, role, init=mine, org=east if role == "reporter" else None, email=email)
        s.commit()
    client = world["client"]
    token = client.post("/api/v1/auth/token", data={"username": email, "password": f.PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get(PATH, headers=headers).status_code == 403
    with Session(world["reader"]) as s:
        viewer = actor_for_token(session=s, token=token.json()["access_token"])
    guessed = _etag_for(world, viewer)
    for method in ("GET", "HEAD"):
        r = client.request(method, PATH, headers={**headers, "If-None-Match": guessed})
        assert r.status_code == 403, (method, r.status_code)


def test_with_a_replica_nothing_is_answered_without_a_session(world, monkeypatch) -> None:  # noqa: F811
    """A replica (``CM_DATABASE_READ_URL``) may lag: its access revision must never vouch for
    a kept actor, nor its revisions for a kept answer. With one configured, completeness asked
    again is answered with sessions, the actor resolved on the primary."""
    from api.app import create_app
    from api.routers import analytics as router
    from models.core.db import make_engine

    def never(*args, **kwargs):
        raise AssertionError("answered without a session beside a replica")

    monkeypatch.setattr(router, "revisions_alone", never)
    replica = make_engine(world["writer"].url.render_as_string(hide_password=False))
    app = create_app(
        sessionmaker(world["reader"], expire_on_commit=False),
        read_session_factory=sessionmaker(replica, expire_on_commit=False),
    )
    try:
        with TestClient(app) as client:
            answers = [client.get(PATH, headers=world["headers"]) for _ in range(4)]
            assert {a.status_code for a in answers} == {200}
            assert len({a.content for a in answers}) == 1
            _raw(
                world,
                "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = :key_id",
                key_id=world["key"]["id"],
            )
            assert client.get(PATH, headers=world["headers"]).status_code == 401
    finally:
        replica.dispose()


def test_a_kept_key_that_expires_meanwhile_is_refused(world, monkeypatch) -> None:  # noqa: F811
    """No change in the database: the key's expiry passes between two requests."""
    from models.access import api_keys

    soon = datetime.now(UTC) + timedelta(minutes=5)
    _raw(
        world,
        "UPDATE api_keys SET expires_at = :soon WHERE id = :key_id",
        soon=soon,
        key_id=world["key"]["id"],
    )
    _kept_twice(world)
    later = soon + timedelta(seconds=1)
    monkeypatch.setattr(api_keys, "utcnow", lambda: later)
    r = world["client"].get(PATH, headers=world["headers"])
    assert r.status_code == 401, r.status_code


def test_another_initiatives_backbone_is_told_nothing(world) -> None:  # noqa: F811
    """The backbone of another initiative, its key kept there, asks ``mine`` before and after
    mine's answer is kept, with and without mine's ETag, GET and HEAD: 404 every time, as an
    initiative it cannot see, and never mine's answer."""
    from models import Initiative

    client = world["client"]
    with Session(world["writer"]) as s:
        other = f.initiative(s, slug="other")
        f.period(s, other, "2025Q3")
        f.user(s, "backbone", init=other, email="olga@example.org")
        s.commit()
        assert s.get(Initiative, other.id) is not None
    token = client.post(
        "/api/v1/auth/token", data={"username": "olga@example.org", "password": f.PASSWORD}
    ).json()["access_token"]
    made = client.post(
        "/api/v1/api-keys",
        json={"name": "theirs", "initiative": "other"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.text
    theirs = {"Authorization": f"Bearer {made.json()['key']}"}
    own = PATH.replace("/mine/", "/other/")
    for _ in range(3):  # their key kept, their answer kept
        assert client.get(own, headers=theirs).status_code == 200
    _report(world)
    before = client.get(PATH, headers=theirs)
    mine = _kept_twice(world)
    etag = client.get(PATH, headers=world["headers"]).headers["ETag"]
    for extra in ({}, {"If-None-Match": etag}, {"If-None-Match": "*"}):
        for method in ("GET", "HEAD"):
            r = client.request(method, PATH, headers={**theirs, **extra})
            assert r.status_code == 404, (method, extra, r.status_code)
            assert method == "HEAD" or r.content == before.content
    assert before.status_code == 404 and mine
