"""Attack review of kept actors (migration 0025_access_revision): what a worker keeps of an API
key must never outlive a change to the rows it was made of, however the change is made."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models import RoleGrant
from models.access.api_keys import _KEPT, actor_from_api_key

from .test_kept_actors import PATH, _access, _kept, _raw, two_engines, world  # noqa: F401


def test_truncating_a_watched_table_stops_a_kept_key(world) -> None:  # noqa: F811
    """A script that empties the grants (PostgreSQL's TRUNCATE fires no row trigger) must not
    leave a worker honouring the grants it kept."""
    w = world
    if w["writer"].dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    client, headers = w["client"], w["headers"]
    _kept(w, headers)
    before = _access(w)
    _raw(w, "TRUNCATE role_grants")
    assert _access(w) != before
    assert client.get(PATH, headers=headers).status_code == 404  # bob is backbone no more


def test_a_grant_flushed_while_resolving_a_key_and_rolled_back_is_not_kept(world) -> None:  # noqa: F811
    """Resolving a key flushes the session's pending changes (a grant given in this unit of
    work counts): what it then reads may roll back, so it must not be kept for others."""
    w = world
    client, headers = w["client"], w["headers"]
    _kept(w, headers)
    _raw(w, "DELETE FROM role_grants WHERE user_id = :bob")
    assert client.get(PATH, headers=headers).status_code == 404
    _KEPT.pop(w["reader"], None)  # this worker starts afresh (a restart, an eviction)
    key = headers["Authorization"].removeprefix("Bearer ")
    with Session(w["reader"]) as s:
        s.add(RoleGrant(user_id=w["bob"], role="backbone", initiative_id=w["mine"]))
        assert actor_from_api_key(session=s, key=key).backbone_of == {w["mine"]}
        s.rollback()
    assert client.get(PATH, headers=headers).status_code == 404  # the grant never was
