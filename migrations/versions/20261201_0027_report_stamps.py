"""Report stamps: which reports changed after a reports revision (``models.tables.revisions.
ReportStamp``). The triggers that bump an initiative's reports counter on every write of a
submission (migration 0023_setup_revision) now also stamp the submission's (initiative,
period, submission) row with the counter's new value, in the same transaction, whoever writes.

Completeness keeps a period's reports as of a revision and, after a partner's draft, reads
again only the reports stamped after it — one row, not the period's two hundred (README,
"Scaling"). A report deleted or moved to another period keeps its old stamp row, stamped
again, so its removal is seen.

On PostgreSQL a TRUNCATE of any table 0023 watches fires no row trigger: a trigger on the
statement bumps the counter it moves for every initiative and the deployment, and a TRUNCATE
of the submissions stamps every report stamp again, so that what was kept is found gone.

Revision ID: 0027_report_stamps
Revises: 0026_content_translations
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_report_stamps"
down_revision: str | None = "0026_content_translations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATIONS = ("INSERT", "UPDATE", "DELETE")
ROWS = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}


def _sqlite_bump(scopes: str) -> str:
    """0023's bump of the reports counter of every scope ``scopes`` yields."""
    return (
        "INSERT INTO data_revisions (scope, setup, reports, changed_at) "
        f"SELECT s, 0, 1, CURRENT_TIMESTAMP FROM ({scopes}) WHERE s IS NOT NULL "
        "ON CONFLICT (scope) DO UPDATE SET reports = reports + 1, "
        "changed_at = CURRENT_TIMESTAMP;"
    )


def _sqlite_stamp(r: str) -> str:
    """The report ``r`` (NEW or OLD) stamped with its initiative's reports counter as it is
    after the bump (read in the same trigger, so in the same transaction)."""
    return (
        "INSERT INTO report_stamps (initiative_id, period_id, submission_id, stamp) "
        f"SELECT {r}.initiative_id, {r}.period_id, {r}.id, reports FROM data_revisions "
        f"WHERE scope = {r}.initiative_id "
        "ON CONFLICT (initiative_id, period_id, submission_id) "
        "DO UPDATE SET stamp = excluded.stamp;"
    )


def _sqlite_triggers(stamped: bool) -> None:
    """The submissions' revision triggers, made again: with the stamps after the bump (one
    trigger, so the order is the statements' own), or as 0023 made them."""
    for operation in OPERATIONS:
        rows = ROWS[operation]
        scopes = " UNION ".join(f"SELECT {r}.initiative_id AS s" for r in rows)
        body = _sqlite_bump(scopes)
        if stamped:
            body += "".join(_sqlite_stamp(r) for r in rows)
        op.execute(f"DROP TRIGGER IF EXISTS revision_submissions_{operation.lower()}")
        op.execute(
            f"CREATE TRIGGER revision_submissions_{operation.lower()} AFTER {operation} "
            f"ON submissions BEGIN {body} END"
        )


def _postgresql_function(stamped: bool) -> None:
    """The submissions' revision function, made again (its deferred trigger stays): with the
    stamps after each bump, or as 0023 made it."""
    new = "PERFORM cm_stamp_report(NEW.initiative_id, NEW.period_id, NEW.id);" if stamped else ""
    old = (
        """
                IF TG_OP = 'DELETE' OR OLD.initiative_id IS DISTINCT FROM NEW.initiative_id
                        OR OLD.period_id IS DISTINCT FROM NEW.period_id THEN
                    PERFORM cm_stamp_report(OLD.initiative_id, OLD.period_id, OLD.id);
                END IF;"""
        if stamped
        else ""
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION revision_submissions() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'DELETE' THEN
                PERFORM cm_bump_revision(NEW.initiative_id, 'reports');
                {new}
            END IF;
            IF TG_OP <> 'INSERT' THEN
                IF TG_OP = 'DELETE' OR OLD.initiative_id IS DISTINCT FROM
                        NEW.initiative_id THEN
                    PERFORM cm_bump_revision(OLD.initiative_id, 'reports');
                END IF;{old}
            END IF;
            RETURN NULL;
        END $$
        """
    )


# 0023's watched tables and the counter each moves (TRUNCATE names no rows: every scope's).
TRUNCATED = {
    **dict.fromkeys(
        (
            "periods",
            "members",
            "indicators",
            "outcomes",
            "dimensions",
            "categories",
            "obligations",
            "indicator_targets",
            "gap_targets",
            "series_breaks",
            "indicator_dimensions",
            "indicator_contributions",
            "organisations",
        ),
        "setup",
    ),
    "submissions": "reports",
    "deadline_extensions": "reports",
}


def _postgresql_truncate_triggers() -> None:
    """Each watched table's TRUNCATE bumps its counter for every initiative and the
    deployment (a scope with no row yet gets one); the submissions' stamps every report stamp
    again with its initiative's new counter."""
    op.execute(
        """
        CREATE FUNCTION cm_revision_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            setup int := (TG_ARGV[0] = 'setup')::int;
            reports int := (TG_ARGV[0] = 'reports')::int;
        BEGIN
            INSERT INTO data_revisions (scope, setup, reports, changed_at)
            SELECT s, setup, reports, clock_timestamp()
            FROM (SELECT id AS s FROM initiatives UNION SELECT 0) AS scopes
            ON CONFLICT (scope) DO UPDATE
            SET setup = data_revisions.setup + EXCLUDED.setup,
                reports = data_revisions.reports + EXCLUDED.reports,
                changed_at = EXCLUDED.changed_at;
            IF TG_TABLE_NAME = 'submissions' THEN
                UPDATE report_stamps SET stamp = r.reports FROM data_revisions AS r
                WHERE r.scope = report_stamps.initiative_id;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table, kind in TRUNCATED.items():
        op.execute(
            f"CREATE TRIGGER revision_{table}_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION cm_revision_truncated('{kind}')"
        )


def upgrade() -> None:
    op.create_table(
        "report_stamps",
        sa.Column("initiative_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("period_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("submission_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "initiative_id", "period_id", "submission_id", name=op.f("pk_report_stamps")
        ),
    )
    op.create_index(
        "ix_report_stamps_stamp", "report_stamps", ["initiative_id", "period_id", "stamp"]
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(stamped=True)
        return
    op.execute(
        """
        CREATE FUNCTION cm_stamp_report(i bigint, p bigint, s bigint) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO report_stamps (initiative_id, period_id, submission_id, stamp)
            SELECT i, p, s, reports FROM data_revisions WHERE scope = i
            ON CONFLICT (initiative_id, period_id, submission_id)
            DO UPDATE SET stamp = EXCLUDED.stamp;
        END $$
        """
    )
    _postgresql_function(stamped=True)
    _postgresql_truncate_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(stamped=False)
    else:
        for table in TRUNCATED:
            op.execute(f"DROP TRIGGER IF EXISTS revision_{table}_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS cm_revision_truncated()")
        _postgresql_function(stamped=False)
        op.execute("DROP FUNCTION IF EXISTS cm_stamp_report(bigint, bigint, bigint)")
    op.drop_index("ix_report_stamps_stamp", table_name="report_stamps")
    op.drop_table("report_stamps")
