"""Completeness asked again, answered without a session (``api.routers.analytics.
_completeness_kept``): the revisions and the access revision in one statement on a pooled
connection, the key's kept actor, then a 304 or the response cache. The answer is the one a
session gives, byte for byte; it follows raw SQL from another engine at once; and one viewer
never gets another's answer."""

from __future__ import annotations

from sqlalchemy import text

from ..access.test_kept_actors import PATH, _kept, _raw, two_engines, world  # noqa: F401

# What describes an answer (a request's own id and timing aside).
HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
)


def _ask(world, headers, **extra):  # noqa: F811
    return world["client"].get(PATH, headers={**headers, **extra})


def test_the_kept_answer_is_the_sessions_byte_for_byte(world) -> None:  # noqa: F811
    headers = world["headers"]
    _kept(world, headers)
    cache = world["client"].app.state.response_cache
    for encoding in ("identity", "gzip"):
        cache.clear()
        fresh = _ask(world, headers, **{"Accept-Encoding": encoding})  # with a session
        hits = cache.hits
        world["seen"].clear()
        again = _ask(world, headers, **{"Accept-Encoding": encoding})
        assert world["seen"] == [] and cache.hits == hits + 1  # no session
        assert again.status_code == fresh.status_code == 200
        assert again.content == fresh.content
        for name in HEADERS:
            assert again.headers.get(name) == fresh.headers.get(name), name
        not_modified = _ask(world, headers, **{"If-None-Match": again.headers["ETag"]})
        assert not_modified.status_code == 304 and world["seen"] == []


def test_the_kept_answer_follows_raw_sql_from_another_engine(world) -> None:  # noqa: F811
    """A report written and a partner renamed by raw SQL from another engine: the next
    request computes again and shows them."""
    headers = world["headers"]
    _kept(world, headers)
    before = _ask(world, headers)
    with world["writer"].begin() as conn:
        ids = conn.execute(
            text(
                "SELECT m.id AS member, p.id AS period FROM members m, periods p "
                "WHERE m.initiative_id = :mine AND p.initiative_id = :mine"
            ),
            world,
        ).one()
        conn.execute(
            text(
                "INSERT INTO submissions (initiative_id, member_id, period_id, status, version, "
                "is_late, created_at, updated_at) VALUES (:mine, :member, :period, "
                "'submitted', 1, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {**world, "member": ids.member, "period": ids.period},
        )
    after = _ask(world, headers)
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert after.json()["cells"][0]["late"] != before.json()["cells"][0]["late"]
    _raw(world, "UPDATE organisations SET name = 'East side' WHERE id = :east")
    renamed = _ask(world, headers)
    assert "East side" in renamed.text and "East side" not in after.text


def test_one_viewer_never_gets_anothers_kept_answer(world) -> None:  # noqa: F811
    """The admin's organisation key asks before and after the backbone's answer is kept, and
    gets what it got before: its own answer or its own refusal."""
    org_key = world["org_key"]
    first = _ask(world, org_key)
    _kept(world, world["headers"])
    mine = _ask(world, world["headers"])
    for _ in range(3):
        theirs = _ask(world, org_key)
        assert theirs.status_code == first.status_code
        if theirs.status_code == 200:
            assert theirs.headers["ETag"] != mine.headers["ETag"]
            assert theirs.content == first.content
        else:
            assert theirs.content != mine.content
