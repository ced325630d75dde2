"""The figure views' data version: an index over the events that can change an approved figure.

Partners' work in progress (values saved, reports opened, submitted or returned, extensions)
leaves most audit events of a reporting season and changes no approved figure; access events
(users, grants, API keys) and messages sent change no figure either. The scorecard,
series and equity views version their answers by the other events only (README: Scaling); this
partial index finds the newest of them, and counts those behind it, without reading the rest.

Revision ID: 0010_figure_events
Revises: 0009_partner_totals
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_figure_events"
down_revision: str | None = "0009_partner_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As models.tables.audit.MOVES_FIGURES on the day this revision was written: a migration keeps
# its own copy, so that a later change of the model makes a new revision instead of editing this.
MOVES_FIGURES = (
    "NOT (entity_type IN ('user', 'grant', 'api_key', 'notification') OR "
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return')))"
)


def upgrade() -> None:
    op.create_index(
        "ix_audit_events_figures",
        "audit_events",
        ["initiative_id", "at"],
        sqlite_where=sa.text(MOVES_FIGURES),
        postgresql_where=sa.text(MOVES_FIGURES),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_figures", table_name="audit_events")
