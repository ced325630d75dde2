"""Report stamps (migration 0027): every write of a report stamps it, in its transaction, with
the reports revision it makes, and completeness, which keeps a period's reports under that
revision, reads again only the reports stamped since — and never outlives a change made by raw
SQL from another engine (another worker or process), a report deleted or moved away included
(README: Scaling)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models import Value
from models.analytics import views
from models.analytics.views import completeness, revisions
from models.core.actors import SYSTEM
from models.core.db import make_engine

from .. import factories as f
from ..conftest import BACKENDS

PERIOD = "2025Q3"


@pytest.fixture(params=BACKENDS)
def two_engines(request, tmp_path):
    """A migrated database and two engines on it: a writer and a reader, as two workers."""
    from ..conftest import TestDatabase

    db = TestDatabase(request.param, tmp_path)
    migrations.upgrade(db.url)
    writer, reader = db.engine, make_engine(db.url)
    yield writer, reader
    reader.dispose()
    db.drop()


def _world(session: Session) -> dict:
    """Two initiatives; in the first three partners obliged to two indicators, two quarters,
    and reports of the third quarter from two partners, each with one indicator's total."""
    mine, other = f.initiative(session, slug="mine"), f.initiative(session, slug="other")
    members = [
        f.member(session, mine, f.organisation(session, slug=slug, name=slug.title()))
        for slug in ("east", "north", "west")
    ]
    kids, meals = f.indicator(session, mine, code="KIDS"), f.indicator(session, mine, code="MEALS")
    for member in members:
        f.obligation(session, member, kids)
        f.obligation(session, member, meals)
    q2, q3 = f.period(session, mine, "2025Q2"), f.period(session, mine, PERIOD)
    elsewhere = f.member(session, other, f.organisation(session))
    far = f.period(session, other, PERIOD)
    east = f.submission(session, members[0], q3)
    f.reported_value(session, east, kids)
    north = f.submission(session, members[1], q3, status="submitted")
    f.reported_value(session, north, kids)
    f.submission(session, elsewhere, far)
    session.flush()
    return {
        "mine": mine.id,
        "other": other.id,
        "east": east.id,
        "north": north.id,
        "west_member": members[2].id,
        "q2": q2.id,
        "q3": q3.id,
        "meals": meals.id,
    }


def _stamps(engine, initiative_id: int) -> dict[tuple[int, int], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT period_id, submission_id, stamp FROM report_stamps WHERE initiative_id = :i"
            ),
            {"i": initiative_id},
        )
        return {(p, s): stamp for p, s, stamp in rows}


def _reports_revision(engine, slug: str) -> int:
    with Session(engine) as s:
        return revisions(session=s, actor=SYSTEM, initiative_slug=slug).reports


def test_every_write_of_a_report_stamps_it_with_the_revision_it_makes(two_engines) -> None:
    """Raw SQL inserting, updating, moving and deleting a report: its (period, report) row is
    stamped with the initiative's reports counter as that write left it; a report moved or
    deleted keeps its old row, stamped again; another initiative's stamps stay."""
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    theirs = _stamps(reader, ids["other"])
    steps = [
        "UPDATE submissions SET status = 'returned' WHERE id = :east",
        "UPDATE submissions SET version = version + 1 WHERE id = :north",
        "UPDATE submissions SET period_id = :q2 WHERE id = :east",
        "DELETE FROM submissions WHERE id = :north",
    ]
    for sql in steps:
        with writer.begin() as conn:
            conn.execute(text(sql), ids)
        now = _reports_revision(reader, "mine")
        stamps = _stamps(reader, ids["mine"])
        assert max(stamps.values()) == now, sql
        assert _stamps(reader, ids["other"]) == theirs, sql
    stamps = _stamps(reader, ids["mine"])
    moved = _reports_revision(reader, "mine") - 1  # the move, then the delete
    assert stamps[(ids["q3"], ids["east"])] == stamps[(ids["q2"], ids["east"])] == moved
    assert stamps[(ids["q3"], ids["north"])] == moved + 1
    with writer.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO submissions (initiative_id, member_id, period_id, status, version, "
                "is_late, created_at, updated_at) "
                "VALUES (:mine, :west_member, :q3, 'draft', 1, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            ids,
        )
        west = conn.scalar(text("SELECT id FROM submissions WHERE member_id = :west_member"), ids)
    assert _stamps(reader, ids["mine"])[(ids["q3"], west)] == _reports_revision(reader, "mine")


def _cells(session: Session) -> list[tuple]:
    grid = completeness(session=session, actor=SYSTEM, initiative_slug="mine", period_key=PERIOD)
    return [(c.organisation, c.indicator, c.state, c.late, c.reported) for c in grid.cells] + [
        tuple(sorted(grid.counts.items()))
    ]


def _forget() -> None:
    """Nothing kept in this process: the answer as a first request computes it."""
    views._REPORTS._kept.clear()
    views._REPORTED._sets.clear()
    views._GRIDS._grids.clear()
    views._SETUP._setups.clear()
    views._SETUP._last.clear()


def test_completeness_follows_raw_sql_from_another_engine(two_engines) -> None:
    """The reader keeps the quarter's reports; the writer changes them by raw SQL — a state, a
    total with its version, a report deleted, one added, one moved away and back. After each,
    the reader's answer is the one computed with nothing kept, and shows the change."""
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    read = sessionmaker(reader)
    with read() as s:
        first = _cells(s)
    assert ("East", "KIDS") not in {c[:2] for c in first}  # cells are by slug and code
    assert ("east", "KIDS", "draft", True, True) in first

    def meals_total(conn) -> None:
        conn.execute(
            Value.__table__.insert().values(
                submission_id=ids["east"],
                initiative_id=ids["mine"],
                period_id=ids["q3"],
                indicator_id=ids["meals"],
                measure_type="count",
                disaggregation="total",
                value=3,
                flags=[],
            )
        )
        conn.execute(text("UPDATE submissions SET version = version + 1 WHERE id = :east"), ids)

    def sql(statement: str):
        return lambda conn: conn.execute(text(statement), ids)

    steps = [
        (
            sql("UPDATE submissions SET status = 'approved' WHERE id = :north"),
            ("north", "KIDS", "approved", False, True),
        ),
        (meals_total, ("east", "MEALS", "draft", True, True)),
        (
            sql("UPDATE submissions SET period_id = :q2 WHERE id = :east"),
            ("east", "KIDS", "missing", True, False),
        ),
        (
            sql("UPDATE submissions SET period_id = :q3, status = 'returned' WHERE id = :east"),
            ("east", "KIDS", "returned", True, True),
        ),
        (
            sql("DELETE FROM submissions WHERE id = :north"),
            ("north", "KIDS", "missing", True, False),
        ),
        (
            sql(
                "INSERT INTO submissions (initiative_id, member_id, period_id, status, "
                "version, is_late, created_at, updated_at) "
                "VALUES (:mine, :west_member, :q3, 'submitted', 1, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            ("west", "KIDS", "missing", False, False),
        ),
    ]
    before = first
    for n, (change, shown) in enumerate(steps):
        with writer.begin() as conn:
            change(conn)
        with read() as s:
            kept = _cells(s)
        _forget()
        with read() as s:
            assert kept == _cells(s), n
        assert shown in kept and kept != before, n
        with read() as s:  # keep again, for the next step
            _cells(s)
        before = kept


def test_after_a_draft_one_report_is_read_again(two_engines) -> None:
    """A partner's draft saved through the app's write path: the next answer reads that report
    and its totals, by its stamp, and not the quarter's other reports."""
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    read = sessionmaker(reader)
    with read() as s:
        _cells(s)
    with Session(writer) as s:
        s.execute(
            text("UPDATE submissions SET version = version + 1, comment = 'x' WHERE id = :east"),
            ids,
        )
        s.commit()
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(reader, "before_cursor_execute", seen)
    try:
        with read() as s:
            _cells(s)
    finally:
        event.remove(reader, "before_cursor_execute", seen)
    reads = [s for s in statements if "submissions" in s]
    assert len(reads) == 1 and "report_stamps" in reads[0], reads
    assert not [s for s in statements if "values" in s and s not in reads], statements


def test_a_writing_transaction_keeps_no_reports(two_engines) -> None:
    """A transaction that changes a report reads its own change, moves the reports revision
    (not yet committed) and rolls back; a commit from another engine then moves the revision to
    the same number with another change. Completeness shows that commit's, not the rolled-back
    one's."""
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    read = sessionmaker(reader)
    with read() as s:
        _cells(s)
    with read() as s:
        s.execute(text("UPDATE submissions SET status = 'approved' WHERE id = :east"), ids)
        assert ("east", "KIDS", "approved", False, True) in _cells(s)
        s.rollback()
    with writer.begin() as conn:
        conn.execute(text("UPDATE submissions SET status = 'returned' WHERE id = :east"), ids)
    with read() as s:
        assert ("east", "KIDS", "returned", True, True) in _cells(s)
