"""An import into reports it creates: each value in its own report whatever way the write
finds it, notes kept or absent, the reports made with their events, and the cycle collector
as the import found it.

On SQLite such an import keeps its rows in memory and writes them with one statement
(``models.spreadsheets.staging.Stage``): each row's report is its group's number plus one
offset when the reports created have ids at one offset from their groups' numbers, and is
found by member and period otherwise. Both must put every value in its own report.
"""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import select

from models import AuditEvent, Member, Organisation, Submission, Value
from models.spreadsheets import imports
from models.spreadsheets.staging import Stage

from .conftest import build_world
from .test_imports import _import_direct
from .trail import FIRST, csv_of


def _placed(session) -> list[tuple[str, str, str, float, str | None]]:
    """(organisation, indicator id as text, disaggregation, value, note) of every value, by
    the organisation of the report it is in."""
    session.expire_all()
    return sorted(
        (slug, str(indicator), disaggregation, value, note)
        for slug, indicator, disaggregation, value, note in session.execute(
            select(
                Organisation.slug,
                Value.indicator_id,
                Value.disaggregation,
                Value.value,
                Value.note,
            )
            .join(Submission, Submission.id == Value.submission_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
        )
    )


def _with_reports(monkeypatch, change) -> None:
    """Stage.write given ``change(submissions)`` for the reports by group number."""
    write = Stage.write

    def changed(self, **kwargs):
        kwargs["submissions"] = change(kwargs.get("submissions") or {})
        return write(self, **kwargs)

    monkeypatch.setattr(Stage, "write", changed)


def _swapped(submissions: dict[int, int]) -> dict[int, int]:
    """The first two groups' reports swapped: no longer at one offset from their numbers."""
    first, second = sorted(submissions)[:2]
    return {**submissions, first: submissions[second], second: submissions[first]}


@pytest.mark.parametrize(
    "change",
    [
        lambda submissions: submissions,  # as the import gives them
        lambda submissions: {},  # none known
        _swapped,  # known, but not at one offset
        lambda submissions: dict(list(submissions.items())[1:]),  # one group's missing
    ],
    ids=["given", "none", "swapped", "one-missing"],
)
def test_every_value_is_written_into_its_own_report(session, monkeypatch, change) -> None:
    build_world(session)
    session.commit()
    _with_reports(monkeypatch, change)
    report = _import_direct(session, FIRST, chunk_rows=1000)
    assert report.ok and report.created == 6, report.as_dict()["errors"]
    placed = _placed(session)
    assert [(slug, d, value, note) for slug, _, d, value, note in placed] == sorted(
        [
            ("eastside", "race=black", 40.0, None),
            ("eastside", "race=white", 62.5, None),
            ("eastside", "total", 50.0, None),
            ("eastside", "total", 120.0, "first count"),
            ("eastside", "total", 231.5, None),
            ("westside", "total", 80.0, None),
        ]
    )


def test_a_file_without_notes_stores_none(session) -> None:
    build_world(session)
    session.commit()
    body = csv_of(
        ("eastside", "2025Q3", "SERVED", "total", 12, None, None, None),
        ("westside", "2025Q3", "SERVED", "total", 8, None, None, None),
    )
    report = _import_direct(session, body, chunk_rows=1000)
    assert report.ok and report.created == 2
    assert [(slug, value, note) for slug, _, _, value, note in _placed(session)] == [
        ("eastside", 12.0, None),
        ("westside", 8.0, None),
    ]


def test_the_reports_created_are_drafts_each_with_its_event(session) -> None:
    build_world(session)
    session.commit()
    report = _import_direct(session, FIRST, chunk_rows=1000)
    assert report.ok
    assert [(s.status, s.version) for s in report.submissions] == [("draft", 1), ("draft", 1)]
    created = session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(s.status, s.version, s.is_late) for s in created] == [("draft", 1, False)] * 2
    assert all(s.created_at is not None and s.updated_at is not None for s in created)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "submission", AuditEvent.action == "create")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_id, e.before, e.after) for e in events] == [
        (s.id, None, {"status": "draft", "version": 1}) for s in created
    ]
    session.expire_all()  # what the session holds is what the database holds
    again = session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(s.id, s.member_id, s.period_id, s.status) for s in again] == [
        (s.id, s.member_id, s.period_id, "draft") for s in created
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_paused_during_an_import_and_left_as_it_was(
    session, monkeypatch, enabled
) -> None:
    build_world(session)
    session.commit()
    seen = []
    check_rows = imports.check_rows

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return check_rows(*args, **kwargs)

    monkeypatch.setattr(imports, "check_rows", watched)
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        assert _import_direct(session, FIRST, chunk_rows=1000).ok
        assert seen and not any(seen)
        assert gc.isenabled() is enabled

        def failing(self, **kwargs):
            raise RuntimeError("the write failed")

        monkeypatch.setattr(Stage, "write", failing)
        session.rollback()
        with pytest.raises(RuntimeError):
            _import_direct(session, FIRST, chunk_rows=1000)
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
