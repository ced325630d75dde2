"""``Idempotency-Key`` for writes: a replay answers what the first request answered.

The answer is stored in the same transaction as the write it describes, so either both are
kept or neither is; a retry after a crash therefore runs the write once more, exactly once.
A replay arriving while the first request runs waits for its answer (models.core.idempotency).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from models.core.actors import Actor
from models.core.idempotency import StoredAnswer, claim_key, request_fingerprint, store_answer

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
    """Run ``handler`` (which returns status, body, headers) unless this key already ran.

    With a key, the session's transaction holds the key from before the handler runs until
    the request's commit; if the handler raises, the rollback lets go of it.
    """
    claim = None
    if key is not None:
        claim = claim_key(
            session=session,
            actor_label=actor.label,
            key=key,
            fingerprint=request_fingerprint(method, path, fingerprint_body),
            initiative_id=initiative_id,
        )
        if isinstance(claim, StoredAnswer):
            return JSONResponse(
                claim.body,
                status_code=claim.status_code,
                headers={**claim.headers, REPLAY_HEADER: "true"},
            )
    status, body, headers = handler()
    encoded = as_json(body)
    if claim is not None:
        store_answer(
            session=session, claim=claim, status_code=status, body=encoded, headers=headers
        )
    return JSONResponse(encoded, status_code=status, headers=headers)


def as_json(body: Any) -> Any:
    """``jsonable_encoder(body)``, for a model without its second walk over the dumped data:
    the same dict (a model dumped in JSON mode holds nothing left to encode), a tenth of its
    CPU (a partner's every save and submission answers one)."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(body)
