"""Coverage: what an initiative figure is made of.

An initiative figure combines the approved figures of the partners that reported. Its coverage
says how many of them there are (``reported``) against the active partners obliged to report the
indicator (``expected``), and what share of the expected partners' usual size the reporting ones
stand for:

    share = Σ size of the expected partners that reported
            ÷ (that + Σ last known size of the expected partners that did not)

A partner's *size* is its value for counts, |value| for amounts and its denominator for rates
and averages; its *last known size* is the size of its most recent approved figure at or before
the period, within the last eight periods. A missing partner with none has no known size: the
share is then unknown (None).

A figure is *complete* when every expected partner reported, or when the share reaches
``CM_COVERAGE_MIN_SHARE`` (default 0.8). An indicator nobody is obliged to report is complete.

Who may see what of this (the share only the backbone team; the count of partners only where
the contributor count is shown) is decided by the callers, next to the figures' disclosure.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.analytics.computed import reported_inputs, with_inputs
from models.analytics.fresh import by_period
from models.analytics.rollups import (
    PartnerFigure,
    Totals,
    combine,
    expected_members,
    packed_totals,
    partner_totals,
    unpack,
)
from models.core.settings import get_settings
from models.tables.indicator import TOTAL, Indicator
from models.tables.initiative import Initiative, Period


class Dated(Protocol):
    """A period as coverage reads it: an ORM object or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def starts_on(self) -> date: ...


@dataclass(frozen=True)
class Coverage:
    reported: int  # partners whose approved figure is in the total
    expected: int  # active partners obliged to report the indicator
    share: float | None  # of the expected partners' usual size; None when unknown
    complete: bool


def combined(coverages: Sequence[Coverage]) -> Coverage:
    """The coverage of a computed indicator's figure from its reported inputs' (README,
    "Computed indicators"): complete only when each input is; the fewest partners behind an
    input, the most expected of one, the smallest share."""
    shares = [c.share for c in coverages]
    return Coverage(
        reported=min((c.reported for c in coverages), default=0),
        expected=max((c.expected for c in coverages), default=0),
        share=None if not shares or None in shares else min(s for s in shares if s is not None),
        complete=all(c.complete for c in coverages),
    )


def stands_on(
    *, session: Session, initiative_id: int, indicator_ids: Collection[int]
) -> dict[int, list[int]]:
    """Indicator id → the reported indicators whose coverage makes its own: itself when it is
    reported, a computed indicator's reported inputs (through other computed ones)."""
    indicators = list(session.scalars(select(Indicator).where(Indicator.id.in_(indicator_ids))))
    everything = with_inputs(session=session, initiative_id=initiative_id, indicators=indicators)
    by_code = {i.code: i for i in everything}
    return {
        i.id: [r.id for r in reported_inputs(i, by_code)] if i.expression is not None else [i.id]
        for i in indicators
    }


def size(pf: PartnerFigure) -> float | None:
    """How much of a figure one partner stands for (see the module's docstring)."""
    if pf.measure_type == "count":
        return pf.value
    if pf.measure_type == "amount":
        return None if pf.value is None else abs(pf.value)
    return pf.denominator


def _sum(values: Iterable[float | None]) -> float | None:
    """SQL's SUM: None when there is nothing to add."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def figure_of(measure_type: str, figures: Collection[PartnerFigure]) -> float | None:
    """The figure these partners make together, combined by measure type as the rollups are."""
    return _combined(
        measure_type,
        [pf.value for pf in figures],
        [pf.numerator for pf in figures],
        [pf.denominator for pf in figures],
    )


def _combined(
    measure_type: str,
    values: Sequence[float | None],
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
) -> float | None:
    """:func:`figure_of` from the partners' figures as columns (in the partners' order); only
    the sums the measure type combines are added up."""
    if not values:
        return None
    if measure_type in ("count", "amount"):
        return combine(measure_type, _sum(values), None, None, None)
    if measure_type == "rate":
        return combine(measure_type, None, _sum(numerators), _sum(denominators), None)
    weighted = (
        value * denominator
        for value, denominator in zip(values, denominators, strict=True)
        if value is not None and denominator is not None
    )
    return combine(measure_type, None, None, _sum(denominators), _sum(weighted))


def basis_text(partners: int) -> str:
    """What a like-with-like trend is computed on."""
    if partners == 1:
        return "the 1 partner that reported in both periods"
    return f"the {partners} partners that reported in both periods"


ALL_PARTNERS = "all partners"


class _Group:
    """The partners' approved totals of one indicator in one period, as columns: each
    partner's figure as :class:`PartnerFigure` has it (value combined by measure type,
    numerator and denominator where the measure type has them) and its size."""

    __slots__ = (
        "_both",
        "_present",
        "denominators",
        "index",
        "measure_type",
        "members",
        "numerators",
        "sizes",
        "values",
    )

    def __init__(
        self,
        measure_type: str,
        members: Iterable[int],
        values: Sequence[float | None],
        numerators: Sequence[float | None],
        denominators: Sequence[float | None],
    ) -> None:
        self.measure_type = measure_type
        self.index = {m: k for k, m in enumerate(members)}  # member id → its position
        self.members = frozenset(self.index)
        # Expected members → (the reporting ones' size, the missing ones): asked again for the
        # same kept set (models.analytics.kept) while the group is kept by its content.
        self._present: dict[frozenset[int], tuple[float, AbstractSet[int]]] = {}
        # (An earlier period's group, measure type) → the figures of the partners in both.
        self._both: dict[tuple[_Group, str], tuple[float | None, float | None]] = {}
        self.values, self.numerators, self.denominators = values, numerators, denominators
        if measure_type == "count":
            self.sizes: Sequence[float | None] = values
        elif measure_type == "amount":
            self.sizes = [None if v is None else abs(v) for v in values]
        else:
            self.sizes = denominators

    @classmethod
    def of(cls, figures: Sequence[PartnerFigure]) -> _Group:
        return cls(
            figures[0].measure_type,
            [pf.member_id for pf in figures],
            [pf.value for pf in figures],
            [pf.numerator for pf in figures],
            [pf.denominator for pf in figures],
        )

    @classmethod
    def stored(cls, totals: Totals) -> _Group:
        """From the partners' values as stored, combined as :func:`partner_values` does: the
        database keeps a rate's fraction and an average's weight (> 0) filled."""
        mt = totals.measure_type
        if mt == "rate":
            values: Sequence[float | None] = [
                100.0 * n / d for n, d in zip(totals.numerators, totals.denominators, strict=True)
            ]
            return cls(mt, totals.members, values, totals.numerators, totals.denominators)
        if mt == "average":
            values = [v * d / d for v, d in zip(totals.values, totals.denominators, strict=True)]
            nothing = [None] * len(values)
            return cls(mt, totals.members, values, nothing, totals.denominators)
        nothing = [None] * len(totals.values)
        return cls(mt, totals.members, totals.values, nothing, nothing)

    def present(self, expected: frozenset[int]) -> tuple[float, AbstractSet[int]]:
        """The size of the expected members that reported, and the expected members that did
        not (remembered for a few sets of expected members)."""
        known = self._present.get(expected)
        if known is None:
            index, sizes = self.index, self.sizes
            size = sum(sizes[k] or 0.0 for m in expected if (k := index.get(m)) is not None)
            known = (size, expected - index.keys())
            if len(self._present) >= 8:
                self._present.clear()
            self._present[expected] = known
        return known


EMPTY = _Group("count", (), (), (), ())


class _StoredGroups:
    """Groups made from the packed totals, kept by the packed row's content (bounded): an
    approval repacks only its indicators' rows of its period, so a view computed after it
    unpacks those again and takes every other group as it was. Keyed by the bytes
    themselves, a kept group is never older than the row it is read for, and holds only the
    partners' approved totals (what a viewer is shown of them is decided by the callers)."""

    # Bounded by the packed bytes kept (a group in memory is about five times its row: 200
    # partners' row is 6 KB), so a deployment of large regions keeps fewer groups, not more MB.
    LIMIT_BYTES = 4_000_000

    def __init__(self) -> None:
        self._groups: dict[tuple[str, int, bytes], _Group] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, measure_type: str, partners: int, packed: bytes) -> _Group:
        key = (measure_type, partners, bytes(packed))
        group = self._groups.get(key)
        if group is None:
            group = _Group.stored(unpack(measure_type, partners, key[2]))
            with self._lock:
                if self._bytes + len(key[2]) > self.LIMIT_BYTES:
                    self._groups.clear()
                    self._bytes = 0
                if key not in self._groups:
                    self._bytes += len(key[2])
                self._groups[key] = group
        return group


_STORED = _StoredGroups()


class PartnerHistory:
    """Every partner's approved total of some indicators over some periods: who reported what,
    each partner's last known size, and the figure of any set of partners.

    Built from the partners' figures, or by :func:`partner_history` from the packed totals,
    the periods a caller asks about first read at once and the others (only the last known
    size of a missing partner needs them) when first needed."""

    def __init__(
        self,
        figures: Iterable[PartnerFigure],
        periods: Sequence[Dated],
        *,
        load: Callable[[list[int]], Iterable[tuple[int, int, _Group]]] | None = None,
    ) -> None:
        ordered = sorted(periods, key=lambda p: p.starts_on)
        self._order = {p.id: i for i, p in enumerate(ordered)}
        self._by_order = [p.id for p in ordered]
        by_group: dict[tuple[int, int], list[PartnerFigure]] = defaultdict(list)
        for pf in figures:
            if pf.disaggregation == TOTAL and pf.period_id in self._order:
                by_group[(pf.indicator_id, pf.period_id)].append(pf)
        self._groups = {key: _Group.of(pfs) for key, pfs in by_group.items()}
        self._load = load
        self._unread = set(self._order) if load is not None else set()

    def read(self, period_ids: Collection[int]) -> None:
        """Read these periods' totals now (the others wait until needed)."""
        wanted = [p for p in self._by_order if p in self._unread and p in period_ids]
        if wanted and self._load is not None:
            self._unread -= set(wanted)
            for indicator_id, period_id, group in self._load(wanted):
                self._groups[(indicator_id, period_id)] = group

    def _group(self, indicator_id: int, period_id: int) -> _Group:
        if period_id in self._unread:
            self.read(self._unread)
        return self._groups.get((indicator_id, period_id), EMPTY)

    def reporters(self, indicator_id: int, period_id: int) -> frozenset[int]:
        """The members whose approved figure is in the period's total."""
        return self._group(indicator_id, period_id).members

    def figure(
        self, indicator_id: int, period_id: int, members: Collection[int], measure_type: str
    ) -> float | None:
        """The period's figure made by ``members`` only (those of them that reported)."""
        group = self._group(indicator_id, period_id)
        at = [k for m in members if (k := group.index.get(m)) is not None]
        values, numerators, denominators = group.values, group.numerators, group.denominators
        if measure_type in ("count", "amount"):  # the only column it combines (see _combined)
            return _combined(measure_type, [values[k] for k in at], (), ())
        return _combined(
            measure_type,
            [values[k] for k in at],
            [numerators[k] for k in at],
            [denominators[k] for k in at],
        )

    def in_both(
        self, indicator_id: int, period_id: int, previous_id: int, measure_type: str
    ) -> tuple[float | None, float | None]:
        """The figures, in the period and in the previous one, of the partners that reported
        in both (like-with-like trends), as :meth:`figure` makes them: remembered by the two
        groups while they are kept by their content, so a view computed after an approval
        makes again only the figures of the groups it changed."""
        now, before = self._group(indicator_id, period_id), self._group(indicator_id, previous_id)
        known = now._both.get((before, measure_type))
        if known is None:
            common = now.members & before.members
            known = (
                self.figure(indicator_id, period_id, common, measure_type),
                self.figure(indicator_id, previous_id, common, measure_type),
            )
            if len(now._both) >= 8:
                now._both.clear()
            now._both[(before, measure_type)] = known
        return known

    def last_size(self, indicator_id: int, member_id: int, period_id: int) -> float | None:
        """The size of the member's most recent approved figure at or before the period."""
        for earlier in reversed(self._by_order[: self._order[period_id] + 1]):
            group = self._group(indicator_id, earlier)
            k = group.index.get(member_id)
            if k is not None and group.sizes[k] is not None:
                return group.sizes[k]
        return None

    def coverage(
        self,
        indicator_id: int,
        period_id: int,
        expected: frozenset[int],
        min_share: float | None = None,
    ) -> Coverage:
        if min_share is None:
            min_share = get_settings().coverage_min_share
        group = self._group(indicator_id, period_id)
        index = group.index
        present, missing = group.present(expected)
        absent, unknown = 0.0, False
        for m in missing:
            last = self.last_size(indicator_id, m, period_id)
            if last is None:
                unknown = True  # never reported: its size, and so the share, is unknown
                break
            absent += last
        share = None
        if expected and not unknown and present + absent > 0:
            share = present / (present + absent)
        complete = expected <= index.keys() or (share is not None and share >= min_share - 1e-12)
        return Coverage(reported=len(index), expected=len(expected), share=share, complete=complete)


# One indicator's packed row of a period: (indicator id, measure type, partners, packed).
_Packed = tuple[int, str, int, bytes]


def _packed_bytes(rows: list[_Packed]) -> int:
    """What a period's packed rows hold, as the kept groups are counted."""
    return sum(len(row[3]) for row in rows)


LOOKBACK = 8  # periods a partner's last approved figure is looked for (two years of quarters)


def partner_history(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Collection[int],
    periods: Sequence[Dated],
    first: Collection[int] = (),
) -> PartnerHistory:
    """The partners' approved totals of the indicators in the last :data:`LOOKBACK` of these
    periods (a partner missing for longer has no known usual size), from the packed totals:
    the ``first`` periods are read at once, the others only when a missing partner's last
    known size is asked for (one more query)."""
    periods = sorted(periods, key=lambda p: p.starts_on)[-LOOKBACK:]
    indicator_ids = list(indicator_ids)

    def read(period_ids: list[int]) -> dict[int, list[_Packed]]:
        out: dict[int, list[_Packed]] = {p: [] for p in period_ids}
        for indicator_id, period_id, mt, partners, packed in packed_totals(
            session=session,
            initiative_id=initiative_id,
            indicator_ids=indicator_ids,
            period_ids=period_ids,
        ):
            out[period_id].append((indicator_id, mt, partners, bytes(packed)))
        return out

    def load(period_ids: list[int]) -> Iterable[tuple[int, int, _Group]]:
        if not indicator_ids:
            return []
        # Each period's packed rows kept under its figure revision (models.analytics.fresh),
        # bounded by their bytes: after an approval only its quarter's are read again. The
        # groups are made of them as kept by their content (bounded too).
        by = by_period(
            session,
            initiative_id,
            "partner_totals",
            (tuple(indicator_ids),),
            period_ids,
            read,
            size=_packed_bytes,
        )
        found = read(period_ids) if by is None else by
        return [
            (indicator_id, p, _STORED.get(mt, partners, packed))
            for p in period_ids
            for indicator_id, mt, partners, packed in found.get(p, ())
        ]

    history = PartnerHistory([], periods, load=load)
    history.read(first)
    return history


def indicator_coverage(
    *, session: Session, initiative: Initiative, period: Period, indicator_ids: Collection[int]
) -> dict[int, Coverage]:
    """Indicator id → the coverage of its initiative figure in the period (exact: for the
    backbone team and for decisions such as publishing)."""
    periods = list(
        session.scalars(
            select(Period).where(
                Period.initiative_id == initiative.id, Period.starts_on <= period.starts_on
            )
        )
    )
    inputs = stands_on(session=session, initiative_id=initiative.id, indicator_ids=indicator_ids)
    history = partner_history(
        session=session,
        initiative_id=initiative.id,
        indicator_ids=sorted({r for ids in inputs.values() for r in ids}),
        periods=periods,
        first=[period.id],
    )
    expected = expected_members(session=session, initiative_id=initiative.id)
    min_share = get_settings().coverage_min_share
    return {
        i: combined([history.coverage(r, period.id, expected[r], min_share) for r in inputs[i]])
        for i in indicator_ids
    }


def coverage_by_period(
    *,
    session: Session,
    initiative_id: int,
    indicator_id: int,
    periods: Sequence[Dated],
    period_ids: Collection[int],
) -> dict[int, Coverage]:
    """Period id → the coverage of one indicator's initiative figure in each of
    ``period_ids``, as the scorecard judges it when that period is the current one (missing
    partners' last known sizes within the :data:`LOOKBACK` periods up to it). The partners'
    totals are read once, in one query."""
    ordered = sorted(periods, key=lambda p: p.starts_on)
    inputs = stands_on(session=session, initiative_id=initiative_id, indicator_ids=[indicator_id])
    reported = inputs.get(indicator_id, [indicator_id])
    groups = {
        (reported_id, period_id): _Group.stored(totals)
        for reported_id, period_id, totals in partner_totals(
            session=session,
            initiative_id=initiative_id,
            indicator_ids=reported,
            period_ids=[p.id for p in ordered],
        )
    }
    expected = expected_members(session=session, initiative_id=initiative_id)
    min_share = get_settings().coverage_min_share

    def load(ids: list[int]) -> Iterable[tuple[int, int, _Group]]:
        return [(r, p, groups[r, p]) for r in reported for p in ids if (r, p) in groups]

    out = {}
    for i, period in enumerate(ordered):
        if period.id in period_ids:
            window = ordered[: i + 1][-LOOKBACK:]
            history = PartnerHistory([], window, load=load)
            out[period.id] = combined(
                [history.coverage(r, period.id, expected[r], min_share) for r in reported]
            )
    return out
