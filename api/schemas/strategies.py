"""Bodies of strategies and their actions (README: Strategies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import IsoDate, ReadModel, WriteModel, json_int
from models.strategies.strategies import (
    CODE_PATTERN,
    DESCRIPTION_MAX,
    LINKS_MAX,
    NOTE_MAX,
    POSITION_MAX,
    TITLE_MAX,
)

Status = Literal["planned", "in_progress", "done", "dropped"]
Position = json_int(ge=0, le=POSITION_MAX)
Owners = Field(
    None,
    max_length=LINKS_MAX,
    description="The member organisations (slugs) that own the strategy; a partner sees the "
    "strategies its organisation owns.",
    examples=[["city-library"]],
)
Indicators = Field(
    None,
    max_length=LINKS_MAX,
    description="Codes of the initiative's indicators the strategy aims to move.",
    examples=[["READ3"]],
)
Description = Field(
    None,
    max_length=DESCRIPTION_MAX,
    description="Markdown (CommonMark; raw HTML is shown as text, links only to http, https "
    "and mailto addresses, no images).",
)


class StrategyCreate(WriteModel):
    code: str = Field(pattern=CODE_PATTERN, examples=["summer-reading"])
    title: str = Field(min_length=1, max_length=TITLE_MAX, examples=["Summer reading push"])
    description: str | None = Description
    starts_on: IsoDate
    ends_on: IsoDate | None = Field(None, description="None while open-ended.")
    owners: list[str] | None = Owners
    indicators: list[str] | None = Indicators


class StrategyUpdate(WriteModel):
    title: str | None = Field(None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Description
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = Field(None, description="null makes the strategy open-ended.")
    owners: list[str] | None = Owners
    indicators: list[str] | None = Indicators


class ActionCreate(WriteModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX, examples=["Open two more libraries"])
    status: Status = "planned"
    due_on: IsoDate | None = None
    done_on: IsoDate | None = Field(
        None, description="For a done action only; a done action without one is done today."
    )
    note: str | None = Field(None, max_length=NOTE_MAX)
    position: Position | None = Field(None, description="Its place in the list; last if none.")


class ActionUpdate(WriteModel):
    title: str | None = Field(None, min_length=1, max_length=TITLE_MAX)
    status: Status | None = None
    due_on: IsoDate | None = None
    done_on: IsoDate | None = None
    note: str | None = Field(None, max_length=NOTE_MAX)
    position: Position | None = None


class ActionRead(ReadModel):
    id: int
    title: str
    status: Status
    due_on: date | None
    done_on: date | None
    note: str
    position: int


class OwnerRead(ReadModel):
    organisation: str
    name: str


class StrategyRead(ReadModel):
    code: str
    title: str
    description: str = Field(description="Markdown as written.")
    html: str = Field(description="The description rendered to safe HTML, as every page shows it.")
    starts_on: date
    ends_on: date | None
    owners: list[OwnerRead]
    indicators: list[str]
    actions: list[ActionRead]
    actions_done: int
    actions_total: int = Field(description="Actions not dropped.")
    created_at: datetime
    updated_at: datetime
