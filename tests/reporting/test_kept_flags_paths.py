"""The reporting page's kept reports (models.reporting.flagged) after every way a report changes:
submit, return, approve, reopen and correct, an import, a deadline extension, an earlier
period's approval, a deletion, and raw SQL from a script (a report moved to another period or
handed to another partner). After each, the page with reports kept from before answers exactly
as a page read afresh."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from models.access.permissions import actor_for_user
from models.core import dates
from models.core.actors import SYSTEM
from models.reporting import flagged
from models.reporting.deadlines import grant_extension
from models.reporting.progress import reporting_progress
from models.reporting.validation import ValueInput
from models.spreadsheets.imports import import_file
from models.tables.initiative import Member, Period
from models.tables.reporting import Submission

from .. import factories as f

MISMATCH = [
    ValueInput("K_READY", numerator=45, denominator=90),
    ValueInput("K_READY", "race=black", numerator=20, denominator=50),
    ValueInput("K_READY", "race=white", numerator=20, denominator=40),
]


@pytest.fixture(autouse=True)
def _nothing_kept():
    flagged.KEPT.clear()
    yield
    flagged.KEPT.clear()


def _page(session, actor, period="2025Q3"):
    return reporting_progress(
        session=session, actor=actor, initiative_slug="c2c", period_key=period
    )


def _same_as_fresh(session, actor, period="2025Q3"):
    """The page as kept reports answer it, then as a fresh read does: the same."""
    session.commit()
    kept = _page(session, actor, period)
    flagged.KEPT.clear()
    fresh = _page(session, actor, period)
    assert kept == fresh
    return fresh


def _flagged(page) -> set:
    return {(r["organisation"], r["indicator"], r["status"]) for r in page.flagged}


def test_every_write_path_leaves_the_kept_page_as_a_fresh_read(session, world) -> None:
    users = world["users"]
    backbone = actor_for_user(session=session, user=users["backbone"])
    east = actor_for_user(session=session, user=users["reporter"])
    west = actor_for_user(session=session, user=users["other"])
    f.save_report(session, west, [ValueInput("SERVED", value=1000)], org="westside")
    f.save_report(session, east, MISMATCH)
    page = _same_as_fresh(session, backbone)
    assert ("eastside", "K_READY", "draft") in _flagged(page)

    f.move_report(session, east, "submit")
    assert ("eastside", "K_READY", "submitted") in _flagged(_same_as_fresh(session, backbone))
    f.move_report(session, backbone, "return", "check the breakdown")
    assert ("eastside", "K_READY", "returned") in _flagged(_same_as_fresh(session, backbone))
    f.save_report(
        session, east, [ValueInput("K_READY", "race=white", numerator=25, denominator=40)]
    )
    f.move_report(session, east, "submit")
    f.move_report(session, backbone, "approve")
    page = _same_as_fresh(session, backbone)
    assert not any(org == "eastside" for org, *_ in _flagged(page))

    # A correction: reopened by the backbone team and saved with a sum that does not add up.
    f.move_report(session, backbone, "reopen", "a correction")
    f.save_report(session, backbone, MISMATCH, reason="correction")
    assert ("eastside", "K_READY", "draft") in _flagged(_same_as_fresh(session, backbone))

    # An import into both reports of the period.
    report = import_file(
        session=session,
        actor=SYSTEM,
        initiative_slug="c2c",
        stream=io.BytesIO(
            b"organisation,period,indicator,value\r\n"
            b"westside,2025Q3,SERVED,10\r\neastside,2025Q3,SERVED,7\r\n"
        ),
        filename="served.csv",
        content_type="text/csv",
    )
    assert report.written, report.as_dict()
    _same_as_fresh(session, backbone)

    # A deadline extension of the earlier period, then its report approved: westside's history
    # changes (SERVED from 1000 to 10 is a jump now) and the whole period is checked again.
    _page(session, backbone)  # kept before the earlier period moves
    grant_extension(
        session=session,
        actor=backbone,
        initiative_slug="c2c",
        org_slug="westside",
        period_key="2025Q2",
        until=dates.today() + timedelta(days=3),
        reason="late audit",
    )
    _same_as_fresh(session, backbone)
    f.approved_report(session, "c2c", "westside", "2025Q2", [ValueInput("SERVED", value=1000)])
    assert ("westside", "SERVED", "draft") in _flagged(_same_as_fresh(session, backbone))

    # A report deleted.
    session.execute(
        text("DELETE FROM submissions WHERE id = :id"),
        {"id": _report_id(session, "westside", "2025Q3")},
    )
    assert not any(org == "westside" for org, *_ in _flagged(_same_as_fresh(session, backbone)))


def test_reports_changed_by_raw_sql_leave_no_kept_report_behind(session, world) -> None:
    users = world["users"]
    backbone = actor_for_user(session=session, user=users["backbone"])
    east = actor_for_user(session=session, user=users["reporter"])
    f.save_report(session, east, MISMATCH)
    page = _same_as_fresh(session, backbone)
    assert ("eastside", "K_READY", "draft") in _flagged(page)

    # A script hands eastside's report to westside (a partner's report entered under the wrong
    # organisation, put right in the database): eastside has no report of the period now.
    session.execute(
        text("UPDATE submissions SET member_id = :west WHERE id = :id"),
        {"west": world["west"].id, "id": _report_id(session, "eastside", "2025Q3")},
    )
    page = _same_as_fresh(session, backbone)
    assert {org for org, *_ in _flagged(page)} == {"westside"}

    # A script moves it to the earlier period: this period has no flagged report left.
    q2 = session.scalar(select(Period.id).where(Period.key == "2025Q2"))
    session.execute(
        text("UPDATE submissions SET period_id = :q2 WHERE id = :id"),
        {"q2": q2, "id": _report_id(session, "westside", "2025Q3")},
    )
    assert not _same_as_fresh(session, backbone).flagged
    assert _same_as_fresh(session, backbone, "2025Q2").flagged


def _report_id(session, org: str, period: str) -> int:
    from models.tables.organisation import Organisation

    return session.scalar(
        select(Submission.id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Organisation.slug == org, Period.key == period)
    )
