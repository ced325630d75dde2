"""Disclosure: what each audience may see of every figure group, decided once for all views.

A *figure group* is one indicator in one period: the initiative total, every category of every
dimension, and every partner's own figure. Scorecard (current, previous, sparkline, trend),
series (every ``by``), equity, the dashboard pages and their downloads, the public summary,
``datapackage.zip`` and publication snapshots read their figures from :func:`decide`; nothing
else calls the suppression engine (``models.analytics.suppression``, and for a group with a
cross-tab ``models.analytics.cross_tabs`` around it), so a figure is shown or hidden the same
way wherever it appears.

Backbone staff see everything exactly. Below them, two steps per group:

1. **The initiative figures** (total and categories) are the same for every viewer below
   backbone: funders, partners and the public. Partners read the public page too, so they are
   decided as if a partner were looking, one that knows its own share of every figure
   (``insiders``): see :func:`models.analytics.suppression.suppress_group` for the rules.
2. **The partner breakdown** for this audience: a funder sees the partners that share with
   funders, a partner its own figures. With the total shown, a figure of another partner is
   shown only when the partners left hidden still add up to a figure the rules allow; with the
   total hidden, nothing ties the partners' figures together, and each is judged on its own
   (the threshold: it still counts people).

Every figure an earlier publication of the period hid stays hidden, in live views and in later
publications, so comparing two moments gives nothing away.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.analytics.computed import add_computed, in_order, with_inputs
from models.analytics.cross_tabs import CrossTable, suppress_with_cross_tabs
from models.analytics.figures import Figure, GroupView
from models.analytics.fresh import by_period
from models.analytics.rollups import (
    Rollup,
    approved_values,
    partner_figures,
    parts,
    rollup_sums,
    rollups,
)
from models.analytics.setup_rows import IndicatorLike, InitiativeLike
from models.analytics.suppression import (
    COARSENED,
    COMPLEMENT_MARKER,
    COMPLEMENTARY,
    DOMINANCE,
    DOMINANCE_MARKER,
    EARLIER_VINTAGE,
    FEW_PARTNERS,
    HIGH_MARKER,
    INPUTS_HIDDEN,
    INPUTS_MARKER,
    KEPT_MARKER,
    LATE_MARKER,
    LATE_REPORTS,
    LOW_MARKER,
    NOT_PUBLISHED,
    NOT_PUBLISHED_MARKER,
    PRIMARY,
    UNDEFINED,
    UNDEFINED_MARKER,
    Cell,
    Shown,
    as_is,
    judge_partners,
    legend,
    partners_needed,
    shown_as_is,
    suppress_group,
)
from models.core.actors import Actor
from models.core.settings import get_settings
from models.tables.indicator import (
    TOTAL,
    Dimension,
    Indicator,
    indicator_dimensions,
    split_pair,
)
from models.tables.initiative import Initiative, Member, Period
from models.tables.publication import Publication
from models.tables.rollups import RollupRow

# Every figure below backbone level can reach a partner (the public page is open to all), and a
# partner knows its own share of it: the rules hold once any one partner's share is taken away.
PARTNERS_ARE_VIEWERS = True


@dataclass(frozen=True)
class Audience:
    """Who is looking, as far as disclosure is concerned."""

    backbone: bool
    visible: frozenset[int] = frozenset()  # members whose own figures this viewer may see
    own: frozenset[int] = frozenset()  # members the viewer reports for: it knows their figures


PUBLIC = Audience(backbone=False)


@dataclass(frozen=True)
class Rules:
    """The settings of the rules, as one deployment applies them (see README, Disclosure)."""

    threshold: int
    min_contributors: int
    dominance_percent: float
    insiders: bool

    @property
    def partners_needed(self) -> int:
        return partners_needed(self.min_contributors, self.insiders)

    def legend(self) -> dict[str, str]:
        return legend(self.threshold, self.min_contributors, self.insiders)


def rules_for(initiative: InitiativeLike) -> Rules:
    settings = get_settings()
    return Rules(
        threshold=initiative.suppression_threshold,
        min_contributors=settings.min_contributors,
        dominance_percent=settings.dominance_percent,
        insiders=PARTNERS_ARE_VIEWERS,
    )


def audience_of(*, session: Session, actor: Actor, initiative: InitiativeLike) -> Audience:
    """The actor's audience in the initiative: backbone, or the members whose own figures it
    may see (its own, and for a funder those that share with funders)."""
    if actor.is_backbone(initiative.id):
        return Audience(backbone=True)
    visible, own = set(), set()
    funder = actor.is_funder(initiative.id)
    for member_id, org_id, shares in session.execute(
        select(Member.id, Member.organisation_id, Member.shares_with_funders).where(
            Member.initiative_id == initiative.id
        )
    ):
        if actor.reports_for(initiative.id, org_id):
            own.add(member_id)
            visible.add(member_id)
        elif funder and shares:
            visible.add(member_id)
    return Audience(backbone=False, visible=frozenset(visible), own=frozenset(own))


def decide(
    *,
    session: Session,
    initiative: InitiativeLike,
    audience: Audience,
    indicators: Sequence[IndicatorLike],
    period_ids: Iterable[int] | None = None,
    categories: bool = True,
    partners: bool = False,
    live: bool = False,
) -> dict[tuple[int, int], GroupView]:
    """(indicator id, period id) → the group as the audience may see it, for every group with
    approved data. ``categories``/``partners`` say what the caller reads: what it leaves out is
    not decided, and nothing that is decided depends on it.

    Below backbone the initiative figures are those of the period's latest publication (a
    period not yet published shows none): figures that moved with every approval could be
    subtracted from one another, each difference a partner's report. ``live`` decides them
    from the approved data instead: what a publication freezes.

    A computed indicator's groups are derived from its inputs' as decided here for the same
    audience (``models.analytics.computed``): hidden wherever an input is hidden."""
    period_ids = None if period_ids is None else list(period_ids)
    if not any(i.expression is not None for i in indicators):
        return _decide_reported(
            session, initiative, audience, indicators, period_ids, categories, partners, live
        )
    everything = with_inputs(session=session, initiative_id=initiative.id, indicators=indicators)
    computed = in_order(everything)
    reported = [i for i in everything if i.expression is None]
    out = _decide_reported(
        session, initiative, audience, reported, period_ids, categories, partners, live
    )
    add_computed(
        out,
        computed=computed,
        by_code={i.code: i for i in everything},
        category_keys={
            indicator_id: [key for _, keys in dims for key in keys]
            for indicator_id, dims in dimensions(
                session=session, indicator_ids=[i.id for i in computed] if categories else []
            ).items()
        },
    )
    asked = {i.id for i in indicators}
    return {key: view for key, view in out.items() if key[0] in asked}


def _decide_reported(
    session: Session,
    initiative: InitiativeLike,
    audience: Audience,
    indicators: Sequence[IndicatorLike],
    period_ids: list[int] | None,
    categories: bool,
    partners: bool,
    live: bool,
) -> dict[tuple[int, int], GroupView]:
    """:func:`decide` for indicators with reported values."""
    if audience.backbone:
        return _as_is(session, initiative, indicators, period_ids, categories, partners)
    by_id = {i.id: i for i in indicators}
    if live:
        groups = _shares(session, initiative.id, by_id, period_ids)
        exact = _exact(session, initiative.id, list(by_id), period_ids, None)
        dims = dimensions(session=session, indicator_ids=list(by_id))
        tables = cross_tables(session=session, indicator_ids=list(by_id))
        memory = period_memory(
            session=session, initiative_id=initiative.id, period_ids={p for _, p in groups}
        )
    else:
        groups, exact, memory = _published_inputs(
            session,
            initiative.id,
            by_id,
            period_ids,
            categories,
            partners and bool(audience.visible),
        )
        dims = {}  # a published group's cells are the publication's
        tables = {}
    rules = rules_for(initiative)
    out = {}
    for (indicator_id, period_id), figures in groups.items():
        if TOTAL not in figures:
            continue
        indicator = by_id[indicator_id]
        out[(indicator_id, period_id)] = _decide_group(
            indicator,
            figures,
            exact.get((indicator_id, period_id), {}),
            dims.get(indicator_id, []),
            tables.get(indicator_id, ()),
            memory.get(period_id, PeriodMemory()),
            audience if partners else PUBLIC,  # the partner step changes nothing else
            rules,
            live,
        )
    return out


# --- baselines ------------------------------------------------------------------------------
# A baseline is a figure the backbone team enters, very often the initiative's own figure of
# its period, exact. Told beside a figure the rules hide, it would give that figure away; told
# beside the published figure when it is the live one (a correction since), it would give the
# change away; and whatever is drawn from it (the line to the end target, interim targets on
# it, progress, change since baseline, a gap target's expected gap) would give it back. So
# below backbone a baseline is told only where it says nothing the viewer is not shown
# (README, Disclosure: baselines).


def _same(shown: float, baseline: float, decimals: int) -> bool:
    """``baseline`` is ``shown`` as the indicator writes it (to its decimals)."""
    return abs(shown - baseline) <= 0.5 * 10.0**-decimals + 1e-9


def baseline_told(
    view: GroupView | None, baseline: float, decimals: int, computed: bool = False
) -> bool:
    """Whether a viewer below backbone may be told ``baseline``, seeing its period's figure as
    ``view``: the figure is shown and the baseline is that figure (to the indicator's
    decimals); or the period has no data of the initiative (a baseline from elsewhere, e.g.
    census figures) — never for a ``computed`` indicator, whose inputs may have data there
    though it has no figure."""
    if view is None:
        return not computed
    shown = view.total.value
    return shown is not None and _same(shown, baseline, decimals)


def gap_baseline_told(
    cells: Mapping[str, Figure] | None,
    dimension: str,
    baseline: float,
    decimals: int,
    computed: bool = False,
) -> bool:
    """Whether a viewer below backbone may be told a gap target's ``baseline`` gap on
    ``dimension``, seeing the baseline period's category figures as ``cells``: every category
    of the dimension with data is shown and the baseline is the gap between the best and the
    worst of them (to the indicator's decimals); or no category has data then (never for a
    ``computed`` indicator)."""
    prefix = f"{dimension}="
    figures = [f for key, f in (cells or {}).items() if key.startswith(prefix)]
    if not figures:
        return not computed
    shown = [f.value for f in figures if f.value is not None]
    if len(shown) < 2 or any(f.value is None and f.reason is not None for f in figures):
        return False
    return _same(max(shown) - min(shown), baseline, decimals)


def cells_of(view: GroupView | None) -> dict[str, Figure] | None:
    """A group's category figures (None without the group)."""
    return view.cells if view is not None else None


def told_baselines(
    *,
    session: Session,
    initiative: Initiative,
    audience: Audience,
    indicators: Sequence[Indicator],
    decided: dict[tuple[int, int], GroupView] | None = None,
    gap_targets: bool = True,
) -> tuple[frozenset[int], frozenset[tuple[int, str]]]:
    """The baselines the audience may be told: (ids of indicators whose baseline is told,
    (indicator id, dimension code) of gap targets whose baseline gap is told).

    ``decided`` holds groups already decided for this audience (a publication's, decided from
    the approved data): they are used for their periods; the others are decided here.
    Without ``gap_targets`` the second set is left empty (and the indicators' gap targets
    unread)."""
    gaps = [
        (i, g)
        for i in (indicators if gap_targets else ())
        for g in i.gap_targets
        if g.baseline_period_id is not None
    ]
    with_baseline = [i for i in indicators if i.baseline_value is not None]
    if audience.backbone:
        return (
            frozenset(i.id for i in with_baseline),
            frozenset((i.id, g.dimension.code) for i, g in gaps),
        )
    decided = decided or {}
    known = {p for _, p in decided}
    wanted = {
        (i.id, i.baseline_period_id) for i in with_baseline if i.baseline_period_id is not None
    } | {(i.id, g.baseline_period_id) for i, g in gaps}
    views = dict(decided)
    periods = {p for _, p in wanted if p not in known}
    if periods:
        views.update(
            decide(
                session=session,
                initiative=initiative,
                audience=audience,
                indicators=[i for i in indicators if any(w[0] == i.id for w in wanted)],
                period_ids=periods,
                categories=bool(gaps),
            )
        )
    return (
        frozenset(
            i.id
            for i in with_baseline
            if i.baseline_value is not None
            and (
                i.baseline_period_id is None
                or baseline_told(
                    views.get((i.id, i.baseline_period_id)),
                    i.baseline_value,
                    i.decimals,
                    i.expression is not None,
                )
            )
        ),
        frozenset(
            (i.id, g.dimension.code)
            for i, g in gaps
            if gap_baseline_told(
                cells_of(views.get((i.id, g.baseline_period_id))),
                g.dimension.code,
                g.baseline_value,
                i.decimals,
                i.expression is not None,
            )
        ),
    )


Shares = dict[int, tuple[float, ...]]  # member id → what it adds (see _quantities)
UNREAD: Shares = {}  # the partners' shares of a published cell: only the partner step reads them


def _exact(
    session: Session,
    initiative_id: int,
    indicator_ids: list[int],
    period_ids: list[int] | None,
    disaggregations: list[str] | None,
) -> dict[tuple[int, int], dict[str, Rollup]]:
    """(indicator, period) → cell → the figure as the rollup table holds it."""
    exact: dict[tuple[int, int], dict[str, Rollup]] = defaultdict(dict)
    for r in rollups(
        session=session,
        initiative_id=initiative_id,
        indicator_ids=indicator_ids,
        period_ids=period_ids,
        disaggregations=disaggregations,
    ):
        exact[(r.indicator_id, r.period_id)][r.disaggregation] = r
    return exact


def _published_inputs(
    session: Session,
    initiative_id: int,
    indicators: Mapping[int, IndicatorLike],
    period_ids: list[int] | None,
    categories: bool,
    partner_step: bool,
) -> tuple[
    dict[tuple[int, int], dict[str, Shares]],
    dict[tuple[int, int], dict[str, Rollup]],
    dict[int, PeriodMemory],
]:
    """What a published group is decided from (see :func:`_published_group`): which cells have
    approved data, the latest publication of each period, and for the partner step who makes
    each total now and made it when each publication showed it.

    Which cells have approved data is what the rollup table holds: the database refuses a
    value that carries no figure (a rate without its fraction, an average without its
    weight), so every approved value counts. The partners' shares (every approved value)
    are read only for the partner step, and only of the totals."""
    groups: dict[tuple[int, int], dict[str, Shares]] = defaultdict(dict)
    for indicator_id, period_id, key in _rollup_keys(
        session, initiative_id, list(indicators), period_ids, None if categories else [TOTAL]
    ):
        groups[(indicator_id, period_id)][key] = UNREAD
    periods = {p for _, p in groups}
    if not partner_step:
        shown = published_figures(session=session, initiative_id=initiative_id, period_ids=periods)
        return (
            groups,
            {},
            {
                p: PeriodMemory(latest=f.latest, contributors=f.contributors)
                for p, f in shown.items()
            },
        )
    for group, shares in _shares(session, initiative_id, indicators, period_ids, TOTAL).items():
        if group in groups:
            groups[group][TOTAL] = shares[TOTAL]
    exact = _exact(session, initiative_id, list(indicators), period_ids, [TOTAL])
    memory = period_memory(session=session, initiative_id=initiative_id, period_ids=periods)
    return groups, exact, memory


def _rollup_keys(
    session: Session,
    initiative_id: int,
    indicator_ids: list[int],
    period_ids: list[int] | None,
    disaggregations: list[str] | None,
) -> Iterable[tuple[int, int, str]]:
    """(indicator, period, cell) of every cell with approved data, from the rollup table."""
    t = RollupRow
    query = select(t.indicator_id, t.period_id, t.disaggregation).where(
        t.initiative_id == initiative_id, t.contributors > 0, t.indicator_id.in_(indicator_ids)
    )
    if period_ids is not None:
        query = query.where(t.period_id.in_(period_ids))
    if disaggregations is not None:
        query = query.where(t.disaggregation.in_(disaggregations))
    return session.execute(query).tuples()


def _shares(
    session: Session,
    initiative_id: int,
    indicators: Mapping[int, IndicatorLike],
    period_ids: list[int] | None,
    disaggregation: str | None = None,
) -> dict[tuple[int, int], dict[str, Shares]]:
    """(indicator, period) → cell → each partner's share, from the approved values (a partner
    has one value per cell and period). Plain rows: at region scale there are many."""
    query = approved_values(
        initiative_id=initiative_id,
        indicator_ids=list(indicators),
        period_ids=period_ids,
        disaggregation=disaggregation,
    )
    measure = {i: ind.measure_type for i, ind in indicators.items()}
    groups: dict[tuple[int, int], dict[str, Shares]] = defaultdict(lambda: defaultdict(dict))
    for indicator_id, period_id, key, member_id, _mt, value, num, den in session.execute(query):
        q = _quantities(measure[indicator_id], value, num, den)
        if q is not None:
            groups[(indicator_id, period_id)][key][member_id] = q
    return groups


def _decide_group(
    indicator: IndicatorLike,
    figures: dict[str, Shares],
    exact: dict[str, Rollup],
    dims: list[tuple[str, list[str]]],
    tables: tuple[CrossTable, ...],
    memory: PeriodMemory,
    audience: Audience,
    rules: Rules,
    live: bool,
) -> GroupView:
    mt = indicator.measure_type
    if not live:
        return _published_group(indicator, figures, exact, memory, audience, rules)

    def cell(key: str) -> Cell:
        name = f"{indicator.code} {key}"
        shares = figures.get(key, {})
        made = _aggregate(key, mt, shares, name in memory.hidden, exact.get(key))
        if made.value is not None and _changed_by_too_few(name, mt, shares, memory, rules):
            return replace(made, late=True)
        return made

    total = cell(TOTAL)
    breakdowns = tuple((code, tuple(cell(k) for k in keys if k in figures)) for code, keys in dims)
    shown_total, cells = _initiative_figures(
        total, tuple((c, b) for c, b in breakdowns if b), tables, rules
    )
    # Live decisions are what a publication freezes, for the public: no partner figures.
    partner_view: dict[int, Figure] = {}
    contributors = len(figures[TOTAL])
    return GroupView(
        total=_figure(shown_total),
        cells=cells,
        partners=partner_view,
        contributors=contributors if contributors >= rules.partners_needed else None,
    )


UNPUBLISHED = Figure(value=None, n=None, marker=NOT_PUBLISHED_MARKER, reason=NOT_PUBLISHED)


def _published_group(
    indicator: IndicatorLike,
    figures: dict[str, Shares],
    exact: dict[str, Rollup],
    memory: PeriodMemory,
    audience: Audience,
    rules: Rules,
) -> GroupView:
    """The group below backbone: initiative figures as the latest publication showed them,
    and the partner figures this audience may see, judged against that publication."""
    code, mt = indicator.code, indicator.measure_type

    def published(key: str) -> Figure:
        shown = memory.latest.get(f"{code} {key}")
        if shown is None:
            return UNPUBLISHED
        reason = shown.get("reason") or _reason(shown["marker"])
        return Figure(shown["value"], shown["n"], shown["marker"], reason)

    total = published(TOTAL)
    cells = {key: published(key) for key in figures if key != TOTAL}
    partner_view: dict[int, Figure] = {}
    members = sorted(figures[TOTAL])
    if audience.visible & set(members):
        live_total = _aggregate(TOTAL, mt, figures[TOTAL], False, exact.get(TOTAL))
        name = f"{code} {TOTAL}"
        # Who made the total each time a publication showed it (None: it did not say).
        published_by = [makers.get(name) for shown, makers in memory.showings if name in shown]
        if not published_by:
            fixed = Cell(TOTAL, mt, None)  # no total ever shown: nothing ties them together
        elif all(m == figures[TOTAL] for m in published_by):
            fixed = live_total  # the published total, as it still is
        else:
            # A total was published, and has changed since: that total minus the partner
            # figures shown now would mix two moments. Only the viewer's own stay.
            fixed = replace(live_total, hidden=True)
        partner_view = _partner_figures(mt, figures, fixed, members, audience, rules)
    return GroupView(
        total=total,
        cells=cells,
        partners=partner_view,
        contributors=memory.contributors.get(code),
    )


def _partner_figures(
    mt: str,
    figures: dict[str, Shares],
    fixed: Cell,
    members: list[int],
    audience: Audience,
    rules: Rules,
) -> dict[int, Figure]:
    """Step 2: the partner figures the audience may see, with the total as decided. The
    viewer's knowledge is explicit here (its own figures are known cells), and no other
    viewer sees this breakdown: judged without the insider assumption."""
    partner_cells = [
        _aggregate(
            f"org:{m}",
            mt,
            {m: figures[TOTAL][m]},
            partner=True,
            hidden=m not in audience.visible,
            known=m in audience.own,
        )
        for m in members
    ]
    _, by_partner = suppress_group(
        fixed,
        {"partner": partner_cells},
        rules.threshold,
        rules.min_contributors,
        rules.dominance_percent,
        insiders=False,
    )
    return {
        m: _figure(s)
        for m, s in zip(members, by_partner["partner"], strict=True)
        if m in audience.visible
    }


def _reason(marker: str | None) -> str | None:
    """The rule behind a marker of a publication made before publications kept the reason."""
    if marker is None:
        return None
    if marker in (LOW_MARKER, HIGH_MARKER):
        return COARSENED
    if marker.endswith(" partners"):
        return FEW_PARTNERS
    if marker.startswith("<"):
        return PRIMARY
    return {
        COMPLEMENT_MARKER: COMPLEMENTARY,
        DOMINANCE_MARKER: DOMINANCE,
        INPUTS_MARKER: INPUTS_HIDDEN,
        UNDEFINED_MARKER: UNDEFINED,
        KEPT_MARKER: EARLIER_VINTAGE,
        LATE_MARKER: LATE_REPORTS,
    }.get(marker)


@lru_cache(maxsize=8192)
def _initiative_figures(
    total: Cell,
    breakdowns: tuple[tuple[str, tuple[Cell, ...]], ...],
    tables: tuple[CrossTable, ...],
    rules: Rules,
) -> tuple[Shown, dict[str, Figure]]:
    """Step 1, the same for every audience: remembered by content (the cells carry every
    figure and share), so the funder, each partner and the public pay for it once until the
    data change, and a change (new content) is never answered from memory. A cross-tab's rows
    and columns are protected against their one-way margins too (``tables``)."""
    shown_total, shown = suppress_with_cross_tabs(
        total,
        dict(breakdowns),
        tables,
        rules.threshold,
        rules.min_contributors,
        rules.dominance_percent,
        rules.insiders,
    )
    return shown_total, {s.key: _figure(s) for parts in shown.values() for s in parts}


def _quantities(
    mt: str, value: float | None, numerator: float | None, denominator: float | None
) -> tuple[float, ...] | None:
    """What one partner adds to a figure: count/amount (value,), rate (numerator,
    denominator), average (value × weight, weight); None when its value carries no figure."""
    if mt in ("count", "amount"):
        return None if value is None else (float(value),)
    if mt == "rate":
        if numerator is None or denominator is None:
            return None
        return (float(numerator), float(denominator))
    if value is None or not denominator:
        return None
    return (float(value) * float(denominator), float(denominator))


def _aggregate(
    key: str,
    mt: str,
    shares: Shares,
    kept: bool = False,
    exact: Rollup | None = None,
    *,
    partner: bool = False,
    hidden: bool = False,
    known: bool = False,
) -> Cell:
    """The figure the partners make together (combined by measure type, as the rollups are),
    with each partner's share. With ``exact``, the figure as the rollup table holds it (the
    float sums the backbone sees); the shares only decide whether it may be shown."""
    parts = tuple((f"m{m}", shares[m]) for m in sorted(shares))
    if not parts:
        return Cell(key=key, measure_type=mt, value=None, kept_hidden=kept)
    if exact is not None:
        value, numerator, denominator = exact.value, exact.numerator, exact.denominator
    else:
        sums = [sum(q[d] for _, q in parts) for d in range(len(parts[0][1]))]
        value, numerator, denominator = sums[0], None, None
        if mt == "rate":
            numerator, denominator = sums
            value = 100.0 * numerator / denominator if denominator else None
        elif mt == "average":
            denominator = sums[1]
            value = sums[0] / denominator if denominator else None
    return Cell(
        key=key,
        measure_type=mt,
        value=value,
        numerator=numerator,
        denominator=denominator,
        hidden=hidden,
        contributors=None if partner else len(parts),
        kept_hidden=kept,
        known=known,
        parts=parts,
        partner=partner,
    )


def _figure(shown: Shown) -> Figure:
    return Figure(value=shown.value, n=shown.n, marker=shown.marker, reason=shown.reason)


def _as_is(
    session: Session,
    initiative: InitiativeLike,
    indicators: Sequence[IndicatorLike],
    period_ids: list[int] | None,
    categories: bool,
    partners: bool,
) -> dict[tuple[int, int], GroupView]:
    """Backbone: every figure exactly, read from the rollup table (only what is asked for).
    Without the partners' figures, each period's groups are kept under its figure revision
    (``models.analytics.fresh``): only the periods changed since are read again."""
    measure = {i.id: i.measure_type for i in indicators}
    if not partners:
        kept = by_period(
            session,
            initiative.id,
            "as_is",
            (tuple(sorted(measure.items())), categories),
            period_ids,
            lambda missing: _as_is_by_period(session, initiative, measure, missing, categories),
        )
        if kept is not None:
            return {key: view for views in kept.values() for key, view in views.items()}
    return _read_as_is(session, initiative, measure, period_ids, categories, partners)


def _read_as_is(
    session: Session,
    initiative: InitiativeLike,
    measure: dict[int, str],
    period_ids: list[int] | None,
    categories: bool,
    partners: bool,
) -> dict[tuple[int, int], GroupView]:
    """:func:`_as_is` from the rollup table (and the partners' figures from the values)."""
    groups: dict[tuple[int, int], dict[str, Figure]] = defaultdict(dict)
    contributors: dict[tuple[int, int], int] = {}
    # What shown_as_is shows of each rollup, without an object per row in between.
    for ind, per, key, mt, s_val, s_num, s_den, s_w, n in rollup_sums(
        session=session,
        initiative_id=initiative.id,
        indicator_ids=list(measure),
        period_ids=period_ids,
        disaggregations=None if categories else [TOTAL],
    ):
        groups[(ind, per)][key] = Figure(*as_is(measure[ind], *parts(mt, s_val, s_num, s_den, s_w)))
        if key == TOTAL:
            contributors[(ind, per)] = n
    by_partner: dict[tuple[int, int], dict[int, Figure]] = defaultdict(dict)
    if partners:
        for pf in partner_figures(
            session=session,
            initiative_id=initiative.id,
            indicator_ids=list(measure),
            period_ids=period_ids,
            disaggregations=[TOTAL],
        ):
            cell = Cell("partner", measure[pf.indicator_id], pf.value, pf.numerator, pf.denominator)
            by_partner[(pf.indicator_id, pf.period_id)][pf.member_id] = _figure(shown_as_is(cell))
    return {
        key: GroupView(
            total=cells[TOTAL],
            cells={k: f for k, f in cells.items() if k != TOTAL} if categories else {},
            partners=dict(sorted(by_partner[key].items())) if key in by_partner else {},
            contributors=contributors[key],
        )
        for key, cells in groups.items()
        if TOTAL in cells
    }


def _as_is_by_period(
    session: Session,
    initiative: InitiativeLike,
    measure: dict[int, str],
    period_ids: list[int],
    categories: bool,
) -> dict[int, dict[tuple[int, int], GroupView]]:
    """Period id → :func:`_as_is`'s groups of that period (every period asked, empty ones too),
    the periods' rollup rows read in one statement."""
    out: dict[int, dict[tuple[int, int], GroupView]] = {p: {} for p in period_ids}
    for key, view in _read_as_is(
        session, initiative, measure, period_ids, categories, False
    ).items():
        out[key[1]][key] = view
    return out


def dimensions(
    *, session: Session, indicator_ids: list[int]
) -> dict[int, list[tuple[str, list[str]]]]:
    """Indicator id → its dimensions in order, each with its category keys ("race=black")."""
    out: dict[int, list[tuple[str, list[str]]]] = defaultdict(list)
    if not indicator_ids:
        return out
    for indicator_id, dim in session.execute(
        select(indicator_dimensions.c.indicator_id, Dimension)
        .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
        .where(indicator_dimensions.c.indicator_id.in_(indicator_ids))
        .order_by(Dimension.position, Dimension.id)
    ):
        out[indicator_id].append((dim.code, [f"{dim.code}={c.code}" for c in dim.categories]))
    return out


def cross_tables(
    *, session: Session, indicator_ids: list[int]
) -> dict[int, tuple[CrossTable, ...]]:
    """Indicator id → the cross-tabs it collects, each with its cells' row and column keys."""
    out: dict[int, list[CrossTable]] = defaultdict(list)
    if not indicator_ids:
        return {}
    for indicator_id, dim in session.execute(
        select(indicator_dimensions.c.indicator_id, Dimension)
        .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
        .where(
            indicator_dimensions.c.indicator_id.in_(indicator_ids),
            Dimension.row_dimension_id.is_not(None),
        )
        .order_by(Dimension.position, Dimension.id)
    ):
        components = dim.components
        assert components is not None  # a cross-tab: both components are set
        rows, columns = components
        pairs = []
        for c in dim.categories:
            row, column = split_pair(c.code)
            pairs.append((f"{dim.code}={c.code}", f"{rows}={row}", f"{columns}={column}"))
        out[indicator_id].append(CrossTable(dim.code, rows, columns, tuple(pairs)))
    return {k: tuple(v) for k, v in out.items()}


# --- vintages -------------------------------------------------------------------------------


FIGURE_FIELDS = ("value", "n", "marker")  # what a publication shows of a figure


def flatten(
    snapshot: dict[str, Any] | None, fields: tuple[str, ...] = FIGURE_FIELDS
) -> dict[str, Any]:
    """A publication's figures keyed "CODE total" / "CODE race=black"."""
    if not snapshot:
        return {}
    flat = {}
    for ind in snapshot["indicators"]:
        flat[f"{ind['indicator']} total"] = {k: ind["total"].get(k) for k in fields}
        for b in ind["breakdowns"]:
            for c in b["categories"]:
                flat[f"{ind['indicator']} {c['key']}"] = {k: c.get(k) for k in fields}
    return flat


def hidden_figures(snapshot: dict[str, Any] | None) -> frozenset[str]:
    """The figures a publication hid (a marker, no value), keyed as in :func:`flatten`."""
    return frozenset(
        key
        for key, shown in flatten(snapshot).items()
        if shown.get("value") is None and shown.get("marker")
    )


def _snapshots(
    session: Session, initiative_id: int, period_ids: Iterable[int]
) -> Iterator[tuple[int, dict[str, Any]]]:
    period_ids = list(period_ids)
    if period_ids:
        yield from session.execute(
            select(Publication.period_id, Publication.snapshot)
            .where(
                Publication.initiative_id == initiative_id, Publication.period_id.in_(period_ids)
            )
            .order_by(Publication.published_at, Publication.id)
        )


@dataclass(frozen=True)
class PeriodMemory:
    """What the publications of one period showed: the figures they hid, those they showed,
    and for each publication who made each figure it showed (partner → share)."""

    hidden: frozenset[str] = frozenset()
    shown: frozenset[str] = frozenset()
    # Per publication: the figures it showed, and who made each (partner → share).
    showings: tuple[tuple[frozenset[str], dict[str, Shares]], ...] = ()
    # The latest publication: its figures ("CODE key" → {value, n, marker, reason}) and each
    # indicator's contributor count as it told it. Empty: the period is not published.
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    contributors: dict[str, int | None] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return bool(self.latest)


def period_memory(
    *, session: Session, initiative_id: int, period_ids: Iterable[int]
) -> dict[int, PeriodMemory]:
    """Period id → what its publications showed (figures keyed "CODE total", "CODE race=b")."""
    out: dict[int, PeriodMemory] = {}
    for period_id, snapshot in _snapshots(session, initiative_id, period_ids):
        before = out.get(period_id, PeriodMemory())
        shown = frozenset(k for k, f in flatten(snapshot).items() if f.get("value") is not None)
        makers = {
            key: {int(m): tuple(q) for m, q in by_member.items()}
            for key, by_member in (snapshot.get("makers") or {}).items()
        }
        out[period_id] = PeriodMemory(
            before.hidden | hidden_figures(snapshot),
            before.shown | shown,
            (*before.showings, (shown, makers)),
            flatten(snapshot, FIGURE_FIELDS + ("reason",)),
            {i["indicator"]: i.get("contributors") for i in snapshot["indicators"]},
        )
    return out


@dataclass(frozen=True)
class Published:
    """What the latest publication of a period shows (as :class:`PeriodMemory` keeps it)."""

    latest: dict[str, dict[str, Any]]
    contributors: dict[str, int | None]


class _Remembered:
    """What publications show, by publication, kept per process: a publication never changes
    once made, so its snapshot (the largest column of the database: it holds who made every
    figure) is read and flattened once. Keyed by the publication's id *and* time, so an id a
    rolled-back transaction handed out and a later one reused is never taken for the first.
    Bounded: the least recently used are forgotten."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, datetime], Published] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, datetime]) -> Published | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[int, datetime], published: Published) -> None:
        with self._lock:
            self._entries[key] = published
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


REMEMBERED = _Remembered()


def published_figures(
    *, session: Session, initiative_id: int, period_ids: Iterable[int]
) -> dict[int, Published]:
    """Period id → what its latest publication shows (periods never published are left out):
    :attr:`PeriodMemory.latest` and :attr:`PeriodMemory.contributors` without reading every
    snapshot. One small query names the latest publication of each period; only those this
    process has not read yet have their snapshot read."""
    period_ids = list(period_ids)
    if not period_ids:
        return {}
    latest: dict[int, tuple[int, datetime]] = {}
    for period_id, pub_id, at in session.execute(
        select(Publication.period_id, Publication.id, Publication.published_at)
        .where(Publication.initiative_id == initiative_id, Publication.period_id.in_(period_ids))
        .order_by(Publication.published_at, Publication.id)
    ):
        latest[period_id] = (pub_id, at)
    out = {p: found for p, key in latest.items() if (found := REMEMBERED.get(key)) is not None}
    unread = {key[0]: (p, key) for p, key in latest.items() if p not in out}
    if unread:
        for pub_id, snapshot in session.execute(
            select(Publication.id, Publication.snapshot).where(Publication.id.in_(unread))
        ):
            period_id, key = unread[pub_id]
            out[period_id] = Published(
                flatten(snapshot, FIGURE_FIELDS + ("reason",)),
                {i["indicator"]: i.get("contributors") for i in snapshot["indicators"]},
            )
            REMEMBERED.put(key, out[period_id])
    return out


def _changed_by_too_few(
    name: str, mt: str, shares: Shares, memory: PeriodMemory, rules: Rules
) -> bool:
    """Whether a figure a publication showed has since gained (or lost) partners that the
    difference would give away: the partners that reported or withdrew since must make a figure
    the partner rules allow. (A correction changes a partner's share, not who makes the figure:
    the difference is the correction, not a figure.)"""
    for _, makers in memory.showings:
        then = makers.get(name)
        if then is None:
            continue
        parts = [shares[m] for m in shares.keys() - then.keys()]
        parts += [then[m] for m in then.keys() - shares.keys()]
        if parts and judge_partners(
            parts,
            mt,
            rules.threshold,
            rules.min_contributors,
            rules.dominance_percent,
            rules.insiders,
        ):
            return True
    return False


def figure_makers(
    *, session: Session, initiative: Initiative, period: Period, shown: Iterable[str]
) -> dict[str, dict[str, list[float]]]:
    """For a publication's snapshot: who made each figure it shows ("CODE key" → member id →
    share), so that a later moment can tell who has reported or withdrawn since. Never shown:
    only the backbone's data."""
    indicators = {
        i.id: i
        for i in session.scalars(select(Indicator).where(Indicator.initiative_id == initiative.id))
    }
    wanted = set(shown)
    out: dict[str, dict[str, list[float]]] = {}
    for (indicator_id, _), cells in _shares(
        session, initiative.id, indicators, [period.id]
    ).items():
        code = indicators[indicator_id].code
        for key, shares in cells.items():
            if f"{code} {key}" in wanted:
                out[f"{code} {key}"] = {str(m): list(q) for m, q in shares.items()}
    return out
