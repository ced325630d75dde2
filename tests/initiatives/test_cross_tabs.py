"""Declaring cross-tabs through the API (README, "Cross-tabs"): a dimension composed of two
plain dimensions, its categories their pairs (capped), kept in step with them; an indicator
collects one only with both components; every refusal a 4xx naming the field, writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Category, Dimension
from models.tables.indicator import MAX_CROSS_CELLS

from .test_configuration import A, World, _assert_error, _events


@pytest.fixture
def cfg(session, client) -> World:
    return World(session, client)


def _dimension(cfg, code: str, categories: list[str]) -> None:
    r = cfg.call(
        "backbone",
        "POST",
        f"{A}/dimensions",
        json={
            "code": code,
            "name": code.title(),
            "categories": [{"code": c, "name": c.title()} for c in categories],
        },
    )
    assert r.status_code == 201, r.text


def _cross(cfg, components, **more):
    return cfg.call(
        "backbone",
        "POST",
        f"{A}/dimensions",
        json={"code": "race_x_income", "name": "Race × income", "components": components, **more},
    )


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_cross_tab_has_a_category_per_pair_kept_in_step(cfg, session) -> None:
    _dimension(cfg, "race", ["black", "white"])
    _dimension(cfg, "income", ["low", "high"])
    created = _cross(cfg, ["race", "income"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["components"] == ["race", "income"]
    assert [(c["code"], c["name"]) for c in body["categories"]] == [
        ("black.low", "Black · Low"),
        ("black.high", "Black · High"),
        ("white.low", "White · Low"),
        ("white.high", "White · High"),
    ]
    assert cfg.call("reporter", "GET", f"{A}/dimensions/race").json()["components"] is None

    # A new category of a component brings its pairs; a renamed one renames them.
    patched = cfg.call(
        "backbone",
        "PATCH",
        f"{A}/dimensions/income",
        json={"categories": [{"code": "mid", "name": "Middle"}, {"code": "low", "name": "Lower"}]},
    )
    assert patched.status_code == 200, patched.text
    cross = cfg.call("reporter", "GET", f"{A}/dimensions/race_x_income").json()
    names = {c["code"]: c["name"] for c in cross["categories"]}
    assert names["white.mid"] == "White · Middle" and names["black.low"] == "Black · Lower"
    assert len(names) == 6

    # Deleting a component's category takes its pairs; the component itself stays while the
    # cross-tab stands on it.
    gone = cfg.call("backbone", "DELETE", f"{A}/dimensions/income/categories/mid")
    assert gone.status_code == 200, gone.text
    cross = cfg.call("reporter", "GET", f"{A}/dimensions/race_x_income").json()
    assert sorted(c["code"] for c in cross["categories"]) == [
        "black.high",
        "black.low",
        "white.high",
        "white.low",
    ]
    _assert_error(cfg.call("backbone", "DELETE", f"{A}/dimensions/income"), 409, "code")
    # Its own categories are the pairs: not written directly.
    _assert_error(
        cfg.call(
            "backbone",
            "PATCH",
            f"{A}/dimensions/race_x_income",
            json={"categories": [{"code": "x", "name": "X"}]},
        ),
        422,
        "categories",
    )
    _assert_error(
        cfg.call("backbone", "DELETE", f"{A}/dimensions/race_x_income/categories/black.low"),
        409,
        "category",
    )
    assert cfg.call("backbone", "DELETE", f"{A}/dimensions/race_x_income").status_code == 200
    assert cfg.call("backbone", "DELETE", f"{A}/dimensions/income").status_code == 200
    created_event = _events(session, "dimension", "create")[-1]
    assert created_event.after["components"] == ["race", "income"]


def test_what_a_cross_tab_refuses(cfg, session) -> None:
    _dimension(cfg, "race", [f"r{n}" for n in range(8)])
    _dimension(cfg, "income", ["low", "mid", "high"])
    _dimension(cfg, "gender", ["f", "m", "x", "n", "o", "p", "q"])
    dimensions, categories = _count(session, Dimension), _count(session, Category)
    _assert_error(_cross(cfg, ["race"]), 422, "components")
    _assert_error(_cross(cfg, ["race", "race"]), 422, "components")
    _assert_error(_cross(cfg, ["race", "nope"]), 422, "components[1]")
    _assert_error(
        _cross(cfg, ["race", "income"], categories=[{"code": "a", "name": "A"}]), 422, "categories"
    )
    over = _cross(cfg, ["race", "gender"])  # 8 × 7 = 56 pairs
    body = _assert_error(over, 422, "components")
    assert f"at most {MAX_CROSS_CELLS}" in body["detail"] and "56" in body["detail"]
    assert (_count(session, Dimension), _count(session, Category)) == (dimensions, categories)

    assert _cross(cfg, ["race", "income"]).status_code == 201  # 24 pairs
    # A cross-tab is composed of plain dimensions.
    nested = cfg.call(
        "backbone",
        "POST",
        f"{A}/dimensions",
        json={"code": "deep", "name": "Deep", "components": ["race_x_income", "gender"]},
    )
    _assert_error(nested, 422, "components[0]")
    # Growing a component beyond the cap is refused, and writes nothing.
    more = [{"code": f"i{n}", "name": f"I{n}"} for n in range(4)]  # 8 × 7 = 56
    before = _count(session, Category)
    _assert_error(
        cfg.call("backbone", "PATCH", f"{A}/dimensions/income", json={"categories": more}),
        422,
        "categories",
    )
    assert _count(session, Category) == before


def test_an_indicator_collects_a_cross_tab_only_with_both_components(cfg, session) -> None:
    _dimension(cfg, "race", ["black", "white"])
    _dimension(cfg, "income", ["low", "high"])
    assert _cross(cfg, ["race", "income"]).status_code == 201
    base = {"code": "KIDS", "name": "Kids", "unit": "children", "measure_type": "count"}
    refused = cfg.call(
        "backbone",
        "POST",
        f"{A}/indicators",
        json={**base, "dimensions": ["race", "race_x_income"]},
    )
    body = _assert_error(refused, 422, "dimensions[1]")
    assert "'income'" in body["detail"]
    made = cfg.call(
        "backbone",
        "POST",
        f"{A}/indicators",
        json={**base, "dimensions": ["race", "income", "race_x_income"]},
    )
    assert made.status_code == 201, made.text
    # Dropping a component while keeping the cross-tab is refused too.
    _assert_error(
        cfg.call(
            "backbone",
            "PATCH",
            f"{A}/indicators/KIDS",
            json={"dimensions": ["race", "race_x_income"]},
        ),
        422,
        "dimensions[1]",
    )
