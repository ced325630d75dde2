"""Initiatives, their members (organisations taking part) and the periods they report in.

Everything below an initiative carries its ``initiative_id`` so the schema can be distributed by
initiative without a rewrite (docs/architecture.md: Scale).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base, TimestampMixin
from models.tables.organisation import Organisation, _in

PERIOD_KINDS = ("quarter", "year")


class Initiative(TimestampMixin, Base):
    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint("suppression_threshold >= 1", name="suppression_threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200))
    suppression_threshold: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # Flag for the demo loader: `cm demo --reset` removes only what it created.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    members: Mapped[list[Member]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", passive_deletes=True
    )
    periods: Mapped[list[Period]] = relationship(
        back_populates="initiative",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Period.starts_on",
    )

    def __repr__(self) -> str:
        return f"Initiative({self.slug!r})"


class Member(TimestampMixin, Base):
    """An organisation taking part in an initiative; its obligations say what it reports."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("initiative_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    joined_on: Mapped[date | None] = mapped_column(Date)
    # Whether funders of the initiative may see this partner's approved figures by name.
    shares_with_funders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    initiative: Mapped[Initiative] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Period(Base):
    """A reporting window (``2025Q3`` or ``2025``); a locked period accepts no writes."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("initiative_id", "key"),
        CheckConstraint(_in("kind", PERIOD_KINDS), name="kind"),
        CheckConstraint("starts_on <= ends_on", name="starts_before_ends"),
        CheckConstraint("opens_on <= due_on AND due_on <= closes_on", name="open_due_close_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    opens_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    initiative: Mapped[Initiative] = relationship(back_populates="periods")

    def __repr__(self) -> str:
        return f"Period({self.key!r})"
