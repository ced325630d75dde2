"""Backups that are safe on a live database, and restores.

SQLite: the online backup API copies a consistent snapshot page by page while the app keeps
running (a file copy of a live WAL database can be torn). PostgreSQL: ``pg_dump`` in custom
format and ``pg_restore --clean``, which need the PostgreSQL client tools on the PATH.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from models.core.errors import DomainError
from models.core.i18n import gettext

Progress = Callable[[int, int], None]


class BackupError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "backup_failed")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(gettext("an in-memory SQLite database cannot be backed up"))
    return Path(database)


def _libpq(url: str) -> tuple[str, str | None]:
    """A libpq connection string for the client tools, and the schema named in search_path."""
    parsed = make_url(url)
    options = parse_qs(f"o={parsed.query.get('options', '')}")["o"][0] if parsed.query else ""
    schema = None
    if "search_path=" in options:
        schema = options.split("search_path=", 1)[1].split()[0].split(",")[0]
    plain = parsed.set(drivername="postgresql", query={})
    return plain.render_as_string(hide_password=False), schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            gettext("%(name)s is not installed (the PostgreSQL client tools are needed)", name=name)
        )
    return found


def backup(url: str, target: Path, progress: Progress | None = None) -> Path:
    """Write a consistent backup of the database at ``url`` to ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(gettext("no database file at %(source)s", source=source))
        partial = target.with_suffix(target.suffix + ".partial")
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst, pages=256, progress=_sqlite_progress(progress))
        partial.replace(target)  # only a complete backup gets the name
        return target
    conninfo, schema = _libpq(url)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
    if schema:
        command += ["--schema", schema]
    _run([*command, conninfo])
    return target


def restore(url: str, source: Path, progress: Progress | None = None) -> None:
    """Replace the database at ``url`` with the backup in ``source`` (stop the app first)."""
    source = Path(source)
    if not source.exists():
        raise BackupError(gettext("no backup file at %(source)s", source=source))
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src:
            try:
                sound = src.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            except sqlite3.DatabaseError:
                sound = False
            if not sound:
                raise BackupError(
                    gettext("%(source)s is not a sound SQLite database", source=source)
                )
            with sqlite3.connect(target) as dst:
                src.backup(dst, pages=256, progress=_sqlite_progress(progress))
        return
    conninfo, schema = _libpq(url)
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    if schema:
        command += ["--schema", schema]
    _run([*command, "--dbname", conninfo, str(source)])


def _sqlite_progress(progress: Progress | None) -> Callable[[int, int, int], None] | None:
    if progress is None:
        return None
    return lambda _status, remaining, total: progress(total - remaining, total)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(message[-1] if message else f"{Path(command[0]).name} failed")


def table_checksums(
    engine: Engine, *, leave_out: Mapping[str, Collection[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Row count and a SHA-256 over every row (in primary-key order) of every table; without
    the columns ``leave_out`` names per table (to compare schemas that differ by them)."""
    inspector = inspect(engine)
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for table in sorted(inspector.get_table_names()):
            pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
            skipped = set((leave_out or {}).get(table, ()))
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in skipped]
            order = ", ".join(f'"{c}"' for c in (pk or columns))
            selected = ", ".join(f'"{c}"' for c in columns)
            digest = hashlib.sha256()
            count = 0
            rows = conn.execute(text(f'SELECT {selected} FROM "{table}" ORDER BY {order}'))
            for row in rows:
                digest.update(repr(tuple(_normal(v) for v in row)).encode())
                count += 1
            out[table] = (count, digest.hexdigest())
    return out


def _normal(value: object) -> object:
    """Compare across drivers: JSON dicts sorted, floats rounded, datetimes as ISO text."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, sort_keys=True, default=str)
    return str(value) if value is not None else None
