"""Writing the audit trail: one helper every rule module uses to record a change.

``record`` adds an :class:`~models.tables.audit.AuditEvent` (append-only) for the acting user or key;
``snapshot`` turns an object's fields into a JSON-able dict for its ``before`` and ``after``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.actors import Actor
from models.core.i18n import gettext
from models.tables.audit import AuditEvent


def jsonable(value: Any) -> Any:
    """A value the JSON column can store: dates as ISO text, sets as sorted lists, and so on."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-able dict."""
    return {name: jsonable(getattr(obj, name)) for name in fields}


def record(
    *,
    session: Session,
    actor: Actor,
    entity_type: str,
    entity_id: int | None,
    action: str,
    initiative_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add one audit event (flushed with the change it describes, never committed here).

    ``initiative_id`` scopes the event to an initiative; leave it ``None`` for deployment-wide
    objects (organisations) and for the deletion of an initiative itself, whose scoped events
    the database removes with it.
    """
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        initiative_id=initiative_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        reason=reason,
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class EntityAudit:
    """The audit events of one kind of object in one initiative: what the configuration
    functions record for every create, update and delete."""

    session: Session
    actor: Actor
    entity_type: str
    initiative_id: int | None = None

    def _record(self, entity_id: int | None, action: str, **change: Any) -> None:
        record(
            session=self.session,
            actor=self.actor,
            initiative_id=self.initiative_id,
            entity_type=self.entity_type,
            entity_id=entity_id,
            action=action,
            **change,
        )

    def created(self, entity_id: int | None, after: Mapping[str, Any]) -> None:
        self._record(entity_id, "create", after=after)

    def updated(
        self, entity_id: int | None, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        self._record(entity_id, "update", before=before, after=after)

    def deleted(self, entity_id: int | None, before: Mapping[str, Any]) -> None:
        self._record(entity_id, "delete", before=before)


def record_in(initiative_ids: Iterable[int | None], **event: Any) -> None:
    """Record one change in each initiative it concerns (e.g. an account working in several),
    so each backbone team reads it in its own trail."""
    for initiative_id in initiative_ids:
        record(initiative_id=initiative_id, **event)


ACCESS_ENTITIES = ("user", "grant", "api_key")


def list_events(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str | None = None,
    entity_types: Sequence[str] | None = None,
    action: str | None = None,
    entity_id: int | None = None,
    from_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Audit events, newest first, with the total: admins read every event, backbone staff the
    events of their initiatives (an account-wide change is recorded once per initiative the
    account works in, so each backbone team sees what touched its people). ``entity_id`` with
    ``entity_types`` narrows them to one object's changes (an indicator's, a period's);
    ``from_id`` to the events recorded since that one (ids only grow: the trail is append-only)."""
    from models.core.errors import NotFound, PermissionDenied
    from models.tables.initiative import Initiative

    if actor.is_anonymous:
        raise PermissionDenied(gettext("log in first"))
    query = select(AuditEvent)
    if initiative_slug is not None:
        initiative_id = session.scalar(
            select(Initiative.id).where(Initiative.slug == initiative_slug)
        )
        if initiative_id is None or not (
            actor.is_backbone(initiative_id) or actor.is_funder(initiative_id)
        ):
            raise NotFound(
                gettext("no initiative %(initiative_slug)r", initiative_slug=initiative_slug),
                field="initiative",
            )
        if not actor.is_backbone(initiative_id):
            raise PermissionDenied(
                gettext("only the initiative's backbone staff read its audit trail")
            )
        query = query.where(AuditEvent.initiative_id == initiative_id)
    elif not actor.is_admin:
        if not actor.backbone_of:
            raise PermissionDenied(gettext("only admins and backbone staff read the audit trail"))
        query = query.where(AuditEvent.initiative_id.in_(actor.backbone_of))
    if entity_types:
        query = query.where(AuditEvent.entity_type.in_(list(entity_types)))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if from_id is not None:
        query = query.where(AuditEvent.id >= from_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
