"""What the figure views keep under the database's figure revisions (migration 0027,
``models.analytics.fresh``): each period's figures under its own counter, whole answers under
every period's. A change made by another engine through raw SQL — to rollup rows, a
publication, the initiative's threshold — shows in the next answer; an audit event moves
nothing; an approval moves its quarter only; a writing transaction keeps nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models.analytics.fresh import BY_PERIOD, answer_key, figure_revisions
from models.analytics.views import scorecard
from models.audit.trail import record
from models.core.actors import SYSTEM, Actor
from models.publishing.publish import publish
from models.reporting.validation import ValueInput

from .. import factories as f
from .test_revisions import _world, two_engines  # noqa: F401 (a fixture)


def _kids(session: Session, actor: Actor, period: str = "2025Q3"):
    card = scorecard(session=session, actor=actor, initiative_slug="mine", period_key=period)
    return next(row for row in card.rows if row.code == "KIDS")


def _setup(writer) -> dict:
    """The world of ``test_revisions`` with East's reports of 2025Q2 (3 children) and 2025Q3
    (5) approved through the workflow."""
    with Session(writer) as s:
        ids = _world(s)
        for period, value in (("2025Q2", 3), ("2025Q3", 5)):
            f.approved_report(s, "mine", "east", period, [ValueInput("KIDS", value=value)])
        s.commit()
    return ids


def _periods(engine, ids: dict) -> dict[str, int]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT key, id FROM periods WHERE initiative_id = :mine"), ids)
        return dict(found.tuples().all())


def test_a_rollup_change_by_another_engine_shows_and_moves_its_period_only(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        kids = _kids(s, actor)
        assert kids.current.value == 5
        assert kids.sparkline == [("2025Q2", 3), ("2025Q3", 5)]
        before = dict(figure_revisions(s, ids["mine"]) or {})
    with Session(reader) as s:  # asked again: kept, the same
        assert _kids(s, actor).current.value == 5
    with writer.begin() as conn:
        conn.execute(text("UPDATE rollups SET sum_value = 7 WHERE sum_value = 5"))
    with Session(reader) as s:
        kids = _kids(s, actor)
        assert (kids.current.value, kids.sparkline) == (7, [("2025Q2", 3), ("2025Q3", 7)])
        after = figure_revisions(s, ids["mine"]) or {}
    periods = _periods(writer, ids)
    assert after[periods["2025Q3"]] > before[periods["2025Q3"]]
    assert after[periods["2025Q2"]] == before[periods["2025Q2"]]
    with writer.begin() as conn:
        conn.execute(text("DELETE FROM rollups WHERE sum_value = 3"))
    with Session(reader) as s:
        assert _kids(s, actor).sparkline == [("2025Q2", None), ("2025Q3", 7)]


def test_an_audit_event_moves_no_figure_revision(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    with Session(reader) as s:
        before = answer_key(s, "mine")
    with Session(writer) as s:
        record(
            session=s,
            actor=SYSTEM,
            initiative_id=ids["mine"],
            entity_type="bench",
            entity_id=None,
            action="touch",
        )
        s.commit()
    with Session(reader) as s:
        assert answer_key(s, "mine") == before is not None


def test_the_threshold_and_a_publication_changed_through_raw_sql_move_the_key(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    backbone = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    funder = Actor(label="f", funder_of=frozenset({ids["mine"]}))
    keys = []

    def key() -> tuple:
        with Session(reader) as s:
            keys.append(answer_key(s, "mine"))
            return keys[-1]

    key()
    with writer.begin() as conn:
        conn.execute(text("UPDATE initiatives SET suppression_threshold = 7"))
    assert key() != keys[0]
    with Session(reader) as s:
        assert _kids(s, funder).current.reason is not None  # not published yet
    with Session(writer) as s:
        publish(
            session=s,
            actor=backbone,
            initiative_slug="mine",
            period_key="2025Q3",
            confirm_incomplete=True,
            notify=False,
        )
        s.commit()
    assert key() != keys[1]
    with Session(reader) as s:
        shown = _kids(s, funder).current
    with writer.begin() as conn:
        conn.execute(text("DELETE FROM publications"))
    assert key() != keys[2]
    with Session(reader) as s:
        assert _kids(s, funder).current != shown


def test_what_a_writing_transaction_reads_is_never_kept(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    BY_PERIOD.clear()
    with Session(reader) as s:
        s.execute(text("UPDATE rollups SET sum_value = 99 WHERE sum_value = 5"))
        assert answer_key(s, "mine") is None
        assert _kids(s, actor).current.value == 99  # its own write, not kept
        s.rollback()
    with Session(reader) as s:
        assert _kids(s, actor).current.value == 5
    with Session(reader) as s:
        s.execute(text("UPDATE rollups SET sum_value = 98 WHERE sum_value = 5"))
        _kids(s, actor)
        s.rollback()
    with writer.begin() as conn:  # the counter reaches what the rolled-back write reached
        conn.execute(text("UPDATE rollups SET sum_value = 6 WHERE sum_value = 5"))
    with Session(reader) as s:
        assert _kids(s, actor).current.value == 6


def test_the_api_keeps_an_answer_across_an_audit_event_and_not_across_a_change(
    two_engines,  # noqa: F811
) -> None:
    from api.app import create_app

    writer, reader = two_engines
    ids = _setup(writer)
    with Session(writer) as s:
        f.user(s, "admin", email="staff@mine.org")
        s.commit()
    app = create_app(sessionmaker(reader, expire_on_commit=False), with_dashboard=False)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "staff@mine.org", "password": f.PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        path = "/api/v1/initiatives/mine/scorecard?period=2025Q3"

        def kids() -> dict:
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, answer.text
            return next(r for r in answer.json()["rows"] if r["code"] == "KIDS")

        def touch() -> None:
            with Session(writer) as s:
                record(
                    session=s,
                    actor=SYSTEM,
                    initiative_id=ids["mine"],
                    entity_type="bench",
                    entity_id=None,
                    action="touch",
                )
                s.commit()

        first = kids()
        assert first["current"]["value"] == 5
        kept = app.state.figures_cache
        touch()
        hits = kept.hits
        assert kids() == first
        assert kept.hits == hits + 1  # computed nothing again
        # Raw SQL moves no audit event: one follows, as the app's writes leave one.
        with writer.begin() as conn:
            conn.execute(text("UPDATE rollups SET sum_value = 8 WHERE sum_value = 5"))
        touch()
        assert kids()["current"]["value"] == 8
        with writer.begin() as conn:
            conn.execute(text("UPDATE initiatives SET suppression_threshold = 9"))
        touch()
        answer = client.get(path, headers=headers).json()
        assert answer["threshold"] == 9


def test_every_write_to_a_watched_table_moves_its_periods_counter_only(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    ids = _setup(writer)
    periods = _periods(writer, ids)
    q3 = {"mine": ids["mine"], "period": periods["2025Q3"]}
    with Session(writer) as s:
        publish(
            session=s,
            actor=Actor(label="t", backbone_of=frozenset({ids["mine"]})),
            initiative_slug="mine",
            period_key="2025Q3",
            confirm_incomplete=True,
            notify=False,
        )
        s.commit()

    def counters() -> dict[int, int]:
        with Session(reader) as s:
            return dict(figure_revisions(s, ids["mine"]) or {})

    def other() -> dict[int, int]:
        with Session(reader) as s:
            return dict(figure_revisions(s, ids["other"]) or {})

    untouched = other()
    before = counters()
    with writer.connect() as conn:
        found = conn.execute(text("SELECT * FROM publications LIMIT 1"))
        columns = [c for c in found.keys() if c != "id"]  # noqa: SIM118 (a result, not a dict)
    listed = ", ".join(columns)
    steps = []
    for table in ("rollups", "partner_totals"):
        with writer.connect() as conn:
            row = conn.execute(
                text(f"SELECT * FROM {table} WHERE period_id = :period LIMIT 1"), q3
            ).one()
        values = row._asdict()
        key = "initiative_id = :initiative_id AND indicator_id = :indicator_id AND "
        key += "period_id = :period_id"
        key += " AND disaggregation = :disaggregation" if table == "rollups" else ""
        steps += [
            (f"UPDATE {table} SET measure_type = measure_type WHERE {key}", values),
            (f"DELETE FROM {table} WHERE {key}", values),
            (
                f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + c for c in values)})",
                values,
            ),
        ]
    steps += [
        (
            f"INSERT INTO publications ({listed}) SELECT {listed} FROM publications WHERE period_id = :period",
            q3,
        ),
        ("UPDATE publications SET note = note WHERE period_id = :period", q3),
        ("DELETE FROM publications WHERE period_id = :period", q3),
    ]
    for sql, params in steps:
        with writer.begin() as conn:
            conn.execute(text(sql), params)
        after = counters()
        assert after[periods["2025Q3"]] > before[periods["2025Q3"]], sql
        assert after[periods["2025Q2"]] == before[periods["2025Q2"]], sql
        before = after
    assert other() == untouched
