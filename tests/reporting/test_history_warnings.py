"""The outlier and jump flags' messages: figures as the indicator shows them."""

from __future__ import annotations

from datetime import date

from models.reporting.validation import FLAG_JUMP, FLAG_OUTLIER, IndicatorSpec, history_warnings
from models.tables.initiative import Period

RATE = IndicatorSpec(1, "FAFSA_DONE", "rate", 0.0, 100.0, 2, {}, unit="%")
COUNT = IndicatorSpec(2, "SERVED", "count", 0.0, None, 0, {}, unit="people")


def _warnings(spec: IndicatorSpec, value: float, past: list[float]) -> list:
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
