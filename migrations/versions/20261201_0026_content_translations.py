"""Content translations: the Spanish (and later other languages) of the names, definitions and
stories the backbone team writes, each with a hash of the English it was translated from
(``models.tables.translation``; README, "Languages").

A translation shapes what the dashboards and the public page show, so its writes move the
initiative's setup revision as the texts it translates do (migration 0023_setup_revision).

Revision ID: 0026_content_translations
Revises: 0025_access_revision
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_content_translations"
down_revision: str | None = "0025_access_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "content_translations"
OPERATIONS = ("INSERT", "UPDATE", "DELETE")
ENTITIES = {
    "initiative": None,
    "outcome": "outcome_id",
    "indicator": "indicator_id",
    "dimension": "dimension_id",
    "category": "category_id",
    "story": "story_id",
}
KEYS = [c for c in ENTITIES.values() if c]


def _one_key() -> str:
    cases = []
    for entity, column in ENTITIES.items():
        own = f"entity_id = {column}" if column else "entity_id = initiative_id"
        empty = " AND ".join(f"{c} IS NULL" for c in KEYS if c != column)
        cases.append(f"(entity_type = '{entity}' AND {own} AND {empty})")
    return " OR ".join(cases)


def _key(column: str, table: str) -> sa.Column:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey(f"{table}.id", ondelete="CASCADE", name=f"fk_{TABLE}_{column}_{table}"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "initiative_id",
            sa.Integer(),
            sa.ForeignKey(
                "initiatives.id", ondelete="CASCADE", name=f"fk_{TABLE}_initiative_id_initiatives"
            ),
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        _key("outcome_id", "outcomes"),
        _key("indicator_id", "indicators"),
        _key("dimension_id", "dimensions"),
        _key("category_id", "categories"),
        _key("story_id", "story_versions"),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("translated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "translated_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name=f"fk_{TABLE}_translated_by_id_users"
            ),
            nullable=True,
        ),
        sa.Column("translated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sa.UniqueConstraint(
            "entity_type",
            "entity_id",
            "field",
            "locale",
            name=f"uq_{TABLE}_entity_type_entity_id_field_locale",
        ),
        sa.CheckConstraint(
            "entity_type IN ({})".format(", ".join(repr(e) for e in ENTITIES)),
            name=f"ck_{TABLE}_entity_type",
        ),
        sa.CheckConstraint(_one_key(), name=f"ck_{TABLE}_one_entity"),
        sa.CheckConstraint("locale <> 'en'", name=f"ck_{TABLE}_not_english"),
    )
    for column in ["initiative_id", *KEYS]:
        op.create_index(f"ix_{TABLE}_{column}", TABLE, [column])
    if op.get_bind().dialect.name == "sqlite":
        for operation in OPERATIONS:
            rows = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}[operation]
            scopes = " UNION ".join(f"SELECT {r}.initiative_id AS s" for r in rows)
            op.execute(
                f"CREATE TRIGGER revision_{TABLE}_{operation.lower()} AFTER {operation} "
                f"ON {TABLE} BEGIN "
                "INSERT INTO data_revisions (scope, setup, reports, changed_at) "
                f"SELECT s, 1, 0, CURRENT_TIMESTAMP FROM ({scopes}) WHERE s IS NOT NULL "
                "ON CONFLICT (scope) DO UPDATE SET setup = setup + 1, "
                "changed_at = CURRENT_TIMESTAMP; END"
            )
    else:
        # As migration 0023's: bump at the commit, through its cm_bump_revision.
        op.execute(
            f"""
            CREATE FUNCTION revision_{TABLE}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'DELETE' THEN
                    PERFORM cm_bump_revision(NEW.initiative_id, 'setup');
                END IF;
                IF TG_OP <> 'INSERT' THEN
                    IF TG_OP = 'DELETE' OR OLD.initiative_id IS DISTINCT FROM
                            NEW.initiative_id THEN
                        PERFORM cm_bump_revision(OLD.initiative_id, 'setup');
                    END IF;
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER revision_{TABLE} "
            f"AFTER INSERT OR UPDATE OR DELETE ON {TABLE} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION revision_{TABLE}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS revision_{TABLE}_{operation.lower()}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS revision_{TABLE} ON {TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS revision_{TABLE}()")
    for column in ["initiative_id", *KEYS]:
        op.drop_index(f"ix_{TABLE}_{column}", table_name=TABLE)
    op.drop_table(TABLE)
