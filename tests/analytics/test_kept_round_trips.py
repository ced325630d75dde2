"""What a repeated answer sends to the database (README, "Scaling"): a figure view's data
version and the access revision its kept actor is checked against in one statement, and
completeness's session-free statement outside any transaction (PostgreSQL: no BEGIN before it,
no ROLLBACK after). A key revoked behind the app's back still stops at once."""

from __future__ import annotations

from sqlalchemy import event

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
    hits = client.app.state.response_cache.hits
    seen.clear()
    assert client.get(SCORECARD, headers=world["headers"]).status_code == 200
    assert client.app.state.response_cache.hits == hits + 1
    first, *rest = [s for s in seen if s != "BEGIN"]  # SQLite's own BEGIN (models.core.db)
    assert "access_revisions" in first and "audit_events" in first, seen
    # PostgreSQL counts the recent events in that statement; SQLite (no round trips) after it.
    assert len(rest) == (0 if world["reader"].dialect.name == "postgresql" else 1), seen
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
    figures = client.app.state.figures_cache
    hits = figures.hits
    seen.clear()
    assert client.get(SCORECARD, headers=world["headers"]).status_code == 200
    assert figures.hits == hits + 1  # the whole answer kept: nothing computed again
    statements = [s for s in seen if s != "BEGIN"]
    assert "access_revisions" in statements[0] and "figure_revisions" in " ".join(statements)
    # SQLite: the first statement, the recent events' count, the answer key.
    assert len(statements) == (1 if world["reader"].dialect.name == "postgresql" else 3), seen
