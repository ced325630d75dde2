"""Attacks on cross-tab disclosure (README, "Cross-tabs"; design §3: no audience can recover a
protected figure from everything it can fetch).

The oracle next door (``test_cross_tab_oracle``) solves only sums with a single unknown. These
attacks read the same answers over HTTP but solve the whole linear system a viewer has: the total
over each breakdown, every cross-tab row over its one-way figure, every column over its one-way
figure. A hidden figure is given away when it is fixed by those equations (its unit vector lies
in the row space of the system restricted to the hidden unknowns) — no bounds, no markers, no
knowledge of the algorithm needed.

Each test that fails names a route by which a hidden figure is recovered.
"""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest
from sqlalchemy import func, select

from models import Category, Dimension
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, log_in, response_of
from ..initiatives.test_configuration import A, World, _assert_error
from .test_cross_tab_oracle import CODE, CROSS, PERIOD, SLUG, P, _seen, _token

VIEWERS = ("funder", "partner", "public")


@pytest.fixture
def cfg(session, client) -> World:
    return World(session, client)


TRANSPOSED = "income_x_race"


def _inputs(
    rows, cols, cells: dict[tuple[str, str], int], transposed: bool = False
) -> list[ValueInput]:
    """A partner's consistent report: its pairs (of both cross-tabs, with ``transposed``), its
    one-way figures and its total."""
    out = [ValueInput(CODE, f"{CROSS}={r}.{c}", value=v) for (r, c), v in cells.items()]
    if transposed:
        out += [ValueInput(CODE, f"{TRANSPOSED}={c}.{r}", value=v) for (r, c), v in cells.items()]
    for r in rows:
        out.append(ValueInput(CODE, f"race={r}", value=sum(cells[(r, c)] for c in cols)))
    for c in cols:
        out.append(ValueInput(CODE, f"income={c}", value=sum(cells[(r, c)] for r in rows)))
    out.append(ValueInput(CODE, value=sum(cells.values())))
    return out


def build(
    session, client, rows, cols, reports, users_out: dict | None = None, transposed: bool = False
) -> dict[str, dict[str, str]]:
    """A count indicator collecting race, income and race × income (and income × race, with
    ``transposed``); the first two partners share with funders; one published quarter.
    Answers each viewer's request headers."""
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    race = f.dimension(session, init, "race", list(rows))
    income = f.dimension(session, init, "income", list(cols))
    cross = f.cross_tab(session, init, race, income, code=CROSS)
    kids = f.indicator(session, init, "count", code=CODE)
    kids.dimensions = [race, income, cross]
    if transposed:
        kids.dimensions.append(f.cross_tab(session, init, income, race, code=TRANSPOSED))
    f.period(session, init, PERIOD)
    users = {}
    for n, slug in enumerate(reports):
        org = f.organisation(session, slug=slug)
        f.obligation(session, f.member(session, init, org, shares_with_funders=n < 2), kids)
        if n == 0:
            users["partner"] = f.user(session, "reporter", init=init, org=org)
    users["funder"] = f.user(session, "funder", init=init)
    users["backbone"] = f.user(session, "backbone", init=init)
    session.flush()
    if users_out is not None:
        users_out.update(users)
    for slug, cells in reports.items():
        f.approved_report(session, SLUG, slug, PERIOD, _inputs(rows, cols, cells, transposed))
    session.commit()
    headers = {k: _token(client, u) for k, u in users.items()}
    headers["public"] = {}
    r = client.post(
        f"{P}/initiatives/{SLUG}/periods/{PERIOD}/publish",
        json={"confirm_incomplete": True},
        headers=headers["backbone"],
    )
    assert r.status_code == 201, r.text
    return headers


def _sums(rows, cols) -> list[tuple[str, list[str]]]:
    cross = {(r, c): f"{CROSS}={r}.{c}" for r in rows for c in cols}
    out = [
        ("total", [f"race={r}" for r in rows]),
        ("total", [f"income={c}" for c in cols]),
        ("total", list(cross.values())),
    ]
    out += [(f"race={r}", [cross[(r, c)] for c in cols]) for r in rows]
    out += [(f"income={c}", [cross[(r, c)] for r in rows]) for c in cols]
    return out


def solved(seen: dict[str, dict], sums: list[tuple[str, list[str]]]) -> dict[str, float]:
    """Every hidden figure the linear system of ``sums`` fixes, with its value."""
    hidden = [k for k, s in seen.items() if s["value"] is None and s["marker"]]
    if not hidden:
        return {}
    at = {k: i for i, k in enumerate(hidden)}
    a, b = [], []
    for whole, parts in sums:
        row, rhs = np.zeros(len(hidden)), 0.0
        for key, sign in ((whole, -1), *((p, 1) for p in parts)):
            if key in at:
                row[at[key]] += sign
            elif seen.get(key, {}).get("value") is not None:
                rhs -= sign * seen[key]["value"]
            else:
                break  # a figure the viewer does not have at all: the sum tells nothing
        else:
            a.append(row)
            b.append(rhs)
    matrix, rhs_vec = np.array(a), np.array(b)
    rank = np.linalg.matrix_rank(matrix)
    solution = np.linalg.lstsq(matrix, rhs_vec, rcond=None)[0]
    out = {}
    for key, i in at.items():
        unit = np.zeros(len(hidden))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            out[key] = round(float(solution[i]), 6)
    return out


def _as_reports(rows, cols, grid) -> dict[str, dict[tuple[str, str], int]]:
    return {
        f"p{n + 1}": {(r, c): g[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
        for n, g in enumerate(grid)
    }


# --- attack 1: a bridge between two hidden cycles -------------------------------------------
#
# Every row and column is judged on its own, so the engine stops once every line with a hidden
# cell has two. Hidden cells then form cycles in the row/column graph, but two cycles joined
# by one hidden cell (a bridge) leave that cell fixed: sum the rows of one side, subtract its
# columns, and every other hidden cell cancels. Found by a random search over 4 × 4 tables
# (5 partners, counts 0–12 each): about 2 % of worlds.

ROWS4 = ("a", "b", "c", "d")
COLS4 = ("w", "x", "y", "z")
# Hidden (public, funder, partner): a.w a.y | b.x b.z | c.w c.x c.y | d.x d.z — cycles
# {a, c} × {w, y} and {b, d} × {x, z}, joined by c.x (15 people; partner p4 has 7 of them,
# dominance ‡). c.x = (race a + race c) − (income w + income y) − a.x − a.z − c.z
#                     + b.w + b.y + d.w + d.y = 174 − 211 − 85 + 137 = 15.
BRIDGE = _as_reports(
    ROWS4,
    COLS4,
    [
        [[9, 1, 3, 9], [9, 5, 9, 1], [6, 2, 0, 5], [12, 3, 11, 1]],
        [[6, 6, 3, 2], [6, 5, 10, 9], [3, 3, 5, 3], [1, 10, 10, 9]],
        [[3, 11, 3, 2], [12, 1, 10, 7], [2, 3, 2, 11], [9, 3, 8, 1]],
        [[0, 3, 1, 2], [3, 4, 3, 2], [1, 7, 7, 5], [5, 1, 0, 7]],
        [[6, 11, 1, 11], [0, 2, 4, 1], [10, 0, 3, 3], [8, 0, 7, 12]],
    ],
)


# The same in a 4 × 5 table of six partners: cycles {b, c} × {v, x} and {a, d} × {w, y} joined
# by the path a.z – c.z through column z (hidden nowhere else), so both are bridges:
# a.z = 12 and c.z = 13, each dominated (‡) by a partner.
ROWS5 = ("a", "b", "c", "d")
COLS5 = ("v", "w", "x", "y", "z")
PATH = _as_reports(
    ROWS5,
    COLS5,
    [
        [[2, 0, 10, 3, 6], [8, 5, 12, 2, 4], [2, 6, 3, 2, 4], [3, 10, 3, 1, 11]],
        [[3, 2, 2, 5, 0], [1, 10, 5, 6, 10], [4, 7, 10, 9, 2], [6, 5, 9, 2, 2]],
        [[9, 4, 0, 0, 3], [0, 5, 0, 6, 10], [3, 9, 0, 11, 3], [2, 3, 8, 0, 3]],
        [[8, 2, 3, 7, 0], [2, 3, 1, 2, 0], [3, 6, 3, 0, 0], [12, 2, 12, 2, 0]],
        [[3, 4, 3, 2, 1], [0, 6, 0, 3, 8], [4, 2, 1, 7, 1], [11, 2, 3, 8, 7]],
        [[5, 1, 5, 3, 2], [10, 6, 10, 10, 1], [1, 3, 2, 0, 3], [8, 2, 7, 2, 10]],
    ],
)
WORLDS = {
    "4x4": (ROWS4, COLS4, BRIDGE, {f"{CROSS}=c.x": 15}),
    "4x5": (ROWS5, COLS5, PATH, {f"{CROSS}=a.z": 12, f"{CROSS}=c.z": 13}),
}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("world", sorted(WORLDS))
def test_a_bridge_between_two_hidden_cycles_gives_away_a_dominated_pair(
    session, client, world, viewer
) -> None:
    rows, cols, reports, targets = WORLDS[world]
    headers = build(session, client, rows, cols, reports)
    seen = _seen(client, headers[viewer], viewer)
    for target in targets:
        assert seen[target]["value"] is None, seen[target]
        assert seen[target]["marker"] == "‡", seen[target]
    found = solved(seen, _sums(rows, cols))
    given_away = {k: v for k, v in found.items() if k in targets}
    assert not given_away, f"{viewer} recovers {given_away} (true {targets})"


def _dash_equity(client, by: str) -> dict:
    out = call(
        client,
        "..indicator-equity.figure",
        [
            ("indicator-initiative", "value", SLUG),
            ("indicator-code", "value", CODE),
            ("indicator-by", "value", by),
        ],
    )
    return response_of(out)["indicator-equity"]["figure"]


def _dash_seen(client, rows, cols) -> dict[str, dict]:
    """What the indicator page draws: the one-way lines (one point each, the quarter) and the
    cross-tab grid (a value, or the marker as text where hidden)."""
    seen: dict[str, dict] = {}
    for dim, keys in (("race", rows), ("income", cols)):
        by_label = {k.title(): f"{dim}={k}" for k in keys}
        for trace in _dash_equity(client, dim)["data"]:
            [value], [marker] = trace["y"], trace["text"]
            seen[by_label[trace["name"]]] = {"value": value, "marker": marker or None}
    [heat] = _dash_equity(client, CROSS)["data"]
    assert heat["type"] == "heatmap"
    for n, r in enumerate(rows):
        for m, c in enumerate(cols):
            z, text = heat["z"][n][m], heat["text"][n][m]
            seen[f"{CROSS}={r}.{c}"] = {"value": z, "marker": None if z is not None else text}
    return seen


@pytest.mark.parametrize("viewer", ("funder", "partner"))
def test_the_indicator_page_alone_gives_the_bridge_away(session, client, viewer) -> None:
    """The dashboard door: the race and income lines and the cross-tab grid of the indicator
    page are enough (no total needed: only the row and column sums are used)."""
    users: dict = {}
    build(session, client, ROWS4, COLS4, BRIDGE, users_out=users)
    log_in(client, users[viewer])
    seen = _dash_seen(client, ROWS4, COLS4)
    target = f"{CROSS}=c.x"
    assert seen[target]["value"] is None and seen[target]["marker"] == "‡"
    found = solved(seen, _sums(ROWS4, COLS4))
    assert target not in found, f"{viewer} recovers {target} = {found[target]} (true 15)"


# --- declaring: refusals name the field and write nothing (probes past the feature's tests) ---


def _post_dimension(cfg, body: dict):
    return cfg.call("backbone", "POST", f"{A}/dimensions", json=body)


def _plain(cfg, code: str, categories: list[str]) -> None:
    made = _post_dimension(
        cfg,
        {"code": code, "name": code, "categories": [{"code": c, "name": c} for c in categories]},
    )
    assert made.status_code == 201, made.text


def _counts(session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Dimension)),
        session.scalar(select(func.count()).select_from(Category)),
    )


def test_pair_codes_longer_than_a_category_code_are_refused_writing_nothing(cfg, session) -> None:
    _plain(cfg, "race", ["r" * 36, "s"])
    _plain(cfg, "income", ["low", "high"])
    before = _counts(session)
    cross = {"code": "rxi", "name": "R × I", "components": ["race", "income"]}
    _assert_error(_post_dimension(cfg, cross), 422, "components")  # 36 + 1 + 4 > 40
    assert _counts(session) == before
    _plain(cfg, "gender", ["f", "m"])
    assert _post_dimension(cfg, {**cross, "components": ["gender", "income"]}).status_code == 201
    # A component growing a category whose pair would be too long: refused, nothing written.
    before = _counts(session)
    grow = {"categories": [{"code": "g" * 38, "name": "Long"}]}
    _assert_error(
        cfg.call("backbone", "PATCH", f"{A}/dimensions/gender", json=grow), 422, "categories"
    )
    assert _counts(session) == before


def test_a_cross_tab_s_components_are_not_changed_afterwards(cfg, session) -> None:
    _plain(cfg, "race", ["a", "b"])
    _plain(cfg, "income", ["low", "high"])
    _plain(cfg, "gender", ["f", "m"])
    cross = {"code": "rxi", "name": "R × I", "components": ["race", "income"]}
    assert _post_dimension(cfg, cross).status_code == 201
    before = _counts(session)
    swap = {"components": ["race", "gender"]}
    _assert_error(cfg.call("backbone", "PATCH", f"{A}/dimensions/rxi", json=swap), 422)
    _assert_error(
        cfg.call("backbone", "DELETE", f"{A}/dimensions/rxi/categories/a.low"), 409, "category"
    )
    _assert_error(_post_dimension(cfg, {**cross, "code": "bad", "components": ["race", 3]}), 422)
    assert _counts(session) == before


# --- attack 2: the same cross-tab declared twice, once transposed ---------------------------
#
# Nothing refuses race × income beside income × race: the same figures under two keys, which
# the engine treats as different cells. Where cells tie in size, the complement each picks is
# chosen by key, and the keys order rows and columns the other way round: one cross-tab shows
# what the other hid, and with the union of both the linear system fixes a dominated pair.

ROWS3 = ("a", "b", "c")
COLS3 = ("w", "x", "y", "z")
TIES = _as_reports(
    ROWS3,
    COLS3,
    [
        [[3, 3, 0, 3], [3, 3, 3, 1], [3, 3, 3, 3]],
        [[3, 3, 3, 3], [2, 3, 3, 3], [3, 3, 3, 3]],
        [[3, 3, 3, 3], [3, 3, 2, 3], [3, 3, 3, 3]],
        [[3, 3, 3, 3], [3, 3, 3, 3], [2, 3, 3, 3]],
        [[3, 3, 3, 3], [3, 1, 3, 0], [1, 1, 3, 3]],
    ],
)


def test_a_twin_cross_tab_is_refused_writing_nothing(cfg, session) -> None:
    """Twins (income × race beside race × income, or the same pair twice) would be suppressed
    as two tables, and one could show what the other hid (ties broken by key in opposite
    orders): one cross-tab per two dimensions."""
    _plain(cfg, "race", ["a", "b", "c"])
    _plain(cfg, "income", ["w", "x", "y", "z"])
    cross = {"code": CROSS, "name": "Race × income", "components": ["race", "income"]}
    assert _post_dimension(cfg, cross).status_code == 201
    before = _counts(session)
    for code, components in ((TRANSPOSED, ["income", "race"]), ("again", ["race", "income"])):
        body = _assert_error(
            _post_dimension(cfg, {"code": code, "name": code, "components": components}),
            422,
            "components",
        )
        assert CROSS in body["detail"]
    assert _counts(session) == before


def test_the_open_data_package_alone_gives_the_bridge_away(session, client) -> None:
    """The open-data door: ``datapackage.zip``'s indicators.csv, anonymously."""
    build(session, client, ROWS4, COLS4, BRIDGE)
    r = client.get(f"{P}/public/initiatives/{SLUG}/datapackage.zip")
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        name = "indicators.csv"
        rows = list(csv.DictReader(io.StringIO(z.read(name).decode())))
    seen = {}
    for row in rows:
        if row["indicator"] != CODE or row["period"] != PERIOD:
            continue
        key = "total" if row["dimension"] == "total" else f"{row['dimension']}={row['category']}"
        value = float(row["value"]) if row["value"] else None
        seen[key] = {"value": value, "marker": row["marker"] or None}
    target = f"{CROSS}=c.x"
    assert seen[target] == {"value": None, "marker": "‡"}
    found = solved(seen, _sums(ROWS4, COLS4))
    assert target not in found, f"datapackage.zip gives {target} = {found[target]} (true 15)"
