"""One period's series (``series(period_key=…)``) for every audience the partner comparison
serves — backbone, a funder, a partner (its own figures), the public — and every breakdown,
reported and computed indicators, published, unpublished and hidden periods: each answer is the
whole series cut to that period, so nothing is shown that the whole series would hide."""

from __future__ import annotations

import pytest

from models.analytics.views import series
from models.core.actors import ANONYMOUS, SYSTEM, Actor
from models.reporting.validation import ValueInput

from .. import factories as f
from .test_analytics import _publish, _report
from .test_series_one_period import _one_period

# Q1 published (the baselines' period), Q2 approved but never published, Q3 published with a
# partner small enough to be hidden below backbone.
REPORTS = {
    "2025Q1": {"one": 30, "two": 40, "three": 50},
    "2025Q2": {"one": 31, "two": 41, "three": 51},
    "2025Q3": {"one": 3, "two": 45, "three": 60},
}
PUBLISHED = ("2025Q1", "2025Q3")


@pytest.fixture(params=["strict", "few partners"])
def rules(request):
    """The deployment's rules: as shipped (three partners hide every initiative figure), or
    with one partner enough, so totals, categories and baselines are shown below backbone."""
    if request.param == "few partners":
        request.getfixturevalue("few_partners_allowed")
    return request.param


@pytest.fixture
def reported(session, world, rules):
    # A computed indicator with a baseline of its own period: told below backbone only where
    # its inputs' figures tell it.
    f.indicator(
        session,
        world,
        "count",
        code="BOTH",
        expression="KIDS + KIDS",
        baseline_value=240,
        baseline_period_id=next(p.id for p in world.periods if p.key == "2025Q1"),
    )
    for period, by_org in REPORTS.items():
        for org, n in by_org.items():
            _report(
                session,
                org,
                period,
                [
                    ValueInput("KIDS", value=n),
                    ValueInput("RATE", numerator=n, denominator=100),
                    ValueInput("RATE", "race=a", numerator=n // 2, denominator=50),
                    ValueInput("RATE", "race=b", numerator=n - n // 2, denominator=50),
                ],
            )
        if period in PUBLISHED:
            _publish(session, period)
    session.flush()
    return world


def _audiences(session, world) -> list[Actor]:
    one = next(m for m in world.members if m.organisation.slug == "one")
    return [
        SYSTEM,
        Actor(user_id=998, label="funder", funder_of=frozenset({world.id})),
        Actor(
            user_id=999,
            label="partner",
            reporter_in=frozenset({(world.id, one.organisation_id)}),
        ),
        ANONYMOUS,
    ]


@pytest.mark.parametrize("by", ["partner", "race", None])
def test_every_audience_sees_of_one_period_what_the_whole_series_shows_of_it(
    session, reported, by
) -> None:
    world = reported
    for actor in _audiences(session, world):
        for code in ("KIDS", "RATE", "BOTH"):
            if by == "race" and code != "RATE":
                continue
            try:
                whole = series(
                    session=session, actor=actor, initiative_slug="math", indicator_code=code, by=by
                )
            except Exception as exc:  # noqa: BLE001 - the same refusal, asked for one period
                for key in REPORTS:
                    with pytest.raises(type(exc)):
                        series(
                            session=session,
                            actor=actor,
                            initiative_slug="math",
                            indicator_code=code,
                            by=by,
                            period_key=key,
                        )
                continue
            for key in (*REPORTS, "2024Q4"):
                one = series(
                    session=session,
                    actor=actor,
                    initiative_slug="math",
                    indicator_code=code,
                    by=by,
                    period_key=key,
                )
                assert one == _one_period(whole, key), (actor.label, code, by, key)
