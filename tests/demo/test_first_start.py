"""`make run` shows a current demo: `cm demo --first-start` loads the demo into an empty
database and rebuilds one built in an earlier quarter, but only when nothing but the demo is
there; with a real initiative beside it, it changes nothing and says how to refresh."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app
from models import Initiative, Organisation, User
from models.core.db import get_engine, get_sessionmaker
from models.core.settings import get_settings
from models.demo.builder import demo_on_first_start, demo_quarter, remove_demo

from ..conftest import BACKENDS
from .test_demo import table_counts


def test_first_start_loads_keeps_and_rebuilds_only_a_lone_demo(database) -> None:
    with database.engine.connect() as conn:
        outer = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            # An account of the deployment's own, made before the demo: never removed.
            s.add(User(email="jo@example.org", password_hash="x"))
            s.flush()

            started = demo_on_first_start(session=s, today=date(2026, 11, 30))
            assert (started.action, started.today, started.found) == ("loaded", "2026Q4", None)
            assert started.summary is not None and started.summary.period == "2026Q4"

            # Later in the same quarter: the demo is current, nothing changes.
            before = table_counts(s)
            started = demo_on_first_start(session=s, today=date(2026, 12, 31))
            assert (started.action, started.found, started.summary) == ("current", "2026Q4", None)
            assert table_counts(s) == before

            # The next quarter: nothing but the demo is here, so it is rebuilt for today.
            started = demo_on_first_start(session=s, today=date(2027, 2, 15))
            assert (started.action, started.today, started.found) == ("rebuilt", "2027Q1", "2026Q4")
            assert started.summary is not None and started.summary.created
            assert demo_quarter(session=s) == "2027Q1"
            assert table_counts(s) == before
            assert s.scalar(select(User.id).where(User.email == "jo@example.org"))

            # A real initiative beside the demo: a stale demo is left alone.
            s.add(Initiative(slug="our-initiative", name="Our initiative"))
            s.flush()
            before = table_counts(s)
            started = demo_on_first_start(session=s, today=date(2027, 5, 1))
            assert (started.action, started.today, started.found) == ("stale", "2027Q2", "2027Q1")
            assert started.summary is None
            assert table_counts(s) == before and demo_quarter(session=s) == "2027Q1"

            # Without the demo, a deployment with initiatives is not given one.
            remove_demo(session=s)
            started = demo_on_first_start(session=s, today=date(2027, 5, 1))
            assert (started.action, started.summary) == ("absent", None)
            assert s.scalars(select(Initiative.slug)).all() == ["our-initiative"]
        finally:
            s.close()
            outer.rollback()


# --- the command line -----------------------------------------------------------------------------

runner = CliRunner()


def _clear_caches() -> None:
    for cached in (get_settings, get_engine, get_sessionmaker):
        if cached is get_engine and cached.cache_info().currsize:
            cached().dispose()
        cached.cache_clear()


@pytest.fixture
def cm(fresh_database, tmp_path, monkeypatch):
    """Run `cm …` with CM_DATABASE_URL pointing at a fresh, empty database."""
    monkeypatch.setenv("CM_DATABASE_URL", fresh_database.url)
    monkeypatch.setenv("CM_VAR_DIR", str(tmp_path / "var"))
    _clear_caches()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        return result.exit_code, " ".join(result.output.split())  # rich wraps long lines

    yield run
    _clear_caches()


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_cm_demo_first_start_says_what_it_did(cm, fresh_database) -> None:
    assert cm("db", "upgrade")[0] == 0
    code, out = cm("demo", "--first-start", "--today", "2026-11-30")
    assert code == 0, out
    assert "2026Q4 is open for reporting" in out and "admin@demo.test" in out

    assert cm("demo", "--first-start", "--today", "2026-12-20") == (0, "")  # current: quiet

    code, out = cm("demo", "--first-start", "--today", "2027-02-15")
    assert code == 0, out
    assert "built for 2026Q4; today is in 2027Q1, so it was rebuilt for today" in out
    assert "2027Q1 is open for reporting" in out

    with Session(fresh_database.engine) as s:
        harbor = s.scalars(
            select(Organisation).where(Organisation.slug == "harbor-light-foundation")
        ).one()
        s.add(Initiative(slug="our-initiative", name="Our initiative"))
        s.commit()
        harbor_id = harbor.id
    code, out = cm("demo", "--first-start", "--today", "2027-05-01")
    assert code == 0, out
    assert "built for 2027Q1 and today is in 2027Q2" in out and "cm demo --reset" in out
    code, out = cm("demo", "--today", "2027-05-01")
    assert "already loaded, built for 2027Q1; today is in 2027Q2: use --reset" in out
    with Session(fresh_database.engine) as s:
        assert demo_quarter(session=s) == "2027Q1"
        assert s.get(Organisation, harbor_id) is not None

    code, out = cm("demo", "--reset", "--today", "2027-05-01")
    assert code == 0, out
    assert "2027Q2 is open for reporting" in out
    with Session(fresh_database.engine) as s:
        assert demo_quarter(session=s) == "2027Q2"
        assert "our-initiative" in s.scalars(select(Initiative.slug)).all()

    code, out = cm("demo", "--today", "31/12/2026")
    assert code == 2 and "--today" in out
