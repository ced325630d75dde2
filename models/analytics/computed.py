"""Figures of computed indicators, from their inputs' figures as the viewer may see them.

A computed indicator (its expression: ``models.core.expressions``) has no values of its own.
In each period where every input has a figure group, its total is the expression over the
inputs' totals, and a category's figure the expression over the inputs' figures of that
category (for the dimensions the indicator declares, which every input collects).

Disclosure is inherited, and nothing more is shown than the inputs give away: a computed
figure is evaluated on the inputs' figures *as this viewer is shown them*, and is hidden
(◊, or "not yet published") wherever one of those is hidden. A sum or difference shown while
an input is hidden would let the viewer subtract the others and get the hidden one back; a
figure computed only from figures the viewer already has tells it nothing new. A formula with
no value for its inputs (a division by zero) is no figure, with that reason, for everyone.
Partner breakdowns are not computed (a computed figure is the initiative's), and the
contributor count is not told (the inputs' counts are).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.analytics.figures import Figure, GroupView
from models.analytics.setup_rows import IndicatorLike
from models.analytics.suppression import (
    INPUTS_HIDDEN,
    INPUTS_MARKER,
    NOT_PUBLISHED,
    NOT_PUBLISHED_MARKER,
    UNDEFINED,
    UNDEFINED_MARKER,
)
from models.core.expressions import Expression, ExpressionError, evaluate, parse
from models.tables.indicator import Indicator


def expression_of(indicator: IndicatorLike) -> Expression | None:
    """The indicator's parsed expression; None for a reported indicator (or one whose stored
    expression no longer parses: it shows no figure rather than a wrong one)."""
    if indicator.expression is None:
        return None
    try:
        return parse(indicator.expression)
    except ExpressionError:
        return None


def with_inputs(
    *, session: Session, initiative_id: int, indicators: Sequence[IndicatorLike]
) -> list[IndicatorLike]:
    """``indicators`` and every indicator their expressions read, directly or through other
    computed indicators (one query per level of nesting)."""
    by_code = {i.code: i for i in indicators}
    wanted = _reads(indicators) - by_code.keys()
    while wanted:
        found = list(
            session.scalars(
                select(Indicator).where(
                    Indicator.initiative_id == initiative_id, Indicator.code.in_(wanted)
                )
            )
        )
        by_code.update((i.code, i) for i in found)
        wanted = _reads(found) - by_code.keys()
        if not found:
            break
    return list(by_code.values())


def _reads(indicators: Iterable[IndicatorLike]) -> set[str]:
    return {
        code
        for i in indicators
        if (expression := expression_of(i)) is not None
        for code in expression.codes
    }


def in_order(indicators: Sequence[IndicatorLike]) -> list[IndicatorLike]:
    """The computed indicators among ``indicators``, each after the computed ones it reads
    (saving refuses cycles; one stored anyway is left out, never looped on)."""
    computed = {i.code: i for i in indicators if expression_of(i) is not None}
    ordered: list[IndicatorLike] = []
    state: dict[str, str] = {}

    def visit(code: str) -> bool:
        if state.get(code) == "done":
            return True
        if state.get(code) == "visiting":
            return False
        state[code] = "visiting"
        expression = expression_of(computed[code])
        assert expression is not None
        fine = all(visit(c) for c in sorted(expression.codes) if c in computed)
        state[code] = "done" if fine else "cycle"
        if fine:
            ordered.append(computed[code])
        return fine

    for code in sorted(computed):
        visit(code)
    return ordered


def add_computed(
    views: dict[tuple[int, int], GroupView],
    *,
    computed: Sequence[IndicatorLike],
    by_code: Mapping[str, IndicatorLike],
    category_keys: Mapping[int, Sequence[str]],
) -> None:
    """Add to ``views`` the groups of the ``computed`` indicators (in :func:`in_order`), from
    the groups of their inputs in ``views`` (decided for the same audience)."""
    periods: dict[int, set[int]] = {}
    for indicator_id, period_id in views:
        periods.setdefault(indicator_id, set()).add(period_id)
    for indicator in computed:
        expression = expression_of(indicator)
        assert expression is not None
        inputs = [by_code[c] for c in sorted(expression.codes) if c in by_code]
        if len(inputs) < len(expression.codes):
            continue
        common = set.intersection(*(periods.get(i.id, set()) for i in inputs))
        for period_id in common:
            groups = {i.code: views[(i.id, period_id)] for i in inputs}
            total = _computed(expression, {c: g.total for c, g in groups.items()})
            cells = {
                key: _computed(expression, {c: g.cells[key] for c, g in groups.items()})
                for key in category_keys.get(indicator.id, ())
                if all(key in g.cells for g in groups.values())
            }
            views[(indicator.id, period_id)] = GroupView(
                total=total, cells=cells, partners={}, contributors=None
            )
        periods[indicator.id] = common


def _computed(expression: Expression, inputs: Mapping[str, Figure]) -> Figure:
    """One computed figure from its inputs' figures as shown."""
    hidden = [f for f in inputs.values() if f.value is None]
    if hidden:
        if any(f.marker == NOT_PUBLISHED_MARKER for f in hidden):
            return Figure(None, None, NOT_PUBLISHED_MARKER, NOT_PUBLISHED)
        if any(f.marker is not None and f.marker != UNDEFINED_MARKER for f in hidden):
            return Figure(None, None, INPUTS_MARKER, INPUTS_HIDDEN)
        return Figure(None, None, UNDEFINED_MARKER, UNDEFINED)
    outcome = evaluate(expression, {c: f.value for c, f in inputs.items() if f.value is not None})
    if outcome.value is None:
        return Figure(None, None, UNDEFINED_MARKER, outcome.reason or UNDEFINED)
    return Figure(outcome.value, None)


def reported_inputs(
    indicator: IndicatorLike, by_code: Mapping[str, IndicatorLike]
) -> list[IndicatorLike]:
    """The reported indicators a computed one stands on, through other computed ones: its
    figure is complete when each of theirs is."""
    out: dict[str, IndicatorLike] = {}
    seen: set[str] = set()
    todo = [indicator.code]
    while todo:
        code = todo.pop()
        if code in seen or code not in by_code:
            continue
        seen.add(code)
        expression = expression_of(by_code[code])
        if expression is None:
            out[code] = by_code[code]
        else:
            todo.extend(expression.codes)
    return [out[c] for c in sorted(out)]
