"""Body of the turn-the-curve view."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas.analytics import BreakRead, SeriesPointRead, TargetPoint
from api.schemas.common import ReadModel
from api.schemas.stories import StoryRead
from api.schemas.strategies import StrategyRead


class PeriodValue(ReadModel):
    period: str
    value: float


class StrategySpan(ReadModel):
    code: str
    title: str
    first: str = Field(description="The first period of the chart the strategy overlaps.")
    last: str = Field(description="The last one (the chart's last while open-ended).")


class ForecastRead(ReadModel):
    method: str = Field(
        description="How the forecast was made, in words, or why there is none (then `points` "
        "is empty)."
    )
    available: bool
    strategy: str | None = Field(description="The first strategy: its start is the cut-off.")
    starts_on: date | None
    used: list[PeriodValue] = Field(
        description="The figures the line is fitted to: only figures the caller is shown."
    )
    hidden: list[str] = Field(
        description="Periods of the window whose figure is hidden from the caller: left out."
    )
    before_break: list[str] = Field(description="Periods left out: before a series break.")
    slope: float | None = Field(description="Change a period, in the indicator's unit.")
    intercept: float | None = Field(description="The line's value at the first figure used.")
    points: list[PeriodValue] = Field(
        description="The line: its value at each fitted period, then projected to the end "
        "target's period (or the last period shown, when later)."
    )


class TurnTheCurveRead(ReadModel):
    initiative: str
    indicator: str
    name: str
    unit: str
    direction: str
    decimals: int
    periods: list[str] = Field(description="The chart's periods, first shown to last drawn.")
    actual: list[SeriesPointRead] = Field(
        description="The series' total, as the caller may see it."
    )
    targets: list[TargetPoint]
    end_target: float | None
    end_target_period: str | None
    breaks: list[BreakRead]
    strategies: list[StrategyRead] = Field(description="Those aimed at it the caller may read.")
    spans: list[StrategySpan]
    story: StoryRead | None = Field(description="The latest story the caller may read.")
    forecast: ForecastRead
    suppressed: bool
