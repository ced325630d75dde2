"""Translations of what the backbone team writes: a text per entity, field and language, with a
hash of the English it was translated from, so a later English edit marks it for review
(README, "Languages").

An entity is named by its type and id; the id is also kept in the one foreign key of its type,
so deleting the entity deletes its translations (and the initiative's own, with the initiative).
A story's entity is its first version: every later version of the same indicator and period is
the same story in another wording.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base, utcnow
from models.tables.organisation import _in

# The entity types whose texts may be translated, each with its foreign key column (None: the
# initiative itself, whose id is ``initiative_id``).
ENTITY_COLUMNS: dict[str, str | None] = {
    "initiative": None,
    "outcome": "outcome_id",
    "indicator": "indicator_id",
    "dimension": "dimension_id",
    "category": "category_id",
    "story": "story_id",
}
_KEYS = [c for c in ENTITY_COLUMNS.values() if c]


def _one_key() -> str:
    """The entity's id is in its type's column and every other foreign key is empty."""
    cases = []
    for entity, column in ENTITY_COLUMNS.items():
        own = f"entity_id = {column}" if column else "entity_id = initiative_id"
        empty = " AND ".join(f"{c} IS NULL" for c in _KEYS if c != column)
        cases.append(f"(entity_type = '{entity}' AND {own} AND {empty})")
    return " OR ".join(cases)


class ContentTranslation(Base):
    __tablename__ = "content_translations"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "field", "locale"),
        CheckConstraint(_in("entity_type", tuple(ENTITY_COLUMNS)), name="entity_type"),
        CheckConstraint(_one_key(), name="one_entity"),
        CheckConstraint("locale <> 'en'", name="not_english"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcomes.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    dimension_id: Mapped[int | None] = mapped_column(
        ForeignKey("dimensions.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("story_versions.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(20))  # name, description, definition, text
    locale: Mapped[str] = mapped_column(String(10))  # one of models.core.i18n.LOCALES but "en"
    text: Mapped[str] = mapped_column(Text)
    # sha256 of the English the text was translated from: another hash today means the English
    # changed since, and the translation awaits review.
    source_hash: Mapped[str] = mapped_column(String(64))
    translated_at: Mapped[datetime] = mapped_column(default=utcnow)
    translated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    translated_by: Mapped[str] = mapped_column(String(200))  # the actor's label
