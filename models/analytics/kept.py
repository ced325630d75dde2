"""What the figure views derive from an initiative's setup alone, kept across requests under its
setup revision (README "Scale"; migration 0023_setup_revision).

The database bumps the initiative's setup revision in the transaction of every change to its
periods, members, obligations, indicators, targets, series breaks, dimensions, categories and
contributions, whoever makes it (``models.tables.revisions``). So an approval, a draft or any
other report write leaves what is kept here as it is, and a setup change is never missed: the
revision is read before the rows it keys, so what is kept under it is never older than it.
Nothing read by a transaction that has written is kept or taken (it may roll back, and its
revision be reached again by another commit with other rows). Only plain values are kept
(ids, numbers, frozen records), never ORM objects, and nothing that depends on who asks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, Literal, TypeVar

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from models.core.db import transaction_wrote
from models.tables.initiative import Initiative
from models.tables.revisions import DataRevision

T = TypeVar("T")

SetupKey = tuple[str, int, datetime, int]

_READ = "cm_setup_key"  # Session.info: (transaction, initiative id, its setup key)


@cache
def _setup_statement() -> Executable:
    """The initiative's creation time and setup revision by primary key: built once."""
    return (
        select(Initiative.created_at, DataRevision.setup)
        .outerjoin(DataRevision, DataRevision.scope == Initiative.id)
        .where(Initiative.id == bindparam("initiative_id"))
    )


def setup_key(session: Session, initiative_id: int) -> SetupKey | None:
    """What names the initiative's setup as this session sees it now, or None when nothing
    may be kept (a transaction that has written, or no such initiative). The database's
    address is in it (tests and tools make many databases with the same ids), and the
    initiative's creation time (a database made again starts its counters from zero)."""
    if transaction_wrote(session):
        return None
    # Read once per transaction: the views of one request ask for it several times.
    transaction = session.get_transaction()
    read = session.info.get(_READ)
    if read is not None and read[0] is transaction and read[1] == initiative_id:
        return read[2]  # type: ignore[no-any-return]
    row = (
        session.connection()
        .execute(_setup_statement(), {"initiative_id": initiative_id})
        .one_or_none()
    )
    if row is None:
        return None
    bind = session.get_bind()
    key = (str(bind.engine.url), initiative_id, row.created_at, row.setup or 0)
    session.info[_READ] = (transaction, initiative_id, key)
    return key


def offer_setup_key(session: Session, transaction: Any, initiative_id: int, key: SetupKey) -> None:
    """A setup key read elsewhere in this transaction (with more in the same statement), for
    :func:`setup_key` to take instead of reading it again."""
    session.info[_READ] = (transaction, initiative_id, key)


class _Kept:
    """Setup-derived values by (what, setup key, arguments), bounded: cleared when full."""

    LIMIT = 512

    def __init__(self) -> None:
        self._values: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...] | None, make: Callable[[], T]) -> T:
        if key is None:
            return make()
        try:
            return self._values[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        value = make()
        with self._lock:
            if len(self._values) >= self.LIMIT:
                self._values.clear()
            self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


KEPT = _Kept()


def kept(
    session: Session,
    initiative_id: int,
    what: str,
    args: tuple[Any, ...],
    make: Callable[[], T],
    *,
    key: SetupKey | None | Literal[False] = False,
) -> T:
    """``make()``, or what it made before under the same setup. ``key``: a :func:`setup_key`
    already read in this request (read here when not given). The caller keeps what it gets
    as it is: the value is shared."""
    if key is False:
        key = setup_key(session, initiative_id)
    if key is None:
        return make()
    return KEPT.get((what, key, args), make)
