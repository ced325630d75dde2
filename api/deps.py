"""Request dependencies: one database session per request (and one on the read replica for the
views that read from it), the acting user (or a logged-in one), and the page of a list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from models.access.login import actor_for_token
from models.core.actors import ANONYMOUS, Actor
from models.core.db import session_scope
from models.core.errors import AuthenticationFailed
from models.core.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/token, or an API key (cm_…).",
)


def get_session(request: Request) -> Iterator[Session]:
    """A session that commits when the handler succeeds and rolls back when it raises."""
    with session_scope(request.app.state.session_factory) as session:
        yield session


# Function scope: commit (or roll back) before the response is sent, never after, so a
# client never sees success for a write that is not yet durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(request: Request, session: SessionDep) -> Iterator[Session]:
    """The session of the reads that may lag (analytics and public views): on the read replica
    when one is configured, else the request's own session on the primary, as if there were
    none. Who is asking is still read on the primary (architecture: Scale)."""
    factory = request.app.state.read_session_factory
    if factory is request.app.state.session_factory:
        yield session
        return
    with session_scope(factory) as read:
        yield read


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The acting user or API key; anonymous without credentials, 401 with bad ones."""
    if credentials is None:
        request.app.state.rate_limiter.hit(f"client:{client_address(request)}")
        return ANONYMOUS
    actor = actor_for_token(session=session, token=credentials.credentials)
    request.state.actor_label = actor.label
    request.app.state.rate_limiter.hit(actor.label)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def logged_in_actor(actor: ActorDep) -> Actor:
    """The actor, who must be logged in; checked before the body, so anonymous callers get 401
    whatever they send (the domain checks again)."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    return actor


LoggedInDep = Annotated[Actor, Depends(logged_in_actor)]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageDep = Annotated[Pagination, Depends(pagination)]
SearchDep = Annotated[str | None, Query(max_length=200, description="Name or code contains.")]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
