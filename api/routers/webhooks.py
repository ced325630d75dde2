"""An initiative's webhook endpoints and their delivery log (backbone of the initiative). HTTP
only; the rules are in models/webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import LoggedInDep, SessionDep
from api.schemas.common import ErrorRead, Page, RowId
from api.schemas.webhooks import (
    DeliveryRead,
    WebhookCreate,
    WebhookPatch,
    WebhookRead,
    WebhookWithSecret,
)
from models.webhooks import endpoints as hooks

router = APIRouter(prefix="/initiatives/{slug}/webhooks", tags=["webhooks"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}


@router.get("", response_model=list[WebhookRead], responses=ERRORS)
def list_webhooks(slug: str, session: SessionDep, actor: LoggedInDep):
    """The initiative's endpoints (never their secrets)."""
    return hooks.list_endpoints(session=session, actor=actor, initiative_slug=slug)


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def create_webhook(slug: str, body: WebhookCreate, session: SessionDep, actor: LoggedInDep):
    """Register an endpoint for some events; the answer holds its secret, shown this once."""
    return hooks.create_endpoint(
        session=session,
        actor=actor,
        initiative_slug=slug,
        url=body.url,
        description=body.description,
        events=list(body.events),
        enabled=body.enabled,
    )


@router.get("/{webhook_id}", response_model=WebhookRead, responses=ERRORS)
def get_webhook(slug: str, webhook_id: RowId, session: SessionDep, actor: LoggedInDep):
    return hooks.get_endpoint(
        session=session, actor=actor, initiative_slug=slug, endpoint_id=webhook_id
    )


@router.patch("/{webhook_id}", response_model=WebhookRead, responses=ERRORS)
def update_webhook(
    slug: str, webhook_id: RowId, body: WebhookPatch, session: SessionDep, actor: LoggedInDep
):
    """Change the URL, description, events or enabled flag."""
    return hooks.update_endpoint(
        session=session,
        actor=actor,
        initiative_slug=slug,
        endpoint_id=webhook_id,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{webhook_id}", response_model=WebhookRead, responses=ERRORS)
def delete_webhook(slug: str, webhook_id: RowId, session: SessionDep, actor: LoggedInDep):
    """Remove the endpoint with its waiting messages and delivery log."""
    return hooks.delete_endpoint(
        session=session, actor=actor, initiative_slug=slug, endpoint_id=webhook_id
    )


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, responses=ERRORS)
def rotate_webhook_secret(slug: str, webhook_id: RowId, session: SessionDep, actor: LoggedInDep):
    """A new secret, in force at once; the answer holds it, shown this once."""
    return hooks.rotate_secret(
        session=session, actor=actor, initiative_slug=slug, endpoint_id=webhook_id
    )


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead], responses=ERRORS)
def list_deliveries(
    slug: str,
    webhook_id: RowId,
    session: SessionDep,
    actor: LoggedInDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Every attempt to deliver to the endpoint, newest first: when, the HTTP status or the
    error, how long it took, and whether it will be tried again."""
    items, total = hooks.deliveries(
        session=session,
        actor=actor,
        initiative_slug=slug,
        endpoint_id=webhook_id,
        limit=limit,
        offset=offset,
    )
    return Page[DeliveryRead](
        items=[DeliveryRead.model_validate(d) for d in items],
        total=total,
        limit=limit,
        offset=offset,
    )
