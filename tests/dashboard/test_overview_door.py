"""The overview's body in one unit of work (``data.overview_scorecard``): the scorecard, legend
and strategies the separate doors gave, for each viewer and outcome, and nothing for someone
who may not see the initiative."""

from __future__ import annotations

import pytest

from dashboard import data


def test_the_body_is_what_the_separate_doors_gave(app, world, session) -> None:
    from models.access.permissions import actor_for_user

    for role in ("backbone", "funder", "reporter"):
        actor = actor_for_user(session=session, user=world["users"][role])
        with data.acting_as(actor):
            _whole, outcomes, _ = data.overview("c2c", None, None)
            for period in (None, "2025Q3", "2025Q2"):
                for outcome in (None, *(code for code, _ in outcomes)):
                    card, legend, strategies = data.overview_scorecard("c2c", period, outcome)
                    before, _outcomes, before_legend = data.overview("c2c", period, outcome)
                    assert (card, legend) == (before, before_legend), (role, period, outcome)
                    assert strategies == data.strategies("c2c")
    outsider = actor_for_user(session=session, user=world["users"]["outsider"])
    with data.acting_as(outsider), pytest.raises(data.NotFound):
        data.overview_scorecard("c2c")
