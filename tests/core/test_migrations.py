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
    added = {"submissions": ["first_submitted_at"]}

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
