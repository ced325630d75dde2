"""The outlier and jump flags' messages: figures as the indicator shows them."""

from __future__ import annotations

from datetime import date

from models.reporting.validation import (
    FLAG_JUMP,
    FLAG_OUTLIER,
    CleanValue,
    IndicatorSpec,
    history_warnings,
    sum_warnings,
)
from models.tables.initiative import Period

RATE = IndicatorSpec(1, "FAFSA_DONE", "rate", 0.0, 100.0, 2, {}, unit="%")
COUNT = IndicatorSpec(2, "SERVED", "count", 0.0, None, 0, {}, unit="people")


def _warnings(spec: IndicatorSpec, value: float, past: list[float], messages: bool = True) -> list:
    starts = [date(2024 + i // 4, 1 + 3 * (i % 4), 1) for i in range(len(past))]
    return history_warnings(
        member_id=7,
        period=Period(starts_on=date(2030, 1, 1)),
        totals={spec.id: value},
        history={(7, spec.id): list(zip(starts, past, strict=True))},
        specs_by_id={spec.id: spec},
        z_limit=3.5,
        jump_pct=50.0,
        min_history=4,
        messages=messages,
    )


def test_an_outlier_is_said_with_the_indicators_decimals_and_unit() -> None:
    [warning] = _warnings(RATE, 6.750571, [63.1, 64.43, 62.9, 64.8, 63.765, 65.0])
    assert warning.code == FLAG_OUTLIER
    assert warning.message.startswith("6.75 % is ")
    assert warning.message.endswith(" robust z-scores from this partner's history (median 64.10 %)")
    assert "6.7505" not in warning.message


def test_a_jump_is_said_with_the_indicators_decimals_and_unit() -> None:
    [warning] = _warnings(COUNT, 2500, [1200.0])
    assert warning.code == FLAG_JUMP
    assert (
        warning.message
        == "2,500 people changed +108% from the previous approved value 1,200 people"
    )


def test_without_messages_the_same_flags_are_found() -> None:
    """An import keeps only the flags' codes and skips formatting their messages
    (``messages=False``): the same warnings, on the same cells, in the same order."""
    cases = [
        (RATE, 6.750571, [63.1, 64.43, 62.9, 64.8, 63.765, 65.0]),
        (COUNT, 2500, [1200.0]),
        (COUNT, 1250, [1200.0, 1190.0, 1210.0, 1205.0]),
    ]
    for spec, value, past in cases:
        said = _warnings(spec, value, past)
        quiet = _warnings(spec, value, past, messages=False)
        assert [(w.indicator, w.disaggregation, w.code) for w in quiet] == [
            (w.indicator, w.disaggregation, w.code) for w in said
        ]
        assert all(w.message for w in said) and not any(w.message for w in quiet)


def test_sum_checks_without_messages_find_the_same_cells() -> None:
    spec = IndicatorSpec(
        3, "K_READY", "count", 0.0, None, 0, {"race=black": 31, "race=white": 32, "gender=f": 41}
    )
    rate = IndicatorSpec(4, "PASSED", "rate", 0.0, 100.0, 1, {"race=black": 31, "race=white": 32})

    def clean(ind: IndicatorSpec, key: str, value: float, num=None, den=None) -> CleanValue:
        category = ind.categories.get(key)
        return CleanValue(ind.id, ind.measure_type, category, key, value, num, den, None)

    values = [
        clean(spec, "total", 10.0),
        clean(spec, "race=black", 4.0),
        clean(spec, "race=white", 5.0),  # 9 against 10: a mismatch
        clean(spec, "gender=f", 10.0),  # the only category of its dimension: adds up
        clean(rate, "total", 50.0, 5.0, 10.0),
        clean(rate, "race=black", 50.0, 2.0, 4.0),
        clean(rate, "race=white", 50.0, 3.0, 7.0),  # denominators 11 against 10
    ]
    by_id = {spec.id: spec, rate.id: rate}
    said = sum_warnings(values, by_id)
    quiet = sum_warnings(values, by_id, messages=False)
    assert [(w.indicator, w.code) for w in said] == [("K_READY", "sum_mismatch")] + [
        ("PASSED", "sum_mismatch")
    ]
    assert [(w.indicator, w.disaggregation, w.code) for w in quiet] == [
        (w.indicator, w.disaggregation, w.code) for w in said
    ]
    assert said[0].message == "race: categories add up to 9, total is 10"
    assert not any(w.message for w in quiet)


def test_sum_checks_without_messages_flag_a_total_once() -> None:
    """Codes only: a total whose two breakdowns both fail to add up is flagged once (the
    messages name each breakdown)."""
    spec = IndicatorSpec(
        5,
        "ENROLLED",
        "count",
        0.0,
        None,
        0,
        {"race=black": 31, "race=white": 32, "gender=f": 41, "gender=m": 42},
    )
    values = [
        CleanValue(5, "count", category, key, value, None, None, None)
        for category, key, value in [
            (None, "total", 10.0),
            (31, "race=black", 4.0),
            (32, "race=white", 5.0),  # 9 against 10
            (41, "gender=f", 3.0),
            (42, "gender=m", 3.0),  # 6 against 10
        ]
    ]
    said = sum_warnings(values, {5: spec})
    quiet = sum_warnings(values, {5: spec}, messages=False)
    assert [w.message.split(":")[0] for w in said] == ["race", "gender"]
    assert [(w.indicator, w.disaggregation, w.code, w.message) for w in quiet] == [
        ("ENROLLED", "total", "sum_mismatch", "")
    ]


def test_average_breakdowns_are_checked_by_weights_and_weighted_mean() -> None:
    spec = IndicatorSpec(6, "WAGE", "average", 0.0, None, 2, {"gender=f": 41, "gender=m": 42})

    def values(total: tuple[float, float], f: tuple[float, float], m: tuple[float, float]):
        return [
            CleanValue(6, "average", category, key, value, None, weight, None)
            for category, key, (value, weight) in [
                (None, "total", total),
                (41, "gender=f", f),
                (42, "gender=m", m),
            ]
        ]

    right = values((15.0, 4.0), (10.0, 2.0), (20.0, 2.0))
    weights = values((15.0, 5.0), (10.0, 2.0), (20.0, 2.0))
    mean = values((16.0, 4.0), (10.0, 2.0), (20.0, 2.0))
    for cells, flagged in ((right, False), (weights, True), (mean, True)):
        said = sum_warnings(cells, {6: spec})
        quiet = sum_warnings(cells, {6: spec}, messages=False)
        assert bool(said) == bool(quiet) == flagged
    assert sum_warnings(weights, {6: spec})[0].message.startswith("gender: category counts")
    assert "weighted mean is 15.00" in sum_warnings(mean, {6: spec})[0].message


def test_history_counts_only_the_periods_before_and_keeps_its_figures() -> None:
    """The totals of periods starting on or after the report's are not its history; the
    figures a member's history gives are kept for its next report with the same history."""
    starts = [date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1)]
    history = {(7, COUNT.id): list(zip([*starts, date(2025, 1, 1)], [100.0, 100, 100, 100, 900]))}

    def warn(period_start: date, value: float, figures: dict | None = None) -> list:
        return history_warnings(
            member_id=7,
            period=Period(starts_on=period_start),
            totals={COUNT.id: value},
            history=history,
            specs_by_id={COUNT.id: COUNT},
            z_limit=3.5,
            jump_pct=50.0,
            min_history=4,
            messages=False,
            figures=figures,
        )

    assert warn(date(2025, 1, 1), 100.0) == []  # 900 starts with the report: not history
    assert [w.code for w in warn(date(2025, 4, 1), 100.0)] == [FLAG_JUMP]  # 900 → 100
    figures: dict = {}
    assert warn(date(2025, 1, 1), 100.0, figures) == []
    assert figures == {(7, COUNT.id, 4): (100.0, None, 100.0)}  # no spread: no scale
    assert warn(date(2025, 1, 1), 300.0, figures) == warn(date(2025, 1, 1), 300.0)
    assert [w.code for w in warn(date(2025, 1, 1), 300.0, figures)] == [FLAG_JUMP]
