"""Bodies of notifications: preferences, reminder schedules, the mailbox and the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel, json_int

Kind = Literal[
    "report_returned",
    "report_approved",
    "report_reopened",
    "period_published",
    "invitation",
    "reminder",
]
Mode = Literal["immediate", "daily", "off"]


class PreferenceRead(ReadModel):
    kind: str
    label: str
    mode: str


class PreferencesPut(WriteModel):
    modes: dict[Kind, Mode] = Field(
        description="Kinds to change: immediate (the default), daily (in one digest a day; not "
        "invitations) or off.",
        max_length=10,
    )


class ScheduleRead(ReadModel):
    offsets: list[int] = Field(
        description="Days from each period's due date on which partners that have not "
        "submitted are reminded (negative: before it)."
    )
    escalate_after_days: int | None = Field(
        description="Days overdue after which the backbone staff are told of a report not "
        "submitted; null: never."
    )


class SchedulePut(WriteModel):
    offsets: list[json_int(ge=-120, le=120)] = Field(max_length=10)  # type: ignore[valid-type]
    escalate_after_days: json_int(ge=1, le=120) | None = Field(  # type: ignore[valid-type]
        7, description="Days overdue after which the backbone staff are told; null: never."
    )


class MailRead(ReadModel):
    id: int
    at: datetime
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, Any]


class OutboxRead(ReadModel):
    id: int
    kind: str
    channel: str
    to: str
    status: str
    attempts: int
    created_at: datetime
    available_at: datetime
    sent_at: datetime | None
    last_error: str | None


class BounceRead(ReadModel):
    id: int
    outbox_id: int | None
    kind: str | None
    recipient: str
    status: str
    diagnostic: str | None
    received_at: datetime
    message_id: str
    holds: bool = Field(
        description="A hard bounce (5.x.x) not cleared yet: mail to the address is held."
    )
    cleared_at: datetime | None = Field(
        None, description="When an admin cleared it (mail to the address goes out again)."
    )


class BounceClear(WriteModel):
    address: str = Field(min_length=3, max_length=254, description="The address to mail again.")


class BounceClearedRead(ReadModel):
    address: str
    cleared: int = Field(description="Hard bounces cleared (each audited).")


class BounceRecordedRead(ReadModel):
    outbox_id: int
    message_id: str
    recorded: int = Field(description="Failed recipients recorded now (0: known already).")
    bounced: list[str] = Field(description="Every failed recipient the report names.")
    other: list[str] = Field(description="Recipients with another action, as action: address.")


class UnsubscribedRead(ReadModel):
    email: str
    kind: str
    label: str


class NoticeRead(ReadModel):
    id: int
    kind: str
    organisation: str | None = Field(
        description="The partner's slug; null for a message to funders and backbone staff."
    )
    organisation_name: str | None
    to: str
    written_at: datetime
    sent_at: datetime | None
    status: str = Field(
        description="pending, sending, sent, failed (see last_error), skipped, held, or "
        "bounced (sent, then a delivery status notification said it failed: see "
        "bounce_status); a message that went out in a daily digest has the digest's status "
        "and time."
    )
    attempts: int
    last_error: str | None
    offset: int | None = Field(description="A reminder's day from the due date (negative: before).")
    in_digest: bool
    bounce_status: str | None = Field(
        default=None, description='The bounce\'s RFC 3463 status, e.g. "5.1.1".'
    )
    bounce_diagnostic: str | None = None
    bounced_at: datetime | None = None


class PeriodNoticesRead(ReadModel):
    period: str
    due_on: date
    notices: list[NoticeRead]
