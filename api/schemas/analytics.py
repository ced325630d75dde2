"""Bodies of the read views: scorecard, series, equity, completeness."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas.common import ReadModel


class FigureRead(ReadModel):
    """A figure as the caller may see it (see "Disclosure" in the API description)."""

    value: float | None = Field(description="The figure; null when hidden or when no data.")
    n: float | None = Field(
        description="People (or cases) it is based on; a band (<5%, >95%) keeps its n."
    )
    marker: str | None = Field(
        None,
        description="Why the value is hidden: <10, <10 with/without, <5%, >95%, <4 partners, "
        "‡ (one partner dominates), * (hidden so another cannot be worked out, or not "
        "shared), † (hidden in an earlier publication of the period), Δ (changed since "
        "publication by too few partners' reports), not yet published (below backbone, "
        "initiative figures are the period's published ones).",
    )
    reason: str | None = Field(
        None,
        description="The rule behind the marker: primary, complementary, coarsened, withheld, "
        "few_partners, dominance, earlier_vintage, late_reports, not_published.",
    )


class SparkPoint(ReadModel):
    period: str
    value: float | None


class ScorecardRowRead(ReadModel):
    outcome: str | None
    outcome_name: str | None
    code: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    current: FigureRead
    baseline: float | None
    baseline_period: str | None
    baseline_withheld: bool = Field(
        False,
        description="The indicator has a baseline the caller is not told: it is not the "
        "figure of its period the caller is shown, and would give away a hidden or "
        "since-changed figure (so are progress, change since baseline, interim targets and "
        "the straight line to the end target).",
    )
    target: float | None = Field(
        description="The figure expected by this period on the way to the end target (see "
        "target_kind); on_track means at or better than it."
    )
    end_target: float | None
    end_target_period: str | None
    progress: float | None = Field(
        description="The share of the way from the baseline to the END target (0 at the "
        "baseline, 1 at the target); below 0 when the figure moved away from the target, "
        "above 1 past it."
    )
    status: str = Field(
        description="met | on_track | off_track | incomplete | hidden (a figure the caller may not see) | no_data | no_target"
    )
    previous: FigureRead | None
    trend: str | None
    change_since_baseline: float | None
    sparkline: list[SparkPoint]
    contributors: int | None = Field(
        description="Partners in the figure; not told below backbone level when too few for "
        "the figure to be shown (it would say whose figure it is)."
    )
    expected: int = Field(description="Active partners obliged to report the indicator.")
    series_break: bool
    reported: int | None = Field(
        description="Partners whose approved figure is in the total; not told where the "
        "contributor count is not."
    )
    share: float | None = Field(
        description="Backbone only: the share (0-1) of the expected partners' usual size that "
        "the reporting ones stand for, each missing partner counted at its last approved "
        "figure (count: value, amount: |value|, rate and average: denominator); null when a "
        "missing partner has never reported."
    )
    complete: bool = Field(
        description="Every expected partner reported, or the share reaches "
        "CM_COVERAGE_MIN_SHARE. When false, a judged status reads `incomplete` (and below "
        "backbone level progress is null)."
    )
    trend_basis: str | None = Field(
        description="What the trend compares: `all partners`, or `the N partners that "
        "reported in both periods` when the partners differ (like with like); null without "
        "a trend."
    )
    trend_previous: float | None = Field(
        description="Backbone only: the previous figure the trend compares."
    )
    trend_current: float | None = Field(
        description="Backbone only: the current figure the trend compares."
    )
    target_kind: str | None = Field(
        None,
        description="Where `target` comes from: `interim` (a target set for this period), "
        "`trajectory` (the straight line from the baseline to the end target) or `end` (the "
        "end target itself); null without a target.",
    )
    kind: str = Field(
        "population",
        description="`population` (how the whole community is doing) or `performance` (a "
        "partner programme's measure).",
    )
    performance_type: str | None = Field(
        None, description="A performance measure's type: how_much, how_well or better_off."
    )
    contributes_to: list[str] = Field(
        [],
        description="Codes of the population indicators a performance measure contributes to "
        "(contribution, not attribution).",
    )
    gap_targets: list[GapJudgementRead] = Field(
        [], description="The period's gap against each of the indicator's gap targets."
    )
    expression: str | None = Field(
        None,
        description="A computed indicator's expression over other indicators' codes; its "
        "figure is hidden wherever one of theirs is, and nobody reports it.",
    )


class GapJudgementRead(ReadModel):
    """One period's gap against a gap target (see "Gap targets" in the API description)."""

    dimension: str
    dimension_name: str
    gap: float | None = Field(
        description="The gap between the best and worst category; null when the caller "
        "does not know it (a category's figure is hidden from it) or without two categories."
    )
    expected: float = Field(
        description="The gap expected by this period: the straight line from the baseline "
        "gap to the target gap, the target gap from its period on (and where the caller is "
        "not told the baseline gap)."
    )
    status: str = Field(
        description="met | on_track | off_track | incomplete | hidden (a category's figure "
        "is hidden from the caller, so the gap is not known to it) | no_data"
    )
    progress: float | None = Field(
        description="(baseline gap - gap) / (baseline gap - target gap); below backbone "
        "level null when the figure is incomplete or the baseline gap is not told."
    )


class ScorecardRead(ReadModel):
    initiative: str
    initiative_name: str
    period: str
    periods: list[str]
    suppressed: bool
    threshold: int
    rows: list[ScorecardRowRead]


class SeriesPointRead(ReadModel):
    period: str
    key: str
    label: str
    figure: FigureRead


class TargetPoint(ReadModel):
    period: str
    target: float | None


class BreakRead(ReadModel):
    period: str
    note: str


class SeriesRead(ReadModel):
    initiative: str
    indicator: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    by: str | None
    periods: list[str]
    total: list[SeriesPointRead]
    breakdown: list[SeriesPointRead]
    targets: list[TargetPoint]
    baseline: float | None
    baseline_period: str | None
    baseline_withheld: bool = Field(
        False,
        description="The indicator has a baseline the caller is not told: it is not the "
        "figure of its period the caller is shown, and would give away a hidden or "
        "since-changed figure (so are progress, change since baseline, interim targets and "
        "the straight line to the end target).",
    )
    end_target: float | None
    end_target_period: str | None
    breaks: list[BreakRead]
    suppressed: bool
    expression: str | None = Field(
        None,
        description="A computed indicator's expression over other indicators' codes (no "
        "partner reports it: `by=partner` has no breakdown).",
    )


class EquityCategory(ReadModel):
    key: str
    label: str
    figure: FigureRead


class EquityPointRead(ReadModel):
    period: str
    categories: list[EquityCategory]
    best: str | None
    worst: str | None
    gap: float | None = Field(description="Between the best and worst category shown.")
    ratio: float | None
    expected_gap: float | None = Field(
        None, description="The gap expected by this period on the line to the gap target."
    )
    gap_status: str | None = Field(
        None,
        description="Against the gap target (null without one): met | on_track | off_track "
        "| incomplete | hidden (a category's figure is hidden from the caller: the gap is not "
        "known to it) | no_data",
    )
    gap_progress: float | None = Field(
        None, description="(baseline gap - gap) / (baseline gap - target gap)."
    )


class GapGoalRead(ReadModel):
    dimension: str
    dimension_name: str
    baseline: float | None = Field(
        description="The baseline gap; null when the caller is not told it (a category of the "
        "baseline's period is hidden from it: the gap would give it away)."
    )
    baseline_period: str
    target: float
    target_period: str = Field(description="The period the target gap is due by.")
    note: str | None


class NamedRead(ReadModel):
    key: str
    name: str


class CrossTabAxisRead(ReadModel):
    dimension: str
    name: str
    categories: list[NamedRead]


class CrossTabCellRead(ReadModel):
    key: str = Field(description="The cell's category key, e.g. `race_x_income=black.low`.")
    row: str = Field(description="Its row's category key, e.g. `race=black`.")
    column: str = Field(description="Its column's category key, e.g. `income=low`.")


class CrossTabRead(ReadModel):
    rows: CrossTabAxisRead
    columns: CrossTabAxisRead
    cells: list[CrossTabCellRead]


class EquityRead(ReadModel):
    indicator: str
    dimension: str
    direction: str
    unit: str
    points: list[EquityPointRead]
    gap_target: GapGoalRead | None = Field(
        None, description="The gap target on this dimension, if the indicator has one."
    )
    cross_tab: CrossTabRead | None = Field(
        None,
        description="The dimension is a cross-tab: its rows and columns, and each cell's row "
        "and column (its figures are the points' categories, suppressed like any other).",
    )


class CompletenessCellRead(ReadModel):
    organisation: str
    indicator: str
    state: str
    late: bool
    reported: bool


class CompletenessRead(ReadModel):
    initiative: str
    period: str
    due_on: date
    members: list[NamedRead]
    indicators: list[NamedRead]
    cells: list[CompletenessCellRead]
    counts: dict[str, int]
