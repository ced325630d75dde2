"""Suppression: an example of each rule, and a property test against a brute-force attacker.

The attacker below shares no code with ``models.analytics.suppression``: it reads only what a view shows
(values, n, markers, reasons), turns every marker into the set of whole-number quantities it
allows, and computes by exhaustive set arithmetic (sums of sets of points, kept as bits of a
Python int) every value each hidden quantity can take in some assignment that fits all the
published figures and sums.
"""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from models.analytics.suppression import (
    COMPLEMENT_MARKER,
    DOMINANCE_MARKER,
    HIGH_MARKER,
    INPUTS_MARKER,
    KEPT_MARKER,
    LATE_MARKER,
    LEGEND,
    LOW_MARKER,
    NOT_PUBLISHED_MARKER,
    UNDEFINED_MARKER,
    Cell,
    Shown,
    explain,
    judge_partners,
    legend,
    shown_as_is,
    suppress_group,
)


def count(key: str, value: float, hidden: bool = False) -> Cell:
    return Cell(key, "count", float(value), hidden=hidden)


def rate(key: str, num: int, den: int, hidden: bool = False) -> Cell:
    return Cell(key, "rate", 100.0 * num / den, float(num), float(den), hidden)


def amount(key: str, value: float, hidden: bool = False) -> Cell:
    return Cell(key, "amount", value, hidden=hidden)


def markers(shown: list[Shown]) -> list[str | None]:
    return [s.marker for s in shown]


# --- examples -------------------------------------------------------------------------------


def test_small_category_is_hidden_with_one_complement():
    total, parts = suppress_group(
        count("total", 100),
        {
            "race": [
                count("race=asian", 7),
                count("race=black", 20),
                count("race=hispanic", 30),
                count("race=white", 43),
            ]
        },
        10,
    )
    assert total == Shown("total", 100.0, 100.0, None, None)
    race = parts["race"]
    assert race[0] == Shown("race=asian", None, None, "<10", "primary")
    assert race[1] == Shown("race=black", None, None, "*", "complementary")  # the smallest other
    assert race[2] == Shown("race=hispanic", 30.0, 30.0, None, None)
    assert race[3] == Shown("race=white", 43.0, 43.0, None, None)


def test_small_total_hides_everything():
    total, parts = suppress_group(
        count("total", 8),
        {"race": [count("race=a", 3), count("race=b", 5)], "sex": [count("sex=f", 8)]},
        10,
    )
    assert total == Shown("total", None, None, "<10", "primary")
    assert all(s.value is None and s.n is None for p in parts.values() for s in p)
    assert markers(parts["race"]) == ["<10", "<10"]


@pytest.mark.parametrize(
    ("num", "den", "marker", "reason", "n"),
    [
        (2, 50, LOW_MARKER, "coarsened", 50.0),
        (48, 50, HIGH_MARKER, "coarsened", 50.0),
        (0, 200, LOW_MARKER, "coarsened", 200.0),
        # The group is not small, the people with (or without) the outcome are: "<10" would lie.
        (3, 30, "<10 with/without", "primary", None),  # 10 %: neither band, three people
        (9, 10, "<10 with/without", "primary", None),  # 9 with and 1 without
        (0, 20, "<10 with/without", "primary", None),  # "<5%" of 20 leaves only 0
        (5, 8, "<10", "primary", None),  # n under the threshold
        (30, 60, None, None, 60.0),
    ],
)
def test_rates_are_hidden_or_coarsened(num, den, marker, reason, n):
    total, _ = suppress_group(rate("total", num, den), {}, 10)
    assert (total.marker, total.reason, total.n) == (marker, reason, n)
    assert total.value == (None if marker else 50.0)


def test_rate_cells_are_coarsened_in_a_breakdown_when_they_keep_each_other_hidden():
    total, parts = suppress_group(
        rate("total", 50, 100), {"site": [rate("site=a", 2, 50), rate("site=b", 48, 50)]}, 10
    )
    assert total.value == 50.0
    assert [(s.marker, s.n) for s in parts["site"]] == [(LOW_MARKER, 50.0), (HIGH_MARKER, 50.0)]


def test_a_coarsened_rate_that_could_be_worked_out_gets_complements():
    # With b and c published, a's numerator is 42 − 21 − 20 = 1. Hiding b alone leaves b's
    # denominator at 150 − 60 − 50, so c goes as well; a keeps its band.
    total, parts = suppress_group(
        rate("total", 42, 150),
        {"site": [rate("site=a", 1, 60), rate("site=b", 21, 40), rate("site=c", 20, 50)]},
        10,
    )
    assert total.value == 28.0
    assert markers(parts["site"]) == [LOW_MARKER, "*", "*"]
    assert parts["site"][0].n == 60.0


def test_a_rate_has_at_least_one_person_behind_it():
    # Two hidden rates whose denominators add up to 2 must be 1 each: hide a third.
    _, parts = suppress_group(
        rate("total", 30, 60),
        {"site": [rate("site=a", 1, 1), rate("site=b", 0, 1), rate("site=c", 29, 58)]},
        10,
    )
    assert markers(parts["site"]) == ["<10", "<10", "*"]


def test_zero_categories_need_a_third_hidden_cell():
    # Two zeros hidden alone add up to 0, which pins both of them.
    _, parts = suppress_group(
        count("total", 50),
        {
            "race": [
                count("race=a", 0),
                count("race=b", 0),
                count("race=c", 20),
                count("race=d", 30),
            ]
        },
        10,
    )
    assert markers(parts["race"]) == ["<10", "<10", "*", None]


def test_non_sharing_partner_forces_a_complement():
    total, parts = suppress_group(
        count("total", 95),
        {
            "partner": [
                count("org:east", 40, hidden=True),
                count("org:west", 30),
                count("org:north", 25),
            ]
        },
        10,
    )
    assert total.value == 95.0
    assert parts["partner"] == [
        Shown("org:east", None, None, "*", "withheld"),
        Shown("org:west", 30.0, 30.0, None, None),
        Shown("org:north", None, None, "*", "complementary"),
    ]


def test_amounts_are_never_primary_suppressed_but_are_complemented():
    total, parts = suppress_group(
        amount("total", 1003.5), {"partner": [amount("org:a", 3.5), amount("org:b", 1000.0)]}, 10
    )
    assert total == Shown("total", 1003.5, None, None, None)
    assert parts["partner"] == [
        Shown("org:a", 3.5, None, None, None),
        Shown("org:b", 1000.0, None, None, None),
    ]
    _, parts = suppress_group(
        amount("total", 1006.0),
        {
            "partner": [
                amount("org:a", 3.5, hidden=True),
                amount("org:b", 1000.0),
                amount("org:c", 2.5),
            ]
        },
        10,
    )
    assert [s.reason for s in parts["partner"]] == ["withheld", None, "complementary"]


def test_averages_hide_small_weights():
    def avg(key, value, weight):
        return Cell(key, "average", value, None, float(weight))

    total, parts = suppress_group(
        avg("total", 3.0, 60),
        {"grade": [avg("g=1", 2.0, 5), avg("g=2", 3.0, 25), avg("g=3", 3.2, 30)]},
        10,
    )
    assert total == Shown("total", 3.0, 60.0, None, None)
    assert markers(parts["grade"]) == ["<10", "*", None]
    assert parts["grade"][2].n == 30.0


def test_complement_is_no_bigger_than_what_stays_published():
    # Hiding "b" alone is not enough for an attacker who knows the algorithm: "b" was the
    # smallest candidate, so b ≤ c = 20, and a + b = 29 with a ≤ 9 gives b = 20, a = 9.
    _, parts = suppress_group(
        count("total", 49), {"race": [count("a", 9), count("b", 20), count("c", 20)]}, 10
    )
    assert markers(parts["race"]) == ["<10", "*", "*"]


def test_markers_that_give_the_answer_away_are_dropped():
    # "<10" and "*" (not small) with a total of 10 would say 0 and 10: withhold both instead.
    total, parts = suppress_group(count("total", 10), {"race": [count("a", 0), count("b", 10)]}, 10)
    assert total.value == 10.0
    assert [s.reason for s in parts["race"]] == ["withheld", "withheld"]


def test_unallocated_remainder_is_protected():
    # 3 people of unknown race: the categories add up to 72 of 75, so total minus categories
    # would show 3. Two categories are hidden with them (one alone would be "total minus the
    # rest" to a reader who takes the breakdown as complete).
    total, parts = suppress_group(
        count("total", 75), {"race": [count("a", 20), count("b", 22), count("c", 30)]}, 10
    )
    assert total.value == 75.0
    assert markers(parts["race"]) == ["*", "*", None]
    _, parts = suppress_group(count("total", 75), {"race": [count("a", 45), count("b", 30)]}, 10)
    assert markers(parts["race"]) == [None, None]  # nothing left over: nothing to protect


def test_cells_without_figures_are_shown_empty():
    total, parts = suppress_group(
        Cell("total", "rate", None),
        {"race": [Cell("race=a", "rate", None), rate("race=b", 30, 60)]},
        10,
    )
    assert total == Shown("total", None, None, None, None)
    assert parts["race"][0] == Shown("race=a", None, None, None, None)
    assert parts["race"][1].value == 50.0


def test_ties_are_broken_by_key_and_output_is_deterministic():
    cells = [count("race=d", 20), count("race=b", 20), count("race=a", 5), count("race=c", 20)]
    first = suppress_group(count("total", 65), {"race": cells}, 10)
    assert markers(first[1]["race"]) == [None, "*", "<10", None]
    for seed in range(5):
        shuffled = cells.copy()
        random.Random(seed).shuffle(shuffled)
        again = suppress_group(count("total", 65), {"race": shuffled, "sex": []}, 10)
        assert sorted(again[1]["race"], key=lambda s: s.key) == sorted(
            first[1]["race"], key=lambda s: s.key
        )
    assert suppress_group(count("total", 65), {"race": cells}, 10) == first


def test_invalid_cells_are_refused():
    with pytest.raises(ValueError, match="numerator"):
        suppress_group(Cell("total", "rate", 120.0, 12.0, 10.0), {}, 10)
    with pytest.raises(ValueError, match="whole"):
        suppress_group(count("total", 2.5), {}, 10)
    with pytest.raises(ValueError, match="measure_type"):
        suppress_group(count("total", 20), {"x": [amount("x=a", 20.0)]}, 10)
    with pytest.raises(ValueError, match="threshold"):
        suppress_group(count("total", 20), {}, 0)


def test_backbone_sees_everything():
    assert shown_as_is(count("org:a", 3, hidden=True)) == Shown("org:a", 3.0, 3.0, None, None)
    assert shown_as_is(rate("r", 2, 50)) == Shown("r", 4.0, 50.0, None, None)
    assert shown_as_is(Cell("r", "rate", None, 1.0, 4.0)) == Shown("r", 25.0, 4.0, None, None)
    assert shown_as_is(amount("a", 7.25)) == Shown("a", 7.25, None, None, None)


def test_legend_explains_every_marker():
    assert set(LEGEND) == {
        "<10",
        "<10 with/without",
        "<4 partners",
        DOMINANCE_MARKER,
        LATE_MARKER,
        NOT_PUBLISHED_MARKER,
        COMPLEMENT_MARKER,
        KEPT_MARKER,
        LOW_MARKER,
        HIGH_MARKER,
        INPUTS_MARKER,
        UNDEFINED_MARKER,
    }
    assert "fewer than 10 people" in LEGEND["<10"]
    assert "fewer than 4 partners" in LEGEND["<4 partners"]
    assert "fewer than 3 partners" in legend(10, 3, insiders=False)["<3 partners"]
    assert "nearly all" in LEGEND[DOMINANCE_MARKER]
    assert "<5" in legend(5)
    assert explain("<4 partners").startswith("fewer than 4 partners")


# --- the brute-force attacker ---------------------------------------------------------------


class Grid:
    """Sets of points (a, b), 0 ≤ a ≤ amax, 0 ≤ b ≤ bmax, as the bits of one int (a·w + b).

    Rates use (numerator, denominator − numerator); counts use (value, 0). The row width leaves
    room for b to overflow before masking, so adding two points never carries into a.
    """

    def __init__(self, amax: int, bmax: int) -> None:
        self.amax, self.bmax, self.w = amax, bmax, 2 * bmax + 2
        row = (1 << (bmax + 1)) - 1
        self.mask = sum(row << (a * self.w) for a in range(amax + 1))

    def index(self, p: tuple[int, int]) -> int:
        return p[0] * self.w + p[1]

    def bits(self, points: list[tuple[int, int]]) -> int:
        return sum(1 << self.index(p) for p in set(points))

    def points(self, bits: int) -> list[tuple[int, int]]:
        digits = bin(bits)[2:][::-1]
        return [divmod(i, self.w) for i, ch in enumerate(digits) if ch == "1"]

    def plus(self, bits: int, points: list[tuple[int, int]]) -> int:
        """{x + p : x in bits, p in points}, within the grid."""
        out = 0
        for p in points:
            out |= bits << self.index(p)
        return out & self.mask

    def all(self) -> list[tuple[int, int]]:
        return [(a, b) for a in range(self.amax + 1) for b in range(self.bmax + 1)]


def allowed(s: Shown, measure: str, t: int, cap: int | None, grid: Grid) -> list[tuple[int, int]]:
    """Every point a reader cannot rule out for this cell from what is shown."""
    if measure == "count":
        if s.marker is None:
            return [(round(s.value), 0)]
        if s.reason == "primary":
            return [(a, 0) for a in range(min(t - 1, grid.amax) + 1)]
        if s.reason == "complementary":
            top = grid.amax if cap is None else min(cap, grid.amax)
            return [(a, 0) for a in range(t, top + 1)]
        assert s.reason == "withheld", s
        return [(a, 0) for a in range(grid.amax + 1)]
    if s.marker is None:
        num = round(s.value * s.n / 100)
        assert abs(100 * num / s.n - s.value) < 1e-9
        return [(num, round(s.n) - num)]
    if s.reason == "coarsened":
        n = round(s.n)
        if s.marker == LOW_MARKER:
            return [(a, n - a) for a in range(n + 1) if 20 * a < n and min(a, n - a) < t]
        assert s.marker == HIGH_MARKER
        return [(a, n - a) for a in range(n + 1) if 20 * a > 19 * n and min(a, n - a) < t]
    if s.reason == "primary":
        return [(a, b) for a, b in grid.all() if a + b >= 1 and min(a, b) < t]
    if s.reason == "complementary":
        return [
            (a, b) for a, b in grid.all() if a >= t and b >= t and (cap is None or a + b <= cap)
        ]
    assert s.reason == "withheld", s
    return [(a, b) for a, b in grid.all() if a + b >= 1]


def complement_caps(cells: list[Shown]) -> list[int | None]:
    """The algorithm picks the smallest published cell (ties by key), so a complementary cell is
    no bigger than any cell still showing its n, and smaller than those that sort before it."""
    caps: list[int | None] = []
    for i, s in enumerate(cells):
        cap = None
        if s.reason == "complementary":
            for j, p in enumerate(cells):
                if p.n is not None:
                    bound = round(p.n) if (s.key, i) < (p.key, j) else round(p.n) - 1
                    cap = bound if cap is None else min(cap, bound)
        caps.append(cap)
    return caps


def attack(
    total: Shown, parts: dict[str, list[Shown]], measure: str, t: int, grid: Grid
) -> tuple[list[tuple[int, int]], dict[tuple[str, int], list[tuple[int, int]]]]:
    """Every value the total and each cell can take, over all assignments that fit."""
    options = {
        name: [
            allowed(s, measure, t, c, grid)
            for s, c in zip(cells, complement_caps(cells), strict=True)
        ]
        for name, cells in parts.items()
    }
    feasible_totals = grid.bits(allowed(total, measure, t, None, grid))
    for cells in options.values():
        reach = 1  # the empty sum: point (0, 0)
        for pts in cells:
            reach = grid.plus(reach, pts)
        feasible_totals &= reach
    cells_out = {}
    for name, cells in options.items():
        for i, pts in enumerate(cells):
            if parts[name][i].marker is None:
                continue
            others = 1
            for j, other in enumerate(cells):
                if j != i:
                    others = grid.plus(others, other)
            cells_out[(name, i)] = [p for p in pts if (others << grid.index(p)) & feasible_totals]
    return grid.points(feasible_totals), cells_out


def assert_not_pinned(points: list[tuple[int, int]], measure: str, shown: Shown, where: str):
    if measure == "count":
        values = {a for a, _ in points}
        assert len(values) >= 2, f"{where}: {shown} can only be {values}"
        return
    quantities = {
        "numerator": lambda p: p[0],
        "remainder": lambda p: p[1],
        "percent": lambda p: Fraction(p[0], p[0] + p[1]),
    }
    if shown.reason != "coarsened":
        quantities["denominator"] = lambda p: p[0] + p[1]
    for name, of in quantities.items():
        first = of(points[0])
        assert any(of(p) != first for p in points), f"{where}: {name} of {shown} is only {first}"


def check_against_attacker(
    total: Cell, breakdowns: dict[str, list[Cell]], measure: str, t: int
) -> None:
    shown_total, parts = suppress_group(total, breakdowns, t)
    truth = {name: [point(c) for c in cells] for name, cells in breakdowns.items()}
    true_total = point(total)

    # Nothing published counts fewer than T people.
    for s in [shown_total, *(s for p in parts.values() for s in p)]:
        if s.marker is None:
            assert s.n >= t, s
            if measure == "rate":
                num = round(s.value * s.n / 100)
                assert num >= t and s.n - num >= t, s
        elif s.reason == "coarsened":
            assert s.n >= t and s.value is None, s
        else:
            assert s.value is None and s.n is None, s

    # A breakdown never hides exactly one cell while its total is shown.
    if shown_total.marker is None:
        for cells in parts.values():
            assert sum(s.marker is not None for s in cells) != 1, cells

    hidden_per_breakdown = [sum(s.marker is not None for s in c) for c in parts.values()]
    assume(max(hidden_per_breakdown, default=0) <= 4)
    if shown_total.marker is None:
        grid = Grid(true_total[0], true_total[1])
    elif shown_total.reason == "coarsened":
        grid = Grid(round(shown_total.n), round(shown_total.n))
    else:  # unknown total: search a box around the truth (a subset of what the reader faces)
        grid = Grid(true_total[0] + 3, true_total[1] + 3 if measure == "rate" else 0)
    assume((grid.amax + 1) * (grid.bmax + 1) <= 2500)

    totals, cells = attack(shown_total, parts, measure, t, grid)
    assert true_total in totals, "the markers are not true of the total"
    if shown_total.marker is not None:
        assert_not_pinned(totals, measure, shown_total, "total")
    for (name, i), points in cells.items():
        assert truth[name][i] in points, f"the markers are not true of {parts[name][i]}"
        assert_not_pinned(points, measure, parts[name][i], f"{name}[{i}]")


def point(c: Cell) -> tuple[int, int]:
    if c.measure_type == "count":
        return (round(c.value), 0)
    return (round(c.numerator), round(c.denominator - c.numerator))


def splits(draw, total: int, k: int) -> list[int]:
    """A random way to write `total` as k whole parts ≥ 0."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=k - 1, max_size=k - 1)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def hidden_flags(draw, n: int) -> set[int]:
    return draw(st.sets(st.integers(0, n - 1), max_size=min(2, n))) if n else set()


def near(t: int, top: int) -> st.SearchStrategy[int]:
    """Whole numbers up to `top`, often at the edges of the threshold (where pins hide)."""
    edges = sorted({x for x in (0, 1, 2, t - 1, t, t + 1, 2 * t - 1, 2 * t, 2 * t + 1) if x <= top})
    return st.one_of(st.integers(0, top), st.sampled_from(edges))


@st.composite
def count_groups(draw):
    t = draw(st.sampled_from([3, 5, 10]))
    first = draw(st.lists(near(t, 40), min_size=2, max_size=5))
    total = sum(first)
    parts = [first] + [
        splits(draw, total, draw(st.integers(2, 5))) for _ in range(draw(st.integers(0, 2)))
    ]
    flagged = draw(st.integers(0, len(parts) - 1))
    hidden = hidden_flags(draw, len(parts[flagged]))
    breakdowns = {
        f"d{j}": [
            count(f"d{j}=c{i}", v, hidden=j == flagged and i in hidden) for i, v in enumerate(p)
        ]
        for j, p in enumerate(parts)
    }
    return count("total", total), breakdowns, t


@st.composite
def rate_groups(draw):
    t = draw(st.sampled_from([3, 5, 10]))
    first = []
    for _ in range(draw(st.integers(2, 5))):
        den = draw(st.one_of(near(t, 30), st.sampled_from([21, 40, 41, 60, 61])))
        num = draw(st.one_of(st.integers(0, den), st.sampled_from([0, 1, t - 1, t, den - t, den])))
        first.append((min(max(num, 0), den), den))
    num_total, den_total = sum(n for n, _ in first), sum(d for _, d in first)
    assume(den_total > 0)
    parts = [[(n, d - n) for n, d in first]]
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(2, 5))
        nums, rems = splits(draw, num_total, k), splits(draw, den_total - num_total, k)
        parts.append(list(zip(nums, rems, strict=True)))
    parts = [[(a, b) for a, b in p if a + b > 0] for p in parts]  # no cell of denominator 0
    flagged = draw(st.integers(0, len(parts) - 1))
    hidden = hidden_flags(draw, len(parts[flagged]))
    breakdowns = {
        f"d{j}": [
            rate(f"d{j}=c{i}", a, a + b, hidden=j == flagged and i in hidden)
            for i, (a, b) in enumerate(p)
        ]
        for j, p in enumerate(parts)
    }
    return rate("total", num_total, den_total), breakdowns, t


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(count_groups())
def test_no_hidden_count_can_be_worked_out(group):
    total, breakdowns, t = group
    check_against_attacker(total, breakdowns, "count", t)


@PROPERTY
@given(rate_groups())
def test_no_hidden_rate_can_be_worked_out(group):
    total, breakdowns, t = group
    check_against_attacker(total, breakdowns, "rate", t)


# --- minimum contributors -------------------------------------------------------------------


def _counts(total: tuple[int, int], cells: list[tuple[str, int, int]]):
    """A count group: (value, contributors) for the total, (key, value, contributors) cells."""
    return (
        Cell("total", "count", total[0], contributors=total[1]),
        {"race": [Cell(k, "count", v, contributors=c) for k, v, c in cells]},
    )


def test_a_figure_of_fewer_partners_than_the_minimum_is_hidden_with_its_reason():
    total, breakdowns = _counts((140, 1), [("race=a", 80, 1), ("race=b", 60, 1)])
    shown_total, parts = suppress_group(total, breakdowns, 10, min_contributors=3)
    assert shown_total.value is None and shown_total.marker == "<4 partners"
    assert shown_total.reason == "few_partners"
    assert all(s.value is None and s.marker == "<4 partners" for s in parts["race"])
    # Partners among the viewers take their own share away: three partners are not enough.
    three = Cell("total", "count", 140, contributors=3)
    assert suppress_group(three, {}, 10, min_contributors=3)[0].marker == "<4 partners"
    outsiders = suppress_group(three, {}, 10, min_contributors=3, insiders=False)[0]
    assert outsiders.value == 140
    # Switched off (a minimum of one), the same figures are shown.
    shown_total, parts = suppress_group(total, breakdowns, 10, min_contributors=1)
    assert shown_total.value == 140 and [s.value for s in parts["race"]] == [80, 60]


def test_a_cell_of_few_partners_cannot_be_worked_out_from_the_total():
    total, breakdowns = _counts(
        (300, 5), [("race=a", 120, 2), ("race=b", 100, 4), ("race=c", 80, 5)]
    )
    shown_total, parts = suppress_group(total, breakdowns, 10, min_contributors=3)
    assert shown_total.value == 300
    by_key = {s.key: s for s in parts["race"]}
    assert by_key["race=a"].marker == "<4 partners"
    # One more cell is hidden, so 300 − b − c is not a's figure.
    assert sum(s.value is None for s in parts["race"]) >= 2
    assert by_key["race=c"].value is None  # the smallest published cell is the complement


def test_partner_figures_carry_no_contributor_rule():
    """A partner's own figure (contributors None) is judged by the other rules only."""
    cell = Cell("org:1", "count", 50)
    total = Cell("total", "count", 50, contributors=1)
    shown_total, parts = suppress_group(total, {"partner": [cell]}, 10, min_contributors=3)
    assert shown_total.marker == "<4 partners"
    assert parts["partner"][0].value is None  # it would equal the hidden total


def test_every_marker_tells_the_truth_about_a_rate():
    """A rate of 40 people of whom 3 lack the outcome is not "fewer than 10 people"."""
    total = Cell("total", "rate", None, numerator=37, denominator=40)
    shown, _ = suppress_group(total, {}, 10, min_contributors=1)
    assert shown.value is None
    assert shown.marker in ("<10 with/without", ">95%")
    small = Cell("total", "rate", None, numerator=3, denominator=6)
    assert suppress_group(small, {}, 10, min_contributors=1)[0].marker == "<10"
    assert explain("<10 with/without").startswith("fewer than 10 of the people")


def test_a_partner_always_sees_its_own_figure():
    """Its own figure is known to the viewer: never hidden, even when the total is."""
    total = Cell("total", "count", 60, contributors=2)
    partners = [Cell("org:1", "count", 34, known=True), Cell("org:2", "count", 26)]
    shown_total, parts = suppress_group(total, {"partner": partners}, 10, min_contributors=3)
    assert shown_total.value is None and shown_total.marker == "<4 partners"
    assert parts["partner"][0].value == 34
    assert parts["partner"][1].value is None  # 60 − 34 would be the other's
    small = [Cell("org:1", "count", 4, known=True), Cell("org:2", "count", 56)]
    total = Cell("total", "count", 60, contributors=3)
    shown_total, parts = suppress_group(
        total, {"partner": small}, 10, min_contributors=3, insiders=False
    )
    assert parts["partner"][0].value == 4  # small, but its own


# --- dominance, the viewer's own share, and what hidden cells add up to -----------------------


def _parted(key: str, shares: dict[str, float], **kw) -> Cell:
    """A count figure made of these partners' shares."""
    return Cell(
        key,
        "count",
        sum(shares.values()),
        contributors=len(shares),
        parts=tuple((k, (v,)) for k, v in shares.items()),
        **kw,
    )


def test_a_figure_one_partner_dominates_is_hidden_by_the_p_percent_rule():
    shares = {"a": 900, "b": 30, "c": 30, "d": 30, "e": 10}
    shown, _ = suppress_group(_parted("total", shares), {}, 10, 3, dominance_percent=10)
    assert shown.value is None and shown.marker == DOMINANCE_MARKER
    assert shown.reason == "dominance"
    assert suppress_group(_parted("total", shares), {}, 10, 3, dominance_percent=0)[0].value == 1000


def test_two_partners_pooling_what_they_know_are_held_to_the_p_percent_rule():
    """The second and third largest together know all but 7 of the largest's 100 + the rest:
    within 10 %. One of them alone would be 15 away."""
    shares = {"a": 100, "b": 90, "c": 8, "d": 4, "e": 3}
    alone = suppress_group(_parted("total", shares), {}, 10, 3, 10, insiders=False)[0]
    assert alone.value == 205
    pooled = suppress_group(_parted("total", shares), {}, 10, 3, 10, insiders=True)[0]
    assert pooled.value is None and pooled.marker == DOMINANCE_MARKER


def test_what_is_left_without_any_one_partner_is_not_a_small_number():
    """59 children from four partners, 50 of them at one: that partner learns that the other
    three report 9 between them."""
    shares = {"a": 50, "b": 4, "c": 3, "d": 2}
    shown, _ = suppress_group(_parted("total", shares), {}, 10, 3)
    assert shown.value is None and shown.marker == DOMINANCE_MARKER
    outsiders = suppress_group(_parted("total", shares), {}, 10, 3, insiders=False)[0]
    assert outsiders.value == 59


def test_the_hidden_cells_of_a_breakdown_add_up_to_a_figure_the_rules_allow():
    """a and b are each one partner's; hidden, neither is pinned, but total − c = a + b would
    be two partners' figure: c is hidden too."""
    total = _parted("total", {"m1": 20, "m2": 20, "m3": 20, "m4": 20, "m5": 20})
    race = [
        _parted("race=a", {"m1": 15}),
        _parted("race=b", {"m2": 12}),
        _parted("race=c", {"m1": 5, "m2": 8, "m3": 20, "m4": 20, "m5": 20}),
    ]
    shown_total, parts = suppress_group(total, {"race": race}, 10, 3)
    assert shown_total.value == 100
    assert [s.value for s in parts["race"]] == [None, None, None]
    # Judged by contributor counts alone (no parts), c stays: nothing pins a or b.
    counted = [replace(c, parts=None) for c in race]
    _, parts = suppress_group(replace(total, parts=None), {"race": counted}, 10, 3)
    assert parts["race"][2].value == 73


def test_partners_that_do_not_share_stay_inside_a_figure_of_enough_partners():
    """A funder sees four partners that share; the fifth does not. Total minus the shown ones
    must be at least three partners' figure, so two more are hidden (the smallest)."""
    shares = {"m1": 40, "m2": 30, "m3": 25, "m4": 20, "m5": 35}
    partners = [
        replace(_parted(f"org:{k}", {k: v}), contributors=None, partner=True, hidden=k == "m5")
        for k, v in shares.items()
    ]
    _, parts = suppress_group(
        _parted("total", shares), {"partner": partners}, 10, 3, 10, insiders=False
    )
    shown = {s.key: s.value for s in parts["partner"]}
    assert shown == {"org:m1": 40, "org:m2": 30, "org:m3": None, "org:m4": None, "org:m5": None}


def test_a_figure_changed_since_publication_is_hidden_with_its_own_marker():
    late = replace(_parted("total", {"a": 100, "b": 120, "c": 140, "d": 160, "e": 7}), late=True)
    shown, _ = suppress_group(late, {}, 10, 3, 10)
    assert shown.value is None and shown.marker == LATE_MARKER and shown.reason == "late_reports"
    assert "too few partners" in LEGEND[LATE_MARKER]
    # The partners that reported since make a figure of their own: one partner never passes.
    assert judge_partners([(7.0,)], "count", 10, 3, 10) == "few_partners"
    four = [(30.0,), (40.0,), (35.0,), (50.0,)]
    assert judge_partners(four, "count", 10, 3, 10) is None
