"""Attacks on the figure views answered without a session (``api.routers.analytics.
_figures_alone``): a write that commits between the statement read without a session and the
session that computes the answer (which takes that statement's row) never leaves an answer
under a newer ETag than its figures, nor a 304 for a copy that is no longer current; and a
change of access or of what the answer is made of (a role, a grant, the threshold, a
publication), made by another engine, reaches no answer kept before it. On SQLite (no path
without a session) the same requests must give the same guarantees."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from api.routers import analytics
from api.routers.analytics import _figures_cache

from .test_figures_alone import VIEWS, _kept, _touch, world  # noqa: F401 (a fixture)
from .test_revisions import two_engines  # noqa: F401 (a fixture)

SCORECARD = VIEWS[0]


def _kids(answer) -> dict:
    assert answer.status_code == 200, answer.text
    return next(r for r in answer.json()["rows"] if r["code"] == "KIDS")["current"]


def _change_kids(world) -> None:  # noqa: F811
    """East's 2025Q3 figure moves from 5 to 8 (raw SQL, the audit event the app would leave)."""
    with world["writer"].begin() as conn:
        conn.execute(text("UPDATE rollups SET sum_value = 8 WHERE sum_value = 5"))
    _touch(world)


@pytest.mark.parametrize("before", ["nothing kept", "answer kept under its key", "response cached"])
def test_a_write_between_the_statement_and_the_answer_never_gets_a_newer_etag(
    world,  # noqa: F811
    monkeypatch,
    before,
) -> None:
    """The write commits right after the one statement read without a session (PostgreSQL; on
    SQLite, right before the session reads). Whatever answers — the session computing with
    that statement's row, a kept answer, the response cache — the answer's ETag is never the
    one of the data after the write unless its figures are those after the write, and a
    client holding it gets a 304 only while its figures are current."""
    client, headers = world["client"], world["bob"]
    _kept(world, SCORECARD, headers)
    old = client.get(SCORECARD, headers=headers)
    assert _kids(old)["value"] == 5
    if before != "response cached":
        client.app.state.response_cache.clear()
    if before == "nothing kept":
        _figures_cache(client.app).clear()
    elif before == "answer kept under its key":
        _touch(world)  # a new data version: the response cache misses, the key's answer is kept
    written: list[bool] = []
    original: Callable = analytics.version_alone

    def then_a_write(*args, **kwargs):
        read = original(*args, **kwargs)
        if not written:
            written.append(True)
            _change_kids(world)
        return read

    monkeypatch.setattr(analytics, "version_alone", then_a_write)
    raced = client.get(SCORECARD, headers=headers)
    assert written, "the statement without a session was not asked"
    monkeypatch.setattr(analytics, "version_alone", original)
    now = client.get(SCORECARD, headers=headers)
    assert _kids(now)["value"] == 8
    assert now.headers["ETag"] != old.headers["ETag"]
    if raced.headers["ETag"] == now.headers["ETag"]:
        assert raced.content == now.content  # the new ETag only ever with the new figures
    revalidated = client.get(SCORECARD, headers={**headers, "If-None-Match": raced.headers["ETag"]})
    if revalidated.status_code == 304:
        assert raced.content == now.content, "a 304 for figures that are no longer current"
    else:
        assert _kids(revalidated)["value"] == 8
    stale = client.get(SCORECARD, headers={**headers, "If-None-Match": old.headers["ETag"]})
    assert stale.status_code == 200 and _kids(stale)["value"] == 8


def _kept_and_moved(world, path: str, headers: dict):  # noqa: F811
    """The viewer's answer, asked until kept (response cache and answer key), then asked after
    an audit event (a new data version whose answer is kept under its key)."""
    _kept(world, path, headers)
    first = world["client"].get(path, headers=headers)
    assert first.status_code == 200, first.text
    return first


@pytest.mark.parametrize("path", VIEWS)
def test_a_role_changed_or_a_grant_removed_reaches_no_kept_answer(world, path) -> None:  # noqa: F811
    """Bob (backbone) becomes a funder of the same initiative: his key's next answer is a
    funder's (nothing published: suppressed), never the backbone's kept one, with or without
    an audit event after; with his grant removed he sees nothing."""
    client, bob = world["client"], world["bob"]
    backbone = _kept_and_moved(world, path, bob)
    with world["writer"].begin() as conn:
        conn.execute(
            text(
                "UPDATE role_grants SET role = 'funder' WHERE user_id = "
                "(SELECT id FROM users WHERE email = 'bob@example.org')"
            )
        )
    as_funder = client.get(path, headers=bob)
    assert as_funder.status_code in (200, 404), as_funder.text
    assert as_funder.content != backbone.content
    assert as_funder.headers.get("ETag") != backbone.headers["ETag"]
    refused = client.get(path, headers={**bob, "If-None-Match": backbone.headers["ETag"]})
    assert refused.status_code != 304
    with world["writer"].begin() as conn:
        conn.execute(
            text(
                "DELETE FROM role_grants WHERE user_id = "
                "(SELECT id FROM users WHERE email = 'bob@example.org')"
            )
        )
    for _ in range(2):
        gone = client.get(path, headers=bob)
        assert gone.status_code in (401, 403, 404), gone.text
        _touch(world)


def test_the_threshold_reaches_no_kept_answer(world) -> None:  # noqa: F811
    """The threshold changed (raw SQL by another engine, with the audit event the app leaves):
    the next answer without a session shows it, to the backbone and to a partner. (A funder's
    key sees nothing: only the backbone's keys act in an initiative, so publication, which
    only funders and the public wait for, reaches this path through no viewer.)"""
    client = world["client"]
    before = {name: _kept_and_moved(world, SCORECARD, world[name]) for name in ("bob", "fay")}
    with world["writer"].begin() as conn:
        conn.execute(text("UPDATE initiatives SET suppression_threshold = 9"))
    _touch(world)
    for name in ("bob", "fay"):
        for _ in range(2):
            after = client.get(SCORECARD, headers=world[name])
            assert after.json()["threshold"] == 9 != before[name].json()["threshold"], name
