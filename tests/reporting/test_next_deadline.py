"""The partner's next deadline (the portal shows it): the earliest due date among the reports
its reporters may still write and have not submitted, a deadline extension's day in place of
a closed period's due date, days left counted from today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.core.errors import NotFound
from models.reporting.deadlines import grant_extension, next_deadline

from .. import factories as f

TODAY = date.today()


@pytest.fixture
def world(session):
    built = f.two_partner_world(session)  # 2025Q3 open (due in 20 days), 2025Q2 closed
    init, east, west = built["init"], built["east"], built["west"]
    built["east_reporter"] = actor_for_user(
        session=session, user=f.user(session, "reporter", init=init, org=east.organisation)
    )
    built["west_reporter"] = actor_for_user(
        session=session, user=f.user(session, "reporter", init=init, org=west.organisation)
    )
    return built


def _next(session, actor, org="eastside", today=TODAY):
    return next_deadline(
        session=session, actor=actor, initiative_slug="c2c", org_slug=org, today=today
    )


def test_the_open_periods_due_date_and_the_days_left(session, world) -> None:
    found = _next(session, world["east_reporter"])
    assert (found.period, found.deadline, found.days_left) == ("2025Q3", TODAY + timedelta(20), 20)
    assert (found.extended_until, found.status) == (None, "not started")


def test_an_extension_of_a_closed_period_comes_first_with_its_day(session, world) -> None:
    grant_extension(
        session=session,
        actor=SYSTEM,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q2",
        until=TODAY + timedelta(days=7),
        reason="flooded office",
    )
    found = _next(session, world["east_reporter"])
    assert (found.period, found.deadline, found.days_left) == ("2025Q2", TODAY + timedelta(7), 7)
    assert found.extended_until == TODAY + timedelta(days=7)
    # westside has no extension: its next deadline is still the open period's.
    assert _next(session, world["west_reporter"], "westside").period == "2025Q3"
    # Once the extension has run out, the closed period is owed no more.
    later = _next(session, world["east_reporter"], today=TODAY + timedelta(days=8))
    assert later.period == "2025Q3" and later.days_left == 12


def test_submitted_reports_are_not_owed_and_returned_ones_are(session, world) -> None:
    q3 = next(p for p in world["init"].periods if p.key == "2025Q3")
    sub = f.submission(session, world["east"], q3, status="submitted")
    assert _next(session, world["east_reporter"]) is None
    sub.status = "returned"
    session.flush()
    found = _next(session, world["east_reporter"])
    assert (found.period, found.status) == ("2025Q3", "returned")


def test_past_the_due_date_while_open_the_days_left_are_negative(session, world) -> None:
    f.open_period(session, world["init"], "2025Q4", opened=30, due=-3, closes=10)
    found = _next(session, world["east_reporter"])
    assert (found.period, found.days_left) == ("2025Q4", -3)


def test_a_reporter_asking_for_another_partner_gets_404(session, world) -> None:
    with pytest.raises(NotFound):
        _next(session, world["west_reporter"], "eastside")


def test_through_the_api(client, session, world) -> None:
    backbone = f.user(session, "backbone", init=world["init"])
    reporter = f.user(session, "reporter", init=world["init"], org=world["west"].organisation)
    session.commit()

    def login(user) -> dict[str, str]:
        answer = client.post(
            "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
        )
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    url = "/api/v1/initiatives/c2c/members/eastside/next-deadline"
    found = client.get(url, headers=login(backbone))
    assert found.status_code == 200
    assert found.json()["next"] == {
        "organisation": "eastside",
        "period": "2025Q3",
        "due_on": (TODAY + timedelta(days=20)).isoformat(),
        "closes_on": (TODAY + timedelta(days=40)).isoformat(),
        "extended_until": None,
        "deadline": (TODAY + timedelta(days=20)).isoformat(),
        "days_left": 20,
        "status": "not started",
    }
    assert client.get(url, headers=login(reporter)).status_code == 404  # westside's reporter
