"""Bodies of the translations of what the backbone team writes (README, "Languages")."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel


class TranslationIn(WriteModel):
    text: str = Field(
        description="The field in the path's language: trimmed, not empty, at most as long as "
        "the field allows (names as their English, 200 or 120 characters; descriptions, "
        "definitions and stories 4000; units 40).",
        examples=["Niñas y niños atendidos"],
    )


class TranslationRead(ReadModel):
    entity_type: str = Field(
        description="initiative, outcome, indicator, dimension, category or story."
    )
    entity: str = Field(
        description="Its code: the initiative's slug, `dimension=category` for a category, "
        "`indicator@period` for a story."
    )
    field: str = Field(description="name, description, definition, unit or text (a story's).")
    locale: str
    english: str = Field(description="The English as it stands now.")
    text: str | None = Field(description="The translation; null when there is none yet.")
    needs_review: bool = Field(
        description="The English changed since the translation was written: it is still "
        "shown, but should be checked."
    )
    translated_by: str | None
    translated_at: datetime | None
