"""A cross-tab on the indicator page and in the equity API (README, "Cross-tabs"): its pairs
as a grid (rows × columns) with hidden cells marked, the same figures through both doors.

The world is the cross-tab oracle's fixed one (tests/analytics/test_cross_tab_oracle.py): a
rare pair (a, high) of 5 people, hidden below the backbone team with what gives it away."""

from __future__ import annotations

import pytest

from .. import factories as f
from ..analytics.test_cross_tab_oracle import CODE, CROSS, FIXED, INCOMES, RACES, SLUG, P, build
from ..dash_calls import call, log_in, response_of
from .test_setup_pages import _as, _error, _form_answer


def _equity(client):
    return call(
        client,
        "..indicator-equity.figure",
        [
            ("indicator-initiative", "value", SLUG),
            ("indicator-code", "value", CODE),
            ("indicator-by", "value", CROSS),
        ],
    )


def _grid(out) -> dict:
    [heat] = out["indicator-equity"]["figure"]["data"]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["A", "B", "C"] and heat["x"] == ["Low", "Mid", "High"]
    return {
        (r, i): (heat["z"][n][m], heat["text"][n][m])
        for n, r in enumerate(RACES)
        for m, i in enumerate(INCOMES)
    }


def test_the_indicator_page_draws_the_pairs_as_a_grid_with_markers(client, session) -> None:
    users: dict = {}
    headers = build(session, client, FIXED, covered=True, users_out=users)

    log_in(client, users["backbone"])
    grid = _grid(response_of(_equity(client)))
    assert grid[("a", "high")] == (5, "5.0")
    assert all(z is not None for z, _ in grid.values())

    for viewer in ("funder", "partner"):
        log_in(client, users[viewer])
        grid = _grid(response_of(_equity(client)))
        z, text = grid[("a", "high")]
        assert z is None and text  # hidden, and its marker says so
        hidden = {pair for pair, (z, _) in grid.items() if z is None}
        # Covered: the rare pair's row and column each hide another cell.
        assert any(p[0] == "a" for p in hidden - {("a", "high")})
        assert any(p[1] == "high" for p in hidden - {("a", "high")})

        # The API door answers the same figures, and the grid's rows and columns.
        r = client.get(
            f"{P}/initiatives/{SLUG}/indicators/{CODE}/equity",
            params={"dimension": CROSS},
            headers=headers[viewer],
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        axes = answer["cross_tab"]
        assert axes["rows"]["dimension"] == "race" and axes["columns"]["dimension"] == "income"
        assert [c["key"] for c in axes["rows"]["categories"]] == [f"race={x}" for x in RACES]
        cell_of = {c["key"]: (c["row"], c["column"]) for c in axes["cells"]}
        assert cell_of[f"{CROSS}=a.high"] == ("race=a", "income=high")
        [point] = answer["points"]
        by_pair = {
            tuple(k.split("=")[1] for k in cell_of[c["key"]]): c["figure"]
            for c in point["categories"]
        }
        assert {p for p, fig in by_pair.items() if fig["value"] is None} == hidden
        assert by_pair[("a", "high")]["marker"] == text


def test_a_plain_dimension_has_no_cross_tab_in_the_equity_answer(client, session) -> None:
    headers = build(session, client, FIXED, covered=True)
    r = client.get(
        f"{P}/initiatives/{SLUG}/indicators/{CODE}/equity",
        params={"dimension": "race"},
        headers=headers["backbone"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["cross_tab"] is None


# --- the setup page's door -------------------------------------------------------------------


@pytest.fixture
def setup_world(session) -> dict:
    """The setup page's two-partner world (a race dimension: black, white), its backbone user."""
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built, ("backbone",))
    session.commit()
    return {**built, "users": users}


def test_the_setup_page_declares_a_cross_tab(client, setup_world) -> None:
    world = setup_world
    _as(client, world, "backbone")
    income = [{"code": "low", "name": "Low", "saved": False}, {"code": "high", "name": "High"}]
    _form_answer(client, "dimension", "save", {"code": "income", "name": "I", "categories": income})
    twice = {"code": "rxi", "name": "R × I", "components": ["race", "race"], "categories": []}
    out = _form_answer(client, "dimension", "save", twice)
    assert "two different dimensions" in _error(out, "dimension", "components")
    made = {"code": "rxi", "name": "R × I", "components": ["race", "income"], "categories": []}
    out = _form_answer(client, "dimension", "save", made)
    assert out["setup-dimension-editing"]["data"] == "rxi"
    assert [r["code"] for r in out["setup-dimension-categories"]["rowData"]] == [
        "black.low",
        "black.high",
        "white.low",
        "white.high",
    ]
    # Saved again (renamed) with its pairs in the grid: the pairs are left as they are.
    rows = out["setup-dimension-categories"]["rowData"]
    out = _form_answer(
        client,
        "dimension",
        "save",
        {**made, "name": "Race by income", "categories": rows},
        **{"setup-dimension-editing.data": "rxi"},
    )
    assert _error(out, "dimension", "categories") in (None, "")
    assert _api_name(client, world) == "Race by income"


def _api_name(client, built) -> str:
    from models.access.login import issue_token

    token = issue_token(built["users"]["backbone"]).access_token
    r = client.get(
        f"{P}/initiatives/c2c/dimensions/rxi", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["components"] == ["race", "income"]
    return r.json()["name"]
