"""Bodies of webhook endpoints and their delivery log (README, "Webhooks")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel

Event = Literal["report_approved", "report_reopened", "period_published"]


class WebhookRead(ReadModel):
    id: int
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    created_at: datetime
    secret_set_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="Signs every delivery (README, Webhooks). Shown this once: keep it now."
    )


class WebhookCreate(WriteModel):
    url: str = Field(
        max_length=1000,
        description="https:// (http:// only to 127.0.0.1 or localhost, for development).",
    )
    description: str | None = Field(None, max_length=300)
    events: list[Event] = Field(
        default=["report_approved", "report_reopened", "period_published"],
        min_length=1,
        max_length=3,
    )
    enabled: bool = True


class WebhookPatch(WriteModel):
    url: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=300)
    events: list[Event] | None = Field(None, min_length=1, max_length=3)
    enabled: bool | None = None


class DeliveryRead(ReadModel):
    id: int
    event_id: str
    event: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str = Field(description="delivered, retrying (tried again later) or failed.")
