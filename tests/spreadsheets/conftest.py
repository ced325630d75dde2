"""The spreadsheets area's world, shared by the import and export tests.

``build_world``: initiative c2c with two partners, Eastside (a rate with a race breakdown, a
count and an average) and Westside (the count); an open (2025Q3), a closed (2025Q2) and a
locked (2025Q1) period. ``world``: that, with a user per role logged in. ``cm``: the command
line against a fresh, empty database of each backend.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from models.core.settings import get_settings

from .. import factories as f


def build_world(session: Session) -> dict:
    """The two-partner world (factories) with its rate named, and a locked 2025Q1."""
    built = f.two_partner_world(session, ready_name="Kindergarten ready")
    f.period(session, built["init"], "2025Q1", locked=True)
    return built


def headers_by_role(session: Session, client, built: dict) -> dict[str, dict[str, str]]:
    """A user per role, committed and logged in: role -> bearer headers. ``reporter`` reports
    for Eastside, ``other`` for Westside, ``outsider`` is another initiative's backbone."""
    users = f.two_partner_users(session, built)
    session.commit()
    return f.bearer_headers(client, users)


@pytest.fixture
def world(session, client):
    """The world, no values yet, its users logged in (test_exports adds values first)."""
    return headers_by_role(session, client, build_world(session))


@pytest.fixture
def cm(fresh_database, tmp_path, monkeypatch):
    from api.cli import app
    from models.core.db import get_engine, get_sessionmaker

    def clear():
        if get_engine.cache_info().currsize:
            get_engine().dispose()
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()

    monkeypatch.setenv("CM_DATABASE_URL", fresh_database.url)
    monkeypatch.setenv("CM_VAR_DIR", str(tmp_path / "var"))
    clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    clear()
