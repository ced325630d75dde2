"""The rollup table: approved sums per indicator × period × disaggregation, kept in step with
the values in the same transaction (:mod:`models.analytics.views.rollups`)."""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base


class RollupRow(Base):
    __tablename__ = "rollups"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True
    )
    period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    disaggregation: Mapped[str] = mapped_column(String(90), primary_key=True)
    measure_type: Mapped[str] = mapped_column(String(10))
    sum_value: Mapped[float] = mapped_column(Float, default=0.0)
    sum_numerator: Mapped[float] = mapped_column(Float, default=0.0)
    sum_denominator: Mapped[float] = mapped_column(Float, default=0.0)
    sum_weighted: Mapped[float] = mapped_column(Float, default=0.0)  # Σ value × denominator
    contributors: Mapped[int] = mapped_column(Integer, default=0)


class PartnerTotals(Base):
    """Every partner's approved total of one indicator in one period, packed in one row next to
    the rollups and kept in step with them (``models.analytics.rollups.pack``): coverage and
    like-with-like trends read one row per indicator and period instead of one per partner."""

    __tablename__ = "partner_totals"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True
    )
    period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    measure_type: Mapped[str] = mapped_column(String(10))
    partners: Mapped[int] = mapped_column(Integer)
    # Little-endian: the partners' member ids (int64), then their values, numerators and
    # denominators as stored (float64 each, 0 where the column is empty), in submission order.
    packed: Mapped[bytes] = mapped_column(LargeBinary)
