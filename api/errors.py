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
from models.core.i18n import current_locale, gettext

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


def validation_reason(error: dict) -> str:
    """Pydantic's reason for a refused field, in the request's language (README, "Languages"):
    its common kinds are translated here with their limits; any other keeps Pydantic's
    English text."""
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    reasons = {
        "missing": lambda: gettext("Field required"),
        "extra_forbidden": lambda: gettext("Extra inputs are not permitted"),
        "string_type": lambda: gettext("Input should be a valid string"),
        "int_type": lambda: gettext("Input should be a valid integer"),
        "int_parsing": lambda: gettext(
            "Input should be a valid integer, unable to parse string as an integer"
        ),
        "int_from_float": lambda: gettext(
            "Input should be a valid integer, got a number with a fractional part"
        ),
        "float_type": lambda: gettext("Input should be a valid number"),
        "float_parsing": lambda: gettext(
            "Input should be a valid number, unable to parse string as a number"
        ),
        "bool_type": lambda: gettext("Input should be a valid boolean"),
        "bool_parsing": lambda: gettext(
            "Input should be a valid boolean, unable to interpret input"
        ),
        "list_type": lambda: gettext("Input should be a valid list"),
        "dict_type": lambda: gettext("Input should be a valid dictionary"),
        "model_attributes_type": lambda: gettext(
            "Input should be a valid dictionary or object to extract fields from"
        ),
        "json_invalid": lambda: gettext("Invalid JSON: %(error)s", error=ctx.get("error", "")),
        "string_too_short": lambda: gettext(
            "String should have at least %(min_length)s characters",
            min_length=ctx.get("min_length"),
        ),
        "string_too_long": lambda: gettext(
            "String should have at most %(max_length)s characters",
            max_length=ctx.get("max_length"),
        ),
        "greater_than": lambda: gettext("Input should be greater than %(gt)s", gt=ctx.get("gt")),
        "greater_than_equal": lambda: gettext(
            "Input should be greater than or equal to %(ge)s", ge=ctx.get("ge")
        ),
        "less_than": lambda: gettext("Input should be less than %(lt)s", lt=ctx.get("lt")),
        "less_than_equal": lambda: gettext(
            "Input should be less than or equal to %(le)s", le=ctx.get("le")
        ),
        "date_parsing": lambda: gettext("Input should be a valid date in the format YYYY-MM-DD"),
        "date_from_datetime_parsing": lambda: gettext(
            "Input should be a valid date in the format YYYY-MM-DD"
        ),
        "datetime_parsing": lambda: gettext("Input should be a valid datetime"),
        "datetime_from_date_parsing": lambda: gettext("Input should be a valid datetime"),
        "timezone_aware": lambda: gettext("Input should have timezone info"),
        "literal_error": lambda: gettext(
            "Input should be %(expected)s", expected=ctx.get("expected")
        ),
        "enum": lambda: gettext("Input should be %(expected)s", expected=ctx.get("expected")),
        "too_long": lambda: gettext(
            "List should have at most %(max_length)s items", max_length=ctx.get("max_length")
        ),
        "too_short": lambda: gettext(
            "List should have at least %(min_length)s items", min_length=ctx.get("min_length")
        ),
    }
    reason = reasons.get(kind)
    if reason is None or current_locale() == "en":
        return str(error.get("msg", gettext("invalid")))
    return reason()


def install_error_handlers(app: FastAPI) -> None:
    _document_validation_errors(app)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            reason = (
                exc.detail
                if exc.detail != _UNPARSABLE_BODY
                else gettext("not valid JSON or not UTF-8")
            )
            return JSONResponse(
                error_body(
                    gettext("body: %(reason)s", reason=reason),
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
            {"field": _field_path(e.get("loc", ())), "reason": validation_reason(e)}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "reason": gettext("invalid request")}
        return JSONResponse(
            error_body(
                gettext("%(field)s: %(reason)s", field=first["field"], reason=first["reason"]),
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
            error_body(
                gettext("the database is unavailable; try again shortly"), "database_unavailable"
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection of this worker is busy: the client should come back.
        log.warning("database connection pool exhausted")
        return JSONResponse(
            error_body(gettext("the server is busy; try again shortly"), "busy"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DataError)
    async def _bad_data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (e.g. a NUL character in text) is the client's.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        log.info("data refused by the database: %s", reason)
        return JSONResponse(
            error_body(
                gettext("a value cannot be stored: %(reason)s", reason=reason), "invalid_value"
            ),
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Domain checks run first; this is a race with a concurrent write (e.g. a duplicate).
        log.info("integrity conflict: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            error_body(
                gettext("a concurrent change conflicted with this request; retry"), "conflict"
            ),
            status_code=409,
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", exc_info=exc)
        return JSONResponse(
            error_body(gettext("the database refused the request"), "database_error"),
            status_code=500,
        )
