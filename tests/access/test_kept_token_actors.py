"""Kept token actors (models.access.login.token_actor): the dashboard's session cookie resolves
to its user's actor kept under the access revision, and is resolved again after any change to
the user or their grants made by raw SQL from another engine (another worker, a script), so a
revoked grant, a deactivated user or a logout is never honoured by a request after its commit;
the token's signature and expiry are checked on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from models.access.login import issue_token, token_actor
from models.core.errors import AuthenticationFailed

from .. import factories as f
from .test_kept_actors import two_engines  # noqa: F401


@pytest.fixture
def people(two_engines):  # noqa: F811
    writer, reader = two_engines
    with Session(writer) as s:
        mine = f.initiative(s, slug="mine")
        bob = f.user(s, "backbone", init=mine, email="bob@example.org")
        s.commit()
        ids = {"mine": mine.id, "bob": bob.id}
        token = issue_token(bob).access_token
    seen: list[str] = []

    @event.listens_for(reader, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    return {**ids, "writer": writer, "reader": reader, "token": token, "seen": seen}


def _actor(people, token=None):
    with Session(people["reader"]) as s:
        return token_actor(session=s, token=token or people["token"])


def _raw(people, sql: str) -> None:
    with people["writer"].begin() as conn:
        conn.execute(text(sql), {"bob": people["bob"], "mine": people["mine"]})


def _kept(people):
    """Resolve the token until kept, then check that resolving it again reads neither the
    user nor any grant: the access revision only."""
    first = _actor(people)
    people["seen"].clear()
    assert _actor(people) == first
    read = " ".join(people["seen"])
    assert "access_revisions" in read
    assert "role_grants" not in read and "FROM users" not in read, read
    return first


def test_a_kept_token_actor_loses_a_grant_revoked_by_raw_sql(people) -> None:
    actor = _kept(people)
    assert actor.is_backbone(people["mine"])
    _raw(people, "DELETE FROM role_grants WHERE user_id = :bob")
    assert not _actor(people).is_backbone(people["mine"])


def test_a_kept_token_stops_when_its_user_is_deactivated_or_logs_out(people) -> None:
    _kept(people)
    _raw(people, "UPDATE users SET token_version = token_version + 1 WHERE id = :bob")
    with pytest.raises(AuthenticationFailed):
        _actor(people)


def test_a_kept_token_stops_when_its_user_is_deactivated(people) -> None:
    _kept(people)
    _raw(people, "UPDATE users SET is_active = false WHERE id = :bob")
    with pytest.raises(AuthenticationFailed):
        _actor(people)


def test_an_expired_or_forged_token_is_refused_though_its_user_is_kept(people) -> None:
    _kept(people)
    with Session(people["writer"]) as s:
        from models.tables.access import User

        bob = s.get(User, people["bob"])
        old = issue_token(bob, now=datetime.now(UTC) - timedelta(days=2)).access_token
    with pytest.raises(AuthenticationFailed):
        _actor(people, old)
    with pytest.raises(AuthenticationFailed):
        _actor(people, people["token"][:-2] + "xx")
