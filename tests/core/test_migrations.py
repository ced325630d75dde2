"""Migrations build the schema the models describe, and can be undone and redone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import migrations
import models

from ..conftest import BACKENDS


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_upgrade_downgrade_upgrade(fresh_database) -> None:
    url = fresh_database.url
    migrations.upgrade(url)
    tables = set(inspect(fresh_database.engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    migrations.downgrade(url, "base")
    assert set(inspect(fresh_database.engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(url)
    assert set(models.Base.metadata.tables) <= set(inspect(fresh_database.engine).get_table_names())
    with fresh_database.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head_revision()


def test_models_and_migrations_agree(database) -> None:
    """Alembic's autogenerate finds nothing to add: the migrations are complete."""
    with database.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata
        )
    assert diff == []


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_migrations_keep_every_value_of_a_populated_database(fresh_database) -> None:
    """From the first migration to head and back, the demo's reported data stays intact."""
    from sqlalchemy.orm import Session

    from models.core.backup import table_checksums
    from models.demo.builder import load_demo
    from models.tables.rollups import RollupRow

    url = fresh_database.url
    migrations.upgrade(url)
    with Session(fresh_database.engine) as s:
        load_demo(session=s)
        s.commit()
    kept = (
        "values",
        "submissions",
        "organisations",
        "initiatives",
        "indicators",
        "periods",
        "members",
        "users",
        "audit_events",
    )

    # Columns later revisions add to these tables: the first schema has no place for what they
    # hold, so the round trip keeps everything else.
    added = {
        "submissions": ["first_submitted_at"],
        "indicators": ["kind", "performance_type", "expression"],
        "users": ["locale"],
    }

    def snapshot(leave_out=None):
        sums = table_checksums(fresh_database.engine, leave_out=leave_out)
        return {t: sums[t] for t in kept}

    before = snapshot(added)
    with Session(fresh_database.engine) as s:
        rollups_before = s.query(RollupRow).count()
    migrations.downgrade(url, "0001")  # the first schema
    assert snapshot() == before
    migrations.upgrade(url)
    assert snapshot(added) == before
    with Session(fresh_database.engine) as s:  # the rollup migration refilled the table
        assert s.query(RollupRow).count() == rollups_before > 0


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_organisation_wide_reporter_grants_become_one_per_membership(fresh_database) -> None:
    """0005: a reporter grant that named only an organisation keeps exactly the rights it had
    in practice (one grant per initiative the organisation is a member of); and back."""
    from sqlalchemy import text

    url = fresh_database.url
    migrations.upgrade(url, "0004")
    with fresh_database.engine.begin() as conn:
        for i, slug in ((1, "alpha"), (2, "beta")):
            conn.execute(
                text("INSERT INTO initiatives (id, slug, name) VALUES (:i, :s, :s)"),
                {"i": i, "s": slug},
            )
        for i, slug in ((1, "both"), (2, "nowhere")):
            conn.execute(
                text(
                    "INSERT INTO organisations (id, slug, name, sector)"
                    " VALUES (:i, :s, :s, 'nonprofit')"
                ),
                {"i": i, "s": slug},
            )
        conn.execute(
            text("INSERT INTO members (initiative_id, organisation_id) VALUES (1, 1), (2, 1)")
        )
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash) VALUES"
                " (1, 'a@x.test', 'x'), (2, 'b@x.test', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO role_grants (user_id, role, organisation_id)"
                " VALUES (1, 'reporter', 1), (2, 'reporter', 2)"
            )
        )

    def grants() -> set[tuple]:
        with fresh_database.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, initiative_id, organisation_id FROM role_grants")
            )
            return set(map(tuple, rows))

    migrations.upgrade(url)
    assert grants() == {(1, 1, 1), (1, 2, 1)}  # the member-of-nothing grant reached nothing
    migrations.downgrade(url, "0004")
    assert grants() == {(1, None, 1)}


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_import_trails_become_one_event_per_import_and_report_and_back(fresh_database) -> None:
    """0012: an import's value events become one event per import and report, and back; the
    trail answers the same at every step (each value's history, each report's changes since
    its previous version), and stays append-only."""
    from sqlalchemy import select, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from models.audit.values import BATCH, batch_changes
    from models.tables.audit import AuditEvent

    from ..spreadsheets.trail import answers, tell

    url, engine = fresh_database.url, fresh_database.engine

    def trail() -> list[AuditEvent]:
        with Session(engine) as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))

    def changes(events: list[AuditEvent]) -> list[tuple]:
        """Every value change, each import's as separate changes (in no particular order)."""
        out = []
        for e in events:
            if e.entity_type == BATCH:
                out += [
                    (c.value_id, c.action, c.before, c.after, c.reason) for c in batch_changes(e)
                ]
            elif e.entity_type == "value":
                out.append((e.entity_id, e.action, e.before, e.after, e.reason))
        return sorted(out, key=repr)

    def append_only() -> None:
        with pytest.raises(SQLAlchemyError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET reason = 'rewritten'"))

    migrations.upgrade(url)
    with Session(engine) as s:
        backbone = tell(s)["backbone"]
        told = answers(s, backbone)
    compact = trail()
    assert [e.reason for e in compact if e.entity_type == BATCH] == [
        "import of first.csv",
        "import of first.csv",
        "import of second.csv",
        "import of third.csv",
    ]

    migrations.downgrade(url, "0011_outbox")
    per_value = trail()
    assert not [e for e in per_value if e.entity_type == BATCH]
    imported = [e for e in per_value if e.entity_type == "value" and e.reason.startswith("import")]
    assert len(imported) == 9  # 5 + 1 + 2 + 1 values
    assert changes(per_value) == changes(compact)
    # What is not an import's is untouched, in the same order.
    others = [
        (e.entity_type, e.entity_id, e.action, e.at) for e in compact if e.entity_type != BATCH
    ]
    assert [
        (e.entity_type, e.entity_id, e.action, e.at) for e in per_value if e not in imported
    ] == others
    append_only()

    # The application reads the schema it was written for (its kept setup reads the data
    # revisions of 0023): its answers are compared once the trail is back at the head.
    migrations.upgrade(url)
    with Session(engine) as s:
        assert answers(s, backbone) == told
    again = trail()
    # The removed value's import events stay as they were: its report is not known any more.
    assert [(e.entity_type, e.action, e.reason) for e in again if e.entity_type == "value"] == [
        ("value", "create", "import of first.csv"),
        ("value", "update", "import of second.csv"),
        ("value", "update", "a typo"),
        ("value", "delete", "a typo"),
    ]
    assert len([e for e in again if e.entity_type == BATCH]) == 4
    assert changes(again) == changes(compact)
    append_only()
    with Session(engine) as s:
        assert answers(s, backbone) == told

    migrations.downgrade(url, "0011_outbox")
    assert changes(trail()) == changes(per_value)
    migrations.upgrade(url)
    with Session(engine) as s:
        assert answers(s, backbone) == told


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_escalations_migration_keeps_the_outbox_references_and_undoes_its_kinds(
    fresh_database,
) -> None:
    """0013 widens the outbox's kinds (a rebuilt table on SQLite): digests keep the messages
    they bundle and mail its message; downgrade removes the new kinds' messages only."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from models.core.db import session_scope
    from models.notifications.digests import bundle_digests
    from models.notifications.email import MailboxSender
    from models.notifications.worker import DeliveryWorker
    from models.outbox.messages import enqueue
    from models.outbox.preferences import daily
    from models.tables.notifications import NotificationPreference

    from ..notifications import world as w

    url, engine = fresh_database.url, fresh_database.engine
    migrations.upgrade(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    with session_scope(factory) as session:
        world = w.build(session)
        session.add(
            NotificationPreference(user_id=world["east1"].id, kind="reminder", mode="daily")
        )
        session.flush()
        assert daily(session=session, user_ids=[world["east1"].id], kind="reminder")
        payload = {"initiative": "c2c", "organisation": "eastside", "period": "2025Q3"}
        for kind, who in (("reminder", "east1"), ("escalation", "backbone")):
            enqueue(
                session=session,
                kind=kind,
                event=f"test:{kind}",
                recipients=[world[who]],
                payload={
                    **payload,
                    "organisation_name": "E",
                    "initiative_name": "C",
                    "due_on": "2027-01-30",
                    "offset": 1,
                    "days_overdue": 9,
                    "extended": False,
                },
            )
    with session_scope(factory) as session:
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        assert bundle_digests(session=session, now=tomorrow) == 1
    DeliveryWorker(factory, MailboxSender()).run_once(
        datetime.now(UTC) + timedelta(days=1), reminders=False
    )

    def links() -> tuple[list, list, list]:
        with engine.connect() as conn:
            bundled = conn.execute(
                text("SELECT id, bundled_into FROM outbox_messages WHERE bundled_into IS NOT NULL")
            ).all()
            mailed = conn.execute(
                text(
                    "SELECT outbox_id FROM mailbox_messages WHERE outbox_id IS NOT NULL"
                    " ORDER BY outbox_id"
                )
            ).all()
            kinds = conn.execute(text("SELECT kind FROM outbox_messages ORDER BY id")).all()
        return [tuple(r) for r in bundled], [r[0] for r in mailed], [r[0] for r in kinds]

    bundled, mailed, kinds = links()
    assert kinds == ["reminder", "escalation", "digest"]
    assert len(bundled) == 1 and len(mailed) == 2  # the escalation and the digest were mailed
    migrations.downgrade(url, "0012_import_trails")
    # The escalation is gone (its mail stays in the mailbox, no longer tied to a message).
    assert links() == (bundled, [m for m in mailed if m != 2], ["reminder", "digest"])
    with engine.begin() as conn:
        try:
            conn.execute(
                text(
                    "INSERT INTO outbox_messages (idempotency_key, kind, channel,"
                    " recipient_user_id, address, payload, status, attempts, available_at)"
                    " VALUES ('k', 'escalation', 'email', 1, 'a', '{}', 'pending', 0,"
                    " CURRENT_TIMESTAMP)"
                )
            )
            raise AssertionError("the older schema knows no escalations")
        except Exception as exc:  # noqa: BLE001 - either database's CHECK violation
            assert "check" in str(exc).lower() or "constraint" in str(exc).lower()
    migrations.upgrade(url)
    assert links() == (bundled, [m for m in mailed if m != 2], ["reminder", "digest"])


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_webhooks_go_on_downgrade_and_mail_stays(fresh_database) -> None:
    """0014 down: the webhook messages have no place in the older outbox and go, with the
    endpoints and their log; mail stays as it was; up again, the outbox takes webhooks."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models import OutboxMessage
    from models.core.actors import SYSTEM
    from models.outbox.messages import enqueue
    from models.outbox.webhooks import announce
    from models.webhooks.endpoints import create_endpoint

    from ..notifications import world as w

    url, engine = fresh_database.url, fresh_database.engine
    migrations.upgrade(url)
    with Session(engine) as s:
        world = w.build(s)
        initiative_id = world["init"].id
        create_endpoint(session=s, actor=SYSTEM, initiative_slug="c2c", url="https://h.test/x")
        data = {"initiative": "c2c", "period": "2025Q3"}
        assert announce(
            session=s,
            kind="period_published",
            event="e",
            initiative_id=initiative_id,
            data=data,
        )
        enqueue(session=s, kind="reminder", event="r", recipients=[world["east1"]], payload=data)
        s.commit()

    def channels() -> list[str]:
        with Session(engine) as s:
            return sorted(s.scalars(select(OutboxMessage.channel)))

    assert channels() == ["email", "webhook"]
    migrations.downgrade(url, "0013_escalations")
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"webhook_endpoints", "webhook_deliveries"}
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT channel FROM outbox_messages").scalars().all() == [
            "email"
        ]
    migrations.upgrade(url)
    assert channels() == ["email"]
    with Session(engine) as s:
        create_endpoint(session=s, actor=SYSTEM, initiative_slug="c2c", url="https://h.test/y")
        announce(
            session=s, kind="period_published", event="e", initiative_id=initiative_id, data=data
        )
        s.commit()
    assert channels() == ["email", "webhook"]


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_measure_kinds_default_to_population_and_go_on_downgrade(fresh_database) -> None:
    """0017: every existing indicator becomes a population indicator; the CHECKs hold on both
    databases (added without rebuilding ``indicators`` on SQLite, which would cascade-delete
    what hangs from it); downgrade drops the links and the columns and keeps the indicators."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    url, engine = fresh_database.url, fresh_database.engine
    migrations.upgrade(url, "0016_bounces")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO initiatives (id, slug, name) VALUES (1, 'a', 'A')"))
        conn.execute(
            text(
                "INSERT INTO indicators (id, initiative_id, code, name, unit, measure_type,"
                " direction, decimals, frequency, position)"
                " VALUES (:i, 1, :c, :c, 'people', 'count', 'higher', 0, 'quarterly', :i)"
            ),
            [{"i": 1, "c": "READING"}, {"i": 2, "c": "TUTORING"}],
        )
    migrations.upgrade(url)

    def kinds() -> list[tuple]:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT code, kind, performance_type FROM indicators ORDER BY id")
            )
            return [tuple(r) for r in rows]

    assert kinds() == [("READING", "population", None), ("TUTORING", "population", None)]
    for bad in (
        "UPDATE indicators SET kind = 'performance' WHERE id = 2",  # no type
        "UPDATE indicators SET performance_type = 'how_much' WHERE id = 1",  # population
        "UPDATE indicators SET kind = 'other' WHERE id = 1",
        "INSERT INTO indicator_contributions VALUES (1, 1)",  # itself
    ):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(bad))
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE indicators SET kind = 'performance', performance_type = 'how_much'"
                " WHERE id = 2"
            )
        )
        conn.execute(text("INSERT INTO indicator_contributions VALUES (2, 1)"))
    migrations.downgrade(url, "0016_bounces")
    assert "indicator_contributions" not in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("indicators")}
    assert not columns & {"kind", "performance_type"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM indicators ORDER BY id")).scalars().all() == [
            "READING",
            "TUTORING",
        ]
    migrations.upgrade(url)
    assert kinds() == [("READING", "population", None), ("TUTORING", "population", None)]
