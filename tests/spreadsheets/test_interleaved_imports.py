"""Files whose rows of several partners and periods come interleaved: every value lands in
its own report and its report's audit event, whatever the chunk size, whether the reports are
new or some already hold values, and an import that fails at its write leaves nothing.

A plain CSV (no quote) is read a block of lines and a run of one (organisation, period) at a
time, and on SQLite the rows of new reports are written straight from memory, each row's
report found from its group's number: these tests hold those shortcuts to what a row-by-row
import gives.
"""

from __future__ import annotations

import csv
import gc
import io
import random

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    Indicator,
    Initiative,
    Member,
    Organisation,
    Period,
    Submission,
    Value,
)
from models.audit.values import BATCH, batch_changes
from models.core.actors import Actor
from models.core.backup import table_checksums
from models.core.db import make_engine
from models.reporting.submissions import save_values
from models.reporting.validation import ValueInput
from models.spreadsheets import staging
from models.spreadsheets.imports import import_file

from .. import factories as f
from ..conftest import BACKENDS
from .conftest import build_world

ORGS = ("eastside", "westside", "northside")
PERIODS = ("2025Q3", "2025Q4", "2026Q1")
CODES = ("C1", "C2", "C3", "C4")
COLUMNS = ("organisation", "period", "indicator", "disaggregation", "value", "note")


def _world(session, world: dict | None = None) -> None:
    """The spreadsheets world (``world``, or built here) plus a third partner, two more open
    periods and four counts every partner reports."""
    world = world or build_world(session)
    init = world["init"]
    north = f.member(session, init, f.organisation(session, slug="northside"))
    f.open_period(session, init, "2025Q4")
    f.open_period(session, init, "2026Q1")
    for code in CODES:
        count = f.indicator(session, init, "count", code=code, valid_max=1_000_000)
        for member in (world["east"], world["west"], north):
            f.obligation(session, member, count)
    session.commit()


def _value(org: str, period: str, code: str) -> int:
    """A number that says which cell it belongs to."""
    return 10_000 * ORGS.index(org) + 100 * PERIODS.index(period) + CODES.index(code) + 1


def _rows(seed: int, cells=None) -> list[tuple[str, str, str]]:
    cells = cells or [(o, p, c) for o in ORGS for p in PERIODS for c in CODES]
    shuffled = list(cells)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _csv(rows, *, quoted: bool = False, bump: int = 0, noted: bool = True) -> bytes:
    """The file; ``quoted`` quotes every cell (so it is read line by line, not in blocks),
    ``noted``: each row has a note."""
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator="\n", quoting=csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL
    )
    writer.writerow(COLUMNS)
    for org, period, code in rows:
        note = f"{org} {period} {code}" if noted else ""
        writer.writerow([org, period, code, "total", _value(org, period, code) + bump, note])
    return out.getvalue().encode()


def _import(session, content: bytes, *, chunk_rows: int, name: str = "mixed.csv"):
    init_id = session.scalar(select(Initiative.id).where(Initiative.slug == "c2c"))
    actor = Actor(user_id=None, label="test", backbone_of=frozenset({init_id}))
    return import_file(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        stream=io.BytesIO(content),
        filename=name,
        chunk_rows=chunk_rows,
    )


def _stored(session) -> dict[tuple[str, str, str], tuple[float, str | None]]:
    """(organisation, period, indicator) → (value, note), each value read through its report
    (and its own period must be its report's)."""
    session.expire_all()
    rows = session.execute(
        select(Organisation.slug, Period.key, Indicator.code, Value.value, Value.note)
        .select_from(Value)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.period_id == Submission.period_id)
    ).all()
    assert len(rows) == session.scalar(select(func.count()).select_from(Value))
    return {(o, p, c): (v, n) for o, p, c, v, n in rows}


def _trail(session) -> dict[int, set[int]]:
    """Each report's values as its import events name them (report id → value ids), checked
    against where the values are stored."""
    session.expire_all()
    named: dict[int, set[int]] = {}
    for batch in session.scalars(select(AuditEvent).where(AuditEvent.entity_type == BATCH)):
        assert batch.entity_id is not None
        named.setdefault(batch.entity_id, set()).update(c.value_id for c in batch_changes(batch))
    stored: dict[int, set[int]] = {}
    for value_id, submission_id in session.execute(select(Value.id, Value.submission_id)):
        stored.setdefault(submission_id, set()).add(value_id)
    assert named == stored
    return named


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _expected(rows, bump: int = 0, noted: bool = True):
    return {
        (o, p, c): (float(_value(o, p, c) + bump), f"{o} {p} {c}" if noted else None)
        for o, p, c in rows
    }


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 7, 5000])
def test_interleaved_partners_and_periods_land_in_their_own_reports(session, chunk_rows) -> None:
    _world(session)
    rows = _rows(chunk_rows)
    for quoted, noted in ((False, True), (False, False), (True, True)):
        content = _csv(rows, quoted=quoted, noted=noted)
        report = _import(session, content, chunk_rows=chunk_rows)
        assert report.ok, report.errors
        assert report.created == len(rows)
        assert _stored(session) == _expected(rows, noted=noted)
        assert len(_trail(session)) == len(ORGS) * len(PERIODS)
        session.rollback()


@pytest.mark.parametrize("chunk_rows", [3, 5000])
def test_existing_reports_mixed_with_new_ones_and_a_replay(session, chunk_rows) -> None:
    """Some reports already hold some values; the file adds values to them and starts the
    others; the same file again changes nothing."""
    _world(session)
    cells = _rows(1)
    first = [c for c in cells if c[0] != "westside" and c[1] != "2026Q1"][:7]
    assert _import(session, _csv(first), chunk_rows=chunk_rows).ok
    session.commit()
    for _ in range(2):
        report = _import(session, _csv(cells), chunk_rows=chunk_rows)
        assert report.ok, report.errors
        session.commit()
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(cells))
    assert _stored(session) == _expected(cells)
    _trail(session)
    bumped = _import(session, _csv(cells, bump=1), chunk_rows=chunk_rows)
    assert (bumped.created, bumped.updated) == (0, len(cells))
    assert _stored(session) == _expected(cells, bump=1)


def test_an_import_failing_at_its_write_leaves_nothing_and_collects_cycles_again(
    session, monkeypatch
) -> None:
    """Reports are created as plain rows before the values are written: a failure after them
    takes them back with the transaction, and the cycle collector runs again."""
    _world(session)
    assert gc.isenabled()
    before = [_count(session, model) for model in (Submission, Value, AuditEvent)]

    def broken(self, **kwargs):
        raise RuntimeError("the write failed")

    monkeypatch.setattr(staging.Stage, "write", broken)
    with pytest.raises(RuntimeError, match="the write failed"):
        _import(session, _csv(_rows(3)), chunk_rows=5)
    assert gc.isenabled()
    session.rollback()
    assert [_count(session, model) for model in (Submission, Value, AuditEvent)] == before
    monkeypatch.undo()
    report = _import(session, _csv(_rows(3)), chunk_rows=5)
    assert report.ok and report.created == len(ORGS) * len(PERIODS) * len(CODES)
    assert _stored(session) == _expected(_rows(3))


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_partners_save_between_the_check_and_the_write_fails_the_whole_import(
    fresh_database,
) -> None:
    """A partner saves a report the import is about to create, after the import checked its
    groups and before it creates them: the import fails (SQLite: its snapshot is stale;
    PostgreSQL: the report exists) and leaves nothing, the partner's save stands, and the
    same file imported again lands every value in its own report next to the saved one."""
    fresh_database.migrate()
    engine = fresh_database.engine
    with Session(engine) as s:
        _world(s)
        init_id = s.scalar(select(Initiative.id).where(Initiative.slug == "c2c"))
    actor = Actor(user_id=None, label="test", backbone_of=frozenset({init_id}))
    saved = []

    @event.listens_for(engine, "before_cursor_execute")
    def _save_first(conn, cursor, statement, params, context, executemany):
        if saved or not statement.lstrip().upper().startswith("INSERT INTO SUBMISSIONS"):
            return
        saved.append(True)
        with Session(engine) as other:
            save_values(
                session=other,
                actor=actor,
                initiative_slug="c2c",
                org_slug="westside",
                period_key="2025Q4",
                inputs=[ValueInput("C1", value=999, note="saved by hand")],
            )
            other.commit()

    rows = _rows(11)
    content = _csv(rows)
    try:
        with Session(engine) as s, pytest.raises((IntegrityError, OperationalError)):
            import_file(
                session=s,
                actor=actor,
                initiative_slug="c2c",
                stream=io.BytesIO(content),
                filename="late.csv",
                chunk_rows=5,
            )
    finally:
        event.remove(engine, "before_cursor_execute", _save_first)
    assert saved
    with Session(engine) as s:
        assert _stored(s) == {("westside", "2025Q4", "C1"): (999.0, "saved by hand")}
        assert _count(s, Submission) == 1
        assert not s.scalars(select(AuditEvent).where(AuditEvent.entity_type == BATCH)).all()
        report = import_file(
            session=s,
            actor=actor,
            initiative_slug="c2c",
            stream=io.BytesIO(content),
            filename="late.csv",
            chunk_rows=5,
        )
        assert report.ok and (report.created, report.updated) == (len(rows) - 1, 1)
        s.commit()
        assert _stored(s) == _expected(rows)
        _trail(s)


@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
def test_a_full_disk_while_new_reports_values_are_written_fails_the_whole_import(
    fresh_database,
) -> None:
    """SQLite writes the rows of the reports an import creates with the driver's own
    statement, after the reports: the file filling up the disk there is a database error
    (the API's 503) that leaves nothing behind, and the cycle collector runs again."""
    fresh_database.migrate()
    with Session(fresh_database.engine) as s:
        _world(s)
        init_id = s.scalar(select(Initiative.id).where(Initiative.slug == "c2c"))
    before = table_checksums(fresh_database.engine)
    full = make_engine(fresh_database.url)
    filled = []

    @event.listens_for(full, "after_cursor_execute")
    def _fill_up(conn, cursor, statement, params, context, executemany):
        # The largest value id is read right before the new values are written: from there
        # the file may not grow.
        if not filled and 'max("values".id)' in statement.replace(" ", "").replace(",0", ""):
            pages = cursor.connection.execute("PRAGMA page_count").fetchone()[0]
            cursor.connection.execute(f"PRAGMA max_page_count = {pages}")
            filled.append(pages)

    actor = Actor(user_id=None, label="test", backbone_of=frozenset({init_id}))
    rows = _rows(5)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for org, period, code in rows:
        writer.writerow([org, period, code, "total", _value(org, period, code), "n" * 2000])
    try:
        with Session(full) as s, pytest.raises(OperationalError, match="full") as failed:
            import_file(
                session=s,
                actor=actor,
                initiative_slug="c2c",
                stream=io.BytesIO(out.getvalue().encode()),
                filename="full.csv",
            )
        assert filled and gc.isenabled()
        assert str(failed.value.statement).startswith('INSERT INTO "values"')
    finally:
        full.dispose()
    assert table_checksums(fresh_database.engine) == before


def test_each_imported_value_s_history_names_its_importer_and_file(client, session) -> None:
    """A backbone user's file of interleaved reports, all new: each value's history is one
    creation by that user, from that file, with what the file gave for that very cell."""
    world = build_world(session)
    _world(session, world)
    users = f.two_partner_users(session, world, roles=("backbone",))
    session.commit()
    headers = f.bearer_headers(client, users)["backbone"]
    who = client.get("/api/v1/me", headers=headers).json()["label"]
    rows = _rows(17)
    r = client.post(
        "/api/v1/initiatives/c2c/imports",
        files={"file": ("q.csv", _csv(rows), "text/csv")},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(rows)
    session.expire_all()
    cells = session.execute(
        select(Value.id, Value.updated_by_id, Organisation.slug, Period.key, Indicator.code)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
    ).all()
    assert len(cells) == len(rows)
    for value_id, by, org, period, code in cells:
        assert by == users["backbone"].id
        history = client.get(f"/api/v1/initiatives/c2c/values/{value_id}/history", headers=headers)
        assert history.status_code == 200, history.text
        [created] = history.json()
        assert (created["action"], created["actor"], created["reason"]) == (
            "create",
            who,
            "import of q.csv",
        )
        assert (created["after"]["indicator"], created["after"]["value"]) == (
            code,
            _value(org, period, code),
        )
        assert created["after"]["note"] == f"{org} {period} {code}"
