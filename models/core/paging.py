"""Pages of a list: every list in the API and the dashboard is read one bounded page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from models.core.errors import (
    InvalidInput,
)
from models.core.i18n import gettext

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the size of the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            gettext("limit must be between 1 and %(max_limit)s", max_limit=MAX_LIMIT), field="limit"
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(
            gettext("offset must be between 0 and %(max_offset)s", max_offset=MAX_OFFSET),
            field="offset",
        )


def page_of(*, session: Session, stmt: Select[T], limit: int, offset: int) -> Page[T]:
    check_page(limit, offset)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(limit).offset(offset)).unique())
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


def contains_text(column: SQLCoreOperations[str], text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with the LIKE wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
