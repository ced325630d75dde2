"""User and grant management; a role change or deactivation invalidates existing tokens."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from models import User
from models.access.passwords import hash_password

from .. import factories as f


def _token(client, email, password=f.PASSWORD):
    r = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def setup(session, client):
    init = f.initiative(session, slug="alpha")
    other = f.initiative(session, slug="beta")
    east = f.member(session, init, f.organisation(session, slug="east")).organisation
    far = f.member(session, other, f.organisation(session, slug="far")).organisation
    admin = f.user(session, "admin")
    backbone = f.user(session, "backbone", init=init)
    reporter = f.user(session, "reporter", org=east)
    stranger = f.user(session, "reporter", org=far)
    session.commit()
    return {
        "admin": _token(client, admin.email),
        "backbone": _token(client, backbone.email),
        "reporter": _token(client, reporter.email),
        "reporter_user": reporter,
        "stranger_user": stranger,
    }


def test_backbone_creates_a_reporter_for_its_partner(client, setup) -> None:
    body = {
        "email": "new@east.org",
        "password": "long-enough-pw",
        "role": "reporter",
        "organisation": "east",
    }
    r = client.post("/api/v1/users", json=body, headers=setup["backbone"])
    assert r.status_code == 201, r.text
    assert r.json()["grants"][0]["organisation"] == "east"
    assert _token(client, "new@east.org", "long-enough-pw")


def test_backbone_cannot_create_admins_or_other_initiatives_reporters(client, setup) -> None:
    base = {"email": "x@y.org", "password": "long-enough-pw"}
    for extra in (
        {"role": "admin"},
        {"role": "reporter", "organisation": "far"},
        {"role": "funder", "initiative": "beta"},
    ):
        r = client.post("/api/v1/users", json={**base, **extra}, headers=setup["backbone"])
        assert r.status_code == 403, extra


def test_reporters_cannot_manage_users(client, setup) -> None:
    assert client.get("/api/v1/users", headers=setup["reporter"]).json()["total"] == 0
    r = client.post(
        "/api/v1/users",
        headers=setup["reporter"],
        json={
            "email": "x@y.org",
            "password": "long-enough-pw",
            "role": "reporter",
            "organisation": "east",
        },
    )
    assert r.status_code == 403


def test_backbone_sees_only_users_it_manages(client, setup) -> None:
    emails = {
        u["email"] for u in client.get("/api/v1/users", headers=setup["backbone"]).json()["items"]
    }
    assert setup["reporter_user"].email in emails
    assert setup["stranger_user"].email not in emails
    r = client.get(f"/api/v1/users/{setup['stranger_user'].id}", headers=setup["backbone"])
    assert r.status_code == 404


def test_a_grant_applies_at_once_and_a_revocation_ends_the_sessions(client, setup) -> None:
    """Rights are read on every request, so a new grant works in the running session (adding
    one never logs anybody out); revoking one also ends the user's tokens."""
    reporter = setup["reporter_user"]
    assert client.get("/api/v1/me", headers=setup["reporter"]).status_code == 200
    r = client.post(
        f"/api/v1/users/{reporter.id}/grants",
        headers=setup["admin"],
        json={"role": "funder", "initiative": "alpha"},
    )
    assert r.status_code == 201, r.text
    fresh = setup["reporter"]
    roles = {g["role"] for g in client.get("/api/v1/me", headers=fresh).json()["grants"]}
    assert roles == {"reporter", "funder"}

    grant_id = next(g["id"] for g in r.json()["grants"] if g["role"] == "funder")
    assert (
        client.delete(
            f"/api/v1/users/{reporter.id}/grants/{grant_id}", headers=setup["admin"]
        ).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=fresh).status_code == 401


def test_deactivated_user_cannot_log_in(client, setup) -> None:
    reporter = setup["reporter_user"]
    assert (
        client.patch(
            f"/api/v1/users/{reporter.id}", json={"is_active": False}, headers=setup["admin"]
        ).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=setup["reporter"]).status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": reporter.email, "password": f.PASSWORD})
    assert r.status_code == 401


def test_login_rehashes_a_password_hashed_with_weaker_parameters(
    client, session, monkeypatch
) -> None:
    from models.access import passwords

    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    user = f.user(session, "admin", email="old@example.org")
    user.password_hash = weak.hash(f.PASSWORD)
    session.commit()
    old_hash = user.password_hash
    _token(client, "old@example.org")
    session.expire_all()
    new_hash = session.scalar(select(User.password_hash).where(User.email == "old@example.org"))
    assert new_hash != old_hash
    assert not passwords.needs_rehash(new_hash)
    assert passwords.verify_password(new_hash, f.PASSWORD)
    assert hash_password("x").startswith("$argon2id$")


def test_backbone_deactivates_only_accounts_it_wholly_manages(client, setup, session) -> None:
    """A's backbone manages every grant of east's reporter, so it may deactivate it; once the
    reporter also works in beta, the account is no longer A's alone (403)."""
    reporter = setup["reporter_user"]
    url = f"/api/v1/users/{reporter.id}"
    off = client.patch(url, json={"is_active": False}, headers=setup["backbone"])
    assert off.status_code == 200, off.text
    assert client.patch(url, json={"is_active": True}, headers=setup["backbone"]).status_code == 200
    assert (
        client.post(
            "/api/v1/initiatives/beta/members",
            json={"organisation": "east"},
            headers=setup["admin"],
        ).status_code
        == 201
    )
    r = client.post(
        f"{url}/grants",
        json={"role": "reporter", "organisation": "east", "initiative": "beta"},
        headers=setup["admin"],
    )
    assert r.status_code == 201, r.text
    refused = client.patch(url, json={"is_active": False}, headers=setup["backbone"])
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
