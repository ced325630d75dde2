"""The rollup table: approved sums per indicator × period × disaggregation, kept in step with
the values in the same transaction (:mod:`models.analytics.views.rollups`)."""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
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
