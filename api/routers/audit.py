"""The audit trail: who changed what, including every change of access (users, grants, keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LoggedInDep, SessionDep
from api.schemas.audit import AuditEventRead
from api.schemas.common import ErrorRead, Page
from models.audit.trail import ACCESS_ENTITIES, list_events
from models.initiatives.directory import initiative_slugs

router = APIRouter(prefix="/audit", tags=["audit"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}


@router.get("", response_model=Page[AuditEventRead], responses=ERRORS)
def list_audit_events(
    session: SessionDep,
    actor: LoggedInDep,
    initiative: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9-]+$")] = None,
    entity_type: Annotated[
        list[str] | None,
        Query(
            max_length=10,
            description=f"Only these kinds; access changes are {', '.join(ACCESS_ENTITIES)}.",
        ),
    ] = None,
    action: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Audit events, newest first: admins see all, backbone staff their initiatives' events."""
    events, total = list_events(
        session=session,
        actor=actor,
        initiative_slug=initiative,
        entity_types=entity_type,
        action=action,
        limit=limit,
        offset=offset,
    )
    slugs = initiative_slugs(session=session, ids={e.initiative_id for e in events})
    items = [
        AuditEventRead(
            id=e.id,
            at=e.at,
            actor_user_id=e.actor_user_id,
            actor_label=e.actor_label,
            initiative=slugs.get(e.initiative_id),
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            action=e.action,
            before=e.before,
            after=e.after,
            reason=e.reason,
        )
        for e in events
    ]
    return Page[AuditEventRead](items=items, total=total, limit=limit, offset=offset)
