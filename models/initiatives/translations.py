"""Translations of what the backbone team writes: names, definitions, descriptions and stories
(README, "Languages").

Each translation keeps a hash of the English it was translated from; when the English changes
the translation *needs review*. It is still shown (better than English to a Spanish reader)
but the backbone team sees it flagged. Every display of a name goes through :func:`localizer`
and :meth:`Localizer.text`: the text in the reader's language when there is one, else the
English. Entities are named by their code in the API: an initiative by its slug, a category by
``dimension=category`` (as a disaggregation is), a story by ``indicator@period``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from models.access.permissions import manageable_initiative
from models.audit.trail import record
from models.core.actors import Actor, shown_label
from models.core.errors import InvalidInput, NotFound
from models.core.i18n import DEFAULT_LOCALE, LOCALES, current_locale, gettext
from models.tables.base import utcnow
from models.tables.indicator import Dimension, Indicator, Outcome, split_pair
from models.tables.initiative import Initiative, Period
from models.tables.story import StoryVersion
from models.tables.translation import ENTITY_COLUMNS, ContentTranslation

ENTITY = "translation"  # the audit trail's entity type
# The fields each entity type may have translated, each with its longest translation: as long
# as its English may be (names), or a few paragraphs (descriptions, definitions, stories).
LONG_TEXT = 4000
FIELDS: dict[str, dict[str, int]] = {
    "initiative": {"name": 200, "description": LONG_TEXT},
    "outcome": {"name": 200, "description": LONG_TEXT},
    "indicator": {"name": 200, "definition": LONG_TEXT, "unit": 40},
    "dimension": {"name": 120},
    "category": {"name": 120},
    "story": {"text": LONG_TEXT},
}
CATEGORY_SEPARATOR = "="  # dimension=category, as a disaggregation key
STORY_SEPARATOR = "@"  # indicator@period


def translated_locales() -> tuple[str, ...]:
    """The languages a text may be translated into: every one the product speaks but English."""
    return tuple(locale for locale in LOCALES if locale != DEFAULT_LOCALE)


def source_hash(english: str) -> str:
    """What a translation remembers of its English: another hash today means it changed."""
    return hashlib.sha256(english.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Source:
    """One translatable field: its entity, its key (the code the API names it by) and English."""

    entity_type: str
    entity_id: int
    key: str
    field: str
    english: str
    position: int  # the order the setup page lists them in


@dataclass(frozen=True)
class Translation:
    """A field's English and its translation into one language (``text`` None: none yet)."""

    entity_type: str
    entity: str
    field: str
    locale: str
    english: str
    text: str | None
    needs_review: bool
    translated_by: str | None
    translated_at: datetime | None


def _stories(session: Session, initiative_id: int) -> Iterator[tuple[int, str, str]]:
    """Each story's first version (its identity), its current text and ``indicator@period``."""
    first = (
        select(
            StoryVersion.indicator_id,
            StoryVersion.period_id,
            func.min(StoryVersion.id).label("first_id"),
            func.max(StoryVersion.version).label("newest"),
        )
        .where(StoryVersion.initiative_id == initiative_id)
        .group_by(StoryVersion.indicator_id, StoryVersion.period_id)
        .subquery()
    )
    rows = session.execute(
        select(first.c.first_id, StoryVersion, Indicator.code, Period.key)
        .select_from(first)
        .join(
            StoryVersion,
            (StoryVersion.indicator_id == first.c.indicator_id)
            & (StoryVersion.period_id == first.c.period_id)
            & (StoryVersion.version == first.c.newest),
        )
        .join(Indicator, Indicator.id == StoryVersion.indicator_id)
        .join(Period, Period.id == StoryVersion.period_id)
        .order_by(Indicator.position, Indicator.code, Period.starts_on)
    ).all()
    for first_id, newest, code, key in rows:
        yield first_id, newest.text, f"{code}{STORY_SEPARATOR}{key}"


def sources(session: Session, initiative: Initiative) -> list[Source]:
    """Every field of the initiative that has English to translate, in the setup page's order."""
    out: list[Source] = []

    def add(entity_type: str, entity_id: int, key: str, values: Mapping[str, str | None]) -> None:
        for field, english in values.items():
            if english and english.strip():
                out.append(Source(entity_type, entity_id, key, field, english, len(out)))

    add(
        "initiative",
        initiative.id,
        initiative.slug,
        {"name": initiative.name, "description": initiative.description},
    )
    for o in session.scalars(
        select(Outcome).where(Outcome.initiative_id == initiative.id).order_by(Outcome.position)
    ):
        add("outcome", o.id, o.code, {"name": o.name, "description": o.description})
    for i in session.scalars(
        select(Indicator)
        .where(Indicator.initiative_id == initiative.id)
        .order_by(Indicator.position, Indicator.code)
    ):
        add(
            "indicator",
            i.id,
            i.code,
            {"name": i.name, "definition": i.definition, "unit": i.unit},
        )
    for d in session.scalars(
        select(Dimension)
        .where(Dimension.initiative_id == initiative.id)
        .order_by(Dimension.position, Dimension.code)
    ):
        add("dimension", d.id, d.code, {"name": d.name})
        for c in d.categories:
            add("category", c.id, f"{d.code}{CATEGORY_SEPARATOR}{c.code}", {"name": c.name})
    for first_id, text, key in _stories(session, initiative.id):
        add("story", first_id, key, {"text": text})
    return out


def _entity_sources(
    session: Session, initiative: Initiative, entity_type: str, key: str
) -> list[Source]:
    """The fields of one entity that have English (the initiative's are all read: setup writes
    are rare, and one reading keeps the keys the same as the listing's)."""
    return [
        s for s in sources(session, initiative) if s.entity_type == entity_type and s.key == key
    ]


def _checked_locale(locale: Any) -> str:
    if not isinstance(locale, str) or locale not in translated_locales():
        raise InvalidInput(
            gettext(
                "%(locale)r is not a language texts are translated into (one of %(locales)s)",
                locale=locale,
                locales=", ".join(translated_locales()),
            ),
            field="locale",
        )
    return locale


def _checked_field(entity_type: str, field: Any) -> str:
    allowed = FIELDS[entity_type]
    if not isinstance(field, str) or field not in allowed:
        raise InvalidInput(
            gettext(
                "%(field)r is not a translated field of this kind (one of %(fields)s)",
                field=field,
                fields=", ".join(allowed),
            ),
            field="field",
        )
    return field


def _checked_text(text: Any, max_length: int) -> str:
    if not isinstance(text, str):
        raise InvalidInput(gettext("must be text"), field="text")
    try:
        text.encode("utf-8")  # a lone surrogate (JSON's "\\ud800") is no text a database keeps
    except UnicodeEncodeError:
        raise InvalidInput(gettext("must be text"), field="text") from None
    body = text.strip()
    if not body:
        raise InvalidInput(
            gettext("must not be empty (delete the translation to show the English)"),
            field="text",
        )
    if len(body) > max_length:
        raise InvalidInput(
            gettext(
                "must be at most %(max_length)s characters (%(count)s given)",
                max_length=max_length,
                count=len(body),
            ),
            field="text",
        )
    if "\x00" in body:
        raise InvalidInput(gettext("may not hold NUL characters"), field="text")
    return body


def _row(session: Session, source: Source, locale: str, field: str) -> ContentTranslation | None:
    return session.scalar(
        select(ContentTranslation).where(
            ContentTranslation.entity_type == source.entity_type,
            ContentTranslation.entity_id == source.entity_id,
            ContentTranslation.field == field,
            ContentTranslation.locale == locale,
        )
    )


def _located(
    session: Session,
    actor: Actor,
    initiative_slug: str,
    locale: Any,
    entity_type: Any,
    entity: Any,
    field: Any,
    clearing: bool = False,
) -> tuple[Initiative, str, Source, str]:
    """The initiative (backbone), the language, the entity's source of ``field`` and the field.
    ``clearing`` finds a field whose English was emptied since, so its translation can go."""
    initiative = manageable_initiative(session=session, actor=actor, slug=initiative_slug)
    locale = _checked_locale(locale)
    if not isinstance(entity_type, str) or entity_type not in FIELDS:
        raise InvalidInput(
            gettext(
                "%(entity_type)r is not something translated (one of %(types)s)",
                entity_type=entity_type,
                types=", ".join(FIELDS),
            ),
            field="entity_type",
        )
    field = _checked_field(entity_type, field)
    fields = _entity_sources(session, initiative, entity_type, str(entity))
    if not fields:
        raise NotFound(
            gettext(
                "the initiative has nothing of type %(entity_type)s named %(key)r with text to translate",
                entity_type=entity_type,
                key=entity,
            ),
            field="entity",
        )
    source = next((s for s in fields if s.field == field), None)
    if source is None and clearing:
        source = replace(fields[0], field=field, english="")
    if source is None:
        raise InvalidInput(
            gettext(
                "the English of the field %(field)s is empty: there is nothing to translate",
                field=field,
            ),
            field="field",
        )
    return initiative, locale, source, field


def _foreign_keys(source: Source) -> dict[str, int]:
    column = ENTITY_COLUMNS[source.entity_type]
    return {column: source.entity_id} if column else {}


def set_translation(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    locale: Any,
    entity_type: Any,
    entity: Any,
    field: Any,
    text: Any,
) -> Translation:
    """Set one field's translation (backbone team), remembering the English it translates, so
    that it needs no review until the English changes; audited. The same text of the same
    English again writes nothing."""
    initiative, locale, source, field = _located(
        session, actor, initiative_slug, locale, entity_type, entity, field
    )
    body = _checked_text(text, FIELDS[source.entity_type][field])
    digest = source_hash(source.english)
    row = _row(session, source, locale, field)
    if row is None or row.text != body or row.source_hash != digest:
        before = {"text": row.text, "source_hash": row.source_hash} if row else None
        if row is None:
            row = ContentTranslation(
                initiative_id=initiative.id,
                entity_type=source.entity_type,
                entity_id=source.entity_id,
                field=field,
                locale=locale,
                **_foreign_keys(source),
            )
            session.add(row)
        row.text = body
        row.source_hash = digest
        row.translated_at = utcnow()
        row.translated_by_id = actor.user_id
        row.translated_by = actor.label
        session.flush()
        record(
            session=session,
            actor=actor,
            initiative_id=initiative.id,
            entity_type=ENTITY,
            entity_id=row.id,
            action="update" if before else "create",
            before=before,
            after={
                "entity_type": source.entity_type,
                "entity": source.key,
                "field": field,
                "locale": locale,
                "text": body,
                "source_hash": digest,
            },
        )
    return _translation(source, locale, row)


def clear_translation(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    locale: Any,
    entity_type: Any,
    entity: Any,
    field: Any,
) -> Translation:
    """Delete one field's translation (backbone team), so the English shows again; audited.
    404 when there is none."""
    initiative, locale, source, field = _located(
        session, actor, initiative_slug, locale, entity_type, entity, field, clearing=True
    )
    row = _row(session, source, locale, field)
    if row is None:
        raise NotFound(
            gettext(
                "the field %(field)s of %(entity_type)s %(key)r has no translation (language %(locale)s)",
                field=field,
                entity_type=source.entity_type,
                key=source.key,
                locale=locale,
            ),
            field="field",
        )
    record(
        session=session,
        actor=actor,
        initiative_id=initiative.id,
        entity_type=ENTITY,
        entity_id=row.id,
        action="delete",
        before={
            "entity_type": source.entity_type,
            "entity": source.key,
            "field": field,
            "locale": locale,
            "text": row.text,
        },
    )
    session.delete(row)
    session.flush()
    return _translation(source, locale, None)


def _translation(source: Source, locale: str, row: ContentTranslation | None) -> Translation:
    return Translation(
        entity_type=source.entity_type,
        entity=source.key,
        field=source.field,
        locale=locale,
        english=source.english,
        text=row.text if row else None,
        needs_review=row is not None and row.source_hash != source_hash(source.english),
        translated_by=shown_label(row.translated_by) if row else None,
        translated_at=row.translated_at if row else None,
    )


def list_translations(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    locale: Any = None,
    needs_review: bool | None = None,
) -> list[Translation]:
    """Every field with English to translate, in each language (or ``locale``), with its
    translation if any and whether that needs review (backbone team)."""
    initiative = manageable_initiative(session=session, actor=actor, slug=initiative_slug)
    locales = (_checked_locale(locale),) if locale is not None else translated_locales()
    rows = {
        (r.entity_type, r.entity_id, r.field, r.locale): r
        for r in session.scalars(
            select(ContentTranslation).where(
                ContentTranslation.initiative_id == initiative.id,
                ContentTranslation.locale.in_(locales),
            )
        )
    }
    fields = sources(session, initiative)
    out = [
        _translation(s, loc, rows.get((s.entity_type, s.entity_id, s.field, loc)))
        for loc in locales
        for s in fields
    ]
    if needs_review is not None:
        out = [t for t in out if t.needs_review == needs_review]
    return out


# --- showing them -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Localizer:
    """The translations of one initiative into one language, by entity type, key and field.

    A cross-tab and its pairs are named from their components (README, "Cross-tabs"): without a
    translation of their own, "Raza/etnia × Ingreso familiar" and "Negra · Ingreso bajo" are
    composed from the components' translations, as their English was, when both have one."""

    locale: str
    texts: Mapping[tuple[str, str, str], str]
    # A cross-tab's code → its (rows, columns) dimension codes.
    cross_tabs: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)

    def text(self, entity_type: str, key: str | None, field: str, english: str) -> str:
        """``english`` in this language when a translation exists, else ``english`` itself."""
        if key is None or not english:
            return english  # no English (any more): nothing a translation could stand for
        found = self.texts.get((entity_type, key, field))
        if found is None and field == "name" and self.cross_tabs:
            found = self._composed(entity_type, key)
        return english if found is None else found

    def _composed(self, entity_type: str, key: str) -> str | None:
        names = self.texts
        if entity_type == "dimension" and key in self.cross_tabs:
            rows, columns = self.cross_tabs[key]
            parts = (
                names.get(("dimension", rows, "name")),
                names.get(("dimension", columns, "name")),
            )
            return None if None in parts else f"{parts[0]} × {parts[1]}"
        dimension, _sep, code = key.partition(CATEGORY_SEPARATOR)
        if entity_type == "category" and dimension in self.cross_tabs and code:
            rows, columns = self.cross_tabs[dimension]
            try:
                row, column = split_pair(code)
            except ValueError:
                return None
            parts = (
                names.get(("category", category_key(rows, row), "name")),
                names.get(("category", category_key(columns, column), "name")),
            )
            return None if None in parts else f"{parts[0]} · {parts[1]}"
        return None

    def name(self, entity_type: str, key: str | None, english: str) -> str:
        return self.text(entity_type, key, "name", english)


ENGLISH = Localizer(DEFAULT_LOCALE, {})


def localizer(
    *, session: Session, initiative_id: int | None, locale: str | None = None
) -> Localizer:
    """The initiative's translations into ``locale`` (the reader's, by default): one read, none
    in English. A translation that needs review is shown all the same."""
    locale = locale or current_locale()
    if locale == DEFAULT_LOCALE or initiative_id is None:
        return Localizer(locale, {})
    rows = session.execute(
        select(
            ContentTranslation.entity_type,
            ContentTranslation.entity_id,
            ContentTranslation.field,
            ContentTranslation.text,
        ).where(
            ContentTranslation.initiative_id == initiative_id,
            ContentTranslation.locale == locale,
        )
    ).all()
    if not rows:
        return Localizer(locale, {})
    types = {r.entity_type for r in rows}
    keys = _keys(session, initiative_id, types)
    return Localizer(
        locale,
        {
            (r.entity_type, keys[(r.entity_type, r.entity_id)], r.field): r.text
            for r in rows
            if (r.entity_type, r.entity_id) in keys
        },
        _cross_tabs(session, initiative_id) if types & {"dimension", "category"} else {},
    )


def _cross_tabs(session: Session, initiative_id: int) -> dict[str, tuple[str, str]]:
    """The initiative's cross-tabs: code → (rows, columns) dimension codes."""
    rows, columns = aliased(Dimension), aliased(Dimension)
    found = session.execute(
        select(Dimension.code, rows.code, columns.code)
        .join(rows, Dimension.row_dimension_id == rows.id)
        .join(columns, Dimension.column_dimension_id == columns.id)
        .where(Dimension.initiative_id == initiative_id)
    )
    return {code: (row, column) for code, row, column in found}


def _keys(session: Session, initiative_id: int, types: set[str]) -> dict[tuple[str, int], str]:
    """(entity type, id) → its key, for the types named."""
    keys: dict[tuple[str, int], str] = {}
    if "initiative" in types:
        slug = session.scalar(select(Initiative.slug).where(Initiative.id == initiative_id))
        if slug is not None:
            keys[("initiative", initiative_id)] = slug
    for entity_type, table in (("outcome", Outcome), ("indicator", Indicator)):
        if entity_type in types:
            for id_, code in session.execute(
                select(table.id, table.code).where(table.initiative_id == initiative_id)
            ):
                keys[(entity_type, id_)] = code
    if "dimension" in types or "category" in types:
        for d in session.scalars(select(Dimension).where(Dimension.initiative_id == initiative_id)):
            keys[("dimension", d.id)] = d.code
            for c in d.categories:
                keys[("category", c.id)] = f"{d.code}{CATEGORY_SEPARATOR}{c.code}"
    if "story" in types:
        for first_id, _text, key in _stories(session, initiative_id):
            keys[("story", first_id)] = key
    return keys


def category_key(dimension: str, category: str) -> str:
    return f"{dimension}{CATEGORY_SEPARATOR}{category}"


def story_key(indicator: str, period: str) -> str:
    return f"{indicator}{STORY_SEPARATOR}{period}"


def frozen_translations(
    *, session: Session, initiative_id: int, snapshot: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """Locale → ``"type:key:field"`` → text, of the names, definitions and stories a
    publication's snapshot carries: what the public reads in that language until the period
    is published again (older snapshots have none, and show the English).

    Only a translation of the English the snapshot publishes is frozen: one that needs review
    translates an English no longer shown (a story rewritten to take a name out, an indicator
    renamed), and its reader is given the English published instead."""
    wanted: dict[tuple[str, str, str], str] = {}  # the English published, by what translates it

    def want(entity_type: str, key: Any, field: str, english: Any) -> None:
        if key is not None and isinstance(english, str) and english.strip():
            wanted[(entity_type, str(key), field)] = english

    for ind in snapshot.get("indicators") or []:
        for field in ("name", "definition", "unit"):
            want("indicator", ind["indicator"], field, ind.get(field))
        if ind.get("outcome"):
            want("outcome", ind["outcome"], "name", ind.get("outcome_name"))
        for b in ind.get("breakdowns") or []:
            want("dimension", b["dimension"], "name", b.get("dimension_name"))
            for c in b["categories"]:
                want("category", c["key"], "name", c.get("label"))
    period = snapshot.get("period")
    for code, story in (snapshot.get("stories") or {}).items():
        want("story", story_key(code, str(period)), "text", (story or {}).get("text"))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            ContentTranslation.locale,
            ContentTranslation.entity_type,
            ContentTranslation.entity_id,
            ContentTranslation.field,
            ContentTranslation.text,
            ContentTranslation.source_hash,
        ).where(
            ContentTranslation.initiative_id == initiative_id,
            ContentTranslation.locale.in_(translated_locales()),
        )
    ).all()
    if not rows:
        return {}
    keys = _keys(session, initiative_id, {r.entity_type for r in rows})
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        key = keys.get((r.entity_type, r.entity_id))
        english = wanted.get((r.entity_type, key, r.field)) if key is not None else None
        if english is not None and r.source_hash == source_hash(english):
            out.setdefault(r.locale, {})[f"{r.entity_type}:{key}:{r.field}"] = r.text
    _compose_cross_tabs(session, initiative_id, rows, keys, wanted, out)
    return {locale: dict(sorted(texts.items())) for locale, texts in sorted(out.items())}


def _compose_cross_tabs(
    session: Session,
    initiative_id: int,
    rows: Any,
    keys: Mapping[tuple[str, int], str],
    wanted: Mapping[tuple[str, str, str], str],
    out: dict[str, dict[str, str]],
) -> None:
    """Freeze a published cross-tab's and its pairs' names composed from their components'
    translations (:class:`Localizer`), each translating its component's English of today."""
    crosses = _cross_tabs(session, initiative_id)
    if not crosses:
        return
    english = {
        ("dimension", d.code): d.name
        for d in session.scalars(select(Dimension).where(Dimension.initiative_id == initiative_id))
    }
    for d in session.scalars(select(Dimension).where(Dimension.initiative_id == initiative_id)):
        for c in d.categories:
            english[("category", category_key(d.code, c.code))] = c.name
    components: dict[str, dict[tuple[str, str, str], str]] = {}
    for r in rows:
        key = keys.get((r.entity_type, r.entity_id))
        current = english.get((r.entity_type, key)) if key is not None else None
        if r.field == "name" and current and r.source_hash == source_hash(current):
            components.setdefault(r.locale, {})[(r.entity_type, str(key), "name")] = r.text
    for locale, texts in components.items():
        composing = Localizer(locale, texts, crosses)
        for (entity_type, key, field_name), published in wanted.items():
            joined = f"{entity_type}:{key}:{field_name}"
            if entity_type not in ("dimension", "category") or joined in out.get(locale, {}):
                continue
            composed = composing.text(entity_type, key, field_name, published)
            if composed != published:
                out.setdefault(locale, {})[joined] = composed


def _unjoined(frozen: Mapping[str, str]) -> dict[tuple[str, str, str], str]:
    """``"type:key:field"`` → text, as (type, key, field) → text."""
    texts: dict[tuple[str, str, str], str] = {}
    for joined, text in frozen.items():
        entity_type, rest = joined.split(":", 1)
        key, field_name = rest.rsplit(":", 1)
        texts[(entity_type, key, field_name)] = text
    return texts


def thawed(snapshot: Mapping[str, Any], locale: str | None = None) -> Localizer:
    """The translations a snapshot froze into ``locale`` (the reader's, by default)."""
    locale = locale or current_locale()
    frozen = (snapshot.get("translations") or {}).get(locale) or {}
    return Localizer(locale, _unjoined(frozen))
