"""Computed indicators through the API: the expression is part of the definition, validated
on save with the field named, audited like any change; a computed indicator takes no values
and no obligations, and an indicator an expression reads cannot be deleted."""

from __future__ import annotations

import pytest

from .. import factories as f
from .test_configuration import A, World, _assert_error, _events

INDICATORS = f"{A}/indicators"


@pytest.fixture
def w(session, client) -> World:
    world = World(session, client)
    race = f.dimension(session, world.alpha, "race", ["a", "b"])
    for code in ("DONE", "SENIORS"):
        f.indicator(session, world.alpha, code=code).dimensions = [race]
    f.indicator(session, world.alpha, code="PLAIN")
    session.commit()
    return world


def _create(w: World, code: str, **fields):
    body = {"code": code, "name": code.title(), "unit": "%", "measure_type": "rate"}
    return w.call("backbone", "POST", INDICATORS, json={**body, **fields})


def test_a_computed_indicator_is_defined_read_and_audited(w, session) -> None:
    r = _create(w, "FAFSA_RATE", expression=" 100 * DONE / SENIORS ", dimensions=["race"])
    assert r.status_code == 201, r.text
    assert r.json()["expression"] == "100 * DONE / SENIORS"
    assert w.call("funder", "GET", f"{INDICATORS}/FAFSA_RATE").json()["expression"] == (
        "100 * DONE / SENIORS"
    )
    [created] = _events(session, "indicator", "create")
    assert created.after["expression"] == "100 * DONE / SENIORS"
    r = w.call(
        "backbone", "PATCH", f"{INDICATORS}/FAFSA_RATE", json={"expression": "DONE + SENIORS"}
    )
    assert r.status_code == 200, r.text
    [updated] = _events(session, "indicator", "update")
    assert (updated.before["expression"], updated.after["expression"]) == (
        "100 * DONE / SENIORS",
        "DONE + SENIORS",
    )
    # Only the backbone team defines it.
    assert (
        w.call("funder", "PATCH", f"{INDICATORS}/FAFSA_RATE", json={"expression": "DONE"})
    ).status_code == 403
    # null makes it a reported indicator again.
    r = w.call("backbone", "PATCH", f"{INDICATORS}/FAFSA_RATE", json={"expression": None})
    assert r.status_code == 200 and r.json()["expression"] is None


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("100 * NOPE / SENIORS", "no indicator 'NOPE'"),
        ("DONE.__class__", "attribute access"),
        ("__import__('os')", "neither a number"),
        ("DONE ** 2", "powers"),
        ("open(DONE)", "neither a number"),
        ("FAFSA_RATE + 1", "from itself"),
        ("DONE +", "ends too early"),
    ],
)
def test_a_wrong_expression_is_refused_naming_the_field(w, expression, says) -> None:
    body = _assert_error(_create(w, "FAFSA_RATE", expression=expression), 422, "expression")
    assert says in body["detail"]


def test_a_circle_of_expressions_is_refused(w) -> None:
    assert _create(w, "ONE", expression="DONE + TWO_PLACEHOLDER").status_code == 422
    assert _create(w, "TWO", expression="DONE * 2").status_code == 201
    assert _create(w, "ONE", expression="TWO + 1").status_code == 201
    r = w.call("backbone", "PATCH", f"{INDICATORS}/TWO", json={"expression": "ONE - 1"})
    body = _assert_error(r, 422, "expression")
    assert "TWO → ONE → TWO" in body["detail"]


def test_a_breakdown_is_one_every_input_collects(w) -> None:
    r = _create(w, "MIXED", expression="DONE + PLAIN", dimensions=["race"])
    body = _assert_error(r, 422, "dimensions")
    assert "PLAIN" in body["detail"]
    assert _create(w, "MIXED", expression="DONE + PLAIN").status_code == 201


def test_a_computed_indicator_takes_no_obligations(w) -> None:
    assert _create(w, "RATE", expression="100 * DONE / SENIORS").status_code == 201
    url = f"{A}/members/eastside/obligations"
    r = w.call("backbone", "PUT", url, json={"indicators": ["DONE", "RATE"]})
    body = _assert_error(r, 422, "indicators[1]")
    assert "computed" in body["detail"]
    # Nor does an indicator partners must report become computed.
    assert w.call("backbone", "PUT", url, json={"indicators": ["PLAIN"]}).status_code == 200
    r = w.call("backbone", "PATCH", f"{INDICATORS}/PLAIN", json={"expression": "DONE"})
    _assert_error(r, 409, "expression")


def test_an_input_cannot_be_deleted(w) -> None:
    assert _create(w, "RATE", expression="100 * DONE / SENIORS").status_code == 201
    body = _assert_error(w.call("backbone", "DELETE", f"{INDICATORS}/DONE"), 409, "code")
    assert "RATE" in body["detail"]
    assert w.call("backbone", "DELETE", f"{INDICATORS}/RATE").status_code == 200
    assert w.call("backbone", "DELETE", f"{INDICATORS}/DONE").status_code == 200


def test_values_for_a_computed_indicator_are_refused(client, session) -> None:
    """Whoever writes the report (the backbone team too, which is bound by no obligation)."""
    built = f.two_partner_world(session)
    f.indicator(session, built["init"], code="SERVED_TWICE", expression="2 * SERVED")
    users = f.two_partner_users(session, built, roles=("backbone", "reporter"))
    session.commit()
    headers = f.bearer_headers(client, users)
    for role in ("backbone", "reporter"):
        r = client.put(
            "/api/v1/initiatives/c2c/submissions/eastside/2025Q3",
            json={
                "values": [
                    {"indicator": "SERVED", "value": 3},
                    {"indicator": "SERVED_TWICE", "value": 6},
                ]
            },
            headers=headers[role],
        )
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["values[1].indicator"]
        assert "computed" in errors[0]["reason"] or "computed" in str(errors[0])
