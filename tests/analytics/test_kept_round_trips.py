"""What a repeated answer sends to the database (README, "Scaling"): a figure view's data
version and the access revision its kept actor is checked against in one statement, and
completeness's session-free statement outside any transaction (PostgreSQL: no BEGIN before it,
no ROLLBACK after). A key revoked behind the app's back still stops at once."""

from __future__ import annotations

from sqlalchemy import event

from api.routers.analytics import _figures_cache

from ..access.test_kept_actors import PATH as COMPLETENESS
from ..access.test_kept_actors import _kept, _raw, two_engines, world  # noqa: F401

SCORECARD = "/api/v1/initiatives/mine/scorecard"


def test_a_repeated_figure_answer_reads_its_version_in_one_statement(world) -> None:  # noqa: F811
    # A recent event that may move figures: the initiative's scope is not quiet, and counts.
    _raw(
        world,
        "INSERT INTO audit_events (at, actor_label, initiative_id, entity_type, action) "
        "VALUES (CURRENT_TIMESTAMP, 'script', :mine, 'indicator', 'update')",
    )
    _kept(world, world["headers"], SCORECARD)
    client, seen = world["client"], world["seen"]
    reader = world["reader"]
    handed_back = _handed_back(reader)
    hits = client.app.state.response_cache.hits
    seen.clear()
    assert client.get(SCORECARD, headers=world["headers"]).status_code == 200
    assert client.app.state.response_cache.hits == hits + 1
    if reader.dialect.name == "postgresql":
        # One statement on a pooled DB-API connection, outside any transaction (unseen
        # here): the version with its recent events' counts, the access revision, the key.
        assert seen == [], seen
        assert handed_back == [("IDLE", False)]
    else:
        first, *rest = [s for s in seen if s != "BEGIN"]  # SQLite's own BEGIN (models.core.db)
        assert "access_revisions" in first and "audit_events" in first, seen
        assert len(rest) == 1, seen  # the recent events' count: SQLite has no round trips
    _raw(
        world,
        "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = :kid",
        kid=world["key"]["id"],
    )
    assert client.get(SCORECARD, headers=world["headers"]).status_code == 401


def test_completeness_asked_again_begins_no_transaction(world) -> None:  # noqa: F811
    _kept(world, world["headers"])
    client, reader = world["client"], world["reader"]
    assert client.get(COMPLETENESS, headers=world["headers"]).status_code == 200  # kept again
    handed_back: list[tuple] = []

    @event.listens_for(reader, "reset")
    def _reset(dbapi_connection, record, state) -> None:
        info = getattr(dbapi_connection, "info", None)  # PostgreSQL's driver: its state
        status = info.transaction_status.name if info is not None else None
        handed_back.append((status, getattr(dbapi_connection, "autocommit", None)))

    hits = client.app.state.response_cache.hits
    world["seen"].clear()
    assert client.get(COMPLETENESS, headers=world["headers"]).status_code == 200
    assert client.app.state.response_cache.hits == hits + 1 and world["seen"] == []
    if reader.dialect.name == "postgresql":
        # Idle, as the pool's reset found it: nothing was begun, so nothing is rolled back;
        # and back out of autocommit, as the pool's other users expect it.
        assert handed_back == [("IDLE", False)]
    else:
        assert len(handed_back) == 1


def test_a_figure_answer_kept_across_an_event_reads_its_key_in_that_statement(
    world,  # noqa: F811
) -> None:
    """After an event that moved no figure the answer is kept under its answer key
    (``models.analytics.fresh``): on PostgreSQL read in the first statement, no other."""
    _kept(world, world["headers"], SCORECARD)
    _raw(
        world,
        "INSERT INTO audit_events (at, actor_label, initiative_id, entity_type, action) "
        "VALUES (CURRENT_TIMESTAMP, 'script', :mine, 'indicator', 'update')",
    )
    client, seen = world["client"], world["seen"]
    figures = _figures_cache(client.app)
    hits = figures.hits
    seen.clear()
    assert client.get(SCORECARD, headers=world["headers"]).status_code == 200
    assert figures.hits == hits + 1  # the whole answer kept: nothing computed again
    if world["reader"].dialect.name == "postgresql":
        assert seen == [], seen  # the one statement without a session, as asked again
        return
    statements = [s for s in seen if s != "BEGIN"]
    assert "access_revisions" in statements[0] and "figure_revisions" in " ".join(statements)
    assert len(statements) == 3, seen  # the first statement, the recent events' count, the key


def test_a_figure_answer_computed_again_takes_the_version_read_without_a_session(
    world,  # noqa: F811
) -> None:
    """On PostgreSQL, when nothing kept answers, the session computing the answer takes the
    statement read without one (the version, the access revision, the answer key): it is not
    read twice. The answer is the one computed with a session from the start."""
    _kept(world, world["headers"], SCORECARD)
    client, seen = world["client"], world["seen"]
    client.app.state.response_cache.clear()
    figures = _figures_cache(client.app)
    figures.clear()
    misses = figures.misses
    seen.clear()
    computed = client.get(SCORECARD, headers=world["headers"])
    assert computed.status_code == 200 and figures.misses == misses + 1  # computed again
    read = " ".join(seen)
    if world["reader"].dialect.name == "postgresql":
        assert "access_revisions" not in read and "audit_events" not in read, seen
    else:
        assert "access_revisions" in read, seen
    again = client.get(SCORECARD, headers=world["headers"])
    assert again.content == computed.content and again.headers["ETag"] == computed.headers["ETag"]


def _handed_back(reader) -> list[tuple]:
    """The state of each connection given back to the pool from now on (PostgreSQL's driver:
    its transaction status and autocommit)."""
    handed_back: list[tuple] = []

    @event.listens_for(reader, "reset")
    def _reset(dbapi_connection, record, state) -> None:
        info = getattr(dbapi_connection, "info", None)
        status = info.transaction_status.name if info is not None else None
        handed_back.append((status, getattr(dbapi_connection, "autocommit", None)))

    return handed_back
