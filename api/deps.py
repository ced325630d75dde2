"""Request dependencies: one database session per request (and one on the read replica for the
views that read from it), the acting user (or a logged-in one), and the page of a list.

FastAPI runs a synchronous dependency in the thread pool, and every trip there and back costs
the event loop about as much as a small query. So what does no I/O is ``async`` (making a
session, checking a login, reading the page) and runs on the loop; what reads the database
(who is asking, the endpoint) goes to the pool, and so does finishing a session that talked to
the database: a read answer makes three trips, not seven (README, "Scaling")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models.access.login import actor_for_token
from models.core import i18n
from models.core.actors import ANONYMOUS, Actor
from models.core.db import retrying_stale, session_scope
from models.core.errors import AuthenticationFailed
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/token, or an API key (cm_…).",
)


@asynccontextmanager
async def _scoped(factory: sessionmaker[Session]) -> AsyncIterator[Session]:
    """One unit of work, as ``models.core.db.session_scope``: commit when the handler
    succeeds, roll back when it raises. Making a session does no I/O, so it happens on the
    event loop; ending one that began a transaction does, so that goes to the thread pool."""
    session = factory()
    try:
        yield session
    except BaseException:
        await _finish(session, session.rollback)
        raise
    else:
        await _finish(session, session.commit)


async def _finish(session: Session, end) -> None:
    if not session.in_transaction():  # never reached the database: nothing to end
        session.close()
        return

    def end_and_close() -> None:
        try:
            end()
        finally:
            session.close()

    await run_in_threadpool(end_and_close)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session that commits when the handler succeeds and rolls back when it raises."""
    async with _scoped(request.app.state.session_factory) as session:
        yield session


# Function scope: commit (or roll back) before the response is sent, never after, so a
# client never sees success for a write that is not yet durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(request: Request, session: SessionDep) -> AsyncIterator[Session]:
    """The session of the reads that may lag (analytics and public views): on the read replica
    when one is configured, else the request's own session on the primary, as if there were
    none. Who is asking is still read on the primary (architecture: Scale)."""
    factory = request.app.state.read_session_factory
    if factory is request.app.state.session_factory:
        yield session
        return
    async with _scoped(factory) as read:
        yield read


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_actor(request: Request, session: SessionDep, credentials: CredentialsDep) -> Actor:
    """The acting user or API key; anonymous without credentials, 401 with bad ones."""
    return _actor(request, session, credentials)


def _actor(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Actor:
    if credentials is None:
        request.app.state.rate_limiter.hit(f"client:{client_address(request)}")
        return ANONYMOUS
    return acting(request, actor_for_token(session=session, token=credentials.credentials))


def acting(request: Request, actor: Actor) -> Actor:
    """What a request does once it knows who asks: their language, their label in the log, a
    hit on their rate limit."""
    i18n.prefer(actor.locale)  # the user's own language wins over the browser's
    request.state.actor_label = actor.label
    request.app.state.rate_limiter.hit(actor.label)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


async def logged_in_actor(actor: ActorDep) -> Actor:
    """The actor, who must be logged in; checked before the body, so anonymous callers get 401
    whatever they send (the domain checks again)."""
    if actor.is_anonymous:
        raise AuthenticationFailed(gettext("log in first"))
    return actor


LoggedInDep = Annotated[Actor, Depends(logged_in_actor)]


T = TypeVar("T")


async def in_one_trip(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    answer: Callable[[Session, Actor], T],
    first: Callable[[Session], None] | None = None,
    kept: Callable[[Engine, str], T | None] | None = None,
    *,
    on_primary: bool = False,
) -> T:
    """A logged-in read view's whole work in one trip to the thread pool: who is asking (on
    the primary), the answer (on the read session, as ``ReadSessionDep``), and the end of both
    transactions. The views dashboards poll most answer mostly from the response cache, so the
    trips the dependencies above would make (the actor, the endpoint, ending the session) are
    most of their time.

    ``first`` reads, before the actor, what the answer needs first and the access revision
    in the same statement (completeness: ``read_revisions_first``), when the answer reads on
    the primary too: a replica's lagging access revision must never vouch for a kept actor.

    ``kept`` tries first, without a session, to answer from what this process keeps (given
    the primary's engine and the credentials; completeness asked again): None, and the request
    is answered as above.

    ``on_primary`` answers on the primary whatever the read session: an answer whose version
    the client sends back with its next write (a report's ``ETag``) must not lag."""
    state = request.app.state
    replica = state.read_session_factory is not state.session_factory
    same = on_primary or not replica
    engine = state.session_factory.kw.get("bind")
    token = credentials.credentials if credentials is not None else None
    if not isinstance(engine, Engine) or replica or token is None:
        kept = None  # a test's sessions on one connection, a replica, no one to keep for

    def work() -> T:
        if kept is not None and token is not None:
            answered = kept(engine, token)
            if answered is not None:
                return answered
        with session_scope(state.session_factory) as session:
            if first is not None and same and credentials is not None:
                first(session)
            actor = _actor(request, session, credentials)
            if actor.is_anonymous:
                raise AuthenticationFailed(gettext("log in first"))
            if same:
                return answer(session, actor)
            with session_scope(state.read_session_factory) as read:
                return answer(read, actor)

    # Read views: run again when a connection handed out without its ping was found ended.
    return await run_in_threadpool(retrying_stale, work)


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


async def pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageDep = Annotated[Pagination, Depends(pagination)]
SearchDep = Annotated[str | None, Query(max_length=200, description="Name or code contains.")]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
