"""Response and request bodies.

Request bodies forbid unknown fields and take JSON's types as they are: ``false`` is not the
number 0 and ``"3"`` is not 3, while ``3.0`` is the integer 3 (as the OpenAPI schema says).
Dates arrive as ISO text, so they are the one field type read from a string.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")

# Row ids are 32-bit integers on PostgreSQL; SQLite cannot even bind a Python int past 2**63.
# A larger id in a path is malformed (422), not a database error.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# A date in a request body: ISO text ("2026-03-31"), the one value strict mode would refuse.
IsoDate = Annotated[date, Field(strict=False)]


def _whole_number(value: object) -> object:
    """JSON has one number type: 3.0 is the integer 3, as JSON Schema says (true and "3" are
    left for strict mode to refuse, 3.5 too)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# An integer in a request body: 3 or 3.0, never true, "3" or 3.5.
JsonInt = Annotated[int, BeforeValidator(_whole_number)]


def json_int(**bounds: int) -> Any:
    """JsonInt with bounds (``ge``, ``le``). They go before the validator: after it, or on the
    field of an optional one, pydantic writes them into the OpenAPI schema as ``ge``/``le``
    instead of ``minimum``/``maximum``, and clients cannot see them."""
    return Annotated[int, Field(**bounds), BeforeValidator(_whole_number)]


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorRead(BaseModel):
    detail: str
    code: str
    field: str | None = None


class HealthRead(BaseModel):
    status: str


class ReadyRead(BaseModel):
    status: str
    database: str
    schema_revision: str | None


class InitiativeSummaryRead(ReadModel):
    slug: str
    name: str
    region: str | None
    description: str | None
    members: int
    outcomes: int
    indicators: int
    current_period: str | None
    latest_approved_period: str | None
    member_names: list[str]


class Page(ReadModel, Generic[T]):
    """One page of a list: ``items`` plus what is needed to fetch the next."""

    items: list[T]
    total: int
    limit: int
    offset: int
