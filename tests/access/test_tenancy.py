"""Tenancy of access itself: grants per membership, users managed within one's own scopes, keys
bound to a living principal, and an audit trail of every access change.

The scenario tests replay an attack that worked before grants named their initiative: the
backbone of one initiative enrolled another initiative's partner, created a reporter for it
and read (and wrote) the partner's data in the other initiative.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from .. import factories as f

P = "/api/v1"
PW = "another-test-password-9"


def _login(client, email: str, password: str = f.PASSWORD) -> dict[str, str]:
    r = client.post(f"{P}/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _create_user(client, headers, email: str = "mole@x.test", **grant) -> dict:
    """POST /users as ``headers`` (a reporter of riverbend unless ``grant`` says otherwise);
    answers the created user, failing the test on any other answer."""
    grant = grant or {"role": "reporter", "organisation": "riverbend"}
    r = client.post(f"{P}/users", json={"email": email, "password": PW, **grant}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def two(session, client):
    """Initiatives c2c and heat; riverbend reports to c2c (and, with ``both``, may join heat)."""
    today = date.today()
    window = {
        "opens_on": today - timedelta(days=10),
        "due_on": today + timedelta(days=20),
        "closes_on": today + timedelta(days=40),
    }
    c2c = f.initiative(session, slug="c2c")
    heat = f.initiative(session, slug="heat")
    river = f.organisation(session, slug="riverbend")
    cool = f.organisation(session, slug="cool-roofs")
    member = f.member(session, c2c, river)
    f.member(session, heat, cool)
    served = f.indicator(session, c2c, "count", code="SERVED", valid_max=1e6)
    f.obligation(session, member, served)
    f.period(session, c2c, "2025Q3", **window)
    users = {
        "admin": f.user(session, "admin", email="admin@x.test"),
        "bb_c2c": f.user(session, "backbone", init=c2c, email="bb-c2c@x.test"),
        "bb_heat": f.user(session, "backbone", init=heat, email="bb-heat@x.test"),
        "real": f.user(session, "reporter", org=river, email="real@riverbend.test"),
    }
    session.commit()
    headers = {name: _login(client, u.email) for name, u in users.items()}
    put = client.put(
        f"{P}/initiatives/c2c/submissions/riverbend/2025Q3",
        json={"values": [{"indicator": "SERVED", "value": 41}]},
        headers=headers["real"],
    )
    assert put.status_code == 200, put.text
    return {"users": users, "h": headers, "session": session, "c2c_id": c2c.id}


def _reach_c2c(client, headers) -> dict[str, int]:
    """What a principal gets from riverbend's data in c2c."""
    base = f"{P}/initiatives/c2c"
    return {
        "read": client.get(f"{base}/submissions/riverbend/2025Q3", headers=headers).status_code,
        "export": client.get(
            f"{base}/export", params={"format": "csv"}, headers=headers
        ).status_code,
        "write": client.put(
            f"{base}/submissions/riverbend/2025Q3",
            json={"values": [{"indicator": "SERVED", "value": 999}]},
            headers=headers,
        ).status_code,
    }


def test_enrolling_another_initiatives_partner_hands_over_nothing(client, two) -> None:
    h = two["h"]["bb_heat"]
    enrol = client.post(
        f"{P}/initiatives/heat/members",
        json={"organisation": "riverbend", "active": False},
        headers=h,
    )
    assert enrol.status_code == 201, enrol.text
    mole = _create_user(client, h)
    assert [(g["role"], g["initiative"], g["organisation"]) for g in mole["grants"]] == [
        ("reporter", "heat", "riverbend")
    ]
    # Naming the other initiative is refused with the reason.
    aimed = client.post(
        f"{P}/users/{mole['id']}/grants",
        json={"role": "reporter", "organisation": "riverbend", "initiative": "c2c"},
        headers=h,
    )
    assert aimed.status_code == 403 and "c2c" in aimed.json()["detail"]

    mole_h = _login(client, "mole@x.test", PW)
    assert _reach_c2c(client, mole_h) == {"read": 404, "export": 404, "write": 404}

    # Leaving heat ends the grant that worked through the membership.
    left = client.delete(f"{P}/initiatives/heat/members/riverbend", headers=h)
    assert left.status_code == 200, left.text
    me = client.get(f"{P}/me", headers=_login(client, "mole@x.test", PW)).json()
    assert me["grants"] == []
    assert client.get(f"{P}/users/{mole['id']}", headers=h).status_code == 404
    # The real reporter still works.
    assert _reach_c2c(client, two["h"]["real"])["read"] == 200


def test_another_initiatives_users_are_out_of_reach(client, two) -> None:
    h, real = two["h"]["bb_heat"], two["users"]["real"]
    grant_id = real.grants[0].id
    assert client.get(f"{P}/users/{real.id}", headers=h).status_code == 404
    assert client.delete(f"{P}/users/{real.id}/grants/{grant_id}", headers=h).status_code == 404
    assert (
        client.patch(f"{P}/users/{real.id}", json={"is_active": False}, headers=h).status_code
        == 404
    )
    assert (
        client.post(f"{P}/users/{real.id}/password", json={"password": PW}, headers=h).status_code
        == 404
    )
    assert real.email not in {
        u["email"] for u in client.get(f"{P}/users", headers=h).json()["items"]
    }
    assert _reach_c2c(client, two["h"]["real"])["read"] == 200


def test_a_partner_of_both_initiatives_is_managed_per_initiative(client, two) -> None:
    """riverbend joins heat too and its reporter is granted in both (by the admin): heat's
    backbone sees only the heat grant, may revoke only that, and may not touch the account."""
    admin, h = two["h"]["admin"], two["h"]["bb_heat"]
    real = two["users"]["real"]
    assert (
        client.post(
            f"{P}/initiatives/heat/members", json={"organisation": "riverbend"}, headers=admin
        ).status_code
        == 201
    )
    both = client.post(
        f"{P}/users/{real.id}/grants",
        json={"role": "reporter", "organisation": "riverbend", "initiative": "heat"},
        headers=admin,
    )
    assert both.status_code == 201, both.text
    seen = client.get(f"{P}/users/{real.id}", headers=h)
    assert seen.status_code == 200
    body = seen.json()
    assert [(g["initiative"], g["organisation"]) for g in body["grants"]] == [("heat", "riverbend")]
    assert body["name"] is None and body["created_at"] is None  # the account is not heat's
    c2c_grant = next(g.id for g in real.grants if g.initiative_id == two["c2c_id"])
    heat_grant = body["grants"][0]["id"]
    assert client.delete(f"{P}/users/{real.id}/grants/{c2c_grant}", headers=h).status_code == 404
    patch = client.patch(f"{P}/users/{real.id}", json={"is_active": False}, headers=h)
    assert patch.status_code == 403 and "admin" in patch.json()["detail"]
    reset = client.post(f"{P}/users/{real.id}/password", json={"password": PW}, headers=h)
    assert reset.status_code == 403
    assert client.delete(f"{P}/users/{real.id}/grants/{heat_grant}", headers=h).status_code == 200
    # A new reporter made by heat's backbone works in heat only.
    _create_user(client, h)
    assert _reach_c2c(client, _login(client, "mole@x.test", PW)) == {
        "read": 404,
        "export": 404,
        "write": 404,
    }
    assert _reach_c2c(client, _login(client, real.email))["read"] == 200


def test_an_existing_email_is_refused_without_saying_where(client, two) -> None:
    """heat's backbone naming c2c's reporter's address gets 409 that names no initiative, and
    nothing is attached to the account (attaching would put a stranger's account in reach)."""
    h, real = two["h"]["bb_heat"], two["users"]["real"]
    r = client.post(
        f"{P}/users",
        json={"email": real.email, "password": PW, "role": "funder", "initiative": "heat"},
        headers=h,
    )
    assert r.status_code == 409, r.text
    assert "c2c" not in r.text and "riverbend" not in r.text
    assert client.get(f"{P}/users/{real.id}", headers=h).status_code == 404
    me = client.get(f"{P}/me", headers=two["h"]["real"])
    assert me.status_code == 200  # not logged out either
    assert [g["initiative"] for g in me.json()["grants"]] == ["c2c"]


def test_an_account_without_grants_belongs_to_the_admins(client, two) -> None:
    """Off-boarding revokes a person's last grant: no backbone may then reach the account, so
    none can reset its password and take it over."""
    real, c2c = two["users"]["real"], two["h"]["bb_c2c"]
    grant = real.grants[0].id
    assert client.delete(f"{P}/users/{real.id}/grants/{grant}", headers=c2c).status_code == 200
    for who in ("bb_c2c", "bb_heat"):
        h = two["h"][who]
        assert client.get(f"{P}/users/{real.id}", headers=h).status_code == 404
        reset = client.post(f"{P}/users/{real.id}/password", json={"password": PW}, headers=h)
        assert reset.status_code == 404
    again = client.post(
        f"{P}/users",
        json={"email": real.email, "password": PW, "role": "funder", "initiative": "heat"},
        headers=two["h"]["bb_heat"],
    )
    assert again.status_code == 409
    admin = two["h"]["admin"]
    assert client.get(f"{P}/users/{real.id}", headers=admin).status_code == 200


def test_granting_does_not_log_the_person_out(client, two) -> None:
    real = two["users"]["real"]
    added = client.post(
        f"{P}/users/{real.id}/grants",
        json={"role": "funder", "initiative": "c2c"},
        headers=two["h"]["bb_c2c"],
    )
    assert added.status_code == 201
    me = client.get(f"{P}/me", headers=two["h"]["real"])
    assert me.status_code == 200
    assert {g["role"] for g in me.json()["grants"]} == {"reporter", "funder"}


def test_backbone_keys_cannot_manage_access(client, two) -> None:
    created = client.post(
        f"{P}/api-keys", json={"name": "heat ci", "initiative": "heat"}, headers=two["h"]["bb_heat"]
    )
    assert created.status_code == 201, created.text
    key = _bearer(created.json()["key"])
    user = {"email": "k@x.test", "password": PW, "role": "funder", "initiative": "heat"}
    for method, url, body in (
        ("post", f"{P}/users", user),
        ("get", f"{P}/users", None),
        ("post", f"{P}/api-keys", {"name": "child", "initiative": "heat"}),
    ):
        r = client.request(method, url, json=body, headers=key)
        assert r.status_code == 403, (url, r.text)
        assert "key" in r.json()["detail"]


# --- keys live only as long as their creator's rights ---------------------------------------


@pytest.fixture
def keyed(client, two):
    created = client.post(
        f"{P}/api-keys",
        json={"name": "SIS export", "organisation": "riverbend"},
        headers=two["h"]["real"],
    )
    assert created.status_code == 201, created.text
    two["key"] = _bearer(created.json()["key"])
    two["key_id"] = created.json()["id"]
    return two


def _key_reads(client, world) -> int:
    return client.get(
        f"{P}/initiatives/c2c/submissions/riverbend/2025Q3", headers=world["key"]
    ).status_code


def test_a_key_stops_when_its_owner_is_deactivated(client, keyed) -> None:
    admin, real = keyed["h"]["admin"], keyed["users"]["real"]
    assert _key_reads(client, keyed) == 200
    off = client.patch(f"{P}/users/{real.id}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200
    assert _key_reads(client, keyed) == 401
    on = client.patch(f"{P}/users/{real.id}", json={"is_active": True}, headers=admin)
    assert on.status_code == 200
    assert _key_reads(client, keyed) == 200


def test_a_key_loses_what_its_owner_loses(client, keyed) -> None:
    real = keyed["users"]["real"]
    grant = real.grants[0].id
    revoked = client.delete(f"{P}/users/{real.id}/grants/{grant}", headers=keyed["h"]["bb_c2c"])
    assert revoked.status_code == 200
    assert _key_reads(client, keyed) == 404  # authenticated, but reaches nothing now
    assert client.get(f"{P}/me", headers=keyed["key"]).json()["grants"] == []


def test_a_password_reset_revokes_the_owners_keys(client, keyed) -> None:
    real = keyed["users"]["real"]
    reset = client.post(
        f"{P}/users/{real.id}/password", json={"password": PW}, headers=keyed["h"]["bb_c2c"]
    )
    assert reset.status_code == 200, reset.text
    assert _key_reads(client, keyed) == 401
    assert _login(client, real.email, PW)


def test_a_key_cannot_create_keys(client, keyed) -> None:
    r = client.post(
        f"{P}/api-keys", json={"name": "child", "organisation": "riverbend"}, headers=keyed["key"]
    )
    assert r.status_code == 403


def test_keys_expire(client, keyed) -> None:
    h = keyed["h"]["real"]
    past = client.post(
        f"{P}/api-keys",
        json={"name": "old", "organisation": "riverbend", "expires_at": "2020-01-01T00:00:00Z"},
        headers=h,
    )
    assert past.status_code == 422 and past.json()["field"] == "expires_at"
    naive = client.post(
        f"{P}/api-keys",
        json={"name": "naive", "organisation": "riverbend", "expires_at": "2099-01-01T00:00:00"},
        headers=h,
    )
    assert naive.status_code == 422
    soon = datetime.now(UTC) + timedelta(days=1)
    made = client.post(
        f"{P}/api-keys",
        json={"name": "soon", "organisation": "riverbend", "expires_at": soon.isoformat()},
        headers=h,
    )
    assert made.status_code == 201, made.text
    key = _bearer(made.json()["key"])
    assert client.get(f"{P}/me", headers=key).status_code == 200

    from models.tables.access import ApiKey

    session = keyed["session"]
    row = session.get(ApiKey, made.json()["id"])
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    r = client.get(f"{P}/me", headers=key)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_the_backbone_sees_when_partners_keys_were_last_used(client, keyed) -> None:
    assert _key_reads(client, keyed) == 200
    listed = client.get(f"{P}/api-keys", headers=keyed["h"]["bb_c2c"]).json()
    mine = next(k for k in listed if k["id"] == keyed["key_id"])
    assert mine["last_used_at"] is not None
    assert mine["created_by_id"] == keyed["users"]["real"].id
    # heat's backbone does not see it, and c2c's may look but not revoke.
    assert keyed["key_id"] not in {
        k["id"] for k in client.get(f"{P}/api-keys", headers=keyed["h"]["bb_heat"]).json()
    }
    r = client.delete(f"{P}/api-keys/{keyed['key_id']}", headers=keyed["h"]["bb_c2c"])
    assert r.status_code == 403
    assert (
        client.delete(f"{P}/api-keys/{keyed['key_id']}", headers=keyed["h"]["bb_heat"]).status_code
        == 404
    )


# --- every access change is audited --------------------------------------------------------


def _events(client, headers, **params) -> list[tuple[str, str]]:
    r = client.get(f"{P}/audit", params={"limit": 500, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [(e["entity_type"], e["action"]) for e in r.json()["items"]]


ACCESS = {"entity_type": ["user", "grant", "api_key"]}


def test_access_changes_are_audited_where_they_happen(client, keyed) -> None:
    h, admin = keyed["h"], keyed["h"]["admin"]
    real = keyed["users"]["real"]
    mole = _create_user(client, h["bb_heat"], role="funder", initiative="heat")
    assert _key_reads(client, keyed) == 200  # a use of the key
    client.patch(f"{P}/users/{real.id}", json={"is_active": False}, headers=admin)
    client.patch(f"{P}/users/{real.id}", json={"is_active": True}, headers=admin)
    client.post(f"{P}/users/{real.id}/password", json={"password": PW}, headers=admin)
    client.delete(f"{P}/users/{mole['id']}/grants/{mole['grants'][0]['id']}", headers=h["bb_heat"])

    everything = _events(client, admin, **ACCESS)
    for expected in [
        ("user", "create"),
        ("grant", "grant"),
        ("grant", "revoke"),
        ("user", "deactivate"),
        ("user", "activate"),
        ("user", "password_reset"),
        ("api_key", "create"),
        ("api_key", "use"),
    ]:
        assert expected in everything, expected
    reset = client.get(f"{P}/audit", params={"action": "password_reset"}, headers=admin).json()[
        "items"
    ][0]
    assert reset["after"]["api_keys_revoked"] and reset["actor_label"] == "user:admin@x.test"

    heat_view = client.get(f"{P}/audit", params={"limit": 500}, headers=h["bb_heat"]).json()
    assert {e["initiative"] for e in heat_view["items"]} == {"heat"}
    assert ("user", "create") in [(e["entity_type"], e["action"]) for e in heat_view["items"]]
    c2c_view = _events(client, h["bb_c2c"], **ACCESS)
    assert ("user", "deactivate") in c2c_view and ("api_key", "use") in c2c_view
    assert (
        client.get(f"{P}/audit", params={"initiative": "c2c"}, headers=h["bb_heat"]).status_code
        == 404
    )
    assert client.get(f"{P}/audit", headers=_login(client, real.email, PW)).status_code == 403


def test_a_removed_membership_audits_the_grants_it_ends(client, two) -> None:
    h = two["h"]["bb_heat"]
    joined = client.post(
        f"{P}/initiatives/heat/members", json={"organisation": "riverbend"}, headers=h
    )
    assert joined.status_code == 201
    _create_user(client, h)
    assert client.delete(f"{P}/initiatives/heat/members/riverbend", headers=h).status_code == 200
    revoked = client.get(
        f"{P}/audit", params={"entity_type": "grant", "action": "revoke"}, headers=h
    ).json()["items"]
    assert [e["reason"] for e in revoked] == ["membership removed"]
    assert revoked[0]["before"]["email"] == "mole@x.test"


# --- the two-initiative matrix of every user, grant, key and audit route --------------------

PRINCIPALS = ("admin", "bb_a", "bb_b", "key_a", "key_b")
HUMANS = ("admin", "bb_a", "bb_b")


def _expect(admin, bb_a, bb_b, key_a=403, key_b=403) -> dict[str, int]:
    return dict(zip(PRINCIPALS, (admin, bb_a, bb_b, key_a, key_b), strict=True))


NEW = {"email": "new@a.test", "password": PW}
# (method, path template, body, expected per principal); the target user is A's reporter.
MATRIX = [
    ("get", "/users", None, _expect(200, 200, 200)),
    ("post", "/users", {**NEW, "role": "reporter", "organisation": "x"}, _expect(201, 201, 403)),
    ("post", "/users", {**NEW, "role": "funder", "initiative": "a"}, _expect(201, 201, 403)),
    ("post", "/users", {**NEW, "role": "backbone", "initiative": "a"}, _expect(201, 403, 403)),
    ("get", "/users/{user}", None, _expect(200, 200, 404)),
    ("patch", "/users/{user}", {"is_active": False}, _expect(200, 200, 404)),
    ("post", "/users/{user}/password", {"password": PW}, _expect(200, 200, 404)),
    (
        "post",
        "/users/{user}/grants",
        {"role": "funder", "initiative": "a"},
        _expect(201, 201, 404),
    ),
    ("delete", "/users/{user}/grants/{grant}", None, _expect(200, 200, 404)),
    (
        "post",
        "/invitations",
        {"email": "new@a.test", "role": "reporter", "organisation": "x"},
        _expect(201, 201, 403),
    ),
    # A's reporter chose a password long ago: 409 once the caller may manage the account.
    ("post", "/users/{user}/invitation", None, _expect(409, 409, 404)),
    ("get", "/api-keys", None, _expect(200, 200, 200)),
    ("post", "/api-keys", {"name": "n", "initiative": "a"}, _expect(201, 201, 404)),
    ("delete", "/api-keys/{key}", None, _expect(200, 200, 404)),
    ("get", "/audit", None, _expect(200, 200, 200, 200, 200)),
    (
        "post",
        "/auth/password",
        {"current_password": f.PASSWORD, "new_password": PW},
        _expect(204, 204, 204),
    ),
    ("get", "/me", None, _expect(200, 200, 200, 200, 200)),
]


@pytest.fixture
def pair(session, client):
    """Initiatives a and b with a partner each, their backbone officers and their keys."""
    a, b = f.initiative(session, slug="a"), f.initiative(session, slug="b")
    x = f.member(session, a, f.organisation(session, slug="x")).organisation
    z = f.member(session, b, f.organisation(session, slug="z")).organisation
    users = {
        "admin": f.user(session, "admin", email="admin@t.test"),
        "bb_a": f.user(session, "backbone", init=a, email="bb-a@t.test"),
        "bb_b": f.user(session, "backbone", init=b, email="bb-b@t.test"),
        "rep_x": f.user(session, "reporter", org=x, email="rep-x@t.test"),
        "rep_z": f.user(session, "reporter", org=z, email="rep-z@t.test"),
    }
    session.commit()
    h = {name: _login(client, users[name].email) for name in HUMANS}
    keys = {}
    for name, holder, slug in (("key_a", "bb_a", "a"), ("key_b", "bb_b", "b")):
        made = client.post(
            f"{P}/api-keys", json={"name": name, "initiative": slug}, headers=h[holder]
        )
        assert made.status_code == 201, made.text
        h[name] = _bearer(made.json()["key"])
        keys[name] = made.json()["id"]
    return {
        "h": h,
        "ids": {
            "user": users["rep_x"].id,
            "grant": users["rep_x"].grants[0].id,
            "key": keys["key_a"],
        },
        "users": users,
    }


def test_the_matrix_covers_every_access_route(app) -> None:
    documented = {
        (method, path.removeprefix(P))
        for path, item in app.openapi()["paths"].items()
        for method in item
        if path.startswith((f"{P}/users", f"{P}/api-keys", f"{P}/audit", f"{P}/auth/password"))
    }
    covered = {
        (
            method,
            path.replace("{user}", "{user_id}")
            .replace("{grant}", "{grant_id}")
            .replace("{key}", "{key_id}"),
        )
        for method, path, _, _ in MATRIX
    }
    assert documented <= covered, documented - covered


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("case", range(len(MATRIX)), ids=lambda i: f"{MATRIX[i][0]} {MATRIX[i][1]}")
def test_two_initiative_matrix(client, pair, principal: str, case: int) -> None:
    method, path, body, expected = MATRIX[case]
    url = P + path.format(**pair["ids"])
    r = client.request(method, url, json=body, headers=pair["h"][principal])
    assert r.status_code == expected[principal], (principal, method, url, r.text)
    if r.status_code >= 400:
        assert r.json()["detail"]  # every refusal says why
    if principal == "bb_b" and r.status_code < 400:
        # What B's backbone gets back never names A's partner or its people.
        assert "rep-x@t.test" not in r.text and '"x"' not in r.text, r.text


def test_a_reporter_made_elsewhere_reaches_none_of_the_organisations_keys(client, pair) -> None:
    """x joins b and b's backbone makes a reporter for it: that reporter neither lists nor
    revokes the key x's reporter in a made, and b's audit shows nothing of that key."""
    h, users = pair["h"], pair["users"]
    rep_x = _login(client, users["rep_x"].email)
    made = client.post(f"{P}/api-keys", json={"name": "sis", "organisation": "x"}, headers=rep_x)
    assert made.status_code == 201
    key_id = made.json()["id"]
    assert client.get(f"{P}/me", headers=_bearer(made.json()["key"])).status_code == 200  # a use
    join = client.post(f"{P}/initiatives/b/members", json={"organisation": "x"}, headers=h["bb_b"])
    assert join.status_code == 201
    _create_user(client, h["bb_b"], "mole@t.test", role="reporter", organisation="x")
    mole_h = _login(client, "mole@t.test", PW)
    assert key_id not in {k["id"] for k in client.get(f"{P}/api-keys", headers=mole_h).json()}
    assert client.delete(f"{P}/api-keys/{key_id}", headers=mole_h).status_code == 404
    b_events = client.get(f"{P}/audit", params={"entity_type": "api_key"}, headers=h["bb_b"])
    assert key_id not in {e["entity_id"] for e in b_events.json()["items"]}
    a_events = client.get(f"{P}/audit", params={"entity_type": "api_key"}, headers=h["bb_a"])
    assert key_id in {e["entity_id"] for e in a_events.json()["items"]}
