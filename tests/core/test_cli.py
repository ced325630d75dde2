"""The `cm` command line, run as a user would, against a private database of each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import migrations
from api.cli import app
from models import RoleGrant, User
from models.core.db import get_engine, get_sessionmaker
from models.core.settings import get_settings

from ..conftest import BACKENDS

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

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    yield run
    _clear_caches()


pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)


def test_help_lists_every_command(cm) -> None:
    result = cm("--help")
    assert result.exit_code == 0
    for command in ("db", "demo", "users", "serve"):
        assert command in result.output


def test_db_upgrade_then_current(cm) -> None:
    assert cm("db", "current").output.startswith("database: empty")
    result = cm("db", "upgrade")
    assert result.exit_code == 0, result.output
    head = migrations.head_revision()
    assert f"database: {head} · code: {head}" in cm("db", "current").output


def test_commands_refuse_an_unmigrated_database(cm) -> None:
    result = cm(
        "users", "create", "--email", "a@b.org", "--role", "admin", input="long-password-1\n"
    )
    assert result.exit_code == 2
    assert "cm db upgrade" in result.output
    assert "Traceback" not in result.output


def test_users_create_with_password_from_stdin(cm, fresh_database) -> None:
    cm("db", "upgrade")
    result = cm(
        "users",
        "create",
        "--email",
        "Ada@Example.org",
        "--role",
        "admin",
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with fresh_database.engine.connect() as conn:
        user = conn.execute(select(User.email, User.password_hash)).one()
        grant = conn.execute(select(RoleGrant.role)).scalar_one()
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert grant == "admin"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "not-an-email", "--role", "admin"], "long-password-1\n", "email"),
        (["--email", "a@b.org", "--role", "admin"], "short\n", "at least 12"),
        (
            ["--email", "a@b.org", "--role", "reporter", "--org", "nowhere"],
            "long-password-1\n",
            "no organisation with slug 'nowhere'",
        ),
        (["--email", "a@b.org", "--role", "backbone"], "long-password-1\n", "needs an initiative"),
        (["--email", "a@b.org", "--role", "wizard"], "long-password-1\n", "wizard"),
    ],
)
def test_users_create_bad_input_is_one_clear_message(cm, fresh_database, args, stdin, message):
    cm("db", "upgrade")
    result = cm("users", "create", *args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with fresh_database.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar() == 0


def test_duplicate_user_is_refused(cm) -> None:
    cm("db", "upgrade")
    args = ("users", "create", "--email", "a@b.org", "--role", "admin")
    assert cm(*args, input="long-password-1\n").exit_code == 0
    result = cm(*args, input="long-password-1\n")
    assert result.exit_code == 2
    assert "exists already" in result.output


def test_backup_restore_and_rollups_rebuild(cm, fresh_database, tmp_path) -> None:
    cm("db", "upgrade")
    assert (
        cm(
            "users", "create", "--email", "a@b.org", "--role", "admin", input="long-password-1\n"
        ).exit_code
        == 0
    )
    target = tmp_path / "cm.backup"
    result = cm("backup", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    cm("users", "create", "--email", "c@d.org", "--role", "admin", input="long-password-1\n")
    result = cm("restore", "--yes", str(target))
    assert result.exit_code == 0, result.output
    fresh_database.engine.dispose()
    with fresh_database.engine.connect() as conn:
        emails = conn.execute(select(User.email)).scalars().all()
    assert emails == ["a@b.org"]  # the user created after the backup is gone
    result = cm("rollups", "rebuild")
    assert result.exit_code == 0 and "rollups rebuilt: 0 rows" in result.output
    assert cm("restore", "--yes", str(tmp_path / "missing")).exit_code == 2
