"""The common agenda: outcomes, indicators, their targets, and the disaggregations they allow."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base, TimestampMixin
from models.tables.organisation import _in

MEASURE_TYPES = ("count", "amount", "rate", "average")
DIRECTIONS = ("higher", "lower")
FREQUENCIES = ("quarterly", "annual")
TOTAL = "total"  # the disaggregation key of the whole, as opposed to "dimension=category"
# Results-Based Accountability (README, "Two kinds of measure"): a population indicator says how
# the whole community is doing; a partner performance measure says how a programme is doing and
# contributes to population indicators.
KINDS = ("population", "performance")
PERFORMANCE_TYPES = ("how_much", "how_well", "better_off")
# A cross-tab's category is a pair of its components' categories, coded "row.column": category
# codes never hold a ".", so the pair is read back unambiguously (README, "Cross-tabs").
PAIR_SEPARATOR = "."
MAX_CROSS_CELLS = 48  # the cap on a cross-tab's pairs: beyond it nearly every cell is small


def pair_code(row: str, column: str) -> str:
    """A cross-tab category's code from its row and column category codes."""
    return f"{row}{PAIR_SEPARATOR}{column}"


def split_pair(code: str) -> tuple[str, str]:
    """A cross-tab category's (row, column) category codes."""
    row, column = code.split(PAIR_SEPARATOR, 1)
    return row, column


class Outcome(Base):
    """A result area of the common agenda; groups indicators."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("initiative_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="outcome", order_by="Indicator.position"
    )


indicator_dimensions = Table(
    "indicator_dimensions",
    Base.metadata,
    Column("indicator_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension_id", ForeignKey("dimensions.id", ondelete="CASCADE"), primary_key=True),
)


class Indicator(TimestampMixin, Base):
    """Something measured; ``measure_type`` decides how partners' values combine."""

    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("initiative_id", "code"),
        # Target of the composite foreign key that keeps values.measure_type honest.
        UniqueConstraint("id", "measure_type"),
        CheckConstraint(_in("measure_type", MEASURE_TYPES), name="measure_type"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
        CheckConstraint(
            "valid_min IS NULL OR valid_max IS NULL OR valid_min <= valid_max", name="valid_range"
        ),
        CheckConstraint("decimals >= 0 AND decimals <= 6", name="decimals"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(
            f"performance_type IS NULL OR {_in('performance_type', PERFORMANCE_TYPES)}",
            name="performance_type",
        ),
        # A performance measure has its type; a population indicator has none.
        CheckConstraint(
            "(kind = 'performance' AND performance_type IS NOT NULL)"
            " OR (kind = 'population' AND performance_type IS NULL)",
            name="performance_type_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcomes.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40))
    measure_type: Mapped[str] = mapped_column(String(10))
    direction: Mapped[str] = mapped_column(String(10), default="higher")
    valid_min: Mapped[float | None] = mapped_column(Float)
    valid_max: Mapped[float | None] = mapped_column(Float)
    decimals: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    frequency: Mapped[str] = mapped_column(String(10), default="quarterly")
    data_source: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kind: Mapped[str] = mapped_column(String(12), default="population", server_default="population")
    performance_type: Mapped[str | None] = mapped_column(String(12))
    # A computed indicator: arithmetic over other indicators' codes of the initiative
    # (models.core.expressions); it takes no values, its figures come from its inputs'.
    expression: Mapped[str | None] = mapped_column(Text)
    # Baseline: the value the initiative started from, and when.
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_period_id: Mapped[int | None] = mapped_column(
        ForeignKey("periods.id", ondelete="SET NULL")
    )
    # End target: where the initiative wants to be, and by when.
    target_value: Mapped[float | None] = mapped_column(Float)
    target_period_id: Mapped[int | None] = mapped_column(
        ForeignKey("periods.id", ondelete="SET NULL")
    )

    outcome: Mapped[Outcome | None] = relationship(back_populates="indicators")
    dimensions: Mapped[list[Dimension]] = relationship(
        secondary=indicator_dimensions, order_by="Dimension.position"
    )
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", passive_deletes=True
    )
    # The population indicators a performance measure contributes to (same initiative).
    contributes_to: Mapped[list[Indicator]] = relationship(
        secondary="indicator_contributions",
        primaryjoin="Indicator.id == indicator_contributions.c.performance_id",
        secondaryjoin="Indicator.id == indicator_contributions.c.population_id",
        order_by="Indicator.position",
        passive_deletes=True,
    )
    gap_targets: Mapped[list[GapTarget]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Indicator({self.code!r})"


indicator_contributions = Table(
    "indicator_contributions",
    Base.metadata,
    Column("performance_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "population_id",
        ForeignKey("indicators.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    CheckConstraint("performance_id <> population_id", name="not_itself"),
)


class IndicatorTarget(Base):
    """An interim target for one period (the end target lives on the indicator)."""

    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("indicator_id", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")


class GapTarget(Base):
    """A target on the gap between the best and the worst category of one of the indicator's
    dimensions: from the baseline gap at its period to the target gap by the due period (the
    same initiative's periods and a dimension the indicator collects: checked by
    ``models.initiatives.gap_targets``)."""

    __tablename__ = "gap_targets"
    __table_args__ = (
        UniqueConstraint("indicator_id", "dimension_id"),
        CheckConstraint("baseline_value >= 0", name="baseline_value"),
        CheckConstraint("target_value >= 0", name="target_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    dimension_id: Mapped[int] = mapped_column(
        ForeignKey("dimensions.id", ondelete="CASCADE"), index=True
    )
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), index=True
    )
    target_value: Mapped[float] = mapped_column(Float)
    target_period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)

    indicator: Mapped[Indicator] = relationship(back_populates="gap_targets")
    dimension: Mapped[Dimension] = relationship()


class SeriesBreak(Base):
    """The indicator's definition changed from this period on (e.g. a new reading test), so
    charts mark a break and trends do not compare across it."""

    __tablename__ = "series_breaks"
    __table_args__ = (UniqueConstraint("indicator_id", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text)


class Dimension(Base):
    """A way to break a figure down: race/ethnicity, income, gender…

    A *cross-tab* (README, "Cross-tabs") is composed of two other dimensions of the initiative,
    its rows and its columns: its categories are their pairs ("black.low"), so a value still has
    one disaggregation and one category, and suppression covers each row and column."""

    __tablename__ = "dimensions"
    __table_args__ = (UniqueConstraint("initiative_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A cross-tab's components (both set, or neither); a component cannot be deleted under it.
    row_dimension_id: Mapped[int | None] = mapped_column(ForeignKey("dimensions.id"))
    column_dimension_id: Mapped[int | None] = mapped_column(ForeignKey("dimensions.id"))

    row_dimension: Mapped[Dimension | None] = relationship(
        foreign_keys=[row_dimension_id], remote_side=[id]
    )
    column_dimension: Mapped[Dimension | None] = relationship(
        foreign_keys=[column_dimension_id], remote_side=[id]
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="dimension",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Category.position",
    )

    @property
    def components(self) -> list[str] | None:
        """A cross-tab's (row dimension code, column dimension code); None for a plain one."""
        if self.row_dimension is None or self.column_dimension is None:
            return None
        return [self.row_dimension.code, self.column_dimension.code]


class Category(Base):
    """One category of a dimension; its disaggregation key is ``dimension=category``."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("dimension_id", "code"),
        CheckConstraint("code <> ''", name="code_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension_id: Mapped[int] = mapped_column(
        ForeignKey("dimensions.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    dimension: Mapped[Dimension] = relationship(back_populates="categories")

    @property
    def key(self) -> str:
        return f"{self.dimension.code}={self.code}"


class Obligation(Base):
    """An indicator a member is expected to report."""

    __tablename__ = "obligations"
    __table_args__ = (UniqueConstraint("member_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )

    indicator: Mapped[Indicator] = relationship()
