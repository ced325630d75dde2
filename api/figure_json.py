"""The scorecard's, series' and equity's JSON written from the views' own records, without
validating them again into read models: the bytes the read models (``api.schemas.analytics``)
dump, field for field in their order, with their numbers as they validate them (an integer
where a float is declared is written as that float; a whole float where an integer is
declared as that integer).

A figure view computed after an approval spent about as long validating what it had just
built as building it (README, "Scaling"). The read models stay the API's declared schema
(OpenAPI, tests); tests compare both writings of every view, so a field added to one and not
the other fails them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic_core import to_json


def _f(value: Any) -> float | None:
    """A ``float`` field: None, or the value as a float (an int or a bool validates so)."""
    return value if value is None or type(value) is float else float(value)


def _i(value: Any) -> int | None:
    """An ``int`` field: None, or the value as an int (a whole float validates so; anything
    else fails as validation does)."""
    if value is None or type(value) is int:
        return value  # type: ignore[no-any-return]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    raise ValueError(f"not an integer: {value!r}")


def _b(value: Any) -> bool:
    return value if type(value) is bool else bool(_i(value))


def _figure(f: Any) -> dict[str, Any]:
    """``FigureRead`` of a ``models.analytics.figures.Figure``."""
    return {"value": _f(f.value), "n": _f(f.n), "marker": f.marker, "reason": f.reason}


def _dump(body: dict[str, Any]) -> bytes:
    # As model_dump_json: an infinite or undefined float is written null.
    return to_json(body, inf_nan_mode="null")


def scorecard_json(card: Any) -> bytes:
    """``ScorecardRead`` of a ``models.analytics.views.Scorecard``."""
    return _dump(
        {
            "initiative": card.initiative,
            "initiative_name": card.initiative_name,
            "period": card.period,
            "periods": list(card.periods),
            "suppressed": _b(card.suppressed),
            "threshold": _i(card.threshold),
            "rows": [_row(r) for r in card.rows],
        }
    )


def _row(r: Any) -> dict[str, Any]:
    """``ScorecardRowRead`` of a ``ScorecardRow``."""
    return {
        "outcome": r.outcome,
        "outcome_name": r.outcome_name,
        "code": r.code,
        "name": r.name,
        "unit": r.unit,
        "measure_type": r.measure_type,
        "direction": r.direction,
        "decimals": _i(r.decimals),
        "current": _figure(r.current),
        "baseline": _f(r.baseline),
        "baseline_period": r.baseline_period,
        "baseline_withheld": _b(r.baseline_withheld),
        "target": _f(r.target),
        "end_target": _f(r.end_target),
        "end_target_period": r.end_target_period,
        "progress": _f(r.progress),
        "status": r.status,
        "previous": None if r.previous is None else _figure(r.previous),
        "trend": r.trend,
        "change_since_baseline": _f(r.change_since_baseline),
        "sparkline": [
            {"period": p, "value": v if v is None or type(v) is float else float(v)}
            for p, v in r.sparkline
        ],
        "contributors": _i(r.contributors),
        "expected": _i(r.expected),
        "series_break": _b(r.series_break),
        "reported": _i(r.reported),
        "share": _f(r.share),
        "complete": _b(r.complete),
        "trend_basis": r.trend_basis,
        "trend_previous": _f(r.trend_previous),
        "trend_current": _f(r.trend_current),
        "target_kind": r.target_kind,
        "kind": r.kind,
        "performance_type": r.performance_type,
        "contributes_to": list(r.contributes_to),
        "gap_targets": [
            {
                "dimension": g.dimension,
                "dimension_name": g.dimension_name,
                "gap": _f(g.gap),
                "expected": _f(g.expected),
                "status": g.status,
                "progress": _f(g.progress),
            }
            for g in r.gap_targets
        ],
        "expression": r.expression,
    }


def _points(points: Any) -> list[dict[str, Any]]:
    """``SeriesPointRead`` of each ``SeriesPoint``."""
    return [
        {"period": p.period, "key": p.key, "label": p.label, "figure": _figure(p.figure)}
        for p in points
    ]


def series_json(s: Any) -> bytes:
    """``SeriesRead`` of a ``models.analytics.views.Series``."""
    return _dump(
        {
            "initiative": s.initiative,
            "indicator": s.indicator,
            "name": s.name,
            "unit": s.unit,
            "measure_type": s.measure_type,
            "direction": s.direction,
            "decimals": _i(s.decimals),
            "by": s.by,
            "periods": list(s.periods),
            "total": _points(s.total),
            "breakdown": _points(s.breakdown),
            "targets": [{"period": p, "target": _f(t)} for p, t in s.targets],
            "baseline": _f(s.baseline),
            "baseline_period": s.baseline_period,
            "baseline_withheld": _b(s.baseline_withheld),
            "end_target": _f(s.end_target),
            "end_target_period": s.end_target_period,
            "breaks": [{"period": p, "note": n} for p, n in s.breaks],
            "suppressed": _b(s.suppressed),
            "expression": s.expression,
        }
    )


def equity_json(e: Any) -> bytes:
    """``EquityRead`` of a ``models.analytics.views.Equity``."""
    goal = e.gap_target
    return _dump(
        {
            "indicator": e.indicator,
            "dimension": e.dimension,
            "direction": e.direction,
            "unit": e.unit,
            "points": [_equity_point(p) for p in e.points],
            "gap_target": None
            if goal is None
            else {
                "dimension": goal.dimension,
                "dimension_name": goal.dimension_name,
                "baseline": _f(goal.baseline),
                "baseline_period": goal.baseline_period,
                "target": _f(goal.target),
                "target_period": goal.target_period,
                "note": goal.note,
            },
            "cross_tab": cross_tab(e.cross_tab),
        }
    )


def _equity_point(p: Any) -> dict[str, Any]:
    """``EquityPointRead`` of an ``EquityPoint``."""
    target = p.target
    return {
        "period": p.period,
        "categories": [
            {"key": k, "label": label, "figure": _figure(f)} for k, label, f in p.categories
        ],
        "best": p.best,
        "worst": p.worst,
        "gap": _f(p.gap),
        "ratio": _f(p.ratio),
        "expected_gap": None if target is None else _f(target.expected),
        "gap_status": None if target is None else target.status,
        "gap_progress": None if target is None else _f(target.progress),
    }


def cross_tab(axes: Any) -> dict[str, Any] | None:
    """``CrossTabRead`` of a ``CrossTabAxes`` (also what the validated read model is made from)."""
    if axes is None:
        return None

    def axis(a: Any) -> dict[str, Any]:
        code, name, categories = a
        return {
            "dimension": code,
            "name": name,
            "categories": [{"key": k, "name": label} for k, label in categories],
        }

    return {
        "rows": axis(axes.rows),
        "columns": axis(axes.columns),
        "cells": [{"key": k, "row": r, "column": c} for k, r, c in axes.cells],
    }
