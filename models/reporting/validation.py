"""Validation of reported values (docs/architecture.md: Data rules): hard errors refuse, warnings flag.

Errors (wrong type, not finite, negative or fractional counts, numerator above denominator,
outside the indicator's valid range, unknown indicator or category, not among the member's
obligations) refuse the whole write. Warnings (breakdowns that do not add up to the total, a
value far from the member's own history) are stored as flags and shown, never blocking.

The same functions check a JSON request and every row of a spreadsheet import.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from math import isfinite
from operator import itemgetter
from typing import NamedTuple, cast

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from models.core.i18n import current_locale, format_number, gettext, short_number
from models.tables.indicator import (
    TOTAL,
    Category,
    Dimension,
    Indicator,
    indicator_dimensions,
    split_pair,
)
from models.tables.initiative import Period
from models.tables.reporting import Submission, Value

FLAG_SUM = "sum_mismatch"
FLAG_OUTLIER = "outlier"
FLAG_JUMP = "jump"
SUM_TOLERANCE = 1e-6

# (member id, indicator id) → [(period start, approved total)], oldest first.
History = dict[tuple[int, int], list[tuple[date, float]]]
# What a total is compared with, per (member id, indicator id, how many approved totals come
# before its period): the median of those totals, their robust scale (None: too few totals, or
# no spread) and the latest of them (None: none). A member's reports of several new quarters
# share them; kept by a caller (an import) for one History and one set of settings.
PastFigures = dict[tuple[int, int, int], tuple[float | None, float | None, float | None]]


class ValueInput(NamedTuple):
    """One value as a client sends it (JSON or a spreadsheet row).

    A named tuple, not a dataclass: imports build one per row, and a tuple is several times
    cheaper to create than a frozen dataclass.
    """

    indicator: str
    disaggregation: str = TOTAL
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    note: str | None = None
    remove: bool = False


@dataclass(frozen=True)
class IndicatorSpec:
    id: int
    code: str
    measure_type: str
    valid_min: float | None
    valid_max: float | None
    decimals: int
    categories: dict[str, int]  # "race=black" → category id, for the allowed dimensions
    unit: str = ""
    computed: bool = False  # figures from other indicators' (an expression): takes no values
    # Cross-tab cell key → (row key, column key): "race_x_income=black.low" → ("race=black",
    # "income=low"), for the cross-tabs the indicator collects.
    pairs: dict[str, tuple[str, str]] = field(default_factory=dict)

    def figure(self, value: float) -> str:
        """A value as a message shows it: the indicator's decimals and unit ("6.75 %"), not the
        stored float's digits."""
        text = format_number(value, digits=self.decimals)
        return f"{text} {self.unit}" if self.unit else text

    @cached_property
    def breakdowns(self) -> dict[str, tuple[str, ...]]:
        """Dimension code → its category keys ("race" → ("race=black", …)), for sum checks."""
        dimensions: dict[str, list[str]] = defaultdict(list)
        for key in self.categories:
            dimensions[key.split("=", 1)[0]].append(key)
        return {dim: tuple(keys) for dim, keys in dimensions.items()}


class CleanValue(NamedTuple):
    """A checked value, ready to write (a named tuple for the same reason as ValueInput)."""

    indicator_id: int
    measure_type: str
    category_id: int | None
    disaggregation: str
    value: float
    numerator: float | None
    denominator: float | None
    note: str | None

    @property
    def key(self) -> tuple[int, str]:
        return (self.indicator_id, self.disaggregation)


# A CleanValue from a plain tuple, without the per-call Python of a named tuple's constructor.
_clean = functools.partial(tuple.__new__, CleanValue)


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: ``column`` is the input's field name."""

    index: int
    column: str
    reason: str


@dataclass(frozen=True)
class Warning:
    indicator: str
    disaggregation: str
    code: str
    message: str


@dataclass
class CheckedValues:
    clean: list[CleanValue] = field(default_factory=list)
    removals: list[tuple[int, str]] = field(default_factory=list)  # (indicator_id, disaggregation)
    problems: list[Problem] = field(default_factory=list)
    # Every input that names a cell (a known indicator and category), refused or not:
    # index → (indicator_id, disaggregation). A caller checking in batches (imports) needs
    # them to find a cell given twice across batches even when its first occurrence was refused.
    cells: dict[int, tuple[int, str]] = field(default_factory=dict)


# Statements built once (README, "Scaling"): every report's read and write asks them, and
# building a select with its joins cost more CPU than running it.
_ROWS, _COLUMNS = aliased(Dimension), aliased(Dimension)  # a cross-tab's components
_INDICATOR_SPECS = select(
    Indicator.id,
    Indicator.code,
    Indicator.measure_type,
    Indicator.valid_min,
    Indicator.valid_max,
    Indicator.decimals,
    Indicator.unit,
    Indicator.expression,
).where(Indicator.initiative_id == bindparam("initiative_id"))
_CATEGORY_SPECS = (
    select(
        indicator_dimensions.c.indicator_id,
        Dimension.code,
        Category.code,
        Category.id,
        _ROWS.code,
        _COLUMNS.code,
    )
    .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
    .join(Category, Category.dimension_id == Dimension.id)
    .outerjoin(_ROWS, _ROWS.id == Dimension.row_dimension_id)
    .outerjoin(_COLUMNS, _COLUMNS.id == Dimension.column_dimension_id)
    .where(Dimension.initiative_id == bindparam("initiative_id"))
)


def indicator_specs(*, session: Session, initiative_id: int) -> dict[str, IndicatorSpec]:
    """Everything validation needs about an initiative's indicators, in two queries."""
    asked = {"initiative_id": initiative_id}
    indicators = session.execute(_INDICATOR_SPECS, asked).all()
    categories: dict[int, dict[str, int]] = defaultdict(dict)
    pairs: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for indicator_id, dim_code, cat_code, cat_id, row_code, column_code in session.execute(
        _CATEGORY_SPECS, asked
    ):
        key = f"{dim_code}={cat_code}"
        categories[indicator_id][key] = cat_id
        if row_code is not None and column_code is not None:
            row, column = split_pair(cat_code)
            pairs[indicator_id][key] = (f"{row_code}={row}", f"{column_code}={column}")
    return {
        row.code: IndicatorSpec(
            id=row.id,
            code=row.code,
            measure_type=row.measure_type,
            valid_min=row.valid_min,
            valid_max=row.valid_max,
            decimals=row.decimals,
            categories=categories.get(row.id, {}),
            unit=row.unit or "",
            computed=row.expression is not None,
            pairs=pairs.get(row.id, {}),
        )
        for row in indicators
    }


def _number(raw: object, column: str, index: int, problems: list[Problem]) -> float | None:
    """A finite float, or None; strings, booleans, NaN and infinities are problems."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append(Problem(index, column, gettext("must be a number")))
        return None
    number = float(raw)
    if not math.isfinite(number):
        problems.append(Problem(index, column, gettext("must be a finite number")))
        return None
    return number


# ValueInput's fields as a plain tuple: an import builds one per row (a tuple's slice costs
# a third of a named tuple's constructor), and check_values only unpacks them.
ValueFields = tuple[str, str, float | None, float | None, float | None, str | None, bool]


def check_values(
    inputs: Iterable[ValueInput] | Iterable[ValueFields],
    *,
    specs: dict[str, IndicatorSpec],
    obligations: AbstractSet[int] | None,
) -> CheckedValues:
    """Validate every input (collecting all problems, not only the first).

    An import checks every row here, so the loop reads each input once (a tuple unpacked) and
    makes each clean value without a named tuple's Python-level constructor."""
    result = CheckedValues()
    problems, cells, clean = result.problems, result.cells, result.clean
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(inputs):
        code, disaggregation, value, numerator, denominator, note, remove = item
        before = len(problems)
        spec = specs.get(code)
        if spec is None:
            problems.append(
                Problem(index, "indicator", gettext("unknown indicator %(code)r", code=code))
            )
            continue
        if spec.computed:
            problems.append(
                Problem(
                    index,
                    "indicator",
                    gettext(
                        "%(code)s is computed from other indicators; it takes no values",
                        code=spec.code,
                    ),
                )
            )
            continue
        if obligations is not None and spec.id not in obligations:
            problems.append(
                Problem(
                    index,
                    "indicator",
                    gettext("%(code)s is not among this member's obligations", code=spec.code),
                )
            )
            continue
        disaggregation = (disaggregation or TOTAL).strip()
        category_id = None
        if disaggregation != TOTAL:
            category_id = spec.categories.get(disaggregation)
            if category_id is None:
                allowed = ", ".join(sorted(spec.categories)) or "none (total only)"
                problems.append(
                    Problem(
                        index,
                        "disaggregation",
                        gettext(
                            "unknown disaggregation %(disaggregation)r for %(code)s; allowed: total, "
                            "%(allowed)s",
                            disaggregation=disaggregation,
                            code=spec.code,
                            allowed=allowed,
                        ),
                    )
                )
                continue
        key = (spec.code, disaggregation)
        if key in seen:
            problems.append(
                Problem(
                    index,
                    "indicator",
                    gettext(
                        "%(code)s %(disaggregation)s given twice",
                        code=spec.code,
                        disaggregation=disaggregation,
                    ),
                )
            )
            continue
        seen[key] = index
        cells[index] = (spec.id, disaggregation)
        if remove:
            result.removals.append((spec.id, disaggregation))
            continue

        # Finite floats (what a spreadsheet gives) pass as they are; the rest is converted or
        # refused by _number. The tests are inlined: this loop runs once per imported cell.
        if value is not None and (type(value) is not float or not isfinite(value)):
            value = _number(value, "value", index, problems)
        if numerator is not None and (type(numerator) is not float or not isfinite(numerator)):
            numerator = _number(numerator, "numerator", index, problems)
        if denominator is not None and (
            type(denominator) is not float or not isfinite(denominator)
        ):
            denominator = _number(denominator, "denominator", index, problems)
        if len(problems) > before:
            continue
        problem = _check_measure(spec, value, numerator, denominator)
        if problem:
            problems.append(Problem(index, *problem))
            continue
        kind = spec.measure_type
        if kind == "rate":
            assert numerator is not None and denominator is not None  # _check_measure
            value = 100.0 * numerator / denominator
        assert value is not None  # every measure type requires it (_check_measure)
        if spec.valid_min is not None and value < spec.valid_min - 1e-9:
            problems.append(
                Problem(
                    index,
                    "value",
                    gettext(
                        "%(value)g is below the valid minimum %(valid_min)g",
                        value=value,
                        valid_min=spec.valid_min,
                    ),
                )
            )
            continue
        if spec.valid_max is not None and value > spec.valid_max + 1e-9:
            problems.append(
                Problem(
                    index,
                    "value",
                    gettext(
                        "%(value)g is above the valid maximum %(valid_max)g",
                        value=value,
                        valid_max=spec.valid_max,
                    ),
                )
            )
            continue
        note = (note or "").strip() or None
        if note and len(note) > 2000:
            problems.append(Problem(index, "note", gettext("must be at most 2000 characters")))
            continue
        clean.append(
            _clean(
                (
                    spec.id,
                    kind,
                    category_id,
                    disaggregation,
                    value,
                    numerator if kind == "rate" else None,
                    denominator if kind == "rate" or kind == "average" else None,
                    note,
                )
            )
        )
    return result


# What check_values makes of a cell (indicator code, disaggregation as given) that it accepts:
# ((indicator id, disaggregation), measure type, category id, valid minimum, valid maximum, a
# rate's tolerance for its given value, indicator id, disaggregation). Kept by an import for
# all its rows: an initiative has a few hundred cells.
KnownCell = tuple[tuple[int, str], str, int | None, float | None, float | None, float, int, str]


def check_rows(
    rows: list[tuple[int, str, str, float | None, float | None, float | None, str | None]],
    *,
    specs: dict[str, IndicatorSpec],
    obligations: AbstractSet[int] | None,
    known: dict[tuple[str, str], KnownCell],
) -> CheckedValues:
    """:func:`check_values` of an import's rows ((row number, indicator code, disaggregation,
    value, numerator, denominator, note), numbers finite floats or None), with the same result.

    The common case, where every row is right, is checked a column at a time and one short
    loop: each distinct cell resolved once (``known`` keeps them for the import), the
    obligations and repeats tested on the set of cells, the numbers by their measure's rules.
    Anything else (a problem, or a case this pass does not take) goes through
    :func:`check_values`, which finds and words the problems."""
    if not rows:
        return CheckedValues()
    _, codes, disaggregations, values, numerators, denominators, notes = zip(*rows, strict=True)
    found = list(map(known.get, zip(codes, disaggregations, strict=True)))
    if None in found:
        for i, cell in enumerate(found):
            if cell is None:
                cell = _known_cell(specs, codes[i], disaggregations[i])
                if cell is None:
                    return _checked_slowly(rows, specs, obligations)
                known[(codes[i], disaggregations[i])] = found[i] = cell
    resolved = cast(list[KnownCell], found)
    pairs = [cell[0] for cell in resolved]
    distinct = set(pairs)
    if len(distinct) != len(pairs) or (
        obligations is not None and not {pair[0] for pair in distinct} <= obligations
    ):
        return _checked_slowly(rows, specs, obligations)
    clean: list[CleanValue] = []
    append = clean.append
    for cell, value, numerator, denominator, note in zip(
        resolved, values, numerators, denominators, notes, strict=True
    ):
        _, kind, category_id, low, high, tolerance, indicator_id, disaggregation = cell
        if kind == "count":
            if value is None or value < 0 or value != int(value):
                return _checked_slowly(rows, specs, obligations)
            numerator = denominator = None
        elif kind == "rate":
            if (
                numerator is None
                or denominator is None
                or numerator < 0
                or numerator != int(numerator)
                or denominator <= 0
                or denominator != int(denominator)
                or numerator > denominator
            ):
                return _checked_slowly(rows, specs, obligations)
            if value is not None and abs(value - 100.0 * numerator / denominator) > tolerance:
                return _checked_slowly(rows, specs, obligations)
            value = 100.0 * numerator / denominator
        elif kind == "average":
            if value is None or denominator is None or denominator <= 0:
                return _checked_slowly(rows, specs, obligations)
            numerator = None
        elif kind == "amount":
            if value is None:
                return _checked_slowly(rows, specs, obligations)
            numerator = denominator = None
        else:
            return _checked_slowly(rows, specs, obligations)
        if (low is not None and value < low - 1e-9) or (high is not None and value > high + 1e-9):
            return _checked_slowly(rows, specs, obligations)
        if note is not None:
            note = note.strip() or None
            if note is not None and len(note) > 2000:
                return _checked_slowly(rows, specs, obligations)
        append(
            _clean(
                (
                    indicator_id,
                    kind,
                    category_id,
                    disaggregation,
                    value,
                    numerator,
                    denominator,
                    note,
                )
            )
        )
    return CheckedValues(clean=clean, cells=dict(enumerate(pairs)))


def _known_cell(specs: dict[str, IndicatorSpec], code: str, given: str) -> KnownCell | None:
    """What :func:`check_values` makes of a cell it accepts; None for a cell it refuses."""
    spec = specs.get(code)
    if spec is None or spec.computed:
        return None
    disaggregation = (given or TOTAL).strip()
    category_id = None
    if disaggregation != TOTAL:
        category_id = spec.categories.get(disaggregation)
        if category_id is None:
            return None
    return (
        (spec.id, disaggregation),
        spec.measure_type,
        category_id,
        spec.valid_min,
        spec.valid_max,
        0.5 * 10**-spec.decimals + 1e-9,
        spec.id,
        disaggregation,
    )


_REMOVE_NONE = (False,)  # ValueInput.remove of an import's every row


def _checked_slowly(
    rows: list[tuple[int, str, str, float | None, float | None, float | None, str | None]],
    specs: dict[str, IndicatorSpec],
    obligations: AbstractSet[int] | None,
) -> CheckedValues:
    return check_values([r[1:] + _REMOVE_NONE for r in rows], specs=specs, obligations=obligations)


def _whole(x: float) -> bool:
    return x == int(x)


def _check_measure(
    spec: IndicatorSpec, value: float | None, num: float | None, den: float | None
) -> tuple[str, str] | None:
    """The (column, reason) of the first rule of the measure type the numbers break."""
    kind = spec.measure_type
    if kind == "count":
        if value is None:
            return ("value", gettext("is required"))
        if value < 0:
            return ("value", gettext("a count cannot be negative"))
        if not _whole(value):
            return ("value", gettext("a count must be a whole number"))
    elif kind == "amount":
        if value is None:
            return ("value", gettext("is required"))
    elif kind == "rate":
        if num is None:
            return ("numerator", gettext("is required for a rate"))
        if den is None:
            return ("denominator", gettext("is required for a rate"))
        if num < 0 or not _whole(num):
            return ("numerator", gettext("must be a whole number ≥ 0"))
        if den <= 0 or not _whole(den):
            return ("denominator", gettext("must be a whole number > 0"))
        if num > den:
            return (
                "numerator",
                gettext(
                    "%(numerator)s is greater than the denominator %(denominator)s",
                    numerator=short_number(num),
                    denominator=short_number(den),
                ),
            )
        if value is not None and abs(value - 100.0 * num / den) > 0.5 * 10**-spec.decimals + 1e-9:
            return (
                "value",
                gettext(
                    "%(value)s does not match numerator/denominator (%(computed)s)",
                    value=short_number(value),
                    computed=format_number(100 * num / den, digits=spec.decimals)
                    if current_locale() != "en"
                    else f"{100 * num / den:.{spec.decimals}f}",
                ),
            )
    elif kind == "average":
        if value is None:
            return ("value", gettext("is required"))
        if den is None:
            return (
                "denominator",
                gettext("is required for an average (the number of cases it averages)"),
            )
        if den <= 0:
            return ("denominator", gettext("must be greater than 0"))
    return None


# --- warnings -------------------------------------------------------------------------------


def sum_warnings(
    values: Iterable[CleanValue], specs_by_id: dict[int, IndicatorSpec], *, messages: bool = True
) -> list[Warning]:
    """Breakdowns whose categories do not add up to the total, per indicator and dimension.

    Only complete breakdowns are compared (every category of the dimension reported), since a
    partial breakdown cannot be expected to add up. ``messages`` false: for callers that keep
    only the flag codes (an import flags thousands of cells, and formatting the numbers of
    their messages cost more than finding them), one warning without a message per total
    flagged: its first dimension that does not add up is enough to flag it.
    """
    by_indicator: dict[int, dict[str, CleanValue]] = defaultdict(dict)
    for v in values:
        by_indicator[v.indicator_id][v.disaggregation] = v
    warnings: list[Warning] = []
    for indicator_id, cells in by_indicator.items():
        total = cells.get(TOTAL)
        spec = specs_by_id[indicator_id]
        if total is None:
            continue
        kind = spec.measure_type
        for dim, keys in spec.breakdowns.items():
            try:  # a dimension's every category reported (the usual case), else not compared
                parts = [cells[k] for k in keys]
            except KeyError:
                continue
            adds_up = _adds_up(kind, total, parts)
            if adds_up:
                continue
            if not messages:
                if adds_up is False or _breakdown_mismatch(kind, total, parts, False) is not None:
                    warnings.append(_quiet_sum_warning(spec.code))
                    break  # the total is flagged: its other dimensions add nothing
                continue
            mismatch = _breakdown_mismatch(kind, total, parts)
            if mismatch is not None:
                warnings.append(Warning(spec.code, TOTAL, FLAG_SUM, f"{dim}: {mismatch}"))
    for indicator_id, cells in by_indicator.items():
        spec = specs_by_id[indicator_id]
        if spec.pairs:
            warnings += _cross_tab_warnings(spec, cells, messages)
    return warnings


def _adds_up(kind: str, total: CleanValue, parts: list[CleanValue]) -> bool | None:
    """The tests of :func:`_breakdown_mismatch`, inlined for the hot loop of
    :func:`sum_warnings` (once per indicator, dimension and report): whether the parts add up
    to the total; None when a number a rate needs is missing (left to ``_breakdown_mismatch``).
    """
    if kind == "count" or kind == "amount":
        return _near(sum([p.value for p in parts]), total.value)
    if kind == "rate":
        n = _sum_of([p.numerator for p in parts])
        d = _sum_of([p.denominator for p in parts])
        tn, td = total.numerator, total.denominator
        if n is None or d is None or tn is None or td is None:
            return None
        return _near(n, tn) and _near(d, td)
    # An average (check_values required its denominators): the weights add up, and the
    # weighted mean is near the total's.
    weights = sum([_given(p.denominator) for p in parts])
    if not _near(weights, _given(total.denominator)):
        return False
    mean = sum([p.value * _given(p.denominator) for p in parts]) / weights
    return not abs(mean - total.value) > 0.01 * max(1.0, abs(total.value))


@functools.lru_cache(maxsize=1024)
def _quiet_sum_warning(code: str) -> Warning:
    """A sum warning on an indicator's total without its message: the same for every report,
    made once (immutable, so shared)."""
    return Warning(code, TOTAL, FLAG_SUM, "")


def _cross_tab_warnings(
    spec: IndicatorSpec, cells: dict[str, CleanValue], messages: bool = True
) -> list[Warning]:
    """A cross-tab's rows and columns whose cells do not add up to the one-way figure they
    break down (race r × every income against race r), where every cell of the row (column)
    and its one-way figure are reported. Warned on the one-way figure's cell."""
    lines: dict[str, list[str]] = defaultdict(list)
    for key, (row, column) in spec.pairs.items():
        lines[row].append(key)
        lines[column].append(key)
    warnings = []
    for margin, keys in lines.items():
        given = cells.get(margin)
        parts = [cells[k] for k in keys if k in cells]
        if given is None or len(parts) != len(keys):
            continue
        mismatch = _breakdown_mismatch(spec.measure_type, given, parts, messages)
        if mismatch is not None:
            cross = keys[0].split("=", 1)[0]
            warnings.append(
                Warning(
                    spec.code,
                    margin,
                    FLAG_SUM,
                    gettext(
                        "%(cross)s by %(margin)s: %(mismatch)s",
                        cross=cross,
                        margin=margin,
                        mismatch=mismatch,
                    )
                    if messages
                    else "",
                )
            )
    return warnings


def _near(a: float, b: float) -> bool:
    """:func:`_close`, for sum_warnings' hot loop (the same test)."""
    return abs(a - b) <= SUM_TOLERANCE * max(1.0, abs(a), abs(b))


def _sum_of(numbers: list[float | None]) -> float | None:
    """sum() of numbers (in their order), None when one is missing."""
    return None if None in numbers else sum(cast(list[float], numbers))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SUM_TOLERANCE * max(1.0, abs(a), abs(b))


def _given(number: float | None) -> float:
    """A rate's numerator or denominator, an average's denominator: check_values required it."""
    assert number is not None
    return number


def _breakdown_mismatch(
    kind: str, total: CleanValue, parts: list[CleanValue], messages: bool = True
) -> str | None:
    """What does not add up, or None; ``messages`` false: ``""`` instead of the message."""
    if kind in ("count", "amount"):
        s = sum(p.value for p in parts)
        return (
            None
            if _close(s, total.value)
            else ""
            if not messages
            else gettext(
                "categories add up to %(sum)s, total is %(total)s",
                sum=short_number(s),
                total=short_number(total.value),
            )
        )
    if kind == "rate":
        n = sum(_given(p.numerator) for p in parts)
        d = sum(_given(p.denominator) for p in parts)
        total_n, total_d = _given(total.numerator), _given(total.denominator)
        if not _close(n, total_n):
            if not messages:
                return ""
            return gettext(
                "category numerators add up to %(sum)s, total is %(total)s",
                sum=short_number(n),
                total=short_number(total_n),
            )
        if not _close(d, total_d):
            if not messages:
                return ""
            return gettext(
                "category denominators add up to %(sum)s, total is %(total)s",
                sum=short_number(d),
                total=short_number(total_d),
            )
        return None
    weights = sum(_given(p.denominator) for p in parts)
    total_d = _given(total.denominator)
    if not _close(weights, total_d):
        if not messages:
            return ""
        return gettext(
            "category counts add up to %(sum)s, total is %(total)s",
            sum=short_number(weights),
            total=short_number(total_d),
        )
    mean = sum(p.value * _given(p.denominator) for p in parts) / weights
    if abs(mean - total.value) > 0.01 * max(1.0, abs(total.value)):
        if not messages:
            return ""
        return gettext(
            "the categories' weighted mean is %(mean)s, total is %(total)s",
            mean=format_number(mean, digits=2) if current_locale() != "en" else f"{mean:.2f}",
            total=short_number(total.value),
        )
    return None


# The members' approved submissions drive the query (a few hundred rows), then their values
# by the (submission, indicator, disaggregation) key; left to itself, SQLite would walk the
# indicator index over every value of the initiative. Built once, as the specs' statements.
_APPROVED = select(Submission.id).where(
    Submission.member_id.in_(bindparam("members", expanding=True)),
    Submission.status == "approved",
)
_APPROVED_BEFORE = _APPROVED.join(Period, Period.id == Submission.period_id).where(
    Period.starts_on < bindparam("before")
)


def _history_of(approved: Select[int]) -> Select[int, int, int, float]:
    return (
        select(Submission.member_id, Value.indicator_id, Value.period_id, Value.value)
        .join(Submission, Submission.id == Value.submission_id)
        .where(
            Value.submission_id.in_(approved),
            Value.disaggregation == TOTAL,
            Value.indicator_id.in_(bindparam("indicators", expanding=True)),
        )
    )


_HISTORY, _HISTORY_BEFORE = _history_of(_APPROVED), _history_of(_APPROVED_BEFORE)


# One member's history (a partner's read or save: tens of rows) with each period's start
# joined in, in one statement: a second round trip costs more than decoding its dates.
def _member_history_of(approved: Select[int]) -> Select[int, int, date, float]:
    return (
        select(Submission.member_id, Value.indicator_id, Period.starts_on, Value.value)
        .select_from(Value)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Period, Period.id == Value.period_id)
        .where(
            # Not correlated: the approved reports' own periods, not the values'.
            Value.submission_id.in_(approved.correlate(None)),
            Value.disaggregation == TOTAL,
            Value.indicator_id.in_(bindparam("indicators", expanding=True)),
        )
    )


_MEMBER_HISTORY = _member_history_of(_APPROVED)
_MEMBER_HISTORY_BEFORE = _member_history_of(_APPROVED_BEFORE)
_PERIOD_STARTS = select(Period.id, Period.starts_on).where(
    Period.id.in_(bindparam("periods", expanding=True))
)


def approved_history(
    *,
    session: Session,
    member_ids: Iterable[int],
    indicator_ids: Iterable[int],
    before: date | None = None,
) -> History:
    """(member, indicator) → [(period start, approved total)], oldest first, for periods that
    start before ``before``; one query for any number of members (a write checks one member,
    an import hundreds). For many members, period dates come from a second, tiny query rather
    than being decoded on every row; one member's few rows carry them."""
    history: History = defaultdict(list)
    member_ids, indicator_ids = set(member_ids), set(indicator_ids)
    if not member_ids or not indicator_ids:
        return history
    # Core rows on the session's (flushed) connection: an import reads ~100,000 of them, and
    # the ORM's result machinery would cost more than the query.
    session.flush()
    asked: dict[str, object] = {"members": list(member_ids), "indicators": list(indicator_ids)}
    if before is not None:
        asked["before"] = before
    if len(member_ids) == 1:
        member_rows = _MEMBER_HISTORY if before is None else _MEMBER_HISTORY_BEFORE
        for member_id, indicator_id, starts_on, value in session.connection().execute(
            member_rows, asked
        ):
            history[(member_id, indicator_id)].append((starts_on, value))
    else:
        history_rows = _HISTORY if before is None else _HISTORY_BEFORE
        rows = session.connection().execute(history_rows, asked).all()
        period_ids = {period_id for _, _, period_id, _ in rows}
        starts = dict(session.execute(_PERIOD_STARTS, {"periods": list(period_ids)}).all())
        for member_id, indicator_id, period_id, value in rows:
            history[(member_id, indicator_id)].append((starts[period_id], value))
    for past in history.values():
        past.sort()  # oldest first
    return history


def _median(values: list[float]) -> float:
    """statistics.median, without its generality (an import takes two per indicator and
    submission)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


_START = itemgetter(0)  # a history entry's period start


def _past_figures(
    past: list[float], min_history: int
) -> tuple[float | None, float | None, float | None]:
    """(median, robust scale, latest) of approved totals, oldest first (see PastFigures)."""
    if not past:
        return None, None, None
    median = scale = None
    if len(past) >= min_history:
        median = _median(past)
        mad = _median([abs(x - median) for x in past])
        scale = 1.4826 * mad if mad > 0 else None
    return median, scale, past[-1]


def history_warnings(
    *,
    member_id: int,
    period: Period,
    totals: dict[int, float],
    history: History,
    specs_by_id: dict[int, IndicatorSpec],
    z_limit: float,
    jump_pct: float,
    min_history: int,
    messages: bool = True,
    figures: PastFigures | None = None,
) -> list[Warning]:
    """Totals far from the member's own approved history before this period (robust z-score)
    or a big jump from the previous approved value (``messages`` false: with empty messages,
    as for :func:`sum_warnings`). ``figures``: what was computed from this history before,
    kept for the next call."""
    warnings = []
    starts_on = period.starts_on  # read once: an ORM attribute, in the hot loop of an import
    for indicator_id, value in totals.items():
        series = history.get((member_id, indicator_id), ())
        # The totals of the periods that start before this one: the first ones (oldest first).
        count = bisect_left(series, starts_on, key=_START)
        key = (member_id, indicator_id, count)
        found = None if figures is None else figures.get(key)
        if found is None:
            found = _past_figures([v for _, v in series[:count]], min_history)
            if figures is not None:
                figures[key] = found
        median, scale, last = found
        spec = specs_by_id[indicator_id]
        code = spec.code
        if scale and median is not None and abs(value - median) / scale > z_limit:
            z = (value - median) / scale
            warnings.append(
                Warning(
                    code,
                    TOTAL,
                    FLAG_OUTLIER,
                    ""
                    if not messages
                    else gettext(
                        "%(value)s is %(z)s robust z-scores from this partner's history "
                        "(median %(median)s)",
                        value=spec.figure(value),
                        z=format_number(abs(z), digits=1),
                        median=spec.figure(median),
                    ),
                )
            )
            continue
        if last is not None and last != 0:
            change = 100.0 * (value - last) / abs(last)
            if abs(change) > jump_pct:
                warnings.append(
                    Warning(
                        code,
                        TOTAL,
                        FLAG_JUMP,
                        ""
                        if not messages
                        else gettext(
                            "%(value)s changed %(change)s%% from the previous approved value "
                            "%(previous)s",
                            value=spec.figure(value),
                            change=f"{change:+.0f}",
                            previous=spec.figure(last),
                        ),
                    )
                )
    return warnings
