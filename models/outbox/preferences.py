"""What each person wants to hear about: per kind of message, immediately, in one daily digest,
or not at all.

No row means immediately; an invitation is never held for a digest. Every message carries a
signed unsubscribe link (an HS256 JWT with the secret key and an audience of its own, as
invitations have) that turns its kind off for its recipient without a login: the link names
only the user and the kind, and turning a kind off twice is the same as once, so a link needs
no expiry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.core.actors import Actor, require_login
from models.core.errors import InvalidInput
from models.core.i18n import gettext
from models.core.settings import get_settings
from models.tables.access import User
from models.tables.notifications import KINDS, MODES, NotificationPreference

AUDIENCE = "cm:unsubscribe"
ALGORITHM = "HS256"
UNSUBSCRIBE_PATH = "/api/v1/notifications/unsubscribe"


def labels() -> dict[str, str]:
    """Each kind of message as its preferences name it, in the reader's language."""
    return {
        "report_returned": gettext("a report returned to you with a comment"),
        "report_approved": gettext("a report of yours approved"),
        "report_reopened": gettext("an approved report reopened for a correction"),
        "period_published": gettext("a period published"),
        "invitation": gettext("invitations to Common Measure"),
        "reminder": gettext("reminders of a report due or overdue"),
        "digest": gettext("the daily digest"),
        "escalation": gettext("partners' reports overdue (to the backbone team)"),
        "period_opened": gettext("a period opening for reports"),
    }


# The kinds a person chooses for; the digest follows from the kinds chosen "daily".
CHOOSABLE = tuple(k for k in KINDS if k != "digest")
NEVER_DAILY = ("invitation",)  # a link to act on at once


def invalid_link() -> str:
    return gettext("this unsubscribe link does not work: it was cut short or changed")


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str
    mode: str


def muted(*, session: Session, user_ids: Iterable[int], kind: str) -> set[int]:
    """Those of ``user_ids`` who turned ``kind`` off."""
    return _choosing(session, user_ids, kind, "off")


def daily(*, session: Session, user_ids: Iterable[int], kind: str) -> set[int]:
    """Those of ``user_ids`` who want ``kind`` in their daily digest."""
    return _choosing(session, user_ids, kind, "daily")


def _choosing(session: Session, user_ids: Iterable[int], kind: str, mode: str) -> set[int]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(
        session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(ids),
                NotificationPreference.kind == kind,
                NotificationPreference.mode == mode,
            )
        )
    )


def preferences(*, session: Session, actor: Actor) -> list[Preference]:
    """The logged-in person's choice for every kind."""
    require_login(actor)
    rows = session.execute(
        select(NotificationPreference.kind, NotificationPreference.mode).where(
            NotificationPreference.user_id == actor.user_id
        )
    ).tuples()
    chosen = {kind: mode for kind, mode in rows}
    names = labels()
    return [Preference(k, names[k], chosen.get(k, "immediate")) for k in CHOOSABLE]


def set_preferences(*, session: Session, actor: Actor, modes: dict[str, str]) -> list[Preference]:
    """Change some kinds' modes for the logged-in person (a person, not an API key)."""
    require_login(actor)
    if actor.user_id is None:
        raise InvalidInput(gettext("only a person has notification preferences"), field="user")
    for kind, mode in modes.items():
        if kind not in CHOOSABLE:
            raise InvalidInput(
                gettext(
                    "unknown kind %(kind)r; one of %(choosable)s",
                    kind=kind,
                    choosable=", ".join(CHOOSABLE),
                ),
                field=kind,
            )
        if mode not in MODES:
            raise InvalidInput(
                gettext("mode must be one of %(modes)s", modes=", ".join(MODES)), field=kind
            )
        if mode == "daily" and kind in NEVER_DAILY:
            raise InvalidInput(
                gettext("%(value)s are sent at once or not at all", value=labels()[kind]),
                field=kind,
            )
    for kind, mode in modes.items():
        _set(session, actor.user_id, kind, mode)
    return preferences(session=session, actor=actor)


def _set(session: Session, user_id: int, kind: str, mode: str) -> None:
    session.execute(
        delete(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    )
    if mode != "immediate":
        session.add(NotificationPreference(user_id=user_id, kind=kind, mode=mode))
    session.flush()


def unsubscribe_token(user_id: int, kind: str) -> str:
    claims = {"sub": str(user_id), "aud": AUDIENCE, "kind": kind}
    return jwt.encode(claims, get_settings().effective_secret_key, algorithm=ALGORITHM)


def unsubscribe_link(user_id: int, kind: str) -> str:
    return f"{get_settings().site_url}{UNSUBSCRIBE_PATH}?token={unsubscribe_token(user_id, kind)}"


@dataclass(frozen=True)
class Unsubscribed:
    email: str
    kind: str
    label: str


def read_unsubscribe(*, session: Session, token: str) -> tuple[User, str]:
    """The person and kind a link names; InvalidInput on ``token`` when it does not work."""
    try:
        claims = jwt.decode(
            token,
            get_settings().effective_secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "aud", "kind"]},
        )
        user_id, kind = int(claims["sub"]), str(claims["kind"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInput(invalid_link(), field="token", code="unsubscribe_invalid") from None
    user = session.get(User, user_id)
    if user is None or kind not in KINDS:
        raise InvalidInput(invalid_link(), field="token", code="unsubscribe_invalid")
    return user, kind


def unsubscribe(*, session: Session, token: str) -> Unsubscribed:
    """Turn the link's kind off for its person; no login, as the link is signed. A digest's
    link turns off every kind the person had chosen to receive daily."""
    user, kind = read_unsubscribe(session=session, token=token)
    if kind == "digest":
        for chosen in CHOOSABLE:
            if daily(session=session, user_ids=[user.id], kind=chosen):
                _set(session, user.id, chosen, "off")
    else:
        _set(session, user.id, kind, "off")
    return Unsubscribed(user.email, kind, labels()[kind])
