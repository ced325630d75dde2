"""Completeness read by two requests of one process at once while the setup changes
(``models.analytics.views._Setup``): on PostgreSQL's primary each statement sees what was
committed before it, so two requests that read the same revisions can read two different
setups. Whatever each keeps, the next request reads the setup as it now is."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..access.test_kept_actors import _raw, two_engines, world  # noqa: F401
from .test_completeness_attacks import _report


def _forget_all() -> None:
    """Everything the view keeps across requests, forgotten."""
    from models.analytics import views

    for kept in (
        views._SETUP._setups,
        views._SETUP._last,
        views._REPORTS._kept,
        views._GRIDS._grids,
        views._REPORTED._sets,
        views._ROWS._rows,
    ):
        kept.clear()


def _ask(world):  # noqa: F811
    from models.analytics import views
    from models.core.actors import Actor

    backbone = Actor(user_id=world["bob"], label="bob", backbone_of=frozenset({world["mine"]}))
    with Session(world["reader"]) as session:
        return views.completeness(
            session=session, actor=backbone, initiative_slug="mine", period_key="2025Q3"
        )


# Setup changes that leave every report's part of the grid as it was.
CHANGES = {
    "indicator renamed": "UPDATE indicators SET name = 'Children' WHERE initiative_id = :mine",
    "organisation renamed": "UPDATE organisations SET name = 'East side' WHERE id = :east",
    "due date moved": "UPDATE periods SET due_on = closes_on WHERE initiative_id = :mine",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_setup_read_newer_than_its_revisions_never_takes_an_older_ones_grid(
    world,  # noqa: F811
    change,
) -> None:
    """Request one reads the revisions, then waits before reading the setup; request two reads
    both and keeps its grid; the setup changes; request one reads the new setup (under the
    same revisions). The request after that must not be given the grid kept from the setup
    as it was."""
    _report(world, "draft")
    _forget_all()
    held, go, first = threading.Event(), threading.Event(), {}

    @event.listens_for(world["reader"], "before_cursor_execute")
    def _hold(conn, cursor, statement, *args) -> None:
        mine = threading.get_ident() == first.get("thread")
        if mine and "periods.starts_on" in statement and not held.is_set():
            held.set()  # request one has read the revisions, not yet the setup
            go.wait(30)

    def request_one() -> None:
        first["thread"] = threading.get_ident()
        first["answer"] = _ask(world)

    one = threading.Thread(target=request_one)
    one.start()
    assert held.wait(30)
    two = _ask(world)  # the setup as it was, its grid kept
    assert two.cells
    _raw(world, CHANGES[change])
    go.set()
    one.join(30)
    assert "answer" in first
    after = _ask(world)
    _forget_all()
    fresh = _ask(world)
    assert (fresh.members, fresh.indicators, fresh.due_on) != (
        two.members,
        two.indicators,
        two.due_on,
    )
    assert replace(after, key=None) == replace(fresh, key=None), change
