"""Suppression: what a view below backbone staff may show of a figure group.

Reporters, funders and the public see figures about children and families, so small numbers
are hidden and no hidden number may be worked out from what is shown. This module is the only
rule: every view, the public API and every export call :func:`suppress_group` (backbone views
call :func:`shown_as_is`), so a figure is hidden the same way wherever it appears.

A *figure group* is one indicator in one period: a total and breakdowns whose cells add up to it
(categories of one dimension, or partners). Two passes:

1. *Primary suppression* hides cells that count fewer than T people (T = the initiative's
   threshold). A rate near 0 % or 100 % may be *coarsened* to "<5%" / ">95%" instead.
2. *Complementary suppression* plays the attacker. The attacker knows every published value and
   n, what each marker implies (a primary cell is small, a complementary one is not, a coarsened
   rate lies in its band) and this algorithm (a complementary cell is no bigger than the cells
   left published). For every breakdown we work out which values each hidden quantity could
   still take; while one is pinned to a single value, one more cell is hidden.

The attacker's reasoning is exact interval reasoning on each sum constraint. Counts, weights
and amounts are one quantity per cell. A rate cell has two (people with and without the outcome)
and its possible region is not a box ("few with OR few without"), so the region is split into
boxes and the sums are solved one combination of boxes at a time. Every combination examined is a
real possibility, so a quantity seen to take two values really can; when the search stops early
(a budget for very large breakdowns) a quantity may be taken as pinned that is not, which only
hides more.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from models.core.i18n import gettext

DEFAULT_THRESHOLD = 10
DEFAULT_MIN_CONTRIBUTORS = 3
MEASURE_TYPES = ("count", "amount", "rate", "average")
COMPLEMENT_MARKER = "*"
LOW_MARKER = "<5%"
HIGH_MARKER = ">95%"

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
COARSENED = "coarsened"
WITHHELD = "withheld"
FEW_PARTNERS = "few_partners"
DOMINANCE = "dominance"
EARLIER_VINTAGE = "earlier_vintage"
LATE_REPORTS = "late_reports"
NOT_PUBLISHED = "not_published"
KEPT_MARKER = "†"
DOMINANCE_MARKER = "‡"
LATE_MARKER = "Δ"
NOT_PUBLISHED_MARKER = "not yet published"
# Computed indicators (models.analytics.computed): hidden where an input is, or no figure.
INPUTS_HIDDEN = "inputs_hidden"
INPUTS_MARKER = "◊"
UNDEFINED = "undefined"
UNDEFINED_MARKER = "n/a"
DEFAULT_DOMINANCE_PERCENT = 10.0

_INF = math.inf
_COMBINATION_BUDGET = 512  # box combinations examined per breakdown and total; see module doc
_NEAREST_POINTS = 5  # coarsened numerators tried around the true one

# What a view says about a cell, i.e. what the attacker knows of it.
_EXACT = "exact"
_LOW = "low"  # coarsened "<5%"
_HIGH = "high"  # coarsened ">95%"
_ABSENT = "absent"  # a total with no figure: unknown, never shown, nothing to protect
_KNOWN = "known"  # the viewer's own figure: exact to it, and never a cell to hide

Interval = tuple[float, float]
Box = tuple[Interval, ...]
Point = tuple[float, ...]


@dataclass(frozen=True)
class Cell:
    """One figure of a group, with everything suppression needs to judge it."""

    key: str  # "total", "race=black", "org:eastside"
    measure_type: str  # count | amount | rate | average
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    hidden: bool = False  # e.g. a partner that does not share with funders: must not be shown
    # Partners whose values make up an aggregate figure; None for one partner's own figure.
    contributors: int | None = None
    # Hidden in an earlier publication of the same period: stays hidden, so that comparing
    # two publications (before and after a correction) gives nothing away.
    kept_hidden: bool = False
    # The viewer knows this figure already (a partner's own): shown exactly, never hidden, and
    # counted as known when protecting the rest.
    known: bool = False
    # What each partner put into the figure: (partner key, quantities) with the quantities a
    # partner adds (count/amount: (value,); rate: (numerator, denominator); average: (value ×
    # weight, weight)). With them the partner rules are judged here; without, ``contributors``.
    parts: tuple[tuple[str, tuple[float, ...]], ...] | None = None
    # One partner's own figure (a partner breakdown's cell): the partner rules do not apply to
    # it alone, but its parts count in what the hidden cells of its breakdown add up to.
    partner: bool = False
    # Shown in an earlier publication of the period, and the partners that have reported (or
    # withdrawn) since would be given away by the difference: hidden.
    late: bool = False
    # Hidden as a complement by a sum outside this group (a cross-tab's row or column against
    # its one-way margin: models.analytics.cross_tabs): hidden from the start like a
    # complementary cell (not small), a coarsened rate hidden whole. Where it was chosen is not
    # this group's business, so nothing is assumed of its size beyond that.
    complement: bool = False


@dataclass(frozen=True)
class Shown:
    """A figure as a viewer may see it."""

    key: str
    value: float | None  # None unless published exactly
    n: float | None  # count base shown (count value / rate & average denominator) or None
    marker: str | None  # None | "<10" | "*" | "<5%" | ">95%" | "<4 partners" | "‡" | "†"
    # None | primary | complementary | coarsened | withheld | few_partners | dominance |
    # earlier_vintage
    reason: str | None


def primary_marker(threshold: int) -> str:
    """The marker of a cell hidden because it counts fewer than `threshold` people."""
    return f"<{threshold}"


def few_outcome_marker(threshold: int) -> str:
    """The marker of a rate hidden because fewer than `threshold` of its people have (or lack)
    the outcome, though the group itself is not small: "<10" would say the group is."""
    return f"<{threshold} with/without"


def partners_needed(min_contributors: int, insiders: bool = True) -> int:
    """How many partners a figure shown below backbone needs. A partner reads every such figure
    and knows its own share, so with ``insiders`` what is left once any one partner takes its
    share away must still come from ``min_contributors`` partners: one more."""
    return min_contributors + 1 if insiders and min_contributors >= 2 else min_contributors


def few_partners_marker(needed: int) -> str:
    """The marker of a figure hidden because fewer than `needed` partners make it."""
    return f"<{needed} partners"


def _few_partners_text(needed: int) -> str:
    return gettext(
        "fewer than %(needed)s partners reported it — hidden so that no partner's own figure "
        "can be seen or worked out, even by another partner who takes its own share away",
        needed=needed,
    )


def dominance_text() -> str:
    return gettext(
        "one or a few partners make up nearly all of it — hidden so that no partner's figure "
        "can be estimated from it"
    )


def legend(
    threshold: int = DEFAULT_THRESHOLD,
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS,
    insiders: bool = True,
) -> dict[str, str]:
    """Plain-language explanation of every marker, for the settings a view uses, in the
    reader's language (the markers themselves are codes and stay as they are)."""
    needed = partners_needed(min_contributors, insiders)
    return {
        primary_marker(threshold): gettext(
            "fewer than %(threshold)s people — hidden to protect privacy", threshold=threshold
        ),
        few_outcome_marker(threshold): gettext(
            "fewer than %(threshold)s of the people counted have (or lack) the outcome — hidden "
            "so that they cannot be singled out",
            threshold=threshold,
        ),
        few_partners_marker(needed): _few_partners_text(needed),
        DOMINANCE_MARKER: dominance_text(),
        COMPLEMENT_MARKER: gettext(
            "hidden so that a small number or a partner's figure cannot be worked out from the "
            "total and the figures shown (or not shared by the partner)"
        ),
        KEPT_MARKER: gettext(
            "hidden in an earlier publication of this period and kept hidden, so that comparing "
            "publications gives nothing away"
        ),
        LATE_MARKER: gettext(
            "changed since this period was published by the reports of too few partners: the "
            "difference would be their figures"
        ),
        NOT_PUBLISHED_MARKER: gettext(
            "the backbone team has not published this period yet: initiative figures appear "
            "outside the backbone team once it does (figures that moved with every report "
            "could be subtracted from one another)"
        ),
        LOW_MARKER: gettext("under 5% — the exact rate would single out a handful of people"),
        HIGH_MARKER: gettext("over 95% — the exact rate would single out a handful of people"),
        INPUTS_MARKER: gettext(
            "computed from a figure that is hidden here — hidden too, so that the hidden figure "
            "cannot be worked back from this one and the others shown"
        ),
        UNDEFINED_MARKER: gettext(
            "no figure: the formula has none for these inputs (a division by zero, or a result "
            "out of range)"
        ),
    }


LEGEND = legend(DEFAULT_THRESHOLD)


def explain(marker: str) -> str:
    """The plain-language meaning of one marker, whatever setting produced it."""
    if marker.startswith("<") and marker[1:].isdigit():
        return legend(int(marker[1:]))[marker]
    if marker.startswith("<") and marker.endswith(" with/without") and marker[1:-13].isdigit():
        return legend(int(marker[1:-13]))[marker]
    if marker.startswith("<") and marker.endswith(" partners") and marker[1:-9].isdigit():
        return _few_partners_text(int(marker[1:-9]))
    return legend(DEFAULT_THRESHOLD).get(marker) or gettext("hidden to protect privacy")


def shown_as_is(cell: Cell) -> Shown:
    """For backbone views: everything published, no markers."""
    value, n = as_is(cell.measure_type, cell.value, cell.numerator, cell.denominator)
    return Shown(cell.key, value, n, None, None)


def as_is(
    measure_type: str, value: float | None, numerator: float | None, denominator: float | None
) -> tuple[float | None, float | None]:
    """A figure's value and n as :func:`shown_as_is` shows them, from its parts."""
    shown = value
    if shown is None and measure_type == "rate" and denominator and numerator is not None:
        shown = 100.0 * numerator / denominator
    if measure_type == "count":
        return shown, value
    if measure_type in ("rate", "average"):
        return shown, denominator
    return shown, None


def suppress_group(
    total: Cell,
    breakdowns: Mapping[str, Sequence[Cell]],
    threshold: int,
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS,
    dominance_percent: float = 0.0,
    insiders: bool = True,
) -> tuple[Shown, dict[str, list[Shown]]]:
    """The group as anyone below backbone may see it: small numbers hidden, figures that too
    few partners make, or that one or a few partners dominate, hidden (judged from a cell's
    ``parts``, else its ``contributors``), and enough other cells hidden that no hidden number
    can be worked out from the total, and that what the hidden cells of a breakdown add up to
    (the total minus what is shown) passes the partner rules as a figure of its own.

    The partner rules (see :func:`_partner_rule`): a figure needs ``min_contributors``
    partners; under the p %-rule (``dominance_percent``; 0 switches it off) no contributor may
    estimate another's share to within p %. With ``insiders`` (the viewers include partners,
    who know their own shares) every rule must still hold once any one partner's share is
    taken away: one more partner, a remainder of at least ``threshold`` people, and the p %-rule
    against two partners pooling what they know.

    Cells without a figure (value None; a rate or average without a denominator) are shown
    empty and take no part. A cell with ``hidden=True`` is never shown ("*", "withheld").
    Output keeps the input's order; the result depends only on the input.
    """
    rules = _rules(total, breakdowns, threshold, min_contributors, dominance_percent, insiders)
    total_slot = _slot(total, rules, index=-1)
    if total_slot is None:
        total_slot = _absent_total(total, breakdowns, rules)
    groups: dict[str, list[_Slot]] = {}
    for name in sorted(breakdowns):
        slots = [_slot(c, rules, index=i) for i, c in enumerate(breakdowns[name])]
        keys = [c.key for c in breakdowns[name]]
        if len(set(keys)) != len(keys):
            raise ValueError(f"breakdown {name!r} repeats a key")
        real = [s for s in slots if s is not None]
        rest = _remainder(total_slot, real, rules)
        groups[name] = real + ([rest] if rest else [])
    _protect(total_slot, groups, rules)
    shown_total = _shown(total, total_slot, rules)
    shown_parts: dict[str, list[Shown]] = {}
    for name, cells in breakdowns.items():
        by_index = {s.index: s for s in groups[name] if s.cell is not None}
        shown_parts[name] = [_shown(c, by_index.get(i), rules) for i, c in enumerate(cells)]
    return shown_total, shown_parts


# --- the cells as the attacker sees them ----------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    measure: str
    threshold: int
    min_contributors: int
    dominance_percent: float
    insiders: bool
    whole: bool  # quantities are whole numbers (people), so intervals are integer intervals
    floor: float  # least value an amount may take (0 unless the group has negative amounts)
    tol: float  # 0 for whole numbers; a rounding allowance for amounts and fractional weights


@dataclass(eq=False)
class _Slot:
    """One cell in the attacker's equations (a breakdown's unallocated remainder has no cell)."""

    key: str
    index: int  # position in its breakdown; -1 for the total
    cell: Cell | None
    point: Point  # the true quantities: (value,) or (weight,) or (numerator, den - numerator)
    size: float  # what "smallest" means when a complement is chosen
    small: bool  # would be primary-suppressed on its own
    kind: str
    signs: tuple[int, ...] = (1,)
    cap: float = _INF  # complementary: no bigger than the cells left published (the algorithm)


def _rules(
    total: Cell,
    breakdowns: Mapping[str, Sequence[Cell]],
    threshold: int,
    min_contributors: int,
    dominance_percent: float,
    insiders: bool,
) -> _Rules:
    measure = total.measure_type
    if measure not in MEASURE_TYPES:
        raise ValueError(f"unknown measure_type {measure!r}")
    if int(threshold) != threshold or threshold < 1:
        raise ValueError(f"threshold must be a whole number ≥ 1, got {threshold!r}")
    if int(min_contributors) != min_contributors or min_contributors < 1:
        raise ValueError(f"min_contributors must be a whole number ≥ 1, got {min_contributors!r}")
    if not 0 <= dominance_percent <= 100:
        raise ValueError(f"dominance_percent must lie in 0..100, got {dominance_percent!r}")
    cells = [total, *itertools.chain.from_iterable(breakdowns.values())]
    for c in cells:
        if c.measure_type != measure:
            raise ValueError(f"{c.key}: measure_type {c.measure_type!r}, the total is {measure!r}")
    whole = measure in ("count", "rate")
    floor = 0.0
    if measure == "average":
        weights = [c.denominator for c in cells if c.denominator is not None]
        whole = all(float(w).is_integer() for w in weights)
    if measure == "amount":
        amounts = [c.value for c in cells if c.value is not None]
        if any(a < 0 for a in amounts):
            floor = -_INF
    scale = max([1.0] + [abs(c.value or 0) + abs(c.denominator or 0) for c in cells])
    return _Rules(
        measure,
        int(threshold),
        int(min_contributors),
        float(dominance_percent),
        bool(insiders),
        whole,
        floor,
        0.0 if whole else 1e-9 * scale,
    )


def _whole(x: float, key: str, what: str) -> int:
    if not math.isfinite(x) or x < 0 or not float(x).is_integer():
        raise ValueError(f"{key}: {what} must be a whole number ≥ 0, got {x!r}")
    return int(x)


def _slot(cell: Cell, rules: _Rules, index: int) -> _Slot | None:
    """The cell's true quantities and its primary treatment; None when it carries no figure."""
    m, t = rules.measure, rules.threshold
    if not _has_figure(cell):
        return None
    point: Point
    size: float
    if m == "count":
        assert cell.value is not None  # _has_figure
        v = _whole(cell.value, cell.key, "value")
        point, size, small = (v,), v, v < t
    elif m == "rate":
        if cell.numerator is None:
            raise ValueError(f"{cell.key}: a rate needs its numerator")
        assert cell.denominator is not None  # _has_figure
        num = _whole(cell.numerator, cell.key, "numerator")
        den = _whole(cell.denominator, cell.key, "denominator")
        if num > den:
            raise ValueError(f"{cell.key}: numerator {num} is greater than denominator {den}")
        point, size, small = (num, den - num), den, min(den, num, den - num) < t
    elif m == "average":
        weight = cell.denominator
        assert weight is not None  # _has_figure
        if not math.isfinite(weight) or weight <= 0:
            raise ValueError(f"{cell.key}: an average's denominator must be > 0, got {weight!r}")
        w = int(weight) if rules.whole else float(weight)
        point, size, small = (w,), w, w < t
    else:
        assert cell.value is not None  # _has_figure
        if not math.isfinite(cell.value):
            raise ValueError(f"{cell.key}: amount {cell.value!r} is not a number")
        point, size, small = (float(cell.value),), abs(cell.value), False
    kind = _EXACT
    partner_rule = None if cell.partner else _cell_partner_rule(cell, rules)
    if cell.known:
        kind = _KNOWN
    elif cell.hidden:
        kind = WITHHELD
    elif partner_rule:
        # The attacker learns nothing of its size from the marker: protected like a withheld
        # cell, so no other cell or the total gives it away.
        kind = partner_rule
    elif cell.late:
        kind = LATE_REPORTS  # protected like a withheld cell
    elif small:
        # A cell an earlier vintage hid is not coarsened now: its band and n would tell more.
        coarsen = m == "rate" and not cell.kept_hidden
        kind = _coarsening(point, t) if coarsen else PRIMARY
    elif cell.kept_hidden:
        kind = EARLIER_VINTAGE  # protected like a withheld cell
    if cell.complement and kind == _EXACT:
        kind = COMPLEMENTARY
    elif cell.complement and kind in (_LOW, _HIGH):
        kind = PRIMARY
    return _Slot(cell.key, index, cell, point, size, small, kind, (1,) * len(point))


def judge_partners(
    parts: Sequence[tuple[float, ...]],
    measure_type: str,
    threshold: int,
    min_contributors: int,
    dominance_percent: float,
    insiders: bool = True,
) -> str | None:
    """Why a figure made of these partners' shares may not be shown on its own (FEW_PARTNERS,
    DOMINANCE), or None: the partner rules of :func:`suppress_group`, for figures that are not
    cells of a group (e.g. what changed between two moments)."""
    rules = _Rules(
        measure_type,
        int(threshold),
        int(min_contributors),
        float(dominance_percent),
        bool(insiders),
        measure_type in ("count", "rate"),
        0.0,
        0.0 if measure_type in ("count", "rate") else 1e-9,
    )
    return _partner_rule(list(parts), rules, people=True)


def _cell_partner_rule(cell: Cell, rules: _Rules) -> str | None:
    if cell.parts is not None:
        return _partner_rule([q for _, q in cell.parts], rules, people=True)
    c = cell.contributors
    if c is None or c <= 0:
        return None
    return FEW_PARTNERS if c < partners_needed(rules.min_contributors, rules.insiders) else None


def _partner_rule(parts: Sequence[tuple[float, ...]], rules: _Rules, people: bool) -> str | None:
    """Why a figure made of these partners' shares may not be shown, or None.

    FEW_PARTNERS: fewer partners than needed (see :func:`partners_needed`). DOMINANCE: the
    p %-rule fails — what is left once the largest shares are taken away (two, or three when
    partners are among the viewers, as two may pool what they know) is under p % of the
    largest, so the largest is known to within p % — or, with ``people``, taking any one
    partner's share away leaves fewer than T people (or, for a rate, fewer than T with or
    without the outcome) that the others report.
    """
    c = len(parts)
    if c == 0:
        return None
    if c < rules.min_contributors or (rules.insiders and 1 < c <= rules.min_contributors):
        return FEW_PARTNERS
    m = rules.measure
    if people and rules.insiders and c > 1 and m != "amount":
        # What is left is smallest without the largest share (of each quantity).
        t, tol = rules.threshold, rules.tol
        if m == "rate":
            num, den = sum(q[0] for q in parts), sum(q[1] for q in parts)
            if (
                den - max(q[1] for q in parts) < t
                or num - max(q[0] for q in parts) < t
                or (den - num) - max(q[1] - q[0] for q in parts) < t
            ):
                return DOMINANCE
        elif sum(q[-1] for q in parts) - max(q[-1] for q in parts) < t - tol:
            return DOMINANCE  # a count's value, an average's weight
    p = rules.dominance_percent
    if p > 0 and c > 1:
        top = 3 if rules.insiders else 2
        for d in range(len(parts[0])):
            xs = [abs(q[d]) for q in parts]
            largest = heapq.nlargest(top, xs)
            if sum(xs) - sum(largest) < p / 100 * largest[0] - rules.tol:
                return DOMINANCE
    return None


def _has_figure(cell: Cell) -> bool:
    """Whether the cell carries a figure suppression can judge (a rate or an average needs its
    denominator: without it nobody can tell how many people are behind it)."""
    if cell.measure_type == "rate":
        return cell.numerator is not None and bool(cell.denominator)
    if cell.measure_type == "average":
        return cell.value is not None and bool(cell.denominator)
    return cell.value is not None


def _coarsening(point: Point, t: int) -> str:
    """A small rate near 0 % or 100 % shows its band and n, if the band leaves the hidden
    numerator at least two possible values; otherwise it is hidden."""
    num, rem = point
    den = int(num + rem)  # a rate's quantities are whole numbers (see _slot)
    if den >= t:
        for kind, near in ((_LOW, 20 * num < den), (_HIGH, 20 * num > 19 * den)):
            if near and len(_band(kind, den, t)) >= 2:
                return kind
    return PRIMARY


def _band(kind: str, den: int, t: int) -> list[int]:
    """Numerators a reader cannot rule out for a rate shown as "<5%" (or ">95%") with this n.

    The band is 100·x/n < 5 for the rare side x, and since only a small rate is coarsened, the
    reader also knows x < T or n − x < T.
    """
    edge = (den - 1) // 20  # largest x with 20·x < n
    rare = set(range(min(edge, t - 1) + 1)) | set(range(max(den - t + 1, 0), edge + 1))
    return sorted(rare) if kind == _LOW else sorted(den - x for x in rare)


def _absent_total(total: Cell, breakdowns: Mapping[str, Sequence[Cell]], rules: _Rules) -> _Slot:
    """A total without a figure still ties the breakdowns together (they add up to the same
    unknown number); take the first breakdown's sum as its true value."""
    dims = 2 if rules.measure == "rate" else 1
    point: Point = (0,) * dims
    for name in sorted(breakdowns):
        slots = [_slot(c, rules, i) for i, c in enumerate(breakdowns[name])]
        real = [s for s in slots if s is not None]
        if real:
            point = tuple(sum(s.point[d] for s in real) for d in range(dims))
            break
    return _Slot(total.key, -1, total, point, _INF, False, _ABSENT, (1,) * dims)


def _remainder(total: _Slot, slots: list[_Slot], rules: _Rules) -> _Slot | None:
    """What a breakdown leaves unallocated (e.g. people of unknown race), or counts twice.

    It is never shown but the attacker may suspect it: a free quantity ≥ 0 on the cells' side
    (or, if the cells add up to more than the total, on the total's). When it counts few people
    it is protected like a cell, so "total minus the categories" cannot give it away.
    """
    dims = len(total.point)
    diff = [total.point[d] - sum(s.point[d] for s in slots) for d in range(dims)]
    if all(abs(x) <= rules.tol for x in diff):
        return None
    point = tuple(0 if abs(x) <= rules.tol else abs(x) for x in diff)
    signs = tuple(1 if x >= 0 else -1 for x in diff)
    small = rules.measure != "amount" and min(point) < rules.threshold
    return _Slot("(unallocated)", -2, None, point, _INF, small, WITHHELD, signs)


def _shown(cell: Cell, slot: _Slot | None, rules: _Rules) -> Shown:
    if slot is None or slot.kind == _ABSENT:
        if cell.hidden or cell.value is not None:  # not shared, or a value nobody can judge
            return Shown(cell.key, None, None, COMPLEMENT_MARKER, WITHHELD)
        return Shown(cell.key, None, None, None, None)
    kind = slot.kind
    if kind in (_EXACT, _KNOWN):
        return shown_as_is(cell)
    if kind == PRIMARY:
        small_group = rules.measure != "rate" or (cell.denominator or 0) < rules.threshold
        marker = (
            primary_marker(rules.threshold) if small_group else few_outcome_marker(rules.threshold)
        )
        return Shown(cell.key, None, None, marker, PRIMARY)
    if kind in (_LOW, _HIGH):
        marker = LOW_MARKER if kind == _LOW else HIGH_MARKER
        return Shown(cell.key, None, cell.denominator, marker, COARSENED)
    if kind == FEW_PARTNERS:
        needed = partners_needed(rules.min_contributors, rules.insiders)
        return Shown(cell.key, None, None, few_partners_marker(needed), FEW_PARTNERS)
    if kind == DOMINANCE:
        return Shown(cell.key, None, None, DOMINANCE_MARKER, DOMINANCE)
    if kind == EARLIER_VINTAGE:
        return Shown(cell.key, None, None, KEPT_MARKER, EARLIER_VINTAGE)
    if kind == LATE_REPORTS:
        return Shown(cell.key, None, None, LATE_MARKER, LATE_REPORTS)
    reason = COMPLEMENTARY if kind == COMPLEMENTARY else WITHHELD
    return Shown(cell.key, None, None, COMPLEMENT_MARKER, reason)


# --- complementary suppression --------------------------------------------------------------


def _is_variable(slot: _Slot) -> bool:
    return slot.kind not in (_EXACT, _KNOWN)


def _protect(total: _Slot, groups: dict[str, list[_Slot]], rules: _Rules) -> None:
    """Hide cells until nothing hidden can be pinned down; escalate when hiding cells is not
    enough: first drop what the markers of one breakdown say (all "withheld"), then hide the
    total with everything, then withhold everything."""
    level = 0
    if total.kind in (PRIMARY, WITHHELD, *_OWN_REASON):
        _hide_cells(groups)
        level = 1
    withheld_breakdowns: set[str] = set()
    cache: dict[tuple[object, ...], dict[_Slot, _Spreads] | None] = {}
    rounds = 2 * sum(len(s) for s in groups.values()) + 8
    for _ in range(rounds):
        pinned, total_pinned = _exposed(total, groups, rules, cache)
        if not pinned and not total_pinned:
            pinned = _dominated_remainders(total, groups, rules)
            if not pinned:
                return
        escalate = False
        for name, slots in groups.items():
            if not total_pinned and not any(s in pinned for s in slots):
                continue
            candidates = [
                s for s in slots if s.cell is not None and s.kind in (_EXACT, _LOW, _HIGH)
            ]
            hidden = [s for s in slots if s.cell is not None and s.kind in (PRIMARY, COMPLEMENTARY)]
            if candidates:
                pick = min(candidates, key=lambda s: (s.size, s.key, s.index))
                pick.kind = COMPLEMENTARY if pick.kind == _EXACT else PRIMARY
            elif name not in withheld_breakdowns and hidden:
                for s in hidden:
                    s.kind = WITHHELD
                withheld_breakdowns.add(name)
            else:
                escalate = True
        if escalate:
            if level == 0:
                if total.kind != _ABSENT:
                    total.kind = COMPLEMENTARY if total.kind == _EXACT else PRIMARY
                _hide_cells(groups)
                level = 1
            elif level == 1:
                if total.kind not in (_ABSENT, *_OWN_REASON):
                    total.kind = WITHHELD
                for slots in groups.values():
                    for s in slots:
                        if s.cell is not None and s.kind not in (*_OWN_REASON, _KNOWN):
                            s.kind = WITHHELD
                level = 2
            else:
                return  # everything is withheld: nothing left to show


# Hidden for a reason of their own, which their marker keeps saying when everything is withheld.
_OWN_REASON = (FEW_PARTNERS, DOMINANCE, EARLIER_VINTAGE, LATE_REPORTS)


def _dominated_remainders(
    total: _Slot, groups: dict[str, list[_Slot]], rules: _Rules
) -> set[_Slot]:
    """Hidden cells of a breakdown whose sum is a figure the partner rules forbid.

    With the total shown, the total minus a breakdown's shown cells is known: a figure made of
    the hidden cells (and what the breakdown leaves unallocated), partner by partner. When it
    comes from too few partners, or one dominates it, one more cell must be hidden. Judged
    only where every cell and the total carry their parts.
    """
    out: set[_Slot] = set()
    if total.kind not in (_EXACT, _KNOWN) or total.cell is None or total.cell.parts is None:
        return out
    for slots in groups.values():
        real = [s for s in slots if s.cell is not None]
        shown = [s for s in real if s.kind in (_EXACT, _LOW, _HIGH, _KNOWN)]
        if not shown or len(shown) == len(real) and not any(s.cell is None for s in slots):
            continue  # all hidden (nothing subtracted), or nothing hidden nor unallocated
        if any(s.cell is None or s.cell.parts is None for s in real):
            continue
        left: dict[str, list[float]] = {k: list(q) for k, q in total.cell.parts}
        for s in shown:
            for k, q in _checked_parts(s):
                row = left.setdefault(k, [0.0] * len(q))
                for d, x in enumerate(q):
                    row[d] -= x
        parts = [tuple(q) for q in left.values() if any(abs(x) > rules.tol for x in q)]
        if _partner_rule(parts, rules, people=False):
            out.update(s for s in real if _is_variable(s))
            out.update(s for s in slots if s.cell is None)
            if not any(_is_variable(s) for s in real):
                out.add(shown[0])  # nothing hidden yet: the unallocated part alone is the figure
    return out


def _checked_parts(slot: _Slot) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """A cell's parts, where the caller has checked that every cell carries them."""
    assert slot.cell is not None and slot.cell.parts is not None
    return slot.cell.parts


def _hide_cells(groups: dict[str, list[_Slot]]) -> None:
    """The total is hidden: hide every cell, each with the marker that is true of it."""
    for slots in groups.values():
        for s in slots:
            if s.kind == _EXACT:
                s.kind = COMPLEMENTARY
            elif s.kind in (_LOW, _HIGH):
                s.kind = PRIMARY


def _exposed(
    total: _Slot,
    groups: dict[str, list[_Slot]],
    rules: _Rules,
    cache: dict[tuple[object, ...], dict[_Slot, _Spreads] | None],
) -> tuple[set[_Slot], bool]:
    """Hidden cells the attacker can pin down (one quantity to one value), and whether the
    total (when not shown exactly) can be pinned down. With the total shown, breakdowns are
    independent, so one that has not changed since the last round is not worked out again."""
    _set_caps(groups, rules)
    boxes: dict[_Slot, list[Box]] = {}
    for slot in itertools.chain([total], *groups.values()):
        if _is_variable(slot):
            boxes[slot] = _boxes(slot, rules)
    targets = (
        [total.point] if total.kind == _EXACT else _total_candidates(total, boxes[total], rules)
    )
    merged: dict[_Slot, _Spreads] = {}
    total_spreads = _Spreads(_quantities(total, rules), rules.tol)
    for target in targets:
        found: dict[_Slot, _Spreads] = {}
        for name, slots in groups.items():
            key = (name, *((s.kind, s.cap) for s in slots)) if total.kind == _EXACT else None
            if key is not None and key in cache:
                spreads = cache[key]
                if spreads is None:
                    break
                found.update(spreads)
                continue
            fixed = [s for s in slots if not _is_variable(s)]
            variables = [(s, boxes[s]) for s in slots if _is_variable(s)]
            rhs = tuple(
                target[d] - sum(s.signs[d] * s.point[d] for s in fixed) for d in range(len(target))
            )
            spreads = _scan(variables, rhs, rules, merged)
            if key is not None:
                cache[key] = spreads
            if spreads is None:
                break
            found.update(spreads)
        else:
            for slot, slot_spreads in found.items():
                merged.setdefault(slot, _Spreads(_quantities(slot, rules), rules.tol)).merge(
                    slot_spreads
                )
            total_spreads.add(tuple((x, x) for x in target))
    pinned: set[_Slot] = set()
    for slots in groups.values():
        for s in slots:
            if not _is_variable(s) or (s.cell is None and not s.small):
                continue
            if s not in merged or not merged[s].settled:
                pinned.add(s)
        real = [s for s in slots if s.cell is not None and _is_variable(s)]
        unknown_rest = any(s.cell is None and not s.small for s in slots)
        if total.kind == _EXACT and len(real) == 1 and not unknown_rest:
            # Alone, it is "total minus the rest" to anyone who takes the breakdown as complete
            # (give or take a few unallocated people): hide a second cell whatever the model says.
            pinned.add(real[0])
    total_pinned = total.kind not in (_EXACT, _ABSENT) and not total_spreads.settled
    return pinned, total_pinned


def _set_caps(groups: dict[str, list[_Slot]], rules: _Rules) -> None:
    """A complementary cell was the smallest candidate when chosen, so it is no bigger than any
    cell still published (smaller, if the tie-break by key would have chosen that one)."""
    for slots in groups.values():
        published = [s for s in slots if s.cell is not None and s.kind in (_EXACT, _LOW, _HIGH)]
        for s in slots:
            s.cap = _INF
            if s.kind != COMPLEMENTARY or (s.cell is not None and s.cell.complement):
                continue
            for p in published:
                before = (s.key, s.index) < (p.key, p.index)
                s.cap = min(s.cap, p.size if before or not rules.whole else p.size - 1)
            if s.cap < s.size:
                s.cap = _INF  # cannot happen with this algorithm; never model a false bound


def _boxes(slot: _Slot, rules: _Rules) -> list[Box]:
    """The cell's possible quantities as the attacker sees them, as a union of boxes, the
    box holding the true quantities first."""
    t, kind = rules.threshold, slot.kind
    if slot.cell is None or kind == _ABSENT:
        boxes: list[Box] = [tuple((0, _INF) for _ in slot.point)]
    elif rules.measure == "rate":
        boxes = _rate_boxes(slot, t)
    else:
        people = rules.measure != "amount"
        least = {"count": 0, "average": 1 if rules.whole else 0, "amount": rules.floor}[
            rules.measure
        ]
        top_small = t - 1 if rules.whole else t
        if kind == PRIMARY:
            boxes = [((least, top_small),)]
        elif kind == COMPLEMENTARY:
            low = t if people else max(least, -slot.cap)
            boxes = [((low, slot.cap),)]
        else:
            boxes = [((least, _INF),)]
    boxes = [b for b in boxes if all(lo <= hi for lo, hi in b)]
    boxes.sort(key=lambda b: not _contains(b, slot.point))
    return boxes


def _rate_boxes(slot: _Slot, t: int) -> list[Box]:
    """Boxes over (numerator, denominator − numerator), both whole, denominator ≥ 1."""
    num, rem = slot.point
    kind = slot.kind
    if kind == PRIMARY:  # few with the outcome, or few without
        return [
            ((0, t - 1), (1, _INF)),
            ((1, t - 1), (0, _INF)),
            ((1, _INF), (0, t - 1)),
            ((0, _INF), (1, t - 1)),
        ]
    if kind == COMPLEMENTARY:
        if slot.cap == _INF:
            return [((t, _INF), (t, _INF))]
        cap = slot.cap  # numerator + remainder ≤ cap: two boxes inside that triangle
        return [((t, num), (t, cap - num)), ((t, cap - rem), (t, rem))]
    if kind in (_LOW, _HIGH):
        den = int(num + rem)  # a rate's quantities are whole numbers (see _slot)
        band = sorted(_band(kind, den, t), key=lambda x: (abs(x - num), x))[:_NEAREST_POINTS]
        return [((x, x), (den - x, den - x)) for x in band]
    return [((0, _INF), (1, _INF)), ((1, _INF), (0, _INF))]  # withheld: anything, den ≥ 1


def _contains(box: Box, point: Point) -> bool:
    return all(lo <= x <= hi for (lo, hi), x in zip(box, point, strict=True))


def _total_candidates(total: _Slot, boxes: list[Box], rules: _Rules) -> list[Point]:
    """Values of a total not shown exactly that the attacker cannot rule out at a glance: its
    true value first, then its neighbours (a sample: enough to show it is not pinned)."""
    if total.kind in (_LOW, _HIGH):
        return [tuple(lo for lo, _ in b) for b in boxes]
    step = 1 if rules.whole else max(1.0, abs(total.point[0]) / 100)
    shifts: list[tuple[int, ...]]
    if len(total.point) == 2:
        shifts = [(0, 0), *((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0))]
    else:
        shifts = [(s,) for s in (0, -1, 1, -2, 2)]
    out = []
    for shift in shifts:
        p = tuple(x + s * step for x, s in zip(total.point, shift, strict=True))
        if any(_contains(b, p) for b in boxes):
            out.append(p)
    return out


# --- the attacker's arithmetic --------------------------------------------------------------


class _Spread:
    """The values seen for one quantity: one value, or many."""

    __slots__ = ("many", "value")

    def __init__(self) -> None:
        self.value: float | Fraction | None = None
        self.many = False

    def add(self, lo: float | Fraction, hi: float | Fraction, tol: float) -> None:
        if self.many:
            return
        if hi - lo > tol:
            self.many = True
        elif self.value is None:
            self.value = lo
        else:
            gap = lo - self.value
            if gap > tol or -gap > tol:  # abs(gap) > tol: abs() of a float | Fraction is untyped
                self.many = True


class _Spreads:
    """What the attacker can narrow one cell down to, quantity by quantity."""

    def __init__(self, quantities: tuple[str, ...], tol: float) -> None:
        self.q = {name: _Spread() for name in quantities}
        self.tol = tol

    @property
    def settled(self) -> bool:
        return all(s.many for s in self.q.values())

    def add(self, ranges: Sequence[Interval]) -> None:
        q, tol = self.q, self.tol
        if self.settled:
            return
        if len(ranges) == 1:
            q["value"].add(*ranges[0], tol)
            return
        (a, b), (c, d) = ranges
        q["num"].add(a, b, 0)
        q["rem"].add(c, d, 0)
        if "den" in q:
            q["den"].add(a + c, b + d, 0)
        if "pct" in q and not q["pct"].many:
            if a == b == 0:
                q["pct"].add(Fraction(0), Fraction(0), 0)
            elif c == d == 0:
                q["pct"].add(Fraction(1), Fraction(1), 0)
            elif a == b and c == d:
                share = Fraction(int(a), int(a + c))
                q["pct"].add(share, share, 0)
            else:
                q["pct"].many = True

    def merge(self, other: _Spreads) -> None:
        for name, spread in other.q.items():
            if spread.many:
                self.q[name].many = True
            elif spread.value is not None:
                self.q[name].add(spread.value, spread.value, self.tol)


def _quantities(slot: _Slot, rules: _Rules) -> tuple[str, ...]:
    """The quantities of a cell that must not be pinned (a coarsened rate shows its n)."""
    if rules.measure != "rate":
        return ("value",)
    if slot.cell is None or slot.kind == _ABSENT:
        return ("num", "rem")
    if slot.kind in (_LOW, _HIGH):
        return ("num", "rem", "pct")
    return ("num", "rem", "den", "pct")


def _scan(
    variables: Sequence[tuple[_Slot, list[Box]]],
    rhs: Point,
    rules: _Rules,
    known: Mapping[_Slot, _Spreads],
) -> dict[_Slot, _Spreads] | None:
    """Ranges each hidden cell of one breakdown takes over the box combinations examined;
    None if no combination fits the sums."""
    if not variables:
        return {} if all(abs(x) <= rules.tol for x in rhs) else None
    spreads = {s: _Spreads(_quantities(s, rules), rules.tol) for s, _ in variables}
    feasible = False
    for combo in _combinations([len(b) for _, b in variables], _COMBINATION_BUDGET):
        chosen = [boxes[i] for (_, boxes), i in zip(variables, combo, strict=True)]
        ranges = _solve(chosen, [s.signs for s, _ in variables], rhs, rules.tol)
        if ranges is None:
            continue
        feasible = True
        for (slot, _), r in zip(variables, ranges, strict=True):
            spreads[slot].add(r)
        if all(spreads[s].settled or (s in known and known[s].settled) for s, _ in variables):
            break
    return spreads if feasible else None


def _combinations(sizes: Sequence[int], budget: int) -> Iterator[tuple[int, ...]]:
    """Box choices: the true boxes first, then those that change one cell, two cells, …"""
    base = [0] * len(sizes)
    yield tuple(base)
    count = 1
    movable = [i for i, n in enumerate(sizes) if n > 1]
    for depth in range(1, len(movable) + 1):
        for subset in itertools.combinations(movable, depth):
            for choice in itertools.product(*(range(1, sizes[i]) for i in subset)):
                combo = base.copy()
                for i, c in zip(subset, choice, strict=True):
                    combo[i] = c
                yield tuple(combo)
                count += 1
                if count >= budget:
                    return


def _solve(
    boxes: Sequence[Box], signs: Sequence[tuple[int, ...]], rhs: Point, tol: float
) -> list[list[Interval]] | None:
    """Exact ranges of each variable under Σ sign·x = rhs, one sum per dimension, each x in
    its box; None if the sums cannot be met. For whole numbers every value in a range occurs."""
    out: list[list[Interval]] = [[] for _ in boxes]
    for d, target in enumerate(rhs):
        lows, highs = [], []
        for box, sign in zip(boxes, signs, strict=True):
            lo, hi = box[d]
            if sign[d] > 0:
                lows.append(lo)
                highs.append(hi)
            else:
                lows.append(-hi)
                highs.append(-lo)
        low_sum, high_sum = _Sum(lows), _Sum(highs)
        if low_sum.total > target + tol or high_sum.total < target - tol:
            return None
        for i, sign in enumerate(signs):
            zlo = max(lows[i], target - high_sum.without(i))
            zhi = min(highs[i], target - low_sum.without(i))
            if zlo > zhi:  # rounding slack on fractional quantities
                zlo = zhi = min(max(target - high_sum.without(i), lows[i]), highs[i])
            out[i].append((zlo, zhi) if sign[d] > 0 else (-zhi, -zlo))
    return out


class _Sum:
    """A sum of bounds some of which are infinite (all of one sign), with leave-one-out."""

    def __init__(self, xs: Sequence[float]) -> None:
        self.xs = xs
        self.finite = sum(x for x in xs if math.isfinite(x))
        self.infinite = [x for x in xs if not math.isfinite(x)]
        self.total = self.infinite[0] if self.infinite else self.finite

    def without(self, i: int) -> float:
        x = self.xs[i]
        if math.isfinite(x):
            return self.infinite[0] if self.infinite else self.finite - x
        return self.infinite[0] if len(self.infinite) > 1 else self.finite
