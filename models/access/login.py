"""Login: passwords checked with throttling, and signed access tokens.

Tokens are HS256 JWTs whose claims are read only after the signature and expiry are checked
against a fixed algorithm list; each carries the user's ``token_version``, so logging out or a
role change (which bump it) invalidates every token issued before, and a fingerprint of the
account it was issued to (its id and when it was made): SQLite gives a deleted user's id to the
next user made, whose ``token_version`` starts where the deleted one's did, and a token must not
pass from one person to the other.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.access.api_keys import API_KEY_PREFIX, actor_from_api_key, kept_actors
from models.access.passwords import hash_password, needs_rehash, verify_password
from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.core.counters import Counters, Window
from models.core.db import transaction_wrote
from models.core.errors import (
    AuthenticationFailed,
    PermissionDenied,
    TooManyAttempts,
)
from models.core.i18n import gettext
from models.core.settings import get_settings
from models.tables.access import User
from models.tables.base import utcnow

ALGORITHMS = ["HS256"]  # never taken from the token header
TOKEN_TTL = timedelta(hours=8)


class LoginThrottle:
    """Count login attempts per account and failed ones per client, in a sliding window that
    every worker shares (:mod:`models.core.counters`).

    An attempt on an account is counted before its password is checked, atomically against the
    limit, so a burst of concurrent guesses gets no more tries than a slow one; success clears
    the account's count. Past a limit the answer is 429 for the rest of the window only
    (minutes, not a lockout), so an attacker cannot lock the real user out for long.
    """

    WINDOW = Window(seconds=300, buckets=10)

    def __init__(
        self,
        counters: Counters,
        *,
        limit: int = 5,
        client_limit: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counters, self.clock = counters, clock
        self.limit, self.client_limit = limit, client_limit

    def attempt(self, account: str, client: str) -> None:
        """Count an attempt on ``account``; TooManyAttempts when it or the client is past its
        limit."""
        now = self.clock()
        tally = self.counters.read(f"login:client:{client}", self.WINDOW, now=now)
        if tally.total >= self.client_limit:
            raise TooManyAttempts(tally.retry_after(self.WINDOW, self.client_limit, now))
        tally = self.counters.add(
            f"login:account:{account}", self.WINDOW, now=now, limit=self.limit
        )
        if not tally.added:
            raise TooManyAttempts(tally.retry_after(self.WINDOW, self.limit, now))

    def failed(self, client: str) -> None:
        self.counters.add(f"login:client:{client}", self.WINDOW, now=self.clock())

    def succeeded(self, account: str) -> None:
        self.counters.clear(f"login:account:{account}")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so response time does not reveal accounts."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(
    *, session: Session, email: str, password: str, client: str = "-", throttle: LoginThrottle
) -> User:
    """The user with this e-mail and password, counting the attempt in ``throttle`` (the
    application's: shared by its workers)."""
    email = email.strip().lower()
    throttle.attempt(email, client)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        verify_password(_dummy_hash(), password)
        throttle.failed(client)
        raise AuthenticationFailed()
    if not verify_password(user.password_hash, password):
        throttle.failed(client)
        raise AuthenticationFailed()
    throttle.succeeded(email)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


def _account(user: User) -> str:
    """The fingerprint of the account a token is issued to: its id and the moment its row was
    made, which no later account with the same id shares (hashed: a token's claims are
    readable by whoever holds it)."""
    made = user.created_at
    if made.tzinfo is not None:
        made = made.astimezone(UTC).replace(tzinfo=None)
    return hashlib.sha256(
        f"{user.id}:{made.isoformat(timespec='microseconds')}".encode()
    ).hexdigest()[:32]


def issue_token(user: User, *, now: datetime | None = None) -> IssuedToken:
    now = now or datetime.now(UTC)
    expires = now + TOKEN_TTL
    claims = {
        "sub": str(user.id),
        "ver": user.token_version,
        "acc": _account(user),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    token = jwt.encode(claims, get_settings().effective_secret_key, algorithm=ALGORITHMS[0])
    return IssuedToken(access_token=token, expires_at=expires)


def _claims(token: str) -> tuple[int, object, object]:
    """The user id, token version and account fingerprint of a valid, unexpired access token."""
    try:
        claims = jwt.decode(
            token,
            get_settings().effective_secret_key,
            algorithms=ALGORITHMS,
            options={"require": ["sub", "exp", "iat", "ver", "acc"]},
        )
        return int(claims["sub"]), claims["ver"], claims["acc"]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise AuthenticationFailed(gettext("invalid or expired token")) from None


def _user(
    session: Session, user_id: int, version: object, account: object, *, fresh: bool = False
) -> User:
    """The token's user if it may still act; ``fresh``: its row as the database holds it now,
    not as the session's identity map may hold it from before (what is kept must be no older
    than the access revision read before it; the session's own changes flushed first, so none
    is lost, and then nothing is kept: the transaction has written)."""
    if fresh:
        session.flush()
    user = session.get(User, user_id, populate_existing=fresh)
    if (
        user is None
        or not user.is_active
        or user.token_version != version
        or _account(user) != account
    ):
        raise AuthenticationFailed(gettext("invalid or expired token"))
    return user


def user_from_token(*, session: Session, token: str) -> User:
    return _user(session, *_claims(token))


@dataclass(frozen=True)
class _KeptToken:
    access: tuple[int, datetime | None]
    actor: Actor


class _KeptTokens:
    """The actors of the access tokens this process resolved, by (user id, token version,
    account fingerprint), each under the access revision read before its rows (bounded: the oldest goes)."""

    SIZE = 4096

    def __init__(self) -> None:
        self._kept: dict[tuple[int, object, object], _KeptToken] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, object, object]) -> _KeptToken | None:
        return self._kept.get(key)

    def put(self, key: tuple[int, object, object], kept: _KeptToken) -> None:
        with self._lock:
            if key not in self._kept and len(self._kept) >= self.SIZE:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = kept


# One per database (its engine): tests and tools run several in one process.
_TOKENS: weakref.WeakKeyDictionary[Engine, _KeptTokens] = weakref.WeakKeyDictionary()


def token_actor(*, session: Session, token: str) -> Actor:
    """The actor of an access token (the dashboard's session cookie): the token checked as
    :func:`user_from_token` does, its user's actor kept under the access revision
    (``models.tables.revisions.AccessRevision``), read first on the session's connection. Every
    change an actor is made of (the user's e-mail, activity, token version or language, a role
    grant, a membership) moves that revision in its own transaction, so a request that starts
    after such a commit resolves the user again; otherwise one statement of one row answers
    instead of the user's row and grants (README, "Scaling")."""
    user_id, version, account = _claims(token)  # the signature and expiry, on every request
    keeping = kept_actors(session)
    tokens = None
    if keeping is not None:
        engine = session.connection().engine
        tokens = _TOKENS.get(engine)
        if tokens is None:
            tokens = _TOKENS.setdefault(engine, _KeptTokens())
        found = tokens.get((user_id, version, account))
        if found is not None and found.access == keeping[1]:
            return found.actor
    user = _user(session, user_id, version, account, fresh=keeping is not None)
    actor = actor_for_user(session=session, user=user)
    if tokens is not None and keeping is not None and not transaction_wrote(session):
        tokens.put((user_id, version, account), _KeptToken(keeping[1], actor))
    return actor


def revoke_tokens(user: User) -> None:
    """Invalidate every token issued to the user so far (logout, role change)."""
    user.token_version += 1


def log_out(*, session: Session, actor: Actor) -> None:
    """End every session of the acting person (an API key has none to end)."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise AuthenticationFailed(gettext("log in first"))
    revoke_tokens(user)


def actor_for_token(*, session: Session, token: str) -> Actor:
    """The actor behind an ``Authorization: Bearer`` credential (API key or access token)."""
    if token.startswith(API_KEY_PREFIX):
        return actor_from_api_key(session=session, key=token)
    return actor_for_user(session=session, user=user_from_token(session=session, token=token))


__all__ = [
    "AuthenticationFailed",
    "LoginThrottle",
    "PermissionDenied",
    "TooManyAttempts",
    "actor_for_token",
    "authenticate",
    "issue_token",
    "revoke_tokens",
    "token_actor",
    "user_from_token",
]
