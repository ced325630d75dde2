"""Property-based API tests: Schemathesis against the app's own OpenAPI schema, in process.

For each backend and for two identities (A's backbone, X's reporter), every operation gets
positive and negative cases, half of them with path parameters pointing at real objects of the
seeded world (so the domain code runs, not only the 404 of an unknown slug). Every response goes
through Schemathesis' default checks: no 5xx, documented status codes, content types and
headers, response bodies that match their schemas, authentication enforced where declared,
schema-valid requests accepted and schema-invalid ones rejected.

One deliberate adjustment, ``positive_data_acceptance``: the schema describes the shape of a
request, not the domain's rules (a rate's numerator above its denominator, an unknown indicator
code, a stale ``If-Match``), so a schema-valid request may still be refused by the domain with
422 (a domain ``code``) or 412. Only a 422 from request validation itself (``validation_error``,
i.e. the schema promised something the app does not accept) still fails the check.

The database is migrated and seeded once per test and the app commits normally, so the writes
Schemathesis makes accumulate, as they would against a running server.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from models import User
from models.security import issue_token, login_throttle

from . import access
from .conftest import BACKENDS

# Per operation and identity, spread over positive and negative, generated and real paths.
MAX_EXAMPLES = int(os.environ.get("CM_SCHEMATHESIS_EXAMPLES", "15"))
ROLES = ("backbone_a", "reporter_x")
CODE_BY_COLLECTION = {"outcomes": "reach", "dimensions": "spare", "indicators": "SERVED"}

_builtin_positive_data_acceptance = schemathesis.checks.positive_data_acceptance


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


def real_path_parameters(operation, world: access.World) -> dict[str, Any]:
    """Path parameters naming objects of the seeded world."""
    values: dict[str, Any] = {
        "slug": access.A,
        "org": access.X,
        "period": access.DRAFT,
        "key": access.DRAFT,
        "category": "one",
        **world.ids,
    }
    segments = operation.path.split("/")
    for i, segment in enumerate(segments):
        if segment == "{code}":
            values["code"] = CODE_BY_COLLECTION.get(segments[i - 1], "SERVED")
        if segment == "{slug}" and segments[i - 1] == "organisations":
            values["slug"] = access.X
    names = {p.name for p in operation.path_parameters}
    return {name: value for name, value in values.items() if name in names}


def strategy(operation, world: access.World):
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


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_schemathesis(fresh_database, role: str) -> None:
    fresh_database.migrate()
    factory = sessionmaker(fresh_database.engine, expire_on_commit=False)
    with factory() as session:
        world = access.build_world(session)
        session.commit()
        user_id = session.scalar(select(User.id).where(User.email == world.emails[role]))
    app = create_app(factory)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # The Authorization header is ours (a real token per call), never generated or mutated: a
    # "negative" case that drops it would be sent with it all the same and misjudged.
    schema.config.generation.update(with_security_parameters=False)

    def bearer() -> dict[str, str]:
        # A fresh token per call: the fuzzer may log the user out (POST /auth/logout).
        with factory() as session:
            token = issue_token(session.get(User, user_id)).access_token
        return {"Authorization": f"Bearer {token}"}

    login_throttle.reset()
    counts: dict[str, int] = {}
    failures: dict[str, BaseException] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        counts[label] = 0
        run = _fuzzer(operation, world, counts, bearer)
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failures
            failures[label] = exc
        except BaseExceptionGroup as exc:  # Schemathesis' FailureGroup
            failures[label] = exc
    elapsed = time.monotonic() - started
    login_throttle.reset()

    total = sum(counts.values())
    print(
        f"\nschemathesis {fresh_database.backend} as {role}: {total} cases over "
        f"{len(counts)} operations in {elapsed:.1f}s"
    )
    if failures:
        report = "\n\n".join(f"=== {label}\n{exc}" for label, exc in failures.items())
        pytest.fail(f"{len(failures)} operations failed:\n{report}", pytrace=False)


def _fuzzer(operation, world: access.World, counts: dict[str, int], bearer):
    label = operation.label

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy(operation, world))
    def run(case) -> None:
        counts[label] += 1
        case.call_and_validate(
            headers=bearer(),
            excluded_checks=[_builtin_positive_data_acceptance],
            additional_checks=[domain_aware_positive_data_acceptance],
        )

    return run


# --- what the fuzzer found, pinned down (both backends, rolled back per test) --------------------


@pytest.fixture(scope="module")
def env(database) -> Iterator[access.SharedWorld]:
    yield from access.shared_world(database)


@pytest.fixture
def client(env: access.SharedWorld) -> Iterator[TestClient]:
    """The shared world's client; whatever the test writes is rolled back after it."""
    with env.isolated():
        yield env.client


@pytest.fixture
def world(env: access.SharedWorld) -> access.World:
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
    path = f"/api/v1/initiatives/{access.A}/submissions/{access.X}/{access.DRAFT}"
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
        ("get", f"/api/v1/initiatives/{access.A}/values/99999999999999999999/history"),
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
    url = f"/api/v1/initiatives/{access.A}" + (f"/{path}" if path else "")
    response = client.request(method.upper(), url, json=body, headers=world.auth("backbone_a"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_timestamps_carry_their_time_zone_on_every_backend(client, world) -> None:
    """SQLite handed back naive timestamps, sent as ``2026-01-02T03:04:05`` (not RFC 3339)."""
    org = client.get(f"/api/v1/organisations/{access.X}", headers=world.auth("admin")).json()
    assert datetime.fromisoformat(org["created_at"]).utcoffset() == timedelta(0)
    sub = client.get(
        f"/api/v1/initiatives/{access.A}/submissions/{access.X}/{access.SUBMITTED}",
        headers=world.auth("backbone_a"),
    ).json()
    assert datetime.fromisoformat(sub["submitted_at"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        (f"/api/v1/initiatives/{access.A}/outcomes", "application/json", b"\xff\xfe{"),
        (
            f"/api/v1/initiatives/{access.A}/imports",
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
    base = f"/api/v1/initiatives/{access.A}"
    note = "\x07=HYPERLINK(1)"
    put = client.put(
        f"{base}/submissions/{access.X}/{access.DRAFT}",
        json={"values": [{"indicator": "SERVED", "value": 3, "note": note}]},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    for url in (
        f"{base}/export?format=xlsx",
        f"{base}/template.xlsx?org={access.X}&period={access.DRAFT}",
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
