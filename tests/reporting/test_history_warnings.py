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
