"""The documented answers of an operation (OpenAPI ``responses=``): its errors and its success.

Every error body is :class:`~api.schemas.common.ErrorRead`; the field and reason come from the
domain's errors through one table (:mod:`api.errors`).
"""

from __future__ import annotations

from typing import Any

from api.links import links
from api.schemas.common import ErrorRead

ERROR_TEXT = {
    401: "Not logged in.",
    403: "Visible, but the caller may not change it.",
    404: "Missing, or not visible to the caller.",
    409: "Conflicts with existing data (the field says which).",
    422: "Invalid input (the field says which).",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers ``codes``, each with the shared error body."""
    return {code: {"model": ErrorRead, "description": ERROR_TEXT[code]} for code in codes}


READ = errors(401, 404, 422)
WRITE = errors(401, 403, 404, 409, 422)


def answer(status_code: int, description: str, *groups: dict[str, dict]) -> dict[int | str, dict]:
    """WRITE's errors plus a success answer carrying links."""
    return {**WRITE, status_code: links(description, *groups)}


def listed(description: str, *groups: dict[str, dict]) -> dict[int | str, dict]:
    """READ's errors plus a list answer carrying links (to its first item)."""
    return {**READ, 200: links(description, *groups)}
