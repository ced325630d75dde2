"""Backup and restore round-trip a database holding the demo data, table by table."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from models import Organisation, Value
from models.core.backup import BackupError, backup, restore, table_checksums
from models.demo.builder import load_demo

from ..conftest import BACKENDS

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)


def test_backup_then_restore_gives_back_every_row(fresh_database, tmp_path) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as s:
        load_demo(session=s)
        s.commit()
    before = table_checksums(fresh_database.engine)
    assert before["values"][0] > 1000

    file = backup(fresh_database.url, tmp_path / "cm.backup")
    assert file.stat().st_size > 0

    with Session(fresh_database.engine) as s:  # damage: lose values, add junk
        s.execute(delete(Value).where(Value.id % 3 == 0))
        s.add(Organisation(slug="junk", name="Junk", sector="other"))
        s.commit()
    assert table_checksums(fresh_database.engine) != before

    fresh_database.engine.dispose()
    restore(fresh_database.url, file)
    fresh_database.engine.dispose()
    assert table_checksums(fresh_database.engine) == before


def test_restore_refuses_a_missing_or_broken_file(fresh_database, tmp_path) -> None:
    fresh_database.migrate()
    with pytest.raises(BackupError, match="no backup file"):
        restore(fresh_database.url, tmp_path / "nope.backup")
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup")
    with pytest.raises(BackupError):
        restore(fresh_database.url, junk)
    with fresh_database.engine.connect() as conn:  # the database is untouched
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
