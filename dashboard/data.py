"""The dashboard's one door to the data: domain functions, called with the request's actor.

Callbacks and layouts call these functions; none of them builds a query of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from models.directory import InitiativeSummary, initiative_directory

__all__ = ["InitiativeSummary", "configure", "current_actor", "directory"]
from models.permissions import ANONYMOUS, Actor

_session_factory: sessionmaker[Session] | None = None


def configure(session_factory: sessionmaker[Session]) -> None:
    global _session_factory
    _session_factory = session_factory


@contextmanager
def _session() -> Iterator[Session]:
    if _session_factory is None:
        raise RuntimeError("dashboard.data.configure() was not called")
    session = _session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_actor() -> Actor:
    """The logged-in user of this request; anonymous until login lands."""
    return ANONYMOUS


def directory() -> list[InitiativeSummary]:
    with _session() as session:
        return initiative_directory(session=session, actor=current_actor())
