"""Turn the curve (README: Strategies): an indicator's actual curve, its target line, the
strategies aimed at it and its story, with a baseline forecast of where the curve was heading
before the first strategy started.

Everything comes from the views that already decide what the viewer may see: the curve is the
series (``models.analytics.views.series``, figures decided by the one disclosure decision),
the strategies are those the viewer may read (``list_strategies``), the story the latest one
it may read (``list_stories``). The forecast is fitted to the figures of that curve only: a
figure hidden from the viewer is not used (and the result says so), so the forecast is a
function of what the viewer is shown and cannot carry a hidden figure out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.analytics.views import SeriesPoint, series, target_line
from models.core.actors import Actor
from models.core.dates import day
from models.core.i18n import format_number, gettext, ngettext
from models.stories.stories import Story, list_stories
from models.strategies.strategies import StrategyMark, StrategyView, chart_marks, list_strategies
from models.tables.indicator import Indicator
from models.tables.initiative import Period

WINDOW = 8  # the periods before the first strategy a forecast is fitted to, at most
MIN_POINTS = 3  # fewer figures than this make no trend worth projecting
STRATEGIES_READ = 500


@dataclass(frozen=True)
class Forecast:
    """Where the curve was heading before the first strategy aimed at it started.

    ``method`` says how it was made (or why there is none: ``points`` is then empty). The
    fitted line is ``value = intercept + slope × (periods since the first point used)``.
    """

    method: str
    strategy: str | None  # the code of the first strategy (its start is the cut-off)
    starts_on: date | None
    used: list[tuple[str, float]]  # (period, figure) the line is fitted to
    hidden: list[str]  # periods of the window whose figure is hidden from the viewer
    before_break: list[str]  # periods of the window left out: before a series break
    slope: float | None  # per period
    intercept: float | None
    points: list[tuple[str, float]]  # (period, value) of the line, fitted periods then projected

    @property
    def available(self) -> bool:
        return bool(self.points)


@dataclass(frozen=True)
class TurnTheCurve:
    initiative: str
    indicator: str
    name: str
    unit: str
    direction: str
    decimals: int
    periods: list[str]  # the chart's: every period from the first shown to the last drawn
    actual: list[SeriesPoint]  # the series' total, as the viewer may see it
    targets: list[tuple[str, float | None]]  # from the first period shown to the end target's
    end_target: float | None
    end_target_period: str | None
    breaks: list[tuple[str, str]]
    strategies: list[StrategyView]
    marks: list[StrategyMark]
    story: Story | None  # the latest story the viewer may read
    forecast: Forecast
    suppressed: bool

    @property
    def hidden(self) -> list[SeriesPoint]:
        """The periods whose figure is hidden from the viewer (a marker says why)."""
        return [p for p in self.actual if p.figure.value is None and p.figure.marker]


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """The ordinary least-squares line through (xs, ys): (intercept, slope)."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return mean_y - slope * mean_x, slope


def _none(
    method: str,
    strategy: StrategyView | None,
    used: list[tuple[str, float]] | None = None,
    hidden: list[str] | None = None,
    before_break: list[str] | None = None,
) -> Forecast:
    """No forecast, and why (``method``)."""
    return Forecast(
        method=method,
        strategy=strategy.code if strategy else None,
        starts_on=strategy.starts_on if strategy else None,
        used=used or [],
        hidden=hidden or [],
        before_break=before_break or [],
        slope=None,
        intercept=None,
        points=[],
    )


def baseline_forecast(
    *,
    periods: list[tuple[str, date, date]],
    actual: list[SeriesPoint],
    strategies: list[StrategyView],
    breaks: list[str],
    until: str | None,
    unit: str = "",
) -> Forecast:
    """The baseline forecast: an ordinary least-squares linear trend over the figures of the
    last ``WINDOW`` periods ending before the first strategy started (from the latest series
    break on, figures hidden from the viewer left out; at least ``MIN_POINTS``), projected to
    ``until`` (the end target's period), or the last period shown when that is later or
    there is no end target. ``periods`` are the initiative's, in order; x is a period's
    position among them."""
    if not strategies:
        return _none(gettext("No forecast: no strategy you may see aims at this indicator."), None)
    first = min(strategies, key=lambda s: (s.starts_on, s.code))
    position = {key: n for n, (key, _, _) in enumerate(periods)}
    before = [key for key, _, ends in periods if ends < first.starts_on]
    window = before[-WINDOW:]
    cut = max((b for b in breaks if b in window), key=window.index, default=None)
    left_out = window[: window.index(cut)] if cut else []
    window = window[len(left_out) :]
    figures = {p.period: p.figure for p in actual}
    hidden = [k for k in window if k in figures and figures[k].value is None and figures[k].marker]
    used = [(k, figures[k].value) for k in window if k in figures and figures[k].value is not None]
    used_points: list[tuple[str, float]] = [(k, float(v)) for k, v in used if v is not None]
    started = {"strategy": first.title, "started": day(first.starts_on)}
    notes = _notes(hidden, left_out)
    if len(used_points) < MIN_POINTS:
        return _none(
            ngettext(
                "No forecast: too little history before %(strategy)s started on %(started)s: "
                "%(n)s figure you may see in the periods before it, at least %(needed)s needed.",
                "No forecast: too little history before %(strategy)s started on %(started)s: "
                "%(n)s figures you may see in the periods before it, at least %(needed)s "
                "needed.",
                len(used_points),
                needed=MIN_POINTS,
                **started,
            )
            + notes,
            first,
            used=used_points,
            hidden=hidden,
            before_break=left_out,
        )
    origin = position[used_points[0][0]]
    xs = [float(position[k] - origin) for k, _ in used_points]
    intercept, slope = least_squares(xs, [v for _, v in used_points])
    last_shown = max((position[p.period] for p in actual), default=0)
    end = max(position.get(until, -1) if until else -1, last_shown)
    fitted_from = position[used_points[0][0]]
    line = [
        (key, intercept + slope * (position[key] - origin))
        for key, _, _ in periods[fitted_from : end + 1]
    ]
    signed = ("+" if slope >= 0 else "") + format_number(slope, digits=2)
    if unit == "%":
        per = gettext("%(slope)s percentage points a period", slope=signed)
    elif unit:
        per = gettext("%(slope)s %(unit)s a period", slope=signed, unit=unit)
    else:
        per = gettext("%(slope)s a period", slope=signed)
    method = (
        gettext(
            "Ordinary least-squares linear trend over the %(n)s figures of %(first)s–%(last)s, "
            "the last periods before %(strategy)s started on %(started)s (at most %(window)s), "
            "projected to %(until)s: %(per)s.",
            n=len(used_points),
            first=used_points[0][0],
            last=used_points[-1][0],
            window=WINDOW,
            until=line[-1][0],
            per=per,
            **started,
        )
        + notes
    )
    return Forecast(
        method=method,
        strategy=first.code,
        starts_on=first.starts_on,
        used=used_points,
        hidden=hidden,
        before_break=left_out,
        slope=slope,
        intercept=intercept,
        points=line,
    )


def _notes(hidden: list[str], left_out: list[str]) -> str:
    """The periods a forecast leaves out, said after its method (each with a leading space)."""
    notes = ""
    if hidden:
        notes += " " + gettext(
            "Left out, hidden from you: %(periods)s (the forecast uses only the figures you are "
            "shown).",
            periods=", ".join(hidden),
        )
    if left_out:
        notes += " " + gettext(
            "Left out, before a series break: %(periods)s.", periods=", ".join(left_out)
        )
    return notes


def turn_the_curve(
    *, session: Session, actor: Actor, initiative_slug: str, indicator_code: str
) -> TurnTheCurve:
    """The turn-the-curve view of an indicator, as ``actor`` may see it (who may read its
    series may read this; strategies and stories as their own rules allow)."""
    s = series(
        session=session, actor=actor, initiative_slug=initiative_slug, indicator_code=indicator_code
    )
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    periods = [
        (key, starts, ends)
        for key, starts, ends in session.execute(
            select(Period.key, Period.starts_on, Period.ends_on)
            .where(Period.initiative_id == initiative.id)
            .order_by(Period.starts_on)
        )
    ]
    strategies = (
        []
        if actor.is_anonymous
        else list_strategies(
            session=session,
            actor=actor,
            initiative=initiative_slug,
            indicator=indicator_code,
            limit=STRATEGIES_READ,
        ).items
    )
    forecast = baseline_forecast(
        periods=periods,
        actual=s.total,
        strategies=strategies,
        breaks=[k for k, _ in s.breaks],
        until=s.end_target_period,
        unit=s.unit,
    )
    keys = [k for k, _, _ in periods]
    shown = [keys.index(k) for k in s.periods] + [keys.index(k) for k, _ in forecast.points]
    if s.end_target_period in keys:
        shown.append(keys.index(s.end_target_period))
    chart = keys[min(shown) : max(shown) + 1] if shown else []
    indicator_id = session.scalar(
        select(Indicator.id).where(
            Indicator.initiative_id == initiative.id, Indicator.code == indicator_code
        )
    )
    assert indicator_id is not None  # series() found it
    stories = list_stories(
        session=session, actor=actor, initiative_slug=initiative_slug, indicator_code=indicator_code
    )
    return TurnTheCurve(
        initiative=s.initiative,
        indicator=s.indicator,
        name=s.name,
        unit=s.unit,
        direction=s.direction,
        decimals=s.decimals,
        periods=chart,
        actual=s.total,
        targets=target_line(session, indicator_id, chart, s.baseline),
        end_target=s.end_target,
        end_target_period=s.end_target_period,
        breaks=s.breaks,
        strategies=strategies,
        marks=chart_marks(strategies, [p for p in periods if p[0] in set(chart)]),
        story=stories[-1] if stories else None,
        forecast=forecast,
        suppressed=s.suppressed,
    )
