"""Initiatives: only admin creates or deletes one; its backbone changes its settings.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.audit.trail import EntityAudit, record, snapshot
from models.core.actors import Actor, require_login
from models.core.errors import (
    Conflict,
    PermissionDenied,
)
from models.core.fields import (
    any_row,
    checked_integer,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.tables.initiative import Initiative
from models.tables.organisation import SLUG_PATTERN
from models.tables.reporting import Submission

INITIATIVE_FIELDS = ("slug", "name", "description", "region", "suppression_threshold")


def _check_initiative_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = checked_text(value, name, max_length=200)
        elif name == "region":
            out[name] = checked_text(value, name, max_length=200, required=False)
        elif name == "description":
            out[name] = checked_text(value, name, required=False)
        elif name == "suppression_threshold":
            out[name] = checked_integer(value, name, minimum=1)
        else:
            out[name] = value
    return out


def get_initiative_settings(*, session: Session, actor: Actor, slug: str) -> Initiative:
    """The initiative, for anyone who may view it."""
    return viewable_initiative(session=session, actor=actor, slug=slug)


def create_initiative(
    *,
    session: Session,
    actor: Actor,
    slug: str,
    name: str,
    description: str | None = None,
    region: str | None = None,
    suppression_threshold: int = 10,
) -> Initiative:
    """Admin only."""
    require_login(actor)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only admin may create initiatives"))
    slug = checked_pattern(slug, SLUG_PATTERN, "slug", "slug")
    fields = _check_initiative_fields(
        {
            "name": name,
            "description": description,
            "region": region,
            "suppression_threshold": suppression_threshold,
        }
    )
    if session.scalar(select(Initiative.id).where(Initiative.slug == slug)) is not None:
        raise Conflict(
            gettext("an initiative with slug %(slug)r exists already", slug=slug), field="slug"
        )
    initiative = Initiative(slug=slug, **fields)
    session.add(initiative)
    flush_unique(
        session=session,
        field="slug",
        message=gettext("an initiative with slug %(slug)r exists already", slug=slug),
    )
    EntityAudit(
        session=session, actor=actor, entity_type="initiative", initiative_id=initiative.id
    ).created(initiative.id, snapshot(initiative, INITIATIVE_FIELDS))
    return initiative


def update_initiative(
    *, session: Session, actor: Actor, slug: str, changes: Mapping[str, Any]
) -> Initiative:
    """Backbone or admin: name, description, region, suppression threshold (≥ 1)."""
    initiative = manageable_initiative(session=session, actor=actor, slug=slug)
    reject_unknown_changes(changes, ("name", "description", "region", "suppression_threshold"))
    checked = _check_initiative_fields(dict(changes))
    before = snapshot(initiative, INITIATIVE_FIELDS)
    for name, value in checked.items():
        setattr(initiative, name, value)
    session.flush()
    after = snapshot(initiative, INITIATIVE_FIELDS)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="initiative", initiative_id=initiative.id
        ).updated(initiative.id, before, after)
    return initiative


def delete_initiative(*, session: Session, actor: Actor, slug: str) -> Initiative:
    """Admin only; refused once any member has reported (that data would go with it).

    The event is recorded without an initiative, because the database deletes the initiative's
    own events with it.
    """
    initiative = viewable_initiative(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied(gettext("only admin may delete an initiative"))
    if any_row(
        session=session, stmt=select(Submission.id).where(Submission.initiative_id == initiative.id)
    ):
        raise Conflict(
            gettext("initiative %(slug)r has submissions; it cannot be deleted", slug=slug),
            field="slug",
        )
    record(
        session=session,
        actor=actor,
        entity_type="initiative",
        entity_id=initiative.id,
        action="delete",
        before=snapshot(initiative, INITIATIVE_FIELDS),
    )
    session.delete(initiative)
    session.flush()
    return initiative
