"""Authentication: password login, tokens that can't be forged or outlive logout, API keys."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from models.access.login import AuthenticationFailed, issue_token, token_actor
from models.core.settings import get_settings

from .. import factories as f


def _login(client, email, password=f.PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_login_and_me(client, alice) -> None:
    response = _login(client, "Alice@Example.org")
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = client.get("/api/v1/me", headers=_bearer(token)).json()
    assert me["email"] == "alice@example.org"
    assert me["grants"] == [{"role": "backbone", "initiative": "alpha", "organisation": None}]


@pytest.mark.parametrize("password", ["wrong-password-1", ""])
def test_wrong_password_is_401(client, alice, password) -> None:
    response = _login(client, alice.email, password)
    assert response.status_code in (401, 422)
    assert "access_token" not in response.text


def test_unknown_user_is_401_like_a_wrong_password(client) -> None:
    response = _login(client, "nobody@example.org")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_me_requires_login(client) -> None:
    assert client.get("/api/v1/me").status_code == 401


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_forged_tokens_are_refused(client, alice) -> None:
    token = _login(client, alice.email).json()["access_token"]
    none_alg = jwt.encode({"sub": str(alice.id), "ver": 1, "iat": 0, "exp": 4e9}, None, "none")
    wrong_key = jwt.encode(
        {"sub": str(alice.id), "ver": 1, "iat": 0, "exp": 4e9}, "x" * 32, "HS256"
    )
    for bad in (_tampered(token), none_alg, wrong_key, "garbage", token + "x"):
        response = client.get("/api/v1/me", headers=_bearer(bad))
        assert response.status_code == 401, bad
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_refused(client, alice) -> None:
    old = issue_token(alice, now=datetime.now(UTC) - timedelta(days=2)).access_token
    assert client.get("/api/v1/me", headers=_bearer(old)).status_code == 401


def test_logout_invalidates_existing_tokens(client, alice) -> None:
    token = _login(client, alice.email).json()["access_token"]
    assert client.post("/api/v1/auth/logout", headers=_bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    fresh = _login(client, alice.email).json()["access_token"]
    assert client.get("/api/v1/me", headers=_bearer(fresh)).status_code == 200


def test_token_signature_uses_the_configured_secret(alice) -> None:
    token = issue_token(alice).access_token
    claims = jwt.decode(token, get_settings().effective_secret_key, algorithms=["HS256"])
    assert claims["sub"] == str(alice.id)


def test_failed_logins_are_rate_limited_per_account(client, alice) -> None:
    for _ in range(5):
        assert _login(client, alice.email, "wrong-password-1").status_code == 401
    response = _login(client, alice.email)  # even the right password waits out the burst
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["code"] == "too_many_attempts"


def test_success_clears_the_account_counter(client, alice) -> None:
    for _ in range(4):
        _login(client, alice.email, "wrong-password-1")
    assert _login(client, alice.email).status_code == 200
    for _ in range(4):
        assert _login(client, alice.email, "wrong-password-1").status_code == 401


def test_api_key_lifecycle(client, session) -> None:
    org = f.member(
        session, f.initiative(session, slug="alpha"), f.organisation(session, slug="eastside")
    )
    reporter = f.user(session, "reporter", org=org.organisation, email="rep@example.org")
    session.commit()
    token = _login(client, reporter.email).json()["access_token"]

    created = client.post(
        "/api/v1/api-keys",
        json={"name": "SIS export", "organisation": "eastside"},
        headers=_bearer(token),
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("cm_") and len(key) > 40

    me = client.get("/api/v1/me", headers=_bearer(key)).json()
    assert me["kind"] == "api_key"
    assert me["grants"] == [{"role": "reporter", "initiative": "alpha", "organisation": "eastside"}]

    listed = client.get("/api/v1/api-keys", headers=_bearer(token)).json()
    assert [k["name"] for k in listed] == ["SIS export"]
    assert key not in json.dumps(listed)  # shown once, never again

    key_id = created.json()["id"]
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=_bearer(token)).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(key)).status_code == 401


def test_api_key_for_another_organisation_is_404(client, session) -> None:
    init = f.initiative(session)
    mine = f.member(session, init, f.organisation(session)).organisation
    theirs = f.organisation(session, slug="theirs")
    reporter = f.user(session, "reporter", org=mine)
    session.commit()
    token = _login(client, reporter.email).json()["access_token"]
    response = client.post(
        "/api/v1/api-keys", json={"name": "x", "organisation": theirs.slug}, headers=_bearer(token)
    )
    assert response.status_code == 404


def test_api_key_body_forbids_unknown_fields(client, alice) -> None:
    token = _login(client, alice.email).json()["access_token"]
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "initiative": "alpha", "revoked_at": None},
        headers=_bearer(token),
    )
    assert response.status_code == 422


def test_a_token_does_not_pass_to_the_next_account_given_the_same_id(client, session, alice):
    """SQLite gives a deleted user's id to the next user made (the demo's reload deletes and
    makes its users again), and the new account's token version starts where the old one's
    did: the old account's token and session cookie must not sign in as the new person."""
    from sqlalchemy import delete, text

    from models.tables.access import User

    token = _login(client, alice.email).json()["access_token"]
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    old_id = alice.id
    session.execute(delete(User).where(User.id == old_id))
    session.commit()
    if session.get_bind().dialect.name == "postgresql":  # its sequence gives no id again
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('users', 'id'), :id, false)"),
            {"id": old_id},
        )
    mallory = f.user(session, "admin", email="mallory@example.org")
    session.commit()
    assert mallory.id == old_id
    session.expire_all()
    assert session.get(User, old_id).email == "mallory@example.org"
    assert session.get(User, old_id).token_version == 1
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401, response.text
    with pytest.raises(AuthenticationFailed):  # the dashboard's session cookie
        token_actor(session=session, token=token)
    fresh = _login(client, "mallory@example.org").json()["access_token"]
    assert client.get("/api/v1/me", headers=_bearer(fresh)).json()["email"] == (
        "mallory@example.org"
    )
