"""Role × endpoint matrix: every operation of the app's OpenAPI schema, asked by every role.

The operations come from ``app.openapi()["paths"]`` when the tests are collected, so a route
added later is in the matrix at once, and fails until it has a rule in ``RULES`` saying what
each role must get (docs/architecture.md: People and permissions):

- anonymous: 401, except the public routes;
- a role of another tenant asking for A's objects (backbone of B): 404, never 403 or 200;
- a reporter asking for another organisation's submission, values or history: 404;
- a reporter or funder attempting a backbone-only write on A: 403;
- admin and A's backbone: 2xx on reads and on valid writes (a few writes answer the domain's
  409 by design; the rule says which and why);
- no answer is ever 5xx, and no answer carries private data of a tenant or an organisation the
  role may not see (``tenants.MARKERS``).

The app's own routes outside the API and its schema (the dashboard's login form, the browser's
template download, metrics) are a second matrix, ``BROWSER_RULES``, asked with each role's
session cookie instead of a bearer token; the routes come from the app too, so a new one fails
until it has a rule.

The world (``tests/access/tenants.py``) is built once per backend; every case runs in a SAVEPOINT that
is rolled back afterwards, so writes never leak into the next case.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from dashboard.session import SESSION_COOKIE

from . import tenants
from .tenants import (
    APPROVED,
    DRAFT,
    EMPTY,
    FREE,
    MARKERS,
    PASSWORD,
    QUIET,
    ROLES,
    STRATEGY,
    SUBMITTED,
    X_EMAIL,
    A,
    X,
    Y,
)

P = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")

# --- expectations -------------------------------------------------------------------------------

Expect = dict[str, int]


def everyone(status: int) -> Expect:
    return dict.fromkeys(ROLES, status)


def logged_in(status: int) -> Expect:
    return {**everyone(status), "anonymous": 401}


def viewers_of_a(status: int = 200) -> Expect:
    """A's backbone, funder and its members' reporters see it; B's backbone does not."""
    return {**logged_in(status), "backbone_b": 404}


def backbone_of_a(status: int) -> Expect:
    """Backbone-only on A: visible to reporters and the funder, so they get 403."""
    return {
        **logged_in(403),
        "admin": status,
        "backbone_a": status,
        "backbone_b": 404,
    }


def admin_only(status: int) -> Expect:
    return {**logged_in(403), "admin": status}


def x_private(status: int = 200) -> Expect:
    """X's own submission, values and history: X's reporter and A's backbone; 404 for others."""
    return {
        **logged_in(404),
        "admin": status,
        "backbone_a": status,
        "reporter_x": status,
    }


def x_review(status: int = 200) -> Expect:
    """Reviewing X's submission: backbone; X's reporter sees it but may not (403); others 404."""
    return {**x_private(status), "reporter_x": 403}


def x_strategy(status: int) -> Expect:
    """Writing X's strategy: backbone; the funder and X's reporter read it but may not (403);
    Y's reporter is not told it exists (404)."""
    return {**backbone_of_a(status), "reporter_y": 404}


def a_managed(status: int) -> Expect:
    """Objects only the admin and A's backbone may manage (users, grants, A's API keys)."""
    return {**logged_in(404), "admin": status, "backbone_a": status}


@dataclass(frozen=True)
class Rule:
    expect: Expect
    params: dict[str, Any] = field(default_factory=dict)  # path parameters over the defaults
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None  # form fields
    files: dict[str, tuple[str, bytes, str]] | None = None
    why: str = ""  # for anything that is not the obvious rule


_today = date.today()
CSV = b"organisation,period,indicator,disaggregation,value\norg-x,2026Q3,SERVED,total,150\n"
NEW_USER = {"email": "new@alpha.test", "password": "another-test-password-9"}
COMMENT = {"comment": "please check the total"}

RULES: dict[tuple[str, str], Rule] = {
    # --- public -------------------------------------------------------------------------------
    ("get", "/healthz"): Rule(everyone(200)),
    ("get", "/readyz"): Rule(everyone(200)),
    ("post", f"{P}/auth/token"): Rule(
        everyone(200),
        data={"username": X_EMAIL, "password": PASSWORD},
        why="a password login; any bearer header the caller also sends is irrelevant",
    ),
    ("get", f"{P}/initiatives"): Rule(everyone(200), why="the directory is public"),
    ("get", f"{P}/public/initiatives/{{slug}}/summary"): Rule(everyone(200)),
    ("get", f"{P}/public/initiatives/{{slug}}/datapackage.zip"): Rule(everyone(200)),
    # --- the caller's own account -------------------------------------------------------------
    ("post", f"{P}/auth/logout"): Rule(logged_in(204)),
    ("get", f"{P}/me"): Rule(logged_in(200)),
    ("put", f"{P}/me/locale"): Rule(
        logged_in(200), json={"locale": "es"}, why="everyone chooses their own language"
    ),
    ("post", f"{P}/auth/password"): Rule(
        logged_in(204),
        json={"current_password": PASSWORD, "new_password": "a-new-test-password-7"},
        why="everyone changes their own password",
    ),
    ("get", f"{P}/audit"): Rule(
        {**logged_in(403), "admin": 200, "backbone_a": 200, "backbone_b": 200},
        why="admins read all; backbone staff their initiatives' events (B's see only B's)",
    ),
    # --- notifications --------------------------------------------------------------------------
    ("get", f"{P}/notifications/preferences"): Rule(logged_in(200), why="one's own"),
    ("put", f"{P}/notifications/preferences"): Rule(
        logged_in(200), json={"modes": {"reminder": "off"}}, why="one's own"
    ),
    ("get", f"{P}/notifications/unsubscribe"): Rule(
        everyone(422),
        query={"token": "not-a-signed-link"},
        why="no login: the signed link is the credential, and a broken one is refused for "
        "anyone (working links: tests/notifications)",
    ),
    ("post", f"{P}/notifications/unsubscribe"): Rule(
        everyone(422),
        query={"token": "not-a-signed-link"},
        why="as its page: the signed link is the credential",
    ),
    ("get", f"{P}/notifications/mailbox"): Rule(admin_only(200)),
    ("get", f"{P}/initiatives/{{slug}}/periods/{{key}}/notifications"): Rule(
        backbone_of_a(200),
        params={"key": DRAFT},
        why="who was reminded and what failed: the backbone's; a partner must not read "
        "another's messages, so A's reporters and funder get 403",
    ),
    ("get", f"{P}/notifications/outbox"): Rule(admin_only(200)),
    ("get", f"{P}/notifications/bounces"): Rule(admin_only(200)),
    ("post", f"{P}/notifications/bounces"): Rule(
        admin_only(422),
        why="the mail server hands bounces in with an admin's key; an empty body is no "
        "delivery status notification (tests/notifications/test_bounces.py records real ones)",
    ),
    ("post", f"{P}/notifications/bounces/clear"): Rule(
        admin_only(404),
        json={"address": "nobody@alpha.test"},
        why="an admin mails an address again; nothing holds this one (cleared ones: "
        "tests/notifications/test_bounce_holds.py)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/reminder-schedule"): Rule(viewers_of_a()),
    ("put", f"{P}/initiatives/{{slug}}/reminder-schedule"): Rule(
        backbone_of_a(200), json={"offsets": [-7, 1]}
    ),
    # --- webhooks: A's backbone team only -------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/webhooks"): Rule(backbone_of_a(200)),
    ("post", f"{P}/initiatives/{{slug}}/webhooks"): Rule(
        backbone_of_a(201),
        json={"url": "https://hooks.alpha.test/new", "events": ["period_published"]},
    ),
    ("get", f"{P}/initiatives/{{slug}}/webhooks/{{webhook_id}}"): Rule(backbone_of_a(200)),
    ("patch", f"{P}/initiatives/{{slug}}/webhooks/{{webhook_id}}"): Rule(
        backbone_of_a(200), json={"enabled": False}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/webhooks/{{webhook_id}}"): Rule(backbone_of_a(200)),
    ("post", f"{P}/initiatives/{{slug}}/webhooks/{{webhook_id}}/rotate-secret"): Rule(
        backbone_of_a(200), why="a new secret, shown once: never the world's (MARKERS)"
    ),
    ("get", f"{P}/initiatives/{{slug}}/webhooks/{{webhook_id}}/deliveries"): Rule(
        backbone_of_a(200)
    ),
    ("get", f"{P}/api-keys"): Rule(logged_in(200), why="filtered to the keys one may manage"),
    ("post", f"{P}/api-keys"): Rule(
        backbone_of_a(201),
        json={"name": "ci", "initiative": A},
        why="a key with backbone rights on A: those who see A but do not run it get 403, "
        "B's backbone (who may not see A) 404 (security.py)",
    ),
    ("delete", f"{P}/api-keys/{{key_id}}"): Rule(a_managed(200), why="A's backbone key"),
    # --- organisations (names are shared within the deployment) -------------------------------
    ("get", f"{P}/organisations"): Rule(logged_in(200)),
    ("post", f"{P}/organisations"): Rule(
        admin_only(201),
        json={"slug": "org-new", "name": "New partner", "sector": "nonprofit"},
        why="on its own only admin adds a partner; backbone staff enrol a new one as a member",
    ),
    ("get", f"{P}/organisations/{{slug}}"): Rule(logged_in(200), params={"slug": X}),
    ("patch", f"{P}/organisations/{{slug}}"): Rule(
        admin_only(200), params={"slug": X}, json={"name": "Org X renamed"}
    ),
    ("delete", f"{P}/organisations/{{slug}}"): Rule(admin_only(200), params={"slug": FREE}),
    # --- initiatives --------------------------------------------------------------------------
    ("post", f"{P}/initiatives"): Rule(admin_only(201), json={"slug": "gamma", "name": "Gamma"}),
    ("get", f"{P}/initiatives/{{slug}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}"): Rule(
        backbone_of_a(200), json={"name": "Alpha, renamed"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}"): Rule(
        {**backbone_of_a(403), "admin": 409},
        why="admin only; A has submissions, so even the admin is refused with 409 by design",
    ),
    # --- members and obligations ----------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/members"): Rule(viewers_of_a()),
    ("post", f"{P}/initiatives/{{slug}}/members"): Rule(
        backbone_of_a(201),
        json={"new_organisation": {"slug": "org-new", "name": "New partner", "sector": "health"}},
        why="a new partner, added to the directory as it joins A: only by those who run A "
        "(enrolling one of the directory is the same rule, tests/initiatives)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/members/{{org}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}/members/{{org}}"): Rule(
        backbone_of_a(200), json={"shares_with_funders": False}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/members/{{org}}"): Rule(
        backbone_of_a(200), params={"org": QUIET}, why="a member that has not reported may go"
    ),
    ("get", f"{P}/initiatives/{{slug}}/members/{{org}}/obligations"): Rule(viewers_of_a()),
    ("put", f"{P}/initiatives/{{slug}}/members/{{org}}/obligations"): Rule(
        backbone_of_a(200), json={"indicators": ["SERVED", "READY", "SPARE"]}
    ),
    # --- outcomes, dimensions, indicators -------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/outcomes"): Rule(viewers_of_a()),
    ("post", f"{P}/initiatives/{{slug}}/outcomes"): Rule(
        backbone_of_a(201), json={"code": "new_outcome", "name": "New outcome"}
    ),
    ("get", f"{P}/initiatives/{{slug}}/outcomes/{{code}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}/outcomes/{{code}}"): Rule(
        backbone_of_a(200), json={"description": "Everyone served"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/outcomes/{{code}}"): Rule(
        backbone_of_a(200), params={"code": "spare_outcome"}
    ),
    ("get", f"{P}/initiatives/{{slug}}/dimensions"): Rule(viewers_of_a()),
    ("post", f"{P}/initiatives/{{slug}}/dimensions"): Rule(
        backbone_of_a(201),
        json={"code": "age", "name": "Age", "categories": [{"code": "young", "name": "Young"}]},
    ),
    ("get", f"{P}/initiatives/{{slug}}/dimensions/{{code}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}/dimensions/{{code}}"): Rule(
        backbone_of_a(200), json={"name": "Spare, renamed"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/dimensions/{{code}}"): Rule(backbone_of_a(200)),
    ("delete", f"{P}/initiatives/{{slug}}/dimensions/{{code}}/categories/{{category}}"): Rule(
        backbone_of_a(200)
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators"): Rule(viewers_of_a()),
    ("post", f"{P}/initiatives/{{slug}}/indicators"): Rule(
        backbone_of_a(201),
        json={"code": "NEW_IND", "name": "New", "unit": "people", "measure_type": "count"},
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}/indicators/{{code}}"): Rule(
        backbone_of_a(200), json={"definition": "People served in the period"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/indicators/{{code}}"): Rule(
        backbone_of_a(200), params={"code": "SPARE"}
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/breaks"): Rule(
        viewers_of_a(), params={"code": "SERVED"}
    ),
    ("post", f"{P}/initiatives/{{slug}}/indicators/{{code}}/breaks"): Rule(
        backbone_of_a(201),
        params={"code": "SERVED"},
        json={"period": DRAFT, "note": "new survey"},
    ),
    ("patch", f"{P}/initiatives/{{slug}}/indicators/{{code}}/breaks/{{period}}"): Rule(
        {**backbone_of_a(404)},
        params={"code": "SERVED"},
        json={"note": "a better reason"},
        why="the world has no series break: 404 once the caller may manage A",
    ),
    ("delete", f"{P}/initiatives/{{slug}}/indicators/{{code}}/breaks/{{period}}"): Rule(
        {**backbone_of_a(404)},
        params={"code": "SERVED"},
        why="the world has no series break: 404 once the caller may manage A",
    ),
    ("put", f"{P}/initiatives/{{slug}}/indicators/{{code}}/gap-targets/{{dimension}}"): Rule(
        backbone_of_a(200),
        params={"code": "SERVED", "dimension": "race"},
        json={
            "baseline": {"value": 20, "period": APPROVED},
            "target": {"value": 10, "period": EMPTY},
        },
    ),
    ("delete", f"{P}/initiatives/{{slug}}/indicators/{{code}}/gap-targets/{{dimension}}"): Rule(
        {**backbone_of_a(404)},
        params={"code": "SERVED", "dimension": "race"},
        why="the world has no gap target: 404 once the caller may manage A",
    ),
    # --- periods and publication ----------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/periods"): Rule(viewers_of_a()),
    ("post", f"{P}/initiatives/{{slug}}/periods"): Rule(backbone_of_a(201), json={"key": "2027Q1"}),
    ("get", f"{P}/initiatives/{{slug}}/periods/{{key}}"): Rule(viewers_of_a()),
    ("patch", f"{P}/initiatives/{{slug}}/periods/{{key}}"): Rule(
        backbone_of_a(200), json={"closes_on": (_today + timedelta(days=400)).isoformat()}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/periods/{{key}}"): Rule(backbone_of_a(200)),
    ("post", f"{P}/initiatives/{{slug}}/periods/{{key}}/lock"): Rule(backbone_of_a(200)),
    ("post", f"{P}/initiatives/{{slug}}/periods/{{key}}/unlock"): Rule(backbone_of_a(200)),
    ("post", f"{P}/initiatives/{{slug}}/periods/{{key}}/publish"): Rule(
        backbone_of_a(201), params={"key": APPROVED}, json={"note": "second vintage"}
    ),
    ("get", f"{P}/initiatives/{{slug}}/periods/{{key}}/publications"): Rule(
        viewers_of_a(), params={"key": APPROVED}
    ),
    # --- translations of what the backbone writes ----------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/translations"): Rule(
        backbone_of_a(200), why="setup: the English and its translations are the backbone's"
    ),
    (
        "put",
        f"{P}/initiatives/{{slug}}/translations/{{locale}}/{{entity_type}}/{{entity}}/{{field}}",
    ): Rule(
        backbone_of_a(200),
        params={"locale": "es", "entity_type": "indicator", "entity": "SERVED", "field": "name"},
        json={"text": "Personas atendidas"},
    ),
    (
        "delete",
        f"{P}/initiatives/{{slug}}/translations/{{locale}}/{{entity_type}}/{{entity}}/{{field}}",
    ): Rule(
        backbone_of_a(200),
        params={"locale": "es", "entity_type": "outcome", "entity": "reach", "field": "name"},
        why="the world translates the outcome's name",
    ),
    # --- stories behind the curve -------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/stories"): Rule(
        viewers_of_a(),
        why="the backbone reads the current story (the draft marker); partners and funders "
        "the version the publication carries",
    ),
    ("put", f"{P}/initiatives/{{slug}}/indicators/{{code}}/stories/{{period}}"): Rule(
        backbone_of_a(200), json={"text": "Attendance rose after the **summer** programme."}
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/stories/{{period}}/versions"): Rule(
        viewers_of_a(),
        params={"period": APPROVED},
        why="every version for the backbone; below it, only the versions publications carried",
    ),
    # --- strategies and actions ------------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/strategies"): Rule(
        viewers_of_a(), why="all for the backbone and funders; a partner its own (Y: none)"
    ),
    ("post", f"{P}/initiatives/{{slug}}/strategies"): Rule(
        backbone_of_a(201),
        json={"code": "new-plan", "title": "New plan", "starts_on": _today.isoformat()},
    ),
    ("get", f"{P}/initiatives/{{slug}}/strategies/{{code}}"): Rule(
        {**viewers_of_a(), "reporter_y": 404},
        why="X owns it: Y's reporter is not told it exists",
    ),
    ("patch", f"{P}/initiatives/{{slug}}/strategies/{{code}}"): Rule(
        x_strategy(200), json={"title": "Renamed plan"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/strategies/{{code}}"): Rule(x_strategy(200)),
    ("post", f"{P}/initiatives/{{slug}}/strategies/{{code}}/actions"): Rule(
        x_strategy(201), json={"title": "Call the schools"}
    ),
    ("patch", f"{P}/initiatives/{{slug}}/strategies/{{code}}/actions/{{action_id}}"): Rule(
        x_strategy(200), json={"status": "in_progress"}
    ),
    ("delete", f"{P}/initiatives/{{slug}}/strategies/{{code}}/actions/{{action_id}}"): Rule(
        x_strategy(200)
    ),
    # --- submissions ------------------------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/submissions"): Rule(
        {**viewers_of_a(), "funder_a": 403},
        why="reporters see their own organisation's only; funders see no submissions (403)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}"): Rule(x_private()),
    ("put", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}"): Rule(
        x_private(), json={"values": [{"indicator": "SERVED", "value": 150}]}
    ),
    ("post", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}/submit"): Rule(x_private()),
    ("post", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}/approve"): Rule(
        x_review(), params={"period": SUBMITTED}
    ),
    ("post", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}/return"): Rule(
        x_review(), params={"period": SUBMITTED}, json=COMMENT
    ),
    ("post", f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}/reopen"): Rule(
        x_review(), params={"period": APPROVED}, json=COMMENT
    ),
    ("get", f"{P}/initiatives/{{slug}}/values/{{value_id}}/history"): Rule(x_private()),
    (
        "post",
        f"{P}/initiatives/{{slug}}/submissions/{{org}}/{{period}}/return-with-extension",
    ): Rule(
        x_review(),
        params={"period": SUBMITTED},
        json={**COMMENT, "until": (_today + timedelta(days=40)).isoformat()},
    ),
    # --- deadline extensions ----------------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/deadline-extensions"): Rule(
        {**viewers_of_a(), "funder_a": 403},
        why="as submissions: reporters see their own organisation's; funders none (403)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/members/{{org}}/next-deadline"): Rule(
        x_private(), why="X's deadlines: its reporters and A's backbone; 404 for others"
    ),
    ("get", f"{P}/initiatives/{{slug}}/deadline-extensions/{{org}}/{{period}}"): Rule(
        x_private(), params={"period": SUBMITTED}, why="X's extension for the closed Q2"
    ),
    ("put", f"{P}/initiatives/{{slug}}/deadline-extensions/{{org}}/{{period}}"): Rule(
        x_review(),
        params={"period": SUBMITTED},
        json={"until": (_today + timedelta(days=60)).isoformat(), "reason": "moved"},
    ),
    ("delete", f"{P}/initiatives/{{slug}}/deadline-extensions/{{org}}/{{period}}"): Rule(
        x_review(), params={"period": SUBMITTED}
    ),
    # --- spreadsheets -----------------------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/template.csv"): Rule(
        x_private(), query={"org": X, "period": DRAFT}
    ),
    ("get", f"{P}/initiatives/{{slug}}/template.xlsx"): Rule(
        x_private(), query={"org": X, "period": DRAFT}
    ),
    ("post", f"{P}/initiatives/{{slug}}/imports"): Rule(
        {**x_private(), "reporter_y": 422, "funder_a": 403},
        query={"dry_run": "true"},
        files={"file": ("values.csv", CSV, "text/csv")},
        why="Y's rows for X are refused row by row (422, 'no member' as for an unknown org); "
        "a funder reports for no one (403)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/export"): Rule(
        {**viewers_of_a(), "funder_a": 403},
        query={"format": "json"},
        why="reporters export their own organisation's values; funders see the initiative but "
        "not partners' raw values (403: their downloads are the published data packages)",
    ),
    # --- analytics --------------------------------------------------------------------------------
    ("get", f"{P}/initiatives/{{slug}}/scorecard"): Rule(
        viewers_of_a(), query={"period": APPROVED}
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/series"): Rule(
        {**viewers_of_a(), "reporter_y": 404},
        query={"org": X},
        why="X's trend: its reporter, the backbone, and funders (X shares with funders); "
        "Y may not see X as a partner (404)",
    ),
    ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/equity"): Rule(
        viewers_of_a(), query={"dimension": "race"}
    ),
    **{
        ("get", f"{P}/initiatives/{{slug}}/indicators/{{code}}/turn-the-curve{suffix}"): Rule(
            viewers_of_a(), why="the series' viewers, each shown its own figures and strategies"
        )
        for suffix in ("", ".png", ".pdf")
    },
    ("get", f"{P}/initiatives/{{slug}}/completeness"): Rule(
        backbone_of_a(200), query={"period": DRAFT}, why="who has not reported: backbone only"
    ),
    # --- users and grants -----------------------------------------------------------------------
    ("get", f"{P}/users"): Rule(logged_in(200), why="filtered to the users one may manage"),
    ("post", f"{P}/users"): Rule(
        {**admin_only(201), "backbone_a": 201},
        json={**NEW_USER, "role": "reporter", "organisation": X},
        why="A's backbone may create reporters of A's members; B's backbone may not (403)",
    ),
    ("get", f"{P}/users/{{user_id}}"): Rule(a_managed(200), why="reporter X's account"),
    ("patch", f"{P}/users/{{user_id}}"): Rule(
        a_managed(200),
        json={"is_active": True},
        why="admins, and A's backbone because it manages every grant reporter X holds",
    ),
    ("post", f"{P}/users/{{user_id}}/password"): Rule(
        a_managed(200),
        json={"password": "a-new-test-password-7"},
        why="as deactivation: whoever manages every grant of the account",
    ),
    ("post", f"{P}/users/{{user_id}}/grants"): Rule(
        a_managed(201), json={"role": "reporter", "organisation": Y}
    ),
    ("delete", f"{P}/users/{{user_id}}/grants/{{grant_id}}"): Rule(a_managed(200)),
    # --- invitations ------------------------------------------------------------------------------
    ("post", f"{P}/invitations"): Rule(
        {**admin_only(201), "backbone_a": 201},
        json={"email": "invited@alpha.test", "role": "reporter", "organisation": X},
        why="as creating a user: A's backbone invites reporters of A's members; B's may not (403)",
    ),
    ("post", f"{P}/users/{{user_id}}/invitation"): Rule(
        a_managed(409),
        why="reporter X chose a password long ago: once the caller may manage the account the "
        "answer is 409 (reset it instead); renewing a pending one is in test_invitations.py",
    ),
    ("post", f"{P}/auth/invitations/accept"): Rule(
        everyone(422),
        json={"token": "not-an-invitation", "password": "a-new-test-password-7"},
        why="public: the token is the proof, whoever calls; a made-up one is refused on 'token' "
        "(accepting real links is in test_invitations.py)",
    ),
}

# --- the routes for browsers: the session cookie, not a bearer token ----------------------------

# Without a cookie, a page or download for people who must log in sends the browser to the login
# page and back (303), where the API answers 401.
BROWSER_RULES: dict[tuple[str, str], Rule] = {
    ("get", "/portal/template.xlsx"): Rule(
        {**x_private(), "anonymous": 303},
        query={"initiative": A, "org": X, "period": DRAFT},
        why="the API's template.xlsx rule, with the login page instead of 401",
    ),
    ("post", "/auth/login"): Rule(
        everyone(303),
        data={"email": X_EMAIL, "password": "not-the-password-1", "next": "/portal"},
        why="whoever sends the form: back to the login page with its message, no cookie",
    ),
    ("post", "/auth/logout"): Rule(
        everyone(303), why="clears the cookie (revoking its user's tokens) and shows the login page"
    ),
    ("get", "/metrics"): Rule(
        everyone(200), why="operational counters, no tenant's data; the proxy restricts it"
    ),
    ("post", "/locale"): Rule(
        everyone(303),
        data={"locale": "es"},
        why="the language switcher: a cookie for anyone, the setting of a logged-in user",
    ),
}


def _routes(routes) -> Iterator[Any]:
    """Every route of the app, inside included routers and mounts too."""
    for route in routes:
        inner = getattr(route, "original_router", None) or route
        if inner is not route or not hasattr(route, "methods"):
            yield from _routes(getattr(inner, "routes", []))
        else:
            yield route


def browser_operations(app) -> list[tuple[str, str]]:
    """The app's own routes that are neither in the API's schema nor under /api."""
    return sorted(
        (method.lower(), route.path)
        for route in _routes(app.routes)
        if isinstance(route, APIRoute)
        and not route.include_in_schema
        and not route.path.startswith("/api")
        for method in route.methods
    )


# Path parameters, by name; ``code`` depends on the collection it is in.
CODE_BY_COLLECTION = {
    "outcomes": "reach",
    "dimensions": "spare",
    "indicators": "SERVED",
    "strategies": STRATEGY,
}
DEFAULT_PARAMS = {
    "slug": A,
    "org": X,
    "period": DRAFT,
    "key": EMPTY,
    "category": "one",
}


def operations(app) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return [(m, p) for p, item in paths.items() for m in METHODS if m in item]


def _openapi_operations() -> list[tuple[str, str]]:
    return operations(create_app(sessionmaker(), with_dashboard=False))


OPERATIONS = _openapi_operations()
CASES = [(method, path, role) for method, path in OPERATIONS for role in ROLES]
BROWSER_OPERATIONS = browser_operations(create_app(sessionmaker(), with_dashboard=False))
BROWSER_CASES = [(method, path, role) for method, path in BROWSER_OPERATIONS for role in ROLES]


def _case_id(case: tuple[str, str, str]) -> str:
    method, path, role = case
    return f"{method.upper()} {path.removeprefix(P)} {role}"


def _url(path: str, rule: Rule, world: tenants.World) -> str:
    values = {**DEFAULT_PARAMS, **world.ids}
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if segment == "{code}":
            values.setdefault("code", CODE_BY_COLLECTION[segments[i - 1]])
    values.update(rule.params)
    return path.format(**values)


# --- the world, once per backend ----------------------------------------------------------------

Env = tenants.SharedWorld


@pytest.fixture(scope="module")
def env(database) -> Iterator[Env]:
    yield from tenants.shared_world(database)


@pytest.fixture(autouse=True, scope="module")
def _quiet_expected_denials() -> Iterator[None]:
    """Hundreds of expected 403s each log a warning, which ``-rA`` would print one by one."""
    logger = logging.getLogger("cm.api")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _request(env: Env, method: str, path: str, role: str, rule: Rule):
    kwargs: dict[str, Any] = {"headers": env.world.auth(role), "params": rule.query}
    if rule.json is not None:
        kwargs["json"] = rule.json
    if rule.data is not None:
        kwargs["data"] = rule.data
    if rule.files is not None:
        kwargs["files"] = rule.files
    with env.isolated():
        return env.client.request(method.upper(), _url(path, rule, env.world), **kwargs)


# --- the tests ------------------------------------------------------------------------------------


def test_every_route_has_a_rule() -> None:
    missing = [f"{m.upper()} {p}" for m, p in OPERATIONS if (m, p) not in RULES]
    assert not missing, (
        "routes without an access rule; add each to RULES in tests/access/test_access_matrix.py:\n  "
        + "\n  ".join(missing)
    )


def test_rules_name_only_mounted_routes() -> None:
    """Rules for routes that are not in the schema (yet) are reported, not failed: analytics and
    publication routers may be mounted later, and then they are checked at once."""
    stale = sorted(f"{m.upper()} {p}" for m, p in RULES if (m, p) not in OPERATIONS)
    if stale:
        pytest.skip("rules for routes not mounted: " + ", ".join(stale))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_access(env: Env, case: tuple[str, str, str]) -> None:
    method, path, role = case
    rule = RULES.get((method, path))
    if rule is None:
        pytest.fail(f"no access rule for {method.upper()} {path}: add one to RULES")
    response = _request(env, method, path, role, rule)
    env.seen[case] = response.status_code
    expected = rule.expect[role]
    assert response.status_code < 500, f"server error: {response.text[:500]}"
    assert response.status_code == expected, (
        f"{role} {method.upper()} {response.request.url.path}: expected {expected}, "
        f"got {response.status_code}: {response.text[:300]}"
        + (f"\n(rule: {rule.why})" if rule.why else "")
    )
    if response.headers.get("content-type", "").startswith(("application/json", "text/")):
        body = response.text
        for marker, allowed in MARKERS.items():
            assert role in allowed or marker not in body, (
                f"{role} {method.upper()} {path} leaks {marker!r}: {body[:300]}"
            )
    if response.status_code >= 400 and response.headers.get("content-type") == "application/json":
        error = response.json()
        assert isinstance(error.get("detail"), str) and error.get("code"), error


def test_every_browser_route_has_a_rule() -> None:
    assert ("get", "/portal/template.xlsx") in BROWSER_OPERATIONS
    missing = [f"{m.upper()} {p}" for m, p in BROWSER_OPERATIONS if (m, p) not in BROWSER_RULES]
    assert not missing, "browser routes without a rule in BROWSER_RULES:\n  " + "\n  ".join(missing)
    stale = [f"{m.upper()} {p}" for m, p in BROWSER_RULES if (m, p) not in BROWSER_OPERATIONS]
    assert not stale, f"rules for routes the app does not have: {stale}"


def _cookie(env: Env, role: str) -> dict[str, str]:
    """The role's session cookie: the same access token as its bearer header (api.web_auth)."""
    bearer = env.world.auth(role).get("Authorization")
    if bearer is None:
        return {}
    return {"Cookie": f"{SESSION_COOKIE}={bearer.removeprefix('Bearer ')}"}


@pytest.mark.parametrize("case", BROWSER_CASES, ids=_case_id)
def test_browser_access(env: Env, case: tuple[str, str, str]) -> None:
    method, path, role = case
    rule = BROWSER_RULES[(method, path)]
    with env.isolated():
        response = env.client.request(
            method.upper(),
            path,
            params=rule.query,
            data=rule.data,
            headers=_cookie(env, role),
            follow_redirects=False,
        )
    env.seen[case] = response.status_code
    expected = rule.expect[role]
    assert response.status_code == expected, (
        f"{role} {method.upper()} {path}: expected {expected}, got {response.status_code}: "
        f"{response.text[:300]}" + (f"\n(rule: {rule.why})" if rule.why else "")
    )
    if response.status_code == 303:
        location = urlsplit(response.headers["location"])
        # The language switcher goes back to its page: without a Referer, home.
        home = "/" if path == "/locale" else "/login"
        assert location.path in ("/login", "/portal", home) and not location.netloc
        assert response.headers["cache-control"] == "no-store"
    if path == "/portal/template.xlsx" and response.status_code == 303:
        [back] = parse_qs(urlsplit(response.headers["location"]).query)["next"]
        assert back.startswith("/portal/template.xlsx?initiative=")
    if response.status_code == 200 and path == "/portal/template.xlsx":
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["content-disposition"].startswith("attachment;")
    if response.headers.get("content-type", "").startswith(("application/json", "text/")):
        for marker, allowed in MARKERS.items():
            assert role in allowed or marker not in response.text, (role, path, marker)


def test_other_tenants_unpublished_summary_is_404(env: Env) -> None:
    """B has published nothing: its public pages do not exist, for anyone."""
    for role in ("anonymous", "backbone_b"):
        for tail in ("summary", "datapackage.zip"):
            response = env.client.get(
                f"{P}/public/initiatives/beta/{tail}", headers=env.world.auth(role)
            )
            if response.status_code == 404 and "no API route" in response.text:
                pytest.skip("public routes not mounted")
            assert response.status_code == 404, (role, tail, response.text[:200])


def test_lists_hide_other_tenants(env: Env) -> None:
    """Lists answer 200 to everyone logged in, filtered: check what each role actually gets."""

    def get(role: str, url: str, **params) -> Any:
        response = env.client.get(url, headers=env.world.auth(role), params=params)
        assert response.status_code == 200, response.text
        return response.json()

    subs = f"{P}/initiatives/{A}/submissions"
    assert {s["organisation"] for s in get("reporter_y", subs)["items"]} <= {Y}
    assert {s["organisation"] for s in get("reporter_x", subs)["items"]} == {X}
    assert get("reporter_y", subs, org=X)["items"] == []
    assert {s["organisation"] for s in get("backbone_a", subs)["items"]} == {X, Y}

    users = {u["email"] for u in get("backbone_b", f"{P}/users")["items"]}
    assert users == {"reporter-z@beta.test"}
    for role in ("reporter_x", "reporter_y", "funder_a"):
        assert get(role, f"{P}/users")["items"] == [], role

    keys = {k["name"] for k in get("backbone_b", f"{P}/api-keys")}
    assert keys == set()
    assert {k["name"] for k in get("reporter_x", f"{P}/api-keys")} == {tenants.X_KEY_NAME}
    # A's backbone sees X's key too (it writes into A), but B's does not.
    assert {k["name"] for k in get("backbone_a", f"{P}/api-keys")} == {
        tenants.A_KEY_NAME,
        tenants.X_KEY_NAME,
    }

    export = env.client.get(
        f"{P}/initiatives/{A}/export",
        params={"format": "json"},
        headers=env.world.auth("reporter_y"),
    )
    assert export.status_code == 200
    assert X not in export.text


def test_matrix_summary(env: Env) -> None:
    """A compact table (route × role → status) of what this backend answered; shown by -rA."""
    by_op: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (method, path, role), status in env.seen.items():
        by_op[(method, path)][role] = status
    if not by_op:
        pytest.skip("run together with test_access to see the table")
    short = {r: r.replace("backbone", "bb").replace("reporter", "rep") for r in ROLES}
    lines = [f"{'':62}" + "".join(f"{short[r]:>10}" for r in ROLES)]
    for (method, path), statuses in sorted(by_op.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label = f"{method.upper():6} {path.removeprefix(P)}"[:62]
        lines.append(f"{label:62}" + "".join(f"{statuses.get(r, '-'):>10}" for r in ROLES))
    classes = Counter(f"{s // 100}xx" for s in env.seen.values())
    print(f"\naccess matrix on {env.backend}:")
    print("\n".join(lines))
    print(
        f"{len({p for _, p in by_op})} paths, {len(by_op)} operations × {len(ROLES)} roles = "
        f"{len(env.seen)} cases; {json.dumps(dict(sorted(classes.items())))}"
    )
    assert all(s < 500 for s in env.seen.values())
