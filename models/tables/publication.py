"""Publications: the backbone's act of making a period's suppressed rollups public.

Each act is kept as a vintage with its snapshot, so a later correction never changes what the
public saw until the period is published again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, JSONType, utcnow


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        Index("ix_publications_initiative_period", "initiative_id", "period_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
