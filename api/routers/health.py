"""Liveness and readiness for load balancers and container orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import migrations
from api.schemas.common import HealthRead, ReadyRead

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthRead)
def healthz() -> HealthRead:
    """The process is up (does not touch the database)."""
    return HealthRead(status="ok")


@router.get("/readyz", response_model=ReadyRead, responses={503: {"model": ReadyRead}})
def readyz(request: Request):
    """The database answers and its schema is at the code's migration head."""
    try:
        with request.app.state.session_factory() as session:
            session.execute(text("SELECT 1"))
            revision = migrations.current_revision(session.connection())
    except SQLAlchemyError:
        body = ReadyRead(status="unavailable", database="unreachable", schema_revision=None)
        return JSONResponse(body.model_dump(), status_code=503)
    if revision != migrations.head_revision():
        body = ReadyRead(status="unavailable", database="behind", schema_revision=revision)
        return JSONResponse(body.model_dump(), status_code=503)
    return ReadyRead(status="ok", database="ok", schema_revision=revision)
