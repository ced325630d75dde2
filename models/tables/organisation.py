"""Organisations: the partners (school districts, nonprofits, city departments, funders…)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, TimestampMixin

SECTORS = (
    "education",
    "early_childhood",
    "government",
    "nonprofit",
    "health",
    "business",
    "higher_education",
    "philanthropy",
    "community",
    "other",
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _in(column: str, options: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(o) for o in options)})"


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(_in("sector", SECTORS), name="sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"Organisation({self.slug!r})"
