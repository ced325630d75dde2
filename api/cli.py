"""The ``cm`` command line: database, demo data, users, serving.

Every command turns configuration and domain errors into one readable line and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from functools import wraps
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from models.errors import DomainError
from models.settings import ConfigError, get_settings

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
    from models.db import check_database, session_scope

    check_database()
    with session_scope() as session:
        yield session


def _require_schema() -> None:
    """Refuse to run against a database whose schema is not at the code's head."""
    import migrations
    from models.db import check_database, get_engine

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
    from models.db import check_database

    settings = get_settings()
    check_database()
    migrations.upgrade(settings.effective_database_url, revision)
    console.print(f"database at [bold]{revision}[/] ({_safe_url()})")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision and the code's."""
    import migrations
    from models.db import check_database, get_engine

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
        bool, typer.Option(help="Load only if the database holds no initiative yet.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the generated history.")] = 2026,
) -> None:
    """Load the demo initiatives (cradle-to-career, extreme-heat) and their demo logins."""
    from sqlalchemy import func, select

    from models.demo import DEMO_PASSWORD, demo_loaded, load_demo, remove_demo
    from models.initiative import Initiative

    _require_schema()
    with _session() as session:
        if first_start and session.scalar(select(func.count()).select_from(Initiative)):
            return
        if reset and demo_loaded(session=session):
            remove_demo(session=session)
            session.flush()
            console.print("removed the demo data")
        with _progress() as report:
            summary = load_demo(session=session, seed=seed, progress=report)
    if not summary.created:
        console.print("The demo is already loaded (use --reset to start over).")
    else:
        console.print(
            f"Loaded {', '.join(summary.initiatives)}: {summary.organisations} organisations, "
            f"{summary.submissions:,} submissions, {summary.values:,} values."
        )
    console.print(f"\nDemo logins (password: [bold]{DEMO_PASSWORD}[/]):")
    width = max(len(email) for email, _ in summary.users)
    for email, role in summary.users:
        console.print(f"  {email:<{width}}  {role}", highlight=False, soft_wrap=True)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        yield report


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
        str | None, typer.Option(help="Initiative slug (backbone, funder).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Organisation slug (reporter).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input instead of prompting.")
    ] = False,
) -> None:
    """Create a user with one role grant (password prompted, or read from stdin)."""
    from models.users import create_user

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


def main() -> None:  # pragma: no cover - console entry point
    app()
