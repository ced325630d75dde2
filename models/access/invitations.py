"""Invitations: a one-time link with which a new person chooses their own password.

There is no invitation table. The link carries a signed, expiring token (an HS256 JWT with the
login's secret key, as in models/access/login.py) that names the account and holds a
fingerprint of its password hash and ``token_version``:

- accepting sets the password, which changes the hash, so the link works once;
- deactivating the account, revoking one of its grants, resetting its password or asking for a
  newer link changes one or the other, so every earlier link dies with it;
- the token has its own audience, so it is never an access token, and an access token is
  never an invitation.

Creating an invitation creates the account with its grant and no usable password
(``users.create_invited_user_as``: the same rules as creating a user). The link is answered to
whoever invited (the API, the People page), shown once, and written to the server log (logger
``cm.invitations``, event ``invitation_link``), the one log line that may hold a credential, so a
deployment without mail can still hand it over; and the invitee is mailed (models/outbox) a
link of their own, signed when the mail is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jwt
from sqlalchemy.orm import Session

from models.access.login import ALGORITHMS
from models.access.passwords import is_usable
from models.access.permissions import actor_for_user
from models.access.users import (
    checked_password,
    create_invited_user_as,
    record_user,
    require_whole_account,
)
from models.core.actors import Actor, require_person
from models.core.errors import Conflict, InvalidInput
from models.core.i18n import gettext
from models.core.settings import get_settings
from models.outbox.messages import enqueue
from models.tables.access import User

log = logging.getLogger("cm.invitations")

INVITATION_TTL = timedelta(days=7)
INVITATION_PATH = "/invite"  # the dashboard's page that accepts the link
AUDIENCE = "cm:invitation"
LOG_EVENT = "invitation_link"


def invalid_link() -> str:
    return gettext(
        "this invitation link does not work any more: it was used already, replaced by a newer "
        "one, or the account changed; ask whoever invited you for a new link"
    )


def expired_link() -> str:
    return gettext("this invitation link has expired; ask whoever invited you for a new one")


@dataclass(frozen=True)
class Invitation:
    """A new invitation: the account and the link to hand over (shown once)."""

    user: User
    link: str
    expires_at: datetime


@dataclass(frozen=True)
class InvitationInfo:
    """What the invitation page may show before the password is chosen."""

    email: str
    name: str | None
    expires_at: datetime


def _fingerprint(user: User) -> str:
    """Binds a token to the account as it is now: its password hash and token version.

    Keyed with the secret key, so the token shows nothing of the hash it was cut from.
    """
    message = f"{user.id}:{user.token_version}:{user.password_hash}".encode()
    key = get_settings().effective_secret_key.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _signed_link(base_url: str, user: User, now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(UTC)
    expires = now + INVITATION_TTL
    claims = {
        "sub": str(user.id),
        "aud": AUDIENCE,
        "fp": _fingerprint(user),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    token = jwt.encode(claims, get_settings().effective_secret_key, algorithm=ALGORITHMS[0])
    return f"{base_url.rstrip('/')}{INVITATION_PATH}?{urlencode({'token': token})}", expires


def _link(base_url: str, user: User, now: datetime | None = None) -> tuple[str, datetime]:
    link, expires = _signed_link(base_url, user, now)
    log.info(
        "invitation link (also mailed to the person; hand it over if mail does not reach them)",
        extra={"event": LOG_EVENT, "user_id": user.id, "link": link},
    )
    return link, expires


def invite_user(
    *,
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    base_url: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
) -> Invitation:
    """Create the account with one role's grants (the rules of creating a user) and its link.

    ``base_url`` is the site's address as the inviter reached it; the link points at its
    invitation page.
    """
    user = create_invited_user_as(
        session=session,
        actor=actor,
        email=email,
        role=role,
        initiative_slug=initiative_slug,
        organisation_slug=organisation_slug,
        name=name,
    )
    link, expires = _link(base_url, user)
    _mail(session, actor, user, base_url)
    return Invitation(user=user, link=link, expires_at=expires)


def _mail(session: Session, actor: Actor, user: User, base_url: str) -> None:
    """The invitation's mail, written with the account (models/outbox). It holds no link: the
    worker signs one when it sends (:func:`mailed_link`), so no credential waits in the outbox."""
    enqueue(
        session=session,
        kind="invitation",
        event=f"invitation:{user.id}:{user.token_version}",
        recipients=[user],
        payload={
            "base_url": base_url,
            "token_version": user.token_version,
            "name": user.name,
            "by": actor.label,
        },
    )


def mailed_link(*, session: Session, user_id: int, token_version: int, base_url: str) -> str | None:
    """The link to mail for an invitation written when the account was at ``token_version``, or
    None when that invitation no longer stands (accepted, renewed, deactivated, account gone):
    a mail sent late never revives what the account has moved past."""
    user = session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or user.token_version != token_version
        or is_usable(user.password_hash)
    ):
        return None
    return _signed_link(base_url, user)[0]


def renew_invitation(*, session: Session, actor: Actor, user: User, base_url: str) -> Invitation:
    """A new link for an account that has not chosen its password yet (the first was lost,
    or expired); every earlier link stops working. Whoever may reset the account's password
    may do this."""
    require_person(actor)
    require_whole_account(actor, user, "renew the invitation of")
    if is_usable(user.password_hash):
        raise Conflict(
            gettext("this person has chosen a password already; reset it instead"), field="user"
        )
    if not user.is_active:
        raise Conflict(
            gettext("the account is deactivated; reactivate it first"), field="is_active"
        )
    user.token_version += 1
    session.flush()
    link, expires = _link(base_url, user)
    record_user(session, actor, user, "invitation_renewed", after={"expires_at": expires})
    _mail(session, actor, user, base_url)
    return Invitation(user=user, link=link, expires_at=expires)


def _invited_user(session: Session, token: str) -> tuple[User, datetime]:
    """The account a token invites, if the token still works; else InvalidInput on ``token``."""
    try:
        claims = jwt.decode(
            token,
            get_settings().effective_secret_key,
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            options={"require": ["sub", "aud", "fp", "iat", "exp"]},
        )
        user_id = int(claims["sub"])
        fingerprint = str(claims["fp"])
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except jwt.ExpiredSignatureError:
        raise InvalidInput(expired_link(), field="token", code="invitation_expired") from None
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInput(invalid_link(), field="token", code="invitation_invalid") from None
    user = session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(fingerprint, _fingerprint(user))
    ):
        raise InvalidInput(invalid_link(), field="token", code="invitation_invalid")
    return user, expires


def read_invitation(*, session: Session, token: str) -> InvitationInfo:
    """Who a working link is for (the invitation page greets them); InvalidInput otherwise."""
    user, expires = _invited_user(session, token)
    return InvitationInfo(email=user.email, name=user.name, expires_at=expires)


def accept_invitation(*, session: Session, token: str, password: str) -> User:
    """Set the invited person's password (the strength rules of every password); the link dies
    with it. The person then logs in as anyone does."""
    user, _ = _invited_user(session, token)
    user.password_hash = checked_password(password)
    user.token_version += 1
    session.flush()
    record_user(session, actor_for_user(session=session, user=user), user, "invitation_accepted")
    return user
