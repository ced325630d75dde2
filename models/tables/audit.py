"""The append-only audit trail: who changed what, when, from what to what, and why.

Rows are only ever inserted; a database trigger (see the initial migration) refuses UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, JSONType, utcnow

# Writes that leave the read views' answers as they were (README: Scaling): access (users,
# grants, API keys: who may see is part of each answer's key, not of its data), messages sent
# or given up on (notifications) and the webhook endpoints they go to; and, for the figure
# views, partners' work in progress (saving values, one by one or by import; opening,
# submitting or returning a report; granting an extension), which changes no approved figure.
# Approving and reopening do, and so does every other change. Nor do the stories behind the
# curve (NARRATIVE): no figure view shows a story; the public sees one only as a publication
# carries it, and publishing moves the figures' version itself; nor do strategies and their
# actions, which no figure view reads (the dashboard draws them beside the figures). Written as
# SQL text so that both databases match the partial index below to the data version's filter.
BOOKKEEPING = "entity_type IN ('user', 'grant', 'api_key', 'notification', 'webhook')"
PARTNER_WORK = (
    "entity_type IN ('value', 'values', 'deadline_extension') "
    "OR (entity_type = 'submission' AND action IN ('create', 'submit', 'return'))"
)
NARRATIVE = "entity_type IN ('story', 'strategy', 'strategy_action')"
MOVES_ANSWERS = f"NOT ({BOOKKEEPING})"
MOVES_FIGURES = f"NOT ({BOOKKEEPING} OR {PARTNER_WORK} OR {NARRATIVE})"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id", "at"),
        Index("ix_audit_events_initiative_at", "initiative_id", "at"),
        Index(
            "ix_audit_events_figures",
            "initiative_id",
            "at",
            sqlite_where=text(MOVES_FIGURES),
            postgresql_where=text(MOVES_FIGURES),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200))  # e.g. "user:jo@x.org", "api-key:cm_ab12"
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)
