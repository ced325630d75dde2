"""A report against its previous submitted version, replayed from the audit trail."""

from __future__ import annotations

import pytest

from models.access.permissions import actor_for_user
from models.core.errors import NotFound
from models.reporting.validation import ValueInput
from models.reporting.versions import submission_changes

from .. import factories as f

FIRST = [
    ValueInput("K_READY", numerator=45, denominator=90),
    ValueInput("K_READY", "race=black", numerator=20, denominator=50),
    ValueInput("K_READY", "race=white", numerator=25, denominator=40),
    ValueInput("SERVED", value=120),
    ValueInput("SCORE", value=231.5, denominator=88),
]


@pytest.fixture
def world(session):
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built, ("backbone", "reporter", "other"))
    session.flush()
    return {role: actor_for_user(session=session, user=u) for role, u in users.items()} | built


def _changes(session, actor):
    return submission_changes(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
    )


def _by_cell(changes):
    return {(c.indicator, c.disaggregation): c for c in changes.changes}


def test_a_first_submission_has_nothing_to_compare_with(session, world) -> None:
    assert _changes(session, world["backbone"]).previous_at is None  # not started
    f.save_report(session, world["reporter"], FIRST)
    f.move_report(session, world["reporter"], "submit")
    changes = _changes(session, world["backbone"])
    assert changes.previous_at is None and changes.changes == ()


def test_a_resubmitted_report_shows_what_changed_since_it_was_returned(session, world) -> None:
    rep, bb = world["reporter"], world["backbone"]
    f.save_report(session, rep, FIRST)
    f.move_report(session, rep, "submit")
    f.move_report(
        session, bb, "return", "SERVED looks low; the white category seems double counted"
    )
    f.save_report(
        session,
        rep,
        [
            ValueInput("SERVED", value=140, note="summer programme"),
            ValueInput("K_READY", "race=white", remove=True),
            ValueInput("SCORE", value=231.5, denominator=88),  # the same again: no change
        ],
        reason="recount",
    )
    # Changed twice: compared once (a value is written whole, its note with it).
    f.save_report(session, rep, [ValueInput("SERVED", value=150, note="summer programme")])
    f.move_report(session, rep, "submit")

    changes = _changes(session, bb)
    assert changes.previous_at is not None and changes.previous_version == 2
    assert changes.sent_back is not None
    assert changes.sent_back.action == "return"
    assert changes.sent_back.comment.startswith("SERVED looks low")
    assert changes.sent_back.actor_label == bb.label
    cells = _by_cell(changes)
    assert set(cells) == {("SERVED", "total"), ("K_READY", "race=white")}
    served = cells[("SERVED", "total")]
    assert served.kind == "changed"
    assert (served.before["value"], served.after["value"]) == (120, 150)
    assert (served.before["note"], served.after["note"]) == (None, "summer programme")
    white = cells[("K_READY", "race=white")]
    assert white.kind == "removed" and white.after is None
    assert (white.before["numerator"], white.before["denominator"]) == (25, 40)

    # Approved, the report still reads against the version before it; the partner sees it too.
    f.move_report(session, bb, "approve")
    assert set(_by_cell(_changes(session, rep))) == set(cells)


def test_a_value_added_and_one_cleared_and_entered_again(session, world) -> None:
    rep, bb = world["reporter"], world["backbone"]
    f.save_report(session, rep, [ValueInput("SERVED", value=120)])
    f.move_report(session, rep, "submit")
    f.move_report(session, bb, "return", "K_READY is missing")
    f.save_report(session, rep, [ValueInput("SERVED", remove=True)])
    f.save_report(
        session,
        rep,
        [ValueInput("SERVED", value=120), ValueInput("K_READY", numerator=1, denominator=2)],
    )
    f.move_report(session, rep, "submit")
    cells = _by_cell(_changes(session, bb))
    # SERVED went and came back as it was (a new value, the same figure): unchanged.
    assert set(cells) == {("K_READY", "total")}
    assert cells[("K_READY", "total")].kind == "added"
    assert cells[("K_READY", "total")].before is None


def test_a_report_being_corrected_reads_against_its_last_submission(session, world) -> None:
    rep, bb = world["reporter"], world["backbone"]
    f.save_report(session, rep, FIRST)
    f.move_report(session, rep, "submit")
    f.move_report(session, bb, "approve")
    f.move_report(session, bb, "reopen", "the district sent a correction")
    f.save_report(session, rep, [ValueInput("SERVED", value=99)])
    changes = _changes(session, rep)
    assert changes.sent_back is not None and changes.sent_back.action == "reopen"
    [served] = changes.changes
    assert (served.indicator, served.before["value"], served.after["value"]) == ("SERVED", 120, 99)


def test_a_report_loaded_without_a_trail_has_no_earlier_version(session, world) -> None:
    from sqlalchemy import select

    from models import Indicator, Period

    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    sub = f.submission(session, world["east"], period, "submitted")
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    f.reported_value(session, sub, served, value=42)
    changes = _changes(session, world["backbone"])
    assert changes.previous_at is None and changes.changes == ()


def test_another_partner_may_not_read_the_changes(session, world) -> None:
    f.save_report(session, world["reporter"], FIRST)
    with pytest.raises(NotFound):
        _changes(session, world["other"])
