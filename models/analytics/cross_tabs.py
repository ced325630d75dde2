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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

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
            return shown_total, shown
    raise AssertionError("cross-tab suppression did not settle")  # each round hides one more
