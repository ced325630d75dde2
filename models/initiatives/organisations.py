"""Organisations: visible to every logged-in user; only admin may change or delete them.
Deleting one that is a member anywhere is refused (409).

Who adds one to the deployment's shared directory (:func:`check_may_create`): an admin, on its
own; the backbone team of an initiative only as a new member of that initiative
(:func:`models.initiatives.members.add_member` with ``new_organisation``), so every
organisation backbone staff add belongs to, and is audited in, an initiative they run.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.audit.trail import record, snapshot
from models.core.actors import Actor, require_login
from models.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from models.core.fields import (
    checked_choice,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, contains_text, page_of
from models.tables.initiative import Initiative, Member
from models.tables.organisation import SECTORS, SLUG_PATTERN, Organisation

ORGANISATION_FIELDS = ("slug", "name", "sector", "website", "description")
SLUG_MAX = 80  # the column's length


def suggest_slug(name: str | None) -> str:
    """A slug for an organisation's name (``Eastside Schools & Co.`` → ``eastside-schools-co``):
    accents dropped, lower case, anything else a single hyphen; empty when nothing is left.
    Only a suggestion: the person may change it before saving, and a taken one is refused."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def _checked_slug(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(gettext("is required"), field=field)
    if len(value) > SLUG_MAX or not re.fullmatch(SLUG_PATTERN, value):
        raise InvalidInput(
            gettext(
                "%(value)r is not a valid slug: lower-case letters and digits in words "
                "joined by single hyphens, like eastside-schools, at most %(slug_max)s "
                "characters",
                value=value,
                slug_max=SLUG_MAX,
            ),
            field=field,
        )
    return value


def check_may_create(actor: Actor, initiative: Initiative | None) -> None:
    """Refuse anyone who may not add an organisation to the shared directory: an admin may,
    anywhere; the backbone team of ``initiative`` only as the organisation joins it (``None``:
    on its own, admins only). Names in the directory are seen by every logged-in user of every
    initiative, so one initiative's staff do not add entries no initiative of theirs answers
    for (architecture: People and permissions)."""
    require_login(actor)
    if actor.is_admin:
        return
    if initiative is None:
        raise PermissionDenied(
            gettext(
                "only admin adds an organisation on its own; backbone staff add one as a new "
                "member of their initiative (POST /initiatives/{slug}/members with new_organisation)"
            )
        )
    if not actor.is_backbone(initiative.id):
        raise PermissionDenied(
            gettext("only the backbone team of %(slug)r may enrol partners", slug=initiative.slug)
        )


def _check_organisation_fields(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The fields checked, by name; a refusal names ``{prefix}{name}``."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        field = f"{prefix}{name}"
        if name == "name":
            out[name] = checked_text(value, field, max_length=200)
        elif name == "sector":
            if value is None:
                raise InvalidInput(gettext("is required"), field=field)
            out[name] = checked_choice(value, SECTORS, field)
        elif name == "website":
            out[name] = checked_text(value, field, max_length=300, required=False)
        elif name == "description":
            out[name] = checked_text(value, field, required=False)
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
        raise NotFound(gettext("no organisation %(slug)r", slug=slug), field="slug")
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
    initiative: Initiative | None = None,
    field_prefix: str = "",
) -> Organisation:
    """Add a partner organisation: on its own (admin), or as it joins ``initiative`` (its
    backbone team, through :func:`models.initiatives.members.add_member`), when its creation
    is audited in that initiative too. ``field_prefix`` (``new_organisation.``) names the
    fields of a refusal as the caller's body does."""
    check_may_create(actor, initiative)
    fields = _check_organisation_fields(  # the name first: a slug is usually made from it
        {"name": name, "sector": sector, "website": website, "description": description},
        field_prefix,
    )
    slug = _checked_slug(slug, f"{field_prefix}slug")
    taken = gettext("an organisation with slug %(slug)r exists already", slug=slug)
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(taken, field=f"{field_prefix}slug")
    org = Organisation(slug=slug, **fields)
    session.add(org)
    flush_unique(session=session, field=f"{field_prefix}slug", message=taken)
    record(
        session=session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        action="create",
        initiative_id=None if initiative is None else initiative.id,
        after=snapshot(org, ORGANISATION_FIELDS),
    )
    return org


def update_organisation(
    *, session: Session, actor: Actor, slug: str, changes: Mapping[str, Any]
) -> Organisation:
    """Admin only: change name, sector, website or description."""
    org = get_organisation(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only admin may change an organisation"))
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
        raise PermissionDenied(gettext("only admin may delete an organisation"))
    initiatives = session.scalars(
        select(Initiative.slug)
        .join(Member, Member.initiative_id == Initiative.id)
        .where(Member.organisation_id == org.id)
        .order_by(Initiative.slug)
    ).all()
    if initiatives:
        raise Conflict(
            gettext(
                "%(slug)r is a member of %(initiatives)s; remove it there first",
                slug=slug,
                initiatives=", ".join(initiatives),
            ),
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
