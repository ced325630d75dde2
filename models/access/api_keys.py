"""API keys: created by people, scoped to their creator's grants, stored only as hashes.

A key acts with the rights its creator has *now* (never more), and never manages access.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from models.access.permissions import actor_for_user, actor_for_user_id, can_view_initiative
from models.audit.trail import record_in
from models.core.actors import Actor, require_person
from models.core.db import transaction_wrote
from models.core.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from models.core.i18n import gettext
from models.tables.access import ApiKey, RoleGrant, User
from models.tables.base import utcnow
from models.tables.initiative import Initiative, Member
from models.tables.organisation import Organisation
from models.tables.revisions import AccessRevision

API_KEY_PREFIX = "cm_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    *,
    session: Session,
    actor: Actor,
    name: str,
    organisation_id: int | None = None,
    initiative_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key scoped to one organisation or initiative; the secret is returned once.

    Only a logged-in person creates keys: a key acts for its creator, so a key minting keys
    would outlive the rights it was cut from.
    """
    require_person(actor)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput(gettext("give the expiry with a time zone"), field="expires_at")
        if expires_at <= utcnow():
            raise InvalidInput(gettext("the expiry must be in the future"), field="expires_at")
    if (organisation_id is None) == (initiative_id is None):
        raise InvalidInput(
            gettext("a key belongs to exactly one organisation or initiative"), field="organisation"
        )
    if initiative_id is not None and not actor.is_backbone(initiative_id):
        # 404 keeps other tenants invisible; who can see the initiative is told why (403).
        if can_view_initiative(session=session, actor=actor, initiative_id=initiative_id):
            raise PermissionDenied(
                gettext("only the initiative's backbone staff create its API keys"),
                field="initiative",
            )
        raise NotFound(gettext("initiative not found"), field="initiative")
    if organisation_id is not None and not (
        actor.is_admin or organisation_id in actor.reporter_for
    ):
        raise NotFound(gettext("organisation not found"), field="organisation")
    prefix = secrets.token_hex(4)
    plaintext = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"  # 192 random bits
    key = ApiKey(
        prefix=prefix,
        key_hash=_hash_key(plaintext),
        name=name,
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        created_by_id=actor.user_id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    _record_key(session, actor, key, "create")
    return key, plaintext


def _key_snapshot(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "organisation_id": key.organisation_id,
        "initiative_id": key.initiative_id,
        "created_by_id": key.created_by_id,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def _key_initiatives(session: Session, key: ApiKey) -> list[int | None]:
    """Where a key's events are recorded: the initiatives it can act in now (its own, or where
    its creator reports for its organisation), so enrolling an organisation elsewhere shows
    nothing of its keys there."""
    if key.initiative_id is not None:
        return [key.initiative_id]
    found = sorted({i for i, _ in _key_pairs(session, key)})
    return list(found) or [None]


def _key_pairs(session: Session, key: ApiKey) -> frozenset[tuple[int, int]]:
    """The (initiative, organisation) pairs an organisation key acts in."""
    creator = session.get(User, key.created_by_id) if key.created_by_id is not None else None
    if creator is None:
        return frozenset()
    actor = actor_for_user(session=session, user=creator)
    return key_actor(session=session, row=key, creator=actor, label="").reporter_in


def _record_key(session: Session, actor: Actor, key: ApiKey, action: str) -> None:
    snap = _key_snapshot(key)
    record_in(
        _key_initiatives(session, key),
        session=session,
        actor=actor,
        entity_type="api_key",
        entity_id=key.id,
        action=action,
        before=snap if action == "revoke" else None,
        after=snap if action != "revoke" else None,
    )


# Every API request starts here: the key and its creator in one statement, built once, reading
# the columns authentication needs rather than whole rows (README, "Scaling").
_KEY_AND_CREATOR = (
    select(
        ApiKey.id,
        ApiKey.prefix,
        ApiKey.key_hash,
        ApiKey.revoked_at,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        ApiKey.initiative_id,
        ApiKey.organisation_id,
        User.id.label("creator_id"),
        User.email.label("creator_email"),
        User.is_active.label("creator_active"),
    )
    .outerjoin(User, User.id == ApiKey.created_by_id)
    .where(ApiKey.prefix == bindparam("prefix"))
)


@dataclass(frozen=True)
class _Kept:
    """A key's actor as resolved under one access revision, with what still decides it without
    the database: its expiry, and when its use was last booked."""

    access: tuple[int, datetime | None]
    actor: Actor
    expires_at: datetime | None
    last_used_at: datetime

    def usable(self, access: tuple[int, datetime | None], now: datetime) -> bool:
        return (
            access == self.access
            and (self.expires_at is None or _aware(self.expires_at, now) > now)
            and now - _aware(self.last_used_at, now) <= LAST_USED_RESOLUTION
        )


class KeptActors:
    """The actors of the API keys this process resolved, by the key's hash, each under the
    access revision read before its rows (``models.tables.revisions.AccessRevision``). One
    statement of one row then answers "may this key still act as it did": every change to a
    key, its creator, their grants or the memberships an admin's key acts through moves the
    revision in its own transaction, so a request that starts after such a commit resolves the
    key again (README, "Scaling")."""

    SIZE = 4096

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> _Kept | None:
        return self._kept.get(digest)

    def put(self, digest: str, kept: _Kept) -> None:
        with self._lock:
            if digest not in self._kept and len(self._kept) >= self.SIZE:
                self._kept.pop(next(iter(self._kept)))  # the oldest kept
            self._kept[digest] = kept

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


# One per database (its engine): tests and tools run several in one process.
_KEPT: weakref.WeakKeyDictionary[Engine, KeptActors] = weakref.WeakKeyDictionary()
_ACCESS = select(AccessRevision.revision, AccessRevision.changed_at).where(AccessRevision.id == 1)


_OFFERED = "cm_access_revision"  # Session.info: (transaction, access revision) read already


def offer_access_revision(session: Session, access: tuple[int, datetime | None]) -> None:
    """The access revision as a statement of this transaction read it beside other things
    (``models.analytics.views.read_revisions_first``), before the actor is resolved: taken by
    the next :func:`actor_from_api_key` of this transaction instead of asking again."""
    session.info[_OFFERED] = (session.get_transaction(), access)


def kept_actors(session: Session) -> tuple[KeptActors, tuple[int, datetime | None]] | None:
    """This database's kept actors and its access revision now, read on the session's
    connection before anything the actor is made of (or offered, read so by this
    transaction); None when nothing may be kept or taken from what is: the transaction has
    written (it may roll back, and its revision be reached again by other changes), or the
    database keeps no revision."""
    conn = session.connection()
    offered = session.info.pop(_OFFERED, None)
    if transaction_wrote(session):
        return None
    if offered is not None and offered[0] is session.get_transaction():
        access = offered[1]
    else:
        row = conn.execute(_ACCESS).first()
        if row is None:
            return None
        access = (row.revision, row.changed_at)
    engine = conn.engine
    kept = _KEPT.get(engine)
    if kept is None:
        kept = _KEPT.setdefault(engine, KeptActors())
    return kept, access


def kept_key_actor(engine: Engine, key: str, access: tuple[int, datetime | None]) -> Actor | None:
    """The actor this process kept for ``key`` on ``engine``'s database, if it may still act as
    kept under the access revision ``access`` — read now, by a statement outside any
    transaction that wrote — else None (the caller resolves the key with a session, as
    :func:`actor_from_api_key`). The same check as that function's, with no session: for a
    request answered from what is kept without one."""
    kept = _KEPT.get(engine)
    if kept is None or not key.startswith(API_KEY_PREFIX):
        return None
    found = kept.get(_hash_key(key))
    return found.actor if found is not None and found.usable(access, utcnow()) else None


def actor_from_api_key(*, session: Session, key: str) -> Actor:
    try:
        prefix = key.removeprefix(API_KEY_PREFIX).split("_", 1)[0]
    except (AttributeError, IndexError):
        raise AuthenticationFailed(gettext("invalid API key")) from None
    digest = _hash_key(key)
    now = utcnow()
    keeping = kept_actors(session)
    if keeping is not None:
        found = keeping[0].get(digest)
        if found is not None and found.usable(keeping[1], now):
            return found.actor
    row = session.connection().execute(_KEY_AND_CREATOR, {"prefix": prefix}).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        raise AuthenticationFailed(gettext("invalid API key"))
    if row.expires_at is not None and _aware(row.expires_at, now) <= now:
        raise AuthenticationFailed(gettext("the API key has expired"))
    if row.creator_id is None or not row.creator_active:
        raise AuthenticationFailed(gettext("the API key's owner is no longer active"))
    label = f"api-key:{API_KEY_PREFIX}{row.prefix}"
    creator = actor_for_user_id(session=session, user_id=row.creator_id, email=row.creator_email)
    actor = key_actor(session=session, row=row, creator=creator, label=label)
    last = row.last_used_at
    if last is None or now - _aware(last, now) > LAST_USED_RESOLUTION:
        # Once a minute at most: a read request should not turn into a write every time.
        # The use is an access event too, recorded as often as last_used_at moves. Nothing is
        # kept: the next request, once this one committed, reads the use booked.
        key_row = session.get(ApiKey, row.id)
        assert key_row is not None  # just read
        key_row.last_used_at = now
        record_in(
            _key_initiatives(session, key_row),
            session=session,
            actor=actor,
            entity_type="api_key",
            entity_id=key_row.id,
            action="use",
        )
    elif keeping is not None and not transaction_wrote(session):
        # Resolving flushed nothing of this unit of work (a grant it gave counts, and may
        # still roll back): only then is what was read the database's, to keep.
        keeping[0].put(digest, _Kept(keeping[1], actor, row.expires_at, last))
    return actor


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment.replace(tzinfo=now.tzinfo) if moment.tzinfo is None else moment


def key_actor(*, session: Session, row: Any, creator: Actor, label: str) -> Actor:
    """A key's rights: its own scope intersected with what its creator may do right now
    (``row``: the key, or a row with its ``id``, ``initiative_id`` and ``organisation_id``).

        An initiative key has backbone rights there while its creator does; an organisation key
        has reporter rights for that organisation in the initiatives where its creator reports for
        it (an admin's key: every initiative the organisation is a member of).
    """
    if row.initiative_id is not None:
        held = creator.is_backbone(row.initiative_id)
        backbone = frozenset({row.initiative_id}) if held else frozenset()
        return Actor(label=label, backbone_of=backbone, api_key_id=row.id)
    if creator.is_admin:
        organisation_id = row.organisation_id
        assert organisation_id is not None  # the table's check: exactly one scope
        pairs = frozenset(
            (init, organisation_id)
            for init in session.scalars(
                select(Member.initiative_id).where(Member.organisation_id == row.organisation_id)
            )
        )
    else:
        pairs = frozenset(p for p in creator.reporter_in if p[1] == row.organisation_id)
    return Actor(label=label, reporter_in=pairs, api_key_id=row.id)


def revoke_api_key(*, session: Session, actor: Actor, key_id: int) -> ApiKey:
    """Revoke a key: its initiative's backbone, its organisation's reporters (within their own
    initiatives), or an admin; never another key."""
    require_person(actor)
    row = session.get(ApiKey, key_id)
    if row is None or not _may_manage(session, actor, row):
        if row is not None and _backbone_sees(session, actor, [row]):
            raise PermissionDenied(
                gettext(
                    "this key belongs to a partner organisation; its reporters or an admin revoke it"
                )
            )
        raise NotFound(gettext("API key not found"))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        _record_key(session, actor, row, "revoke")
    return row


def list_api_keys(*, session: Session, actor: Actor) -> list[ApiKey]:
    """The keys the actor manages, and for backbone staff also the partners' keys that act in
    their initiatives (to see who sends data, and when it last did)."""
    require_person(actor)
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()
    seen = _backbone_sees(session, actor, rows)
    return [row for row in rows if _may_manage(session, actor, row) or row.id in seen]


def _may_manage(session: Session, actor: Actor, row: ApiKey) -> bool:
    """Admins; an initiative key's backbone; for an organisation key its creator, or a reporter
    of the organisation in every initiative the key acts in (a reporter made in another
    initiative reaches none of this one's keys)."""
    if actor.is_admin:
        return True
    if row.initiative_id is not None:
        return actor.is_backbone(row.initiative_id)
    if row.organisation_id not in actor.reporter_for:
        return False
    if row.created_by_id == actor.user_id:
        return True
    pairs = _key_pairs(session, row)
    return bool(pairs) and pairs <= actor.reporter_in


def _backbone_sees(session: Session, actor: Actor, rows: Sequence[ApiKey]) -> set[int]:
    """Organisation keys whose creator reports for that organisation in one of the actor's
    initiatives: the keys that can write there."""
    org_keys = {r.id: r for r in rows if r.organisation_id is not None and r.created_by_id}
    if not actor.backbone_of or not org_keys:
        return set()
    pairs = set(
        session.execute(
            select(RoleGrant.user_id, RoleGrant.organisation_id).where(
                RoleGrant.role == "reporter", RoleGrant.initiative_id.in_(actor.backbone_of)
            )
        ).all()
    )
    return {i for i, r in org_keys.items() if (r.created_by_id, r.organisation_id) in pairs}


def create_scoped_api_key(
    *,
    session: Session,
    actor: Actor,
    name: str,
    organisation: str | None,
    initiative: str | None,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """:func:`create_api_key` for a scope named by slugs. An unknown slug is a 404 here: passed
    on as a made-up id, an admin (who may create keys for any scope) got as far as the insert,
    and a foreign-key error (409)."""
    org_id = init_id = None
    if organisation:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == organisation))
        if org_id is None:
            raise NotFound(gettext("organisation not found"), field="organisation")
    if initiative:
        init_id = session.scalar(select(Initiative.id).where(Initiative.slug == initiative))
        if init_id is None:
            raise NotFound(gettext("initiative not found"), field="initiative")
    return create_api_key(
        session=session,
        actor=actor,
        name=name,
        organisation_id=org_id,
        initiative_id=init_id,
        expires_at=expires_at,
    )


def key_scopes(
    *, session: Session, actor: Actor
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(slug, name) of the initiatives and of the organisations the actor may create keys for,
    by name: what :func:`create_api_key` accepts from it, for a form to offer."""
    require_person(actor)
    initiatives = select(Initiative.id, Initiative.slug, Initiative.name)
    organisations = select(Organisation.id, Organisation.slug, Organisation.name)
    if not actor.is_admin:
        initiatives = initiatives.where(Initiative.id.in_(actor.backbone_of))
        organisations = organisations.where(Organisation.id.in_(actor.reporter_for))
    return (
        [(slug, name) for _, slug, name in session.execute(initiatives.order_by(Initiative.name))],
        [
            (slug, name)
            for _, slug, name in session.execute(organisations.order_by(Organisation.name))
        ],
    )


def describe_api_keys(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The keys of :func:`list_api_keys` as a person reads them: the scope and the creator by
    name, whether the key works now, and whether the actor may revoke it (backbone staff see
    their partners' keys but revoke only their own initiatives')."""
    rows = list_api_keys(session=session, actor=actor)
    initiatives = {r.initiative_id for r in rows} - {None}
    organisations = {r.organisation_id for r in rows} - {None}
    creators = {r.created_by_id for r in rows} - {None}
    initiative_names = {
        i: (slug, name)
        for i, slug, name in session.execute(
            select(Initiative.id, Initiative.slug, Initiative.name).where(
                Initiative.id.in_(initiatives)
            )
        )
    }
    organisation_names = {
        i: (slug, name)
        for i, slug, name in session.execute(
            select(Organisation.id, Organisation.slug, Organisation.name).where(
                Organisation.id.in_(organisations)
            )
        )
    }
    emails: dict[int | None, str] = dict(
        session.execute(select(User.id, User.email).where(User.id.in_(creators))).all()
    )
    now = utcnow()
    out = []
    for row in rows:
        if row.initiative_id is not None:
            kind, (slug, name) = "initiative", initiative_names[row.initiative_id]
        else:
            assert row.organisation_id is not None  # the table's check: exactly one scope
            kind, (slug, name) = "organisation", organisation_names[row.organisation_id]
        if row.revoked_at is not None:
            state = "revoked"
        elif row.expires_at is not None and _aware(row.expires_at, now) <= now:
            state = "expired"
        else:
            state = "active"
        out.append(
            {
                "id": row.id,
                "name": row.name,
                "prefix": f"{API_KEY_PREFIX}{row.prefix}",
                "scope": kind,
                "scope_slug": slug,
                "scope_name": name,
                "created_by": emails.get(row.created_by_id),
                "created_at": row.created_at,
                "last_used_at": row.last_used_at,
                "expires_at": row.expires_at,
                "revoked_at": row.revoked_at,
                "state": state,
                "may_revoke": _may_manage(session, actor, row),
            }
        )
    return out
