"""Invitations: a signed, expiring one-time link, without a table of its own.

The link works once (choosing the password changes the hash it is bound to), dies when the
account changes (deactivation, a revoked grant, a newer link), is never an access token, and
is the one credential written to the log, in its own event's line only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from sqlalchemy import select

from models import User
from models.access import invitations
from models.access.login import LoginThrottle, authenticate
from models.access.passwords import is_usable
from models.core.counters import MemoryCounters
from models.core.errors import AuthenticationFailed, InvalidInput
from models.core.settings import get_settings
from models.tables.audit import AuditEvent

from .. import factories as f
from ..conftest import JWT, LOG_CAPTURE, logged_secrets

NEW_PASSWORD = "a-chosen-password-42"


def _token(client, email, password=f.PASSWORD):
    r = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _token_of(link: str) -> str:
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


def _accept(client, token: str, password: str = NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/invitations/accept", json={"token": token, "password": password}
    )


@pytest.fixture
def world(session, client):
    init = f.initiative(session, slug="alpha")
    other = f.initiative(session, slug="beta")
    east = f.member(session, init, f.organisation(session, slug="east")).organisation
    f.member(session, other, f.organisation(session, slug="far"))
    admin = f.user(session, "admin")
    backbone = f.user(session, "backbone", init=init)
    reporter = f.user(session, "reporter", org=east)
    session.commit()
    return {
        "admin": _token(client, admin.email),
        "backbone": _token(client, backbone.email),
        "reporter": _token(client, reporter.email),
        "reporter_email": reporter.email,
    }


def _invite(client, headers, email="new@east.org", **grant):
    body = {"email": email, "name": "New Person", **(grant or {"role": "reporter"})}
    if body["role"] == "reporter":
        body.setdefault("organisation", "east")
    return client.post("/api/v1/invitations", json=body, headers=headers)


def test_an_invited_person_chooses_a_password_once_then_logs_in(client, world, session) -> None:
    r = _invite(client, world["backbone"])
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["link"].startswith("http://testserver/invite?token=")
    assert answer["user"]["invitation_pending"] is True
    assert answer["user"]["grants"][0]["organisation"] == "east"
    token = _token_of(answer["link"])

    # Until then no password logs in.
    for password in (NEW_PASSWORD, f.PASSWORD, "x"):
        r = client.post(
            "/api/v1/auth/token", data={"username": "new@east.org", "password": password}
        )
        assert r.status_code == 401

    weak = _accept(client, token, "short")
    assert weak.status_code == 422 and weak.json()["field"] == "password", weak.text
    r = _accept(client, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"email": "new@east.org"}
    assert _token(client, "new@east.org", NEW_PASSWORD)

    again = _accept(client, token, "yet-another-password-1")
    assert again.status_code == 422 and again.json()["field"] == "token", again.text
    assert again.json()["code"] == "invitation_invalid"
    user = client.get(f"/api/v1/users/{answer['user']['id']}", headers=world["backbone"]).json()
    assert user["invitation_pending"] is False


def test_who_may_invite_is_who_may_create_the_user(client, world) -> None:
    assert _invite(client, world["admin"], "boss@x.org", role="admin").status_code == 201
    for grant in (
        {"role": "admin"},
        {"role": "reporter", "organisation": "far"},
        {"role": "funder", "initiative": "beta"},
    ):
        assert _invite(client, world["backbone"], "x@y.org", **grant).status_code == 403, grant
    assert _invite(client, world["reporter"]).status_code == 403
    assert client.post("/api/v1/invitations", json={}).status_code == 401
    taken = _invite(client, world["backbone"], world["reporter_email"])
    assert taken.status_code == 409 and taken.json()["field"] == "email"
    bad = _invite(client, world["backbone"], "not-an-email")
    assert bad.status_code == 422 and bad.json()["field"] == "email"


def test_the_link_dies_when_the_account_changes(client, world) -> None:
    answer = _invite(client, world["backbone"]).json()
    user_id, first = answer["user"]["id"], _token_of(answer["link"])
    users = f"/api/v1/users/{user_id}"

    r = client.patch(users, json={"is_active": False}, headers=world["backbone"])
    assert r.status_code == 200, r.text
    assert _accept(client, first).status_code == 422
    r = client.post(f"{users}/invitation", headers=world["backbone"])
    assert r.status_code == 409 and r.json()["field"] == "is_active"

    client.patch(users, json={"is_active": True}, headers=world["backbone"])
    assert _accept(client, first).status_code == 422, "reactivating does not revive old links"
    renewed = client.post(f"{users}/invitation", headers=world["backbone"])
    assert renewed.status_code == 200, renewed.text
    second = _token_of(renewed.json()["link"])
    newer = _token_of(client.post(f"{users}/invitation", headers=world["backbone"]).json()["link"])
    assert _accept(client, second).status_code == 422, "a newer link replaces it"

    grant_id = renewed.json()["user"]["grants"][0]["id"]
    client.delete(f"{users}/grants/{grant_id}", headers=world["admin"])
    assert _accept(client, newer).status_code == 422, "a revoked grant ends the link"


def test_a_link_is_renewed_only_for_pending_accounts_by_who_manages_them(
    client, world, session
) -> None:
    reporter = session.scalar(select(User).where(User.email == world["reporter_email"]))
    r = client.post(f"/api/v1/users/{reporter.id}/invitation", headers=world["admin"])
    assert r.status_code == 409 and r.json()["field"] == "user", r.text

    boss = _invite(client, world["admin"], "boss@x.org", role="admin").json()["user"]["id"]
    # An admin account is invisible to the backbone team (404), and they renew nothing of it.
    assert (
        client.post(f"/api/v1/users/{boss}/invitation", headers=world["backbone"]).status_code
        == 404
    )
    # Someone who also works in another initiative: only an admin renews the link.
    both = _invite(client, world["admin"], "both@x.org", role="reporter", organisation="east")
    both_id = both.json()["user"]["id"]
    r = client.post(
        f"/api/v1/users/{both_id}/grants",
        json={"role": "funder", "initiative": "beta"},
        headers=world["admin"],
    )
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/users/{both_id}/invitation", headers=world["backbone"])
    assert r.status_code == 403, r.text
    assert (
        client.post(f"/api/v1/users/{both_id}/invitation", headers=world["reporter"]).status_code
        == 404
    )


def test_an_invitation_is_no_access_token_and_an_access_token_no_invitation(client, world) -> None:
    token = _token_of(_invite(client, world["backbone"]).json()["link"])
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    bearer = world["reporter"]["Authorization"].removeprefix("Bearer ")
    r = _accept(client, bearer)
    assert r.status_code == 422 and r.json()["field"] == "token"


def test_forged_tampered_and_expired_links_are_refused(client, world, session) -> None:
    answer = _invite(client, world["backbone"]).json()
    token = _token_of(answer["link"])
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-key-of-this-site-at-all", algorithm="HS256")
    tampered = jwt.encode(
        {**claims, "fp": "0" * 32}, get_settings().effective_secret_key, algorithm="HS256"
    )
    unsigned = jwt.encode(claims, None, algorithm="none")
    for bad in (forged, tampered, unsigned, "", "eyJ.x.y", token[:-2]):
        r = _accept(client, bad) if bad else _accept(client, "-")
        assert r.status_code == 422 and r.json()["field"] == "token", (bad, r.text)

    user = session.get(User, answer["user"]["id"])
    link, _ = invitations._link(
        "http://testserver", user, now=datetime.now(UTC) - invitations.INVITATION_TTL - timedelta(1)
    )
    r = _accept(client, _token_of(link))
    assert r.status_code == 422 and r.json()["code"] == "invitation_expired", r.text
    assert _accept(client, token).status_code == 200, "the fresh link still works"


def test_the_domain_reads_the_invitation_and_audits_each_step(session) -> None:
    init = f.initiative(session, slug="alpha")
    east = f.member(session, init, f.organisation(session, slug="east")).organisation
    backbone = f.user(session, "backbone", init=init)
    from models.access.permissions import actor_for_user

    actor = actor_for_user(session=session, user=backbone)
    invitation = invitations.invite_user(
        session=session,
        actor=actor,
        email="New@East.org",
        role="reporter",
        organisation_slug=east.slug,
        name="New Person",
        base_url="https://cm.example.org/",
    )
    user = invitation.user
    assert user.email == "new@east.org" and not is_usable(user.password_hash)
    assert invitation.link.startswith("https://cm.example.org/invite?token=")
    token = _token_of(invitation.link)
    info = invitations.read_invitation(session=session, token=token)
    assert (info.email, info.name) == ("new@east.org", "New Person")
    assert info.expires_at == invitation.expires_at.replace(microsecond=0)
    throttle = LoginThrottle(MemoryCounters())
    with pytest.raises(AuthenticationFailed):
        authenticate(
            session=session, email="new@east.org", password=NEW_PASSWORD, throttle=throttle
        )

    invitations.accept_invitation(session=session, token=token, password=NEW_PASSWORD)
    assert (
        authenticate(
            session=session, email="new@east.org", password=NEW_PASSWORD, throttle=throttle
        )
        == user
    )
    with pytest.raises(InvalidInput) as used:
        invitations.read_invitation(session=session, token=token)
    assert used.value.field == "token"

    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "user", AuditEvent.entity_id == user.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_user_id, e.initiative_id) for e in events] == [
        ("invite", backbone.id, init.id),
        ("invitation_accepted", user.id, init.id),
    ]
    grants = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "grant", AuditEvent.action == "grant")
    ).all()
    assert any(e.after["user_id"] == user.id for e in grants)
    for event in events:
        assert token not in str(event.after) and NEW_PASSWORD not in str(event.after)


def test_the_link_is_logged_in_its_own_event_only(client, world) -> None:
    before = len(LOG_CAPTURE.lines)
    answer = _invite(client, world["backbone"]).json()
    token = _token_of(answer["link"])
    _accept(client, token)
    # One record (the capture hears it twice: on the "cm" logger and on the root).
    carrying = {line for line in LOG_CAPTURE.lines[before:] if token in line}
    assert len(carrying) == 1, carrying
    [line] = carrying
    assert "'name': 'cm.invitations'" in line and f"'event': '{invitations.LOG_EVENT}'" in line
    assert f"'link': '{answer['link']}'" in line
    assert logged_secrets() == [], "the scan lets the invitation's own line through"


def test_the_secret_scan_still_finds_an_invitation_token_elsewhere(client, world) -> None:
    token = _token_of(_invite(client, world["backbone"]).json()["link"])
    assert JWT.search(token), "the scan recognises invitation tokens as it does access tokens"
    stray = logging.LogRecord("cm.test", logging.INFO, __file__, 0, "oops %s", (token,), None)
    before = len(LOG_CAPTURE.lines)
    LOG_CAPTURE.emit(stray)
    try:
        assert len(logged_secrets()) == 1
    finally:
        del LOG_CAPTURE.lines[before:]
