"""Translations of the names, definitions and stories the backbone team writes. HTTP only; the
rules are in models/initiatives/translations.py."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import LoggedInDep, SessionDep
from api.schemas.common import ErrorRead
from api.schemas.translations import TranslationIn, TranslationRead
from models.initiatives import translations as rules

router = APIRouter(prefix="/initiatives/{slug}/translations", tags=["translations"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}
ONE = "/{locale}/{entity_type}/{entity}/{field}"


@router.get("", response_model=list[TranslationRead], responses=ERRORS)
def list_translations(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    locale: str | None = Query(None, description="Only this language (default: every one)."),
    needs_review: bool | None = Query(
        None, description="Only the translations that need review (true) or do not (false)."
    ),
):
    """Every field with English to translate, with its translation in each language if any and
    whether it needs review (backbone team)."""
    return [
        TranslationRead.model_validate(t, from_attributes=True)
        for t in rules.list_translations(
            session=session,
            actor=actor,
            initiative_slug=slug,
            locale=locale,
            needs_review=needs_review,
        )
    ]


@router.put(ONE, response_model=TranslationRead, responses=ERRORS)
def put_translation(
    slug: str,
    locale: str,
    entity_type: str,
    entity: str,
    field: str,
    body: TranslationIn,
    session: SessionDep,
    actor: LoggedInDep,
):
    """Set one field's translation (backbone team), audited; it translates the English as it
    stands now, so it needs no review until that changes."""
    return TranslationRead.model_validate(
        rules.set_translation(
            session=session,
            actor=actor,
            initiative_slug=slug,
            locale=locale,
            entity_type=entity_type,
            entity=entity,
            field=field,
            text=body.text,
        ),
        from_attributes=True,
    )


@router.delete(ONE, response_model=TranslationRead, responses=ERRORS)
def delete_translation(
    slug: str,
    locale: str,
    entity_type: str,
    entity: str,
    field: str,
    session: SessionDep,
    actor: LoggedInDep,
):
    """Delete one field's translation (backbone team), audited: the English shows again."""
    return TranslationRead.model_validate(
        rules.clear_translation(
            session=session,
            actor=actor,
            initiative_slug=slug,
            locale=locale,
            entity_type=entity_type,
            entity=entity,
            field=field,
        ),
        from_attributes=True,
    )
