"""One period's series (``series(period_key=…)``, the dashboard's partner comparison): each of
its points is the whole series' point of that period, for every audience, the baseline told as
the whole series tells it, and no other period's figures are read."""

from __future__ import annotations

from dataclasses import replace

from models.analytics.views import series
from models.core.actors import SYSTEM, Actor
from models.reporting.validation import ValueInput

from .test_analytics import _publish, _report


def _one_period(whole, key: str):
    """The whole series cut to the period ``key``."""
    at = [i for i, p in enumerate(whole.periods) if p == key]
    return replace(
        whole,
        periods=[key] if at else [],
        total=[p for p in whole.total if p.period == key],
        breakdown=[p for p in whole.breakdown if p.period == key],
        targets=[t for t in whole.targets if t[0] == key],
    )


def test_one_periods_points_are_the_whole_series_points(session, world) -> None:
    for period, values in (("2025Q1", (30, 40, 50)), ("2025Q3", (40, 50, 60))):
        for org, n in zip(("one", "two", "three"), values, strict=True):
            _report(
                session,
                org,
                period,
                [ValueInput("KIDS", value=n), ValueInput("RATE", numerator=n, denominator=100)],
            )
        _publish(session, period)
    funder = Actor(user_id=999, label="funder", funder_of=frozenset({world.id}))
    for actor in (SYSTEM, funder):
        for code in ("KIDS", "RATE"):
            whole = series(
                session=session,
                actor=actor,
                initiative_slug="math",
                indicator_code=code,
                by="partner",
            )
            for key in ("2025Q1", "2025Q2", "2025Q3", "1999Q1"):
                one = series(
                    session=session,
                    actor=actor,
                    initiative_slug="math",
                    indicator_code=code,
                    by="partner",
                    period_key=key,
                )
                assert one == _one_period(whole, key), (actor.label, code, key)
    # RATE's baseline (2025Q1), decided from its period's figures, withheld from the funder
    # by the whole series and by each period's alike.
    assert whole.baseline is None and whole.baseline_withheld


def test_one_period_reads_only_that_periods_partner_figures(session, world, monkeypatch) -> None:
    for period in ("2025Q1", "2025Q3"):
        _report(session, "one", period, [ValueInput("KIDS", value=40)])
    from models.analytics import disclosure

    asked: list = []
    real = disclosure.partner_figures

    def spy(**kw):
        asked.append(kw["period_ids"])
        return real(**kw)

    monkeypatch.setattr(disclosure, "partner_figures", spy)
    one = series(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        indicator_code="KIDS",
        by="partner",
        period_key="2025Q3",
    )
    assert [p.period for p in one.breakdown] == ["2025Q3"]
    assert len(asked) == 1 and len(asked[0]) == 1
