"""Configuration through the API: organisations, initiatives, members and obligations, outcomes,
dimensions, indicators and periods — who may read and change them, validation, conflicts, audit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, Category, Indicator, Obligation, Organisation

from .. import factories as f

V1 = "/api/v1"
A = f"{V1}/initiatives/alpha"
B = f"{V1}/initiatives/beta"


class World:
    """Two initiatives and one user per role; logs each in on first use."""

    def __init__(self, session, client) -> None:
        self.session, self.client = session, client
        self.alpha = f.initiative(session, slug="alpha", name="Alpha")
        self.beta = f.initiative(session, slug="beta", name="Beta")
        self.east = f.organisation(session, slug="eastside", name="Eastside Schools")
        self.west = f.organisation(session, slug="westside", name="Westside Library")
        self.south = f.organisation(session, slug="southside", name="Southside Clinic")
        self.east_member = f.member(session, self.alpha, self.east)
        f.member(session, self.beta, self.south)
        self.users = {
            "admin": f.user(session, "admin"),
            "backbone": f.user(session, "backbone", init=self.alpha),
            "other_backbone": f.user(session, "backbone", init=self.beta),
            "funder": f.user(session, "funder", init=self.alpha),
            "reporter": f.user(session, "reporter", org=self.east),
            "outsider": f.user(session, "reporter", org=self.south),  # a member of beta only
        }
        session.commit()
        self._headers: dict[str, dict] = {}

    def as_(self, role: str) -> dict:
        if role == "anonymous":
            return {}
        if role not in self._headers:
            response = self.client.post(
                f"{V1}/auth/token",
                data={"username": self.users[role].email, "password": f.PASSWORD},
            )
            assert response.status_code == 200, response.text
            self._headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._headers[role]

    def call(self, role: str, method: str, url: str, **kw):
        return self.client.request(method, url, headers=self.as_(role), **kw)


@pytest.fixture
def w(session, client) -> World:
    return World(session, client)


def _events(session, entity_type: str, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.scalars(stmt))


def _assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"]
    if field is not None:
        assert body.get("field") == field, body
    return body


# --- who may call at all ----------------------------------------------------------------------

ANONYMOUS_CALLS = [
    ("GET", f"{V1}/organisations"),
    ("POST", f"{V1}/organisations"),
    ("GET", f"{V1}/organisations/eastside"),
    ("PATCH", f"{V1}/organisations/eastside"),
    ("DELETE", f"{V1}/organisations/eastside"),
    ("POST", f"{V1}/initiatives"),
    ("GET", A),
    ("PATCH", A),
    ("DELETE", A),
    ("GET", f"{A}/members"),
    ("POST", f"{A}/members"),
    ("GET", f"{A}/members/eastside"),
    ("GET", f"{A}/members/eastside/obligations"),
    ("PUT", f"{A}/members/eastside/obligations"),
    ("GET", f"{A}/outcomes"),
    ("POST", f"{A}/outcomes"),
    ("GET", f"{A}/dimensions"),
    ("GET", f"{A}/indicators"),
    ("POST", f"{A}/indicators"),
    ("GET", f"{A}/periods"),
    ("POST", f"{A}/periods"),
    ("POST", f"{A}/periods/2025Q3/lock"),
]


def test_anonymous_callers_get_401_everywhere(w) -> None:
    for method, url in ANONYMOUS_CALLS:
        # Even a body that would not validate answers 401 first: log in, then fix the body.
        response = w.client.request(method, url, json={} if method != "GET" else None)
        assert response.status_code == 401, (method, url, response.text)
        assert response.json()["code"] == "unauthenticated", (method, url)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # The public directory stays public.
    assert w.client.get(f"{V1}/initiatives").status_code == 200


# --- organisations ----------------------------------------------------------------------------


def test_organisation_crud_by_admin(w, session) -> None:
    body = {
        "slug": "riverbend-ymca",
        "name": "Riverbend YMCA",
        "sector": "nonprofit",
        "website": "https://ymca.example.org",
    }
    created = w.call("admin", "POST", f"{V1}/organisations", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Riverbend YMCA"
    assert created.json()["description"] is None

    got = w.call("admin", "GET", f"{V1}/organisations/riverbend-ymca").json()
    assert got["website"] == "https://ymca.example.org"

    patched = w.call(
        "admin",
        "PATCH",
        f"{V1}/organisations/riverbend-ymca",
        json={"sector": "community", "description": "After-school programmes"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["sector"] == "community"
    assert patched.json()["name"] == "Riverbend YMCA"  # untouched fields stay

    deleted = w.call("admin", "DELETE", f"{V1}/organisations/riverbend-ymca")
    assert deleted.status_code == 200, deleted.text
    assert w.call("admin", "GET", f"{V1}/organisations/riverbend-ymca").status_code == 404

    actions = [e.action for e in _events(session, "organisation")]
    assert actions == ["create", "update", "delete"]
    update = _events(session, "organisation", "update")[0]
    assert update.before["sector"] == "nonprofit" and update.after["sector"] == "community"
    assert update.actor_label == f"user:{w.users['admin'].email}"
    assert update.actor_user_id == w.users["admin"].id
    assert update.initiative_id is None


def test_organisation_list_filters_and_search(w) -> None:
    w.session.add(Organisation(slug="city-health", name="City Health Dept", sector="health"))
    w.session.commit()
    everyone = w.call("reporter", "GET", f"{V1}/organisations").json()
    assert [o["slug"] for o in everyone["items"]] == [
        "city-health",
        "eastside",
        "southside",
        "westside",
    ]
    assert everyone["total"] == 4 and everyone["limit"] == 50 and everyone["offset"] == 0
    health = w.call("funder", "GET", f"{V1}/organisations", params={"sector": "health"}).json()
    assert [o["slug"] for o in health["items"]] == ["city-health"]
    found = w.call("backbone", "GET", f"{V1}/organisations", params={"q": "LIBRARY"}).json()
    assert [o["slug"] for o in found["items"]] == ["westside"]
    # LIKE wildcards in the search are literal.
    assert w.call("admin", "GET", f"{V1}/organisations", params={"q": "%"}).json()["total"] == 0
    bad = w.call("admin", "GET", f"{V1}/organisations", params={"sector": "martian"})
    _assert_error(bad, 422, "query.sector")


def test_on_its_own_only_admin_adds_an_organisation(w, session) -> None:
    body = {"slug": "new-partner", "name": "New Partner", "sector": "business"}
    for role in ("backbone", "other_backbone", "reporter", "funder"):
        own = {**body, "slug": "by-" + role.replace("_", "-")}
        refused = _assert_error(w.call(role, "POST", f"{V1}/organisations", json=own), 403)
        if role == "backbone":
            assert "new member of their initiative" in refused["detail"]
    assert w.call("admin", "POST", f"{V1}/organisations", json=body).status_code == 201
    _assert_error(
        w.call("backbone", "PATCH", f"{V1}/organisations/new-partner", json={"name": "X"}), 403
    )
    _assert_error(w.call("backbone", "DELETE", f"{V1}/organisations/new-partner"), 403)
    [created] = _events(session, "organisation", "create")
    assert created.initiative_id is None  # the deployment's directory: the admin's trail
    assert (
        session.scalars(select(Organisation.slug).where(Organisation.slug.like("by-%"))).all() == []
    )


NEW_PARTNER = {
    "slug": "riverside-clinic",
    "name": "Riverside Clinic",
    "sector": "health",
    "website": "https://riverside.example.org",
}


def test_backbone_enrols_a_new_organisation_in_its_initiative(w, session) -> None:
    """Backbone staff add an organisation by enrolling it: directory entry and membership in
    one step, both audited in the initiative its staff read."""
    added = w.call(
        "backbone",
        "POST",
        f"{A}/members",
        json={"new_organisation": NEW_PARTNER, "joined_on": "2025-07-01"},
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "organisation": "riverside-clinic",
        "organisation_name": "Riverside Clinic",
        "sector": "health",
        "joined_on": "2025-07-01",
        "shares_with_funders": True,
        "active": True,
    }
    got = w.call("reporter", "GET", f"{V1}/organisations/riverside-clinic").json()
    assert got["website"] == "https://riverside.example.org"
    [org_event] = _events(session, "organisation", "create")
    [member_event] = _events(session, "member", "create")
    assert org_event.initiative_id == member_event.initiative_id == w.alpha.id
    assert org_event.after["slug"] == "riverside-clinic"
    audit = w.call("backbone", "GET", f"{V1}/audit", params={"entity_type": "organisation"})
    assert [e["after"]["slug"] for e in audit.json()["items"]] == ["riverside-clinic"]

    # The organisation is in the directory now: another initiative enrols it as it is.
    assert (
        w.call("admin", "POST", f"{B}/members", json={"organisation": "riverside-clinic"})
    ).status_code == 201


def test_enrolling_a_new_organisation_is_refused_whole(w, session) -> None:
    """Who may, and each bad field named under new_organisation; nothing half-written."""
    body = {"new_organisation": {**NEW_PARTNER, "slug": "by-someone"}}
    for role, status in (("reporter", 403), ("funder", 403), ("other_backbone", 404)):
        _assert_error(w.call(role, "POST", f"{A}/members", json=body), status)
    taken = {"new_organisation": {**NEW_PARTNER, "slug": "westside"}}
    _assert_error(
        w.call("backbone", "POST", f"{A}/members", json=taken), 409, "new_organisation.slug"
    )
    for change, field in (
        ({"slug": "River Side"}, "new_organisation.slug"),
        ({"name": ""}, "new_organisation.name"),
        ({"sector": "martian"}, "new_organisation.sector"),
        ({"id": 3}, "new_organisation.id"),
    ):
        bad = {"new_organisation": {**NEW_PARTNER, **change}}
        _assert_error(w.call("backbone", "POST", f"{A}/members", json=bad), 422, field)
    both = {"organisation": "westside", "new_organisation": NEW_PARTNER}
    for wrong in (both, {}):
        _assert_error(w.call("backbone", "POST", f"{A}/members", json=wrong), 422, "organisation")
    flags = {"new_organisation": NEW_PARTNER, "active": "yes"}
    _assert_error(w.call("backbone", "POST", f"{A}/members", json=flags), 422, "active")
    session.expire_all()
    assert (
        session.scalars(
            select(Organisation.slug).where(
                Organisation.slug.in_(["riverside-clinic", "by-someone"])
            )
        ).all()
        == []
    )
    assert _events(session, "organisation") == []


def test_the_domain_names_each_field_of_a_new_organisation(session) -> None:
    """What the dashboard calls directly (no request body checks first): each refusal names
    its field under new_organisation."""
    from models.access.permissions import actor_for_user
    from models.core.errors import Conflict, InvalidInput, PermissionDenied
    from models.initiatives.members import add_member
    from models.initiatives.organisations import create_organisation, suggest_slug

    init = f.initiative(session, slug="gamma")
    f.organisation(session, slug="eastside", name="Eastside")
    backbone = actor_for_user(session=session, user=f.user(session, "backbone", init=init))

    def enrol(**org):
        return add_member(
            session=session,
            actor=backbone,
            initiative="gamma",
            new_organisation={"slug": "new-one", "name": "New One", "sector": "other", **org},
        )

    for org, error, field, says in (
        ({"slug": None}, InvalidInput, "new_organisation.slug", "is required"),
        ({"slug": "New One"}, InvalidInput, "new_organisation.slug", "like eastside-schools"),
        ({"slug": "a" * 81}, InvalidInput, "new_organisation.slug", "at most 80"),
        ({"slug": "eastside"}, Conflict, "new_organisation.slug", "exists already"),
        ({"name": None}, InvalidInput, "new_organisation.name", "is required"),
        ({"name": "  "}, InvalidInput, "new_organisation.name", "must not be empty"),
        ({"sector": None}, InvalidInput, "new_organisation.sector", "is required"),
        ({"sector": "space"}, InvalidInput, "new_organisation.sector", "must be one of"),
        ({"colour": "red"}, InvalidInput, "new_organisation.colour", "cannot change"),
    ):
        with pytest.raises(error) as refused:
            enrol(**org)
        assert (refused.value.field, says in refused.value.message) == (field, True), org
    assert enrol().organisation.slug == "new-one"

    with pytest.raises(PermissionDenied):  # on its own: admins only
        create_organisation(session=session, actor=backbone, slug="solo", name="S", sector="other")
    assert suggest_slug("Eastside Schools & Co.") == "eastside-schools-co"
    assert suggest_slug("  Café Crème — Nord ") == "cafe-creme-nord"
    assert suggest_slug("***") == ""
    assert suggest_slug("x" * 79 + " y") == "x" * 79


def test_organisation_conflicts_and_validation(w) -> None:
    duplicate = {"slug": "eastside", "name": "Again", "sector": "education"}
    _assert_error(w.call("admin", "POST", f"{V1}/organisations", json=duplicate), 409, "slug")
    bad_slug = {"slug": "East Side", "name": "X", "sector": "education"}
    _assert_error(w.call("admin", "POST", f"{V1}/organisations", json=bad_slug), 422, "slug")
    unknown = {"slug": "ok", "name": "X", "sector": "education", "id": 7}
    _assert_error(w.call("admin", "POST", f"{V1}/organisations", json=unknown), 422, "id")
    _assert_error(
        w.call("admin", "PATCH", f"{V1}/organisations/eastside", json={"slug": "x"}),
        422,
        "slug",
    )
    _assert_error(
        w.call("admin", "PATCH", f"{V1}/organisations/eastside", json={"name": None}), 422, "name"
    )
    # Eastside is a member of alpha: deleting it would orphan the membership.
    response = w.call("admin", "DELETE", f"{V1}/organisations/eastside")
    assert "alpha" in _assert_error(response, 409, "slug")["detail"]
    assert w.call("admin", "GET", f"{V1}/organisations/nowhere").status_code == 404


# --- pagination -------------------------------------------------------------------------------

LISTS = [
    f"{V1}/organisations",
    f"{A}/members",
    f"{A}/outcomes",
    f"{A}/dimensions",
    f"{A}/indicators",
    f"{A}/periods",
]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"limit": "many"}, "query.limit"),
    ],
)
def test_pagination_bounds_answer_422(w, params, field) -> None:
    for url in LISTS:
        _assert_error(w.call("backbone", "GET", url, params=params), 422, field)


def test_pagination_pages_through_a_list(w) -> None:
    for n in range(5):
        f.outcome(w.session, w.alpha, code=f"o{n}", name=f"Outcome {n}")
    w.session.commit()
    first = w.call("reporter", "GET", f"{A}/outcomes", params={"limit": 2}).json()
    assert [o["code"] for o in first["items"]] == ["o0", "o1"]
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    last = w.call("reporter", "GET", f"{A}/outcomes", params={"limit": 2, "offset": 4}).json()
    assert [o["code"] for o in last["items"]] == ["o4"]
    assert last["total"] == 5
    beyond = w.call("reporter", "GET", f"{A}/outcomes", params={"offset": 500}).json()
    assert beyond["items"] == [] and beyond["total"] == 5
    assert w.call("reporter", "GET", f"{A}/outcomes", params={"limit": 500}).status_code == 200


# --- initiatives ------------------------------------------------------------------------------


def test_admin_creates_updates_and_deletes_an_initiative(w, session) -> None:
    body = {"slug": "heat-relief", "name": "Heat Relief", "region": "Phoenix"}
    created = w.call("admin", "POST", f"{V1}/initiatives", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["suppression_threshold"] == 10
    assert "heat-relief" in [i["slug"] for i in w.client.get(f"{V1}/initiatives").json()]

    patched = w.call(
        "admin", "PATCH", f"{V1}/initiatives/heat-relief", json={"suppression_threshold": 5}
    )
    assert patched.json()["suppression_threshold"] == 5
    assert patched.json()["region"] == "Phoenix"

    assert w.call("admin", "DELETE", f"{V1}/initiatives/heat-relief").status_code == 200
    assert w.call("admin", "GET", f"{V1}/initiatives/heat-relief").status_code == 404
    # The deletion is recorded outside the initiative, so it outlives it.
    deleted = _events(session, "initiative", "delete")
    assert len(deleted) == 1 and deleted[0].initiative_id is None
    assert deleted[0].before["slug"] == "heat-relief"


def test_only_admin_creates_or_deletes_initiatives(w) -> None:
    body = {"slug": "gamma", "name": "Gamma"}
    for role in ("backbone", "funder", "reporter"):
        _assert_error(w.call(role, "POST", f"{V1}/initiatives", json=body), 403)
    _assert_error(w.call("backbone", "DELETE", A), 403)
    _assert_error(w.call("funder", "DELETE", A), 403)
    _assert_error(w.call("other_backbone", "DELETE", A), 404)
    _assert_error(
        w.call("admin", "POST", f"{V1}/initiatives", json={**body, "slug": "alpha"}), 409, "slug"
    )


def test_initiative_with_submissions_cannot_be_deleted(w) -> None:
    f.submission(w.session, w.east_member, f.period(w.session, w.alpha, "2025Q1"))
    w.session.commit()
    _assert_error(w.call("admin", "DELETE", A), 409, "slug")
    assert w.call("admin", "GET", A).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("backbone", 200),
        ("funder", 200),
        ("reporter", 200),  # its organisation is a member
        ("outsider", 404),  # its organisation is a member elsewhere
        ("other_backbone", 404),
    ],
)
def test_who_sees_an_initiative(w, role, status) -> None:
    response = w.call(role, "GET", A)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["slug"] == "alpha"


def test_backbone_updates_its_initiative(w, session) -> None:
    response = w.call(
        "backbone", "PATCH", A, json={"name": "Alpha Works", "suppression_threshold": 3}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Alpha Works"
    _assert_error(w.call("backbone", "PATCH", A, json={"suppression_threshold": 0}), 422)
    _assert_error(w.call("backbone", "PATCH", A, json={"is_demo": True}), 422, "is_demo")
    _assert_error(w.call("funder", "PATCH", A, json={"name": "X"}), 403)
    _assert_error(w.call("reporter", "PATCH", A, json={"name": "X"}), 403)
    _assert_error(w.call("other_backbone", "PATCH", A, json={"name": "X"}), 404)
    (event,) = _events(session, "initiative", "update")
    assert event.initiative_id == w.alpha.id
    assert event.before["suppression_threshold"] == 10
    assert event.after["suppression_threshold"] == 3


# --- members and obligations ------------------------------------------------------------------


def test_member_crud(w, session) -> None:
    added = w.call(
        "backbone",
        "POST",
        f"{A}/members",
        json={"organisation": "westside", "joined_on": "2024-09-01", "shares_with_funders": False},
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "organisation": "westside",
        "organisation_name": "Westside Library",
        "sector": "nonprofit",
        "joined_on": "2024-09-01",
        "shares_with_funders": False,
        "active": True,
    }
    _assert_error(
        w.call("backbone", "POST", f"{A}/members", json={"organisation": "westside"}),
        409,
        "organisation",
    )
    _assert_error(
        w.call("backbone", "POST", f"{A}/members", json={"organisation": "nope"}),
        422,
        "organisation",
    )

    listed = w.call("reporter", "GET", f"{A}/members").json()
    assert [m["organisation"] for m in listed["items"]] == ["eastside", "westside"]

    patched = w.call("backbone", "PATCH", f"{A}/members/westside", json={"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert patched.json()["shares_with_funders"] is False
    active = w.call("funder", "GET", f"{A}/members", params={"active": "true"}).json()
    assert [m["organisation"] for m in active["items"]] == ["eastside"]
    assert w.call("funder", "GET", f"{A}/members/westside").json()["active"] is False

    assert w.call("backbone", "DELETE", f"{A}/members/westside").status_code == 200
    assert w.call("backbone", "GET", f"{A}/members/westside").status_code == 404
    assert [e.action for e in _events(session, "member")] == ["create", "update", "delete"]
    assert all(e.initiative_id == w.alpha.id for e in _events(session, "member"))


def test_member_with_submissions_cannot_be_removed(w) -> None:
    f.submission(w.session, w.east_member, f.period(w.session, w.alpha, "2025Q1"))
    w.session.commit()
    _assert_error(w.call("backbone", "DELETE", f"{A}/members/eastside"), 409, "organisation")
    assert w.call("backbone", "GET", f"{A}/members/eastside").status_code == 200


def test_member_writes_need_the_backbone(w) -> None:
    body = {"organisation": "westside"}
    _assert_error(w.call("reporter", "POST", f"{A}/members", json=body), 403)
    _assert_error(w.call("funder", "POST", f"{A}/members", json=body), 403)
    _assert_error(w.call("reporter", "PATCH", f"{A}/members/eastside", json={"active": False}), 403)
    _assert_error(w.call("other_backbone", "POST", f"{A}/members", json=body), 404)
    _assert_error(w.call("other_backbone", "GET", f"{A}/members/eastside"), 404)
    _assert_error(w.call("backbone", "GET", f"{B}/members"), 404)
    _assert_error(
        w.call("backbone", "PATCH", f"{B}/members/southside", json={"active": False}), 404
    )
    _assert_error(w.call("backbone", "GET", f"{A}/members/southside"), 404, "organisation")


def test_obligations_replace_and_validate(w, session) -> None:
    for code in ("K_READY", "SERVED", "SCORE"):
        f.indicator(session, w.alpha, code=code)
    f.indicator(session, w.beta, code="BETA_ONLY")
    session.commit()
    url = f"{A}/members/eastside/obligations"
    assert w.call("reporter", "GET", url).json() == {"organisation": "eastside", "indicators": []}

    put = w.call("backbone", "PUT", url, json={"indicators": ["SERVED", "K_READY"]})
    assert put.status_code == 200, put.text
    assert sorted(put.json()["indicators"]) == ["K_READY", "SERVED"]
    put = w.call("backbone", "PUT", url, json={"indicators": ["SCORE", "SERVED"]})
    assert sorted(put.json()["indicators"]) == ["SCORE", "SERVED"]
    assert sorted(w.call("funder", "GET", url).json()["indicators"]) == ["SCORE", "SERVED"]
    stored = session.scalars(
        select(Obligation).where(Obligation.member_id == w.east_member.id)
    ).all()
    assert len(stored) == 2

    for unknown in ("NOPE", "BETA_ONLY"):  # another initiative's code is unknown here too
        response = w.call("backbone", "PUT", url, json={"indicators": ["SCORE", unknown]})
        body = _assert_error(response, 422, "indicators[1]")
        assert unknown in body["detail"]
    assert sorted(w.call("backbone", "GET", url).json()["indicators"]) == ["SCORE", "SERVED"]

    _assert_error(w.call("reporter", "PUT", url, json={"indicators": []}), 403)
    _assert_error(w.call("funder", "PUT", url, json={"indicators": []}), 403)
    _assert_error(w.call("backbone", "PUT", url, json={"codes": []}), 422)
    events = _events(session, "obligations", "update")
    assert len(events) == 2
    assert events[1].before["indicators"] == ["K_READY", "SERVED"]
    assert events[1].after["indicators"] == ["SCORE", "SERVED"]


# --- outcomes ---------------------------------------------------------------------------------


def test_outcome_crud(w, session) -> None:
    created = w.call(
        "backbone",
        "POST",
        f"{A}/outcomes",
        json={"code": "k_ready", "name": "Kindergarten readiness"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["position"] == 1
    second = w.call("backbone", "POST", f"{A}/outcomes", json={"code": "reading", "name": "R"})
    assert second.json()["position"] == 2
    _assert_error(
        w.call("backbone", "POST", f"{A}/outcomes", json={"code": "k_ready", "name": "Dup"}),
        409,
        "code",
    )
    patched = w.call(
        "backbone", "PATCH", f"{A}/outcomes/k_ready", json={"description": "Ready", "position": 9}
    )
    assert patched.json()["description"] == "Ready" and patched.json()["position"] == 9
    listed = w.call("funder", "GET", f"{A}/outcomes").json()
    assert [o["code"] for o in listed["items"]] == ["reading", "k_ready"]
    assert w.call("reporter", "GET", f"{A}/outcomes/k_ready").json()["name"] == (
        "Kindergarten readiness"
    )
    assert w.call("backbone", "DELETE", f"{A}/outcomes/k_ready").status_code == 200
    assert w.call("backbone", "GET", f"{A}/outcomes/k_ready").status_code == 404
    assert [e.action for e in _events(session, "outcome")] == [
        "create",
        "create",
        "update",
        "delete",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "k", "name": "K", "position": False}, "position"),  # a boolean is not 0
        ({"code": "k", "name": "K", "position": "3"}, "position"),  # text is not a number
        ({"code": "k", "name": "K", "position": 2.5}, "position"),
        ({"code": "k", "name": 5}, "name"),
    ],
)
def test_request_bodies_take_json_types_as_they_are(w, body, field) -> None:
    _assert_error(w.call("backbone", "POST", f"{A}/outcomes", json=body), 422, field)
    member = {"organisation": "westside", "shares_with_funders": "yes"}
    _assert_error(
        w.call("backbone", "POST", f"{A}/members", json=member), 422, "shares_with_funders"
    )


def test_a_whole_float_is_an_integer(w) -> None:
    """JSON has one number type: 3.0 is the integer 3 (as the OpenAPI schema says)."""
    created = w.call(
        "backbone", "POST", f"{A}/outcomes", json={"code": "k", "name": "K", "position": 3.0}
    )
    assert created.status_code == 201, created.text
    assert created.json()["position"] == 3


def test_request_dates_are_iso_text(w) -> None:
    created = w.call(
        "backbone", "POST", f"{A}/periods", json={"key": "2031Q1", "due_on": "2031-04-15"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["due_on"] == "2031-04-15"
    _assert_error(
        w.call("backbone", "PATCH", f"{A}/periods/2031Q1", json={"due_on": "15/04/2031"}),
        422,
        "due_on",
    )


def test_outcome_with_indicators_cannot_be_deleted(w) -> None:
    outcome = f.outcome(w.session, w.alpha, code="reading")
    f.indicator(w.session, w.alpha, code="READ3", outcome_id=outcome.id)
    w.session.commit()
    body = _assert_error(w.call("backbone", "DELETE", f"{A}/outcomes/reading"), 409, "code")
    assert "READ3" in body["detail"]


def test_outcome_permissions(w) -> None:
    f.outcome(w.session, w.beta, code="beta_outcome")
    w.session.commit()
    body = {"code": "x", "name": "X"}
    _assert_error(w.call("reporter", "POST", f"{A}/outcomes", json=body), 403)
    _assert_error(w.call("funder", "POST", f"{A}/outcomes", json=body), 403)
    _assert_error(w.call("outsider", "GET", f"{A}/outcomes"), 404)
    _assert_error(w.call("backbone", "GET", f"{B}/outcomes/beta_outcome"), 404)
    _assert_error(w.call("backbone", "DELETE", f"{B}/outcomes/beta_outcome"), 404)
    _assert_error(w.call("backbone", "GET", f"{A}/outcomes/beta_outcome"), 404, "code")
    _assert_error(w.call("backbone", "POST", f"{A}/outcomes", json={**body, "x": 1}), 422)


# --- dimensions -------------------------------------------------------------------------------


def test_dimension_crud_with_categories(w, session) -> None:
    created = w.call(
        "backbone",
        "POST",
        f"{A}/dimensions",
        json={
            "code": "income",
            "name": "Family income",
            "categories": [{"code": "low", "name": "Low"}, {"code": "not_low", "name": "Not low"}],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["categories"] == [
        {"code": "low", "name": "Low", "position": 0},
        {"code": "not_low", "name": "Not low", "position": 1},
    ]
    _assert_error(
        w.call("backbone", "POST", f"{A}/dimensions", json={"code": "income", "name": "Again"}),
        409,
        "code",
    )

    patched = w.call(
        "backbone",
        "PATCH",
        f"{A}/dimensions/income",
        json={
            "name": "Household income",
            "categories": [
                {"code": "low", "name": "Low income"},
                {"code": "unknown", "name": "Unknown"},
            ],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Household income"
    assert [(c["code"], c["name"]) for c in patched.json()["categories"]] == [
        ("low", "Low income"),
        ("not_low", "Not low"),  # left out, so kept
        ("unknown", "Unknown"),
    ]

    after_delete = w.call("backbone", "DELETE", f"{A}/dimensions/income/categories/unknown")
    assert after_delete.status_code == 200, after_delete.text
    assert [c["code"] for c in after_delete.json()["categories"]] == ["low", "not_low"]
    _assert_error(
        w.call("backbone", "DELETE", f"{A}/dimensions/income/categories/unknown"), 404, "category"
    )
    listed = w.call("reporter", "GET", f"{A}/dimensions").json()
    assert [d["code"] for d in listed["items"]] == ["income"]
    assert w.call("backbone", "DELETE", f"{A}/dimensions/income").status_code == 200
    assert w.call("backbone", "GET", f"{A}/dimensions/income").status_code == 404
    assert session.scalars(select(Category)).all() == []
    assert [e.action for e in _events(session, "dimension")] == ["create", "update", "delete"]
    assert [e.before["code"] for e in _events(session, "category", "delete")] == ["unknown"]


def test_dimension_validation(w) -> None:
    twice = {
        "code": "race",
        "name": "Race",
        "categories": [{"code": "black", "name": "Black"}, {"code": "black", "name": "Again"}],
    }
    _assert_error(
        w.call("backbone", "POST", f"{A}/dimensions", json=twice), 422, "categories[1].code"
    )
    bad_code = {"code": "race", "name": "Race", "categories": [{"code": "a=b", "name": "X"}]}
    _assert_error(
        w.call("backbone", "POST", f"{A}/dimensions", json=bad_code), 422, "categories[0].code"
    )
    extra = {"code": "race", "name": "Race", "categories": [{"code": "a", "name": "A", "x": 1}]}
    _assert_error(w.call("backbone", "POST", f"{A}/dimensions", json=extra), 422, "categories[0].x")
    _assert_error(
        w.call("funder", "POST", f"{A}/dimensions", json={"code": "race", "name": "Race"}), 403
    )
    _assert_error(
        w.call("other_backbone", "POST", f"{A}/dimensions", json={"code": "race", "name": "R"}),
        404,
    )


def test_categories_with_values_cannot_be_deleted(w, session) -> None:
    race = f.dimension(session, w.alpha, "race", ["black", "white"])
    ind = f.indicator(session, w.alpha, code="SERVED")
    ind.dimensions = [race]
    sub = f.submission(session, w.east_member, f.period(session, w.alpha, "2025Q1"))
    black = next(c for c in race.categories if c.code == "black")
    f.reported_value(session, sub, ind, value=4)
    f.reported_value(session, sub, ind, black, value=4)
    session.commit()

    response = w.call("backbone", "DELETE", f"{A}/dimensions/race/categories/black")
    _assert_error(response, 409, "category")
    _assert_error(w.call("backbone", "DELETE", f"{A}/dimensions/race"), 409, "code")
    # An unused category of the same dimension can go.
    response = w.call("backbone", "DELETE", f"{A}/dimensions/race/categories/white")
    assert response.status_code == 200, response.text
    assert [c["code"] for c in response.json()["categories"]] == ["black"]


# --- indicators -------------------------------------------------------------------------------


@pytest.fixture
def agenda(w):
    """Alpha with an outcome, two dimensions and three periods."""
    f.outcome(w.session, w.alpha, code="reading")
    f.outcome(w.session, w.alpha, code="math")
    f.dimension(w.session, w.alpha, "race", ["black", "white"])
    f.dimension(w.session, w.alpha, "income", ["low", "not_low"])
    for key in ("2024Q4", "2025Q4", "2026Q4"):
        f.period(w.session, w.alpha, key)
    w.session.commit()
    return w


READ3 = {
    "code": "READ3",
    "name": "3rd-graders reading at grade level",
    "unit": "%",
    "measure_type": "rate",
    "valid_min": 0,
    "valid_max": 100,
    "outcome": "reading",
    "dimensions": ["race", "income"],
    "baseline": {"value": 41.5, "period": "2024Q4"},
    "target": {"value": 60, "period": "2026Q4"},
    "targets": [
        {"period": "2025Q4", "value": 48, "note": "interim"},
    ],
}


def test_indicator_create_and_read(agenda, session) -> None:
    w = agenda
    created = w.call("backbone", "POST", f"{A}/indicators", json=READ3)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["outcome"] == "reading"
    assert sorted(body["dimensions"]) == ["income", "race"]
    assert body["baseline"] == {"value": 41.5, "period": "2024Q4"}
    assert body["target"] == {"value": 60.0, "period": "2026Q4"}
    assert body["targets"] == [{"period": "2025Q4", "value": 48.0, "note": "interim"}]
    assert (body["direction"], body["frequency"], body["decimals"]) == ("higher", "quarterly", 1)

    for role in ("reporter", "funder", "admin"):
        assert w.call(role, "GET", f"{A}/indicators/READ3").json() == body
    (event,) = _events(session, "indicator", "create")
    assert event.after["baseline"] == {"value": 41.5, "period": "2024Q4"}
    assert event.initiative_id == w.alpha.id


def test_indicator_list_filters(agenda) -> None:
    w = agenda
    w.call("backbone", "POST", f"{A}/indicators", json=READ3)
    math_count = {
        "code": "MATH_TUTORED",
        "name": "Students tutored in math",
        "unit": "students",
        "measure_type": "count",
        "outcome": "math",
    }
    assert w.call("backbone", "POST", f"{A}/indicators", json=math_count).status_code == 201
    f.indicator(w.session, w.beta, code="BETA_ONLY")
    w.session.commit()

    def codes(**params):
        response = w.call("reporter", "GET", f"{A}/indicators", params=params)
        assert response.status_code == 200, response.text
        return [i["code"] for i in response.json()["items"]]

    assert codes() == ["READ3", "MATH_TUTORED"]  # creation order = position
    assert codes(outcome="math") == ["MATH_TUTORED"]
    assert codes(measure_type="rate") == ["READ3"]
    assert codes(outcome="reading", measure_type="count") == []
    assert codes(q="tutor") == ["MATH_TUTORED"]
    assert codes(outcome="nowhere") == []
    bad = w.call("reporter", "GET", f"{A}/indicators", params={"measure_type": "median"})
    _assert_error(bad, 422, "query.measure_type")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"measure_type": "median"}, "measure_type"),
        ({"direction": "sideways"}, "direction"),
        ({"frequency": "monthly"}, "frequency"),
        ({"decimals": 7}, "decimals"),
        ({"decimals": -1}, "decimals"),
        ({"code": "read-3"}, "code"),
        ({"code": "R" * 61}, "code"),
        ({"valid_min": 10, "valid_max": 5}, "valid_min"),
        ({"colour": "blue"}, "colour"),
        ({"outcome": "nowhere"}, "outcome"),
        ({"dimensions": ["race", "age"]}, "dimensions[1]"),
        ({"baseline": {"value": 1, "period": "1999Q1"}}, "baseline.period"),
        ({"targets": [{"period": "2030Q1", "value": 1}]}, "targets[0].period"),
        (
            {"targets": [{"period": "2025Q4", "value": 1}, {"period": "2025Q4", "value": 2}]},
            "targets[1].period",
        ),
    ],
)
def test_indicator_validation(agenda, change, field) -> None:
    response = agenda.call("backbone", "POST", f"{A}/indicators", json={**READ3, **change})
    _assert_error(response, 422, field)
    assert agenda.call("backbone", "GET", f"{A}/indicators/READ3").status_code == 404


def test_indicator_update(agenda, session) -> None:
    w = agenda
    w.call("backbone", "POST", f"{A}/indicators", json=READ3)
    patched = w.call(
        "backbone",
        "PATCH",
        f"{A}/indicators/READ3",
        json={
            "name": "Reading by 3rd grade",
            "dimensions": ["race"],
            "targets": [
                {"period": "2026Q4", "value": 55},
                {"period": "2025Q4", "value": 50, "note": "revised"},
            ],
            "target": None,
            "outcome": None,
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "Reading by 3rd grade"
    assert body["dimensions"] == ["race"]
    assert body["targets"] == [  # earliest first
        {"period": "2025Q4", "value": 50.0, "note": "revised"},
        {"period": "2026Q4", "value": 55.0, "note": None},
    ]
    assert body["target"] is None and body["outcome"] is None
    assert body["baseline"] == {"value": 41.5, "period": "2024Q4"}  # untouched

    # The range is checked against the stored bound too.
    _assert_error(
        w.call("backbone", "PATCH", f"{A}/indicators/READ3", json={"valid_min": 101}),
        422,
        "valid_min",
    )
    _assert_error(
        w.call("backbone", "PATCH", f"{A}/indicators/READ3", json={"name": None}), 422, "name"
    )
    _assert_error(
        w.call("backbone", "PATCH", f"{A}/indicators/READ3", json={"code": "X"}), 422, "code"
    )
    # No values yet: the measure type may still change.
    changed = w.call("backbone", "PATCH", f"{A}/indicators/READ3", json={"measure_type": "count"})
    assert changed.json()["measure_type"] == "count"
    (event, _) = _events(session, "indicator", "update")
    assert event.before["target"] == {"value": 60.0, "period": "2026Q4"}
    assert event.after["target"] is None


def test_measure_type_is_fixed_once_values_exist(agenda, session) -> None:
    w = agenda
    ind = f.indicator(session, w.alpha, "count", code="SERVED")
    sub = f.submission(session, w.east_member, f.period(session, w.alpha, "2025Q1"))
    f.reported_value(session, sub, ind, value=12)
    session.commit()
    url = f"{A}/indicators/SERVED"
    _assert_error(
        w.call("backbone", "PATCH", url, json={"measure_type": "amount"}), 409, "measure_type"
    )
    # Other fields still change, and the same measure type is not a change.
    response = w.call("backbone", "PATCH", url, json={"measure_type": "count", "unit": "youth"})
    assert response.status_code == 200 and response.json()["unit"] == "youth"
    _assert_error(w.call("backbone", "DELETE", url), 409, "code")
    assert session.get(Indicator, ind.id) is not None


def test_indicator_delete_duplicate_and_permissions(agenda, session) -> None:
    w = agenda
    assert w.call("backbone", "POST", f"{A}/indicators", json=READ3).status_code == 201
    _assert_error(w.call("backbone", "POST", f"{A}/indicators", json=READ3), 409, "code")
    _assert_error(w.call("reporter", "PATCH", f"{A}/indicators/READ3", json={"name": "X"}), 403)
    _assert_error(w.call("funder", "DELETE", f"{A}/indicators/READ3"), 403)
    _assert_error(w.call("other_backbone", "GET", f"{A}/indicators/READ3"), 404)
    _assert_error(w.call("other_backbone", "DELETE", f"{A}/indicators/READ3"), 404)
    _assert_error(w.call("outsider", "GET", f"{A}/indicators"), 404)
    # The same code in another initiative is fine.
    beta_body = {k: v for k, v in READ3.items() if k not in ("outcome", "dimensions")}
    beta_body.update(baseline=None, target=None, targets=[])
    assert w.call("other_backbone", "POST", f"{B}/indicators", json=beta_body).status_code == 201

    assert w.call("backbone", "DELETE", f"{A}/indicators/READ3").status_code == 200
    assert w.call("backbone", "GET", f"{A}/indicators/READ3").status_code == 404
    assert w.call("other_backbone", "GET", f"{B}/indicators/READ3").status_code == 200
    assert [e.action for e in _events(session, "indicator")] == ["create", "create", "delete"]


# --- periods ----------------------------------------------------------------------------------


def test_period_keys_make_dates(w) -> None:
    quarter = w.call("backbone", "POST", f"{A}/periods", json={"key": "2025Q3"})
    assert quarter.status_code == 201, quarter.text
    assert quarter.json() == {
        "key": "2025Q3",
        "kind": "quarter",
        "starts_on": "2025-07-01",
        "ends_on": "2025-09-30",
        "opens_on": "2025-10-01",
        "due_on": "2025-10-30",
        "closes_on": "2025-11-29",
        "locked": False,
    }
    q4 = w.call("backbone", "POST", f"{A}/periods", json={"key": "2024q4"}).json()
    assert (q4["key"], q4["starts_on"], q4["ends_on"]) == ("2024Q4", "2024-10-01", "2024-12-31")
    q1 = w.call("backbone", "POST", f"{A}/periods", json={"key": "2024Q1"}).json()
    assert q1["ends_on"] == "2024-03-31"
    year = w.call(
        "backbone", "POST", f"{A}/periods", json={"key": "2025", "due_on": "2026-02-15"}
    ).json()
    assert (year["kind"], year["starts_on"], year["ends_on"]) == (
        "year",
        "2025-01-01",
        "2025-12-31",
    )
    assert (year["opens_on"], year["due_on"], year["closes_on"]) == (
        "2026-01-01",
        "2026-02-15",  # given
        "2026-03-01",  # defaulted: 60 days after the end
    )

    listed = w.call("reporter", "GET", f"{A}/periods").json()
    assert [p["key"] for p in listed["items"]] == ["2024Q1", "2024Q4", "2025", "2025Q3"]
    years = w.call("reporter", "GET", f"{A}/periods", params={"kind": "year"}).json()
    assert [p["key"] for p in years["items"]] == ["2025"]


@pytest.mark.parametrize("key", ["2025Q5", "2025Q0", "25Q1", "2025-Q1", "Q3", "", "1850"])
def test_bad_period_keys_are_422(w, key) -> None:
    _assert_error(w.call("backbone", "POST", f"{A}/periods", json={"key": key}), 422, "key")


def test_period_dates_must_be_in_order(w) -> None:
    url = f"{A}/periods"
    late_open = {"key": "2025Q3", "opens_on": "2025-12-01"}  # after the default due date
    _assert_error(w.call("backbone", "POST", url, json=late_open), 422, "due_on")
    early_close = {"key": "2025Q3", "due_on": "2025-10-30", "closes_on": "2025-10-15"}
    _assert_error(w.call("backbone", "POST", url, json=early_close), 422, "closes_on")
    same_day = {
        "key": "2025Q3",
        "opens_on": "2025-10-15",
        "due_on": "2025-10-15",
        "closes_on": "2025-10-15",
    }
    assert w.call("backbone", "POST", url, json=same_day).status_code == 201
    _assert_error(w.call("backbone", "POST", url, json={"key": "2025Q3"}), 409, "key")
    _assert_error(w.call("backbone", "POST", url, json={"key": "2025Q4", "kind": "x"}), 422)
    _assert_error(
        w.call("backbone", "POST", url, json={"key": "2025Q4", "due_on": "soon"}),
        422,
        "due_on",
    )


def test_period_update_lock_unlock_and_delete(w, session) -> None:
    w.call("backbone", "POST", f"{A}/periods", json={"key": "2025Q3"})
    url = f"{A}/periods/2025Q3"
    moved = w.call("backbone", "PATCH", url, json={"due_on": "2025-11-15"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["due_on"] == "2025-11-15"
    _assert_error(w.call("backbone", "PATCH", url, json={"due_on": "2026-01-01"}), 422, "closes_on")
    _assert_error(w.call("backbone", "PATCH", url, json={"key": "2025Q4"}), 422, "key")
    assert w.call("funder", "GET", url).json()["due_on"] == "2025-11-15"

    locked = w.call("backbone", "POST", f"{url}/lock")
    assert locked.status_code == 200 and locked.json()["locked"] is True
    assert w.call("reporter", "GET", url).json()["locked"] is True
    _assert_error(w.call("reporter", "POST", f"{url}/unlock"), 403)
    _assert_error(w.call("funder", "POST", f"{url}/unlock"), 403)
    _assert_error(w.call("other_backbone", "POST", f"{url}/unlock"), 404)
    assert w.call("backbone", "POST", f"{url}/unlock").json()["locked"] is False

    assert w.call("backbone", "DELETE", url).status_code == 200
    assert w.call("backbone", "GET", url).status_code == 404
    assert [e.action for e in _events(session, "period")] == [
        "create",
        "update",
        "lock",
        "unlock",
        "delete",
    ]


def test_periods_in_use_cannot_be_deleted(w, session) -> None:
    used = f.period(session, w.alpha, "2025Q1")
    f.submission(session, w.east_member, used)
    baseline = f.period(session, w.alpha, "2024Q4")
    f.indicator(session, w.alpha, code="SERVED", baseline_value=3, baseline_period_id=baseline.id)
    session.commit()
    _assert_error(w.call("backbone", "DELETE", f"{A}/periods/2025Q1"), 409, "key")
    body = _assert_error(w.call("backbone", "DELETE", f"{A}/periods/2024Q4"), 409, "key")
    assert "SERVED" in body["detail"]
    _assert_error(w.call("backbone", "DELETE", f"{A}/periods/2030Q1"), 404, "key")


def test_other_tenants_periods_are_invisible(w) -> None:
    f.period(w.session, w.beta, "2025Q3")
    w.session.commit()
    for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/lock")]:
        json = {} if method == "PATCH" else None
        response = w.call("backbone", method, f"{B}/periods/2025Q3{suffix}", json=json)
        _assert_error(response, 404, "slug")
    _assert_error(w.call("backbone", "GET", f"{A}/periods/2025Q3"), 404, "key")
    _assert_error(w.call("funder", "POST", f"{A}/periods", json={"key": "2025Q3"}), 403)
    _assert_error(w.call("reporter", "POST", f"{A}/periods", json={"key": "2025Q3"}), 403)


def test_api_key_of_an_initiative_configures_it(w) -> None:
    created = w.call(
        "backbone", "POST", f"{V1}/api-keys", json={"name": "ci", "initiative": "alpha"}
    )
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    response = w.client.post(f"{A}/outcomes", json={"code": "o", "name": "O"}, headers=key)
    assert response.status_code == 201, response.text
    response = w.client.post(f"{B}/outcomes", json={"code": "o", "name": "O"}, headers=key)
    assert response.status_code == 404
    event = _events(w.session, "outcome", "create")[0]
    assert event.actor_label.startswith("api-key:cm_") and event.actor_user_id is None


def test_openapi_documents_the_configuration_routes(client) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/organisations",
        "/api/v1/initiatives/{slug}/members/{org}/obligations",
        "/api/v1/initiatives/{slug}/indicators/{code}",
        "/api/v1/initiatives/{slug}/periods/{key}/lock",
    ):
        assert path in spec["paths"], path
        for operation in spec["paths"][path].values():
            assert operation.get("description"), (path, operation["operationId"])
            assert "200" in operation["responses"] or "201" in operation["responses"]


def test_series_breaks_are_marked_and_shown_in_the_series(client, session) -> None:
    init = f.initiative(session, slug="breaks")
    ind = f.indicator(session, init, "count", code="READ")
    for key in ("2025Q1", "2025Q2"):
        f.period(session, init, key)
    user = f.user(session, "backbone", init=init, email="breaks@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/initiatives/breaks/indicators/READ/breaks"
    r = client.post(url, json={"period": "2025Q2", "note": "new state test"}, headers=h)
    assert r.status_code == 201, r.text
    assert (
        client.post(url, json={"period": "2025Q2", "note": "again"}, headers=h).status_code == 409
    )
    assert client.post(url, json={"period": "2030Q1", "note": "x"}, headers=h).status_code == 422
    assert client.get(url, headers=h).json() == [{"period": "2025Q2", "note": "new state test"}]
    series = client.get("/api/v1/initiatives/breaks/indicators/READ/series", headers=h).json()
    assert series["breaks"] == [{"period": "2025Q2", "note": "new state test"}]
    fixed = client.patch(f"{url}/2025Q2", json={"note": "new state reading test"}, headers=h)
    assert fixed.json() == {"period": "2025Q2", "note": "new state reading test"}
    assert client.patch(f"{url}/2025Q1", json={"note": "x"}, headers=h).status_code == 404
    assert client.patch(f"{url}/2025Q2", json={"note": ""}, headers=h).status_code == 422
    assert client.delete(f"{url}/2025Q2", headers=h).status_code == 200
    assert client.get(url, headers=h).json() == []
    events = _events(session, "series_break")
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert (events[1].before["note"], events[1].after["note"]) == (
        "new state test",
        "new state reading test",
    )
    assert all(e.initiative_id == init.id for e in events)
    del ind


def test_an_initiatives_series_breaks_in_one_list(session) -> None:
    from models.access.permissions import actor_for_user
    from models.core.errors import NotFound, PermissionDenied
    from models.initiatives import series_breaks as rules

    init = f.initiative(session, slug="listed")
    other = f.initiative(session, slug="elsewhere")
    f.indicator(session, init, "count", code="READ", name="Reading", position=1)
    f.indicator(session, init, "count", code="ATTEND", name="Attendance", position=2)
    f.indicator(session, other, "count", code="READ")
    for key in ("2025Q1", "2025Q2"):
        f.period(session, init, key)
    f.period(session, other, "2025Q1")
    backbone = actor_for_user(session=session, user=f.user(session, "backbone", init=init))
    funder = actor_for_user(session=session, user=f.user(session, "funder", init=init))
    stranger = actor_for_user(session=session, user=f.user(session, "backbone", init=other))
    for code, key in (("READ", "2025Q2"), ("ATTEND", "2025Q1"), ("READ", "2025Q1")):
        rules.add_series_break(
            session=session, actor=backbone, initiative="listed", code=code, period=key, note=key
        )
    rules.add_series_break(
        session=session,
        actor=stranger,
        initiative="elsewhere",
        code="READ",
        period="2025Q1",
        note="theirs",
    )
    listed = rules.initiative_series_breaks(session=session, actor=funder, initiative="listed")
    assert [(b.indicator, b.period) for b in listed] == [  # by indicator, then period
        ("READ", "2025Q1"),
        ("READ", "2025Q2"),
        ("ATTEND", "2025Q1"),
    ]
    assert {b.indicator_name for b in listed} == {"Reading", "Attendance"}
    with pytest.raises(NotFound):
        rules.initiative_series_breaks(session=session, actor=stranger, initiative="listed")
    with pytest.raises(PermissionDenied):
        rules.update_series_break(
            session=session,
            actor=funder,
            initiative="listed",
            code="READ",
            period="2025Q1",
            note="mine",
        )
