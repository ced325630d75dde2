"""The review queue's one statement (models.reporting.queue) lists what the submissions'
listing, the periods and the members' names listed together: the same reports in the same
order with the same names; for the backbone team only."""

from __future__ import annotations

from datetime import date

import pytest

from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.core.errors import NotFound, PermissionDenied
from models.core.paging import MAX_LIMIT
from models.initiatives.members import member_names
from models.initiatives.periods import list_periods
from models.reporting.queue import review_queue
from models.reporting.submissions import list_submissions
from models.reporting.validation import ValueInput

from .. import factories as f


def _as_listed(session, actor, period):
    """The queue as the listings gave it before it was one statement."""
    rows, _ = list_submissions(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        period=period,
        status="submitted",
        limit=MAX_LIMIT,
    )
    starts = {
        p.key: p.starts_on
        for p in list_periods(session=session, actor=actor, initiative="c2c", limit=MAX_LIMIT).items
    }
    names = member_names(session=session, actor=actor, initiative="c2c")
    rows.sort(
        key=lambda r: (
            starts.get(r["period"], date.max),
            r["submitted_at"] is None,
            r["submitted_at"] or 0,
            r["organisation"],
        )
    )
    return [
        (
            r["organisation"],
            names.get(r["organisation"], r["organisation"]),
            r["period"],
            r["version"],
            bool(r["is_late"]),
            r["submitted_at"],
        )
        for r in rows
    ]


def test_the_queue_is_what_the_listings_gave(session, world) -> None:
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    other = actor_for_user(session=session, user=world["users"]["other"])
    f.save_report(session, reporter, [ValueInput("SERVED", value=10)])
    f.move_report(session, reporter, "submit")
    f.save_report(session, other, [ValueInput("SERVED", value=20)], org="westside")
    f.move_report(session, other, "submit", org="westside")
    f.save_report(session, SYSTEM, [ValueInput("SERVED", value=5)], org="westside", period="2025Q2")
    f.move_report(session, SYSTEM, "submit", org="westside", period="2025Q2")
    session.commit()
    for period in (None, "2025Q3", "2025Q2", "1999Q1"):
        queue = review_queue(
            session=session, actor=backbone, initiative_slug="c2c", period_key=period
        )
        assert [
            (w.organisation, w.organisation_name, w.period, w.version, w.is_late, w.submitted_at)
            for w in queue
        ] == _as_listed(session, backbone, period)
    assert {
        w.organisation for w in review_queue(session=session, actor=backbone, initiative_slug="c2c")
    } == {"eastside", "westside"}


def test_only_the_backbone_team_reads_the_queue(session, world) -> None:
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    outsider = actor_for_user(session=session, user=world["users"]["outsider"])
    with pytest.raises(PermissionDenied):
        review_queue(session=session, actor=reporter, initiative_slug="c2c")
    with pytest.raises(NotFound):
        review_queue(session=session, actor=outsider, initiative_slug="c2c")
