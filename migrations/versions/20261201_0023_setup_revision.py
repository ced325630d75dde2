"""Revisions kept by the database: per initiative, a setup counter and a reports counter, each
bumped by triggers in the same transaction as the change (``models.tables.revisions``).

Whoever writes — the app, another worker or process, a later migration's raw SQL — moves the
counter with the data, so "has this changed" is one read by primary key (README, "Scaling").

Revision ID: 0023_setup_revision
Revises: 0022_locale
Create Date: 2026-12-01 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_setup_revision"
down_revision: str | None = "0022_locale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table whose rows shape an answer, the counter it moves and its row's scope ({r} is NEW
# or OLD): the initiative's id, or 0 for the deployment.
WATCHED: dict[str, tuple[str, str]] = {
    "periods": ("setup", "{r}.initiative_id"),
    "members": ("setup", "{r}.initiative_id"),
    "indicators": ("setup", "{r}.initiative_id"),
    "outcomes": ("setup", "{r}.initiative_id"),
    "dimensions": ("setup", "{r}.initiative_id"),
    "categories": ("setup", "(SELECT initiative_id FROM dimensions WHERE id = {r}.dimension_id)"),
    "obligations": ("setup", "(SELECT initiative_id FROM members WHERE id = {r}.member_id)"),
    "indicator_targets": (
        "setup",
        "(SELECT initiative_id FROM indicators WHERE id = {r}.indicator_id)",
    ),
    "gap_targets": ("setup", "(SELECT initiative_id FROM indicators WHERE id = {r}.indicator_id)"),
    "series_breaks": (
        "setup",
        "(SELECT initiative_id FROM indicators WHERE id = {r}.indicator_id)",
    ),
    "indicator_dimensions": (
        "setup",
        "(SELECT initiative_id FROM indicators WHERE id = {r}.indicator_id)",
    ),
    "indicator_contributions": (
        "setup",
        "(SELECT initiative_id FROM indicators WHERE id = {r}.performance_id)",
    ),
    "organisations": ("setup", "0"),
    "submissions": ("reports", "{r}.initiative_id"),
    "deadline_extensions": ("reports", "{r}.initiative_id"),
}
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def _sqlite_bump(kind: str, scopes: str) -> str:
    """One statement: bump ``kind`` of every scope the SELECT ``scopes`` yields (a NULL one,
    a row whose parent is already gone in a cascade, is left out: the parent's own trigger
    bumps its scope)."""
    return (
        "INSERT INTO data_revisions (scope, setup, reports, changed_at) "
        f"SELECT s, {int(kind == 'setup')}, {int(kind == 'reports')}, CURRENT_TIMESTAMP "
        f"FROM ({scopes}) WHERE s IS NOT NULL "
        f"ON CONFLICT (scope) DO UPDATE SET {kind} = {kind} + 1, changed_at = CURRENT_TIMESTAMP;"
    )


def _sqlite_triggers() -> None:
    for table, (kind, scope) in WATCHED.items():
        for operation in OPERATIONS:
            rows = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}[operation]
            scopes = " UNION ".join(f"SELECT {scope.format(r=r)} AS s" for r in rows)
            op.execute(
                f"CREATE TRIGGER revision_{table}_{operation.lower()} AFTER {operation} "
                f"ON {table} BEGIN {_sqlite_bump(kind, scopes)} END"
            )


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION cm_bump_revision(s bigint, kind text) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            IF s IS NULL THEN
                RETURN;
            END IF;
            IF kind = 'setup' THEN
                INSERT INTO data_revisions (scope, setup, reports, changed_at)
                VALUES (s, 1, 0, clock_timestamp())
                ON CONFLICT (scope) DO UPDATE
                SET setup = data_revisions.setup + 1, changed_at = clock_timestamp();
            ELSE
                INSERT INTO data_revisions (scope, setup, reports, changed_at)
                VALUES (s, 0, 1, clock_timestamp())
                ON CONFLICT (scope) DO UPDATE
                SET reports = data_revisions.reports + 1, changed_at = clock_timestamp();
            END IF;
        END $$
        """
    )
    for table, (kind, scope) in WATCHED.items():
        op.execute(
            f"""
            CREATE FUNCTION revision_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'DELETE' THEN
                    PERFORM cm_bump_revision({scope.format(r="NEW")}, '{kind}');
                END IF;
                IF TG_OP <> 'INSERT' THEN
                    IF TG_OP = 'DELETE' OR {scope.format(r="OLD")} IS DISTINCT FROM
                            {scope.format(r="NEW")} THEN
                        PERFORM cm_bump_revision({scope.format(r="OLD")}, '{kind}');
                    END IF;
                END IF;
                RETURN NULL;
            END $$
            """
        )
        # Deferred to the commit: many partners write reports of one initiative at once, and
        # the bump locks its counter's row until the transaction ends, so it comes last.
        op.execute(
            f"CREATE CONSTRAINT TRIGGER revision_{table} "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION revision_{table}()"
        )


def upgrade() -> None:
    op.create_table(
        "data_revisions",
        sa.Column("scope", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("setup", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reports", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_revisions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS revision_{table}_{operation.lower()}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS revision_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS revision_{table}()")
        op.execute("DROP FUNCTION IF EXISTS cm_bump_revision(bigint, text)")
    op.drop_table("data_revisions")
