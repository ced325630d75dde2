"""Writing and reading the stories behind the curve (README: Stories).

The backbone team writes; each edit that changes the text is a new version with an audit event.
Below the backbone team (partners, funders) a story is seen only as a publication of its period
carries it: a narrative is written for publication, and a draft of it is no more theirs to read
than the unpublished figures it talks about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.audit.trail import record
from models.core.actors import Actor, shown_label
from models.core.errors import Conflict, InvalidInput, NotFound
from models.core.i18n import gettext
from models.stories.render import render_markdown
from models.tables.indicator import Indicator
from models.tables.initiative import Initiative, Period
from models.tables.publication import Publication
from models.tables.story import StoryVersion

MAX_LENGTH = 4000  # characters: a story behind a curve is a few short paragraphs
ENTITY = "story"  # the audit trail's entity type (models.tables.audit.NARRATIVE)


@dataclass(frozen=True)
class Story:
    """One version of a story, as the reader may see it."""

    indicator: str
    period: str
    version: int
    text: str  # Markdown as written
    html: str  # render_markdown(text): safe to show
    written_at: datetime | None  # None when read from a publication (its date is published_at)
    written_by: str | None  # shown to the backbone team only
    published_version: int | None  # the version the period's latest publication carries
    published_at: datetime | None  # of that publication


def _indicator(session: Session, initiative: Initiative, code: str) -> Indicator:
    indicator = session.scalar(
        select(Indicator).where(Indicator.initiative_id == initiative.id, Indicator.code == code)
    )
    if indicator is None:
        raise NotFound(gettext("no indicator %(code)r", code=code), field="code")
    return indicator


def _period(session: Session, initiative: Initiative, key: str) -> Period:
    period = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == key)
    )
    if period is None:
        raise NotFound(gettext("no period %(key)r", key=key), field="period")
    return period


def _latest_publications(
    session: Session, initiative_id: int, period_ids: list[int] | None = None
) -> dict[int, Publication]:
    """Period id → its latest publication."""
    query = select(Publication).where(Publication.initiative_id == initiative_id)
    if period_ids is not None:
        query = query.where(Publication.period_id.in_(period_ids))
    latest: dict[int, Publication] = {}
    for pub in session.scalars(query.order_by(Publication.published_at, Publication.id)):
        latest[pub.period_id] = pub
    return latest


def carried(publication: Publication | None, code: str) -> dict[str, Any] | None:
    """The story a publication froze for an indicator: ``{"version", "text"}``, or None."""
    if publication is None:
        return None
    story = (publication.snapshot.get("stories") or {}).get(code)
    return story if isinstance(story, dict) else None


def _current(session: Session, indicator_id: int, period_id: int) -> StoryVersion | None:
    return session.scalar(
        select(StoryVersion)
        .where(StoryVersion.indicator_id == indicator_id, StoryVersion.period_id == period_id)
        .order_by(StoryVersion.version.desc())
        .limit(1)
    )


def _from_row(
    row: StoryVersion, code: str, period: str, pub: Publication | None, backbone: bool
) -> Story:
    frozen = carried(pub, code)
    return Story(
        indicator=code,
        period=period,
        version=row.version,
        text=row.text,
        html=render_markdown(row.text),
        written_at=row.written_at,
        written_by=shown_label(row.written_by) if backbone else None,
        published_version=frozen["version"] if frozen else None,
        published_at=pub.published_at if frozen and pub else None,
    )


def _from_publication(code: str, period: str, pub: Publication) -> Story | None:
    frozen = carried(pub, code)
    if frozen is None:
        return None
    return Story(
        indicator=code,
        period=period,
        version=frozen["version"],
        text=frozen["text"],
        html=render_markdown(frozen["text"]),
        written_at=None,
        written_by=None,
        published_version=frozen["version"],
        published_at=pub.published_at,
    )


def list_stories(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    indicator_code: str,
    period_key: str | None = None,
) -> list[Story]:
    """The indicator's story of each period, oldest period first: for the backbone team the
    current version (with the one published, if any); for everyone else who sees the
    initiative the version the period's latest publication carries, published periods only."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    indicator = _indicator(session, initiative, indicator_code)
    query = select(Period).where(Period.initiative_id == initiative.id)
    if period_key is not None:
        query = query.where(Period.key == period_key)
    periods = list(session.scalars(query.order_by(Period.starts_on)))
    if period_key is not None and not periods:
        raise NotFound(gettext("no period %(period_key)r", period_key=period_key), field="period")
    pubs = _latest_publications(session, initiative.id, [p.id for p in periods])
    out: list[Story] = []
    if actor.is_backbone(initiative.id):
        newest = (
            select(StoryVersion.period_id, func.max(StoryVersion.version).label("v"))
            .where(StoryVersion.indicator_id == indicator.id)
            .group_by(StoryVersion.period_id)
            .subquery()
        )
        rows = {
            row.period_id: row
            for row in session.scalars(
                select(StoryVersion)
                .join(
                    newest,
                    (newest.c.period_id == StoryVersion.period_id)
                    & (newest.c.v == StoryVersion.version),
                )
                .where(StoryVersion.indicator_id == indicator.id)
            )
        }
        for period in periods:
            if period.id in rows:
                out.append(
                    _from_row(
                        rows[period.id], indicator.code, period.key, pubs.get(period.id), True
                    )
                )
        return out
    for period in periods:
        pub = pubs.get(period.id)
        story = _from_publication(indicator.code, period.key, pub) if pub else None
        if story is not None:
            out.append(story)
    return out


def story_versions(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    indicator_code: str,
    period_key: str,
) -> list[Story]:
    """Every version of the period's story, oldest first (backbone team); everyone else who
    sees the initiative reads the versions the period's publications carried."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    indicator = _indicator(session, initiative, indicator_code)
    period = _period(session, initiative, period_key)
    pub = _latest_publications(session, initiative.id, [period.id]).get(period.id)
    backbone = actor.is_backbone(initiative.id)
    rows = session.scalars(
        select(StoryVersion)
        .where(StoryVersion.indicator_id == indicator.id, StoryVersion.period_id == period.id)
        .order_by(StoryVersion.version)
    ).all()
    if not backbone:
        shown = {
            frozen["version"]
            for p in session.scalars(
                select(Publication).where(
                    Publication.initiative_id == initiative.id,
                    Publication.period_id == period.id,
                )
            )
            if (frozen := carried(p, indicator.code)) is not None
        }
        rows = [r for r in rows if r.version in shown]
    return [_from_row(r, indicator.code, period.key, pub, backbone) for r in rows]


def validate_text(text: Any) -> str:
    """The story's Markdown as stored: text, trimmed, at most :data:`MAX_LENGTH` characters."""
    if not isinstance(text, str):
        raise InvalidInput(gettext("a story is text"), field="text")
    body: str = text.strip()
    if len(body) > MAX_LENGTH:
        raise InvalidInput(
            gettext(
                "a story has at most %(max_length)s characters (%(count)s given)",
                max_length=MAX_LENGTH,
                count=len(body),
            ),
            field="text",
        )
    if "\x00" in body:
        raise InvalidInput(gettext("a story may not hold NUL characters"), field="text")
    return body


def write_story(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    indicator_code: str,
    period_key: str,
    text: Any,
    expected_version: int | None = None,
) -> Story:
    """Set the period's story (backbone team): a new version when the text changes, with an
    audit event; the same text again writes nothing. ``expected_version`` is the version the
    writer edited (0 for none): when another edit landed meanwhile the answer is 409 and
    nothing is written, so no edit silently replaces another."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    indicator = _indicator(session, initiative, indicator_code)
    period = _period(session, initiative, period_key)
    text = validate_text(text)
    current = _current(session, indicator.id, period.id)
    number = current.version if current else 0
    if expected_version is not None and expected_version != number:
        raise Conflict(
            gettext(
                "the story of %(code)s in %(key)s is at version %(number)s, not "
                "%(expected_version)s: someone saved it meanwhile; reload it, then save "
                "again",
                code=indicator.code,
                key=period.key,
                number=number,
                expected_version=expected_version,
            ),
            code="stale_version",
            field="version",
        )
    pub = _latest_publications(session, initiative.id, [period.id]).get(period.id)
    if current is not None and current.text == text:
        return _from_row(current, indicator.code, period.key, pub, True)
    if current is None and not text:
        raise InvalidInput(gettext("write the story first: it is empty"), field="text")
    row = StoryVersion(
        initiative_id=initiative.id,
        indicator_id=indicator.id,
        period_id=period.id,
        version=number + 1,
        text=text,
        written_by_id=actor.user_id,
        written_by=actor.label,
    )
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        initiative_id=initiative.id,
        entity_type=ENTITY,
        entity_id=row.id,
        action="create" if current is None else "update",
        before={"version": current.version, "text": current.text} if current else None,
        after={
            "indicator": indicator.code,
            "period": period.key,
            "version": row.version,
            "text": text,
        },
    )
    return _from_row(row, indicator.code, period.key, pub, True)


def stories_to_publish(
    *, session: Session, initiative_id: int, period_id: int
) -> dict[str, dict[str, Any]]:
    """Indicator code → the current story (``{"version", "text"}``) of every indicator of the
    period that has one: what a publication of the period freezes (an emptied story is not)."""
    newest = (
        select(StoryVersion.indicator_id, func.max(StoryVersion.version).label("v"))
        .where(StoryVersion.initiative_id == initiative_id, StoryVersion.period_id == period_id)
        .group_by(StoryVersion.indicator_id)
        .subquery()
    )
    rows = session.execute(
        select(Indicator.code, StoryVersion.version, StoryVersion.text)
        .join(Indicator, Indicator.id == StoryVersion.indicator_id)
        .join(
            newest,
            (newest.c.indicator_id == StoryVersion.indicator_id)
            & (newest.c.v == StoryVersion.version),
        )
        .where(StoryVersion.period_id == period_id)
        .order_by(Indicator.code)
    ).all()
    return {code: {"version": v, "text": t} for code, v, t in rows if t}
