"""Domain errors. The API maps each to an HTTP status; the CLI prints its message.

Every error carries a machine-readable ``code`` and, for validation, the field path, so a client
can point at exactly what to fix.
"""

from __future__ import annotations

from typing import Any

from models.core.i18n import gettext


class DomainError(Exception):
    def __init__(
        self,
        message: str,
        code: str = "error",
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.extra = extra or {}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(DomainError):
    """Missing, or not visible to the actor: both answer the same, so tenants stay invisible."""

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        # Defaults are read when raised, in the request's language (README, "Languages").
        super().__init__(message or gettext("not found"), kw.pop("code", "not_found"), **kw)


class PermissionDenied(DomainError):
    def __init__(self, message: str | None = None, **kw: Any) -> None:
        super().__init__(message or gettext("not allowed"), kw.pop("code", "forbidden"), **kw)


class Conflict(DomainError):
    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, kw.pop("code", "conflict"), **kw)


class InvalidInput(DomainError):
    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, kw.pop("code", "invalid"), **kw)


class PreconditionFailed(DomainError):
    """The client's version (If-Match) is stale: someone else wrote first."""

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, kw.pop("code", "version_mismatch"), **kw)


class AuthenticationFailed(DomainError):
    """No or bad credentials (401)."""

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        super().__init__(
            message or gettext("invalid credentials"), kw.pop("code", "unauthenticated"), **kw
        )


class TooManyAttempts(DomainError):
    """Too many failed logins in a short time (429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            gettext("too many failed logins; try again later"),
            "too_many_attempts",
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class RateLimited(DomainError):
    """Too many requests from one user, key or client in the last minute (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            gettext("too many requests; slow down"),
            "rate_limited",
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after
