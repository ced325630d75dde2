"""Reporter grants belong to a membership; API keys may expire.

A reporter grant used to name only an organisation, so it reached that organisation's data in
every initiative it joined, including ones whose backbone never granted it. Each existing
reporter grant becomes one grant per membership the organisation has (the rights it had in
practice), a composite foreign key ties it to ``members`` (a removed membership removes its
grants), and the scope check requires the initiative.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SCOPE = (
    "(role = 'admin' AND initiative_id IS NULL AND organisation_id IS NULL)"
    " OR (role IN ('backbone', 'funder') AND initiative_id IS NOT NULL"
    " AND organisation_id IS NULL)"
    " OR (role = 'reporter' AND organisation_id IS NOT NULL)"
)
NEW_SCOPE = (
    "(role = 'admin' AND initiative_id IS NULL AND organisation_id IS NULL)"
    " OR (role IN ('backbone', 'funder') AND initiative_id IS NOT NULL"
    " AND organisation_id IS NULL)"
    " OR (role = 'reporter' AND initiative_id IS NOT NULL"
    " AND organisation_id IS NOT NULL)"
)


def upgrade() -> None:
    # One grant per membership of the organisation, then the organisation-wide grants go.
    op.execute(
        """
        INSERT INTO role_grants (user_id, role, initiative_id, organisation_id)
        SELECT g.user_id, 'reporter', m.initiative_id, g.organisation_id
        FROM role_grants g JOIN members m ON m.organisation_id = g.organisation_id
        WHERE g.role = 'reporter' AND g.initiative_id IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM role_grants d
            WHERE d.user_id = g.user_id AND d.role = 'reporter'
              AND d.initiative_id = m.initiative_id AND d.organisation_id = g.organisation_id)
        """
    )
    op.execute("DELETE FROM role_grants WHERE role = 'reporter' AND initiative_id IS NULL")
    # Grants whose initiative and organisation form no membership reach nothing any more.
    op.execute(
        """
        DELETE FROM role_grants
        WHERE role = 'reporter' AND NOT EXISTS (
            SELECT 1 FROM members m
            WHERE m.initiative_id = role_grants.initiative_id
              AND m.organisation_id = role_grants.organisation_id)
        """
    )
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_role_grants_scope_matches_role"), type_="check")
        batch_op.create_check_constraint("scope_matches_role", NEW_SCOPE)
        batch_op.create_foreign_key(
            op.f("fk_role_grants_initiative_id_members"),
            "members",
            ["initiative_id", "organisation_id"],
            ["initiative_id", "organisation_id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_role_grants_initiative_id_members"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_role_grants_scope_matches_role"), type_="check")
        batch_op.create_check_constraint("scope_matches_role", OLD_SCOPE)
    # Back to one organisation-wide grant per user and organisation.
    op.execute(
        """
        INSERT INTO role_grants (user_id, role, initiative_id, organisation_id)
        SELECT DISTINCT user_id, 'reporter', CAST(NULL AS INTEGER), organisation_id
        FROM role_grants WHERE role = 'reporter'
        """
    )
    op.execute("DELETE FROM role_grants WHERE role = 'reporter' AND initiative_id IS NOT NULL")
