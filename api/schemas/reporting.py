"""Bodies of submissions: values, drafts, the workflow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import IsoDate, ReadModel, WriteModel

StrictNumber = Annotated[float | None, Field(strict=True, allow_inf_nan=False)]


class ValueIn(WriteModel):
    indicator: str = Field(min_length=1, max_length=60, examples=["K_READY"])
    disaggregation: str = Field("total", max_length=90, examples=["total", "race=black"])
    value: StrictNumber = Field(None, description="Counts, amounts, averages. Rates: optional.")
    numerator: StrictNumber = Field(None, description="Rates: the people meeting the measure.")
    denominator: StrictNumber = Field(
        None, description="Rates: the people measured. Averages: how many cases it averages."
    )
    note: str | None = Field(None, max_length=2000)
    remove: bool = Field(False, description="Delete this value from the draft.")


class ValuesPut(WriteModel):
    values: list[ValueIn] = Field(max_length=20_000)
    reason: str | None = Field(None, max_length=2000, description="Why (kept in the history).")


class CommentIn(WriteModel):
    comment: str = Field(min_length=1, max_length=4000)


class ValueRead(ReadModel):
    id: int
    indicator: str
    disaggregation: str
    value: float
    numerator: float | None
    denominator: float | None
    note: str | None
    flags: list[str]


class WarningRead(ReadModel):
    indicator: str
    disaggregation: str
    code: str
    message: str


class SubmissionRead(ReadModel):
    initiative: str
    organisation: str
    period: str
    status: Literal["not_started", "draft", "submitted", "approved", "returned"]
    version: int
    is_late: bool
    comment: str | None
    submitted_at: datetime | None = Field(description="The latest submission.")
    first_submitted_at: datetime | None = Field(
        None,
        description="The first submission; `is_late` is its lateness, kept when the report "
        "is returned and submitted again.",
    )
    approved_at: datetime | None
    updated_at: datetime | None
    values: list[ValueRead]
    warnings: list[WarningRead]
    missing: list[str] = Field(description="Obligations without a total value yet.")


class SaveRead(ReadModel):
    submission: SubmissionRead
    created: int
    updated: int
    unchanged: int
    removed: int


class SubmissionSummary(ReadModel):
    organisation: str
    period: str
    status: str
    version: int
    is_late: bool
    submitted_at: datetime | None
    approved_at: datetime | None
    updated_at: datetime | None


class HistoryEvent(ReadModel):
    at: datetime | None
    actor: str | None = Field(validation_alias="actor_label")
    action: str
    before: dict | None
    after: dict | None
    reason: str | None


class ExtensionPut(WriteModel):
    until: IsoDate = Field(
        description="The last day the partner may still write this report (after the period "
        "closes, not in the past).",
        examples=["2026-12-15"],
    )
    reason: str = Field(min_length=1, max_length=4000, description="Why (kept in the audit).")


class ReturnWithExtensionIn(WriteModel):
    comment: str = Field(min_length=1, max_length=4000, description="To the partner; the reason.")
    until: IsoDate = Field(
        description="The partner may correct and resubmit until this day (inclusive).",
        examples=["2026-12-15"],
    )


class ExtensionRead(ReadModel):
    organisation: str
    organisation_name: str
    period: str
    closes_on: date = Field(description="The period's own closing day.")
    until: date = Field(description="The partner may write this report until this day.")
    reason: str
    granted_at: datetime
    granted_by: str | None = Field(description="The granting user's e-mail.")
    running: bool = Field(description="True while `until` is today or later.")


class ReturnedWithExtensionRead(ReadModel):
    submission: SubmissionRead
    extension: ExtensionRead


class NextDeadlineRead(ReadModel):
    organisation: str
    period: str
    due_on: date
    closes_on: date
    extended_until: date | None = Field(description="The partner's deadline extension, if any.")
    deadline: date = Field(description="The extension's day when granted, else the due date.")
    days_left: int = Field(description="Days from today to the deadline; negative once past.")
    status: str = Field(description="not started, draft or returned.")


class NextDeadlineAnswer(ReadModel):
    next: NextDeadlineRead | None = Field(
        description="The earliest deadline among the reports the partner may still write and "
        "has not submitted; null when none is owed."
    )
