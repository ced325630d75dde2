"""The story behind the curve: the backbone team's narrative of one indicator in one period.

Append-only: each edit is a new version, so older versions stay readable and a publication can
name the version it carried (README: Stories).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, utcnow


class StoryVersion(Base):
    __tablename__ = "story_versions"
    __table_args__ = (
        UniqueConstraint("indicator_id", "period_id", "version"),
        Index("ix_story_versions_initiative_period", "initiative_id", "period_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, … per indicator and period
    text: Mapped[str] = mapped_column(Text)  # Markdown as written; "" withdraws the story
    written_at: Mapped[datetime] = mapped_column(default=utcnow)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_by: Mapped[str] = mapped_column(String(200))  # the actor's label, kept if the user goes
