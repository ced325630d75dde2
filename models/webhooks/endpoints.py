"""Managing an initiative's webhook endpoints (backbone of that initiative only) and reading
their delivery log.

An endpoint is an https URL (plain http only to this machine, for development and tests), the
events it wants and a secret that signs every delivery. The secret is shown once, when it is
made (on creation and on rotation), and never listed; it is kept readable because signing
needs it. An endpoint of another initiative answers 404, as its initiative does.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative
from models.audit.trail import EntityAudit, record, snapshot
from models.core.actors import Actor
from models.core.addresses import literal_refused
from models.core.errors import InvalidInput, NotFound
from models.core.fields import checked_text
from models.core.i18n import gettext
from models.tables.base import utcnow
from models.tables.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL = 1000
MAX_DESCRIPTION = 300
FIELDS = ("url", "description", "events", "enabled")  # audited; never the secret
ENTITY = "webhook"


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    created_at: datetime
    secret_set_at: datetime


@dataclass(frozen=True)
class EndpointWithSecret(EndpointView):
    secret: str  # shown this once


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event_id: str
    event: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str


def _view(e: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        e.id, e.url, e.description, list(e.events), e.enabled, e.created_at, e.secret_set_at
    )


def _with_secret(e: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(**vars(_view(e)), secret=e.secret)


def checked_url(value: Any) -> str:
    """https, or http to this machine (development, tests); no credentials in it (a URL is
    listed to the whole backbone team) and no fragment."""
    url = checked_text(value, "url", max_length=MAX_URL)
    if any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidInput(gettext("must not contain spaces or control characters"), field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise InvalidInput(gettext("is not a URL"), field="url") from None
    if not host:
        raise InvalidInput(gettext("must be an absolute URL with a host"), field="url")
    local = parts.scheme == "http" and host in LOCAL_HOSTS
    if parts.scheme != "https" and not local:
        raise InvalidInput(
            gettext(
                "must be an https:// URL (http:// only to 127.0.0.1 or localhost, for development)"
            ),
            field="url",
        )
    if literal_refused(host):
        raise InvalidInput(
            gettext(
                "must not point at this machine or a private network (allowed only with "
                "CM_WEBHOOK_ALLOW_PRIVATE_NETWORKS, for development)"
            ),
            field="url",
        )
    if parts.username or parts.password:
        raise InvalidInput(
            gettext("must not hold a user or password: the secret signs"), field="url"
        )
    if parts.fragment:
        raise InvalidInput(gettext("must not have a #fragment"), field="url")
    return url


def checked_events(value: Any) -> list[str]:
    """One or more of :data:`WEBHOOK_EVENTS`, each once."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(
            gettext(
                "name one or more of %(webhook_events)s", webhook_events=", ".join(WEBHOOK_EVENTS)
            ),
            field="events",
        )
    for event in value:
        if event not in WEBHOOK_EVENTS:
            raise InvalidInput(
                gettext(
                    "unknown event %(event)r; one of %(webhook_events)s",
                    event=event,
                    webhook_events=", ".join(WEBHOOK_EVENTS),
                ),
                field="events",
            )
    if len(set(value)) != len(value):
        raise InvalidInput(gettext("each event once"), field="events")
    return [e for e in WEBHOOK_EVENTS if e in value]


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "url":
            out[name] = checked_url(value)
        elif name == "description":
            text = checked_text(value, name, max_length=MAX_DESCRIPTION, required=False)
            if text is not None and not text.isprintable():
                raise InvalidInput(
                    gettext("must be one line without control characters"), field=name
                )
            out[name] = text
        elif name == "events":
            out[name] = checked_events(value)
        elif name == "enabled":
            if not isinstance(value, bool):
                raise InvalidInput(gettext("must be true or false"), field=name)
            out[name] = value
        else:
            raise InvalidInput(gettext("is not a field of a webhook"), field=name)
    return out


def _endpoint(session: Session, actor: Actor, slug: str, endpoint_id: int) -> WebhookEndpoint:
    initiative = manageable_initiative(session=session, actor=actor, slug=slug)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.initiative_id != initiative.id:
        raise NotFound(
            gettext("no webhook %(endpoint_id)s in %(slug)r", endpoint_id=endpoint_id, slug=slug),
            field="webhook_id",
        )
    return endpoint


def _audit(session: Session, actor: Actor, endpoint: WebhookEndpoint) -> EntityAudit:
    return EntityAudit(
        session=session, actor=actor, entity_type=ENTITY, initiative_id=endpoint.initiative_id
    )


def list_endpoints(*, session: Session, actor: Actor, initiative_slug: str) -> list[EndpointView]:
    initiative = manageable_initiative(session=session, actor=actor, slug=initiative_slug)
    rows = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.initiative_id == initiative.id)
        .order_by(WebhookEndpoint.id)
    )
    return [_view(e) for e in rows]


def get_endpoint(
    *, session: Session, actor: Actor, initiative_slug: str, endpoint_id: int
) -> EndpointView:
    return _view(_endpoint(session, actor, initiative_slug, endpoint_id))


def create_endpoint(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    url: str,
    description: str | None = None,
    events: Sequence[str] = WEBHOOK_EVENTS,
    enabled: bool = True,
) -> EndpointWithSecret:
    """Register an endpoint; the answer holds its secret, which is not shown again."""
    initiative = manageable_initiative(session=session, actor=actor, slug=initiative_slug)
    fields = _checked(
        {"url": url, "description": description, "events": list(events), "enabled": enabled}
    )
    endpoint = WebhookEndpoint(
        initiative_id=initiative.id,
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        secret_set_at=utcnow(),
        created_by_id=actor.user_id,
        created_at=utcnow(),
        **fields,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, actor, endpoint).created(endpoint.id, snapshot(endpoint, FIELDS))
    return _with_secret(endpoint)


def update_endpoint(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    endpoint_id: int,
    changes: dict[str, Any],
) -> EndpointView:
    """Change some of url, description, events and enabled. A disabled endpoint gets no new
    messages, and those already waiting are skipped."""
    endpoint = _endpoint(session, actor, initiative_slug, endpoint_id)
    fields = _checked(changes)
    before = snapshot(endpoint, FIELDS)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    session.flush()
    _audit(session, actor, endpoint).updated(endpoint.id, before, snapshot(endpoint, FIELDS))
    return _view(endpoint)


def delete_endpoint(
    *, session: Session, actor: Actor, initiative_slug: str, endpoint_id: int
) -> EndpointView:
    """Remove the endpoint, its waiting messages and its delivery log (the audit trail keeps
    what was delivered); answers what was removed."""
    endpoint = _endpoint(session, actor, initiative_slug, endpoint_id)
    gone = _view(endpoint)
    _audit(session, actor, endpoint).deleted(endpoint.id, snapshot(endpoint, FIELDS))
    session.delete(endpoint)
    session.flush()
    return gone


def rotate_secret(
    *, session: Session, actor: Actor, initiative_slug: str, endpoint_id: int
) -> EndpointWithSecret:
    """A new secret, at once: deliveries from now on (retries of earlier events included) are
    signed with it; the answer holds it, once."""
    endpoint = _endpoint(session, actor, initiative_slug, endpoint_id)
    endpoint.secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint.secret_set_at = utcnow()
    session.flush()
    record(
        session=session,
        actor=actor,
        initiative_id=endpoint.initiative_id,
        entity_type=ENTITY,
        entity_id=endpoint.id,
        action="rotate_secret",
        after={"secret_set_at": endpoint.secret_set_at},
    )
    return _with_secret(endpoint)


def deliveries(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    endpoint_id: int,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DeliveryView], int]:
    """Every attempt to deliver to the endpoint, newest first, with the total."""
    endpoint = _endpoint(session, actor, initiative_slug, endpoint_id)
    where = WebhookDelivery.endpoint_id == endpoint.id
    total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(where)) or 0
    rows = session.scalars(
        select(WebhookDelivery)
        .where(where)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        DeliveryView(
            d.id,
            d.event_id,
            d.event,
            d.attempt,
            d.at,
            d.status_code,
            d.error,
            d.duration_ms,
            d.outcome,
        )
        for d in rows
    ], total
