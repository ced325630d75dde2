"""Property-based API tests: Schemathesis against the app's own OpenAPI schema, in process.

Two kinds of run, each on both backends, each against a database migrated and seeded for it
(the app commits normally, so the writes Schemathesis makes accumulate, as they would against a
running server):

* Per operation, for every identity: each role of ``tests/access/tenants.py`` (the admin, A's and B's
  backbone, the reporters of X and Y, A's funder, and anonymous, which sends no Authorization
  header at all) and the API keys of A (backbone rights) and of X (reporter rights). Every
  operation gets positive and negative cases, half of them with path parameters pointing at real
  objects of the seeded world (so the domain code runs, not only the 404 of an unknown slug).
  Identities that mostly meet 401, 403 or 404 get fewer cases per operation than those with the
  most to do, but every operation gets cases for every identity (asserted).
* Stateful, as A's backbone, the admin and X's reporter (for whom only reads, submissions and
  keys, the operations of a reporter's work): Schemathesis' state machine chains operations
  along the OpenAPI links the routers declare (``api/links.py``): create an outcome, then read,
  change or delete it by the code in the answer; list the initiatives, then the first one's
  submissions, read one, save values with its ETag as ``If-Match``, submit, approve, reopen, …
  Most first steps are sent to real objects of the seeded world, as a chain that starts at a
  random slug ends at its 404. Check failures are collected rather than raised (Hypothesis
  would replay the scenario against a server whose state has moved on), and a run fails unless
  links were followed to successful answers.

The numbers of cases, steps and links followed are printed per identity and backend. Every
response goes through all of Schemathesis' default checks: no 5xx, documented status codes,
content types and headers, response bodies that match their schemas, authentication enforced
where declared, schema-valid requests accepted and schema-invalid ones rejected, and in
stateful runs that a created resource can be read and a deleted one cannot.

One deliberate adjustment, ``positive_data_acceptance``: the schema describes the shape of a
request, not the domain's rules (a rate's numerator above its denominator, an unknown indicator
code, a stale ``If-Match``), so a schema-valid request may still be refused by the domain with
422 (a domain ``code``) or 412. Only a 422 from request validation itself (``validation_error``,
i.e. the schema promised something the app does not accept) still fails the check.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from api.app import create_app
from models import ApiKey, Initiative, Organisation, User
from models.access.api_keys import create_api_key
from models.access.login import issue_token
from models.access.permissions import actor_for_user

from ..access import tenants
from ..conftest import BACKENDS, POSTGRES_URL

# Cases per operation for the identities with the most to do; the others get a share of it.
MAX_EXAMPLES = int(os.environ.get("CM_SCHEMATHESIS_EXAMPLES", "12"))
# API keys: A's (backbone rights) and X's (reporter rights).
KEYS = {"key_a": (Initiative, tenants.A), "key_x": (Organisation, tenants.X)}
IDENTITIES = (*tenants.ROLES, *KEYS)
SHARE = {"backbone_a": 1.0, "reporter_x": 1.0, "admin": 0.5}  # others: mostly 401/403/404
MIN_EXAMPLES = 3
# Stateful: scenarios per run, and steps per scenario at most.
SCENARIOS = int(os.environ.get("CM_SCHEMATHESIS_SCENARIOS", "30"))
STEPS = 20
STATEFUL_ROLES = ("backbone_a", "reporter_x", "admin")


def _reporters_work(ctx) -> bool:
    """What a reporter does: read, report (submissions), manage its keys and session."""
    operation = ctx.operation
    return operation.method.upper() == "GET" or any(
        part in operation.path for part in ("/submissions/", "/api-keys", "/auth/")
    )


# The operations each stateful run chains (None: all). Chains of the configuration writes a
# reporter may not make would end at their first step, crowding out the reporting workflow.
STATEFUL_OPERATIONS = {"reporter_x": _reporters_work}
MAX_RESTARTS = 10
MIN_LINKS_FOLLOWED = 5  # distinct links along which a step succeeded, per run
REAL_ROOTS = 0.8  # share of positive first steps sent to real objects of the seeded world
CODE_BY_COLLECTION = {"outcomes": "reach", "dimensions": "spare", "indicators": "SERVED"}
# An in-process call this slow is a hang. Schemathesis' default, 10 s, failed calls that a
# garbage collection of the whole test process paused (the suite once held every app it built:
# see test_app.test_an_app_is_freed_once_dropped). A call still running after SLOW_CALL seconds
# is recorded with what every thread and the database were doing, so a hang explains itself.
REQUEST_TIMEOUT = 30
SLOW_CALL = 5.0

_builtin_positive_data_acceptance = schemathesis.checks.positive_data_acceptance


def examples_for(identity: str) -> int:
    return max(MIN_EXAMPLES, round(MAX_EXAMPLES * SHARE.get(identity, 0.25)))


# Documented refusals of well-formed requests by the domain: a stale If-Match (412), a file that
# is too large (413) or not a spreadsheet (415), a value the rules refuse (422).
DOMAIN_REFUSALS = {412, 413, 415, 422}


def domain_aware_positive_data_acceptance(ctx, response, case) -> bool | None:
    """``positive_data_acceptance``, except that the domain may refuse schema-valid data with a
    documented status and its own error code; request validation (``validation_error``) may not.
    """
    if response.status_code in DOMAIN_REFUSALS:
        try:
            code = response.json().get("code")
        except Exception:  # noqa: BLE001 - not JSON: let the built-in check judge it
            code = None
        if code is not None and code != "validation_error":
            return None
    return _builtin_positive_data_acceptance(ctx, response, case)


CHECKS = {
    "excluded_checks": [_builtin_positive_data_acceptance],
    "additional_checks": [domain_aware_positive_data_acceptance],
}


def real_path_parameters(operation, world: tenants.World) -> dict[str, Any]:
    """Path parameters naming objects of the seeded world."""
    values: dict[str, Any] = {
        "slug": tenants.A,
        "org": tenants.X,
        "period": tenants.DRAFT,
        "key": tenants.DRAFT,
        "category": "one",
        **world.ids,
    }
    segments = operation.path.split("/")
    for i, segment in enumerate(segments):
        if segment == "{code}":
            values["code"] = CODE_BY_COLLECTION.get(segments[i - 1], "SERVED")
        if segment == "{slug}" and segments[i - 1] == "organisations":
            values["slug"] = tenants.X
    names = {p.name for p in operation.path_parameters}
    return {name: value for name, value in values.items() if name in names}


def strategy(operation, world: tenants.World):
    real = real_path_parameters(operation, world)
    inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
    modes = [GenerationMode.POSITIVE]
    if any(len(group) for group in inputs):  # nothing to make invalid otherwise
        modes.append(GenerationMode.NEGATIVE)
    options = []
    for mode in modes:
        options.append(operation.as_strategy(generation_mode=mode))
        if real:
            options.append(operation.as_strategy(generation_mode=mode, path_parameters=real))
    return st.one_of(options)


class Watchdog:
    """Records the state of the process and the database when a call runs longer than
    SLOW_CALL seconds: the stack of every thread, the engine's pool and, on PostgreSQL, every
    other session of the database with what it waits for."""

    def __init__(self, database) -> None:
        self.database = database
        self.reports: list[str] = []

    def watch(self, label: str) -> threading.Timer:
        timer = threading.Timer(SLOW_CALL, self._record, args=(label,))
        timer.daemon = True
        timer.start()
        return timer

    def _record(self, label: str) -> None:
        lines = [f"{label}: still running after {SLOW_CALL:.0f}s", f"pool: {self._pool()}"]
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            stack = "".join(traceback.format_stack(frame, limit=12))
            lines.append(f"thread {names.get(ident, ident)}:\n{stack}")
        if self.database.backend == "postgresql":
            lines.append(self._sessions())
        self.reports.append("\n".join(lines))

    def _pool(self) -> str:
        try:
            return self.database.engine.pool.status()
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not fail the run
            return repr(exc)

    def _sessions(self) -> str:
        engine = create_engine(
            POSTGRES_URL, poolclass=NullPool, connect_args={"connect_timeout": 3}
        )
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT pid, state, wait_event_type, wait_event,"
                        " now() - xact_start AS in_transaction, left(query, 160)"
                        " FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
                waiting = conn.execute(
                    text(
                        "SELECT pid, locktype, mode, relation::regclass::text"
                        " FROM pg_locks WHERE NOT granted"
                    )
                ).all()
            return "sessions:\n" + "\n".join(map(str, rows)) + f"\nlocks waited for: {waiting}"
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not fail the run
            return f"sessions: {exc!r}"
        finally:
            engine.dispose()


@dataclass
class Setup:
    world: tenants.World
    schema: Any
    credentials: Callable[[], dict[str, str]]
    watchdog: Watchdog


def set_up(database, identity: str) -> Setup:
    """Migrate and seed ``database``; the app's schema, and fresh credentials of ``identity``
    for every call (the fuzzer may log its user out, or revoke its API key)."""
    database.migrate()
    factory = sessionmaker(database.engine, expire_on_commit=False)
    with factory() as session:
        world = tenants.build_world(session)
        session.commit()
    app = create_app(factory, with_dashboard=False)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # The Authorization header is ours (real credentials per call), never generated or mutated:
    # a "negative" case that drops it would be sent with it all the same and misjudged.
    schema.config.generation.update(with_security_parameters=False)
    # Stateful runs follow the links the schema declares. Schemathesis' own guesses from
    # parameter names add, e.g., a link from the initiative list to every path with a {slug},
    # whatever its other parameters: dozens of links to 404s that crowd out the real chains.
    schema.config.phases.stateful.inference.algorithms = []
    schema.config.request_timeout = REQUEST_TIMEOUT
    watchdog = Watchdog(database)

    if identity == "anonymous":
        return Setup(world, schema, dict, watchdog)

    if identity in KEYS:
        model, slug = KEYS[identity]
        key: dict[str, Any] = {}

        def api_key() -> dict[str, str]:
            with factory() as session:
                row = session.get(ApiKey, key["id"]) if key else None
                if row is None or row.revoked_at is not None:
                    scope_id = session.scalar(select(model.id).where(model.slug == slug))
                    scope = "initiative_id" if model is Initiative else "organisation_id"
                    # Keys act for a living person: A's backbone, X's reporter.
                    owner = "backbone_a" if model is Initiative else "reporter_x"
                    person = session.scalar(select(User).where(User.email == world.emails[owner]))
                    row, key["secret"] = create_api_key(
                        session=session,
                        actor=actor_for_user(session=session, user=person),
                        name=identity,
                        **{scope: scope_id},
                    )
                    session.commit()
                    key["id"] = row.id
            return {"Authorization": f"Bearer {key['secret']}"}

        return Setup(world, schema, api_key, watchdog)

    with factory() as session:
        user_id = session.scalar(select(User.id).where(User.email == world.emails[identity]))

    def bearer() -> dict[str, str]:
        with factory() as session:
            token = issue_token(session.get(User, user_id)).access_token
        return {"Authorization": f"Bearer {token}"}

    return Setup(world, schema, bearer, watchdog)


# --- every operation, every identity ------------------------------------------------------------


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_schemathesis(fresh_database, identity: str) -> None:
    setup = set_up(fresh_database, identity)
    counts: dict[str, int] = {}
    failures: dict[str, BaseException] = {}
    started = time.monotonic()
    for result in setup.schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        counts[label] = 0
        run = _fuzzer(operation, setup, counts, examples_for(identity))
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failures
            failures[label] = exc
        except BaseExceptionGroup as exc:  # Schemathesis' FailureGroup
            failures[label] = exc
    elapsed = time.monotonic() - started

    total = sum(counts.values())
    print(
        f"\nschemathesis {fresh_database.backend} as {identity}: {total} cases over "
        f"{len(counts)} operations ({examples_for(identity)} per operation at most) "
        f"in {elapsed:.1f}s; {len(setup.watchdog.reports)} calls slower than {SLOW_CALL:.0f}s"
    )
    if failures:
        report = "\n\n".join(f"=== {label}\n{_explain(exc)}" for label, exc in failures.items())
        report += "".join(f"\n\n=== slow call\n{r}" for r in setup.watchdog.reports)
        pytest.fail(f"{len(failures)} operations failed:\n{report}", pytrace=False)
    assert all(counts.values()), [label for label, n in counts.items() if not n]


def _explain(exc: BaseException) -> str:
    """The failure with the failures it groups (Hypothesis' "flaky" reports hide them)."""
    lines = [str(exc)]
    for inner in getattr(exc, "exceptions", ()):
        lines.append("  - " + _explain(inner).replace("\n", "\n    "))
    return "\n".join(lines)


def _fuzzer(operation, setup: Setup, counts: dict[str, int], examples: int):
    label = operation.label

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy(operation, setup.world))
    def run(case) -> None:
        counts[label] += 1
        headers = setup.credentials()
        timer = setup.watchdog.watch(label)
        try:
            case.call_and_validate(headers=headers, **CHECKS)
        finally:
            timer.cancel()

    return run


# --- stateful: chains of operations along the schema's links ------------------------------------


@pytest.mark.parametrize("role", STATEFUL_ROLES)
@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_schemathesis_stateful(fresh_database, role: str) -> None:
    setup = set_up(fresh_database, role)
    steps: Counter[str] = Counter()  # "root" or "linked" steps
    statuses: Counter[int] = Counter()  # answers to linked steps
    followed: Counter[str] = Counter()  # link -> steps along it that the target answered 2xx
    failures: dict[str, str] = {}  # operation and failure -> its first occurrence
    scenarios = [0]
    coin = random.Random(0)

    schema = setup.schema
    if STATEFUL_OPERATIONS.get(role):
        schema = schema.include(STATEFUL_OPERATIONS[role])

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"headers": setup.credentials()}

        def step(self, input):
            linked = input.transition is not None and input.is_applied
            steps["linked" if linked else "root"] += 1
            case = input.case
            if (
                input.transition is None
                and not case.meta.is_negative_at(ParameterLocation.PATH)
                and coin.random() < REAL_ROOTS
            ):
                # A chain that starts under a random slug ends at its 404: start some under
                # the seeded world's objects (a valid value for a valid one), without a random
                # If-Match (optional) that would only be refused as stale.
                real = real_path_parameters(case.operation, setup.world)
                case.path_parameters = {**(case.path_parameters or {}), **real}
                if case.headers and not case.meta.is_negative_at(ParameterLocation.HEADER):
                    case.headers = {k: v for k, v in case.headers.items() if k != "If-Match"}
            timer = setup.watchdog.watch(case.operation.label)
            try:
                output = super().step(input)
            except Exception as exc:
                # Not a check's failure (those are collected below) but an error: kept, since
                # Hypothesis' replay of the scenario may end as "flaky" instead of raising it.
                failures.setdefault(f"{case.operation.label}: {exc!r}", case.as_curl_command())
                raise
            finally:
                timer.cancel()
            if linked:
                statuses[output.response.status_code] += 1
                if 200 <= output.response.status_code < 300:
                    followed[input.transition.id] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            # Failures are collected, not raised: Hypothesis would replay the scenario to shrink
            # it, against a server whose state has moved on.
            try:
                case.validate_response(
                    response,
                    headers=kwargs.get("headers"),
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                    **CHECKS,
                )
            except (AssertionError, BaseExceptionGroup) as exc:
                found = getattr(exc, "exceptions", [exc])
                titles = ", ".join(sorted({getattr(f, "title", repr(f)) for f in found}))
                failures.setdefault(
                    f"{case.operation.label}: {titles}", f"{exc}\n{case.as_curl_command()}"
                )

        def teardown(self) -> None:
            scenarios[0] += 1
            super().teardown()

    started = time.monotonic()
    restarts = 0
    # Hypothesis replays the beginnings of earlier scenarios; when the server's state has moved
    # on, a replay goes elsewhere and it gives up ("inconsistent data generation"). Schemathesis'
    # own runner starts a new suite then; so does this loop, until the scenarios are done.
    while scenarios[0] < SCENARIOS and restarts <= MAX_RESTARTS:
        machine = hypothesis.seed(restarts)(Workflow)
        try:
            machine.run(
                settings=settings(
                    max_examples=SCENARIOS - scenarios[0],
                    stateful_step_count=STEPS,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            restarts += 1
            continue
        break
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis stateful {fresh_database.backend} as {role}: {steps.total()} steps "
        f"({steps['linked']} along links) in {scenarios[0]} scenarios ({restarts} restarts), "
        f"{len(followed)} links followed to a 2xx, in {elapsed:.1f}s "
        f"({len(setup.watchdog.reports)} calls slower than {SLOW_CALL:.0f}s); "
        f"answers to linked steps: {dict(sorted(statuses.items()))}"
    )
    for name, n in sorted(followed.items()):
        print(f"  {n:4d}  {name}")
    if failures:
        report = "\n\n".join(f"=== {failure}\n{detail}" for failure, detail in failures.items())
        report += "".join(f"\n\n=== slow call\n{r}" for r in setup.watchdog.reports)
        pytest.fail(f"{len(failures)} distinct failures:\n{report}", pytrace=False)
    assert scenarios[0] >= SCENARIOS, f"only {scenarios[0]} scenarios ran"
    assert len(followed) >= MIN_LINKS_FOLLOWED, sorted(followed)


# --- what the fuzzer found, pinned down (both backends, rolled back per test) --------------------


@pytest.fixture(scope="module")
def env(database) -> Iterator[tenants.SharedWorld]:
    yield from tenants.shared_world(database)


@pytest.fixture
def client(env: tenants.SharedWorld) -> Iterator[TestClient]:
    """The shared world's client; whatever the test writes is rolled back after it."""
    with env.isolated():
        yield env.client


@pytest.fixture
def world(env: tenants.SharedWorld) -> tenants.World:
    return env.world


def _raw_request(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes):
    """One request straight through ASGI, with header bytes exactly as given (test clients
    re-encode them). Answers (status, body); an exception escaping the app is re-raised."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_if_match_with_a_non_ascii_digit_is_422_not_500(env, client, world) -> None:
    """``If-Match: ²`` passed ``str.isdigit()`` and crashed ``int()`` (500)."""
    path = f"/api/v1/initiatives/{tenants.A}/submissions/{tenants.X}/{tenants.DRAFT}"
    token = world.auth("reporter_x")["Authorization"].encode()
    status, body = _raw_request(
        env.app,
        "PUT",
        path,
        [
            (b"authorization", token),
            (b"content-type", b"application/json"),
            (b"if-match", b"\xb2"),  # latin-1 for "²"
        ],
        b'{"values": []}',
    )
    assert status == 422, body
    assert json.loads(body)["field"] == "If-Match"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/users/9223372036854775808"),
        ("delete", "/api/v1/api-keys/18446744073709551616"),
        ("get", f"/api/v1/initiatives/{tenants.A}/values/99999999999999999999/history"),
        ("get", "/api/v1/organisations?offset=99999999999999999999"),
    ],
)
def test_numbers_past_the_database_range_are_422(client, world, method, path) -> None:
    """Ids and offsets past 64 bits crashed SQLite's driver (OverflowError, 500)."""
    response = client.request(method.upper(), path, headers=world.auth("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "outcomes", {"code": "big", "name": "Big", "position": 2**40}, "position"),
        ("patch", "outcomes/reach", {"position": -(2**40)}, "position"),
        ("patch", "", {"suppression_threshold": 2**31}, "suppression_threshold"),
        (
            "patch",
            "dimensions/spare",
            {"categories": [{"code": "x", "name": "X", "position": 2**33}]},
            "categories[0].position",
        ),
    ],
)
def test_integers_past_32_bits_are_refused_by_the_domain(
    client, world, method, path, body, field
) -> None:
    """Positions and thresholds are 32-bit columns: a larger number was a database error (500)."""
    url = f"/api/v1/initiatives/{tenants.A}" + (f"/{path}" if path else "")
    response = client.request(method.upper(), url, json=body, headers=world.auth("backbone_a"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_timestamps_carry_their_time_zone_on_every_backend(client, world) -> None:
    """SQLite handed back naive timestamps, sent as ``2026-01-02T03:04:05`` (not RFC 3339)."""
    org = client.get(f"/api/v1/organisations/{tenants.X}", headers=world.auth("admin")).json()
    assert datetime.fromisoformat(org["created_at"]).utcoffset() == timedelta(0)
    sub = client.get(
        f"/api/v1/initiatives/{tenants.A}/submissions/{tenants.X}/{tenants.SUBMITTED}",
        headers=world.auth("backbone_a"),
    ).json()
    assert datetime.fromisoformat(sub["submitted_at"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        (f"/api/v1/initiatives/{tenants.A}/outcomes", "application/json", b"\xff\xfe{"),
        (
            f"/api/v1/initiatives/{tenants.A}/imports",
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\nnot a part--xyz--\r\n",
        ),
    ],
)
def test_unreadable_bodies_are_422_in_the_api_error_format(
    client, world, path, content_type, body
) -> None:
    """They were FastAPI's and Starlette's bare ``400 {"detail": …}`` (undocumented, no code)."""
    headers = {**world.auth("backbone_a"), "Content-Type": content_type}
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == "body"


@pytest.mark.parametrize("scope", ["organisation", "initiative"])
def test_api_key_for_an_unknown_scope_is_404(client, world, scope) -> None:
    """An unknown slug became the id -1, which an admin (who may create keys for any scope) got
    as far as the insert: a foreign-key error, answered 409 (undocumented, and no conflict)."""
    response = client.post(
        "/api/v1/api-keys", json={"name": "k", scope: "no-such-slug"}, headers=world.auth("admin")
    )
    assert response.status_code == 404, response.text
    assert response.json()["field"] == scope


def test_an_empty_idempotency_key_is_refused_as_documented(env, client, world) -> None:
    """The schema allowed an empty ``Idempotency-Key`` (only a maximum length), which the app
    refuses: a schema-valid request refused as invalid."""
    paths = env.app.openapi()["paths"]
    for template, method in [
        ("/api/v1/initiatives/{slug}/submissions/{org}/{period}", "put"),
        ("/api/v1/initiatives/{slug}/submissions/{org}/{period}/submit", "post"),
        ("/api/v1/initiatives/{slug}/imports", "post"),
    ]:
        (header,) = [
            p for p in paths[template][method]["parameters"] if p["name"] == "Idempotency-Key"
        ]
        (text,) = [s for s in header["schema"]["anyOf"] if s["type"] == "string"]
        assert text["minLength"] == 1, template
    response = client.put(
        f"/api/v1/initiatives/{tenants.A}/submissions/{tenants.X}/{tenants.DRAFT}",
        json={"values": []},
        headers={**world.auth("reporter_x"), "Idempotency-Key": ""},
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "header.Idempotency-Key"


def test_api_key_without_an_owner_is_422(client, world) -> None:
    """It was a bare 400 (an undocumented status) from a generic DomainError."""
    response = client.post(
        "/api/v1/api-keys", json={"name": "orphan"}, headers=world.auth("backbone_a")
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "organisation"


def test_validation_errors_match_the_documented_schema(env, client, world) -> None:
    """The schema documented FastAPI's list-shaped ``detail``; the app sends its own format."""
    documented = env.app.openapi()["components"]["schemas"]["HTTPValidationError"]
    response = client.get("/api/v1/organisations?limit=0", headers=world.auth("admin"))
    assert response.status_code == 422
    body = response.json()
    assert set(documented["required"]) <= set(body)
    assert isinstance(body["detail"], str)
    assert [e["field"] for e in body["errors"]] == ["query.limit"]


def test_control_characters_do_not_break_spreadsheets(client, world) -> None:
    """One note holding a control character (here BEL) made every .xlsx export and template of
    the initiative fail (openpyxl refuses such cells: 500). Stripped before neutralising, so a
    formula cannot hide behind one."""
    headers = world.auth("reporter_x")
    base = f"/api/v1/initiatives/{tenants.A}"
    note = "\x07=HYPERLINK(1)"
    put = client.put(
        f"{base}/submissions/{tenants.X}/{tenants.DRAFT}",
        json={"values": [{"indicator": "SERVED", "value": 3, "note": note}]},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    for url in (
        f"{base}/export?format=xlsx",
        f"{base}/template.xlsx?org={tenants.X}&period={tenants.DRAFT}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text[:200])
        cells = _xlsx_texts(response.content)
        assert "'=HYPERLINK(1)" in cells, url
        assert not any(c.startswith("=") or "\x07" in c for c in cells), url


def _xlsx_texts(content: bytes) -> set[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return {
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    }
