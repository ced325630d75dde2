"""Strategies and their actions: what the backbone team and partners do to turn a curve.

A strategy belongs to one initiative, is owned by some of its members, aims at some of its
indicators, and runs from ``starts_on`` to ``ends_on`` (open-ended while None). Its actions are
the steps, each with a status (README: Strategies).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base, TimestampMixin, utcnow
from models.tables.indicator import Indicator
from models.tables.initiative import Member
from models.tables.organisation import _in

ACTION_STATUSES = ("planned", "in_progress", "done", "dropped")

strategy_owners = Table(
    "strategy_owners",
    Base.metadata,
    Column("strategy_id", ForeignKey("strategies.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)

strategy_indicators = Table(
    "strategy_indicators",
    Base.metadata,
    Column("strategy_id", ForeignKey("strategies.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True),
)


class Strategy(TimestampMixin, Base):
    __tablename__ = "strategies"
    __table_args__ = (
        UniqueConstraint("initiative_id", "code"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_starts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")  # Markdown
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owners: Mapped[list[Member]] = relationship(secondary=strategy_owners, order_by=Member.id)
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=strategy_indicators, order_by=Indicator.position
    )
    actions: Mapped[list[StrategyAction]] = relationship(
        back_populates="strategy",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="[StrategyAction.position, StrategyAction.id]",
    )


class StrategyAction(TimestampMixin, Base):
    __tablename__ = "strategy_actions"
    __table_args__ = (CheckConstraint(_in("status", ACTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategies.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    due_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    strategy: Mapped[Strategy] = relationship(back_populates="actions")
