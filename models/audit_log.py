"""Writing the audit trail: one helper every rule module uses to record a change.

``record`` adds an :class:`~models.audit.AuditEvent` (append-only) for the acting user or key;
``snapshot`` turns an object's fields into a JSON-able dict for its ``before`` and ``after``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.permissions import Actor


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
