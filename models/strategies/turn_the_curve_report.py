"""The turn-the-curve view as a one-page report (PNG or PDF) for a partner meeting.

Drawn server side by a matplotlib ``Figure`` into memory (no pyplot, no display, no browser), from a ``TurnTheCurve``
and nothing else: the report shows exactly the figures the view holds for its viewer, so a
hidden figure is as absent from the file as from the page. Text is set with mathtext off, so
a ``$`` in a story or a title is just a dollar sign.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from models.core.dates import day
from models.core.i18n import format_number, gettext, ngettext
from models.stories.render import plain_paragraphs
from models.strategies.turn_the_curve import TurnTheCurve

Format = Literal["png", "pdf"]
MEDIA_TYPES: dict[str, str] = {"png": "image/png", "pdf": "application/pdf"}
PAGE = (11.69, 8.27)  # A4 landscape, inches
ACTUAL, FORECAST, TARGET, SPAN = "#1f5fa8", "#d9822b", "#2e7d32", "#7b61a8"
WRAP = 175  # characters a line of the text below the chart
STORY_LINES = 9
STRATEGY_LINES = 5


def _fmt(value: float | None, decimals: int, unit: str) -> str:
    if value is None:
        return "–"
    return f"{format_number(value, digits=decimals)}{'' if unit in ('', '%') else ' '}{unit}"


def _draw_chart(ax: Axes, view: TurnTheCurve) -> None:
    order = view.periods
    x = {k: n for n, k in enumerate(order)}

    for mark in view.marks:
        if mark.first in x and mark.last in x:
            ax.axvspan(x[mark.first] - 0.5, x[mark.last] + 0.5, color=SPAN, alpha=0.08, lw=0)
    for n, mark in enumerate(view.marks):
        if mark.first in x:
            ax.annotate(
                mark.title,
                (x[mark.first] - 0.45, 1.0 - 0.06 * (n + 1)),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                color=SPAN,
                annotation_clip=False,
                parse_math=False,
            )
            ax.axvline(x[mark.first] - 0.5, color=SPAN, lw=0.8, alpha=0.6)
    for key, _note in view.breaks:
        if key in x:
            ax.axvline(x[key] - 0.5, color="#888888", lw=0.8, ls=(0, (1, 2)))

    target_x = [x[k] for k, v in view.targets if v is not None]
    target_y = [v for _, v in view.targets if v is not None]
    if target_x:
        ax.plot(target_x, target_y, color=TARGET, lw=1.4, ls=":", label=gettext("Target"))
    if view.end_target is not None and view.end_target_period in x:
        ax.plot(
            [x[view.end_target_period]], [view.end_target], marker="*", ms=11, color=TARGET, ls=""
        )
    if view.forecast.points:
        ax.plot(
            [x[k] for k, _ in view.forecast.points],
            [v for _, v in view.forecast.points],
            color=FORECAST,
            lw=1.8,
            ls="--",
            label=gettext("Baseline forecast (before the strategy)"),
        )
    actual_x = [x[p.period] for p in view.actual]
    actual_y = [p.figure.value if p.figure.value is not None else math.nan for p in view.actual]
    ax.plot(actual_x, actual_y, color=ACTUAL, lw=2.2, marker="o", ms=4, label=gettext("Actual"))
    for p in view.hidden:
        ax.annotate(
            p.figure.marker or "",
            (x[p.period], 0.02),
            xycoords=("data", "axes fraction"),
            ha="center",
            fontsize=7,
            color="#666666",
            parse_math=False,
        )
    step = max(1, math.ceil(len(order) / 16))
    ax.set_xticks(range(0, len(order), step))
    ax.set_xticklabels(order[::step], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.6, max(len(order) - 0.4, 0.4))
    ax.set_ylabel(view.unit or gettext("value"), fontsize=9, parse_math=False)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=8, frameon=False)


def _lines(view: TurnTheCurve) -> list[tuple[str, str, bool]]:
    """The text under the chart: (text, colour, bold) per line."""
    out: list[tuple[str, str, bool]] = [(gettext("Method"), "#222222", True)]
    out += [(line, "#333333", False) for line in textwrap.wrap(view.forecast.method, WRAP)]
    if view.hidden:
        text = gettext(
            "Hidden from you (not drawn, not used): %(periods)s",
            periods=", ".join(f"{p.period} ({p.figure.marker})" for p in view.hidden),
        )
        out += [(line, "#666666", False) for line in textwrap.wrap(text, WRAP)]
    out.append((gettext("Strategies aimed at this indicator"), "#222222", True))
    if not view.strategies:
        out.append((gettext("None that you may see."), "#333333", False))
    for s in view.strategies[:STRATEGY_LINES]:
        text = "• " + gettext(
            "%(title)s: %(starts)s – %(ends)s; %(done)s of %(total)s actions done; owners: "
            "%(owners)s",
            title=s.title,
            starts=day(s.starts_on),
            ends=day(s.ends_on) if s.ends_on else gettext("open-ended"),
            done=format_number(s.actions_done),
            total=format_number(s.actions_total),
            owners=", ".join(o.name for o in s.owners) or gettext("no owner named"),
        )
        out.append((textwrap.shorten(text, WRAP, placeholder=" …"), "#333333", False))
    if len(view.strategies) > STRATEGY_LINES:
        more = len(view.strategies) - STRATEGY_LINES
        out.append((ngettext("… and %(n)s more.", "… and %(n)s more.", more), "#333333", False))
    story = view.story
    title = (
        gettext("The story behind the curve (%(period)s)", period=story.period)
        if story
        else gettext("The story behind the curve")
    )
    out.append((title, "#222222", True))
    if story is None:
        out.append((gettext("No story you may read yet."), "#333333", False))
        return out
    story_lines = [
        line for para in plain_paragraphs(story.text) for line in textwrap.wrap(para, WRAP)
    ]
    if len(story_lines) > STORY_LINES:
        story_lines = story_lines[: STORY_LINES - 1] + [
            gettext("… (the full story is on the indicator page)")
        ]
    out += [(line, "#333333", False) for line in story_lines]
    return out


def report_figure(view: TurnTheCurve) -> Figure:
    """The report's page: the chart over the method, the strategies and the story."""
    fig = Figure(figsize=PAGE)
    fig.text(
        0.04,
        0.955,
        gettext("Turn the curve: %(name)s", name=view.name),
        fontsize=15,
        weight="bold",
        parse_math=False,
    )
    current = next((p for p in reversed(view.actual) if p.figure.value is not None), None)
    summary = [f"{view.indicator} · {view.initiative}"]
    if current is not None:
        summary.append(
            gettext(
                "latest %(period)s: %(value)s",
                period=current.period,
                value=_fmt(current.figure.value, view.decimals, view.unit),
            )
        )
    if view.end_target is not None:
        target = _fmt(view.end_target, view.decimals, view.unit)
        summary.append(
            gettext("target %(target)s by %(period)s", target=target, period=view.end_target_period)
            if view.end_target_period
            else gettext("target %(target)s by the end", target=target)
        )
    summary.append(
        gettext("higher is better") if view.direction == "higher" else gettext("lower is better")
    )
    fig.text(0.04, 0.925, " · ".join(summary), fontsize=9, color="#555555", parse_math=False)
    ax = fig.add_axes((0.07, 0.5, 0.9, 0.4))
    _draw_chart(ax, view)
    y = 0.4
    for text, colour, bold in _lines(view):
        if bold:
            y -= 0.008
        fig.text(
            0.04,
            y,
            text,
            fontsize=9 if bold else 8,
            weight="bold" if bold else "normal",
            color=colour,
            parse_math=False,
            va="top",
        )
        y -= 0.022
        if y < 0.02:
            break
    return fig


def render_report(view: TurnTheCurve, fmt: Format) -> bytes:
    """The one-page report as PNG or PDF bytes."""
    buffer = io.BytesIO()
    report_figure(view).savefig(buffer, format=fmt, dpi=110 if fmt == "png" else None)
    return buffer.getvalue()
