"""Idempotency keys: a replayed write returns the first answer and writes nothing.

A client that did not hear the answer (timeout, dropped connection) sends the same request with
the same ``Idempotency-Key``; the stored answer comes back. The same key with a different body
is a client bug and is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, JSONType, utcnow
from models.errors import InvalidInput


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor_label", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSONType)
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


def find_answer(
    *, session: Session, actor_label: str, key: str, fingerprint: str
) -> StoredAnswer | None:
    """The stored answer for this key, or None; a different request under the key is refused."""
    if not key or len(key) > 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters", field="Idempotency-Key")
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.actor_label == actor_label, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was used for a different request",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return StoredAnswer(record.status_code, record.response, record.headers or {})


def store_answer(
    *,
    session: Session,
    actor_label: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
    headers: dict[str, str] | None = None,
    initiative_id: int | None = None,
) -> None:
    """Keep the answer in the same transaction as the write, so both land or neither does."""
    session.add(
        IdempotencyRecord(
            initiative_id=initiative_id,
            actor_label=actor_label,
            key=key,
            request_hash=fingerprint,
            status_code=status_code,
            response=body,
            headers=headers or {},
        )
    )
    session.flush()
