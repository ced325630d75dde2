"""Request dependencies: one database session per request, and the acting user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from models.permissions import ANONYMOUS, Actor


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


def get_actor() -> Actor:
    """The acting user. Until authentication lands, every request acts anonymously."""
    return ANONYMOUS


SessionDep = Annotated[Session, Depends(get_session)]
ActorDep = Annotated[Actor, Depends(get_actor)]
