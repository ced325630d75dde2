"""Kept token actors (models.access.login.token_actor) after every change an actor is made of,
made by another worker (the writer engine) while this worker (the reader engine) keeps the
actor: a role changed, a grant widened, a membership (and with it the reporter grant) removed,
the e-mail or language changed, a password changed, a logout. After each commit the kept actor
is never served: this worker answers exactly as resolving the token afresh does, and a second
worker keeping its own actor does too."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models.access.login import issue_token, token_actor, user_from_token
from models.access.permissions import actor_for_user
from models.core.db import make_engine
from models.core.errors import AuthenticationFailed

from .. import factories as f
from .test_kept_actors import two_engines  # noqa: F401


@pytest.fixture
def people(two_engines):  # noqa: F811
    writer, reader = two_engines
    with Session(writer) as s:
        mine = f.initiative(s, slug="mine")
        theirs = f.initiative(s, slug="theirs")
        east = f.organisation(s, slug="east")
        f.member(s, mine, east)
        f.member(s, theirs, east)
        rita = f.user(s, "reporter", init=mine, org=east, email="rita@example.org")
        s.commit()
        ids = {"mine": mine.id, "theirs": theirs.id, "east": east.id, "rita": rita.id}
        token = issue_token(rita).access_token
    second = make_engine(str(reader.url))  # another worker of the same database
    yield {**ids, "writer": writer, "readers": (reader, second), "token": token}
    second.dispose()


def _kept(people, reader):
    """The actor this worker resolves (and keeps) for the token, or None when refused."""
    with Session(reader) as s:
        try:
            return token_actor(session=s, token=people["token"])
        except AuthenticationFailed:
            return None


def _fresh(people):
    """The token resolved afresh, nothing kept (as before actors were kept)."""
    with Session(people["writer"]) as s:
        try:
            return actor_for_user(session=s, user=user_from_token(session=s, token=people["token"]))
        except AuthenticationFailed:
            return None


def _raw(people, sql: str) -> None:
    with people["writer"].begin() as conn:
        conn.execute(text(sql), {k: v for k, v in people.items() if isinstance(v, int)})


CHANGES = [
    # A grant widened: rita reports for east in the second initiative too.
    (
        "INSERT INTO role_grants (user_id, role, initiative_id, organisation_id) "
        "VALUES (:rita, 'reporter', :theirs, :east)"
    ),
    # A role changed in place: reporter to funder of mine.
    (
        "UPDATE role_grants SET role = 'funder', organisation_id = NULL "
        "WHERE user_id = :rita AND initiative_id = :mine"
    ),
    # The language and the e-mail address.
    "UPDATE users SET locale = 'es' WHERE id = :rita",
    "UPDATE users SET email = 'rita@example.com' WHERE id = :rita",
    # A membership removed: the reporter grant it carried goes with it (a cascade).
    "DELETE FROM members WHERE initiative_id = :theirs AND organisation_id = :east",
    # The last grant revoked.
    "DELETE FROM role_grants WHERE user_id = :rita AND role = 'funder'",
    # A password change or logout (the token version moves), then deactivation.
    "UPDATE users SET password_hash = 'x', token_version = token_version + 1 WHERE id = :rita",
]


def test_every_change_of_an_actor_is_seen_by_every_worker_after_its_commit(people) -> None:
    seen = []
    for change in [None, *CHANGES]:
        if change is not None:
            _raw(people, change)
        expected = _fresh(people)
        for reader in people["readers"]:
            for _ in range(2):  # resolved (and kept), then taken from what is kept
                assert _kept(people, reader) == expected, change
        seen.append(expected)
    assert seen[0] is not None and seen[0].reporter_in == {(people["mine"], people["east"])}
    assert seen[1].reporter_in == {
        (people["mine"], people["east"]),
        (people["theirs"], people["east"]),
    }
    assert seen[2].funder_of == {people["mine"]} and seen[3].locale == "es"
    assert seen[4].label == "user:rita@example.com" and not seen[5].reporter_in
    assert seen[6].funder_of == frozenset() and seen[7] is None


def test_a_deactivated_user_is_refused_by_every_worker(people) -> None:
    for reader in people["readers"]:
        assert _kept(people, reader) is not None
        assert _kept(people, reader) is not None
    _raw(people, "UPDATE users SET is_active = false WHERE id = :rita")
    for reader in people["readers"]:
        assert _kept(people, reader) is None


def test_a_user_row_the_session_read_before_is_not_kept_under_a_newer_revision(people) -> None:
    """A caller's session that read the user before the access revision (its identity map
    holds the row) must not have that older row kept under the revision read after it."""
    from models.tables.access import User

    reader = people["readers"][0]
    with Session(reader) as s:
        rita = s.get(User, people["rita"])  # held: in the session's identity map
        assert rita is not None and rita.is_active
        _raw(people, "UPDATE users SET is_active = false WHERE id = :rita")
        try:
            token_actor(session=s, token=people["token"])
        except AuthenticationFailed:
            pass
    assert _kept(people, reader) is None  # a later request: refused, never the kept actor
