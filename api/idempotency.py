"""``Idempotency-Key`` for writes: a replay answers what the first request answered.

The answer is stored in the same transaction as the write it describes, so either both are
kept or neither is; a retry after a crash therefore runs the write once more, exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from models.idempotency import find_answer, request_fingerprint, store_answer
from models.permissions import Actor

REPLAY_HEADER = "Idempotent-Replayed"


def run_once(
    *,
    session: Session,
    actor: Actor,
    key: str | None,
    method: str,
    path: str,
    fingerprint_body: bytes,
    handler: Callable[[], tuple[int, Any, dict[str, str]]],
    initiative_id: int | None = None,
) -> JSONResponse:
    """Run ``handler`` (which returns status, body, headers) unless this key already ran."""
    fingerprint = request_fingerprint(method, path, fingerprint_body)
    if key is not None:
        stored = find_answer(
            session=session, actor_label=actor.label, key=key, fingerprint=fingerprint
        )
        if stored is not None:
            return JSONResponse(
                stored.body,
                status_code=stored.status_code,
                headers={**stored.headers, REPLAY_HEADER: "true"},
            )
    status, body, headers = handler()
    encoded = jsonable_encoder(body)
    if key is not None:
        store_answer(
            session=session,
            actor_label=actor.label,
            key=key,
            fingerprint=fingerprint,
            status_code=status,
            body=encoded,
            headers=headers,
            initiative_id=initiative_id,
        )
    return JSONResponse(encoded, status_code=status, headers=headers)
