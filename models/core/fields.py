"""Checks of one submitted field: each failure names the field and the reason (HTTP 422)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Literal, overload

from sqlalchemy import SelectBase, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.errors import (
    Conflict,
    InvalidInput,
)
from models.core.i18n import gettext

# Integer columns (positions, thresholds) are 32-bit on PostgreSQL; a larger number must be
# refused here, not by the database (a 500 on PostgreSQL, an OverflowError on SQLite).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@overload
def checked_text(
    value: Any, field: str, *, max_length: int | None = None, required: Literal[True] = True
) -> str: ...
@overload
def checked_text(
    value: Any, field: str, *, max_length: int | None = None, required: bool
) -> str | None: ...
def checked_text(
    value: Any, field: str, *, max_length: int | None = None, required: bool = True
) -> str | None:
    if value is None:
        if required:
            raise InvalidInput(gettext("is required"), field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(gettext("must be text"), field=field)
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput(gettext("must not be empty"), field=field)
        return None
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(
            gettext("must be at most %(max_length)s characters", max_length=max_length), field=field
        )
    return text


def _not_valid(what: str, value: Any, pattern: str) -> str:
    """The refusal as one whole sentence per kind of code (README, "Languages": no English
    word slotted into a translated sentence); ``what`` is the code's English name."""
    words = {"value": value, "pattern": pattern}
    sentences = {
        "slug": lambda: gettext("%(value)r is not a valid slug (must match %(pattern)s)", **words),
        "indicator code": lambda: gettext(
            "%(value)r is not a valid indicator code (must match %(pattern)s)", **words
        ),
        "outcome code": lambda: gettext(
            "%(value)r is not a valid outcome code (must match %(pattern)s)", **words
        ),
        "dimension code": lambda: gettext(
            "%(value)r is not a valid dimension code (must match %(pattern)s)", **words
        ),
        "category code": lambda: gettext(
            "%(value)r is not a valid category code (must match %(pattern)s)", **words
        ),
        "strategy code": lambda: gettext(
            "%(value)r is not a valid strategy code (must match %(pattern)s)", **words
        ),
    }
    sentence = sentences.get(what)
    if sentence is not None:
        return sentence()
    return gettext("%(value)r is not valid (must match %(pattern)s)", **words)


def checked_pattern(value: Any, pattern: str, field: str, what: str) -> str:
    """``value`` if it matches ``pattern``; ``what`` names the kind of code in the refusal."""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise InvalidInput(_not_valid(what, value, pattern), field=field)
    return value


def checked_choice(value: Any, options: Sequence[str], field: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(
            gettext("must be one of %(options)s", options=", ".join(options)), field=field
        )
    return value


def checked_integer(
    value: Any, field: str, *, minimum: int = INT_MIN, maximum: int = INT_MAX
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(gettext("must be a whole number"), field=field)
    if minimum is not None and value < minimum:
        raise InvalidInput(gettext("must be at least %(minimum)s", minimum=minimum), field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(gettext("must be at most %(maximum)s", maximum=maximum), field=field)
    return value


@overload
def checked_number(value: Any, field: str, *, required: Literal[True]) -> float: ...
@overload
def checked_number(value: Any, field: str, *, required: bool = False) -> float | None: ...
def checked_number(value: Any, field: str, *, required: bool = False) -> float | None:
    if value is None:
        if required:
            raise InvalidInput(gettext("is required"), field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(gettext("must be a number"), field=field)
    if not math.isfinite(value):
        raise InvalidInput(gettext("must be a finite number"), field=field)
    return float(value)


def checked_boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(gettext("must be true or false"), field=field)
    return value


def checked_date(value: Any, field: str) -> date:
    if not isinstance(value, date):
        raise InvalidInput(gettext("must be a date"), field=field)
    return value


def reject_unknown_changes(changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(changes) - set(allowed))
    if extra:
        raise InvalidInput(
            gettext("cannot change %(extra)s", extra=", ".join(extra)), field=extra[0]
        )


def flush_unique(*, session: Session, field: str, message: str) -> None:
    """Flush; a unique constraint lost to a concurrent writer answers 409, not 500."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message, field=field) from None


def any_row(*, session: Session, stmt: SelectBase) -> bool:
    return bool(session.scalar(select(exists(stmt))))
