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

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.analytics.rollups import PartnerFigure, combine, expected_members, partner_values
from models.core.settings import get_settings
from models.tables.indicator import TOTAL
from models.tables.initiative import Initiative, Period


@dataclass(frozen=True)
class Coverage:
    reported: int  # partners whose approved figure is in the total
    expected: int  # active partners obliged to report the indicator
    share: float | None  # of the expected partners' usual size; None when unknown
    complete: bool


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
    if not figures:
        return None
    weighted = (
        pf.value * pf.denominator
        for pf in figures
        if pf.value is not None and pf.denominator is not None
    )
    return combine(
        measure_type,
        _sum(pf.value for pf in figures),
        _sum(pf.numerator for pf in figures),
        _sum(pf.denominator for pf in figures),
        _sum(weighted),
    )


def basis_text(partners: int) -> str:
    """What a like-with-like trend is computed on."""
    if partners == 1:
        return "the 1 partner that reported in both periods"
    return f"the {partners} partners that reported in both periods"


ALL_PARTNERS = "all partners"


class PartnerHistory:
    """Every partner's approved total of some indicators over some periods (from one query):
    who reported what, each partner's last known size, and the figure of any set of partners."""

    def __init__(self, figures: Iterable[PartnerFigure], periods: Sequence[Period]) -> None:
        self._order = {p.id: i for i, p in enumerate(sorted(periods, key=lambda p: p.starts_on))}
        self._groups: dict[tuple[int, int], dict[int, PartnerFigure]] = defaultdict(dict)
        self._sizes: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
        for pf in figures:
            if pf.disaggregation != TOTAL or pf.period_id not in self._order:
                continue
            self._groups[(pf.indicator_id, pf.period_id)][pf.member_id] = pf
            s = size(pf)
            if s is not None:
                self._sizes[(pf.indicator_id, pf.member_id)].append((self._order[pf.period_id], s))
        for sizes in self._sizes.values():
            sizes.sort()

    def reporters(self, indicator_id: int, period_id: int) -> frozenset[int]:
        """The members whose approved figure is in the period's total."""
        return frozenset(self._groups.get((indicator_id, period_id), {}))

    def figure(
        self, indicator_id: int, period_id: int, members: Collection[int], measure_type: str
    ) -> float | None:
        """The period's figure made by ``members`` only (those of them that reported)."""
        group = self._groups.get((indicator_id, period_id), {})
        return figure_of(measure_type, [group[m] for m in members if m in group])

    def last_size(self, indicator_id: int, member_id: int, period_id: int) -> float | None:
        """The size of the member's most recent approved figure at or before the period."""
        at = self._order[period_id]
        for order, s in reversed(self._sizes.get((indicator_id, member_id), [])):
            if order <= at:
                return s
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
        group = self._groups.get((indicator_id, period_id), {})
        present = sum(size(group[m]) or 0.0 for m in expected if m in group)
        absent, unknown = 0.0, False
        for m in expected - group.keys():
            last = self.last_size(indicator_id, m, period_id)
            if last is None:
                unknown = True  # never reported: its size, and so the share, is unknown
                break
            absent += last
        share = None
        if expected and not unknown and present + absent > 0:
            share = present / (present + absent)
        complete = expected <= group.keys() or (share is not None and share >= min_share - 1e-12)
        return Coverage(reported=len(group), expected=len(expected), share=share, complete=complete)


LOOKBACK = 8  # periods a partner's last approved figure is looked for (two years of quarters)


def partner_history(
    *,
    session: Session,
    initiative_id: int,
    indicator_ids: Collection[int],
    periods: Sequence[Period],
) -> PartnerHistory:
    """The partners' approved totals of the indicators in the last :data:`LOOKBACK` of these
    periods (one query): a partner missing for longer has no known usual size."""
    periods = sorted(periods, key=lambda p: p.starts_on)[-LOOKBACK:]
    figures = (
        partner_values(
            session=session,
            initiative_id=initiative_id,
            indicator_ids=list(indicator_ids),
            period_ids=[p.id for p in periods],
            disaggregation=TOTAL,
        )
        if indicator_ids and periods
        else []
    )
    return PartnerHistory(figures, periods)


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
    history = partner_history(
        session=session,
        initiative_id=initiative.id,
        indicator_ids=indicator_ids,
        periods=periods,
    )
    expected = expected_members(session=session, initiative_id=initiative.id)
    min_share = get_settings().coverage_min_share
    return {i: history.coverage(i, period.id, expected[i], min_share) for i in indicator_ids}
