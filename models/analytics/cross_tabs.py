"""Suppression that covers cross-tabs: a figure group whose breakdowns include a cross-tab.

A cross-tab (README, "Cross-tabs") is a breakdown of the total like any other, so
:func:`models.analytics.suppression.suppress_group` protects it against the total. But its cells
also add up along each row to a one-way figure (race r × every income = race r) and along each
column to another (every race × income i): 2-D sums the engine does not see. A row with one
hidden cell and its margin shown gives that cell away by subtraction; a margin hidden by the
one-way suppression is given away by a row of cells all shown.

So each row and each column is also judged as a figure group of its own — its margin the total,
its cells the breakdown — by the same engine, with the same attacker (intervals, markers, the
partner rules on what the hidden cells add up to). What one sum hides, every other sum is told
(a cell hidden as a complement elsewhere enters each group hidden, ``Cell.complement``), and
the whole group, every row and every column are decided again until no sum hides anything
more: a fixed point, reached because cells are only ever hidden, never shown again.

Each sum passing alone is not enough: hidden pairs forming two cycles joined by one hidden pair
fix that pair when all the sums are solved together. So at the fixed point the whole system is
solved exactly over the hidden figures (:func:`fixed_by_sums`), and while it fixes one, the
smallest pair shown beside it is hidden as well and everything is decided again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from models.analytics.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    WITHHELD,
    Cell,
    Shown,
    suppress_group,
)
from models.tables.indicator import TOTAL


@dataclass(frozen=True)
class CrossTable:
    """One cross-tab of an indicator, as suppression sees it."""

    name: str  # the cross-tab's dimension code: its breakdown among the group's
    rows: str  # the row dimension's code (a breakdown of the group)
    columns: str  # the column dimension's code
    pairs: tuple[tuple[str, str, str], ...]  # (cell key, row key, column key)

    def lines(self) -> list[tuple[str, list[str]]]:
        """Every row and every column: (its margin's key, its cells' keys)."""
        by_margin: dict[str, list[str]] = {}
        for key, row, column in self.pairs:
            by_margin.setdefault(row, []).append(key)
        for key, row, column in self.pairs:
            by_margin.setdefault(column, []).append(key)
        return list(by_margin.items())


# How far a sum may push a cell: a complement (hidden, and not small), or withheld (hidden, and
# its marker says nothing).
_HIDDEN, _WITHHELD = 1, 2


def suppress_with_cross_tabs(
    total: Cell,
    breakdowns: Mapping[str, Sequence[Cell]],
    tables: Sequence[CrossTable],
    threshold: int,
    min_contributors: int,
    dominance_percent: float,
    insiders: bool,
) -> tuple[Shown, dict[str, list[Shown]]]:
    """:func:`suppress_group`, with every row and column of each cross-tab in ``tables``
    protected against its margin as well (see the module's doc). Without tables, exactly
    :func:`suppress_group`."""

    def judge(t: Cell, b: Mapping[str, Sequence[Cell]]) -> tuple[Shown, dict[str, list[Shown]]]:
        return suppress_group(t, b, threshold, min_contributors, dominance_percent, insiders)

    tables = [t for t in tables if t.name in breakdowns and t.pairs]
    if not tables:
        return judge(total, breakdowns)
    by_key = {c.key: c for cells in breakdowns.values() for c in cells}
    by_key[TOTAL] = total
    pushed: dict[str, int] = {}

    def cell(key: str) -> Cell:
        found = by_key.get(key) or Cell(key, total.measure_type, None)
        level = pushed.get(key, 0)
        if level == _WITHHELD:
            return replace(found, hidden=True)
        return replace(found, complement=True) if level == _HIDDEN else found

    def push(shown: Shown) -> bool:
        level = {COMPLEMENTARY: _HIDDEN, PRIMARY: _HIDDEN, WITHHELD: _WITHHELD}.get(
            shown.reason or "", 0
        )
        if level > pushed.get(shown.key, 0) and shown.key in by_key:
            pushed[shown.key] = level
            return True
        return False

    cells_total = sum(len(c) for c in breakdowns.values()) + 1
    for _ in range(2 * cells_total + 2):  # each round hides a cell more, or ends
        shown_total, shown = judge(
            cell(TOTAL), {name: [cell(c.key) for c in cells] for name, cells in breakdowns.items()}
        )
        changed = push(shown_total)
        for parts in shown.values():
            for s in parts:
                changed = push(s) or changed
        for table in tables:
            present = {c.key for c in breakdowns[table.name]}
            for margin, keys in table.lines():
                line = [cell(k) for k in keys if k in present]
                if not line:
                    continue
                line_margin, line_cells = judge(cell(margin), {"line": line})
                changed = push(line_margin) or changed
                for s in line_cells["line"]:
                    changed = push(s) or changed
        if not changed:
            # Each sum alone gives nothing away; all of them together may still fix a hidden
            # figure (two hidden cycles joined by one hidden pair): hide one figure more there.
            extra = _one_more(shown_total, shown, breakdowns, tables, by_key)
            if extra is None:
                return shown_total, shown
            pushed[extra] = _HIDDEN
    raise AssertionError("cross-tab suppression did not settle")  # each round hides one more


def _equations(
    breakdowns: Mapping[str, Sequence[Cell]], tables: Sequence[CrossTable]
) -> list[tuple[str, list[str]]]:
    """Every sum a viewer knows holds, as (the figure, the figures adding up to it): the total
    over each breakdown, and each cross-tab row and column over its one-way figure."""
    out = [(TOTAL, [c.key for c in cells]) for cells in breakdowns.values() if cells]
    for table in tables:
        present = {c.key for c in breakdowns[table.name]}
        for margin, keys in table.lines():
            line = [k for k in keys if k in present]
            if line:
                out.append((margin, line))
    return out


def fixed_by_sums(equations: Sequence[tuple[str, list[str]]], hidden: set[str]) -> set[str]:
    """The hidden figures the sums fix whatever the hidden figures are: those whose unit vector
    lies in the row space of the system over the hidden unknowns (the shown figures are
    constants) — in its reduced row echelon form, a pivot whose row has no other entry. Exact
    arithmetic (fractions): a figure is either fixed or it is not."""
    order = sorted(hidden)
    index = {k: i for i, k in enumerate(order)}
    pivots: list[int] = []
    reduced: list[dict[int, Fraction]] = []
    for whole, parts in equations:
        row: dict[int, Fraction] = {}
        for key, sign in [(whole, 1), *((p, -1) for p in parts)]:
            if key in index:
                i = index[key]
                row[i] = row.get(i, Fraction(0)) + sign
        row = {k: v for k, v in row.items() if v}
        for col, prow in zip(pivots, reduced, strict=True):
            factor = row.get(col)
            if factor:
                for k, v in prow.items():
                    row[k] = row.get(k, Fraction(0)) - factor * v
                row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        col = min(row)
        lead = row[col]
        row = {k: v / lead for k, v in row.items()}
        for i, prow in enumerate(reduced):
            factor = prow.get(col)
            if factor:
                for k, v in row.items():
                    prow[k] = prow.get(k, Fraction(0)) - factor * v
                reduced[i] = {k: v for k, v in prow.items() if v}
        pivots.append(col)
        reduced.append(row)
    return {order[col] for col, row in zip(pivots, reduced, strict=True) if len(row) == 1}


def _one_more(
    shown_total: Shown,
    shown: Mapping[str, Sequence[Shown]],
    breakdowns: Mapping[str, Sequence[Cell]],
    tables: Sequence[CrossTable],
    by_key: Mapping[str, Cell],
) -> str | None:
    """A figure to hide so that the sums fix one hidden figure fewer, or None when they fix
    none: the smallest shown cross-tab cell in a row or column of a fixed figure (else in any
    sum of it, else any shown cross-tab cell)."""
    decided = {shown_total.key: shown_total, **{s.key: s for ss in shown.values() for s in ss}}
    hidden = {k for k, s in decided.items() if s.value is None}
    equations = _equations(breakdowns, tables)
    fixed = fixed_by_sums(equations, hidden)
    if not fixed:
        return None
    crossed = {key for t in tables for key, _, _ in t.pairs}

    def can_hide(key: str) -> bool:
        s, c = decided.get(key), by_key.get(key)
        return s is not None and s.value is not None and c is not None and not c.known

    def size(key: str) -> tuple[float, str]:
        c = by_key[key]
        amount = c.denominator if c.measure_type in ("rate", "average") else c.value
        return (abs(amount or 0.0), key)

    for pool in (
        [
            k
            for whole, parts in equations
            if whole in fixed or fixed & set(parts)
            for k in parts
            if k in crossed
        ],
        [
            k
            for whole, parts in equations
            if whole in fixed or fixed & set(parts)
            for k in [whole, *parts]
        ],
        sorted(crossed),
    ):
        candidates = sorted({k for k in pool if can_hide(k)}, key=size)
        if candidates:
            return candidates[0]
    return None
