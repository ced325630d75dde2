"""Organisations: visible to every logged-in user; admin and any backbone may create them, only
admin may change or delete them. Deleting one that reported data is refused (409).

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.audit.trail import record, snapshot
from models.core.actors import Actor, require_login
from models.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
)
from models.core.fields import (
    checked_choice,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.paging import DEFAULT_LIMIT, Page, contains_text, page_of
from models.tables.initiative import Initiative, Member
from models.tables.organisation import SECTORS, SLUG_PATTERN, Organisation

ORGANISATION_FIELDS = ("slug", "name", "sector", "website", "description")


def _check_organisation_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = checked_text(value, name, max_length=200)
        elif name == "sector":
            out[name] = checked_choice(value, SECTORS, name)
        elif name == "website":
            out[name] = checked_text(value, name, max_length=300, required=False)
        elif name == "description":
            out[name] = checked_text(value, name, required=False)
        else:
            out[name] = value
    return out


def list_organisations(
    *,
    session: Session,
    actor: Actor,
    sector: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Organisation]:
    """Every organisation (partner names are shared within the deployment), by name."""
    require_login(actor)
    stmt = select(Organisation).order_by(Organisation.name, Organisation.slug)
    if sector:
        stmt = stmt.where(Organisation.sector == sector)
    if q:
        stmt = stmt.where(
            or_(contains_text(Organisation.name, q), contains_text(Organisation.slug, q))
        )
    return page_of(session=session, stmt=stmt, limit=limit, offset=offset)


def get_organisation(*, session: Session, actor: Actor, slug: str) -> Organisation:
    require_login(actor)
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"no organisation {slug!r}", field="slug")
    return org


def create_organisation(
    *,
    session: Session,
    actor: Actor,
    slug: str,
    name: str,
    sector: str,
    website: str | None = None,
    description: str | None = None,
) -> Organisation:
    """Admin and any initiative's backbone may add a partner organisation."""
    require_login(actor)
    if not (actor.is_admin or actor.backbone_of):
        raise PermissionDenied("only admin or backbone staff may add organisations")
    slug = checked_pattern(slug, SLUG_PATTERN, "slug", "slug")
    fields = _check_organisation_fields(
        {"name": name, "sector": sector, "website": website, "description": description}
    )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(f"an organisation with slug {slug!r} exists already", field="slug")
    org = Organisation(slug=slug, **fields)
    session.add(org)
    flush_unique(
        session=session, field="slug", message=f"an organisation with slug {slug!r} exists already"
    )
    record(
        session=session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        action="create",
        after=snapshot(org, ORGANISATION_FIELDS),
    )
    return org


def update_organisation(
    *, session: Session, actor: Actor, slug: str, changes: Mapping[str, Any]
) -> Organisation:
    """Admin only: change name, sector, website or description."""
    org = get_organisation(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied("only admin may change an organisation")
    reject_unknown_changes(changes, ("name", "sector", "website", "description"))
    checked = _check_organisation_fields(dict(changes))
    before = snapshot(org, ORGANISATION_FIELDS)
    for name, value in checked.items():
        setattr(org, name, value)
    session.flush()
    after = snapshot(org, ORGANISATION_FIELDS)
    if after != before:
        record(
            session=session,
            actor=actor,
            entity_type="organisation",
            entity_id=org.id,
            action="update",
            before=before,
            after=after,
        )
    return org


def delete_organisation(*, session: Session, actor: Actor, slug: str) -> Organisation:
    """Admin only; refused while the organisation is a member of any initiative."""
    org = get_organisation(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied("only admin may delete an organisation")
    initiatives = session.scalars(
        select(Initiative.slug)
        .join(Member, Member.initiative_id == Initiative.id)
        .where(Member.organisation_id == org.id)
        .order_by(Initiative.slug)
    ).all()
    if initiatives:
        raise Conflict(
            f"{slug!r} is a member of {', '.join(initiatives)}; remove it there first",
            field="slug",
        )
    record(
        session=session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        action="delete",
        before=snapshot(org, ORGANISATION_FIELDS),
    )
    session.delete(org)
    session.flush()
    return org
