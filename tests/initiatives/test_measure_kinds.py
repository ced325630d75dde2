"""Two kinds of measure through the API (README, "Two kinds of measure"): population
indicators and partner performance measures, typed and linked to the population indicators they
contribute to — validation naming the field, audit, who may write and read, the scorecard rows,
and the database's own guard."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from models import Indicator, indicator_contributions

from .. import factories as f
from .test_configuration import A, B, World, _assert_error, _events

INDICATORS = f"{A}/indicators"


@pytest.fixture
def w(session, client) -> World:
    return World(session, client)


def _create(w: World, code: str, role: str = "backbone", url: str = INDICATORS, **fields):
    body = {"code": code, "name": code.title(), "unit": "people", "measure_type": "count"}
    return w.call(role, "POST", url, json={**body, **fields})


@pytest.fixture
def linked(w: World) -> World:
    """READING and MATH: population indicators; TUTORING: how much, contributing to both."""
    for code in ("READING", "MATH"):
        assert _create(w, code).status_code == 201
    r = _create(
        w,
        "TUTORING",
        kind="performance",
        performance_type="how_much",
        contributes_to=["READING", "MATH"],
    )
    assert r.status_code == 201, r.text
    return w


def test_a_population_indicator_is_the_default(w) -> None:
    r = _create(w, "READING")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["performance_type"], body["contributes_to"]) == (
        "population",
        None,
        [],
    )


def test_a_performance_measure_is_typed_linked_read_and_listed(linked) -> None:
    r = linked.call("backbone", "GET", f"{INDICATORS}/TUTORING")
    assert r.status_code == 200
    body = r.json()
    assert (body["kind"], body["performance_type"]) == ("performance", "how_much")
    assert body["contributes_to"] == ["READING", "MATH"]  # in the indicators' order
    listed = linked.call("backbone", "GET", INDICATORS, params={"kind": "performance"}).json()
    assert [i["code"] for i in listed["items"]] == ["TUTORING"]
    listed = linked.call("backbone", "GET", INDICATORS, params={"kind": "population"}).json()
    assert [i["code"] for i in listed["items"]] == ["READING", "MATH"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "performance"}, "performance_type"),
        ({"kind": "performance", "performance_type": None}, "performance_type"),
        ({"performance_type": "how_well"}, "performance_type"),
        ({"contributes_to": ["READING"]}, "contributes_to"),
        (
            {"kind": "performance", "performance_type": "how_well", "contributes_to": ["NOPE"]},
            "contributes_to[0]",
        ),
        (
            {
                "kind": "performance",
                "performance_type": "how_well",
                "contributes_to": ["READING", "TUTORING"],
            },
            "contributes_to[1]",
        ),
        # Beta's indicator of the same code is not Alpha's.
        (
            {
                "kind": "performance",
                "performance_type": "how_well",
                "contributes_to": ["BETA_ONLY"],
            },
            "contributes_to[0]",
        ),
    ],
)
def test_create_refuses_what_does_not_fit_naming_the_field(linked, fields, field) -> None:
    assert _create(linked, "BETA_ONLY", "other_backbone", f"{B}/indicators").status_code == 201
    before = len(_events(linked.session, "indicator"))
    body = _assert_error(_create(linked, "NEW", **fields), 422, field)
    assert body["field"] == field
    assert linked.call("backbone", "GET", f"{INDICATORS}/NEW").status_code == 404
    assert len(_events(linked.session, "indicator")) == before


@pytest.mark.parametrize("kind", ["neither", ""])
def test_an_unknown_kind_is_refused(w, kind) -> None:
    r = _create(w, "NEW", kind=kind)
    assert r.status_code == 422
    assert "kind" in r.text


def test_update_changes_type_and_links_audited(linked) -> None:
    url = f"{INDICATORS}/TUTORING"
    r = linked.call(
        "backbone", "PATCH", url, json={"performance_type": "how_well", "contributes_to": ["MATH"]}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["performance_type"], r.json()["contributes_to"]) == ("how_well", ["MATH"])
    event = _events(linked.session, "indicator", "update")[-1]
    assert event.before["contributes_to"] == ["READING", "MATH"]
    assert event.after["contributes_to"] == ["MATH"]
    assert (event.before["performance_type"], event.after["performance_type"]) == (
        "how_much",
        "how_well",
    )
    # A measure cannot contribute to itself.
    r = linked.call("backbone", "PATCH", url, json={"contributes_to": ["TUTORING"]})
    _assert_error(r, 422, "contributes_to[0]")
    # Dropping the type of a performance measure is refused.
    _assert_error(
        linked.call("backbone", "PATCH", url, json={"performance_type": None}),
        422,
        "performance_type",
    )


def test_back_to_population_clears_type_and_links(linked) -> None:
    r = linked.call("backbone", "PATCH", f"{INDICATORS}/TUTORING", json={"kind": "population"})
    assert r.status_code == 200, r.text
    assert (r.json()["performance_type"], r.json()["contributes_to"]) == (None, [])
    event = _events(linked.session, "indicator", "update")[-1]
    assert (event.before["kind"], event.after["kind"]) == ("performance", "population")


def test_a_population_indicator_measures_contribute_to_cannot_become_a_measure(linked) -> None:
    r = linked.call(
        "backbone",
        "PATCH",
        f"{INDICATORS}/READING",
        json={"kind": "performance", "performance_type": "better_off"},
    )
    _assert_error(r, 409, "kind")
    assert linked.call("backbone", "GET", f"{INDICATORS}/READING").json()["kind"] == "population"


def test_deleting_either_end_removes_the_link_and_the_measure_trail_says_so(linked) -> None:
    assert linked.call("backbone", "DELETE", f"{INDICATORS}/READING").status_code == 200
    measure = linked.call("backbone", "GET", f"{INDICATORS}/TUTORING").json()
    assert measure["contributes_to"] == ["MATH"]
    tutoring = linked.session.scalar(select(Indicator.id).where(Indicator.code == "TUTORING"))
    event = _events(linked.session, "indicator", "update")[-1]
    assert event.entity_id == tutoring
    assert (event.before["contributes_to"], event.after["contributes_to"]) == (
        ["READING", "MATH"],
        ["MATH"],
    )
    assert linked.call("backbone", "DELETE", f"{INDICATORS}/TUTORING").status_code == 200
    links = linked.session.execute(select(indicator_contributions)).all()
    assert links == []


@pytest.mark.parametrize("role", ["funder", "reporter"])
def test_others_read_the_kind_and_links_but_do_not_write_them(linked, role) -> None:
    r = linked.call(role, "GET", f"{INDICATORS}/TUTORING")
    assert r.status_code == 200
    assert r.json()["contributes_to"] == ["READING", "MATH"]
    r = linked.call(role, "PATCH", f"{INDICATORS}/TUTORING", json={"contributes_to": []})
    assert r.status_code in (403, 404), r.text
    r = _create(linked, "MINE", role, kind="performance", performance_type="how_much")
    assert r.status_code in (403, 404), r.text
    assert linked.call("backbone", "GET", f"{INDICATORS}/TUTORING").json()["contributes_to"] == [
        "READING",
        "MATH",
    ]


def test_another_initiative_sees_nothing_and_links_nothing(linked) -> None:
    assert linked.call("other_backbone", "GET", f"{INDICATORS}/TUTORING").status_code in (
        403,
        404,
    )
    r = _create(
        linked,
        "THEIRS",
        "other_backbone",
        f"{B}/indicators",
        kind="performance",
        performance_type="how_much",
        contributes_to=["READING"],
    )
    _assert_error(r, 422, "contributes_to[0]")


def test_scorecard_rows_carry_kind_type_and_links(linked) -> None:
    f.period(linked.session, linked.alpha, "2025Q3")
    linked.session.commit()
    r = linked.call("backbone", "GET", f"{A}/scorecard")
    assert r.status_code == 200, r.text
    rows = {row["code"]: row for row in r.json()["rows"]}
    assert (rows["READING"]["kind"], rows["READING"]["contributes_to"]) == ("population", [])
    assert (
        rows["TUTORING"]["kind"],
        rows["TUTORING"]["performance_type"],
        rows["TUTORING"]["contributes_to"],
    ) == ("performance", "how_much", ["READING", "MATH"])


def test_the_database_refuses_an_untyped_measure_and_a_self_link(linked) -> None:
    s = linked.session
    reading = s.scalar(select(Indicator.id).where(Indicator.code == "READING"))
    with pytest.raises(IntegrityError), s.begin_nested():
        s.execute(update(Indicator).where(Indicator.id == reading).values(kind="performance"))
    with pytest.raises(IntegrityError), s.begin_nested():
        s.execute(
            update(Indicator).where(Indicator.id == reading).values(performance_type="how_much")
        )
    with pytest.raises(IntegrityError), s.begin_nested():
        s.execute(
            insert(indicator_contributions).values(performance_id=reading, population_id=reading)
        )
