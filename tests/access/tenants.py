"""A two-tenant world for access tests: initiative A (members X, Y) and initiative B (member Z).

Built with the factories and the domain's own write functions (so values have their audit trail,
approvals fill the rollup table and a period is published), then described by plain ids, slugs
and bearer headers, which outlive the session that built them.

Roles: ``admin``, ``backbone_a``, ``backbone_b``, ``reporter_x``, ``reporter_y`` (both members
of A), ``funder_a`` and ``anonymous``.

:func:`shared_world` builds it once on one connection, inside a transaction rolled back at the
end; :meth:`SharedWorld.isolated` runs a block in a SAVEPOINT rolled back after it, so tests
(and the app's own commits) never see each other's writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from models.access.api_keys import create_api_key
from models.access.login import issue_token
from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.initiatives.translations import set_translation
from models.reporting.deadlines import grant_extension
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.stories.stories import write_story
from models.strategies.strategies import add_action, create_strategy
from models.tables.webhooks import WebhookEndpoint
from models.webhooks.endpoints import create_endpoint

from .. import factories as f

ROLES = (
    "admin",
    "backbone_a",
    "backbone_b",
    "reporter_x",
    "reporter_y",
    "funder_a",
    "anonymous",
)

A, B = "alpha", "beta"
X, Y, Z, FREE = "org-x", "org-y", "org-z", "org-free"
QUIET = "org-quiet"  # a member of A that has not reported (so it may be removed)
# Periods of A: X's submission is approved in Q1 (published), submitted in Q2 (past due, still
# open, and X's deadline is extended past its close), a draft in Q3 (open for reporting now);
# Q4 is empty (safe to delete, lock, move).
APPROVED, SUBMITTED, DRAFT, EMPTY = "2026Q1", "2026Q2", "2026Q3", "2026Q4"
PASSWORD = f.PASSWORD

# Strings that identify private data. A response to a role outside the set must not hold them.
X_NOTE = "note-x-7f3a9c"
Z_NOTE = "note-z-91c2d4"
X_EMAIL = "reporter-x@alpha.test"
A_KEY_NAME = "alpha-backbone-key-5d1e"
X_KEY_NAME = "x-reporter-key-c83b"
X_EXTENSION = "extension-x-4b7e"  # the reason of X's deadline extension for SUBMITTED
A_HOOK_URL = "https://hooks.alpha.test/a-hook-6d2e"  # A's webhook endpoint
A_HOOK_SECRET = "whsec_alpha-world-secret-2b8f"  # its secret: shown to no one after creation
# The story of SERVED in APPROVED: published as first written, then edited after publication.
STORY_PUBLISHED = "story-published-2a9e"
STORY_DRAFT = "story-draft-6d0f"
# A's strategy owned by X (code STRATEGY): its backbone, funder and X's reporter read it.
STRATEGY = "x-plan"
STRATEGY_TITLE = "strategy-x-8c1f"
MARKERS: dict[str, frozenset[str]] = {
    A_HOOK_URL: frozenset({"admin", "backbone_a"}),
    A_HOOK_SECRET: frozenset(),
    X_EXTENSION: frozenset({"admin", "backbone_a", "reporter_x"}),
    STORY_DRAFT: frozenset({"admin", "backbone_a"}),
    STRATEGY_TITLE: frozenset({"admin", "backbone_a", "funder_a", "reporter_x"}),
    X_NOTE: frozenset({"admin", "backbone_a", "reporter_x"}),
    Z_NOTE: frozenset({"admin", "backbone_b"}),
    X_EMAIL: frozenset({"admin", "backbone_a", "reporter_x"}),
    A_KEY_NAME: frozenset({"admin", "backbone_a"}),
    X_KEY_NAME: frozenset({"admin", "backbone_a", "reporter_x"}),
}


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # role -> request headers
    emails: dict[str, str]  # role -> e-mail (password PASSWORD)
    ids: dict[str, int] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return dict(self.headers[role])


def _values(*items: tuple[str, str, dict]) -> list[ValueInput]:
    return [ValueInput(indicator=i, disaggregation=d, **kw) for i, d, kw in items]


def _publish(session: Session, slug: str, period: str) -> bool:
    """Publish the period, if this build has publication (it is being added alongside)."""
    try:
        from models.publishing.publish import publish
    except ImportError:
        return False
    publish(session=session, actor=SYSTEM, initiative_slug=slug, period_key=period)
    return True


def build_world(session: Session) -> World:
    """Create the world in ``session`` (flushed, not committed) and describe it."""
    today = date.today()
    a = f.initiative(session, slug=A, name="Alpha Initiative")
    b = f.initiative(session, slug=B, name="Beta Initiative")
    x = f.organisation(session, slug=X, name="Org X")
    y = f.organisation(session, slug=Y, name="Org Y")
    z = f.organisation(session, slug=Z, name="Org Z")
    f.organisation(session, slug=FREE, name="Org Free")
    mx, my = f.member(session, a, x), f.member(session, a, y)
    f.member(session, a, f.organisation(session, slug=QUIET, name="Org Quiet"))
    mz = f.member(session, b, z)

    reach = f.outcome(session, a, code="reach", name="Reach")
    f.outcome(session, a, code="spare_outcome", name="Spare outcome")  # no indicators
    race = f.dimension(session, a, "race", ["black", "white"])
    f.dimension(session, a, "spare", ["one", "two"])  # used by nothing
    served = f.indicator(session, a, "count", code="SERVED", outcome_id=reach.id, valid_max=1e6)
    served.dimensions = [race]
    ready = f.indicator(
        session, a, "rate", code="READY", outcome_id=reach.id, valid_min=0, valid_max=100
    )
    f.indicator(session, a, "count", code="SPARE")  # no values, no obligations
    for ind in (served, ready):
        f.obligation(session, mx, ind)
    f.obligation(session, my, served)

    past = {"opens_on": today - timedelta(days=200), "due_on": today - timedelta(days=170)}
    f.period(session, a, APPROVED, **past, closes_on=today - timedelta(days=150))
    f.period(session, a, SUBMITTED, **past, closes_on=today + timedelta(days=10))
    window = {
        "opens_on": today - timedelta(days=30),
        "due_on": today + timedelta(days=20),
        "closes_on": today + timedelta(days=40),
    }
    f.period(session, a, DRAFT, **window)
    f.period(session, a, EMPTY, opens_on=today + timedelta(days=60))

    b_served = f.indicator(session, b, "count", code="B_SERVED")
    f.obligation(session, mz, b_served)
    f.period(session, b, DRAFT, **window)

    users = {
        "admin": f.user(session, "admin", email="admin@alpha.test"),
        "backbone_a": f.user(session, "backbone", init=a, email="backbone-a@alpha.test"),
        "backbone_b": f.user(session, "backbone", init=b, email="backbone-b@beta.test"),
        "reporter_x": f.user(session, "reporter", org=x, email=X_EMAIL),
        "reporter_y": f.user(session, "reporter", org=y, email="reporter-y@alpha.test"),
        "funder_a": f.user(session, "funder", init=a, email="funder-a@alpha.test"),
    }
    f.user(session, "reporter", org=z, email="reporter-z@beta.test")

    def save(org: str, period: str, values: list[ValueInput], slug: str = A):
        return save_values(
            session=session,
            actor=SYSTEM,
            initiative_slug=slug,
            org_slug=org,
            period_key=period,
            inputs=values,
        )

    def story(period: str, text: str) -> None:
        write_story(
            session=session,
            actor=SYSTEM,
            initiative_slug=A,
            indicator_code="SERVED",
            period_key=period,
            text=text,
        )

    def move(org: str, period: str, *actions: str) -> None:
        for action in actions:
            transition(
                session=session,
                actor=SYSTEM,
                initiative_slug=A,
                org_slug=org,
                period_key=period,
                action=action,
            )

    x_values = _values(
        ("SERVED", "total", {"value": 120, "note": X_NOTE}),
        ("SERVED", "race=black", {"value": 70}),
        ("SERVED", "race=white", {"value": 50}),
        ("READY", "total", {"numerator": 45, "denominator": 90}),
    )
    save(X, APPROVED, x_values)
    save(Y, APPROVED, _values(("SERVED", "total", {"value": 80})))
    move(X, APPROVED, "submit", "approve")
    move(Y, APPROVED, "submit", "approve")
    story(APPROVED, f"Served more children: {STORY_PUBLISHED}.")
    _publish(session, A, APPROVED)
    story(APPROVED, f"Served more children, and why: {STORY_DRAFT}.")
    save(X, SUBMITTED, x_values)
    move(X, SUBMITTED, "submit")
    # X may still write its report of the closed SUBMITTED period (once it is returned).
    grant_extension(
        session=session,
        actor=SYSTEM,
        initiative_slug=A,
        org_slug=X,
        period_key=SUBMITTED,
        until=today + timedelta(days=30),
        reason=X_EXTENSION,
    )
    draft = save(X, DRAFT, x_values)
    save(Z, DRAFT, _values(("B_SERVED", "total", {"value": 9, "note": Z_NOTE})), slug=B)

    x_value_id = next(
        v.id
        for v in draft.submission.values
        if v.indicator == "SERVED" and v.disaggregation == "total"
    )
    # Keys act for a living person: A's backbone and X's reporter create them.
    a_key, _ = create_api_key(
        session=session,
        actor=actor_for_user(session=session, user=users["backbone_a"]),
        name=A_KEY_NAME,
        initiative_id=a.id,
    )
    create_api_key(
        session=session,
        actor=actor_for_user(session=session, user=users["reporter_x"]),
        name=X_KEY_NAME,
        organisation_id=x.id,
    )
    hook = create_endpoint(
        session=session,
        actor=actor_for_user(session=session, user=users["backbone_a"]),
        initiative_slug=A,
        url=A_HOOK_URL,
        description="the city's dashboard",
    )
    session.get_one(WebhookEndpoint, hook.id).secret = A_HOOK_SECRET
    create_strategy(
        session=session,
        actor=SYSTEM,
        initiative=A,
        code=STRATEGY,
        title=STRATEGY_TITLE,
        starts_on=today - timedelta(days=90),
        owners=[X],
        indicators=["SERVED"],
    )
    action = add_action(session=session, actor=SYSTEM, initiative=A, code=STRATEGY, title="visit")
    set_translation(
        session=session,
        actor=SYSTEM,
        initiative_slug=A,
        locale="es",
        entity_type="outcome",
        entity="reach",
        field="name",
        text="Alcance",
    )
    session.flush()

    headers = {
        role: {"Authorization": f"Bearer {issue_token(u).access_token}"}
        for role, u in users.items()
    }
    headers["anonymous"] = {}
    emails = {role: u.email for role, u in users.items()}
    reporter_x = users["reporter_x"]
    return World(
        headers=headers,
        emails=emails,
        ids={
            "value_id": x_value_id,
            "key_id": a_key.id,
            "user_id": reporter_x.id,
            "grant_id": reporter_x.grants[0].id,
            "webhook_id": hook.id,
            "action_id": action.id,
        },
    )


# --- one world per backend, many isolated tests -------------------------------------------------


@dataclass
class SharedWorld:
    backend: str
    connection: Connection
    app: FastAPI
    client: TestClient
    world: World
    seen: dict[Any, int] = field(default_factory=dict)  # for summaries

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """Run the block in a SAVEPOINT that is rolled back afterwards."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            savepoint.rollback()


def shared_world(database) -> Iterator[SharedWorld]:
    """Generator for a module-scoped fixture over conftest's ``database`` (one per backend)."""
    from api.app import create_app

    connection = database.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    with factory() as session:
        world = build_world(session)
        session.commit()
    app = create_app(factory, with_dashboard=False)
    try:
        with TestClient(app) as client:
            yield SharedWorld(database.backend, connection, app, client, world)
    finally:
        outer.rollback()
        connection.close()
