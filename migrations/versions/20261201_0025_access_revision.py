"""The access revision: one counter of every change to who may do what — a user's e-mail,
activity, token version or language, a role grant, an API key's scope, expiry, revocation or
secret, a membership's existence (an admin's organisation key acts in every initiative its
organisation is a member of) — bumped by triggers in the transaction of the change, whoever
makes it (``models.tables.revisions.AccessRevision``).

A worker keeps the actors it resolved under this counter and resolves again when it moved, so
a revoked key or grant is never honoured by a request that starts after its commit (README,
"Scaling"). What only books use (a key's ``last_used_at``, a user's ``last_login_at`` or
password rehash) moves nothing: those are written often and change no one's rights.

Revision ID: 0025_access_revision
Revises: 0024_bounce_holds
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_access_revision"
down_revision: str | None = "0024_bounce_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each watched table, and the columns whose change (UPDATE) moves the counter; a DELETE always
# does, an INSERT when ``True`` (a new user or key is in no one's kept actor; a new grant or
# membership widens one).
WATCHED: dict[str, tuple[tuple[str, ...], bool]] = {
    "users": (("email", "is_active", "token_version", "locale"), False),
    "role_grants": (("user_id", "role", "initiative_id", "organisation_id"), True),
    "api_keys": (
        (
            "prefix",
            "key_hash",
            "organisation_id",
            "initiative_id",
            "created_by_id",
            "expires_at",
            "revoked_at",
        ),
        False,
    ),
    "members": (("initiative_id", "organisation_id"), True),
}


def _operations(table: str) -> list[tuple[str, str | None]]:
    """(operation, the SQL condition under which it moves the counter, None: always)."""
    columns, on_insert = WATCHED[table]
    out: list[tuple[str, str | None]] = [("DELETE", None)]
    if on_insert:
        out.append(("INSERT", None))
    distinct = "IS NOT" if op.get_bind().dialect.name == "sqlite" else "IS DISTINCT FROM"
    out.append(("UPDATE", " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)))
    return out


def upgrade() -> None:
    op.create_table(
        "access_revisions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_access_revisions_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_revisions")),
    )
    op.execute("INSERT INTO access_revisions (id, revision, changed_at) VALUES (1, 0, NULL)")
    if op.get_bind().dialect.name == "sqlite":
        bump = (
            "UPDATE access_revisions SET revision = revision + 1, "
            "changed_at = CURRENT_TIMESTAMP WHERE id = 1;"
        )
        for table in WATCHED:
            for operation, when in _operations(table):
                condition = f" WHEN {when}" if when else ""
                op.execute(
                    f"CREATE TRIGGER access_{table}_{operation.lower()} AFTER {operation} "
                    f"ON {table} FOR EACH ROW{condition} BEGIN {bump} END"
                )
        return
    op.execute(
        """
        CREATE FUNCTION cm_bump_access() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE access_revisions
            SET revision = revision + 1, changed_at = clock_timestamp() WHERE id = 1;
            RETURN NULL;
        END $$
        """
    )
    # Not deferred: the counter's row is locked from the first access change to the commit,
    # before any deferred data revision is bumped (those come at the commit), so two writers
    # always take the two kinds of counter in the same order. Access changes are rare.
    for table in WATCHED:
        for operation, when in _operations(table):
            condition = f" WHEN ({when})" if when else ""
            op.execute(
                f"CREATE TRIGGER access_{table}_{operation.lower()} AFTER {operation} "
                f"ON {table} FOR EACH ROW{condition} EXECUTE FUNCTION cm_bump_access()"
            )
        # TRUNCATE (a script emptying a table) fires no row trigger: one for the statement.
        op.execute(
            f"CREATE TRIGGER access_{table}_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cm_bump_access()"
        )


def downgrade() -> None:
    for table in WATCHED:
        for operation, _ in _operations(table):
            name = f"access_{table}_{operation.lower()}"
            if op.get_bind().dialect.name == "sqlite":
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        if op.get_bind().dialect.name != "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS access_{table}_truncate ON {table}")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS cm_bump_access()")
    op.drop_table("access_revisions")
