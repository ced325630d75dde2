"""Bodies of the stories behind the curve."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel, json_int
from models.stories.stories import MAX_LENGTH

Version = json_int(ge=0)


class StoryIn(WriteModel):
    text: str = Field(
        max_length=MAX_LENGTH,
        description="The story in Markdown (CommonMark; raw HTML is shown as text, links only "
        "to http, https and mailto addresses, no images). An empty text withdraws the story "
        "from the next publication.",
        examples=["Reading rose in **every** school; the library partners' summer programme…"],
    )
    version: Version | None = Field(
        None,
        description="The version you edited (0 when there was none): when someone saved "
        "another meanwhile the answer is 409 `stale_version` and nothing is written.",
    )


class StoryRead(ReadModel):
    indicator: str
    period: str
    version: int
    text: str = Field(description="Markdown as written.")
    html: str = Field(description="The text rendered to safe HTML, as every page shows it.")
    written_at: datetime | None = Field(
        description="When this version was written (backbone team only)."
    )
    written_by: str | None = Field(description="Who wrote it (backbone team only).")
    published_version: int | None = Field(
        description="The version the period's latest publication carries, if any."
    )
    published_at: datetime | None


class PublicStory(ReadModel):
    indicator: str
    version: int
    text: str
    html: str
