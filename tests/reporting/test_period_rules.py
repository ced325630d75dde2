"""When a period takes reports, when a report may be returned, and whose lateness it keeps.

- Nothing is reported for a period that has not started (save, import, submit: 409 ``period``).
- The quarter under way takes drafts; it is submitted once its reporting window opens.
- A report is returned only while its partner may still correct it (409 ``period`` once closed).
- Lateness is the first submission's: a return and a late resubmission keep an on-time report on
  time, in the submission and on the reporting page.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import Period, Submission, Value
from models.analytics.views import completeness
from models.core.actors import SYSTEM
from models.reporting.submissions import refusals

from .. import factories as f

BASE = "/api/v1/initiatives/c2c"
SERVED = {"values": [{"indicator": "SERVED", "value": 120}]}


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


TODAY = date.today()
CURRENT = _quarter(TODAY)  # under way: started, its window opens the day after it ends
FUTURE = f"{TODAY.year + 1}Q{(TODAY.month - 1) // 3 + 1}"  # starts in a year


@pytest.fixture
def world(session, client):
    built = f.two_partner_world(session)
    init = built["init"]
    f.period(session, init, CURRENT)
    f.period(session, init, FUTURE)
    users = f.two_partner_users(session, built, ("backbone", "reporter"))
    session.commit()
    return f.bearer_headers(client, users)


def _url(period: str, action: str = "") -> str:
    return f"{BASE}/submissions/eastside/{period}" + (f"/{action}" if action else "")


def _csv(period: str, value: int = 5) -> bytes:
    return f"organisation,period,indicator,value\neastside,{period},SERVED,{value}\n".encode()


def _values(session) -> int:
    return session.scalar(select(func.count()).select_from(Value))


# --- a period that has not started --------------------------------------------------------------


@pytest.mark.parametrize("role", ["reporter", "backbone"])
def test_nothing_is_saved_for_a_period_that_has_not_started(client, world, session, role) -> None:
    r = client.put(_url(FUTURE), json=SERVED, headers=world[role])
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "period_not_started" and body["field"] == "period"
    starts = date(int(FUTURE[:4]), 3 * int(FUTURE[-1]) - 2, 1)
    assert f"starts on {starts.day} {starts:%b %Y}" in body["detail"]
    assert body["starts_on"] == starts.isoformat()
    assert _values(session) == 0


def test_an_import_for_a_period_that_has_not_started_is_a_row_error(client, world, session) -> None:
    for dry_run in ("true", "false"):
        r = client.post(
            f"{BASE}/imports",
            files={"file": ("values.csv", _csv(FUTURE), "text/csv")},
            params={"dry_run": dry_run},
            headers=world["reporter"],
        )
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert (error["row"], error["column"]) == (2, "period")
        assert f"period {FUTURE} starts on" in error["reason"]
    assert _values(session) == 0


def test_a_draft_for_a_period_that_has_not_started_cannot_be_submitted(
    client, world, session
) -> None:
    """A draft that is there anyway (written before the rule, or by hand) is not submitted."""
    from models import Member, Organisation

    east = session.scalar(select(Member).join(Organisation).where(Organisation.slug == "eastside"))
    future = session.scalar(select(Period).where(Period.key == FUTURE))
    sub = f.submission(session, east, future)
    f.reported_value(session, sub, _indicator(session, "SERVED"), value=3)
    session.commit()
    r = client.post(_url(FUTURE, "submit"), headers=world["reporter"])
    assert r.status_code == 409 and r.json()["field"] == "period"
    assert r.json()["code"] == "period_not_started"
    session.expire_all()
    assert session.get(Submission, sub.id).status == "draft"


def _indicator(session, code: str):
    from models import Indicator

    return session.scalar(select(Indicator).where(Indicator.code == code))


# --- the quarter under way ------------------------------------------------------------------------


def test_the_quarter_under_way_takes_drafts_and_is_submitted_once_its_window_opens(
    client, world, session
) -> None:
    rep = world["reporter"]
    assert client.put(_url(CURRENT), json=SERVED, headers=rep).status_code == 200
    r = client.post(
        f"{BASE}/imports",
        files={"file": ("values.csv", _csv(CURRENT, 7), "text/csv")},
        headers=rep,
    )
    assert r.status_code == 200, r.text

    early = client.post(_url(CURRENT, "submit"), headers=rep)
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "period_not_open" and early.json()["field"] == "period"
    assert "save a draft until then" in early.json()["detail"]
    assert client.get(_url(CURRENT), headers=rep).json()["status"] == "draft"

    # The backbone team opens the window early (e.g. for a quarter's data ready sooner).
    period = session.scalar(select(Period).where(Period.key == CURRENT))
    period.opens_on = TODAY
    session.commit()
    done = client.post(_url(CURRENT, "submit"), headers=rep)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"


def test_the_page_is_told_what_the_write_would_refuse(session, world) -> None:
    """The portal and review page ask the domain, in the API's words, rather than guess."""
    kw = {"session": session, "initiative_slug": "c2c", "org_slug": "eastside"}
    future = refusals(actor=SYSTEM, period_key=FUTURE, **kw)
    assert future.save and "starts on" in future.save
    assert future.submit == future.save
    current = refusals(actor=SYSTEM, period_key=CURRENT, **kw)
    assert current.save is None
    assert current.submit and "opens on" in current.submit
    assert current.send_back and "submitted" in current.send_back
    open_now = refusals(actor=SYSTEM, period_key="2025Q3", **kw)
    assert open_now.save is None and open_now.submit is None


# --- returning a report in a closed period ----------------------------------------------------


def _submitted_in_closed_period(client, world, session) -> None:
    """Eastside's 2025Q3 report, submitted while open; then the period closes."""
    rep = world["reporter"]
    assert client.put(_url("2025Q3"), json=SERVED, headers=rep).status_code == 200
    assert client.post(_url("2025Q3", "submit"), headers=rep).status_code == 200
    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    period.due_on = TODAY - timedelta(days=3)
    period.closes_on = TODAY - timedelta(days=1)
    session.commit()


def test_a_report_is_not_returned_into_a_closed_period(client, world, session) -> None:
    _submitted_in_closed_period(client, world, session)
    r = client.post(
        _url("2025Q3", "return"), json={"comment": "SERVED looks low"}, headers=world["backbone"]
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["field"] == "period" and body["code"] == "period_closed"
    assert (
        "the period is closed; extend the partner's deadline or reopen the period first"
        in body["detail"]
    )
    assert client.get(_url("2025Q3"), headers=world["backbone"]).json()["status"] == "submitted"
    told = refusals(
        session=session,
        actor=SYSTEM,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
    )
    assert told.send_back == body["detail"]

    # Reopening the window (moving its close) lets the report go back to the partner.
    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    period.closes_on = TODAY + timedelta(days=7)
    session.commit()
    r = client.post(
        _url("2025Q3", "return"), json={"comment": "SERVED looks low"}, headers=world["backbone"]
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"


# --- lateness is the first submission's -------------------------------------------------------------


def test_a_resubmission_after_a_return_keeps_the_first_submissions_lateness(
    client, world, session
) -> None:
    rep, bb = world["reporter"], world["backbone"]
    client.put(_url("2025Q3"), json=SERVED, headers=rep)
    first = client.post(_url("2025Q3", "submit"), headers=rep).json()
    assert first["is_late"] is False
    assert first["first_submitted_at"] == first["submitted_at"]
    returned = client.post(_url("2025Q3", "return"), json={"comment": "recount"}, headers=bb)
    assert returned.status_code == 200

    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    period.due_on = TODAY - timedelta(days=1)  # the due date passes while the partner corrects
    session.commit()
    # While it is back with the partner, past the due date, the report is not late either.
    cells = completeness(session=session, actor=SYSTEM, initiative_slug="c2c", period_key="2025Q3")
    assert not [c for c in cells.cells if c.organisation == "eastside" and c.late]

    body = {"values": [{"indicator": "SERVED", "value": 140}], "reason": "recount"}
    assert client.put(_url("2025Q3"), json=body, headers=rep).status_code == 200
    again = client.post(_url("2025Q3", "submit"), headers=rep).json()
    assert again["status"] == "submitted"
    assert again["is_late"] is False
    assert again["first_submitted_at"] == first["first_submitted_at"]
    assert again["submitted_at"] >= first["submitted_at"]
    cells = completeness(session=session, actor=SYSTEM, initiative_slug="c2c", period_key="2025Q3")
    assert not [c for c in cells.cells if c.organisation == "eastside" and c.late]


def test_a_late_first_submission_stays_late(client, world, session) -> None:
    rep, bb = world["reporter"], world["backbone"]
    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    period.due_on = TODAY - timedelta(days=1)
    session.commit()
    client.put(_url("2025Q3"), json=SERVED, headers=rep)
    assert client.post(_url("2025Q3", "submit"), headers=rep).json()["is_late"] is True
    client.post(_url("2025Q3", "return"), json={"comment": "recount"}, headers=bb)
    period.due_on = TODAY + timedelta(days=5)  # moving the due date later changes nothing now
    session.commit()
    assert client.post(_url("2025Q3", "submit"), headers=rep).json()["is_late"] is True


def test_a_report_submitted_before_first_times_were_kept_keeps_its_lateness(
    client, world, session
) -> None:
    """Rows from before the column (or the demo's bulk load) have only ``submitted_at``."""
    from datetime import UTC, datetime

    from models import Member, Organisation

    east = session.scalar(select(Member).join(Organisation).where(Organisation.slug == "eastside"))
    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    sub = f.submission(session, east, period, status="returned")
    f.reported_value(session, sub, _indicator(session, "SERVED"), value=3)
    earlier = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)
    sub.submitted_at, sub.is_late = earlier, False
    period.due_on = TODAY - timedelta(days=1)
    session.commit()
    r = client.post(_url("2025Q3", "submit"), headers=world["reporter"])
    assert r.status_code == 200, r.text
    assert r.json()["is_late"] is False
    assert r.json()["first_submitted_at"].startswith("2025-10-20T09:00")
