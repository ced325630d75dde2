"""Request dependencies: one database session per request, and the acting user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from models.access.login import actor_for_token
from models.core.actors import ANONYMOUS, Actor

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/token, or an API key (cm_…).",
)


def get_session(request: Request) -> Iterator[Session]:
    """A session that commits when the handler succeeds and rolls back when it raises."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Function scope: commit (or roll back) before the response is sent, never after, so a
# client never sees success for a write that is not yet durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
