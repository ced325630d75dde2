"""The reporting page's kept reports (models.reporting.flagged): under the same revisions nothing
is read again, after a report's write only that report is, after an earlier period's report or
a setup change the whole period is, and every answer is the one a fresh read gives."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from models.access.permissions import actor_for_user
from models.reporting import flagged
from models.reporting.progress import reporting_progress
from models.reporting.validation import ValueInput
from models.tables.indicator import Indicator

from .. import factories as f


@pytest.fixture
def reads(monkeypatch) -> list:
    """The ``submission_ids`` of each read of the period's reports (None: all of them)."""
    read: list = []
    real = flagged.period_submissions

    def spy(**kw):
        read.append(kw.get("submission_ids"))
        return real(**kw)

    monkeypatch.setattr(flagged, "period_submissions", spy)
    flagged.KEPT.clear()
    yield read
    flagged.KEPT.clear()


def _progress(session, actor):
    return reporting_progress(
        session=session, actor=actor, initiative_slug="c2c", period_key="2025Q3"
    )


def _fresh(session, actor):
    """The answer with nothing kept (and what it read kept again, as any request's)."""
    flagged.KEPT.clear()
    return _progress(session, actor)


def _flags(progress) -> list:
    return sorted(
        (r["organisation"], r["indicator"], r["disaggregation"], r["flags"])
        for r in progress.flagged
    )


def test_kept_reports_follow_each_write_and_read_only_what_changed(session, world, reads):
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    other = actor_for_user(session=session, user=world["users"]["other"])
    f.save_report(session, other, [ValueInput("SERVED", value=1000)], org="westside")
    session.commit()

    first = _progress(session, backbone)
    assert reads == [None]  # the whole period, once
    assert _progress(session, backbone) == first
    assert reads == [None]  # the same revisions: nothing read again

    # Another partner's draft with values that do not add up: only its report is read again.
    f.save_report(
        session,
        reporter,
        [
            ValueInput("K_READY", numerator=45, denominator=90),
            ValueInput("K_READY", "race=black", numerator=20, denominator=50),
            ValueInput("K_READY", "race=white", numerator=20, denominator=40),
        ],
    )
    session.commit()
    reads.clear()
    after_draft = _progress(session, backbone)
    assert len(reads) == 1 and reads[0] is not None and len(reads[0]) == 1
    assert ("eastside", "K_READY", "total", ["sum_mismatch"]) in _flags(after_draft)
    assert after_draft == _fresh(session, backbone)

    # An earlier period approved since: the partner's history changed, so its jump is a
    # warning now, and the whole period is read again.
    assert not any(flags == ["jump"] for *_, flags in _flags(after_draft))
    f.approved_report(session, "c2c", "westside", "2025Q2", [ValueInput("SERVED", value=100)])
    session.commit()
    reads.clear()
    after_history = _progress(session, backbone)
    assert reads == [None]
    assert ("westside", "SERVED", "total", ["jump"]) in _flags(after_history)
    assert after_history == _fresh(session, backbone)


def test_a_setup_change_reads_the_whole_period_again(session, world, reads):
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    f.save_report(session, reporter, [ValueInput("SERVED", value=1000)])
    session.commit()
    before = _progress(session, backbone)
    # Any write to the setup, however it is made, moves the setup revision (a trigger).
    session.execute(update(Indicator).where(Indicator.code == "SERVED").values(name="Served!"))
    session.commit()
    reads.clear()
    after = _progress(session, backbone)
    assert reads == [None]
    assert after.flagged == before.flagged and after.submissions == before.submissions
    assert after == _fresh(session, backbone)


def test_a_writing_transaction_neither_keeps_nor_takes(session, world, reads):
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    f.save_report(session, reporter, [ValueInput("SERVED", value=1000)])
    _progress(session, backbone)  # in the transaction that wrote: read, not kept
    assert flagged.KEPT.get is not None and not flagged.KEPT._periods
    session.commit()
    _progress(session, backbone)
    assert flagged.KEPT._periods  # kept once committed
