"""What backbone staff, partners and funders look at: scorecard, series, equity, completeness.

Every figure comes from ``models.analytics.disclosure.decide`` (approved values only, combined by measure
type, decided once per indicator and period for the viewer's audience), so no page, API answer
or export can show a figure another view hides. Every scorecard figure also says what it is
made of (``models.analytics.coverage``): partners reported of expected and, for the backbone team, their
share of the partners' usual size; an incomplete figure is not judged against its target, and
trends compare the partners that reported in both periods.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Executable,
    Integer,
    String,
    TextualSelect,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session, aliased

from models.access.api_keys import offer_access_revision
from models.access.permissions import can_view_initiative, get_initiative
from models.analytics.computed import reported_inputs, with_inputs
from models.analytics.coverage import (
    ALL_PARTNERS,
    PartnerHistory,
    basis_text,
    combined,
    coverage_by_period,
    partner_history,
)
from models.analytics.disclosure import (
    audience_of,
    baseline_told,
    cells_of,
    decide,
    gap_baseline_told,
    rules_for,
)
from models.analytics.figures import Figure, GroupView
from models.analytics.fresh import first_columns, initiative_row, offer_first
from models.analytics.kept import kept, setup_key
from models.analytics.rollups import expected_members
from models.analytics.setup_rows import (
    IndicatorLike,
    IndicatorRow,
    InitiativeLike,
    indicators_by_code,
    indicators_with_outcomes,
    of_outcome,
)
from models.analytics.suppression import NOT_PUBLISHED
from models.core import dates
from models.core.actors import Actor
from models.core.db import REPLICA, data_as_of, transaction_wrote
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.core.i18n import gettext, ngettext
from models.core.settings import get_settings
from models.tables.indicator import (
    TOTAL,
    Dimension,
    GapTarget,
    Indicator,
    IndicatorTarget,
    Obligation,
    SeriesBreak,
    indicator_contributions,
    indicator_dimensions,
    split_pair,
)
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import DeadlineExtension, Submission, Value
from models.tables.revisions import DEPLOYMENT, AccessRevision, DataRevision, ReportStamp

STEADY = 0.01  # a change under 1 % of the previous value is "steady"


# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRow:
    """What the figure views read of a period: plain values, kept under the setup revision
    (``models.analytics.kept``) instead of loaded as objects on every request."""

    id: int
    key: str
    starts_on: date
    opens_on: date


def _periods(session: Session, initiative_id: int) -> tuple[PeriodRow, ...]:
    """The initiative's periods, oldest first."""
    return kept(
        session,
        initiative_id,
        "periods",
        (),
        lambda: tuple(
            PeriodRow(*row)
            for row in session.execute(
                select(Period.id, Period.key, Period.starts_on, Period.opens_on)
                .where(Period.initiative_id == initiative_id)
                .order_by(Period.starts_on)
            )
        ),
    )


class _PeriodLike(Protocol):
    """A period as an ORM object or as a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def starts_on(self) -> date: ...


_P = TypeVar("_P", bound=_PeriodLike)


def _period(periods: Sequence[_P], key: str | None, latest_with_data: set[int]) -> _P:
    if key:
        for p in periods:
            if p.key == key:
                return p
        raise NotFound(gettext("no period %(key)r", key=key), field="period")
    with_data = [p for p in periods if p.id in latest_with_data]
    if with_data:
        return with_data[-1]
    started = [p for p in periods if p.starts_on <= dates.today()]
    if started:
        return started[-1]
    if periods:
        return periods[0]
    raise NotFound(gettext("this initiative has no periods yet"), field="period")


def _viewable(session: Session, actor: Actor, slug: str) -> InitiativeLike:
    """The initiative by slug if the actor may see it (else 404, as ``get_initiative``): the
    row the answer key read in this transaction (``models.analytics.fresh.initiative_row``)
    when it did, else the object ``get_initiative`` loads."""
    row = initiative_row(session, slug)
    if row is not None and can_view_initiative(session=session, actor=actor, initiative_id=row.id):
        return row
    return get_initiative(session=session, actor=actor, slug=slug)


def _indicator(session: Session, initiative_id: int, code: str) -> IndicatorRow:
    """The initiative's indicator ``code``, as a row kept under the setup revision."""
    indicator = indicators_by_code(session, initiative_id).get(code)
    if indicator is None:
        raise NotFound(gettext("no indicator %(code)r", code=code), field="code")
    return indicator


def _told_baseline(
    indicator: IndicatorLike, views: dict[tuple[int, int], GroupView], backbone: bool
) -> float | None:
    """The indicator's baseline as the viewer may be told it (None: none, or withheld:
    ``models.analytics.disclosure.baseline_told``)."""
    base = indicator.baseline_value
    if backbone or base is None or indicator.baseline_period_id is None:
        return base
    told = baseline_told(
        views.get((indicator.id, indicator.baseline_period_id)),
        base,
        indicator.decimals,
        indicator.expression is not None,
    )
    return base if told else None


def _told_interim(
    indicator: IndicatorLike, baseline: float | None, interim: dict[tuple[int, int], float]
) -> dict[tuple[int, int], float]:
    """The interim targets the viewer is told: none where the baseline is withheld from it
    (one interim target on the line and the end target draw the line back to the baseline)."""
    return {} if baseline is None and indicator.baseline_value is not None else interim


def _target_for(
    indicator: IndicatorLike,
    period: PeriodRow,
    periods_by_id: dict[int, PeriodRow],
    interim: dict[tuple[int, int], float],
    baseline: float | None,
) -> tuple[float | None, str | None]:
    """The figure expected by ``period`` and where it comes from: ``interim`` (a target set for
    the period), ``trajectory`` (the point for the period on the straight line from the
    baseline to the end target) or ``end`` (the end target itself, without a baseline to draw
    a line from, or from its period on). ``baseline`` is the one the viewer is told: a line
    from a withheld baseline would give it back."""
    if (indicator.id, period.id) in interim:
        return interim[(indicator.id, period.id)], "interim"
    if indicator.target_value is None:
        return None, None
    start_id, end_id = indicator.baseline_period_id, indicator.target_period_id
    start = periods_by_id.get(start_id) if start_id is not None else None
    end = periods_by_id.get(end_id) if end_id is not None else None
    if baseline is None or start is None or end is None:
        return indicator.target_value, "end"
    return _on_line(baseline, start, indicator.target_value, end, period)


def _on_line(
    baseline: float, start: PeriodRow, target: float, end: PeriodRow, period: PeriodRow
) -> tuple[float, str]:
    """The point for ``period`` on the straight line from ``baseline`` at ``start`` to
    ``target`` at ``end`` (``trajectory``); the target itself from ``end`` on (``end``)."""
    span = (end.starts_on - start.starts_on).days
    if span <= 0 or period.starts_on >= end.starts_on:
        return target, "end"
    share = max(0.0, (period.starts_on - start.starts_on).days / span)
    return baseline + share * (target - baseline), "trajectory"


def _better(direction: str, a: float, b: float) -> bool:
    """a is at least as good as b."""
    return a >= b - 1e-9 if direction == "higher" else a <= b + 1e-9


def _trend(direction: str, current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    delta = current - previous
    if abs(delta) <= STEADY * max(abs(previous), 1e-9):
        return "steady"
    improving = delta > 0 if direction == "higher" else delta < 0
    return "improving" if improving else "worsening"


# --- scorecard ------------------------------------------------------------------------------


@dataclass
class ScorecardRow:
    outcome: str | None
    outcome_name: str | None
    code: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    current: Figure
    baseline: float | None
    baseline_period: str | None
    # The figure expected by this period, on the way to the end target: on track means at or
    # better than it. ``target_kind`` says where it comes from (see _target_for): interim,
    # trajectory or end.
    target: float | None
    end_target: float | None
    end_target_period: str | None
    # Progress is measured toward the END target, the one the Target column shows: the share
    # of the way from the baseline to it (0 at the baseline, 1 at the target; below 0 when the
    # figure moved away from the target, above 1 past it).
    progress: float | None
    status: str  # met | on_track | off_track | incomplete | hidden | no_data | no_target
    previous: Figure | None
    trend: str | None  # improving | worsening | steady (since the previous period)
    change_since_baseline: float | None
    sparkline: list[tuple[str, float | None]]
    contributors: int | None  # None: too few to tell the viewer
    expected: int
    series_break: bool  # the definition changed at this period
    # Coverage (models.analytics.coverage): partners in the total (None where the contributor count is
    # not told), their share of the expected partners' usual size (backbone only), and whether
    # the figure is complete (always told).
    reported: int | None = None
    share: float | None = None
    complete: bool = True
    # What the trend compares: "all partners", "the N partners that reported in both
    # periods" (like with like when the partners differ), or None without a trend.
    trend_basis: str | None = None
    # How many partners a like-with-like trend compares (None when it is all partners or a
    # computed indicator's inputs): the pages write the basis in the reader's language.
    trend_partners: int | None = None
    # The previous and current figures the trend compares (backbone only).
    trend_previous: float | None = None
    trend_current: float | None = None
    target_kind: str | None = None  # interim | trajectory | end (None without a target)
    # The indicator has a baseline the viewer is not told: its period's figure is hidden from
    # it (``models.analytics.disclosure.baseline_told``); so are progress and the line to the
    # target.
    baseline_withheld: bool = False
    # README, "Two kinds of measure": population indicator or partner performance measure (its
    # type), and the codes of the population indicators a performance measure contributes to.
    kind: str = "population"
    performance_type: str | None = None
    contributes_to: list[str] = field(default_factory=list)
    # The period's gap against each of the indicator's gap targets (:func:`judge_gap`).
    gap_targets: list[GapJudgement] = field(default_factory=list)
    expression: str | None = None  # a computed indicator: what it is computed from


@dataclass
class Scorecard:
    initiative: str
    initiative_name: str
    period: str
    periods: list[str]
    suppressed: bool  # figures below backbone level are suppressed
    threshold: int
    rows: list[ScorecardRow] = field(default_factory=list)
    # The periods whose reporting has opened by today, oldest first: the ones worth picking
    # (a future quarter has no figures yet).
    opened: list[str] = field(default_factory=list)


def contribution_links(session: Session, indicator_ids: Sequence[int]) -> dict[int, list[str]]:
    """Performance measure id → the codes of the population indicators it contributes to, in
    the initiative's order (README, "Two kinds of measure")."""
    links: dict[int, list[str]] = {}
    for performance_id, code in session.execute(
        select(indicator_contributions.c.performance_id, Indicator.code)
        .join(Indicator, Indicator.id == indicator_contributions.c.population_id)
        .where(indicator_contributions.c.performance_id.in_(indicator_ids))
        .order_by(Indicator.position, Indicator.code)
    ):
        links.setdefault(performance_id, []).append(code)
    return links


def scorecard(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period_key: str | None = None,
    outcome: str | None = None,
) -> Scorecard:
    """Every indicator's current figure against its baseline and target, grouped by outcome."""
    initiative = _viewable(session, actor, initiative_slug)
    periods = _periods(session, initiative.id)
    periods_by_id = {p.id: p for p in periods}
    # Indicators and outcomes are setup: plain rows kept under its revision.
    listed = indicators_with_outcomes(session, initiative.id)
    indicators = of_outcome(listed, outcome) if outcome else listed
    if outcome and not indicators:
        raise NotFound(
            gettext("no outcome %(outcome)r with indicators", outcome=outcome), field="outcome"
        )
    aud = audience_of(session=session, actor=actor, initiative=initiative)
    views = decide(
        session=session,
        initiative=initiative,
        audience=aud,
        indicators=[i for i, _ in indicators],
        categories=False,
    )
    # Below backbone the default is the latest published period (others show no figures).
    published = {p for (_, p), v in views.items() if v.total.reason != NOT_PUBLISHED}
    period = _period(periods, period_key, published or {p for _, p in views})
    history = [p for p in periods if p.starts_on <= period.starts_on]
    previous_period = history[-2] if len(history) > 1 else None
    ids = tuple(i.id for i, _ in indicators)
    # Targets, breaks, obligations, contributions and gap targets are setup: kept under its
    # revision (models.analytics.kept), read again only after a setup change.
    setup = setup_key(session, initiative.id)
    interim, breaks, links, goals = kept(
        session,
        initiative.id,
        "scorecard",
        ids,
        lambda: _scorecard_setup(session, ids),
        key=setup,
    )
    expected = expected_members(session=session, initiative_id=initiative.id, setup=setup)
    # Every partner's approved totals of the period and the one before (coverage and
    # like-with-like trends), one packed row per indicator and period; earlier periods only
    # when a missing partner's last known size is needed.
    # A computed indicator is as complete as the reported indicators it stands on.
    everything = with_inputs(
        session=session, initiative_id=initiative.id, indicators=[i for i, _ in indicators]
    )
    by_code = {i.code: i for i in everything}
    stands_on = {
        i.id: [r.id for r in reported_inputs(i, by_code)]
        for i, _ in indicators
        if i.expression is not None
    }
    partners = partner_history(
        session=session,
        initiative_id=initiative.id,
        indicator_ids=[i.id for i in everything],
        periods=history,
        first=[p.id for p in history[-2:]],
    )
    min_share = get_settings().coverage_min_share
    backbone = aud.backbone
    today = dates.today()
    card = Scorecard(
        initiative=initiative.slug,
        initiative_name=initiative.name,
        period=period.key,
        periods=[p.key for p in periods],
        suppressed=not actor.is_backbone(initiative.id),
        threshold=initiative.suppression_threshold,
        opened=[p.key for p in periods if p.opens_on <= today],
    )
    needed = rules_for(initiative).partners_needed
    # Gap targets are judged on the categories' figures, decided for those indicators only.
    by_category = (
        decide(
            session=session,
            initiative=initiative,
            audience=aud,
            indicators=[i for i, _ in indicators if i.id in goals],
            categories=True,
        )
        if goals
        else {}
    )
    by_key = {p.key: p for p in periods}
    history_keys = [(p.id, p.key) for p in history]
    for indicator, out in indicators:
        indicator_id = indicator.id
        mt = indicator.measure_type
        view = views.get((indicator_id, period.id))
        current = view.total if view else _NO_DATA
        previous = None
        if previous_period is not None:
            before = views.get((indicator_id, previous_period.id))
            previous = before.total if before else _NO_DATA
        broke = (indicator_id, period.id) in breaks
        baseline = _told_baseline(indicator, views, backbone)
        target, target_kind = _target_for(
            indicator, period, periods_by_id, _told_interim(indicator, baseline, interim), baseline
        )
        if indicator_id in stands_on:
            coverage = combined(
                [
                    partners.coverage(i, period.id, expected[i], min_share)
                    for i in stands_on[indicator_id]
                ]
            )
        else:
            coverage = partners.coverage(indicator_id, period.id, expected[indicator_id], min_share)
        value = current.value
        if view is None:
            status = "no_data"
        elif target is None:
            status = "no_target"
        elif value is None:
            status = "hidden"  # there is a figure, but not for this viewer to judge
        elif not coverage.complete:
            status = "incomplete"  # too few partners to judge against the target
        elif indicator.target_value is not None and _better(
            indicator.direction, value, indicator.target_value
        ):
            status = "met"
        else:
            status = "on_track" if _better(indicator.direction, value, target) else "off_track"
        progress = None
        if (
            value is not None
            and baseline is not None
            and indicator.target_value is not None
            and indicator.target_value != baseline
            and (backbone or coverage.complete)
        ):
            progress = (value - baseline) / (indicator.target_value - baseline)
        trend = _LikeWithLike()
        if indicator_id in stands_on:
            # From its inputs' figures as shown: the like-with-like work is theirs.
            direction = (
                None
                if previous is None or broke
                else _trend(indicator.direction, value, previous.value)
            )
            if direction is not None:
                trend = _LikeWithLike(direction, COMPUTED_BASIS)
        elif previous_period is not None and previous is not None and not broke:
            trend = _like_with_like(
                indicator,
                partners,
                period.id,
                previous_period.id,
                shown=(value, previous.value),
                backbone=backbone,
                needed=needed,
            )
        spark = [
            (key, point.total.value if (point := views.get((indicator_id, period_id))) else None)
            for period_id, key in history_keys
        ]
        told = indicator_id not in stands_on and (
            backbone or view is None or view.contributors is not None
        )
        cells = by_category.get((indicator_id, period.id))
        gaps = [
            judge_gap(
                _told_goal(
                    goal,
                    cells_of(by_category.get((indicator_id, by_key[goal.baseline_period].id))),
                    indicator,
                    backbone,
                ),
                period,
                by_key,
                direction=indicator.direction,
                cells=[
                    (k, f)
                    for k, f in (cells.cells.items() if cells else ())
                    if k.startswith(f"{goal.dimension}=")
                ],
                complete=coverage.complete,
                backbone=backbone,
            )
            for goal in goals.get(indicator_id, ())
        ]
        card.rows.append(
            ScorecardRow(
                outcome=out.code if out else None,
                outcome_name=out.name if out else None,
                code=indicator.code,
                name=indicator.name,
                unit=indicator.unit,
                measure_type=mt,
                direction=indicator.direction,
                decimals=indicator.decimals,
                current=current,
                baseline=baseline,
                baseline_period=(
                    _key(periods_by_id, indicator.baseline_period_id)
                    if baseline is not None
                    else None
                ),
                target=target,
                end_target=indicator.target_value,
                end_target_period=_key(periods_by_id, indicator.target_period_id),
                progress=progress,
                status=status,
                previous=previous,
                trend=trend.direction,
                change_since_baseline=(
                    value - baseline if value is not None and baseline is not None else None
                ),
                sparkline=spark,
                contributors=view.contributors if view else 0,
                expected=coverage.expected,
                series_break=broke,
                reported=coverage.reported if told else None,
                # Below backbone, the share with the total would give a missing partner's size.
                share=coverage.share if backbone else None,
                complete=coverage.complete,
                trend_basis=trend.basis,
                trend_partners=trend.partners,
                trend_previous=trend.previous,
                trend_current=trend.current,
                target_kind=target_kind,
                kind=indicator.kind,
                performance_type=indicator.performance_type,
                contributes_to=list(links.get(indicator.id, ())),
                gap_targets=gaps,
                baseline_withheld=baseline is None and indicator.baseline_value is not None,
                expression=indicator.expression,
            )
        )
    return card


def _scorecard_setup(
    session: Session, ids: Sequence[int]
) -> tuple[
    dict[tuple[int, int], float],
    frozenset[tuple[int, int]],
    dict[int, tuple[str, ...]],
    dict[int, tuple[GapGoal, ...]],
]:
    """The indicators' interim targets, series breaks, contribution links and gap targets:
    setup only, the same for every viewer (what a viewer is told of them is decided later)."""
    interim = {
        (t.indicator_id, t.period_id): t.value
        for t in session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.indicator_id.in_(list(ids)))
        )
    }
    breaks = frozenset(
        (indicator_id, period_id)
        for indicator_id, period_id in session.execute(
            select(SeriesBreak.indicator_id, SeriesBreak.period_id).where(
                SeriesBreak.indicator_id.in_(list(ids))
            )
        )
    )
    links = {i: tuple(codes) for i, codes in contribution_links(session, ids).items()}
    goals = {i: tuple(g) for i, g in _gap_goals(session, ids).items()}
    return interim, breaks, links, goals


@dataclass(frozen=True)
class _LikeWithLike:
    direction: str | None = None
    basis: str | None = None
    previous: float | None = None  # backbone only
    current: float | None = None  # backbone only
    partners: int | None = None  # how many partners a like-with-like basis compares


def _like_with_like(
    indicator: IndicatorLike,
    partners: PartnerHistory,
    period_id: int,
    previous_id: int,
    *,
    shown: tuple[float | None, float | None],
    backbone: bool,
    needed: int,
) -> _LikeWithLike:
    """The trend since the previous period, over the partners that reported in both.

    When the same partners reported both times, it is the trend of the figures shown. When
    they differ, a partner joining or leaving would move the total by its own size: the trend
    is computed on the figure of the partners common to both periods. The backbone team gets
    those figures; below backbone only the direction, and only when both whole figures are
    shown to the viewer and the common partners are as many as a shown figure needs (so the
    direction never speaks for one or two partners)."""
    now = partners.reporters(indicator.id, period_id)
    before = partners.reporters(indicator.id, previous_id)
    common = now & before
    if not common:
        return _LikeWithLike()
    if now == before:
        current, previous = shown
        direction = _trend(indicator.direction, current, previous)
        if direction is None:
            return _LikeWithLike()
        return _LikeWithLike(
            direction,
            ALL_PARTNERS,
            previous if backbone else None,
            current if backbone else None,
        )
    if not backbone and (None in shown or len(common) < needed):
        return _LikeWithLike()
    current, previous = partners.in_both(
        indicator.id, period_id, previous_id, indicator.measure_type
    )
    direction = _trend(indicator.direction, current, previous)
    if direction is None:
        return _LikeWithLike()
    if not backbone:
        return _LikeWithLike(direction, basis_text(len(common)), partners=len(common))
    return _LikeWithLike(
        direction, basis_text(len(common)), previous, current, partners=len(common)
    )


_NO_DATA = Figure(value=None, n=None)
COMPUTED_BASIS = "the figures it is computed from"


def trend_words(trend: str | None) -> str | None:
    """A trend (``improving`` …) as the pages say it, in the reader's language."""
    words = {
        "improving": gettext("improving"),
        "worsening": gettext("worsening"),
        "steady": gettext("steady"),
    }
    return words.get(trend or "", trend)


def basis_words(row: ScorecardRow) -> str | None:
    """What a row's trend compares (``trend_basis``, which the API keeps in English), in the
    reader's language."""
    if row.trend_basis is None:
        return None
    if row.trend_basis == ALL_PARTNERS:
        return gettext("all partners")
    if row.trend_basis == COMPUTED_BASIS:
        return gettext("the figures it is computed from")
    if row.trend_partners is not None:
        return ngettext(
            "the %(n)s partner that reported in both periods",
            "the %(n)s partners that reported in both periods",
            row.trend_partners,
        )
    return row.trend_basis


def basis_note(row: ScorecardRow) -> str | None:
    """The note under a trend that is not every partner's (like with like), as a sentence of
    its own in the reader's language; None for all partners or no trend."""
    if row.trend_basis is None or row.trend_basis == ALL_PARTNERS:
        return None
    if row.trend_basis == COMPUTED_BASIS:
        return gettext("trend of the figures it is computed from")
    if row.trend_partners is not None:
        return ngettext(
            "trend of the %(n)s partner that reported in both periods",
            "trend of the %(n)s partners that reported in both periods",
            row.trend_partners,
        )
    return row.trend_basis


def _key(periods_by_id: dict[int, PeriodRow], period_id: int | None) -> str | None:
    p = periods_by_id.get(period_id) if period_id is not None else None
    return p.key if p else None


# --- series ---------------------------------------------------------------------------------


@dataclass
class SeriesPoint:
    period: str
    key: str  # "total", "race=black", or an organisation slug
    label: str
    figure: Figure


@dataclass
class Series:
    initiative: str
    indicator: str
    name: str
    unit: str
    measure_type: str
    direction: str
    decimals: int
    by: str | None
    periods: list[str]
    total: list[SeriesPoint]
    breakdown: list[SeriesPoint]
    targets: list[tuple[str, float | None]]
    baseline: float | None
    baseline_period: str | None
    end_target: float | None
    end_target_period: str | None
    breaks: list[tuple[str, str]]  # (period, note)
    suppressed: bool
    baseline_withheld: bool = False  # see ScorecardRow.baseline_withheld
    expression: str | None = None  # a computed indicator: what it is computed from


def _members(session: Session, initiative: InitiativeLike) -> dict[int, tuple[str, str]]:
    """member id → (organisation slug, organisation name)."""
    return {
        member_id: (slug, name)
        for member_id, slug, name in session.execute(
            select(Member.id, Organisation.slug, Organisation.name)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.initiative_id == initiative.id)
        )
    }


def series(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    indicator_code: str,
    by: str | None = None,
    org: str | None = None,
    period_key: str | None = None,
) -> Series:
    """An indicator over time: the rollup, optionally by a dimension's categories or by partner
    (``by="partner"``), plus targets, baseline and series breaks. ``org`` narrows the partner
    breakdown to one organisation (a reporter's own trend against the initiative);
    ``period_key`` narrows the points (total, breakdown, targets) to that one period, the
    others left unread (one quarter's partner comparison): each is the whole series' point."""
    initiative = _viewable(session, actor, initiative_slug)
    indicator = _indicator(session, initiative.id, indicator_code)
    return _series(session, actor, initiative, indicator, by, org, period_key)


def _series(
    session: Session,
    actor: Actor,
    initiative: InitiativeLike,
    indicator: IndicatorLike,
    by: str | None,
    org: str | None,
    period_key: str | None = None,
) -> Series:
    """:func:`series` of an initiative the actor may see and one of its indicators."""
    mt = indicator.measure_type
    periods = _periods(session, initiative.id)
    periods_by_id = {p.id: p for p in periods}
    asked: list[int] | None = None  # every period's groups
    if period_key is not None:
        asked = [p.id for p in periods if p.key == period_key]
        if indicator.baseline_period_id is not None:
            # What the viewer is told of the baseline is decided from its period's figures.
            asked.append(indicator.baseline_period_id)
    # The breakdown's categories, interim targets and breaks are setup: kept under its
    # revision (models.analytics.kept), read again only after a setup change.
    dimension = by if by and by != "partner" else None
    found, interim, raw_breaks = kept(
        session,
        initiative.id,
        "series",
        (indicator.id, dimension),
        lambda: _series_setup(session, indicator.id, dimension),
    )
    if found is None:
        raise InvalidInput(
            gettext("%(code)s has no breakdown by %(by)r", code=indicator.code, by=by),
            field="by",
        )
    categories = list(found)

    aud = audience_of(session=session, actor=actor, initiative=initiative)
    by_partner = by == "partner" or bool(org)
    names = _members(session, initiative) if by_partner else {}  # only partners are named
    visible = names if aud.backbone else {m: names[m] for m in aud.visible if m in names}
    if org and org not in {slug for slug, _ in visible.values()}:
        raise NotFound(gettext("no partner %(org)r you may see", org=org), field="org")
    views: dict[tuple[int, int], GroupView] = (
        decide(
            session=session,
            initiative=initiative,
            audience=aud,
            indicators=[indicator],
            period_ids=asked,
            categories=bool(categories),
            partners=by_partner,
        )
        if asked is None or asked
        else {}  # no such period (and no baseline's): no points
    )

    baseline = _told_baseline(indicator, views, aud.backbone)
    total_points, breakdown_points = [], []
    data_periods = [
        p
        for p in periods
        if (indicator.id, p.id) in views and (period_key is None or p.key == period_key)
    ]
    for p in data_periods:
        view = views[(indicator.id, p.id)]
        total_points.append(SeriesPoint(p.key, TOTAL, "All partners", view.total))
        for key, label in categories:
            figure = view.cells.get(key, _NO_DATA)
            breakdown_points.append(SeriesPoint(p.key, key, label, figure))
        for member_id, figure in view.partners.items() if by_partner else ():
            if member_id not in visible:
                continue
            slug, name = visible[member_id]
            if org and slug != org:
                continue
            breakdown_points.append(SeriesPoint(p.key, slug, name, figure))

    told_interim = _told_interim(indicator, baseline, interim)
    breaks = [(periods_by_id[period_id].key, note) for period_id, note in raw_breaks]
    return Series(
        initiative=initiative.slug,
        indicator=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        measure_type=mt,
        direction=indicator.direction,
        decimals=indicator.decimals,
        by=by or ("partner" if org else None),
        periods=[p.key for p in data_periods],
        total=total_points,
        breakdown=breakdown_points,
        targets=[
            (p.key, _target_for(indicator, p, periods_by_id, told_interim, baseline)[0])
            for p in data_periods
        ],
        baseline=baseline,
        baseline_period=(
            _key(periods_by_id, indicator.baseline_period_id) if baseline is not None else None
        ),
        end_target=indicator.target_value,
        end_target_period=_key(periods_by_id, indicator.target_period_id),
        breaks=sorted(breaks),
        suppressed=not aud.backbone,
        baseline_withheld=baseline is None and indicator.baseline_value is not None,
        expression=indicator.expression,
    )


def _series_setup(
    session: Session, indicator_id: int, dimension: str | None
) -> tuple[
    tuple[tuple[str, str], ...] | None,
    dict[tuple[int, int], float],
    tuple[tuple[int, str], ...],
]:
    """One indicator's breakdown categories by ``dimension`` (key, name; None when it has no
    such dimension, empty without one), interim targets and series breaks (period id, note):
    setup only, the same for every viewer."""
    categories: tuple[tuple[str, str], ...] | None = ()
    if dimension is not None:
        dims = session.execute(
            select(Dimension)
            .join(indicator_dimensions, indicator_dimensions.c.dimension_id == Dimension.id)
            .where(indicator_dimensions.c.indicator_id == indicator_id, Dimension.code == dimension)
        ).scalar_one_or_none()
        categories = (
            None
            if dims is None
            else tuple((f"{dims.code}={c.code}", c.name) for c in dims.categories)
        )
    interim = {
        (t.indicator_id, t.period_id): t.value
        for t in session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator_id)
        )
    }
    breaks = tuple(
        (b.period_id, b.note)
        for b in session.scalars(
            select(SeriesBreak).where(SeriesBreak.indicator_id == indicator_id)
        )
    )
    return categories, interim, breaks


# --- gaps and gap targets -------------------------------------------------------------------


@dataclass(frozen=True)
class GapGoal:
    """A gap target (``models.initiatives.gap_targets``): the gap between the best and the
    worst category of ``dimension``, from ``baseline`` at its period to ``target`` by its."""

    dimension: str
    dimension_name: str
    # None: withheld from the viewer (a category of the baseline period is hidden from it:
    # ``models.analytics.disclosure.gap_baseline_told``).
    baseline: float | None
    baseline_period: str
    target: float
    target_period: str
    note: str | None


def _told_goal(
    goal: GapGoal, cells: Mapping[str, Figure] | None, indicator: IndicatorLike, backbone: bool
) -> GapGoal:
    """The gap target as the viewer may be told it, ``cells`` being the baseline period's
    category figures as it sees them."""
    if goal.baseline is None or backbone:
        return goal
    computed = indicator.expression is not None
    if gap_baseline_told(cells, goal.dimension, goal.baseline, indicator.decimals, computed):
        return goal
    return replace(goal, baseline=None)


@dataclass(frozen=True)
class GapJudgement:
    """One period's gap against a gap target, as the viewer may know it.

    ``status``: met (at or below the target gap), on_track (at or below the gap expected by
    the period), off_track, incomplete (too few partners to judge, like the scorecard),
    hidden (a category's figure is hidden from the viewer: the gap is not known to it) or
    no_data (fewer than two categories reported). ``progress`` is the share of the way from
    the baseline gap to the target gap: (baseline − gap) / (baseline − target)."""

    dimension: str
    dimension_name: str
    gap: float | None  # None when the viewer does not know it
    expected: float  # the gap expected by the period, on the line to the target gap
    status: str
    progress: float | None


def _extremes(
    direction: str, cells: Sequence[tuple[str, Figure]]
) -> tuple[str | None, str | None, float | None, float | None]:
    """(best, worst, gap, ratio) of the categories' figures shown (two at least)."""
    known = [(k, f.value) for k, f in cells if f.value is not None]
    if len(known) < 2:
        return None, None, None, None
    ordered = sorted(known, key=lambda kv: kv[1], reverse=direction == "higher")
    (best, b), (worst, w) = ordered[0], ordered[-1]
    hi, lo = max(b, w), min(b, w)
    return best, worst, abs(b - w), hi / lo if lo > 0 else None


def _hides(cells: Sequence[tuple[str, Figure]]) -> bool:
    """A category with data is hidden (suppressed, coarsened, withheld) from the viewer."""
    return any(f.value is None and f.reason is not None for _, f in cells)


def judge_gap(
    goal: GapGoal,
    period: PeriodRow,
    periods_by_key: dict[str, PeriodRow],
    *,
    direction: str,
    cells: Sequence[tuple[str, Figure]],
    complete: bool,
    backbone: bool,
) -> GapJudgement:
    """The gap of one period (from the categories' figures as the disclosure decision shows
    them to the viewer) against the gap target.

    If any category's figure is hidden, the viewer cannot tell whether it is the best or
    the worst, so the gap is not known to it and the status is ``hidden``: a status such as
    "met" would bound the hidden figure (README, Disclosure). Progress is told below backbone
    only when the figure is complete, as on the scorecard."""
    start, end = periods_by_key[goal.baseline_period], periods_by_key[goal.target_period]
    # Without the baseline (withheld), the target gap itself: a line would give it back.
    expected = (
        goal.target
        if goal.baseline is None
        else _on_line(goal.baseline, start, goal.target, end, period)[0]
    )
    _, _, gap, _ = _extremes(direction, cells)
    if _hides(cells):
        return GapJudgement(goal.dimension, goal.dimension_name, None, expected, "hidden", None)
    if gap is None:
        return GapJudgement(goal.dimension, goal.dimension_name, None, expected, "no_data", None)
    if not complete:
        status = "incomplete"
    elif gap <= goal.target + 1e-9:
        status = "met"
    else:
        status = "on_track" if gap <= expected + 1e-9 else "off_track"
    progress = None
    if goal.baseline is not None and goal.baseline != goal.target and (backbone or complete):
        progress = (goal.baseline - gap) / (goal.baseline - goal.target)
    return GapJudgement(goal.dimension, goal.dimension_name, gap, expected, status, progress)


def _gap_goals(session: Session, indicator_ids: Sequence[int]) -> dict[int, list[GapGoal]]:
    """Indicator id → its gap targets, by dimension position (one query)."""
    base, due = aliased(Period), aliased(Period)
    rows = session.execute(
        select(GapTarget, Dimension.code, Dimension.name, base.key, due.key)
        .join(Dimension, Dimension.id == GapTarget.dimension_id)
        .join(base, base.id == GapTarget.baseline_period_id)
        .join(due, due.id == GapTarget.target_period_id)
        .where(GapTarget.indicator_id.in_(list(indicator_ids)))
        .order_by(Dimension.position, Dimension.code)
    )
    out: dict[int, list[GapGoal]] = {}
    for row, code, name, base_key, due_key in rows.tuples():
        out.setdefault(row.indicator_id, []).append(
            GapGoal(code, name, row.baseline_value, base_key, row.target_value, due_key, row.note)
        )
    return out


# --- equity ---------------------------------------------------------------------------------


@dataclass
class EquityPoint:
    period: str
    categories: list[tuple[str, str, Figure]]  # (key, label, figure)
    best: str | None
    worst: str | None
    gap: float | None  # best − worst shown, in the indicator's unit (always ≥ 0)
    ratio: float | None  # best / worst for higher-is-better, worst / best otherwise (≥ 1)
    target: GapJudgement | None = None  # against the gap target, when there is one


@dataclass(frozen=True)
class CrossTabAxes:
    """A cross-tab's rows and columns, for drawing its cells as a table (README, "Cross-tabs")."""

    rows: tuple[str, str, tuple[tuple[str, str], ...]]  # (dimension, name, ((key, label), …))
    columns: tuple[str, str, tuple[tuple[str, str], ...]]
    cells: tuple[tuple[str, str, str], ...]  # (cell key, row key, column key)


@dataclass
class Equity:
    indicator: str
    dimension: str
    direction: str
    unit: str
    points: list[EquityPoint]
    gap_target: GapGoal | None = None
    cross_tab: CrossTabAxes | None = None  # the dimension is a cross-tab: its rows and columns


def cross_tab_axes(*, session: Session, initiative_id: int, dimension: str) -> CrossTabAxes | None:
    """The rows and columns of ``dimension`` when it is a cross-tab of the initiative."""
    found = session.scalar(
        select(Dimension).where(
            Dimension.initiative_id == initiative_id,
            Dimension.code == dimension,
            Dimension.row_dimension_id.is_not(None),
        )
    )
    if found is None or found.row_dimension is None or found.column_dimension is None:
        return None

    def axis(d: Dimension) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return d.code, d.name, tuple((f"{d.code}={c.code}", c.name) for c in d.categories)

    rows, columns = found.row_dimension, found.column_dimension
    cells = []
    for c in found.categories:
        row, column = split_pair(c.code)
        cells.append((f"{found.code}={c.code}", f"{rows.code}={row}", f"{columns.code}={column}"))
    return CrossTabAxes(axis(rows), axis(columns), tuple(cells))


def equity(
    *, session: Session, actor: Actor, initiative_slug: str, indicator_code: str, dimension: str
) -> Equity:
    """Every category's value over time, the gap between the best and worst shown and, with a
    gap target on the dimension, each period's gap judged against it (:func:`judge_gap`)."""
    initiative = _viewable(session, actor, initiative_slug)
    indicator = _indicator(session, initiative.id, indicator_code)
    try:
        data = _series(session, actor, initiative, indicator, dimension, None)
    except InvalidInput as refused:
        if refused.field != "by":
            raise
        # The series names its own parameter; here the client sent ``dimension``.
        raise InvalidInput(refused.message, field="dimension") from None
    # The gap target and the cross-tab's axes are setup: kept under its revision
    # (models.analytics.kept), read again only after a setup change.
    goal, axes = kept(
        session,
        initiative.id,
        "equity",
        (indicator.id, dimension),
        lambda: _equity_setup(session, initiative.id, indicator.id, dimension),
    )
    periods: Sequence[PeriodRow] = ()
    coverage = {}
    if goal is not None and data.periods:
        periods = _periods(session, initiative.id)
        wanted = {p.id for p in periods if p.key in set(data.periods)}
        coverage = coverage_by_period(
            session=session,
            initiative_id=initiative.id,
            indicator_id=indicator.id,
            periods=periods,
            period_ids=wanted,
        )
    by_key = {p.key: p for p in periods}
    backbone = actor.is_backbone(initiative.id)
    if goal is not None:
        at_baseline = {p.key: p.figure for p in data.breakdown if p.period == goal.baseline_period}
        goal = _told_goal(goal, at_baseline, indicator, backbone)
    # Each period's categories, in the series' order (one pass, not one per period).
    by_period: dict[str, list[tuple[str, str, Figure]]] = {}
    for point in data.breakdown:
        by_period.setdefault(point.period, []).append((point.key, point.label, point.figure))
    points = []
    for period in data.periods:
        cats = by_period.get(period, [])
        shown = [(k, f) for k, _, f in cats]
        best, worst, gap, ratio = _extremes(data.direction, shown)
        judged = None
        if goal is not None:
            judged = judge_gap(
                goal,
                by_key[period],
                by_key,
                direction=data.direction,
                cells=shown,
                complete=coverage[by_key[period].id].complete,
                backbone=backbone,
            )
        points.append(EquityPoint(period, cats, best, worst, gap, ratio, judged))
    return Equity(data.indicator, dimension, data.direction, data.unit, points, goal, axes)


def _equity_setup(
    session: Session, initiative_id: int, indicator_id: int, dimension: str
) -> tuple[GapGoal | None, CrossTabAxes | None]:
    """The indicator's gap target on ``dimension`` (the first, by dimension position) and the
    dimension's axes when it is a cross-tab: setup only, the same for every viewer (what a
    viewer is told of the goal is decided later)."""
    goal = next(
        (
            g
            for g in _gap_goals(session, [indicator_id]).get(indicator_id, [])
            if g.dimension == dimension
        ),
        None,
    )
    axes = cross_tab_axes(session=session, initiative_id=initiative_id, dimension=dimension)
    return goal, axes


# --- completeness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletenessCell:
    organisation: str
    indicator: str
    state: str  # approved | submitted | draft | returned | missing
    late: bool
    reported: bool  # a total value is there


# One member's row of the grid, as decided by: its slug, its indicators (code, id) in order,
# its report's state, whether it is late, and which of its indicators have a total.
RowKey = tuple[str, tuple[tuple[str, int], ...], str, bool, frozenset[int]]


@dataclass
class Completeness:
    initiative: str
    period: str
    due_on: date
    members: list[tuple[str, str]]  # (slug, name)
    indicators: list[tuple[str, str]]  # (code, name)
    cells: list[CompletenessCell]
    counts: dict[str, int]
    # The cells again, one row per member (in the same order) with the key that decides it:
    # after a report changes only its row differs, so renderings can be kept per row.
    rows: list[tuple[RowKey, tuple[CompletenessCell, ...]]] = field(default_factory=list)
    # What the grid was made of, when it was kept (:func:`completeness`): equal keys, equal
    # grids, so a rendering can be kept by it. None when made by a transaction that wrote.
    key: tuple[Any, ...] | None = None


class _Rows:
    """Members' rows of cells by :data:`RowKey`, kept across requests (bounded): between two
    answers, most members' rows are the same, and 200 members × 12 indicators are thousands of
    cells to make again."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._rows: dict[RowKey, tuple[CompletenessCell, ...]] = {}
        self._lock = threading.Lock()

    def get(self, key: RowKey) -> tuple[CompletenessCell, ...]:
        row = self._rows.get(key)
        if row is None:
            slug, indicators, status, late, reported = key
            row = tuple(
                CompletenessCell(
                    slug, code, status if i in reported else "missing", late, i in reported
                )
                for code, i in indicators
            )
            with self._lock:
                if len(self._rows) >= self.LIMIT:
                    self._rows.clear()  # rows are cheap to make again; no order to keep
                self._rows[key] = row
        return row


_ROWS = _Rows()


class _Reported:
    """Which of the obliged indicators each report has a total for, kept across requests
    (bounded) under the report's id, creation time and version, and the obliged indicators'
    ids and creation times.

    Every write of a report's values bumps its version (``models.reporting.submissions``), so
    the version names its totals: after one report changes, one report's totals are read
    again, not the quarter's. The creation times keep a report or an indicator made again
    under a reused id (SQLite reuses the highest id after a delete) from being taken for the
    old one; an indicator deleted takes its values along without bumping the reports'
    versions, and changes the indicators' part of the key."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._sets: dict[tuple[Any, ...], frozenset[int]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> frozenset[int] | None:
        return self._sets.get(key)

    def keep(self, found: dict[tuple[Any, ...], frozenset[int]]) -> None:
        with self._lock:
            if len(self._sets) + len(found) > self.LIMIT:
                self._sets.clear()
            self._sets.update(found)


_REPORTED = _Reported()
# At most this many reports' totals are read by report; more, and the quarter's totals are
# read along the values' rollup index in one pass.
_BY_REPORT = 16


# What a grid's key holds of one report: its member, state, lateness, whether it was ever
# submitted and which obliged indicators it has a total for.
_ReportPart = tuple[int, str, bool, bool, frozenset[int]]


def _report_part(row: Row[Any], totals: frozenset[int]) -> _ReportPart:
    return (row.member_id, row.status, bool(row.is_late), bool(row.was_submitted), totals)


@dataclass
class _Made:
    """What completeness made of a period's reports for one set of obliged indicators: each
    report's totals and its part of the grid's key, by report id, and those parts in order."""

    indicators: frozenset[tuple[int, datetime]]
    totals: dict[int, frozenset[int]]
    parts: dict[int, _ReportPart]
    in_order: tuple[_ReportPart, ...]


@dataclass
class _PeriodReports:
    """A period's reports as of a reports revision, and what was made of them (set whole, once
    made: equal for every request under this revision and these indicators)."""

    revision: int
    subs: dict[int, Row[Any]]
    made: _Made | None = None


class _Reports:
    """A period's reports (the rows of the "submissions" statement, by id) kept across
    requests (bounded) as of the initiative's reports revision they were read under.

    Every write of a report stamps it, in its transaction, with the reports revision the write
    makes (:class:`~models.tables.revisions.ReportStamp`, migration 0027): under a newer
    revision only the reports stamped after the kept one are read again, with their totals —
    after a partner's draft one report, not the period's two hundred — and under the same
    revision nothing is. A report deleted, or moved to another period, leaves its stamp behind
    and is found gone. The revision is read before the rows, in the same transaction (on
    PostgreSQL's primary the rows can only be newer than it names: they are read again under
    the next revision). The initiative's creation time is in the key, so a database made again
    never meets an old entry.

    What was made of the kept reports (:class:`_Made`) follows them: under the newer revision
    the reports read again replace theirs and the ones found gone are dropped, so after a
    draft one report's totals and key part are made, not two hundred."""

    LIMIT = 256

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], _PeriodReports] = {}
        self._lock = threading.Lock()

    def get(
        self,
        connection: Connection,
        statements: dict[str, Executable],
        key: tuple[Any, ...],
        revision: int,
        params: dict[str, int],
        indicators: frozenset[tuple[int, datetime]],
    ) -> _PeriodReports:
        kept = self._kept.get(key)
        if kept is not None and kept.revision == revision:
            return kept
        if kept is None or kept.revision > revision:  # none, or newer than this snapshot
            read = _PeriodReports(
                revision,
                {row.id: row for row in connection.execute(statements["submissions"], params)},
            )
            if kept is None:
                self._keep(key, read)
            return read
        subs = dict(kept.subs)
        obliged = frozenset(i for i, _ in indicators)
        found: dict[int, frozenset[int]] = {}
        gone: list[int] = []
        changed = connection.execute(
            statements["changed_reports"], {**params, "since": kept.revision}
        )
        for row in changed:
            if row.id is None:  # deleted, or moved to another period or initiative
                subs.pop(row.stamped, None)
                gone.append(row.stamped)
                continue
            subs[row.id] = row
            totals = map(int, row.totals.split(",")) if row.totals else ()
            found[row.id] = obliged.intersection(totals)
        _REPORTED.keep(
            {
                (sid, subs[sid].created_at, subs[sid].version, indicators): t
                for sid, t in found.items()
            }
        )
        read = _PeriodReports(revision, subs, _made_after(kept.made, indicators, subs, found, gone))
        self._keep(key, read)
        return read

    def _keep(self, key: tuple[Any, ...], reports: _PeriodReports) -> None:
        with self._lock:
            if len(self._kept) >= self.LIMIT and key not in self._kept:
                self._kept.clear()
            self._kept[key] = reports


def _made_after(
    made: _Made | None,
    indicators: frozenset[tuple[int, datetime]],
    subs: dict[int, Row[Any]],
    found: dict[int, frozenset[int]],
    gone: list[int],
) -> _Made | None:
    """What was made of the reports before, with the reports read again (``found``: their
    totals) made again and those ``gone`` dropped; None when nothing was made for these
    indicators."""
    if made is None or made.indicators != indicators:
        return None
    totals, parts = dict(made.totals), dict(made.parts)
    for sid in gone:
        totals.pop(sid, None)
        parts.pop(sid, None)
    for sid, found_totals in found.items():
        totals[sid] = found_totals
        parts[sid] = _report_part(subs[sid], found_totals)
    return _Made(indicators, totals, parts, tuple(sorted(parts.values())))


_REPORTS = _Reports()


# An initiative's periods, active members, obligations by member and obliged indicators by id.
_SetupRows = tuple[
    Sequence[Row[Any]], Sequence[Row[Any]], dict[int, list[int]], dict[int, Row[Any]]
]


class _Setup:
    """An initiative's periods, active members, their obligations and the obliged indicators,
    kept across requests (bounded) under the initiative's setup revisions.

    The database bumps those in the same transaction as every change to periods, members,
    obligations, indicators and organisations, whoever makes it (``models.tables.revisions``),
    so the setup is kept across every other write — a partner's draft, an approval, an event
    of any kind — and never outlives a change to it. The initiative's creation time is in the
    key, so a database made again (the same ids, counters from zero) never meets an old entry.

    The revisions also move for setup completeness does not read (outcomes, targets,
    dimensions, any organisation's row): a setup read again under a new revision that equals
    the one read last is the same setup, named by the same *token*, so what was made of it
    (:class:`_Grids`, the answer's JSON) is kept. A token is given once per setup read, never
    taken from the revisions: on PostgreSQL's primary each statement sees what was committed
    before it, so two requests that read the same revisions can read two setups (the one
    that began first, the newer), and one name for both would give the newer the older's
    grid."""

    LIMIT = 64

    def __init__(self) -> None:
        self._setups: dict[tuple[Any, ...], tuple[_SetupRows, tuple[Any, ...]]] = {}
        # The setup read last for each initiative (id, creation time), with its token and the
        # revisions it was read under.
        self._last: dict[tuple[Any, ...], tuple[_SetupRows, tuple[Any, ...], tuple[int, int]]] = {}
        self._lock = threading.Lock()
        self._reads = itertools.count(1)  # each setup read's own number, for its token

    def get(
        self,
        session: Session,
        statements: dict[str, Executable],
        key: tuple[int, datetime, tuple[int, int]],
    ) -> tuple[_SetupRows, tuple[Any, ...]]:
        """The setup under revisions ``key`` and its token (equal tokens, equal setups)."""
        kept = self._setups.get(key)
        if kept is None:
            kept = self._read_again(session, statements, key)
            with self._lock:
                if len(self._setups) >= self.LIMIT:
                    self._setups.clear()
                if len(self._last) >= self.LIMIT and key[:2] not in self._last:
                    self._last.clear()
                self._setups[key] = kept
                self._last[key[:2]] = (*kept, key[2])
        return kept

    def _read_again(
        self,
        session: Session,
        statements: dict[str, Executable],
        key: tuple[int, datetime, tuple[int, int]],
    ) -> tuple[_SetupRows, tuple[Any, ...]]:
        """The setup under revisions ``key``: the one read last with its token when equal to
        it, else as read, under a token of its own.

        When only the deployment's revision moved since the one read last (the initiative's
        is the same: its periods, members, obligations and indicators are as they were), only
        organisations changed, and only the members' organisations are read again."""
        last = self._last.get(key[:2])
        if last is not None and last[2][0] == key[2][0]:
            connection = session.connection()
            names = connection.execute(statements["member_names"], {"initiative_id": key[0]})
            if list(map(tuple, names.all())) == [(m.id, m.slug, m.name) for m in last[0][1]]:
                return last[0], last[1]
        setup = self._read(session, statements, key[0])
        # Equal rows: the same setup, its token and its rows kept (so is all made of it).
        if last is not None and last[0] == setup:
            return last[0], last[1]
        return setup, (*key[:2], next(self._reads))

    @staticmethod
    def _read(
        session: Session, statements: dict[str, Executable], initiative_id: int
    ) -> _SetupRows:
        # On the session's connection (its transaction), without the ORM's execution around
        # these plain-column statements.
        connection = session.connection()
        params = {"initiative_id": initiative_id}
        periods = connection.execute(statements["periods"], params).all()
        members = connection.execute(statements["members"], params).all()
        parsed: dict[str, list[int]] = {}  # members mostly share their obligations
        obliged = {
            m.id: parsed.get(m.obliged)
            or parsed.setdefault(m.obliged, sorted(map(int, m.obliged.split(","))))
            for m in members
            if m.obliged
        }
        # The indicators the active members are obliged to report, by primary key.
        ids = sorted({i for indicator_ids in parsed.values() for i in indicator_ids})
        indicator_of = (
            {
                row.id: row
                for row in connection.execute(statements["indicators"], {"indicator_ids": ids})
            }
            if ids
            else {}
        )
        return periods, members, obliged, indicator_of


_SETUP = _Setup()


class _Grids:
    """Whole grids kept by everything they are made of (bounded): the setup's key, the period,
    whether it is overdue, and each report's state and totals. Completeness is asked again
    after every partner's write, and most writes (a draft saved again, a note changed) leave
    every row as it was."""

    LIMIT = 32

    def __init__(self) -> None:
        self._grids: dict[tuple[Any, ...], Completeness] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Completeness | None:
        return self._grids.get(key)

    def keep(self, key: tuple[Any, ...], grid: Completeness) -> None:
        with self._lock:
            if len(self._grids) >= self.LIMIT:
                self._grids.clear()
            self._grids[key] = grid


_GRIDS = _Grids()


@cache
def _completeness_statements() -> dict[str, Executable]:
    """The completeness view's statements, built once (bound parameters: ``initiative_id``,
    ``period_id``, ``indicator_ids``, ``submission_ids``): it is asked again after every
    partner's write in a reporting season, and building them cost more than running them."""
    initiative_id: Any = bindparam("initiative_id")
    # The separator written into the statement, not bound: a bound one is rendered into the
    # SQL on every execution.
    comma: Any = literal_column("','")
    joined = func.aggregate_strings(cast(Value.indicator_id, String), comma)
    # What decides a report's cells: its member, state, lateness and whether it was ever
    # submitted; its creation time and version name its totals (:class:`_Reported`).
    report = (
        Submission.id,
        Submission.member_id,
        Submission.status,
        Submission.is_late,
        or_(Submission.first_submitted_at.is_not(None), Submission.submitted_at.is_not(None)).label(
            "was_submitted"
        ),
        # Only told apart, never read as a time: as the database gives it.
        type_coerce(Submission.created_at, String).label("created_at"),
        Submission.version,
    )
    return {
        "periods": select(Period.id, Period.key, Period.starts_on, Period.due_on)
        .where(Period.initiative_id == initiative_id)
        .order_by(Period.starts_on),
        "reported_periods": select(Submission.period_id)
        .where(Submission.initiative_id == initiative_id)
        .distinct(),
        # The active members with their obligations, one row each (none: no obligations).
        "members": select(
            Member.id,
            Organisation.slug,
            Organisation.name,
            func.aggregate_strings(cast(Obligation.indicator_id, String), comma).label("obliged"),
        )
        .join(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(Obligation, Obligation.member_id == Member.id)
        .where(Member.initiative_id == initiative_id, Member.active)
        .group_by(Member.id, Organisation.slug, Organisation.name)
        .order_by(Organisation.name),
        # The active members' organisations, in the same order ("members" without obligations).
        "member_names": select(Member.id, Organisation.slug, Organisation.name)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == initiative_id, Member.active)
        .order_by(Organisation.name),
        # The indicators the active members are obliged to (``indicator_ids``, from "members").
        "indicators": select(
            Indicator.id, Indicator.code, Indicator.name, Indicator.position, Indicator.created_at
        ).where(Indicator.id.in_(bindparam("indicator_ids", expanding=True))),
        "submissions": select(*report).where(
            Submission.initiative_id == initiative_id,
            Submission.period_id == bindparam("period_id"),
        ),
        # The period's reports stamped after a reports revision (``since``), each with its
        # totals; ``id`` is NULL for one deleted or moved away since (its stamp stays).
        "changed_reports": select(
            ReportStamp.submission_id.label("stamped"),
            *report,
            select(joined)
            .where(Value.submission_id == Submission.id, Value.disaggregation == TOTAL)
            .scalar_subquery()
            .label("totals"),
        )
        .select_from(ReportStamp)
        .outerjoin(
            Submission,
            and_(
                Submission.id == ReportStamp.submission_id,
                Submission.initiative_id == ReportStamp.initiative_id,
                Submission.period_id == ReportStamp.period_id,
            ),
        )
        .where(
            ReportStamp.initiative_id == initiative_id,
            ReportStamp.period_id == bindparam("period_id"),
            ReportStamp.stamp > bindparam("since"),
        ),
        # The members whose deadline for the period is extended to ``today`` or later.
        "extended": select(DeadlineExtension.member_id).where(
            DeadlineExtension.period_id == bindparam("period_id"),
            DeadlineExtension.until >= bindparam("today"),
        ),
        # Along the values' rollup index (initiative, indicator, period, total): the quarter's
        # totals in one pass, a few thousand index entries in order.
        "quarter_totals": select(Value.submission_id, joined)
        .where(
            Value.initiative_id == initiative_id,
            Value.indicator_id.in_(bindparam("indicator_ids", expanding=True)),
            Value.period_id == bindparam("period_id"),
            Value.disaggregation == TOTAL,
        )
        .group_by(Value.submission_id),
        # A few reports' totals, along the values' unique (report, indicator, cell) index.
        "report_totals": select(Value.submission_id, joined)
        .where(
            Value.submission_id.in_(bindparam("submission_ids", expanding=True)),
            Value.disaggregation == TOTAL,
        )
        .group_by(Value.submission_id),
    }


def _totals(
    connection: Connection,
    statements: dict[str, Executable],
    subs: dict[int, Row[Any]],
    indicators: frozenset[tuple[int, datetime]],
    params: dict[str, int],
    *,
    keep: bool = True,
) -> dict[int, frozenset[int]]:
    """Which obliged indicators each of the period's reports has a total for, by report id:
    kept ones as they are (:class:`_Reported`), the others read (all of them, and none kept,
    when not ``keep``: a transaction that has written reads its own versions)."""
    obliged = frozenset(i for i, _ in indicators)
    keys = {sid: (sid, row.created_at, row.version, indicators) for sid, row in subs.items()}
    totals: dict[int, frozenset[int]] = {}
    missing: list[int] = []
    for sid, key in keys.items():
        known = _REPORTED.get(key) if keep else None
        if known is None:
            missing.append(sid)
        else:
            totals[sid] = known
    if not missing:
        return totals
    if len(missing) <= _BY_REPORT:
        rows = connection.execute(statements["report_totals"], {"submission_ids": missing})
    else:
        rows = connection.execute(
            statements["quarter_totals"], {**params, "indicator_ids": sorted(obliged)}
        )
    read: dict[int, frozenset[int]] = {sid: frozenset() for sid in missing}
    for sid, joined in rows:
        if sid in read:
            read[sid] = obliged.intersection(map(int, joined.split(",")))
    if keep:
        _REPORTED.keep({keys[sid]: found for sid, found in read.items()})
    return totals | read


def check_completeness_viewer(actor: Actor, version: Revisions) -> None:
    """Only the backbone team sees who has not reported (403 for anyone else who may see the
    initiative). Checked before a client's validators are compared with the answer's
    (``api.routers.analytics``): a funder or reporter who sends the ETag it would have had is
    refused, never told 304 — which would confirm a guess of the initiative's revisions."""
    if not actor.is_backbone(version.initiative_id):
        raise PermissionDenied(gettext("only the backbone team sees who has not reported"))


def completeness(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period_key: str | None = None,
    today: date | None = None,
    version: Revisions | None = None,
) -> Completeness:
    """Member × indicator for a period: who reported what, in which state, and who is late.

    Compact queries besides the initiative: the setup (periods, active members with their
    obligations, obliged indicators: kept under its revision, :class:`_Setup`), the period's
    submissions (kept under the reports revision; after a write, those stamped since are read
    again, :class:`_Reports`), and the indicators each submission has a total for (kept per
    report version across requests, :class:`_Reported`), so a region's thousands of cells cost
    a few hundred rows. ``version``: the :func:`revisions` read before, in this snapshot (the API's ETag);
    read here when not given."""
    today = today or dates.today()
    if version is None:  # first, so it describes no more than the snapshot read next
        version = revisions(session=session, actor=actor, initiative_slug=initiative_slug)
    # The revisions were read by slug, for this actor (404 for an initiative it cannot see).
    check_completeness_viewer(actor, version)
    statements = _completeness_statements()
    params = {"initiative_id": version.initiative_id}
    setup_key = (version.initiative_id, version.created, version.setup)
    # Nothing read by a transaction that has written is kept, or taken from what is kept.
    keep = not version.busy
    setup, setup_token = (
        _SETUP.get(session, statements, setup_key)
        if keep
        else (_Setup._read(session, statements, version.initiative_id), setup_key)
    )
    periods, _members, _obliged, indicator_of = setup
    # The plain-column statements on the session's connection (its transaction), without the
    # ORM's execution around them.
    connection = session.connection()
    submitted: set[int] = set()
    if not period_key:  # the default period is the latest with a report
        submitted = set(connection.execute(statements["reported_periods"], params).scalars())
    period = _period(periods, period_key, submitted)
    params["period_id"] = period.id
    indicators = frozenset((row.id, row.created_at) for row in indicator_of.values())
    reports = (
        _REPORTS.get(
            connection,
            statements,
            (*setup_key[:2], period.id),
            version.reports,
            params,
            indicators,
        )
        if keep
        else _PeriodReports(
            version.reports,
            {row.id: row for row in connection.execute(statements["submissions"], params)},
        )
    )
    subs = reports.subs
    made = reports.made
    if made is None or made.indicators != indicators:
        totals: dict[int, frozenset[int]] = {}
        if subs and indicator_of:
            totals = _totals(connection, statements, subs, indicators, params, keep=keep)
        parts = {sid: _report_part(row, totals.get(sid, frozenset())) for sid, row in subs.items()}
        made = _Made(indicators, totals, parts, tuple(sorted(parts.values())))
        reports.made = made  # set whole: equal for every request under this revision
    totals = made.totals
    overdue = today > period.due_on
    # A partner whose deadline is extended past today is not overdue (README, "Notifications").
    extended = (
        frozenset(
            connection.execute(
                statements["extended"], {"period_id": period.id, "today": today}
            ).scalars()
        )
        if overdue
        else frozenset()
    )
    # Everything else the grid is made of: the setup is named by its token, the day only
    # decides whether the period is overdue. A report's version is left out (a draft saved
    # again with the same indicators totalled leaves its row as it was).
    grid_key = (initiative_slug, setup_token, period.id, overdue, extended, made.in_order)
    kept = _GRIDS.get(grid_key) if keep else None
    if kept is None:
        kept = _grid(initiative_slug, period, overdue, setup, subs, totals, extended)
        if keep:
            kept = replace(kept, key=grid_key)
            _GRIDS.keep(grid_key, kept)
    return replace(  # the caller's own lists: a kept grid is shared
        kept,
        members=list(kept.members),
        indicators=list(kept.indicators),
        cells=list(kept.cells),
        counts=dict(kept.counts),
        rows=list(kept.rows),
    )


def _grid(
    initiative_slug: str,
    period: Row[Any],
    overdue: bool,
    setup: _SetupRows,
    subs: dict[int, Row[Any]],
    totals: dict[int, frozenset[int]],
    extended: frozenset[int] = frozenset(),
) -> Completeness:
    """The grid of :func:`completeness` from what it read; ``extended``: the members whose
    deadline is extended past today (not overdue)."""
    _periods, members, obliged, indicator_of = setup
    by_member = {row.member_id: row for row in subs.values()}
    slug_of = {m.id: m.slug for m in members}
    code_of = {row.id: row.code for row in indicator_of.values()}
    counts: dict[str, int] = {}
    rows: list[tuple[str, list[int], str, bool, frozenset[int]]] = []
    # Members and their indicators by id: the counts name each state in the order it is first
    # met there (a member's cells are in its state, or missing).
    for member_id in sorted(obliged):
        if member_id not in slug_of:
            continue
        sub = by_member.get(member_id)
        ids = obliged[member_id]
        reported = totals.get(sub.id, frozenset()) if sub is not None else frozenset()
        status = sub.status if sub is not None else "missing"
        # A report that has been submitted is late as its first submission was (a return
        # and resubmission after the due date keeps an on-time report on time); one never
        # submitted is late once the due date has passed.
        ever_submitted = sub is not None and (
            sub.status in ("submitted", "approved") or sub.was_submitted
        )
        late = (
            bool(sub.is_late)
            if sub is not None and ever_submitted
            else overdue and member_id not in extended
        )
        present = len(reported.intersection(ids))
        states = [status if ids[0] in reported else "missing"]
        if 0 < present < len(ids):
            states.append("missing" if states[0] == status else status)
        for n, state in enumerate(states):
            counts.setdefault(state, 0)
            if n == 0:
                counts.setdefault("late", 0)
        if present:
            counts[status] += present
        if present < len(ids):
            counts["missing"] += len(ids) - present
        counts["late"] += len(ids) if late else 0
        rows.append((slug_of[member_id], ids, status, late, reported))
    # The cells by organisation and indicator code, in that order (members mostly share their
    # obligations: each set is put in order once), each member's row kept across requests.
    grid: list[tuple[RowKey, tuple[CompletenessCell, ...]]] = []
    by_code: dict[tuple[int, ...], tuple[tuple[str, int], ...]] = {}
    for slug, ids, status, late, reported in sorted(rows, key=lambda r: r[0]):
        key = tuple(ids)
        if key not in by_code:
            by_code[key] = tuple(sorted([(code_of[i], i) for i in ids]))
        row_key = (slug, by_code[key], status, late, frozenset(reported.intersection(ids)))
        grid.append((row_key, _ROWS.get(row_key)))
    cells = [cell for _, row in grid for cell in row]
    in_order = sorted(indicator_of.values(), key=lambda row: (row.position, row.code))
    return Completeness(
        initiative=initiative_slug,
        period=period.key,
        due_on=period.due_on,
        members=[(m.slug, m.name) for m in members],
        indicators=[(row.code, row.name) for row in in_order],
        cells=cells,
        counts=counts,
        rows=grid,
    )


__all__ = [
    "Completeness",
    "Equity",
    "Figure",
    "GapGoal",
    "GapJudgement",
    "Scorecard",
    "Series",
    "completeness",
    "data_version",
    "equity",
    "judge_gap",
    "revisions",
    "scorecard",
    "series",
]


@dataclass(frozen=True)
class Scope:
    """The newest audit event of one scope and how many events lie within
    :data:`RECENT_SECONDS` before it (counted up to :data:`RECENT_LIMIT`)."""

    newest: datetime | None
    behind: int


@dataclass(frozen=True)
class DataVersion:
    """The version of the data behind an initiative's figures, for validators and caching.

    Every write leaves an audit event: writes to the initiative carry its id, deployment-wide
    ones (organisations' names, users) carry none, and both shape the figures. The newest event
    time of each scope is one indexed ``max()``.

    Event times are taken before commit, so overlapping writers can commit out of time order,
    and a commit may land *behind* a newest time already seen. So each scope also counts its
    events in the window of :data:`RECENT_SECONDS` before its newest one: with the newest time
    fixed, that count can only grow, and a late commit changes the stamp. A scope whose newest
    event is older than the window is *quiet*: nothing can still land behind it (transactions
    are far shorter than the window). Counting stops at :data:`RECENT_LIMIT`; a scope that is
    not quiet and has more events than that is *busy*: a late commit might not change the
    count, so answers are neither cached nor given validators until it is quiet.
    """

    initiative_id: int
    events: str  # "all" of the initiative's, or "figures": those that can move a figure
    initiative: Scope
    deployment: Scope
    quiet: bool

    @property
    def busy(self) -> bool:
        full = RECENT_LIMIT in (self.initiative.behind, self.deployment.behind)
        return full and not self.quiet

    @property
    def newest(self) -> datetime | None:
        times = [t for t in (self.initiative.newest, self.deployment.newest) if t is not None]
        return max(times) if times else None

    @property
    def stamp(self) -> str:
        parts = [str(self.initiative_id), self.events]
        for scope in (self.initiative, self.deployment):
            parts += [scope.newest.isoformat() if scope.newest else "-", str(scope.behind)]
        return ":".join(parts)


RECENT_SECONDS = 120
RECENT_LIMIT = 5000


@cache
def _scopes(figures_only: bool) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The initiative's events that count (``:initiative_id``), and the deployment's."""
    from models.tables.audit import MOVES_ANSWERS, MOVES_FIGURES, AuditEvent

    # As written in the partial index (figures), so that both databases use it.
    mine = text(MOVES_FIGURES) if figures_only else text(MOVES_ANSWERS)
    return (
        and_(AuditEvent.initiative_id == bindparam("initiative_id"), mine),
        and_(AuditEvent.initiative_id.is_(None), text(MOVES_ANSWERS)),
    )


@cache
def _newest_by_slug(figures_only: bool) -> Executable:
    """The initiative's id by ``:slug`` (None when there is none) and the newest event of each
    scope, read backwards along (initiative, time) until one passes the filter (access events
    are few, so that stops at once), in one statement built once: every read view asks it on
    every request (README, "Scaling")."""
    from models.tables.audit import MOVES_ANSWERS, MOVES_FIGURES, AuditEvent

    initiative_id = select(Initiative.id).where(Initiative.slug == bindparam("slug"))
    mine = and_(
        AuditEvent.initiative_id == initiative_id.scalar_subquery(),
        # As written in the partial index (figures), so that both databases use it.
        text(MOVES_FIGURES) if figures_only else text(MOVES_ANSWERS),
    )
    return select(
        initiative_id.scalar_subquery(),
        *(
            select(AuditEvent.at).where(s).order_by(AuditEvent.at.desc()).limit(1).scalar_subquery()
            for s in (mine, _scopes(figures_only)[1])
        ),
    )


@cache
def _behind(figures_only: bool, quiet: tuple[bool, ...]) -> Executable:
    """How many events of each scope that is not quiet lie in the window before its newest
    one (``:since_0``, ``:since_1``; a quiet scope counts 0), up to ``:limit``.
    Built once per case: within two minutes of any write — all of a reporting season — every
    read view asks it on every request, and building it cost more than running it."""
    from models.tables.audit import AuditEvent

    return select(
        *(
            literal(0)
            if calm
            else select(func.count())
            .select_from(
                select(AuditEvent.id)
                .where(scope, AuditEvent.at > bindparam(f"since_{n}", type_=AuditEvent.at.type))
                .limit(bindparam("limit"))
                .subquery()
            )
            .scalar_subquery()
            for n, (scope, calm) in enumerate(zip(_scopes(figures_only), quiet, strict=True))
        )
    )


@cache
def _version_first(figures_only: bool, dialect: str) -> TextualSelect:
    """:func:`_newest_by_slug`'s row with the access revision and what the figure views'
    answer key names beside it (``models.analytics.fresh.first_columns``: a kept answer after
    a new data version reads no other statement; PostgreSQL only), and, on PostgreSQL
    (``counted``), each
    scope's :func:`_behind` count in the same statement: counted
    back from its newest event by the database's own interval arithmetic, exactly as
    :func:`data_version` counts from the times it read (SQLite keeps its times as text, and
    asks :func:`_behind` after; it has no round trips to save), and only for a scope whose
    newest event is at or after ``:recent_from`` (not quiet). One statement in place of three
    on every figure view's request (README, "Scaling")."""
    from models.tables.audit import MOVES_ANSWERS, MOVES_FIGURES, AuditEvent

    counted = dialect == "postgresql"
    events, initiatives = AuditEvent.__tablename__, Initiative.__tablename__
    # The answer key's part: on PostgreSQL only, where it saves a round trip; SQLite has
    # none to save, and every answer, the ones the response cache gives too, would read it.
    keyed, key_joins, key_types = (
        first_columns(dialect, "v.initiative_id") if counted else ("", "", {})
    )
    scopes = {
        "mine": f"e.initiative_id = {{}} AND ({MOVES_FIGURES if figures_only else MOVES_ANSWERS})",
        "deployment": f"e.initiative_id IS NULL AND ({MOVES_ANSWERS})",
    }
    by_slug = f"(SELECT i.id FROM {initiatives} i WHERE i.slug = :slug)"
    newest = ",\n".join(
        f"(SELECT e.at FROM {events} e WHERE {scope.format(by_slug)} "
        f"ORDER BY e.at DESC LIMIT 1) AS {name}"
        for name, scope in scopes.items()
    )
    counts = "".join(
        f"CASE WHEN v.{name} >= :recent_from THEN (SELECT count(*) FROM (SELECT 1 FROM {events} e "
        f"WHERE {scope.format('v.initiative_id')} "
        f"AND e.at > v.{name} - CAST(:window AS INTERVAL) LIMIT :limit) AS w) "
        f"ELSE 0 END AS {name}_behind,\n"
        for name, scope in scopes.items()
    )
    at = AuditEvent.at.type
    columns: dict[str, Any] = {"initiative_id": Integer(), "mine": at, "deployment": at}
    if counted:
        columns.update(mine_behind=Integer(), deployment_behind=Integer())
    columns.update(access=BigInteger(), access_changed_at=AccessRevision.changed_at.type)
    columns.update(key_types)
    return text(
        f"SELECT v.initiative_id, v.mine, v.deployment,\n{counts if counted else ''}"
        f"a.revision AS access, a.changed_at AS access_changed_at{keyed}\n"
        f"FROM (SELECT {by_slug} AS initiative_id,\n{newest}) AS v\n"
        f"LEFT JOIN {AccessRevision.__tablename__} a ON a.id = 1\n{key_joins}"
    ).columns(**columns)


_READ_VERSION = "cm_read_version"  # Session.info: what read_version_first read, and when


def _version_params(initiative_slug: str, now: datetime | None, counted: bool) -> dict[str, Any]:
    """:func:`_version_first`'s parameters."""
    params: dict[str, Any] = {"slug": initiative_slug}
    if counted:
        window = timedelta(seconds=RECENT_SECONDS)
        # Unknown time (a replica that replayed nothing): nothing is quiet, every scope counts.
        recent_from = now - window if now is not None else datetime.min.replace(tzinfo=UTC)
        params.update(recent_from=recent_from, window=window, limit=RECENT_LIMIT)
    return params


@dataclass(frozen=True)
class VersionRead:
    """:func:`_version_first`'s row of one initiative (figures only) read on PostgreSQL's
    primary outside any transaction (:func:`version_alone`), and the time it was read at."""

    slug: str
    now: datetime
    row: Any


def read_version_first(
    *,
    session: Session,
    initiative_slug: str,
    figures_only: bool = True,
    read: VersionRead | None = None,
) -> None:
    """Read what :func:`data_version` reads and the access revision in one statement, before
    who is asking is resolved (``api.deps.in_one_trip``'s ``first``, on the primary): the actor
    a worker kept is checked against the access revision read here
    (``models.access.api_keys``), and :func:`data_version` then takes the row read here, in
    the same transaction, instead of asking again. With ``read`` (PostgreSQL's primary: the
    same statement read a moment before, outside any transaction, by :func:`version_alone`),
    that row is taken instead: at READ COMMITTED each statement of a transaction reads its own
    snapshot, so what this transaction reads next is at least as new as that row, exactly as
    after the statement read here."""
    dialect = session.get_bind().dialect.name
    counted = dialect == "postgresql"
    now: datetime | None
    if (
        read is not None
        and counted
        and figures_only
        and read.slug == initiative_slug
        and not session.info.get(REPLICA)
    ):
        session.connection()  # the transaction the row is offered to (sends nothing yet)
        now, row = read.now, read.row
    else:
        now = data_as_of(session)  # first, as data_version takes it
        params = _version_params(initiative_slug, now, counted)
        row = session.connection().execute(_version_first(figures_only, dialect), params).one()
    if figures_only and counted:
        offer_first(session, initiative_slug, row)
    session.info[_READ_VERSION] = (
        session.get_transaction(),
        (initiative_slug, figures_only),
        now,
        row,
        counted,
    )
    if row.access is not None:
        offer_access_revision(session, (row.access, row.access_changed_at))


def data_version(
    *, session: Session, actor: Actor, initiative_slug: str, figures_only: bool = False
) -> DataVersion:
    """The initiative's :class:`DataVersion` (one or two small indexed queries); checked for
    visibility first, so it says nothing about initiatives the actor cannot see.

    Bookkeeping never counts (:data:`~models.tables.audit.BOOKKEEPING`: access, whose effect
    is part of each answer's key, and messages sent). With ``figures_only`` the initiative's
    scope also skips partners' work in progress (:data:`~models.tables.audit.PARTNER_WORK`):
    the version of what the scorecard, series and equity views read (approved figures,
    configuration, publications), which a draft saved or a report submitted does not move.
    Completeness, which shows drafts, takes every other event. A quiet scope is not counted:
    nothing can land behind its newest event, which names its data on its own (a count is at
    least 1 otherwise: the newest event itself).
    """
    window = timedelta(seconds=RECENT_SECONDS)
    first = session.info.pop(_READ_VERSION, None)
    counted: tuple[int, int] | None = None
    if (
        first is not None
        and first[0] is session.get_transaction()
        and first[1] == (initiative_slug, figures_only)
    ):  # read by read_version_first, in this transaction, before the actor
        _, _, now, row, with_counts = first
        initiative_id, newest = row.initiative_id, [row.mine, row.deployment]
        if with_counts:
            counted = (row.mine_behind, row.deployment_behind)
    else:
        # First, so it describes no more than the snapshot read next (architecture: Scale).
        now = data_as_of(session)
        # The initiative's id and its scopes' newest events in one statement: a repeated
        # answer reads nothing else of the initiative (its view, when computed, loads it).
        initiative_id, *newest = session.execute(
            _newest_by_slug(figures_only), {"slug": initiative_slug}
        ).one()
    if initiative_id is None or not can_view_initiative(
        session=session, actor=actor, initiative_id=initiative_id
    ):
        raise NotFound(gettext("no initiative %(slug)r", slug=initiative_slug), field="slug")
    quiet = tuple(now is not None and (t is None or now - t > window) for t in newest)
    behind = (
        (0, 0)
        if all(quiet) or counted is not None
        else session.execute(
            _behind(figures_only, quiet),
            {
                "initiative_id": initiative_id,
                "limit": RECENT_LIMIT,
                **{f"since_{n}": t - window for n, t in enumerate(newest) if t is not None},
            },
        ).one()
    )
    return _version(
        initiative_id, figures_only, newest, quiet, counted if counted is not None else behind
    )


def _version(
    initiative_id: int,
    figures_only: bool,
    newest: Sequence[datetime | None],
    quiet: tuple[bool, ...],
    behind: Sequence[int],
) -> DataVersion:
    """The :class:`DataVersion` of the scopes' newest events and counts (a quiet scope's
    count is 0: its newest event names its data on its own)."""
    counts = tuple(0 if calm else n for calm, n in zip(quiet, behind, strict=True))
    return DataVersion(
        initiative_id,
        "figures" if figures_only else "all",
        Scope(newest[0], counts[0]),
        Scope(newest[1], counts[1]),
        all(quiet),
    )


@dataclass(frozen=True)
class Revisions:
    """What completeness is computed from, as the database counts its changes
    (``models.tables.revisions``): the initiative's setup revision and the deployment's
    (organisations), and the initiative's reports revision. Each is bumped in the transaction
    of the change itself, so unlike :class:`DataVersion` no late commit can land behind it, and
    an answer read in the same snapshot after it is at least that new. It is *busy* only in a
    transaction that has written: what that reads may roll back, so nothing is kept.

    ``created`` (the initiative's creation time) keeps a database made again, whose counters
    start again from zero, from matching an answer kept from the old one."""

    initiative_id: int
    created: datetime
    setup: tuple[int, int]
    reports: int
    newest: datetime | None
    quiet: bool
    busy: bool = False

    @property
    def stamp(self) -> str:
        return (
            f"{self.initiative_id}:{self.created.isoformat()}:revisions:"
            f"{self.setup[0]}.{self.setup[1]}:{self.reports}:"
            f"{self.newest.isoformat() if self.newest else '-'}"
        )


@cache
def _revisions_statement() -> Executable:
    """The initiative by slug with its and the deployment's revision rows (two rows at most,
    by primary key), as plain columns, and the access revision beside them (so a request
    that reads them before its actor checks the actor it kept in the same statement): built
    once. Asked on every completeness request, where loading the initiative as an object cost
    more than the statement."""
    return (
        select(
            Initiative.id,
            Initiative.created_at,
            DataRevision.scope,
            DataRevision.setup,
            DataRevision.reports,
            DataRevision.changed_at,
            AccessRevision.revision.label("access"),
            AccessRevision.changed_at.label("access_changed_at"),
        )
        .outerjoin(DataRevision, DataRevision.scope.in_([Initiative.id, literal(DEPLOYMENT)]))
        .outerjoin(AccessRevision, AccessRevision.id == 1)
        .where(Initiative.slug == bindparam("slug"))
    )


_READ_REVISIONS = "cm_read_revisions"  # Session.info: (slug, rows) read before the actor


def read_revisions_first(*, session: Session, initiative_slug: str) -> None:
    """Read the initiative's revisions and the access revision in one statement, before who
    is asking is resolved (``api.deps.in_one_trip``): the actor a worker kept is checked
    against the access revision read here (``models.access.api_keys``), and
    :func:`revisions` then takes the rows read here, in the same transaction, instead of
    asking again."""
    rows = session.connection().execute(_revisions_statement(), {"slug": initiative_slug}).all()
    session.info[_READ_REVISIONS] = (initiative_slug, rows)
    if rows and rows[0].access is not None:
        offer_access_revision(session, (rows[0].access, rows[0].access_changed_at))


def revisions(*, session: Session, actor: Actor, initiative_slug: str) -> Revisions:
    """The initiative's :class:`Revisions` in one statement (or the one
    :func:`read_revisions_first` made); checked for visibility as
    :func:`~models.access.permissions.get_initiative` does (404 for what the actor may not
    see), so it says nothing about initiatives the actor cannot see. Read before the data it
    versions, in the same snapshot (architecture: Scale)."""
    now = data_as_of(session)
    read = session.info.pop(_READ_REVISIONS, None)
    if read is not None and read[0] == initiative_slug:
        rows = read[1]
    else:
        rows = session.connection().execute(_revisions_statement(), {"slug": initiative_slug}).all()
    if not rows or not can_view_initiative(session=session, actor=actor, initiative_id=rows[0].id):
        raise NotFound(gettext("no initiative %(slug)r", slug=initiative_slug), field="slug")
    return _revisions_of(rows, now, busy=transaction_wrote(session))


def _revisions_of(rows: Sequence[Any], now: datetime | None, *, busy: bool) -> Revisions:
    """:class:`Revisions` from the rows of :func:`_revisions_statement` (one at least)."""
    initiative_id, created = rows[0].id, rows[0].created_at
    by_scope = {row.scope: row for row in rows if row.scope is not None}
    mine, deployment = by_scope.get(initiative_id), by_scope.get(DEPLOYMENT)
    times = [row.changed_at for row in (mine, deployment) if row is not None and row.changed_at]
    newest = max(times) if times else None
    window = timedelta(seconds=RECENT_SECONDS)
    return Revisions(
        initiative_id,
        created,
        (mine.setup if mine else 0, deployment.setup if deployment else 0),
        mine.reports if mine else 0,
        newest,
        quiet=now is not None and (newest is None or now - newest > window),
        busy=busy,
    )


@dataclass(frozen=True)
class _AloneStatement:
    """:func:`_revisions_statement` compiled for one dialect, run on a pooled DB-API
    connection without SQLAlchemy's execution around it."""

    sql: str
    names: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle
    params: dict[str, Any]
    keys: tuple[str, ...]
    processors: tuple[Any, ...]


_ALONE: weakref.WeakKeyDictionary[Any, dict[str, _AloneStatement]] = weakref.WeakKeyDictionary()


def _alone(dialect: Any, what: str = "revisions") -> _AloneStatement:
    """``what`` (``revisions``: :func:`_revisions_statement`; ``version``: the figure views'
    :func:`_version_first`) compiled for ``dialect``, once."""
    by_what = _ALONE.setdefault(dialect, {})
    found = by_what.get(what)
    if found is None:
        statement: Any
        placeholders: dict[str, Any]
        if what == "revisions":
            statement, placeholders = _revisions_statement(), {"slug": ""}
        else:
            statement = _version_first(True, dialect.name)
            placeholders = {"slug": "", "recent_from": None, "window": None, "limit": 0}
        compiled: Any = statement.compile(dialect=dialect)
        columns = compiled._result_columns  # (key, name, objects, type) in the SELECT's order
        found = by_what[what] = _AloneStatement(
            compiled.string,
            tuple(compiled.positiontup) if compiled.positional else None,
            dict(compiled.construct_params(placeholders)),
            tuple(c[0] for c in columns),
            tuple(c[3].dialect_impl(dialect).result_processor(dialect, None) for c in columns),
        )
    return found


def _read_alone(
    engine: Engine, alone: _AloneStatement, given: dict[str, Any]
) -> list[_Read] | None:
    """``alone``'s rows read on a pooled connection outside any transaction (one statement,
    one snapshot; nothing written), or None when the statement failed."""
    params = {**alone.params, **given}
    raw = engine.raw_connection()
    try:
        with _alone_statement(raw) as cursor:
            cursor.execute(alone.sql, [params[n] for n in alone.names] if alone.names else params)
            fetched = cursor.fetchall()
    except engine.dialect.loaded_dbapi.Error:
        # Unseen by SQLAlchemy's handling (a lost connection, a timeout): the request is
        # answered with a session instead, which reports what is wrong or answers.
        return None
    finally:
        raw.close()  # back to the pool (which replaces a connection it cannot reset)
    return [
        _Read(
            zip(
                alone.keys,
                (p(v) if p is not None else v for p, v in zip(alone.processors, row, strict=True)),
                strict=True,
            )
        )
        for row in fetched
    ]


def version_alone(
    engine: Engine, actor_of: Callable[[tuple[int, datetime | None]], Actor | None], slug: str
) -> tuple[VersionRead, tuple[Actor, DataVersion] | None] | None:
    """A figure view's :class:`DataVersion` (figures only) and who is asking, from
    :func:`read_version_first`'s one statement on a pooled connection of PostgreSQL's primary,
    outside any transaction: for a request that what this process keeps may answer (the
    response cache, the answers kept under their answer key). ``actor_of`` gives the actor
    kept for the access revision read (``models.access.api_keys.kept_key_actor``).

    The row read, for the session that answers otherwise to take (:func:`read_version_first`'s
    ``read``), with the actor and the version, or None for those when there is no such actor,
    no such initiative or none it may see; None when the statement failed or the database is
    not PostgreSQL (SQLite counts recent events in a second statement, which must read the
    same snapshot). The session then decides, as for any other request."""
    if engine.dialect.name != "postgresql":
        return None
    now = datetime.now(UTC)  # the primary holds every commit: data_as_of's time
    rows = _read_alone(engine, _alone(engine.dialect, "version"), _version_params(slug, now, True))
    if not rows:
        return None
    row = rows[0]
    read = VersionRead(slug, now, row)
    if row.access is None or row.initiative_id is None:
        return read, None
    actor = actor_of((row.access, row.access_changed_at))
    if actor is None or not can_view_initiative(
        session=None, actor=actor, initiative_id=row.initiative_id
    ):
        return read, None
    newest = (row.mine, row.deployment)
    window = timedelta(seconds=RECENT_SECONDS)
    quiet = tuple(t is None or now - t > window for t in newest)
    version = _version(
        row.initiative_id, True, newest, quiet, (row.mine_behind, row.deployment_behind)
    )
    return read, (actor, version)


def revisions_alone(
    engine: Engine, actor_of: Callable[[tuple[int, datetime | None]], Actor | None], slug: str
) -> tuple[Actor, Revisions] | None:
    """The initiative's :class:`Revisions` and who is asking, from one statement on a pooled
    connection of the primary, outside any transaction (one statement, one snapshot; nothing
    written): :func:`read_revisions_first`'s statement, without a session around it. For a
    request that what this process keeps may answer (the response cache): ``actor_of`` gives
    the actor kept for the access revision read (``models.access.api_keys.kept_key_actor``).
    None when there is no such actor, no such initiative or none it may see, or the statement
    failed: the request is then answered with a session, as any other."""
    rows = _read_alone(engine, _alone(engine.dialect), {"slug": slug})
    if not rows or rows[0].access is None:
        return None
    actor = actor_of((rows[0].access, rows[0].access_changed_at))
    if actor is None or not can_view_initiative(
        session=None, actor=actor, initiative_id=rows[0].id
    ):
        return None
    return actor, _revisions_of(rows, datetime.now(UTC), busy=False)


@contextmanager
def _alone_statement(raw: Any) -> Iterator[Any]:
    """A cursor for one statement outside any transaction. PostgreSQL's driver would begin
    one first and the pool roll it back after: two round trips more than the statement
    (README, "Scaling"); in autocommit the statement is its own transaction, one snapshot as
    before. SQLite's connections leave transactions to SQLAlchemy (``models.core.db``)."""
    driver = raw.driver_connection
    # Only an idle connection (as the pool hands them out) may switch; else as the driver does.
    switch = getattr(driver, "autocommit", True) is False and driver.info.transaction_status == 0
    if switch:
        driver.autocommit = True
    cursor = raw.cursor()
    try:
        yield cursor
    finally:
        cursor.close()
        if switch and not driver.closed:
            driver.autocommit = False


class _Read(dict[str, Any]):
    """A row read without SQLAlchemy's result, its columns as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# --- the target line --------------------------------------------------------------------------


def target_line(
    session: Session, indicator_id: int, period_keys: Sequence[str], baseline: float | None
) -> list[tuple[str, float | None]]:
    """The target expected by each of ``period_keys`` (interim, else on the line from the
    baseline to the end target, else the end target), as the series' ``targets`` are: for
    charts that run past the periods with figures, up to the end target's period.
    ``baseline`` is the one the viewer is told (the series' own: ``_told_baseline``)."""
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFound(
            gettext("no indicator %(indicator_id)r", indicator_id=indicator_id), field="code"
        )
    periods = _periods(session, indicator.initiative_id)
    periods_by_id = {p.id: p for p in periods}
    by_key = {p.key: p for p in periods}
    interim = {
        (t.indicator_id, t.period_id): t.value
        for t in session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator.id)
        )
    }
    told_interim = _told_interim(indicator, baseline, interim)
    return [
        (key, _target_for(indicator, by_key[key], periods_by_id, told_interim, baseline)[0])
        for key in period_keys
        if key in by_key
    ]
