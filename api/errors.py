"""Map domain and database errors to JSON answers: ``{"detail": …, "code": …, "field": …}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.core.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    TooManyAttempts,
)

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


# FastAPI and Starlette raise HTTPException(400) when a body cannot be read at all (JSON that is
# not UTF-8, broken multipart framing), but FastAPI answers 422 ``json_invalid`` for malformed
# JSON: the same mistake, so every such 400 answers 422 in the API's error format.
_UNPARSABLE_BODY = "There was an error parsing the body"

# What a 422 from request validation looks like (documented in place of FastAPI's
# ``HTTPValidationError``, whose ``detail`` is a list). Domain 422s carry a subset of it.
VALIDATION_ERROR_SCHEMA = {
    "title": "ValidationErrorRead",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "code": {"type": "string", "title": "Code", "examples": ["validation_error"]},
        "field": {"type": "string", "title": "Field", "examples": ["values[0].value"]},
        "errors": {
            "type": "array",
            "title": "Errors",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {
                    "field": {"type": "string", "title": "Field"},
                    "reason": {"type": "string", "title": "Reason"},
                },
            },
        },
    },
}


def _document_validation_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema describe the 422 bodies this app really sends."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            components = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in components:
                components["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
                components.pop("ValidationError", None)  # FastAPI's item type, now unused
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    _document_validation_errors(app)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            reason = exc.detail if exc.detail != _UNPARSABLE_BODY else "not valid JSON or not UTF-8"
            return JSONResponse(
                error_body(
                    f"body: {reason}",
                    "validation_error",
                    "body",
                    errors=[{"field": "body", "reason": reason}],
                ),
                status_code=422,
            )
        return await http_exception_handler(request, exc)

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
        if isinstance(exc, TooManyAttempts | RateLimited):
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

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection of this worker is busy: the client should come back.
        log.warning("database connection pool exhausted")
        return JSONResponse(
            error_body("the server is busy; try again shortly", "busy"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DataError)
    async def _bad_data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (e.g. a NUL character in text) is the client's.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        log.info("data refused by the database: %s", reason)
        return JSONResponse(
            error_body(f"a value cannot be stored: {reason}", "invalid_value"), status_code=422
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
