"""Configuration: defaults that need nothing, and one clear line for anything wrong."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from models.core.settings import ConfigError, Settings, get_settings


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_to_sqlite_under_var(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/common-measure.db"
    assert settings.suppression_threshold == 10


def test_plain_postgresql_scheme_uses_psycopg() -> None:
    settings = Settings(database_url="postgresql://u@h/db")
    assert settings.effective_database_url.startswith("postgresql+psycopg://")


def test_secret_key_is_generated_once_and_kept_private(tmp_path) -> None:
    first = Settings(var_dir=tmp_path).effective_secret_key
    assert len(first) >= 48
    assert Settings(var_dir=tmp_path).effective_secret_key == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_configured_secret_key_wins(tmp_path) -> None:
    assert Settings(var_dir=tmp_path, secret_key="s" * 40).effective_secret_key == "s" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CM_DATABASE_URL", "not a url", "not a database URL"),
        ("CM_DATABASE_URL", "mysql://x/y", "sqlite or postgresql"),
        ("CM_PORT", "eighty", "CM_PORT"),
        ("CM_SUPPRESSION_THRESHOLD", "0", "CM_SUPPRESSION_THRESHOLD"),
        ("CM_NOTIFY_LEASE_SECONDS", "15", "at least twice CM_WEBHOOK_TIMEOUT_SECONDS"),
    ],
)
def test_bad_settings_are_one_line(monkeypatch, name, value, message) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        get_settings()
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unreachable_database_is_one_line(monkeypatch, tmp_path) -> None:
    from models.core.db import get_engine

    monkeypatch.setenv("CM_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_engine.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_engine.cache_clear()
    assert result.exit_code == 2
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_calendar_reads_today_from_the_setting(monkeypatch) -> None:
    from models.core.dates import today

    assert today() == date.today()
    monkeypatch.setenv("CM_TODAY", "2026-11-30")
    get_settings.cache_clear()
    assert today() == date(2026, 11, 30)
    monkeypatch.setenv("CM_TODAY", "30/11/2026")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="CM_TODAY"):
        today()


def test_nothing_but_the_calendar_reads_the_real_date() -> None:
    """A rule or page that asked the clock for today would ignore CM_TODAY: the demo served as of
    its day would open and close the wrong windows there, and a browser test on it would depend
    on the day it runs."""
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{n}"
        for package in ("models", "api", "dashboard")
        for path in sorted((root / package).rglob("*.py"))
        if path != root / "models" / "core" / "dates.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "date.today()" in line
    ]
    assert found == []
