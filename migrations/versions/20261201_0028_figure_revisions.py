"""Figure revisions: per initiative and period, a counter bumped by the database in the
transaction of every change to what the figure views read of that period — its rollup rows,
its packed partner totals and its publications (``models.tables.revisions.FigureRevision``).

An approval moves one period's counter (its report's quarter), an audit event none; so a
figure view keeps what it showed of each period under that period's counter and, after an
approval, reads and decides again only the period it touched (``models.analytics.fresh``).
Whoever writes — the app, another worker, raw SQL — moves the counter with the rows.

Revision ID: 0028_figure_revisions
Revises: 0027_report_stamps
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_figure_revisions"
down_revision: str | None = "0027_report_stamps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table here has the initiative's and the period's ids on each row.
WATCHED = ("rollups", "partner_totals", "publications")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")

_SQLITE_BUMP = (
    "INSERT INTO figure_revisions (initiative_id, period_id, revision) "
    "VALUES ({r}.initiative_id, {r}.period_id, 1) "
    "ON CONFLICT (initiative_id, period_id) "
    "DO UPDATE SET revision = figure_revisions.revision + 1;"
)


def _sqlite_triggers() -> None:
    for table in WATCHED:
        for operation in OPERATIONS:
            rows = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}[operation]
            body = " ".join(_SQLITE_BUMP.format(r=r) for r in rows)
            op.execute(
                f"CREATE TRIGGER figures_{table}_{operation.lower()} AFTER {operation} "
                f"ON {table} BEGIN {body} END"
            )


def _postgresql_triggers() -> None:
    # One bump per statement and period (an approval upserts a hundred rollup rows of one
    # period): the statement's rows as transition tables, the counters taken in one order.
    # Not deferred (a statement trigger cannot be): the counter's row is locked after the
    # rows the statement wrote, as a concurrent approval of the same period already waits
    # on those rows (``models.analytics.rollups.apply_submission``).
    for name, source in {
        "new": "SELECT initiative_id, period_id FROM new_rows",
        "old": "SELECT initiative_id, period_id FROM old_rows",
        "both": "SELECT initiative_id, period_id FROM new_rows "
        "UNION SELECT initiative_id, period_id FROM old_rows",
    }.items():
        op.execute(
            f"""
            CREATE FUNCTION cm_bump_figures_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO figure_revisions (initiative_id, period_id, revision)
                SELECT DISTINCT initiative_id, period_id, 1 FROM ({source}) AS changed
                WHERE initiative_id IS NOT NULL AND period_id IS NOT NULL
                ORDER BY initiative_id, period_id
                ON CONFLICT (initiative_id, period_id)
                DO UPDATE SET revision = figure_revisions.revision + 1;
                RETURN NULL;
            END $$
            """
        )
    # TRUNCATE (a script emptying a table) fires no DELETE trigger and names no rows: every
    # period's counter moves, in one order.
    op.execute(
        """
        CREATE FUNCTION cm_bump_figures_all() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE figure_revisions AS f SET revision = f.revision + 1
            FROM (
                SELECT initiative_id, period_id FROM figure_revisions
                ORDER BY initiative_id, period_id FOR UPDATE
            ) AS locked
            WHERE (f.initiative_id, f.period_id) = (locked.initiative_id, locked.period_id);
            RETURN NULL;
        END $$
        """
    )
    for table in WATCHED:
        for operation, referencing, function in (
            ("INSERT", "NEW TABLE AS new_rows", "new"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "both"),
            ("DELETE", "OLD TABLE AS old_rows", "old"),
        ):
            op.execute(
                f"CREATE TRIGGER figures_{table}_{operation.lower()} AFTER {operation} "
                f"ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION cm_bump_figures_{function}()"
            )
        op.execute(
            f"CREATE TRIGGER figures_{table}_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cm_bump_figures_all()"
        )


def upgrade() -> None:
    op.create_table(
        "figure_revisions",
        # No foreign keys: a deleted period's counter stays (its setup revision moved too).
        sa.Column("initiative_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("period_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("initiative_id", "period_id", name=op.f("pk_figure_revisions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()
    # What is there already counts as revision 1 of its period.
    for table in WATCHED:
        op.execute(
            "INSERT INTO figure_revisions (initiative_id, period_id, revision) "
            f"SELECT DISTINCT initiative_id, period_id, 1 FROM {table} "
            "WHERE initiative_id IS NOT NULL AND period_id IS NOT NULL "
            "ON CONFLICT (initiative_id, period_id) DO NOTHING"
        )


def downgrade() -> None:
    for table in WATCHED:
        for operation in OPERATIONS:
            name = f"figures_{table}_{operation.lower()}"
            if op.get_bind().dialect.name == "sqlite":
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    if op.get_bind().dialect.name != "sqlite":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS figures_{table}_truncate ON {table}")
        for name in ("new", "old", "both", "all"):
            op.execute(f"DROP FUNCTION IF EXISTS cm_bump_figures_{name}()")
    op.drop_table("figure_revisions")
