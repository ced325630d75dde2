"""Turn the curve: the baseline forecast against an independent fit (numpy, statistics) and its
edge cases; the view and its PNG/PDF report through the API, as each viewer may see them (a
funder's and a partner's forecast and report use and show no figure hidden from them)."""

from __future__ import annotations

import re
import statistics
from datetime import date

import numpy as np
import pytest
from sqlalchemy import select

from models import User
from models.access.permissions import actor_for_user
from models.analytics.disclosure import Figure
from models.analytics.views import SeriesPoint
from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.reporting.validation import ValueInput
from models.stories.stories import write_story
from models.strategies.strategies import StrategyView
from models.strategies.turn_the_curve import (
    MIN_POINTS,
    WINDOW,
    baseline_forecast,
    least_squares,
    turn_the_curve,
)
from models.strategies.turn_the_curve_report import render_report, report_figure

from .. import factories as f
from ..stories.test_stories import _token

P = "/api/v1"
URL = f"{P}/initiatives/ttc/indicators/KIDS/turn-the-curve"
KEYS = [f"{y}Q{q}" for y in (2024, 2025, 2026) for q in (1, 2, 3, 4)]
# Each of four partners reports a quarter of the total: 2024Q3 only three of them (hidden from
# funders and partners: fewer than four partners), 2025Q2 is approved but not published.
TOTALS = {"2024Q1": 100, "2024Q2": 112, "2024Q3": 120, "2024Q4": 132, "2025Q1": 152, "2025Q2": 172}
SHORT = "2024Q3"
PUBLISHED = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]
STRATEGY_START = date(2025, 1, 1)  # 2025Q1: the window is 2024Q1–2024Q4
FUNDER = "ttc-funder@example.org"


# --- the forecast on its own ------------------------------------------------------------------


def _periods(keys=KEYS) -> list[tuple[str, date, date]]:
    out = []
    for key in keys:
        year, quarter = int(key[:4]), int(key[-1])
        start = date(year, 3 * quarter - 2, 1)
        nxt = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        out.append((key, start, date.fromordinal(nxt.toordinal() - 1)))
    return out


def _points(values: dict[str, float | None]) -> list[SeriesPoint]:
    return [
        SeriesPoint(k, "total", "All partners", Figure(v, 10.0, None if v is not None else "<10"))
        for k, v in values.items()
    ]


def _strategy(starts_on: date, code: str = "s") -> StrategyView:
    when = date(2025, 1, 1)
    return StrategyView(code, code.title(), "", "", starts_on, None, [], [], [], when, when)  # type: ignore[arg-type]


def _independent(keys: list[str], values: list[float]) -> tuple[float, float]:
    """numpy's least-squares fit over positions among KEYS, from the first point: (a, b)."""
    xs = [KEYS.index(k) - KEYS.index(keys[0]) for k in keys]
    slope, intercept = np.polyfit(xs, values, 1)
    return float(intercept), float(slope)


def test_least_squares_agrees_with_numpy_and_statistics() -> None:
    xs, ys = [0.0, 1.0, 3.0, 4.0, 7.0], [2.0, 2.5, 4.1, 3.9, 8.2]
    intercept, slope = least_squares(xs, ys)
    fit = statistics.linear_regression(xs, ys)
    assert (intercept, slope) == pytest.approx((fit.intercept, fit.slope))
    assert (slope, intercept) == pytest.approx(tuple(np.polyfit(xs, ys, 1)))


def test_the_forecast_is_fitted_to_the_last_periods_before_the_first_strategy() -> None:
    values = {k: 50.0 + 3 * n + (n % 3) * 1.5 for n, k in enumerate(KEYS[:11])}
    later = _strategy(date(2026, 4, 1), "later")
    first = _strategy(date(2026, 1, 1), "first")  # 2026Q1: ten periods before it
    made = baseline_forecast(
        periods=_periods(),
        actual=_points(values),
        strategies=[later, first],
        breaks=[],
        until="2026Q4",
    )
    window = KEYS[8 - WINDOW : 8]  # the last WINDOW periods ending before 2026-01-01
    assert made.strategy == "first" and made.starts_on == first.starts_on
    assert [k for k, _ in made.used] == window
    intercept, slope = _independent(window, [values[k] for k in window])
    assert (made.intercept, made.slope) == pytest.approx((intercept, slope))
    assert [k for k, _ in made.points] == KEYS[8 - WINDOW :], "fitted, then projected to 2026Q4"
    for key, value in made.points:
        expected = intercept + slope * (KEYS.index(key) - KEYS.index(window[0]))
        assert value == pytest.approx(expected)
    assert made.method.startswith("Ordinary least-squares linear trend over the 8 figures")
    assert "projected to 2026Q4" in made.method and "First started on 1 Jan 2026" in made.method


def test_a_period_the_strategy_starts_in_is_not_history() -> None:
    """A strategy starting mid-quarter: that quarter is already under its influence."""
    values = {k: float(n) for n, k in enumerate(KEYS[:6])}
    made = baseline_forecast(
        periods=_periods(),
        actual=_points(values),
        strategies=[_strategy(date(2025, 2, 15))],
        breaks=[],
        until=None,
    )
    assert [k for k, _ in made.used] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert made.points[-1][0] == "2025Q2", "no end target: to the last period shown"


def test_hidden_figures_and_history_before_a_break_are_left_out_and_named() -> None:
    values: dict[str, float | None] = {k: 10.0 + 2 * n for n, k in enumerate(KEYS[:8])}
    values["2024Q4"] = None  # hidden from this viewer
    made = baseline_forecast(
        periods=_periods(),
        actual=_points(values),
        strategies=[_strategy(date(2026, 1, 1))],
        breaks=["2024Q3"],
        until="2026Q2",
    )
    used = ["2024Q3", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert [k for k, _ in made.used] == used
    assert made.hidden == ["2024Q4"] and made.before_break == ["2024Q1", "2024Q2"]
    intercept, slope = _independent(used, [values[k] for k in used])  # type: ignore[misc]
    assert (made.intercept, made.slope) == pytest.approx((intercept, slope))
    assert "hidden from you: 2024Q4" in made.method
    assert "before a series break: 2024Q1, 2024Q2" in made.method


@pytest.mark.parametrize("shown", [0, 1, MIN_POINTS - 1])
def test_too_little_history_gives_no_forecast_and_says_so(shown: int) -> None:
    values: dict[str, float | None] = {k: 5.0 for k in KEYS[:4]}
    for key in KEYS[shown:4]:
        values[key] = None
    made = baseline_forecast(
        periods=_periods(),
        actual=_points(values),
        strategies=[_strategy(date(2025, 1, 1))],
        breaks=[],
        until="2026Q4",
    )
    assert not made.available and made.points == [] and made.slope is None
    assert made.method.startswith("No forecast: too little history before S started")
    assert f"at least {MIN_POINTS} needed" in made.method
    assert made.hidden == KEYS[shown:4]


def test_exactly_the_minimum_makes_a_forecast_and_a_flat_one_is_flat() -> None:
    values = {k: 7.0 for k in KEYS[:MIN_POINTS]}
    made = baseline_forecast(
        periods=_periods(),
        actual=_points(values),
        strategies=[_strategy(date(2024, 10, 1))],  # after MIN_POINTS quarters
        breaks=[],
        until="2024Q4",
    )
    assert made.available and made.slope == pytest.approx(0.0)
    assert all(v == pytest.approx(7.0) for _, v in made.points)


def test_no_strategy_no_forecast() -> None:
    made = baseline_forecast(
        periods=_periods(), actual=_points({"2024Q1": 1.0}), strategies=[], breaks=[], until=None
    )
    assert not made.available and made.strategy is None
    assert made.method == "No forecast: no strategy you may see aims at this indicator."


# --- through the API ----------------------------------------------------------------------------


@pytest.fixture
def world(session, client) -> dict[str, dict[str, str]]:
    """Initiative "ttc": KIDS (baseline 100 in 2024Q1, target 250 by 2026Q4) reported by four
    partners, the strategy "reading" (owned by p1, from 2025Q1) aimed at it, stories of 2024Q4
    (published) and 2025Q2 (not); and another initiative's backbone officer."""
    init = f.initiative(session, slug="ttc", name="Turn City")
    periods = {k: f.period(session, init, k) for k in KEYS}
    kids = f.indicator(
        session,
        init,
        "count",
        code="KIDS",
        name="Children served",
        baseline_value=100,
        baseline_period_id=periods["2024Q1"].id,
        target_value=250,
        target_period_id=periods["2026Q4"].id,
    )
    orgs = [f.organisation(session, slug=f"p{n}", name=f"Partner {n}") for n in range(1, 5)]
    for org in orgs:
        f.obligation(session, f.member(session, init, org), kids)
    for key, total in TOTALS.items():
        for org in orgs[: 3 if key == SHORT else 4]:
            f.approved_report(session, "ttc", org.slug, key, [ValueInput("KIDS", value=total / 4)])
    other = f.initiative(session, slug="other", name="Other City")
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init, email=FUNDER),
        "p1": f.user(session, "reporter", org=orgs[0]),
        "p2": f.user(session, "reporter", org=orgs[1]),
        "other": f.user(session, "backbone", init=other),
    }
    session.commit()
    tokens = {role: _token(client, u) for role, u in users.items()}
    made = client.post(
        f"{P}/initiatives/ttc/strategies",
        json={
            "code": "reading",
            "title": "Reading $5 \\frac{ $10 club",
            "starts_on": STRATEGY_START.isoformat(),
            "owners": ["p1"],
            "indicators": ["KIDS"],
        },
        headers=tokens["backbone"],
    )
    assert made.status_code == 201, made.text
    for key, text in (("2024Q4", "Published **story**."), ("2025Q2", "Draft story <b>x</b>.")):
        write_story(
            session=session,
            actor=SYSTEM,
            initiative_slug="ttc",
            indicator_code="KIDS",
            period_key=key,
            text=text,
        )
    for key in PUBLISHED:
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug="ttc",
            period_key=key,
            confirm_incomplete=True,
            notify=False,
        )
    session.commit()
    return tokens


def _get(client, headers, suffix="", **params):
    return client.get(URL + suffix, headers=headers, params=params)


def test_the_backbone_sees_every_figure_and_a_forecast_fitted_to_them(client, world) -> None:
    r = _get(client, world["backbone"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    actual = {p["period"]: p["figure"]["value"] for p in body["actual"]}
    assert actual == {k: (90.0 if k == SHORT else float(v)) for k, v in TOTALS.items()}
    window = ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    forecast = body["forecast"]
    assert forecast["available"] and forecast["strategy"] == "reading"
    assert [u["period"] for u in forecast["used"]] == window and forecast["hidden"] == []
    intercept, slope = _independent(window, [actual[k] for k in window])
    assert (forecast["intercept"], forecast["slope"]) == pytest.approx((intercept, slope))
    assert forecast["points"][-1]["period"] == "2026Q4"
    assert forecast["points"][-1]["value"] == pytest.approx(intercept + slope * 11)
    assert body["periods"] == KEYS, "from the first figure to the end target's period"
    targets = {t["period"]: t["target"] for t in body["targets"]}
    assert targets["2024Q1"] == pytest.approx(100) and targets["2026Q4"] == pytest.approx(250)
    assert [s["code"] for s in body["strategies"]] == ["reading"]
    assert body["spans"] == [
        {
            "code": "reading",
            "title": "Reading $5 \\frac{ $10 club",
            "first": "2025Q1",
            "last": "2026Q4",
        }
    ]
    assert body["story"]["period"] == "2025Q2", "the backbone team reads its latest draft"
    assert "&lt;b&gt;" in body["story"]["html"]


def test_a_funder_gets_no_hidden_figure_in_the_view_or_the_reports(client, session, world) -> None:
    body = _get(client, world["funder"]).json()
    actual = {p["period"]: p["figure"] for p in body["actual"]}
    assert actual[SHORT]["value"] is None and actual[SHORT]["marker"]
    assert actual["2025Q2"]["value"] is None, "not published"
    forecast = body["forecast"]
    used = ["2024Q1", "2024Q2", "2024Q4"]
    assert [u["period"] for u in forecast["used"]] == used
    assert forecast["hidden"] == [SHORT] and "hidden from you: 2024Q3" in forecast["method"]
    intercept, slope = _independent(used, [float(TOTALS[k]) for k in used])
    assert (forecast["intercept"], forecast["slope"]) == pytest.approx((intercept, slope))
    assert body["story"]["period"] == "2024Q4", "the published story, not the later draft"
    assert [s["code"] for s in body["strategies"]] == ["reading"], "funders read them all"

    # The report draws exactly the funder's view: nothing on the page carries 90 (2024Q3) or
    # 172 (2025Q2), the figures the funder may not see.
    who = session.scalars(select(User).where(User.email == FUNDER)).one()
    funder = actor_for_user(session=session, user=who)
    view = turn_the_curve(
        session=session, actor=funder, initiative_slug="ttc", indicator_code="KIDS"
    )
    page = report_figure(view)
    drawn = [y for ax in page.axes for line in ax.get_lines() for y in line.get_ydata()]
    assert not any(np.isclose(y, 90.0) or np.isclose(y, 172.0) for y in drawn if np.isfinite(y))
    words = " ".join(
        t.get_text() for t in [*page.texts, *(t for ax in page.axes for t in ax.texts)]
    )
    assert "90" not in re.findall(r"\d+", words) and "172" not in re.findall(r"\d+", words)
    assert "152" in words, "the latest figure the funder may see is named"
    png = _get(client, world["funder"], ".png")
    assert png.content == render_report(view, "png"), "the export is the funder's own view"
    assert png.content != _get(client, world["backbone"], ".png").content


def test_a_partner_reads_its_own_strategy_and_another_partner_none(client, world) -> None:
    owner = _get(client, world["p1"]).json()
    assert [s["code"] for s in owner["strategies"]] == ["reading"]
    assert owner["forecast"]["hidden"] == [SHORT] and owner["forecast"]["available"]
    other = _get(client, world["p2"]).json()
    assert other["strategies"] == [] and other["spans"] == []
    assert other["forecast"]["method"].startswith("No forecast: no strategy you may see")
    assert "reading" not in _get(client, world["p2"], ".pdf").text


@pytest.mark.parametrize(
    ("suffix", "params", "media", "magic"),
    [
        (".png", {}, "image/png", b"\x89PNG\r\n\x1a\n"),
        ("", {"format": "png"}, "image/png", b"\x89PNG\r\n\x1a\n"),
        (".pdf", {}, "application/pdf", b"%PDF-"),
        ("", {"format": "pdf"}, "application/pdf", b"%PDF-"),
    ],
)
def test_the_reports_are_one_page_files(client, world, suffix, params, media, magic) -> None:
    r = _get(client, world["backbone"], suffix, **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    assert r.content.startswith(magic)
    assert 'filename="ttc-KIDS-turn-the-curve.' in r.headers["content-disposition"]
    if media == "application/pdf":
        assert len(re.findall(rb"/Type\s*/Page[^s]", r.content)) == 1, "one page"
        assert r.content.rstrip().endswith(b"%%EOF")
    else:
        from io import BytesIO

        from PIL import Image

        with Image.open(BytesIO(r.content)) as image:
            image.verify()
            assert image.size[0] > image.size[1] > 600, "a landscape page"


def test_who_may_not_read_the_series_may_not_read_this(client, world) -> None:
    assert _get(client, {}).status_code == 401
    assert _get(client, world["other"]).status_code == 404
    assert _get(client, world["other"], ".pdf").status_code == 404
    missing = client.get(
        f"{P}/initiatives/ttc/indicators/NOPE/turn-the-curve", headers=world["backbone"]
    )
    assert missing.status_code == 404 and "code" in missing.text
    bad = _get(client, world["backbone"], format="svg")
    assert bad.status_code == 422 and "format" in bad.text
