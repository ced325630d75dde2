"""Submissions (a member's report for a period) and the values in them.

Values carry copies of ``initiative_id``, ``period_id`` and ``measure_type`` so that rollups are
one indexed ``GROUP BY`` and the database itself refuses impossible numbers (negative counts,
numerator above denominator, a rate without its denominator). ``measure_type`` is tied to the
indicator's by a composite foreign key, so the copy cannot drift.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base, JSONType, TimestampMixin, utcnow
from models.tables.indicator import TOTAL, Indicator
from models.tables.initiative import Member, Period
from models.tables.organisation import _in

STATUSES = ("draft", "submitted", "approved", "returned")


class Submission(TimestampMixin, Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("member_id", "period_id"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_submissions_initiative_period_status", "initiative_id", "period_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft", server_default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    is_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    comment: Mapped[str | None] = mapped_column(Text)  # the backbone's note when returning
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]  # the latest submission
    # The first submission, whose lateness the report keeps through returns and resubmissions.
    first_submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()
    period: Mapped[Period] = relationship()
    values: Mapped[list[Value]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )


class Value(Base):
    """One reported number: (submission, indicator, disaggregation) → value."""

    __tablename__ = "values"
    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id", "disaggregation"),
        ForeignKeyConstraint(
            ["indicator_id", "measure_type"],
            ["indicators.id", "indicators.measure_type"],
            ondelete="CASCADE",
            onupdate="CASCADE",
            name="fk_values_indicator_measure_type",
        ),
        CheckConstraint(
            "(category_id IS NULL AND disaggregation = 'total')"
            " OR (category_id IS NOT NULL AND disaggregation <> 'total')",
            name="total_has_no_category",
        ),
        CheckConstraint("numerator IS NULL OR numerator >= 0", name="numerator_non_negative"),
        CheckConstraint("denominator IS NULL OR denominator >= 0", name="denominator_non_negative"),
        CheckConstraint(
            "numerator IS NULL OR denominator IS NULL OR numerator <= denominator",
            name="numerator_within_denominator",
        ),
        CheckConstraint(
            "measure_type <> 'count' OR (value >= 0 AND value = ROUND(value))",
            name="count_is_whole_non_negative",
        ),
        CheckConstraint(
            "measure_type <> 'rate'"
            " OR (numerator IS NOT NULL AND denominator IS NOT NULL AND denominator > 0)",
            name="rate_has_fraction",
        ),
        CheckConstraint(
            "measure_type <> 'average' OR (denominator IS NOT NULL AND denominator > 0)",
            name="average_has_weight",
        ),
        # The rollup path: initiative → indicator → period → disaggregation, covering the sums.
        Index(
            "ix_values_rollup",
            "initiative_id",
            "indicator_id",
            "period_id",
            "disaggregation",
            "submission_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(index=True)
    measure_type: Mapped[str] = mapped_column(String(10))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    disaggregation: Mapped[str] = mapped_column(String(90), default=TOTAL, server_default=TOTAL)
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    submission: Mapped[Submission] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship(viewonly=True)


class DeadlineExtension(Base):
    """One member may still write its report for one period until ``until``, although the
    period has closed: the backbone team extends one partner's deadline instead of reopening
    the period for everyone. A locked period stays locked. The rule that reads it is
    ``models.reporting.submissions.check_writable``; grants and revocations are audited."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (UniqueConstraint("member_id", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
