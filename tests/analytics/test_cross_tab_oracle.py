"""An oracle for cross-tabs (README, "Cross-tabs"): nothing hidden is recovered by differencing.

A world has a count indicator collecting race (a, b, c), income (low, mid, high) and their
cross-tab, five partners that report consistent figures (each partner's cross-tab cells add up
to its race and income figures, which add up to its total), a few pairs rare everywhere (small
cells), and one published quarter. For every kind of viewer (backbone, a funder, a partner,
the public) the oracle fetches over HTTP everything the viewer can read of the quarter — the
total, every one-way breakdown and the cross-tab's cells (equity per dimension, the series, the
public summary) — and, knowing nothing of models.analytics, writes every sum the figures obey:
the total over each breakdown, each cross-tab row over its race figure, each column over its
income figure. It then solves every sum with a single unknown, again and again until nothing
new is found. No hidden figure may be found.

With the covering switched off by construction (the same cells declared as a plain dimension,
so the engine sees no rows or columns), the oracle does recover a hidden cell: it is not
vacuous.
"""

from __future__ import annotations

import random

import pytest

from models.reporting.validation import ValueInput

from .. import factories as f

P = "/api/v1"
SLUG = "xtab"
CODE = "KIDS"
PERIOD = "2025Q3"
RACES = ("a", "b", "c")
INCOMES = ("low", "mid", "high")
PARTNERS = ("p1", "p2", "p3", "p4", "p5")
CROSS = "race_x_income"
VIEWERS = ("backbone", "funder", "partner", "public")


def _token(client, user) -> dict[str, str]:
    r = client.post(f"{P}/auth/token", data={"username": user.email, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _reports(seed: int) -> dict[str, dict[tuple[str, str], int]]:
    """Each partner's cross-tab cells; a few pairs are rare for everyone (small cells)."""
    rng = random.Random(seed)
    pairs = [(r, i) for r in RACES for i in INCOMES]
    rare = set(rng.sample(pairs, rng.randint(1, 3)))
    return {
        p: {pair: rng.randint(0, 2) if pair in rare else rng.randint(3, 30) for pair in pairs}
        for p in PARTNERS
    }


def _inputs(cells: dict[tuple[str, str], int]) -> list[ValueInput]:
    out = [ValueInput(CODE, f"{CROSS}={r}.{i}", value=v) for (r, i), v in cells.items()]
    for r in RACES:
        out.append(ValueInput(CODE, f"race={r}", value=sum(cells[(r, i)] for i in INCOMES)))
    for i in INCOMES:
        out.append(ValueInput(CODE, f"income={i}", value=sum(cells[(r, i)] for r in RACES)))
    out.append(ValueInput(CODE, value=sum(cells.values())))
    return out


def build(session, client, reports, *, covered: bool, users_out: dict | None = None) -> dict:
    """The world in the database, published; answers each viewer's request headers (and puts
    each viewer's user in ``users_out``)."""
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    race = f.dimension(session, init, "race", list(RACES))
    income = f.dimension(session, init, "income", list(INCOMES))
    if covered:
        cross = f.cross_tab(session, init, race, income, code=CROSS)
    else:  # the same cells, but nothing tells the engine they are rows and columns
        cross = f.dimension(session, init, CROSS, [f"{r}.{i}" for r in RACES for i in INCOMES])
    kids = f.indicator(session, init, "count", code=CODE)
    kids.dimensions = [race, income, cross]
    f.period(session, init, PERIOD)
    users = {}
    for n, slug in enumerate(PARTNERS):
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
        f.approved_report(session, SLUG, slug, PERIOD, _inputs(cells))
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


def _seen(client, headers: dict[str, str], viewer: str) -> dict[str, dict]:
    """Every figure of the quarter the viewer can fetch: key → {value, marker}."""
    out: dict[str, dict] = {}

    def note(key: str, figure: dict) -> None:
        # The same figure must read the same wherever it appears.
        assert out.setdefault(key, figure) == figure, (viewer, key, out[key], figure)

    if viewer == "public":
        r = client.get(f"{P}/public/initiatives/{SLUG}/summary")
        assert r.status_code == 200, r.text
        for period in r.json()["periods"]:
            for ind in period["indicators"] if period["period"] == PERIOD else ():
                note("total", _figure(ind["total"]))
                for b in ind["breakdowns"]:
                    for c in b["categories"]:
                        note(c["key"], _figure(c))
        return out
    base = f"{P}/initiatives/{SLUG}/indicators/{CODE}"
    for by in (None, "race", "income", CROSS):
        r = client.get(f"{base}/series", params={"by": by} if by else {}, headers=headers)
        assert r.status_code == 200, r.text
        for p in r.json()["total"]:
            if p["period"] == PERIOD:
                note("total", _figure(p["figure"]))
        for p in r.json()["breakdown"]:
            if p["period"] == PERIOD and "=" in p["key"]:
                note(p["key"], _figure(p["figure"]))
    for dimension in ("race", "income", CROSS):
        r = client.get(f"{base}/equity", params={"dimension": dimension}, headers=headers)
        assert r.status_code == 200, r.text
        for point in r.json()["points"]:
            for c in point["categories"] if point["period"] == PERIOD else ():
                note(c["key"], _figure(c["figure"]))
    return out


def _figure(figure: dict) -> dict:
    return {"value": figure["value"], "marker": figure["marker"]}


def _sums() -> list[tuple[str, list[str]]]:
    """Every sum the figures obey: (the whole, its parts)."""
    cross = {(r, i): f"{CROSS}={r}.{i}" for r in RACES for i in INCOMES}
    out = [
        ("total", [f"race={r}" for r in RACES]),
        ("total", [f"income={i}" for i in INCOMES]),
        ("total", list(cross.values())),
    ]
    out += [(f"race={r}", [cross[(r, i)] for i in INCOMES]) for r in RACES]
    out += [(f"income={i}", [cross[(r, i)] for r in RACES]) for i in INCOMES]
    return out


def recovered(seen: dict[str, dict]) -> dict[str, float]:
    """Hidden figures the differencing attack finds: every sum with a single unknown is solved
    for it, until no sum has one."""
    known = {k: s["value"] for k, s in seen.items() if s["value"] is not None}
    found: dict[str, float] = {}
    progress = True
    while progress:
        progress = False
        for whole, parts in _sums():
            terms = [whole, *parts]
            unknown = [t for t in terms if t not in known]
            if len(unknown) != 1:
                continue
            [x] = unknown
            rest = sum(known[p] for p in parts if p != x)
            known[x] = known[whole] - rest if x != whole else rest
            found[x] = known[x]
            progress = True
    return found


def _hidden(seen: dict[str, dict]) -> set[str]:
    return {k for k, s in seen.items() if s["value"] is None and s["marker"]}


def _check(client, headers) -> dict[str, tuple[set[str], dict[str, float]]]:
    out = {}
    for viewer in VIEWERS:
        seen = _seen(client, headers.get(viewer, {}), viewer)
        assert "total" in seen and any(k.startswith(f"{CROSS}=") for k in seen), viewer
        out[viewer] = (_hidden(seen), recovered(seen))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_no_viewer_recovers_a_hidden_cross_tab_cell(session, client, seed) -> None:
    headers = build(session, client, _reports(seed), covered=True)
    results = _check(client, headers)
    assert results["backbone"][0] == set()  # the backbone team sees everything exactly
    for viewer, (hidden, found) in results.items():
        # Whatever the oracle solves is hidden from nobody … and it never solves a hidden one.
        assert not (hidden & found.keys()), (seed, viewer, sorted(hidden & found.keys()))
    assert any(results[v][0] for v in VIEWERS[1:]), "the world hides nothing: not a test"


# A rare pair (a, high) for everyone: 1 each, 5 in all. Alone, the one-way engine hides a
# complement in the cross-tab (the smallest other cell, in another row and column), which
# leaves (a, high) alone in its column: income=high minus the rest gives it away.
FIXED = {
    p: {
        (r, i): 1 if (r, i) == ("a", "high") else 6 + 2 * RACES.index(r) + INCOMES.index(i)
        for r in RACES
        for i in INCOMES
    }
    for p in PARTNERS
}


def test_without_the_covering_a_hidden_cell_is_recovered(session, client) -> None:
    headers = build(session, client, FIXED, covered=False)
    hidden, found = _check(client, headers)["public"]
    assert f"{CROSS}=a.high" in hidden
    assert hidden & found.keys()
    assert found[f"{CROSS}=a.high"] == 5


def test_with_the_covering_the_same_cell_is_safe(session, client) -> None:
    headers = build(session, client, FIXED, covered=True)
    for viewer, (hidden, found) in _check(client, headers).items():
        assert not (hidden & found.keys()), viewer
        if viewer != "backbone":
            assert f"{CROSS}=a.high" in hidden, viewer
