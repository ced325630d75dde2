"""Map domain and database errors to JSON answers: ``{"detail": …, "code": …, "field": …}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from models.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)
from models.security import AuthenticationFailed, TooManyAttempts

log = logging.getLogger("cm.api")

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    InvalidInput: 422,
    PreconditionFailed: 412,
}


def error_body(message: str, code: str, field: str | None = None, **extra) -> dict:
    body = {"detail": message, "code": code}
    if field:
        body["field"] = field
    body.update(extra)
    return body


def _field_path(loc) -> str:
    """``("body", "values", 0, "value")`` → ``values[0].value``, as the domain names fields."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(e.get("loc", ())), "reason": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "reason": "invalid request"}
        return JSONResponse(
            error_body(
                f"{first['field']}: {first['reason']}",
                "validation_error",
                first["field"],
                errors=errors,
            ),
            status_code=422,
        )

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        if isinstance(exc, AuthenticationFailed):
            return JSONResponse(
                error_body(exc.message, exc.code),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if isinstance(exc, TooManyAttempts):
            return JSONResponse(
                error_body(exc.message, exc.code),
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        if isinstance(exc, PermissionDenied):
            log.warning("permission denied: %s", exc.message)
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
        return JSONResponse(
            error_body(exc.message, exc.code, exc.field, **exc.extra), status_code=status
        )

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        # A lost connection or a locked/full database is temporary: say so, never a traceback.
        log.warning("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            error_body("the database is unavailable; try again shortly", "database_unavailable"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Domain checks run first; this is a race with a concurrent write (e.g. a duplicate).
        log.info("integrity conflict: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            error_body("a concurrent change conflicted with this request; retry", "conflict"),
            status_code=409,
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", exc_info=exc)
        return JSONResponse(
            error_body("the database refused the request", "database_error"), status_code=500
        )
