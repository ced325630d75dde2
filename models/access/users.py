"""User accounts and their role grants, managed only within the manager's own scopes.

Who may manage what (README, "Permissions"):

- an admin manages every account and grant;
- a backbone officer manages funder grants of its initiatives and reporter grants that work
  through memberships of its initiatives, and sees only those grants of a user; an account
  with no such grant is invisible to it (404);
- changing the account itself (deactivating, resetting its password) needs authority over
  every grant the account holds, so one initiative cannot lock out another's partner;
- API keys never manage access.

Every change is an audit event in each initiative the change concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from models.access.passwords import (
    WeakPassword,
    check_strength,
    hash_password,
    is_usable,
    unusable_password_hash,
)
from models.audit.trail import record, record_in
from models.core import i18n
from models.core.actors import SYSTEM, Actor, require_person
from models.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.core.i18n import gettext
from models.core.paging import Page, page_of
from models.tables.access import ROLES, ApiKey, RoleGrant, User
from models.tables.base import utcnow
from models.tables.initiative import Initiative, Member
from models.tables.organisation import Organisation

Scope = tuple[int | None, int | None]  # (initiative id, organisation id) of one grant


def normalise_email(email: str) -> str:
    try:
        # Deliverability is not checked: deployments run without outside DNS.
        return validate_email(
            email.strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(str(exc), field="email") from None


def checked_password(password: str) -> str:
    """The hash of a new password that passes the strength rules; else InvalidInput on
    ``password`` (every way of setting a password goes through here)."""
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise InvalidInput(str(exc), field="password") from None
    return hash_password(password)


def _id_by_slug(
    session: Session, model: type[Initiative | Organisation], slug: str, field: str
) -> int:
    found = session.scalar(select(model.id).where(model.slug == slug))
    if found is None:
        if model is Initiative:
            missing = gettext("no initiative with slug %(slug)r", slug=slug)
        else:
            missing = gettext("no organisation with slug %(slug)r", slug=slug)
        raise NotFound(missing, field=field)
    return found


# --- scopes -----------------------------------------------------------------------------------


def may_manage_grant(actor: Actor, role: str, initiative_id: int | None) -> bool:
    """Admins manage every grant; backbone staff the funder and reporter grants of their
    initiatives (a reporter grant always names its initiative)."""
    if actor.is_admin:
        return True
    return role in ("funder", "reporter") and initiative_id in actor.backbone_of


def _grant_scopes(
    session: Session,
    actor: Actor,
    role: str,
    initiative_slug: str | None,
    organisation_slug: str | None,
) -> list[Scope]:
    """The scopes a new grant of ``role`` gets, checked against what the actor may grant.

    A reporter grant names an organisation and the initiative it reports to; without an
    initiative it is granted in every initiative the organisation is a member of and the actor
    may grant in (for a backbone officer: its own).
    """
    if role not in ROLES:
        raise InvalidInput(
            gettext("role must be one of %(roles)s", roles=", ".join(ROLES)), field="role"
        )
    if role == "admin":
        if initiative_slug or organisation_slug:
            raise InvalidInput(
                gettext("an admin grant has no initiative or organisation"), field="role"
            )
        scopes: list[Scope] = [(None, None)]
    elif role in ("backbone", "funder"):
        if not initiative_slug or organisation_slug:
            if role == "backbone":
                needs = gettext("a backbone grant needs an initiative (and no organisation)")
            else:
                needs = gettext("a funder grant needs an initiative (and no organisation)")
            raise InvalidInput(needs, field="initiative")
        scopes = [(_id_by_slug(session, Initiative, initiative_slug, "initiative"), None)]
    else:
        if not organisation_slug:
            raise InvalidInput(
                gettext("a reporter grant needs an organisation"), field="organisation"
            )
        org_id = _id_by_slug(session, Organisation, organisation_slug, "organisation")
        memberships = select(Member.initiative_id).where(Member.organisation_id == org_id)
        if initiative_slug:
            init_id = _id_by_slug(session, Initiative, initiative_slug, "initiative")
            if not may_manage_grant(actor, role, init_id):
                raise PermissionDenied(
                    gettext(
                        "you may not grant %(role)s in %(initiative_slug)r",
                        role=role,
                        initiative_slug=initiative_slug,
                    )
                )
            memberships = memberships.where(Member.initiative_id == init_id)
        initiative_ids = [
            i
            for i in session.scalars(memberships.order_by(Member.initiative_id))
            if may_manage_grant(actor, role, i)
        ]
        if not initiative_ids:
            if initiative_slug or actor.is_admin:
                where = repr(initiative_slug) if initiative_slug else "any initiative"
                raise InvalidInput(
                    gettext(
                        "%(organisation_slug)r is not a member of %(where)s; add it as a member "
                        "first",
                        organisation_slug=organisation_slug,
                        where=where,
                    ),
                    field="organisation",
                )
            raise PermissionDenied(
                gettext("you grant reporter rights only for members of your initiatives"),
                field="organisation",
            )
        scopes = [(i, org_id) for i in initiative_ids]
    for initiative_id, _ in scopes:
        if not may_manage_grant(actor, role, initiative_id):
            raise PermissionDenied(gettext("you may not grant %(role)s here", role=role))
    return scopes


def visible_grants(actor: Actor, user: User) -> list[RoleGrant]:
    """The grants of ``user`` the actor may see: all for admins, its own scopes otherwise."""
    return [g for g in user.grants if may_manage_grant(actor, g.role, g.initiative_id)]


def manages_all_of(actor: Actor, user: User) -> bool:
    """Whether the actor has authority over every grant the user holds. An account with no
    grants belongs to nobody but the admins."""
    if actor.is_admin:
        return True
    return bool(user.grants) and all(
        may_manage_grant(actor, g.role, g.initiative_id) for g in user.grants
    )


def _initiatives_of(user: User) -> list[int | None]:
    """Where an account-wide change is recorded: each initiative the user holds grants in."""
    found = sorted({g.initiative_id for g in user.grants if g.initiative_id is not None})
    return list(found) or [None]


def _grant_snapshot(grant: RoleGrant) -> dict[str, Any]:
    return {
        "role": grant.role,
        "initiative_id": grant.initiative_id,
        "organisation_id": grant.organisation_id,
    }


def record_user(
    session: Session,
    actor: Actor,
    user: User,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An account-wide change, recorded in each initiative the account works in."""
    record_in(
        _initiatives_of(user),
        session=session,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        action=action,
        before=before,
        after={"email": user.email, **(after or {})},
    )


def _record_grant(
    session: Session,
    actor: Actor,
    user: User,
    grant: RoleGrant,
    action: str,
    reason: str | None = None,
) -> None:
    snap = {"user_id": user.id, "email": user.email, **_grant_snapshot(grant)}
    record(
        session=session,
        actor=actor,
        initiative_id=grant.initiative_id,
        entity_type="grant",
        entity_id=grant.id,
        action=action,
        before=snap if action == "revoke" else None,
        after=snap if action == "grant" else None,
        reason=reason,
    )


def end_grants(*, session: Session, actor: Actor, grants: Iterable[RoleGrant], reason: str) -> None:
    """Remove grants for a reason outside the user (e.g. the membership ended): audited, and
    the holders' tokens renewed so the change applies at once."""
    for grant in list(grants):
        user = grant.user
        _record_grant(session, actor, user, grant, "revoke", reason=reason)
        user.grants.remove(grant)
        user.token_version += 1
    session.flush()


# --- accounts ---------------------------------------------------------------------------------


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
    actor: Actor = SYSTEM,
) -> User:
    """Create a user with the grants of one role (the CLI and tests call this as the system)."""
    return _create_user(
        session,
        actor,
        normalise_email(email),
        checked_password(password),
        role,
        initiative_slug,
        organisation_slug,
        name,
        action="create",
    )


def _create_user(
    session: Session,
    actor: Actor,
    email: str,
    password_hash: str,
    role: str,
    initiative_slug: str | None,
    organisation_slug: str | None,
    name: str | None,
    *,
    action: str,
) -> User:
    scopes = _grant_scopes(session, actor, role, initiative_slug, organisation_slug)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(
            gettext("a user with e-mail %(email)s exists already", email=email), field="email"
        )
    user = User(email=email, name=name, password_hash=password_hash)
    session.add(user)
    session.flush()
    _add_grants(session, actor, user, role, scopes)
    record_user(session, actor, user, action, after={"name": name})
    return user


def _registrable_email(
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    initiative_slug: str | None,
    organisation_slug: str | None,
) -> str:
    """The normalised e-mail of a new account the actor may create with that grant.

    An e-mail that has an account already answers 409 without saying where the account works:
    attaching the grant to it instead would let one initiative reach (and, for an account with
    no grants left, take over) a person it does not manage.
    """
    require_person(actor)
    _grant_scopes(session, actor, role, initiative_slug, organisation_slug)
    normalised = normalise_email(email)
    if not actor.is_admin and session.scalar(
        select(func.count()).select_from(User).where(User.email == normalised)
    ):
        raise Conflict(
            gettext(
                "this e-mail cannot be registered; if the person already has an account, "
                "ask an admin to add your grant to it"
            ),
            field="email",
        )
    return normalised


def create_user_as(
    *,
    session: Session,
    actor: Actor,
    email: str,
    password: str,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
) -> User:
    """create_user, checked: the actor must be allowed to hand out that grant."""
    normalised = _registrable_email(session, actor, email, role, initiative_slug, organisation_slug)
    return create_user(
        session=session,
        email=normalised,
        password=password,
        role=role,
        initiative_slug=initiative_slug,
        organisation_slug=organisation_slug,
        name=name,
        actor=actor,
    )


def create_invited_user_as(
    *,
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
) -> User:
    """An account for someone invited: the same rules as :func:`create_user_as`, but no
    password until the person accepts the invitation (models/access/invitations.py), so nobody
    else ever knows it. Audited as ``invite``."""
    normalised = _registrable_email(session, actor, email, role, initiative_slug, organisation_slug)
    return _create_user(
        session,
        actor,
        normalised,
        unusable_password_hash(),
        role,
        initiative_slug,
        organisation_slug,
        name,
        action="invite",
    )


def _add_grants(
    session: Session, actor: Actor, user: User, role: str, scopes: list[Scope]
) -> list[RoleGrant]:
    grants = [
        RoleGrant(role=role, initiative_id=initiative_id, organisation_id=organisation_id)
        for initiative_id, organisation_id in scopes
    ]
    user.grants.extend(grants)  # rights are read afresh on every request: no logout needed
    session.flush()
    for grant in grants:
        _record_grant(session, actor, user, grant, "grant")
    return grants


def grant_role(
    *,
    session: Session,
    actor: Actor,
    user: User,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
) -> list[RoleGrant]:
    """Add a grant; it applies from the user's next request (rights are read per request), and
    the user's sessions go on, so granting cannot be used to log someone out."""
    require_person(actor)
    scopes = _grant_scopes(session, actor, role, initiative_slug, organisation_slug)
    held = {(g.role, g.initiative_id, g.organisation_id) for g in user.grants}
    new = [s for s in scopes if (role, *s) not in held]
    if not new:
        raise Conflict(gettext("the user has this grant already"), field="role")
    return _add_grants(session, actor, user, role, new)


def revoke_grant(*, session: Session, actor: Actor, user: User, grant_id: int) -> None:
    """Remove a grant; existing tokens are invalidated and the user's API keys lose the rights
    at once (a key never has more than its creator has now)."""
    require_person(actor)
    grant = next((g for g in visible_grants(actor, user) if g.id == grant_id), None)
    if grant is None:
        raise NotFound(gettext("no such grant"))
    _record_grant(session, actor, user, grant, "revoke")
    user.grants.remove(grant)
    user.token_version += 1
    session.flush()


def _visible_user_ids(actor: Actor, initiative_id: int | None = None) -> Select[int]:
    """Users holding a grant the actor may manage (backbone staff; admins see everyone), in
    one initiative when it is given."""
    query = select(RoleGrant.user_id)
    if not actor.is_admin:
        query = query.where(
            RoleGrant.role.in_(("funder", "reporter")),
            RoleGrant.initiative_id.in_(actor.backbone_of),
        )
    if initiative_id is not None:
        query = query.where(RoleGrant.initiative_id == initiative_id)
    return query


def visible_users(*, session: Session, actor: Actor) -> list[User]:
    """Admins see everyone; backbone staff see the users holding grants they may manage."""
    require_person(actor)
    query = select(User).options(selectinload(User.grants)).order_by(User.email)
    if not actor.is_admin:
        if not actor.backbone_of:
            return []
        query = query.where(User.id.in_(_visible_user_ids(actor)))
    return list(session.scalars(query))


def users_page(
    *,
    session: Session,
    actor: Actor,
    limit: int,
    offset: int,
    initiative: str | None = None,
) -> Page[dict[str, Any]]:
    """One page of the users the actor may manage, described as it may see them; with
    ``initiative`` (a slug), only those holding a grant there the actor manages (404 for an
    initiative whose people the actor does not manage, as for a missing one)."""
    require_person(actor)
    query = select(User).options(selectinload(User.grants)).order_by(User.email, User.id)
    initiative_id = None
    if initiative is not None:
        initiative_id = session.scalar(select(Initiative.id).where(Initiative.slug == initiative))
        if initiative_id is None or not actor.is_backbone(initiative_id):
            raise NotFound(
                gettext("no initiative %(initiative)r", initiative=initiative), field="initiative"
            )
    if not actor.is_admin or initiative_id is not None:
        query = query.where(User.id.in_(_visible_user_ids(actor, initiative_id)))
    page = page_of(session=session, stmt=query, limit=limit, offset=offset)
    items = describe_users(session=session, actor=actor, users=page.items)
    return Page(items=items, total=page.total, limit=limit, offset=offset)


def get_user(*, session: Session, actor: Actor, user_id: int) -> User:
    """One account, if the actor may manage one of its grants (else 404, like a missing one)."""
    require_person(actor)
    user = session.get(User, user_id)
    if user is None or not (actor.is_admin or visible_grants(actor, user)):
        raise NotFound(gettext("no such user"))
    return user


def require_whole_account(actor: Actor, user: User, what: str) -> None:
    """Changing the account itself needs authority over every grant it holds, so one
    initiative cannot lock out (or take over) another's partner."""
    if not manages_all_of(actor, user):
        raise PermissionDenied(
            gettext(
                "only an admin may %(what)s this account; revoke the grants you manage instead",
                what=what,
            )
        )


def set_active(*, session: Session, actor: Actor, user: User, active: bool) -> None:
    """Deactivate or reactivate an account: its tokens and API keys stop (or resume) at once."""
    require_person(actor)
    require_whole_account(actor, user, "deactivate" if not active else "reactivate")
    if user.id == actor.user_id and not active:
        raise Conflict(gettext("you cannot deactivate yourself"), field="is_active")
    if user.is_active == active:
        return
    user.is_active = active
    user.token_version += 1
    session.flush()
    record_user(
        session,
        actor,
        user,
        "activate" if active else "deactivate",
        before={"is_active": not active},
        after={"is_active": active},
    )


def reset_password(*, session: Session, actor: Actor, user: User, password: str) -> int:
    """Set a new password for someone else: their sessions end and every API key they created
    is revoked, since a reset means the old credentials may be in the wrong hands.

    Answers how many keys were revoked.
    """
    require_person(actor)
    require_whole_account(actor, user, "reset the password of")
    user.password_hash = checked_password(password)
    user.token_version += 1
    keys = session.scalars(
        select(ApiKey).where(ApiKey.created_by_id == user.id, ApiKey.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for key in keys:
        key.revoked_at = now
    session.flush()
    record_user(
        session,
        actor,
        user,
        "password_reset",
        after={"api_keys_revoked": [k.prefix for k in keys]},
    )
    return len(keys)


def change_own_password(*, session: Session, actor: Actor, current: str, new: str) -> None:
    """A user changes their own password; other sessions end, API keys keep working."""
    from models.access.passwords import verify_password

    require_person(actor)
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise PermissionDenied(gettext("log in first"))
    if not verify_password(user.password_hash, current):
        raise InvalidInput(gettext("the current password is wrong"), field="current_password")
    user.password_hash = checked_password(new)
    user.token_version += 1
    session.flush()
    record_user(session, actor, user, "password_change")


def describe_users(*, session: Session, actor: Actor, users: list[User]) -> list[dict[str, Any]]:
    """Users as the actor may see them: the grants it manages, and the account's own details
    (name, dates) only where it manages the whole account, so one initiative learns nothing of
    what a person does elsewhere. ``manages_account`` says whether the actor may deactivate the
    account, reset its password or renew its invitation; ``invitation_pending`` that the person
    has not chosen a password yet."""
    grants = {u.id: visible_grants(actor, u) for u in users}
    initiative_ids = {g.initiative_id for gs in grants.values() for g in gs} - {None}
    organisation_ids = {g.organisation_id for gs in grants.values() for g in gs} - {None}
    initiatives: dict[int | None, str] = dict(
        session.execute(
            select(Initiative.id, Initiative.slug).where(Initiative.id.in_(initiative_ids))
        ).all()
    )
    organisations: dict[int | None, str] = dict(
        session.execute(
            select(Organisation.id, Organisation.slug).where(Organisation.id.in_(organisation_ids))
        ).all()
    )
    out = []
    for user in users:
        whole = actor.is_admin or manages_all_of(actor, user)
        out.append(
            {
                "id": user.id,
                "email": user.email,
                "name": user.name if whole else None,
                "is_active": user.is_active,
                "invitation_pending": not is_usable(user.password_hash),
                "manages_account": whole,
                "created_at": user.created_at if whole else None,
                "last_login_at": user.last_login_at if whole else None,
                "grants": [
                    {
                        "id": g.id,
                        "role": g.role,
                        "initiative": initiatives.get(g.initiative_id),
                        "organisation": organisations.get(g.organisation_id),
                    }
                    for g in grants[user.id]
                ],
            }
        )
    return out


@dataclass(frozen=True)
class GrantChoices:
    """What the actor may hand out, for a form to offer (the grant functions check again)."""

    roles: tuple[str, ...]
    initiatives: tuple[tuple[str, str], ...]  # (slug, name), by name
    members: dict[str, tuple[tuple[str, str], ...]]  # initiative slug -> (org slug, name)


def grant_choices(*, session: Session, actor: Actor) -> GrantChoices:
    """The roles and scopes :func:`grant_role` and the invitations accept from the actor:
    admins every role in every initiative, backbone staff funder and reporter grants in their
    own; the member organisations of each initiative for reporter grants."""
    require_person(actor)
    roles: tuple[str, ...] = ROLES
    if not actor.is_admin:
        roles = tuple(
            r for r in ROLES if any(may_manage_grant(actor, r, i) for i in actor.backbone_of)
        )
    query = select(Initiative.id, Initiative.slug, Initiative.name).order_by(
        Initiative.name, Initiative.slug
    )
    if not actor.is_admin:
        query = query.where(Initiative.id.in_(actor.backbone_of))
    initiatives = session.execute(query).all()
    members: dict[str, list[tuple[str, str]]] = {slug: [] for _, slug, _ in initiatives}
    slugs = {i: slug for i, slug, _ in initiatives}
    rows = session.execute(
        select(Member.initiative_id, Organisation.slug, Organisation.name)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id.in_(list(slugs)))
        .order_by(Organisation.name, Organisation.slug)
    )
    for initiative_id, org_slug, org_name in rows:
        members[slugs[initiative_id]].append((org_slug, org_name))
    return GrantChoices(
        roles=roles,
        initiatives=tuple((slug, name) for _, slug, name in initiatives),
        members={k: tuple(v) for k, v in members.items()},
    )


def set_own_locale(*, session: Session, actor: Actor, locale: str | None) -> str | None:
    """Keep the language the acting person chose for pages, messages and e-mails (README,
    "Languages"); None forgets it, so the browser's language decides again."""
    require_person(actor)
    chosen = i18n.supported(locale) if locale is not None else None
    if locale is not None and chosen is None:
        raise InvalidInput(
            gettext("must be one of %(locales)s", locales=", ".join(i18n.LOCALES)), field="locale"
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(gettext("no such user"))
    user.locale = chosen
    i18n.prefer(chosen)
    return chosen
