"""The database's revisions (migration 0023): every write to a table that shapes completeness
moves its initiative's counter in the same transaction — through raw SQL, from another engine
(another worker or process), and only that initiative's — and completeness is kept across any
other write, never across one of those (README: Scaling)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

import migrations
from models import (
    DeadlineExtension,
    GapTarget,
    IndicatorTarget,
    SeriesBreak,
    indicator_contributions,
    indicator_dimensions,
)
from models.analytics.views import revisions
from models.audit.trail import record
from models.core.actors import SYSTEM
from models.core.db import make_engine
from models.tables.revisions import DEPLOYMENT, DataRevision

from .. import factories as f
from ..conftest import BACKENDS

# Each watched table, the counter it moves, and how to find one of the world's rows.
SETUP = "setup"
REPORTS = "reports"


def _world(session: Session) -> dict:
    """Two initiatives; in the first one row of every table its setup and reports live in."""
    mine, other = f.initiative(session, slug="mine"), f.initiative(session, slug="other")
    org = f.organisation(session, slug="east", name="East")
    lone = f.organisation(session, slug="lone", name="Lone")  # a member of nothing
    member = f.member(session, mine, org)
    f.member(session, other, f.organisation(session))
    first, second = f.period(session, mine, "2025Q2"), f.period(session, mine, "2025Q3")
    f.period(session, other, "2025Q3")
    outcome = f.outcome(session, mine)
    kids = f.indicator(session, mine, code="KIDS", outcome_id=outcome.id)
    rate = f.indicator(session, mine, "rate", code="RATE")
    race = f.dimension(session, mine, "race", ["a", "b"])
    session.execute(insert(indicator_dimensions).values(indicator_id=rate.id, dimension_id=race.id))
    session.execute(
        insert(indicator_contributions).values(performance_id=rate.id, population_id=kids.id)
    )
    f.obligation(session, member, kids)
    session.add_all(
        [
            IndicatorTarget(indicator_id=kids.id, period_id=second.id, value=10),
            GapTarget(
                indicator_id=rate.id,
                dimension_id=race.id,
                baseline_value=10,
                baseline_period_id=first.id,
                target_value=5,
                target_period_id=second.id,
            ),
            SeriesBreak(indicator_id=kids.id, period_id=second.id, note="new test"),
            DeadlineExtension(
                initiative_id=mine.id,
                member_id=member.id,
                period_id=first.id,
                until=date.today() + timedelta(days=7),
                reason="recount",
            ),
        ]
    )
    f.submission(session, member, second)
    session.flush()
    return {"mine": mine.id, "other": other.id, "lone": lone.id}


# Leaves first: deleting a row takes its children along (cascades), and each table needs a
# row of its own left to change. The organisation changed is one no member names (RESTRICT).
WATCHED = [
    ("deadline_extensions", REPORTS, "initiative_id = :mine"),
    ("submissions", REPORTS, "initiative_id = :mine"),
    ("indicator_targets", SETUP, "1 = 1"),
    ("gap_targets", SETUP, "1 = 1"),
    ("series_breaks", SETUP, "1 = 1"),
    ("indicator_contributions", SETUP, "1 = 1"),
    ("indicator_dimensions", SETUP, "1 = 1"),
    ("obligations", SETUP, "1 = 1"),
    ("categories", SETUP, "1 = 1"),
    ("dimensions", SETUP, "initiative_id = :mine"),
    ("outcomes", SETUP, "initiative_id = :mine"),
    ("indicators", SETUP, "initiative_id = :mine"),
    ("periods", SETUP, "initiative_id = :mine"),
    ("members", SETUP, "initiative_id = :mine"),
    ("organisations", SETUP, "id = :lone"),
]


def _counters(factory: sessionmaker[Session]) -> dict[str, tuple]:
    """Both initiatives' revisions, read by another engine than the writer's."""
    with factory() as s:
        out = {}
        for slug in ("mine", "other"):
            r = revisions(session=s, actor=SYSTEM, initiative_slug=slug)
            out[slug] = (r.setup, r.reports)
        return out


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


def test_every_write_to_a_watched_table_moves_its_initiatives_revision(two_engines) -> None:
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    read = sessionmaker(reader)
    before = _counters(read)
    for table, counter, where in WATCHED:
        with writer.connect() as conn:
            row = conn.execute(text(f"SELECT * FROM {table} WHERE {where} LIMIT 1"), ids).one()
        values = row._asdict()
        column = next(iter(values))  # written as it is: a write that changes nothing counts too
        key = " AND ".join(f"{c} = :{c}" for c in values if values[c] is not None)
        steps = {
            "update": f"UPDATE {table} SET {column} = {column} WHERE {key}",
            "delete": f"DELETE FROM {table} WHERE {key}",
            "insert": f"INSERT INTO {table} ({', '.join(values)}) "
            f"VALUES ({', '.join(':' + c for c in values)})",
        }
        for step, sql in steps.items():
            with writer.begin() as conn:
                conn.execute(text(sql), values)
            after = _counters(read)
            name = f"{step} {table}"
            if table == "organisations":  # deployment-wide: every initiative's setup moves
                for slug in ("mine", "other"):
                    assert after[slug][0][1] > before[slug][0][1], name
                    assert after[slug][0][0] == before[slug][0][0], name
            else:
                moved = 0 if counter == SETUP else 1
                assert after["mine"][moved] > before["mine"][moved], name
                assert after["other"] == before["other"], f"{name}: another initiative's moved"
            before = after
    # Writes to other tables (the audit trail, users) move nothing.
    with Session(writer) as s:
        record(
            session=s,
            actor=SYSTEM,
            initiative_id=ids["mine"],
            entity_type="bench",
            entity_id=None,
            action="x",
        )
        f.user(s)
        s.commit()
    assert _counters(read) == before


def test_a_revision_is_read_with_its_data_in_one_snapshot(two_engines) -> None:
    """A reader that read the revision sees no write made after it, whatever other engines
    commit meanwhile (on SQLite a deferred transaction's snapshot; on the primary of
    PostgreSQL the read session is READ COMMITTED, so its data can only be newer: the answer
    is then kept under the older revision and never served under a newer one)."""
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    with Session(reader) as s:
        first = revisions(session=s, actor=SYSTEM, initiative_slug="mine")
        with writer.begin() as conn:
            conn.execute(
                text("UPDATE periods SET due_on = due_on WHERE initiative_id = :mine"), ids
            )
        again = revisions(session=s, actor=SYSTEM, initiative_slug="mine")
        if reader.dialect.name == "sqlite":
            assert again.setup == first.setup  # one snapshot
        else:
            assert again.setup >= first.setup
    with Session(reader) as s:
        assert revisions(session=s, actor=SYSTEM, initiative_slug="mine").setup > first.setup
    with Session(reader) as s:
        rows = s.query(DataRevision).order_by(DataRevision.scope).all()
        assert [r.scope for r in rows] == [DEPLOYMENT, ids["mine"], ids["other"]]


def _backbone(session: Session, init_slug: str) -> str:
    """A backbone user of the initiative: their e-mail."""
    from models import Initiative

    init = session.query(Initiative).filter_by(slug=init_slug).one()
    return f.user(session, "backbone", init=init, email="backbone@example.org").email


def test_completeness_kept_across_other_writes_and_never_across_a_setup_change(
    two_engines,
) -> None:
    """Through the API of one worker, while another engine writes: an audit event alone keeps
    the answer (304 to its ETag); raw SQL renaming the organisation, moving the due date,
    renaming an indicator code or ending a membership shows in the next answer."""
    from api.app import create_app

    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        email = _backbone(s, "mine")
        s.commit()
    path = "/api/v1/initiatives/mine/completeness?period=2025Q3"
    with TestClient(create_app(sessionmaker(reader, expire_on_commit=False))) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": email, "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = client.get(path, headers=headers)
        assert first.status_code == 200, first.text
        etag = first.headers["ETag"]
        with Session(writer) as s:
            record(
                session=s,
                actor=SYSTEM,
                initiative_id=ids["mine"],
                entity_type="bench",
                entity_id=None,
                action="x",
            )
            s.commit()
        assert client.get(path, headers={**headers, "If-None-Match": etag}).status_code == 304
        changes = [
            ("UPDATE organisations SET name = 'East side' WHERE slug = 'east'", "East side"),
            ("UPDATE indicators SET code = 'CHILDREN' WHERE code = 'KIDS'", "CHILDREN"),
            (
                "UPDATE periods SET due_on = :later, closes_on = :later WHERE key = '2025Q3' AND initiative_id = :mine",
                (date.today() + timedelta(days=400)).isoformat(),
            ),
        ]
        for sql, shown in changes:
            with writer.begin() as conn:
                conn.execute(text(sql), {**ids, "later": date.today() + timedelta(days=400)})
            again = client.get(path, headers={**headers, "If-None-Match": etag})
            assert again.status_code == 200, sql
            assert shown in again.text, sql
            etag = again.headers["ETag"]
        with writer.begin() as conn:
            conn.execute(text("UPDATE members SET active = false WHERE initiative_id = :mine"), ids)
        gone = client.get(path, headers=headers).json()
        assert gone["cells"] == [] and gone["members"] == []


def test_what_a_writing_transaction_reads_is_never_kept(two_engines) -> None:
    """A transaction that changes the setup reads its own change, moves the revision (not yet
    committed) and rolls back; a commit from another engine then moves the revision to the
    same number with other data. Completeness shows that commit's data, not the rolled-back
    one (nothing read by a transaction that has written is kept)."""
    from models.analytics.views import completeness

    writer, reader = two_engines
    with Session(writer) as s:
        _world(s)
        s.commit()

    def names(session: Session) -> dict[str, str]:
        grid = completeness(
            session=session, actor=SYSTEM, initiative_slug="mine", period_key="2025Q3"
        )
        return dict(grid.members)

    with Session(reader) as s:
        assert names(s)["east"] == "East"  # kept under the committed revision
    with Session(reader) as s:
        s.execute(text("UPDATE organisations SET name = 'Rolled back' WHERE slug = 'east'"))
        assert names(s)["east"] == "Rolled back"  # its own write
        s.rollback()
    with Session(reader) as s:
        assert names(s)["east"] == "East"
    with writer.begin() as conn:
        conn.execute(text("UPDATE organisations SET name = 'Committed' WHERE slug = 'east'"))
    with Session(reader) as s:
        assert names(s)["east"] == "Committed"
