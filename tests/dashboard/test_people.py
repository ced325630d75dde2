"""The People page and the invitation page over HTTP: what each user's callbacks answer, what a
forged callback gets, and that bad input lands next to its field."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from models import ApiKey, User
from models.access.passwords import is_usable

from .. import factories as f
from ..dash_calls import call, log_in, render_page, response_of, text_of

GOOD = "a-chosen-password-42"
# What the page stores for the backbone team's forms (the detail draws them from it).
CHOICES = {
    "roles": ["reporter", "funder"],
    "initiatives": [["c2c", "Cradle to Career"]],
    "members": {"c2c": [["east", "Eastside"], ["west", "Westside"]]},
}


@pytest.fixture
def world(session, client):
    """Initiative c2c (partners east, west), its backbone; another initiative with its own."""
    init = f.initiative(session, slug="c2c", name="Cradle to Career")
    other = f.initiative(session, slug="heat", name="Extreme Heat")
    east = f.member(session, init, f.organisation(session, slug="east", name="Eastside"))
    west = f.member(session, init, f.organisation(session, slug="west", name="Westside"))
    far = f.member(session, other, f.organisation(session, slug="far", name="Farside"))
    users = {
        "admin": f.user(session, "admin", email="admin@x.test"),
        "backbone": f.user(session, "backbone", init=init, email="bb@c2c.test"),
        "reporter": f.user(session, "reporter", org=east.organisation, email="rep@east.test"),
        "west": f.user(session, "reporter", org=west.organisation, email="rep@west.test"),
        "funder": f.user(session, "funder", init=init, email="funder@c2c.test"),
        "outsider": f.user(session, "backbone", init=other, email="bb@heat.test"),
        "far": f.user(session, "reporter", org=far.organisation, email="rep@far.test"),
    }
    session.commit()
    return {"users": users}


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _list(client, initiative="_all"):
    return call(
        client,
        "..people-users.rowData",
        [("people-initiative", "value", initiative), ("people-refresh", "data", 0)],
    )


def _emails(answer) -> set[str]:
    return {row["email"] for row in response_of(answer)["people-users"]["rowData"]}


def _invite(client, email="new@east.test", role="reporter", initiative="c2c", org="east"):
    return call(
        client,
        "..people-invite-result.children",
        [("people-invite-send", "n_clicks", 1)],
        state=[
            ("people-invite-email", "value", email),
            ("people-invite-name", "value", "New Person"),
            ("people-invite-role", "value", role),
            ("people-invite-initiative", "value", initiative),
            ("people-invite-organisation", "value", org),
            ("people-refresh", "data", 0),
        ],
    )


def _link(answer) -> str:
    out = response_of(answer)
    found = []

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == "people-invitation-link":
                found.append(props["value"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    [link] = found
    return link


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _accept(client, token, password=GOOD, repeat=None):
    return call(
        client,
        "..invite-result.children",
        [("invite-accept", "n_clicks", 1)],
        state=[
            ("invite-password", "value", password),
            ("invite-repeat", "value", password if repeat is None else repeat),
            ("invite-token", "data", token),
        ],
    )


def _user(session, email) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


# --- who gets the page --------------------------------------------------------------------------


def test_people_page_is_for_admins_and_backbone_staff(client, world) -> None:
    _as(client, world, None)
    assert "cm-login-redirect" in text_of(render_page(client, "/people"))
    for role in ("reporter", "funder"):
        _as(client, world, role)
        page = text_of(render_page(client, "/people"))
        assert "people-not-allowed" in page and "people-users" not in page, role
        assert "/people" not in text_of(client.get("/_dash-layout")), role
    for role in ("admin", "backbone"):
        _as(client, world, role)
        page = text_of(render_page(client, "/people"))
        assert "people-users" in page and "people-invite-send" in page, role
        assert "/people" in text_of(client.get("/_dash-layout")), role


def test_backbone_offers_only_what_it_may_grant(client, world) -> None:
    _as(client, world, "backbone")
    page = text_of(render_page(client, "/people"))
    assert "Reporter (for a partner organisation)" in page and "Funder" in page
    assert "Admin (the whole deployment)" not in page
    assert "Extreme Heat" not in page and "Farside" not in page
    _as(client, world, "admin")
    page = text_of(render_page(client, "/people"))
    assert "Admin (the whole deployment)" in page and "Extreme Heat" in page


def test_the_list_holds_only_the_people_one_manages(client, world) -> None:
    _as(client, world, "backbone")
    assert _emails(_list(client)) == {"rep@east.test", "rep@west.test", "funder@c2c.test"}
    assert _emails(_list(client, "c2c")) == {"rep@east.test", "rep@west.test", "funder@c2c.test"}
    refused = response_of(_list(client, "heat"))
    assert refused["people-users"]["rowData"] == [] and "cm-error" in str(refused)
    _as(client, world, "admin")
    assert len(_emails(_list(client))) == 7
    assert _emails(_list(client, "heat")) == {"bb@heat.test", "rep@far.test"}
    for role in ("reporter", "funder"):
        _as(client, world, role)
        assert _emails(_list(client)) == set(), role
    _as(client, world, None)
    assert _emails(_list(client)) == set()


# --- invitations --------------------------------------------------------------------------------


def test_backbone_invites_and_the_person_accepts_once(client, world, session) -> None:
    _as(client, world, "backbone")
    answer = _invite(client)
    link = _link(answer)
    assert link.startswith("http://testserver/invite?token=")
    assert "It is shown only this once" in text_of(answer)
    invited = _user(session, "new@east.test")
    assert invited is not None and not is_usable(invited.password_hash)
    rows = response_of(_list(client))["people-users"]["rowData"]
    assert {"email": "new@east.test", "status": "invitation pending"}.items() <= next(
        r for r in rows if r["email"] == "new@east.test"
    ).items()

    _as(client, world, None)  # the invitee is nobody yet
    page = text_of(render_page(client, "/invite", "?token=" + _token(link)))
    assert "new@east.test" in page and "invite-accept" in page
    weak = response_of(_accept(client, _token(link), "short"))
    assert weak["invite-password"]["invalid"] is True
    assert "at least 12 characters" in weak["invite-password-error"]["children"]
    assert weak["invite-form"]["hidden"] is False
    differ = response_of(_accept(client, _token(link), GOOD, "another-password-9"))
    assert differ["invite-repeat"]["invalid"] is True
    assert differ["invite-password"]["invalid"] is False
    done = response_of(_accept(client, _token(link)))
    assert "invite-done" in str(done) and done["invite-form"]["hidden"] is True
    r = client.post(
        "/auth/login", data={"email": "new@east.test", "password": GOOD}, follow_redirects=False
    )
    assert "error" not in r.headers["location"]

    again = response_of(_accept(client, _token(link), "yet-another-one-1"))
    assert "invite-dead" in str(again)
    page = text_of(render_page(client, "/invite", "?token=" + _token(link)))
    assert "invite-dead" in page and "invite-accept" not in page
    assert "invite-missing" in text_of(render_page(client, "/invite"))


def test_invitation_mistakes_are_shown_next_to_their_field(client, world, session) -> None:
    _as(client, world, "backbone")
    bad = response_of(_invite(client, email="not-an-email"))
    assert bad["people-invite-email"]["invalid"] is True
    assert bad["people-invite-email-error"]["children"]
    taken = response_of(_invite(client, email="rep@west.test"))
    assert taken["people-invite-email"]["invalid"] is True
    assert "cannot be registered" in taken["people-invite-email-error"]["children"]
    empty = response_of(_invite(client, email="  "))
    assert empty["people-invite-email"]["invalid"] is True
    no_org = response_of(_invite(client, email="x@east.test", org=None))
    assert no_org["people-invite-organisation"]["invalid"] is True
    # Forged: an admin grant, or a partner of another initiative: refused by the domain.
    admin = response_of(_invite(client, email="boss@x.test", role="admin"))
    assert "Not allowed" in str(admin["people-invite-result"])
    far = response_of(_invite(client, email="mole@far.test", initiative="heat", org="far"))
    assert "Not allowed" in str(far["people-invite-result"])
    for email in ("boss@x.test", "mole@far.test", "x@east.test"):
        assert _user(session, email) is None


def test_a_reporter_forging_an_invitation_creates_nobody(client, world, session) -> None:
    _as(client, world, "reporter")
    answer = response_of(_invite(client, email="friend@east.test"))
    assert "Not allowed" in str(answer["people-invite-result"])
    _as(client, world, None)
    answer = response_of(_invite(client, email="friend@east.test"))
    assert "people-invitation-link" not in str(answer)
    assert _user(session, "friend@east.test") is None


# --- changing a person ----------------------------------------------------------------------------


def _detail(client, user_id, refresh=0):
    return call(
        client,
        "people-detail.children",
        [("people-selected", "data", user_id), ("people-refresh", "data", refresh)],
        state=[("people-choices", "data", CHOICES), ("people-initiative", "value", "_all")],
    )


REVOKE = '{"grant":["ALL"],"type":"people-revoke"}'
ACTIVE = '{"set":["ALL"],"type":"people-active"}'


def _fire(client, trigger, state: dict, *, value=1, clicked: dict | None = None):
    """Click ``trigger`` as the browser does: the callback is found by its input (several
    callbacks write the detail's feedback), every state comes from ``state`` (None if absent).
    For a pattern-matching input (``REVOKE``, ``ACTIVE``), ``clicked`` is the button's id."""
    deps = client.get("/_dash-dependencies").json()
    [dep] = [d for d in deps if any(i["id"] == trigger for i in d["inputs"])]
    inputs = []
    for i in dep["inputs"]:
        if clicked is not None and i["id"] == trigger:
            inputs.append([{"id": clicked, "property": i["property"], "value": value}])
        else:
            pressed = value if i["id"] == trigger else None
            inputs.append({"id": i["id"], "property": i["property"], "value": pressed})
    source = json.dumps(clicked, sort_keys=True, separators=(",", ":")) if clicked else trigger
    body = {
        "output": dep["output"],
        "outputs": [
            dict(zip(("id", "property"), p.split("."), strict=True))
            for p in dep["output"].strip(".").split("...")
        ],
        "inputs": inputs,
        "state": [
            {"id": s["id"], "property": s["property"], "value": state.get(s["id"])}
            for s in dep["state"]
        ],
        "changedPropIds": [f"{source}.n_clicks"],
    }
    if len(body["outputs"]) == 1:
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", json=body)


def _grant(client, user_id, role, initiative, org=None):
    return _fire(
        client,
        "people-grant-add",
        {
            "people-selected": user_id,
            "people-grant-role": role,
            "people-grant-initiative": initiative,
            "people-grant-organisation": org,
            "people-refresh": 0,
        },
    )


def _act(client, trigger, user_id, password=None):
    """Deactivate ("off"), reactivate ("on"), or click a button of the account's own."""
    state = {"people-selected": user_id, "people-refresh": 0, "people-reset-password": password}
    if trigger in ("off", "on"):
        return _fire(client, ACTIVE, state, clicked={"set": trigger, "type": "people-active"})
    return _fire(client, trigger, state)


def test_backbone_changes_grants_and_the_account_of_its_partner(client, world, session) -> None:
    _as(client, world, "backbone")
    rep = world["users"]["reporter"]
    detail = text_of(_detail(client, rep.id))
    assert "reporter for east in c2c" in detail and "people-active" in detail and '"off"' in detail

    added = _grant(client, rep.id, "funder", "c2c")
    assert "Granted funder" in text_of(added), added.text
    assert {g.role for g in _user(session, rep.email).grants} == {"reporter", "funder"}
    wrong = response_of(_grant(client, rep.id, "reporter", "c2c", None))
    assert wrong["people-grant-organisation"]["invalid"] is True
    twice = response_of(_grant(client, rep.id, "funder", "c2c"))
    assert twice["people-grant-role"]["invalid"] is True  # has it already (409 on 'role')

    funder_grant = next(g for g in _user(session, rep.email).grants if g.role == "funder")
    revoked = _fire(
        client,
        REVOKE,
        {"people-selected": rep.id, "people-refresh": 0},
        clicked={"grant": funder_grant.id, "type": "people-revoke"},
    )
    assert "Grant revoked" in text_of(revoked), revoked.text
    assert {g.role for g in _user(session, rep.email).grants} == {"reporter"}

    off = _act(client, "off", rep.id)
    assert "is deactivated" in text_of(off), off.text
    assert _user(session, rep.email).is_active is False
    assert '"set":"on"' in text_of(_detail(client, rep.id)).replace(" ", "")
    on = _act(client, "on", rep.id)
    assert "may log in again" in text_of(on)

    weak = _act(client, "people-reset", rep.id, "short")
    assert response_of(weak)["people-reset-password"]["invalid"] is True
    good = _act(client, "people-reset", rep.id, GOOD)
    assert "Password reset" in text_of(good), good.text
    r = client.post(
        "/auth/login", data={"email": rep.email, "password": GOOD}, follow_redirects=False
    )
    assert "error" not in r.headers["location"]


def test_an_account_working_elsewhere_is_left_to_the_admins(client, world, session) -> None:
    _as(client, world, "admin")
    rep = world["users"]["reporter"]
    assert "Granted funder" in text_of(_grant(client, rep.id, "funder", "heat"))
    _as(client, world, "backbone")
    detail = text_of(_detail(client, rep.id))
    assert "people-account-elsewhere" in detail and "people-active" not in detail
    assert "heat" not in detail, "nothing of what the person does elsewhere"
    off = _act(client, "off", rep.id)
    assert "only an admin" in text_of(off)
    assert _user(session, rep.email).is_active is True


def test_outsiders_see_and_change_nobody(client, world, session) -> None:
    rep = world["users"]["reporter"]
    for role in ("outsider", "funder", "west", None):
        _as(client, world, role)
        assert "rep@east.test" not in text_of(_detail(client, rep.id)), role
        assert "Granted" not in text_of(_grant(client, rep.id, "funder", "c2c")), role
        _act(client, "off", rep.id)
    user = _user(session, rep.email)
    assert user.is_active and {g.role for g in user.grants} == {"reporter"}


def test_a_lost_link_is_replaced_by_a_new_one(client, world, session) -> None:
    _as(client, world, "backbone")
    first = _token(_link(_invite(client)))
    invited = _user(session, "new@east.test")
    assert "people-renew" in text_of(_detail(client, invited.id))
    renewed = _act(client, "people-renew", invited.id)
    second = _token(_link(renewed))
    assert second != first
    _as(client, world, None)
    assert "invite-dead" in str(response_of(_accept(client, first)))
    assert "invite-done" in str(response_of(_accept(client, second)))


# --- API keys -----------------------------------------------------------------------------------


def _create_key(client, name, scope, expires=None):
    return call(
        client,
        "..people-key-result.children",
        [("people-key-create", "n_clicks", 1)],
        state=[
            ("people-key-name", "value", name),
            ("people-key-scope", "value", scope),
            ("people-key-expires", "value", expires),
            ("people-keys-refresh", "data", 0),
        ],
    )


def _keys(client):
    answer = call(client, "..people-keys.rowData", [("people-keys-refresh", "data", 0)])
    return response_of(answer)["people-keys"]["rowData"]


def test_keys_are_created_shown_once_listed_and_revoked(client, world, session) -> None:
    _as(client, world, "backbone")
    made = _create_key(client, "sis", "initiative:c2c", "2099-12-31")
    text = text_of(made)
    assert "people-key-secret" in text and "Copy its secret now" in text
    key = session.scalar(select(ApiKey).where(ApiKey.name == "sis"))
    assert key is not None and key.expires_at.year == 2100
    [row] = _keys(client)
    assert row["name"] == "sis" and row["scope"] == "initiative · Cradle to Career"
    assert row["state"] == "active" and row["may_revoke"] is True
    assert "cm_" in row["prefix"] and len(row["prefix"]) < 20, "never the secret"

    bad = response_of(_create_key(client, "", "initiative:c2c"))
    assert bad["people-key-name"]["invalid"] is True
    past = response_of(_create_key(client, "old", "initiative:c2c", "2001-01-01"))
    assert past["people-key-expires"]["invalid"] is True
    elsewhere = response_of(_create_key(client, "mole", "initiative:heat"))
    assert elsewhere["people-key-scope"]["invalid"] is True
    org = response_of(_create_key(client, "mole", "organisation:east"))
    assert org["people-key-scope"]["invalid"] is True

    revoked = _fire(client, "people-key-revoke", {"people-keys": [row], "people-keys-refresh": 0})
    assert "revoked" in text_of(revoked), revoked.text
    session.expire_all()
    assert session.get(ApiKey, key.id).revoked_at is not None
    assert _keys(client)[0]["state"] == "revoked"

    _as(client, world, "outsider")
    assert _keys(client) == []
    forged = _fire(client, "people-key-revoke", {"people-keys": [row], "people-keys-refresh": 0})
    assert "not found" in text_of(forged)
