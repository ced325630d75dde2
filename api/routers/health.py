"""Liveness and readiness for load balancers and container orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import migrations
from api.schemas.common import HealthRead, ReadyRead

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthRead)
async def healthz() -> HealthRead:
    """The process is up (does not touch the database). Answered on the event loop, past the
    requests waiting their turn (api/in_flight.py): it says the worker answers, however busy."""
    return HealthRead(status="ok")


@router.get("/readyz", response_model=ReadyRead, responses={503: {"model": ReadyRead}})
def readyz(request: Request):
    """The database answers and its schema is at the code's migration head."""
    database, revision = migrations.schema_state(request.app.state.session_factory)
    if database != "ok":
        body = ReadyRead(status="unavailable", database=database, schema_revision=revision)
        return JSONResponse(body.model_dump(), status_code=503)
    return ReadyRead(status="ok", database="ok", schema_revision=revision)
