"""Request and response bodies of the configuration endpoints (``XCreate`` / ``XUpdate`` / ``XRead``).

Request bodies forbid unknown fields. The domain layer (models/initiatives/) checks the same
rules again, so the dashboard, which calls it directly, gets the same answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import Field, model_validator

from api.schemas.common import IsoDate, JsonInt, ReadModel, WriteModel, json_int
from models.initiatives.dimensions import DIMENSION_CODE_PATTERN
from models.initiatives.indicators import INDICATOR_CODE_PATTERN
from models.initiatives.outcomes import OUTCOME_CODE_PATTERN
from models.tables.indicator import (
    DIRECTIONS,
    FREQUENCIES,
    KINDS,
    MEASURE_TYPES,
    PERFORMANCE_TYPES,
)
from models.tables.initiative import PERIOD_KINDS, Member
from models.tables.organisation import SECTORS, SLUG_PATTERN

T = TypeVar("T")

# Built from the domain's tuples, so the choices cannot drift from the table constraints.
Sector = Literal[SECTORS]  # type: ignore[valid-type]
MeasureType = Literal[MEASURE_TYPES]  # type: ignore[valid-type]
Direction = Literal[DIRECTIONS]  # type: ignore[valid-type]
Frequency = Literal[FREQUENCIES]  # type: ignore[valid-type]
Kind = Literal[KINDS]  # type: ignore[valid-type]
PerformanceType = Literal[PERFORMANCE_TYPES]  # type: ignore[valid-type]
KIND_HELP = (
    "`population`: how the whole community is doing; `performance`: a partner programme's "
    "measure, typed by `performance_type`."
)
TYPE_HELP = (
    "A performance measure's type (required for one, null for a population indicator): "
    "`how_much` did we do, `how_well` did we do it, is anyone `better_off`."
)
LINKS_HELP = (
    "Codes of the population indicators this performance measure contributes to (same "
    "initiative); empty for a population indicator."
)
PeriodKind = Literal[PERIOD_KINDS]  # type: ignore[valid-type]
Threshold = json_int(ge=1)  # people: figures based on fewer are suppressed
Decimals = json_int(ge=0, le=6)


# --- organisations ----------------------------------------------------------------------------


class OrganisationCreate(WriteModel):
    slug: str = Field(max_length=80, pattern=SLUG_PATTERN, examples=["eastside-schools"])
    name: str = Field(min_length=1, max_length=200)
    sector: Sector
    website: str | None = Field(None, max_length=300)
    description: str | None = None


class OrganisationUpdate(WriteModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    sector: Sector | None = None
    website: str | None = Field(None, max_length=300)
    description: str | None = None


class OrganisationRead(ReadModel):
    slug: str
    name: str
    sector: str
    website: str | None
    description: str | None
    created_at: datetime


# --- initiatives ------------------------------------------------------------------------------


class InitiativeCreate(WriteModel):
    slug: str = Field(max_length=80, pattern=SLUG_PATTERN, examples=["cradle-to-career"])
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    region: str | None = Field(None, max_length=200)
    suppression_threshold: Threshold = 10


class InitiativeUpdate(WriteModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    region: str | None = Field(None, max_length=200)
    suppression_threshold: Threshold | None = None


class InitiativeRead(ReadModel):
    slug: str
    name: str
    description: str | None
    region: str | None
    suppression_threshold: int
    created_at: datetime


# --- members ----------------------------------------------------------------------------------


class MemberCreate(WriteModel):
    organisation: str | None = Field(
        None,
        description="The slug of an organisation of the directory; or give new_organisation.",
        max_length=80,
    )
    new_organisation: OrganisationCreate | None = Field(
        None,
        description="A partner not in the directory yet: added to it and enrolled in one step "
        "(how backbone staff add organisations).",
    )
    joined_on: IsoDate | None = None
    shares_with_funders: bool = True
    active: bool = True


class MemberUpdate(WriteModel):
    joined_on: IsoDate | None = None
    shares_with_funders: bool | None = None
    active: bool | None = None


class MemberRead(ReadModel):
    organisation: str = Field(description="The organisation's slug.")
    organisation_name: str
    sector: str
    joined_on: date | None
    shares_with_funders: bool
    active: bool

    @model_validator(mode="before")
    @classmethod
    def _from_member(cls, data: Any) -> Any:
        if isinstance(data, Member):
            return {
                "organisation": data.organisation.slug,
                "organisation_name": data.organisation.name,
                "sector": data.organisation.sector,
                "joined_on": data.joined_on,
                "shares_with_funders": data.shares_with_funders,
                "active": data.active,
            }
        return data


class ObligationsUpdate(WriteModel):
    indicators: list[str] = Field(description="Indicator codes; replaces the whole list.")


class ObligationsRead(ReadModel):
    organisation: str
    indicators: list[str]


# --- outcomes ---------------------------------------------------------------------------------


class OutcomeCreate(WriteModel):
    code: str = Field(pattern=OUTCOME_CODE_PATTERN, examples=["kindergarten_readiness"])
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    position: JsonInt | None = Field(None, description="Sort order; defaults to last.")


class OutcomeUpdate(WriteModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    position: JsonInt | None = None


class OutcomeRead(ReadModel):
    code: str
    name: str
    description: str | None
    position: int


# --- dimensions -------------------------------------------------------------------------------


class CategoryWrite(WriteModel):
    code: str = Field(pattern=DIMENSION_CODE_PATTERN, examples=["black"])
    name: str = Field(min_length=1, max_length=120)
    position: JsonInt | None = Field(None, description="Sort order; defaults to last.")


class DimensionCreate(WriteModel):
    code: str = Field(pattern=DIMENSION_CODE_PATTERN, examples=["race"])
    name: str = Field(min_length=1, max_length=120)
    position: JsonInt | None = Field(None, description="Sort order; defaults to last.")
    categories: list[CategoryWrite] = []
    components: list[str] | None = Field(
        None,
        description=(
            "A cross-tab: the codes of two plain dimensions [rows, columns]; its categories are "
            "their pairs (at most 48), coded `row.column`. Leave `categories` empty."
        ),
        examples=[["race", "income"]],
    )


class DimensionUpdate(WriteModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    position: JsonInt | None = None
    categories: list[CategoryWrite] | None = Field(
        None,
        description="Categories to add (new code) or rename (existing code); others are kept.",
    )


class CategoryRead(ReadModel):
    code: str
    name: str
    position: int


class DimensionRead(ReadModel):
    code: str
    name: str
    position: int
    categories: list[CategoryRead]
    components: list[str] | None = Field(
        None, description="A cross-tab's [rows, columns] dimension codes; null for a plain one."
    )


# --- indicators -------------------------------------------------------------------------------


EXPRESSION_HELP = (
    "A computed indicator: arithmetic over other indicators' codes of the initiative (numbers, "
    "codes, + - * /, parentheses, min(...), max(...)), e.g. `100 * FAFSA_DONE / SENIORS`. It "
    "takes no values; its figures come from its inputs' and are hidden wherever an input is."
)


class PeriodValue(WriteModel):
    value: float
    period: str | None = Field(None, description="Period key, e.g. 2024 or 2024Q4.")


class InterimTarget(WriteModel):
    period: str = Field(description="Period key, e.g. 2026Q4.")
    value: float
    note: str | None = None


class IndicatorCreate(WriteModel):
    code: str = Field(pattern=INDICATOR_CODE_PATTERN, examples=["K_READY"])
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=40)
    measure_type: MeasureType
    definition: str | None = None
    direction: Direction = "higher"
    valid_min: float | None = None
    valid_max: float | None = None
    decimals: Decimals = 1
    frequency: Frequency = "quarterly"
    data_source: str | None = None
    position: JsonInt | None = Field(None, description="Sort order; defaults to last.")
    outcome: str | None = Field(None, description="Outcome code.")
    dimensions: list[str] = Field([], description="Codes of the allowed disaggregations.")
    baseline: PeriodValue | None = None
    target: PeriodValue | None = Field(None, description="The end target.")
    targets: list[InterimTarget] = Field([], description="Interim targets, one per period.")
    kind: Kind = Field("population", description=KIND_HELP)
    performance_type: PerformanceType | None = Field(None, description=TYPE_HELP)
    contributes_to: list[str] = Field([], description=LINKS_HELP)
    expression: str | None = Field(
        None, max_length=500, description=EXPRESSION_HELP, examples=["100 * FAFSA_DONE / SENIORS"]
    )


class IndicatorUpdate(WriteModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, min_length=1, max_length=40)
    measure_type: MeasureType | None = None
    definition: str | None = None
    direction: Direction | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    decimals: Decimals | None = None
    frequency: Frequency | None = None
    data_source: str | None = None
    position: JsonInt | None = None
    outcome: str | None = Field(None, description="Outcome code; null detaches.")
    dimensions: list[str] | None = Field(None, description="Replaces the allowed dimensions.")
    baseline: PeriodValue | None = Field(None, description="null clears the baseline.")
    target: PeriodValue | None = Field(None, description="null clears the end target.")
    targets: list[InterimTarget] | None = Field(None, description="Replaces interim targets.")
    kind: Kind | None = Field(
        None, description=KIND_HELP + " Back to `population` clears the type and the links."
    )
    performance_type: PerformanceType | None = Field(None, description=TYPE_HELP)
    contributes_to: list[str] | None = Field(None, description="Replaces the links. " + LINKS_HELP)
    expression: str | None = Field(
        None, max_length=500, description=EXPRESSION_HELP + " null makes it a reported indicator."
    )


class PeriodValueRead(ReadModel):
    value: float
    period: str | None


class InterimTargetRead(ReadModel):
    period: str
    value: float
    note: str | None


class GapPoint(WriteModel):
    value: float = Field(description="A gap in the indicator's unit; never negative.")
    period: str = Field(max_length=16, description="Period key, e.g. 2024 or 2024Q4.")


class GapTargetIn(WriteModel):
    baseline: GapPoint = Field(description="The gap the initiative starts from, and when.")
    target: GapPoint = Field(description="The gap wanted, and the period it is due by.")
    note: str | None = Field(None, max_length=2000)


class GapTargetRead(ReadModel):
    dimension: str
    baseline: PeriodValueRead | None = Field(
        description="The baseline gap; null when the caller is not told it (a category of the "
        "baseline's period is hidden from it, and the gap would give it away)."
    )
    target: PeriodValueRead = Field(description="The target gap and the period it is due by.")
    note: str | None


class IndicatorRead(ReadModel):
    code: str
    name: str
    definition: str | None
    unit: str
    measure_type: str
    direction: str
    valid_min: float | None
    valid_max: float | None
    decimals: int
    frequency: str
    data_source: str | None
    position: int
    outcome: str | None = Field(description="Outcome code.")
    dimensions: list[str] = Field(description="Codes of the allowed disaggregations.")
    baseline: PeriodValueRead | None
    baseline_withheld: bool = Field(
        False,
        description="There is a baseline the caller is not told (nor the interim targets): it "
        "is not the figure of its period the caller is shown, and would give away a hidden "
        "or since-changed figure.",
    )
    target: PeriodValueRead | None = Field(description="The end target.")
    targets: list[InterimTargetRead] = Field(description="Interim targets, earliest first.")
    kind: str = Field(description=KIND_HELP)
    performance_type: str | None = Field(description=TYPE_HELP)
    contributes_to: list[str] = Field(description=LINKS_HELP)
    gap_targets: list[GapTargetRead] = Field(
        [], description="Targets on the gap between the best and worst category, by dimension."
    )
    expression: str | None = Field(None, description=EXPRESSION_HELP)


# --- periods ----------------------------------------------------------------------------------


class PeriodCreate(WriteModel):
    key: str = Field(
        description="2025Q3 for a quarter, 2025 for a year.", examples=["2025Q3"], max_length=16
    )
    opens_on: IsoDate | None = Field(None, description="Defaults to the day after the period ends.")
    due_on: IsoDate | None = Field(None, description="Defaults to 30 days after the period ends.")
    closes_on: IsoDate | None = Field(
        None, description="Defaults to 60 days after the period ends."
    )


class PeriodUpdate(WriteModel):
    opens_on: IsoDate | None = None
    due_on: IsoDate | None = None
    closes_on: IsoDate | None = None


class PeriodRead(ReadModel):
    key: str
    kind: str
    starts_on: date
    ends_on: date
    opens_on: date
    due_on: date
    closes_on: date
    locked: bool


# --- series breaks ----------------------------------------------------------------------------


class SeriesBreakIn(WriteModel):
    period: str = Field(max_length=16, examples=["2025Q3"])
    note: str = Field(min_length=1, max_length=2000, examples=["New state reading test"])


class SeriesBreakUpdate(WriteModel):
    note: str = Field(min_length=1, max_length=2000, examples=["New state reading test"])


class SeriesBreakRead(ReadModel):
    period: str
    note: str
