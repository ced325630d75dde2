"""The cross-tab covering on its own (models.analytics.cross_tabs), for counts and rates, over
many random tables: the differencing attack of the oracle (test_cross_tab_oracle.py) on every
sum — the total over each breakdown, each row of pairs over its one-way figure, each column
over its own — recovers no hidden quantity: no hidden count, no hidden rate's numerator, no
denominator a marker did not show. Without the tables (the engine alone), it does: the test
can fail."""

from __future__ import annotations

import random

import pytest

from models.analytics.cross_tabs import CrossTable, suppress_with_cross_tabs
from models.analytics.suppression import Cell

PARTNERS = 5


def _world(seed: int, measure: str) -> tuple[Cell, dict[str, list[Cell]], CrossTable]:
    rng = random.Random(seed)
    rows = [f"r{n}" for n in range(rng.randint(2, 4))]
    columns = [f"c{n}" for n in range(rng.randint(2, 4))]
    rare = set(rng.sample([(r, c) for r in rows for c in columns], rng.randint(1, 2)))
    shares: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    for r in rows:
        for c in columns:
            top = 2 if (r, c) in rare else 30
            low = 0 if (r, c) in rare else 3
            parts = []
            for _ in range(PARTNERS):
                n = rng.randint(low, top)
                parts.append((float(n),) if measure == "count" else (float(rng.randint(0, n)), n))
            shares[(r, c)] = parts

    def cell(key: str, pairs: list[tuple[str, str]]) -> Cell:
        dims = 1 if measure == "count" else 2
        parts = tuple(
            (f"m{m}", tuple(float(sum(shares[p][m][d] for p in pairs)) for d in range(dims)))
            for m in range(PARTNERS)
        )
        sums = [sum(q[d] for _, q in parts) for d in range(len(parts[0][1]))]
        if measure == "count":
            return Cell(key, "count", sums[0], parts=parts)
        num, den = sums
        return Cell(key, "rate", 100 * num / den if den else None, num, den, parts=parts)

    every = [(r, c) for r in rows for c in columns]
    breakdowns = {
        "row": [cell(f"row={r}", [(r, c) for c in columns]) for r in rows],
        "col": [cell(f"col={c}", [(r, c) for r in rows]) for c in columns],
        "x": [cell(f"x={r}.{c}", [(r, c)]) for r, c in every],
    }
    table = CrossTable(
        "x", "row", "col", tuple((f"x={r}.{c}", f"row={r}", f"col={c}") for r, c in every)
    )
    return cell("total", every), breakdowns, table


def _sums(table: CrossTable, breakdowns: dict[str, list[Cell]]) -> list[tuple[str, list[str]]]:
    out = [("total", [c.key for c in cells]) for cells in breakdowns.values()]
    return out + table.lines()


def _recovered(known: dict[str, float], sums: list[tuple[str, list[str]]]) -> set[str]:
    known, found = dict(known), set()
    progress = True
    while progress:
        progress = False
        for whole, parts in sums:
            unknown = [t for t in (whole, *parts) if t not in known]
            if len(unknown) != 1:
                continue
            [x] = unknown
            rest = sum(known[p] for p in parts if p != x)
            known[x] = known[whole] - rest if x != whole else rest
            found.add(x)
            progress = True
    return found


def leaks(measure: str, seed: int, covered: bool) -> set[str]:
    total, breakdowns, table = _world(seed, measure)
    shown_total, shown = suppress_with_cross_tabs(
        total, breakdowns, [table] if covered else [], 10, 3, 10.0, True
    )
    figures = [shown_total, *(s for cells in shown.values() for s in cells)]
    sums = _sums(table, breakdowns)
    if measure == "count":
        known = {s.key: s.value for s in figures if s.value is not None}
        return _recovered(known, sums) & {s.key for s in figures if s.value is None}
    # A rate: its denominator where shown (n), its numerator where the rate is shown exactly.
    dens = {s.key: s.n for s in figures if s.n is not None}
    nums = {s.key: s.value * s.n / 100 for s in figures if s.value is not None and s.n}
    out = _recovered(dens, sums) & {s.key for s in figures if s.n is None}
    return out | (_recovered(nums, sums) & {s.key for s in figures if s.value is None})


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_no_hidden_quantity_is_recovered_by_differencing(measure) -> None:
    for seed in range(150):
        assert leaks(measure, seed, covered=True) == set(), (measure, seed)


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_without_the_tables_differencing_recovers_a_hidden_quantity(measure) -> None:
    assert any(leaks(measure, seed, covered=False) for seed in range(150))
