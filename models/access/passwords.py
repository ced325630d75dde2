"""Password hashing with argon2id (argon2-cffi's defaults, which follow RFC 9106).

An invited account has no password yet: its hash is *unusable* (marked with ``!``), so no
password logs in until the invitation is accepted (models/access/invitations.py).
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.core.i18n import gettext

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
UNUSABLE_MARK = "!"


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            gettext(
                "password must be at least %(min_password_length)s characters long",
                min_password_length=MIN_PASSWORD_LENGTH,
            )
        )
    if password.strip() != password or not password.strip():
        raise WeakPassword(gettext("password must not start or end with white space"))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def unusable_password_hash() -> str:
    """A hash no password matches, for an account waiting for its invitation to be accepted.

    It is a real hash of a random secret nobody keeps, behind the mark: checking a password
    against it costs what checking a real one costs, so a login's timing does not tell invited
    accounts from others, and the mark tells the People page the invitation is pending.
    """
    return UNUSABLE_MARK + hash_password(secrets.token_urlsafe(32))


def is_usable(password_hash: str) -> bool:
    """False while the account has not chosen a password (an invitation is pending)."""
    return not password_hash.startswith(UNUSABLE_MARK)


def verify_password(password_hash: str, password: str) -> bool:
    if not is_usable(password_hash):
        _verify(password_hash.removeprefix(UNUSABLE_MARK), password)  # the same cost, always no
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; rehash on login."""
    return _hasher.check_needs_rehash(password_hash)
