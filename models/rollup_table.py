"""The maintained rollup table: sums per indicator × period × disaggregation of approved values.

Approving a submission adds its values' sums, reopening subtracts them, in the same transaction
as the status change, so dashboards read a few thousand pre-summed rows instead of scanning
millions of values and are fresh the instant data is approved. ``rebuild`` recomputes it all
from the values (``cm rollups rebuild``); a test proves both agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    String,
    and_,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.reporting import Submission, Value


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


def _sums(sign: int):
    s = literal(sign)
    return [
        Value.initiative_id,
        Value.indicator_id,
        Value.period_id,
        Value.disaggregation,
        func.max(Value.measure_type).label("measure_type"),
        (s * func.coalesce(func.sum(Value.value), 0.0)).label("sum_value"),
        (s * func.coalesce(func.sum(Value.numerator), 0.0)).label("sum_numerator"),
        (s * func.coalesce(func.sum(Value.denominator), 0.0)).label("sum_denominator"),
        (s * func.coalesce(func.sum(Value.value * Value.denominator), 0.0)).label("sum_weighted"),
        (s * func.count()).label("contributors"),
    ]


def _upsert(session: Session, source) -> None:
    columns = [
        "initiative_id",
        "indicator_id",
        "period_id",
        "disaggregation",
        "measure_type",
        "sum_value",
        "sum_numerator",
        "sum_denominator",
        "sum_weighted",
        "contributors",
    ]
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(RollupRow).from_select(columns, source)
    table = RollupRow.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["initiative_id", "indicator_id", "period_id", "disaggregation"],
        set_={
            name: table.c[name] + stmt.excluded[name]
            for name in (
                "sum_value",
                "sum_numerator",
                "sum_denominator",
                "sum_weighted",
                "contributors",
            )
        },
    )
    session.execute(stmt)


def apply_submission(session: Session, submission_id: int, sign: int) -> None:
    """Add (+1, on approval) or remove (−1, on reopening) one submission's values."""
    source = (
        select(*_sums(sign))
        .where(Value.submission_id == submission_id)
        .group_by(Value.initiative_id, Value.indicator_id, Value.period_id, Value.disaggregation)
    )
    # SQLite's upsert-from-select needs a WHERE to parse ON CONFLICT unambiguously.
    _upsert(session, source.where(literal(True)))
    if sign < 0:
        session.execute(delete(RollupRow).where(RollupRow.contributors <= 0))


def rebuild(session: Session, initiative_id: int | None = None) -> int:
    """Recompute the table from the approved values; answers the number of rows written."""
    cleared = delete(RollupRow)
    if initiative_id is not None:
        cleared = cleared.where(RollupRow.initiative_id == initiative_id)
    session.execute(cleared)
    source = (
        select(*_sums(1))
        .join(
            Submission, and_(Submission.id == Value.submission_id, Submission.status == "approved")
        )
        .group_by(Value.initiative_id, Value.indicator_id, Value.period_id, Value.disaggregation)
    )
    if initiative_id is not None:
        source = source.where(Value.initiative_id == initiative_id)
    _upsert(session, source.where(literal(True)))
    count = select(func.count()).select_from(RollupRow)
    if initiative_id is not None:
        count = count.where(RollupRow.initiative_id == initiative_id)
    return session.scalar(count)
