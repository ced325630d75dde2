"""Bodies of publications and the public summary."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.stories import PublicStory


class PublishIn(WriteModel):
    note: str | None = Field(None, max_length=2000, examples=["First release of 2026Q3."])
    confirm_incomplete: bool = Field(
        False,
        description="Publish although some partners' reports are not approved or some "
        "indicator's coverage is incomplete (the 409 `incomplete_period` without it lists "
        "them: `reports` and `indicators` with reported/expected); the vintage records its "
        "coverage.",
    )


class VintageRead(ReadModel):
    id: int
    period: str
    published_at: datetime
    note: str | None
    revised: list[str] = Field(description="Figures that differ from the previous vintage.")


class PublicFigure(ReadModel):
    value: float | None
    n: float | None
    marker: str | None


class PublicCategory(PublicFigure):
    key: str
    label: str


class PublicBreakdown(ReadModel):
    dimension: str
    dimension_name: str
    categories: list[PublicCategory]


class PublicIndicator(ReadModel):
    outcome: str | None
    outcome_name: str | None
    indicator: str
    name: str
    definition: str | None
    kind: str = Field(
        "population",
        description="population (how the whole community is doing) or performance (a partner "
        "programme's measure); vintages published before kinds existed read as population.",
    )
    performance_type: str | None = Field(
        None, description="A performance measure's question: how_much, how_well or better_off."
    )
    contributes_to: list[str] = Field(
        default_factory=list,
        description="A performance measure's population indicators (contribution, not "
        "attribution).",
    )
    unit: str
    measure_type: str
    direction: str
    decimals: int
    target: float | None
    baseline: float | None
    contributors: int | None
    expected: int
    total: PublicFigure
    breakdowns: list[PublicBreakdown]


class IndicatorCoverage(ReadModel):
    indicator: str
    complete: bool = Field(
        description="Every expected partner reported, or those that did stood for at least "
        "CM_COVERAGE_MIN_SHARE of the partners' usual size."
    )


class Coverage(ReadModel):
    approved: int = Field(description="Partners whose reports for the period were approved.")
    expected: int = Field(description="Active partners obliged to report.")
    indicators: list[IndicatorCoverage] | None = Field(
        None, description="Per published indicator, whether it was complete (newer vintages)."
    )


class PublicPeriod(ReadModel):
    period: str
    published_at: datetime
    note: str | None
    vintage: int
    coverage: Coverage | None = Field(description="What the vintage is made of (newer ones).")
    indicators: list[PublicIndicator]
    stories: list[PublicStory] = Field(
        default_factory=list,
        description="The stories behind the curves this vintage carries (Markdown and safe HTML).",
    )


class PublicSummary(ReadModel):
    initiative: str
    initiative_name: str
    description: str | None
    region: str | None
    threshold: int
    legend: dict[str, str]
    periods: list[PublicPeriod]
