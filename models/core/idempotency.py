"""Idempotency keys: a replayed write returns the first answer and writes nothing.

A client that did not hear the answer (timeout, dropped connection) sends the same request with
the same ``Idempotency-Key``; the stored answer comes back. The same key with a different body
is a client bug and is refused.

A retry may arrive while the first request still runs (clients retry on their own timeouts),
possibly in another worker. So a request claims its key before it writes anything: it inserts
the key's row first in its transaction, and fills in the answer at the end. A second insert of
the same key waits on the database until the first transaction ends (PostgreSQL waits on the
unique index, SQLite on its single writer's lock): then it finds the answer and replays it, or,
when the first request failed and rolled back, claims the key itself. A crashed request's claim
goes with its transaction. Without the claim, retries ran the write again and answered 412
(the version had moved) or 409 (the key's row collided).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from models.core.errors import Conflict, InvalidInput
from models.core.i18n import gettext
from models.tables.base import utcnow
from models.tables.idempotency import IdempotencyRecord

# How long a request waits for the first one with its key to finish (PostgreSQL; SQLite waits
# its busy timeout, after which the request answers 503 like any write that found it locked).
WAIT_SECONDS = 30
# PostgreSQL's lock_timeout and statement_timeout: the first request was still running.
_STILL_RUNNING = {"55P03", "57014"}


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any
    headers: dict[str, str]


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Claim:
    """This request holds the key: it runs the write and stores the answer."""

    record_id: int


def claim_key(
    *,
    session: Session,
    actor_label: str,
    key: str,
    fingerprint: str,
    initiative_id: int | None = None,
) -> Claim | StoredAnswer:
    """Claim the key in this session's transaction, or the answer of the request that has it.

    Commits what the session holds first, so the claim is its transaction's first write (SQLite
    cannot turn a transaction that read an older snapshot into a writer). The claim is kept or
    dropped with the transaction; :func:`store_answer` completes it.
    """
    if not key or len(key) > 200:
        raise InvalidInput(
            gettext("Idempotency-Key must be 1 to 200 characters"), field="Idempotency-Key"
        )
    table = IdempotencyRecord.__table__
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(3):  # a claim seen and gone again is retried (its initiative was deleted)
        session.commit()
        try:
            if postgres:
                session.execute(text(f"SET LOCAL lock_timeout = '{WAIT_SECONDS}s'"))
            record_id = session.execute(
                insert(table)
                .values(
                    initiative_id=initiative_id,
                    actor_label=actor_label,
                    key=key,
                    request_hash=fingerprint,
                    status_code=0,  # replaced by store_answer before anyone can read it
                    response=None,
                    headers={},
                    created_at=utcnow(),
                )
                .returning(table.c.id)
            ).scalar_one()
        except IntegrityError:
            session.rollback()  # the request that had the key committed its answer
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _STILL_RUNNING:
                raise
            session.rollback()
            raise _still_running() from None
        else:
            if postgres:
                session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
            return Claim(record_id)
        stored = session.execute(
            select(
                table.c.request_hash, table.c.status_code, table.c.response, table.c.headers
            ).where(table.c.actor_label == actor_label, table.c.key == key)
        ).one_or_none()
        if stored is None:
            continue
        if stored.request_hash != fingerprint:
            raise InvalidInput(
                gettext("this Idempotency-Key was used for a different request"),
                code="idempotency_key_reused",
                field="Idempotency-Key",
            )
        return StoredAnswer(stored.status_code, stored.response, stored.headers or {})
    raise _still_running()


def _still_running() -> Conflict:
    return Conflict(
        gettext("a request with this Idempotency-Key is still in progress; retry later"),
        code="idempotency_key_in_progress",
        field="Idempotency-Key",
    )


def store_answer(
    *, session: Session, claim: Claim, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    """Complete the claim in the same transaction as the write: both land or neither does."""
    table = IdempotencyRecord.__table__
    session.execute(
        update(table)
        .where(table.c.id == claim.record_id)
        .values(status_code=status_code, response=body, headers=headers)
    )
