"""The ``cm`` command line: database, demo data, users, imports and exports, serving.

Every command turns configuration and domain errors into one readable line and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from models.core.errors import DomainError
from models.core.settings import ConfigError, get_settings

app = typer.Typer(
    help="Common Measure: shared measurement for collective-impact initiatives.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def friendly(func: Callable) -> Callable:
    """Print configuration, database and domain errors as one line and exit non-zero."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ConfigError, DomainError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


@contextmanager
def _session() -> Iterator[Session]:
    from models.core.db import check_database, session_scope

    check_database()
    with session_scope() as session:
        yield session


def _require_schema() -> None:
    """Refuse to run against a database whose schema is not at the code's head."""
    import migrations
    from models.core.db import check_database, get_engine

    check_database()
    with get_engine().connect() as conn:
        current = migrations.current_revision(conn)
    if current != migrations.head_revision():
        raise ConfigError(
            f"the database schema is at {current or 'nothing'}, the code expects "
            f"{migrations.head_revision()}: run `cm db upgrade`"
        )


# --- database -------------------------------------------------------------------------------


@db_app.command("upgrade")
@friendly
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    import migrations
    from models.core.db import check_database

    settings = get_settings()
    check_database()
    migrations.upgrade(settings.effective_database_url, revision)
    console.print(f"database at [bold]{revision}[/] ({_safe_url()})")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision and the code's."""
    import migrations
    from models.core.db import check_database, get_engine

    check_database()
    with get_engine().connect() as conn:
        current = migrations.current_revision(conn)
    console.print(f"database: {current or 'empty'} · code: {migrations.head_revision()}")


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().effective_database_url).render_as_string(hide_password=True)


# --- demo -----------------------------------------------------------------------------------


@app.command()
@friendly
def demo(
    reset: Annotated[bool, typer.Option(help="Remove the demo data first, then load it.")] = False,
    first_start: Annotated[
        bool,
        typer.Option(
            help="Load only if the database holds no initiative yet; rebuild a demo built in "
            "an earlier quarter if nothing but the demo is there."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the generated history.")] = 2026,
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Build the demo as if today were YYYY-MM-DD (default: today): its quarter is "
            "open for reporting, the one before under review.",
        ),
    ] = None,
) -> None:
    """Load the demo initiatives (cradle-to-career, extreme-heat) and their demo logins."""
    from models.core import dates
    from models.demo.builder import (
        demo_loaded,
        demo_on_first_start,
        load_demo,
        remove_demo,
    )
    from models.demo.calendar import quarter_of

    _require_schema()
    day = today.date() if today else dates.today()
    with _session() as session:
        if first_start:
            with _progress() as report:
                started = demo_on_first_start(
                    session=session, seed=seed, today=day, progress=report
                )
            summary = started.summary
            if started.action == "rebuilt":
                console.print(
                    f"The demo was built for {started.found}; today is in {started.today}, so "
                    "it was rebuilt for today (the database held nothing but the demo)."
                )
            elif started.action == "stale":
                console.print(
                    f"The demo was built for {started.found} and today is in {started.today}: "
                    "its reporting periods are out of date. Other initiatives are here too, so "
                    "it was left alone; run `cm demo --reset` to rebuild it for today (that "
                    "removes the demo's data only)."
                )
            if summary is None:
                return
        else:
            if reset and demo_loaded(session=session):
                remove_demo(session=session)
                session.flush()
                console.print("removed the demo data")
            with _progress() as report:
                summary = load_demo(session=session, seed=seed, today=day, progress=report)
    if not summary.created:
        found, quarter = summary.period, quarter_of(day)
        if found != quarter:
            console.print(
                f"The demo is already loaded, built for {found}; today is in {quarter}: "
                "use --reset to rebuild it for today."
            )
        else:
            console.print("The demo is already loaded (use --reset to start over).")
    else:
        console.print(
            f"Loaded {', '.join(summary.initiatives)}: {summary.organisations} organisations, "
            f"{summary.submissions:,} submissions, {summary.values:,} values. "
            f"{summary.period} is open for reporting; the quarter before is under review."
        )
    _print_logins(summary.users)


def _print_logins(users: list[tuple[str, str]]) -> None:
    from models.demo.spec import DEMO_PASSWORD

    console.print(f"\nDemo logins (password: [bold]{DEMO_PASSWORD}[/]):")
    width = max(len(email) for email, _ in users)
    for email, role in users:
        console.print(f"  {email:<{width}}  {role}", highlight=False, soft_wrap=True)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars for long work, drawn from the first step reported: work that turns out to
    have nothing to do (a first start with the demo up to date) prints nothing."""
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    progress = Progress(*columns, console=console, transient=False)
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if not tasks:
            progress.start()
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=done, total=total)

    try:
        yield report
    finally:
        if tasks:
            progress.stop()


# --- users ----------------------------------------------------------------------------------


class RoleChoice(str, Enum):
    admin = "admin"
    backbone = "backbone"
    reporter = "reporter"
    funder = "funder"


@users_app.command("create")
@friendly
def users_create(
    email: Annotated[str, typer.Option(help="Login e-mail address.")],
    role: Annotated[RoleChoice, typer.Option(help="Role to grant.")],
    initiative: Annotated[
        str | None,
        typer.Option(
            help="Initiative slug (backbone, funder; for a reporter the one initiative it "
            "reports to, else every initiative the organisation is a member of)."
        ),
    ] = None,
    org: Annotated[str | None, typer.Option(help="Organisation slug (reporter).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input instead of prompting.")
    ] = False,
) -> None:
    """Create a user with one role grant (password prompted, or read from stdin)."""
    from models.access.users import create_user

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _require_schema()
    with _session() as session:
        user = create_user(
            session=session,
            email=email,
            password=password,
            role=role.value,
            initiative_slug=initiative,
            organisation_slug=org,
            name=name,
        )
    console.print(f"created {user.email} ({role.value})")


# --- spreadsheets ---------------------------------------------------------------------------


@app.command("import")
@friendly
def import_(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or Excel .xlsx file."),
    ],
    initiative: Annotated[str, typer.Option(help="Initiative slug.")],
    org: Annotated[str | None, typer.Option(help="Organisation slug for rows without one.")] = None,
    period: Annotated[str | None, typer.Option(help="Period key for rows without one.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check every row, write nothing.")] = False,
) -> None:
    """Import values from a spreadsheet: every row valid and written, or nothing written."""
    from models.core.actors import SYSTEM
    from models.spreadsheets.imports import import_file

    limit = get_settings().import_max_bytes
    if file.stat().st_size > limit:
        _fail(
            f"{file.name} is larger than the import limit of {limit:,} bytes (CM_IMPORT_MAX_BYTES)"
        )
    _require_schema()
    with _session() as session, file.open("rb") as stream, _progress() as report:
        result = import_file(
            session=session,
            actor=SYSTEM,
            initiative_slug=initiative,
            stream=stream,
            filename=file.name,
            dry_run=dry_run,
            default_org=org,
            default_period=period,
            progress=report,
        )
    _print_import(result.as_dict())
    if not result.ok:
        raise typer.Exit(1)


def _print_import(body: dict) -> None:
    from rich.table import Table

    if body["submissions"]:
        table = Table("organisation", "period", "created", "updated", "unchanged", "status")
        for s in body["submissions"]:
            table.add_row(
                s["organisation"],
                s["period"],
                str(s["created"]),
                str(s["updated"]),
                str(s["unchanged"]),
                s["status"],
            )
        console.print(table)
    if body["errors"]:
        table = Table("row", "column", "reason", title="Problems", title_justify="left")
        for e in body["errors"]:
            table.add_row(str(e["row"]), e["column"], e["reason"])
        console.print(table)
        if body["error_count"] > len(body["errors"]):
            console.print(f"… and {body['error_count'] - len(body['errors']):,} more problems")
    style = "bold red" if body["errors"] else "bold green"
    console.print(
        f"[{style}]{body['message']}[/] ({body['rows']:,} rows read, {body['skipped']:,} empty)",
        highlight=False,
        soft_wrap=True,
    )


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


@app.command("export")
@friendly
def export(
    initiative: Annotated[str, typer.Option(help="Initiative slug.")],
    output: Annotated[Path, typer.Option(dir_okay=False, help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format.")] = ExportFormat.csv,
    period_from: Annotated[str | None, typer.Option(help="First period key.")] = None,
    period_to: Annotated[str | None, typer.Option(help="Last period key.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome code.")] = None,
    indicator: Annotated[str | None, typer.Option(help="Indicator code.")] = None,
    org: Annotated[str | None, typer.Option(help="Organisation slug.")] = None,
    status: Annotated[str | None, typer.Option(help="Submission status.")] = None,
) -> None:
    """Export reported values, one row per value, as CSV, Excel or JSON."""
    from models.core.actors import SYSTEM
    from models.spreadsheets.exports import (
        ExportFilters,
        csv_chunks,
        json_chunks,
        prepare_export,
        write_xlsx,
    )

    _require_schema()
    with _session() as session:
        result = prepare_export(
            session=session,
            actor=SYSTEM,
            initiative_slug=initiative,
            filters=ExportFilters(period_from, period_to, outcome, indicator, org, status),
        )
        if fmt is ExportFormat.xlsx:
            with output.open("wb") as stream:
                write_xlsx(result, stream)
        else:
            chunks = csv_chunks(result) if fmt is ExportFormat.csv else json_chunks(result)
            with output.open("w", encoding="utf-8", newline="") as stream:
                stream.writelines(chunks)
    console.print(f"wrote {result.count:,} values to {output}", highlight=False, soft_wrap=True)


# --- backups and rollups ---------------------------------------------------------------------

rollups_app = typer.Typer(help="The maintained rollup table.", no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")


@app.command()
@friendly
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
) -> None:
    """Back up the database while the app runs (SQLite online backup API, or pg_dump)."""
    from models.core.backup import backup as run_backup
    from models.core.db import check_database

    check_database()
    with _bar("backing up") as step:
        written = run_backup(get_settings().effective_database_url, file, progress=step)
    console.print(f"backup written to {written} ({written.stat().st_size:,} bytes)")


@app.command()
@friendly
def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `cm backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup. Stop the app first."""
    from models.core.backup import restore as run_restore

    if not yes and not typer.confirm(f"Replace the database at {_safe_url()} with {file}?"):
        raise typer.Exit(1)
    with _bar("restoring") as step:
        run_restore(get_settings().effective_database_url, file, progress=step)
    console.print(f"restored {file} into {_safe_url()}")


@rollups_app.command("rebuild")
@friendly
def rollups_rebuild(
    initiative: Annotated[str | None, typer.Option(help="Only this initiative (slug).")] = None,
) -> None:
    """Recompute the rollup table and the partners' packed totals from the approved values."""
    from models.analytics.rollups import rebuild_initiative

    _require_schema()
    with _session() as session:
        rows = rebuild_initiative(session=session, initiative_slug=initiative)
    console.print(f"rollups rebuilt: {rows:,} rows")


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    with _progress() as report:
        yield lambda done, total: report(label, done, total)


# --- notifications --------------------------------------------------------------------------

notify_app = typer.Typer(help="Notifications: reminders and messages.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("preview")
@friendly
def notify_preview(
    on: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The day to preview, YYYY-MM-DD (default: the calendar's today).",
        ),
    ] = None,
) -> None:
    """Print the reminders, escalations and period-opening notices the worker would write on a
    day (nothing is written or sent)."""
    from collections import Counter

    from models.core import dates
    from models.notifications.reminders import KIND_ORDER, plan

    _require_schema()
    day = on.date() if on else dates.today()
    with _session() as session:
        planned = plan(session=session, today=day)
        if not planned:
            console.print(f"{day.isoformat()}: no messages")
            return
        counts = Counter(p.kind for p in planned)
        names = {
            "period_opened": ("period opening", "period openings"),
            "reminder": ("reminder", "reminders"),
            "escalation": ("escalation", "escalations"),
        }
        summary = ", ".join(
            f"{counts[k]} {names[k][counts[k] != 1]}" for k in KIND_ORDER if counts[k]
        )
        console.print(f"{day.isoformat()}: {summary}")
        for p in planned:
            console.print(f"  {p.email}  {p.describe()}", highlight=False, soft_wrap=True)
        session.rollback()  # a preview writes nothing


# sysexits.h, as a mail server's pipe transport reads them: refused for good, or try later.
EX_DATAERR = 65
EX_TEMPFAIL = 75


@notify_app.command("bounce")
def notify_bounce() -> None:
    """Record a bounce: a delivery status notification (RFC 3464), the raw message on stdin, as
    a mail server's pipe transport hands it over (README, "Notifications"). Exits 0 when read
    (a report with no failed recipient records nothing), 65 when it is no DSN or names no mail
    of ours (the server gives it up), 75 when the database cannot be reached (it retries)."""
    from models.notifications.bounces import record_bounce

    raw = sys.stdin.buffer.read()
    try:
        _require_schema()
        with _session() as session:
            report = record_bounce(session, raw)
    except DomainError as exc:
        _fail(str(exc), EX_DATAERR)
    except ConfigError as exc:
        _fail(str(exc), EX_TEMPFAIL)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    recorded = len(report.recorded)
    known = len(report.bounced) - recorded
    summary = f"{report.message_id} (outbox #{report.outbox_id}): {recorded} bounce"
    summary += "s recorded" if recorded != 1 else " recorded"
    if known:
        summary += f", {known} known already"
    for address, action in report.other:
        summary += f"; {address} {action}, not a bounce"
    console.print(summary, highlight=False, soft_wrap=True)


@app.command()
@friendly
def worker(
    once: Annotated[
        bool, typer.Option(help="Run one round (reminders, then every due message) and exit.")
    ] = False,
) -> None:
    """Deliver notifications: the worker `cm serve` runs in its processes unless
    CM_WORKER=external. Several may run against PostgreSQL; stop with Ctrl-C."""
    import signal

    from api.observability import configure_logging
    from models.notifications.worker import DeliveryWorker

    settings = get_settings()
    configure_logging(settings.log_level)
    _require_schema()
    runner = DeliveryWorker()
    if once:
        tick = runner.run_once()
        console.print(
            f"sent {tick.sent}, retrying {tick.retrying}, failed {tick.failed}, "
            f"skipped {tick.skipped}, scheduled messages written {tick.reminders}"
        )
        return
    channel = "SMTP" if settings.smtp_url else "the local mailbox"
    console.print(f"delivery worker running (mail to {channel}); Ctrl-C stops it")
    signal.signal(signal.SIGTERM, lambda *_: runner.stop(timeout=0))
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop(timeout=0)


# --- serving --------------------------------------------------------------------------------


@app.command()
@friendly
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default CM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CM_PORT).")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (/api/v1, docs at /api/docs) and the dashboard (/) with uvicorn."""
    import uvicorn

    settings = get_settings()
    _require_schema()
    host = host or settings.host
    port = port or settings.port
    console.print(f"Common Measure on http://{host}:{port}  (API docs: /api/docs)")
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        reload=reload,
        workers=None if reload else workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


def main() -> None:
    """The ``cm`` console script, ``python -m api.cli`` and ``python -m api``: one command."""
    app(prog_name="cm")


if __name__ == "__main__":
    main()
