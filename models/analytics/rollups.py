"""Rollups: the initiative-wide figure for an indicator, period and disaggregation.

Only approved values count. Partners combine by ``measure_type`` (docs/architecture.md: Words): counts and
amounts add up; a rate is Σnumerator / Σdenominator (never a mean of percentages); an average
is weighted by its denominator. The aggregation runs in the database as one ``GROUP BY``.

Next to the sums, ``partner_totals`` keeps every partner's approved total of each indicator
and period packed in one row (:func:`pack`), for what needs the partners one by one (coverage,
like-with-like trends) without reading a row per partner. Both tables change with approvals in
the same transaction, and :func:`rebuild` recomputes both.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import (
    Executable,
    Row,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from models.analytics.kept import SetupKey, kept
from models.core.errors import NotFound
from models.core.i18n import gettext
from models.core.metrics import ROLLUP_QUERY
from models.tables.indicator import TOTAL, Indicator, Obligation
from models.tables.initiative import Initiative, Member
from models.tables.reporting import Submission, Value
from models.tables.rollups import PartnerTotals, RollupRow


@dataclass(frozen=True)
class Rollup:
    indicator_id: int
    period_id: int
    disaggregation: str
    measure_type: str
    value: float | None
    numerator: float | None
    denominator: float | None
    contributors: int  # members whose approved values are in the figure


def combine(
    measure_type: str,
    sum_value: float | None,
    sum_num: float | None,
    sum_den: float | None,
    sum_weighted: float | None,
) -> float | None:
    """The combined value from the sums, by measure type."""
    if measure_type in ("count", "amount"):
        return sum_value
    if measure_type == "rate":
        return 100.0 * sum_num / sum_den if sum_num is not None and sum_den else None
    return sum_weighted / sum_den if sum_weighted is not None and sum_den else None


def _grouped(
    session: Session,
    initiative_id: int,
    extra_group: list[SQLCoreOperations[Any]],
    *,
    indicator_ids: Iterable[int] | None,
    period_ids: Iterable[int] | None,
    disaggregations: Iterable[str] | None,
    member_ids: Iterable[int] | None,
) -> Sequence[Row[*tuple[Any, ...]]]:
    columns = [
        Value.indicator_id,
        Value.period_id,
        Value.disaggregation,
        *extra_group,
        func.max(Value.measure_type),
        func.sum(Value.value),
        func.sum(Value.numerator),
        func.sum(Value.denominator),
        func.sum(Value.value * Value.denominator),
        func.count(func.distinct(Submission.member_id)),
    ]
    query = (
        select(*columns)
        .join(
            Submission,
            and_(Submission.id == Value.submission_id, Submission.status == "approved"),
        )
        .where(Value.initiative_id == initiative_id)
        .group_by(Value.indicator_id, Value.period_id, Value.disaggregation, *extra_group)
    )
    if indicator_ids is not None:
        query = query.where(Value.indicator_id.in_(list(indicator_ids)))
    if period_ids is not None:
        query = query.where(Value.period_id.in_(list(period_ids)))
    if disaggregations is not None:
        query = query.where(Value.disaggregation.in_(list(disaggregations)))
    if member_ids is not None:
        query = query.where(Submission.member_id.in_(list(member_ids)))
    return session.execute(query).all()


def rollups(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int] | None = None,
    period_ids: Iterable[int] | None = None,
    disaggregations: Iterable[str] | None = None,
    member_ids: Iterable[int] | None = None,
) -> list[Rollup]:
    """Initiative-wide figures (or over ``member_ids`` only), one per indicator × period × key.

    Whole-initiative figures come from the maintained rollup table; a subset of members is
    summed from the values.
    """
    if member_ids is None:
        return _from_table(session, initiative_id, indicator_ids, period_ids, disaggregations)
    rows = _grouped(
        session,
        initiative_id,
        [],
        indicator_ids=indicator_ids,
        period_ids=period_ids,
        disaggregations=disaggregations,
        member_ids=member_ids,
    )
    return [_rollup(*row) for row in rows]


def _from_table(
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int] | None,
    period_ids: Iterable[int] | None,
    disaggregations: Iterable[str] | None,
) -> list[Rollup]:
    return [
        _rollup(*row)
        for row in rollup_sums(
            session=session,
            initiative_id=initiative_id,
            indicator_ids=indicator_ids,
            period_ids=period_ids,
            disaggregations=disaggregations,
        )
    ]


Sums = tuple[int, int, str, str, float | None, float | None, float | None, float | None, int]


def rollup_sums(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int] | None = None,
    period_ids: Iterable[int] | None = None,
    disaggregations: Iterable[str] | None = None,
) -> Sequence[Sums]:
    """The rollup table's rows as they are (indicator, period, cell, measure type, the four
    sums, contributors): for views that read many, without an object per row."""
    params: dict[str, Any] = {"initiative_id": initiative_id}
    for name, given in (
        ("indicator_ids", indicator_ids),
        ("period_ids", period_ids),
        ("disaggregations", disaggregations),
    ):
        if given is not None:
            params[name] = list(given)
    query = _rollup_sums_statement(
        indicator_ids is not None, period_ids is not None, disaggregations is not None
    )
    with ROLLUP_QUERY.time():
        return session.connection().execute(query, params).all()


@cache
def _rollup_sums_statement(indicators: bool, periods: bool, cells: bool) -> Executable:
    """:func:`rollup_sums`'s statement, with the filters it is given: built once each (the
    views ask it on every request, and building it cost as much as running it)."""
    t = RollupRow
    query: Select[*tuple[Any, ...]] = select(
        t.indicator_id,
        t.period_id,
        t.disaggregation,
        t.measure_type,
        t.sum_value,
        t.sum_numerator,
        t.sum_denominator,
        t.sum_weighted,
        t.contributors,
    ).where(t.initiative_id == bindparam("initiative_id"), t.contributors > 0)
    if indicators:
        query = query.where(t.indicator_id.in_(bindparam("indicator_ids", expanding=True)))
    if periods:
        query = query.where(t.period_id.in_(bindparam("period_ids", expanding=True)))
    if cells:
        query = query.where(t.disaggregation.in_(bindparam("disaggregations", expanding=True)))
    return query


def parts(
    measure_type: str,
    sum_value: float | None,
    sum_num: float | None,
    sum_den: float | None,
    sum_weighted: float | None,
) -> tuple[float | None, float | None, float | None]:
    """A figure's value (combined by measure type), numerator and denominator (where the
    measure type has them), from its sums."""
    return (
        combine(measure_type, sum_value, sum_num, sum_den, sum_weighted),
        sum_num if measure_type == "rate" else None,
        sum_den if measure_type in ("rate", "average") else None,
    )


def _rollup(
    ind: int,
    per: int,
    dis: str,
    mt: str,
    s_val: float | None,
    s_num: float | None,
    s_den: float | None,
    s_w: float | None,
    contributors: int,
) -> Rollup:
    """A Rollup from the sums (from the table or a GROUP BY), combined by measure type."""
    value, numerator, denominator = parts(mt, s_val, s_num, s_den, s_w)
    return Rollup(
        indicator_id=ind,
        period_id=per,
        disaggregation=dis,
        measure_type=mt,
        value=value,
        numerator=numerator,
        denominator=denominator,
        contributors=contributors,
    )


@dataclass(frozen=True)
class PartnerFigure:
    member_id: int
    indicator_id: int
    period_id: int
    disaggregation: str
    measure_type: str
    value: float | None
    numerator: float | None
    denominator: float | None


def partner_figures(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int] | None = None,
    period_ids: Iterable[int] | None = None,
    disaggregations: Iterable[str] | None = None,
    member_ids: Iterable[int] | None = None,
) -> list[PartnerFigure]:
    """Each member's approved figure (its own value), for partner comparisons."""
    rows = _grouped(
        session,
        initiative_id,
        [Submission.member_id],
        indicator_ids=indicator_ids,
        period_ids=period_ids,
        disaggregations=disaggregations,
        member_ids=member_ids,
    )
    return [
        _partner_figure(mem, ind, per, dis, mt, s_val, s_num, s_den, s_w)
        for ind, per, dis, mem, mt, s_val, s_num, s_den, s_w, _n in rows
    ]


def _partner_figure(
    mem: int,
    ind: int,
    per: int,
    dis: str,
    mt: str,
    s_val: float | None,
    s_num: float | None,
    s_den: float | None,
    s_w: float | None,
) -> PartnerFigure:
    """A partner's figure from its sums, combined by measure type."""
    return PartnerFigure(
        member_id=mem,
        indicator_id=ind,
        period_id=per,
        disaggregation=dis,
        measure_type=mt,
        value=combine(mt, s_val, s_num, s_den, s_w),
        numerator=s_num if mt == "rate" else None,
        denominator=s_den if mt in ("rate", "average") else None,
    )


def approved_values(
    *,
    initiative_id: int,
    indicator_ids: Iterable[int],
    period_ids: Iterable[int] | None = None,
    disaggregation: str | None = None,
) -> Select[int, int, str, int, str, float, float | None, float | None]:
    """The approved values as plain rows (indicator, period, disaggregation, member, measure
    type, value, numerator, denominator): a partner has one approved value per indicator,
    period and cell, so reading each partner's figures needs no grouping (several times faster
    where a page reads many)."""
    query = (
        select(
            Value.indicator_id,
            Value.period_id,
            Value.disaggregation,
            Submission.member_id,
            Value.measure_type,
            Value.value,
            Value.numerator,
            Value.denominator,
        )
        .join(
            Submission,
            and_(Submission.id == Value.submission_id, Submission.status == "approved"),
        )
        .where(Value.initiative_id == initiative_id, Value.indicator_id.in_(list(indicator_ids)))
    )
    if period_ids is not None:
        query = query.where(Value.period_id.in_(list(period_ids)))
    if disaggregation is not None:
        query = query.where(Value.disaggregation == disaggregation)
    return query


def partner_values(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int],
    period_ids: Iterable[int],
    disaggregation: str,
) -> list[PartnerFigure]:
    """What :func:`partner_figures` answers for one disaggregation, from plain rows."""
    rows = session.execute(
        approved_values(
            initiative_id=initiative_id,
            indicator_ids=indicator_ids,
            period_ids=period_ids,
            disaggregation=disaggregation,
        )
    )
    return [
        _partner_figure(
            mem, ind, per, dis, mt, val, num, den, val * den if val is not None and den else None
        )
        for ind, per, dis, mem, mt, val, num, den in rows
    ]


def expected_reporters(*, session: Session, initiative_id: int) -> dict[int, int]:
    """Indicator id → how many active members are obliged to report it."""
    rows = session.execute(
        select(Obligation.indicator_id, func.count())
        .join(Member, Member.id == Obligation.member_id)
        .join(Indicator, Indicator.id == Obligation.indicator_id)
        .where(Indicator.initiative_id == initiative_id, Member.active)
        .group_by(Obligation.indicator_id)
    ).all()
    return defaultdict(int, dict(rows))


def expected_members(
    *, session: Session, initiative_id: int, setup: SetupKey | None | Literal[False] = False
) -> Mapping[int, frozenset[int]]:
    """Indicator id → the active members obliged to report it (their ids; none for an
    indicator not in it): one row per indicator, the members' ids joined by the database (a
    region has thousands of obligations). Kept under the initiative's setup revision
    (:mod:`models.analytics.kept`; ``setup``: its key when already read)."""
    return kept(
        session,
        initiative_id,
        "expected_members",
        (),
        lambda: _Expected(_expected_members(session=session, initiative_id=initiative_id)),
        key=setup,
    )


class _Expected(dict[int, frozenset[int]]):
    """A mapping that answers no members for an indicator nobody is obliged to report, and
    (unlike a defaultdict) never grows when asked: it is shared by requests."""

    def __missing__(self, key: int) -> frozenset[int]:
        return frozenset()


def _expected_members(*, session: Session, initiative_id: int) -> dict[int, frozenset[int]]:
    out: dict[int, frozenset[int]] = {}
    for indicator_id, members in session.execute(
        select(
            Obligation.indicator_id,
            func.aggregate_strings(cast(Obligation.member_id, String), ","),
        )
        .join(Member, Member.id == Obligation.member_id)
        .join(Indicator, Indicator.id == Obligation.indicator_id)
        .where(Indicator.initiative_id == initiative_id, Member.active)
        .group_by(Obligation.indicator_id)
    ):
        out[indicator_id] = frozenset(map(int, members.split(",")))
    return out


def _sums(sign: int) -> list[SQLCoreOperations[Any]]:
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


def _upsert(session: Session, source: Select[*tuple[Any, ...]]) -> None:
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


def apply_submission(*, session: Session, submission_id: int, sign: int) -> None:
    """Add (+1, on approval) or remove (−1, on reopening) one submission's values; its status
    has changed already."""
    source = (
        select(*_sums(sign))
        .where(Value.submission_id == submission_id)
        .group_by(Value.initiative_id, Value.indicator_id, Value.period_id, Value.disaggregation)
    )
    # SQLite's upsert-from-select needs a WHERE to parse ON CONFLICT unambiguously.
    _upsert(session, source.where(literal(True)))
    if sign < 0:
        session.execute(delete(RollupRow).where(RollupRow.contributors <= 0))
    # The packed totals of the indicators the submission has a total for, recomputed after the
    # upsert above: it holds the rollup rows of those totals until commit, so a concurrent
    # approval in the same period waits there and then reads this one's values, committed.
    touched = session.execute(
        select(Value.initiative_id, Value.period_id, Value.indicator_id).where(
            Value.submission_id == submission_id, Value.disaggregation == TOTAL
        )
    ).all()
    if touched:
        initiative_id, period_id = touched[0][:2]
        _repack(
            session,
            initiative_id,
            indicator_ids=[i for *_, i in touched],
            period_ids=[period_id],
        )


def rebuild(*, session: Session, initiative_id: int | None = None) -> int:
    """Recompute the rollups and the packed partner totals from the approved values; answers
    the number of rollup rows written."""
    cleared = delete(RollupRow)
    if initiative_id is not None:
        cleared = cleared.where(RollupRow.initiative_id == initiative_id)
    session.execute(cleared)
    ids = [initiative_id] if initiative_id is not None else session.scalars(select(Initiative.id))
    for one in list(ids):
        _repack(session, one, indicator_ids=None, period_ids=None)
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
    return session.scalar(count) or 0


def rebuild_initiative(*, session: Session, initiative_slug: str | None = None) -> int:
    """:func:`rebuild` for one initiative named by its slug (every initiative without one), for
    the command line (``cm rollups rebuild``)."""
    initiative_id = None
    if initiative_slug is not None:
        initiative_id = session.scalar(
            select(Initiative.id).where(Initiative.slug == initiative_slug)
        )
        if initiative_id is None:
            raise NotFound(
                gettext("no initiative %(initiative_slug)r", initiative_slug=initiative_slug),
                field="initiative",
            )
    return rebuild(session=session, initiative_id=initiative_id)


# --- partners' totals, packed ---------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Every partner's approved total of one indicator in one period, as stored (one value,
    numerator and denominator per partner; an empty column reads 0, and the database keeps
    those a measure type needs filled: a rate's fraction, an average's weight), in the order
    the partners' submissions were made."""

    measure_type: str
    members: Sequence[int]
    values: Sequence[float]
    numerators: Sequence[float]
    denominators: Sequence[float]


def pack(members: Sequence[int], columns: Sequence[Sequence[float | None]]) -> bytes:
    """Member ids and their value, numerator and denominator columns in one little-endian
    blob: int64 ids, then float64 columns (None as 0)."""
    parts = [array("q", members)] + [array("d", [x or 0.0 for x in c]) for c in columns]
    if sys.byteorder == "big":
        for part in parts:
            part.byteswap()
    return b"".join(part.tobytes() for part in parts)


def unpack(measure_type: str, partners: int, packed: bytes) -> Totals:
    ids, floats = array("q"), array("d")
    ids.frombytes(packed[: 8 * partners])
    floats.frombytes(packed[8 * partners :])
    if sys.byteorder == "big":
        ids.byteswap()
        floats.byteswap()
    n = partners
    return Totals(measure_type, ids, floats[:n], floats[n : 2 * n], floats[2 * n :])


def _repack(
    session: Session,
    initiative_id: int,
    *,
    indicator_ids: Sequence[int] | None,
    period_ids: Sequence[int] | None,
) -> None:
    """Recompute the packed totals of these indicators and periods (all: None) from the
    approved values."""
    t = PartnerTotals
    cleared = delete(t).where(t.initiative_id == initiative_id)
    query = (
        select(
            Value.indicator_id,
            Value.period_id,
            Submission.member_id,
            Value.measure_type,
            Value.value,
            Value.numerator,
            Value.denominator,
        )
        .join(
            Submission,
            and_(Submission.id == Value.submission_id, Submission.status == "approved"),
        )
        .where(Value.initiative_id == initiative_id, Value.disaggregation == TOTAL)
        .order_by(Value.indicator_id, Value.period_id, Value.submission_id)
    )
    if indicator_ids is not None:
        cleared = cleared.where(t.indicator_id.in_(indicator_ids))
        query = query.where(Value.indicator_id.in_(indicator_ids))
    if period_ids is not None:
        cleared = cleared.where(t.period_id.in_(period_ids))
        query = query.where(Value.period_id.in_(period_ids))
    session.execute(cleared)
    rows = session.execute(query.execution_options(yield_per=20_000))
    batch: list[dict[str, Any]] = []
    for (indicator_id, period_id), group in groupby(rows, key=lambda r: (r[0], r[1])):
        members: list[int] = []
        columns: tuple[list[float | None], ...] = ([], [], [])
        for _, _, member_id, measure_type, value, numerator, denominator in group:
            members.append(member_id)
            for column, x in zip(columns, (value, numerator, denominator), strict=True):
                column.append(x)
        batch.append(
            {
                "initiative_id": initiative_id,
                "indicator_id": indicator_id,
                "period_id": period_id,
                "measure_type": measure_type,
                "partners": len(members),
                "packed": pack(members, columns),
            }
        )
        if len(batch) >= 1000:
            session.execute(insert(t), batch)
            batch = []
    if batch:
        session.execute(insert(t), batch)


def packed_totals(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int],
    period_ids: Iterable[int],
) -> Sequence[tuple[int, int, str, int, bytes]]:
    """(indicator id, period id, measure type, partners, packed totals) as stored, one row per
    indicator and period (:func:`unpack` reads them)."""
    return (
        session.connection()
        .execute(
            _packed_statement(),
            {
                "initiative_id": initiative_id,
                "indicator_ids": list(indicator_ids),
                "period_ids": list(period_ids),
            },
        )
        .all()
    )


@cache
def _packed_statement() -> Executable:
    """:func:`packed_totals`'s statement: built once."""
    t = PartnerTotals
    return select(t.indicator_id, t.period_id, t.measure_type, t.partners, t.packed).where(
        t.initiative_id == bindparam("initiative_id"),
        t.indicator_id.in_(bindparam("indicator_ids", expanding=True)),
        t.period_id.in_(bindparam("period_ids", expanding=True)),
    )


def partner_totals(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Iterable[int],
    period_ids: Iterable[int],
) -> Iterator[tuple[int, int, Totals]]:
    """(indicator id, period id, every partner's approved total) for these indicators and
    periods, from the packed table: one row per indicator and period."""
    t = PartnerTotals
    for indicator_id, period_id, mt, partners, packed in session.execute(
        select(t.indicator_id, t.period_id, t.measure_type, t.partners, t.packed).where(
            t.initiative_id == initiative_id,
            t.indicator_id.in_(list(indicator_ids)),
            t.period_id.in_(list(period_ids)),
        )
    ):
        yield indicator_id, period_id, unpack(mt, partners, packed)
