"""User accounts and their role grants."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.auth import ROLES, RoleGrant, User
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.initiative import Initiative
from models.organisation import Organisation
from models.passwords import WeakPassword, check_strength, hash_password


def normalise_email(email: str) -> str:
    try:
        # Deliverability is not checked: deployments run without outside DNS.
        return validate_email(
            email.strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(str(exc), field="email") from None


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
) -> User:
    """Create a user with one role grant; the scope must fit the role (design §2)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise InvalidInput(str(exc), field="password") from None
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(f"a user with e-mail {email} exists already", field="email")

    initiative_id = organisation_id = None
    if role in ("backbone", "funder"):
        if not initiative_slug or organisation_slug:
            raise InvalidInput(f"a {role} needs --initiative (and no --org)", field="initiative")
        initiative_id = _id_by_slug(session, Initiative, initiative_slug, "initiative")
    elif role == "reporter":
        if not organisation_slug or initiative_slug:
            raise InvalidInput("a reporter needs --org (and no --initiative)", field="org")
        organisation_id = _id_by_slug(session, Organisation, organisation_slug, "org")
    elif initiative_slug or organisation_slug:
        raise InvalidInput("an admin has no --initiative or --org", field="role")

    user = User(email=email, name=name, password_hash=hash_password(password))
    user.grants.append(
        RoleGrant(role=role, initiative_id=initiative_id, organisation_id=organisation_id)
    )
    session.add(user)
    session.flush()
    return user


def _id_by_slug(session: Session, model, slug: str, field: str) -> int:
    found = session.scalar(select(model.id).where(model.slug == slug))
    if found is None:
        raise NotFound(f"no {field} with slug {slug!r}", field=field)
    return found


def _scope_ids(
    session: Session, role: str, initiative_slug: str | None, organisation_slug: str | None
) -> tuple[int | None, int | None]:
    if role in ("backbone", "funder"):
        if not initiative_slug or organisation_slug:
            raise InvalidInput(
                f"a {role} grant needs an initiative (and no organisation)", field="initiative"
            )
        return _id_by_slug(session, Initiative, initiative_slug, "initiative"), None
    if role == "reporter":
        if not organisation_slug or initiative_slug:
            raise InvalidInput(
                "a reporter grant needs an organisation (and no initiative)", field="organisation"
            )
        return None, _id_by_slug(session, Organisation, organisation_slug, "organisation")
    if role == "admin":
        if initiative_slug or organisation_slug:
            raise InvalidInput("an admin grant has no initiative or organisation", field="role")
        return None, None
    raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")


def _managed_organisations(session: Session, actor) -> set[int]:
    """Organisations that are members of an initiative the actor is backbone of."""
    from models.initiative import Member

    if not actor.backbone_of:
        return set()
    return set(
        session.scalars(
            select(Member.organisation_id).where(Member.initiative_id.in_(actor.backbone_of))
        )
    )


def may_manage_grant(
    actor, role: str, initiative_id: int | None, organisation_id: int | None, managed: set[int]
) -> bool:
    """Admins manage every grant; backbone staff manage funder grants of their initiative and
    reporter grants of its member organisations (``managed``)."""
    if actor.is_admin:
        return True
    if role == "funder" and initiative_id is not None:
        return actor.is_backbone(initiative_id)
    return role == "reporter" and organisation_id in managed


def grant_role(
    *,
    session: Session,
    actor,
    user: User,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
) -> RoleGrant:
    """Add a grant; the user's existing tokens stop working so the new rights apply at once."""
    initiative_id, organisation_id = _scope_ids(session, role, initiative_slug, organisation_slug)
    if not may_manage_grant(
        actor, role, initiative_id, organisation_id, _managed_organisations(session, actor)
    ):
        raise PermissionDenied(f"you may not grant {role} here")
    for g in user.grants:
        if (g.role, g.initiative_id, g.organisation_id) == (role, initiative_id, organisation_id):
            raise Conflict("the user has this grant already", field="role")
    grant = RoleGrant(role=role, initiative_id=initiative_id, organisation_id=organisation_id)
    user.grants.append(grant)
    user.token_version += 1
    session.flush()
    return grant


def revoke_grant(*, session: Session, actor, user: User, grant_id: int) -> None:
    """Remove a grant; existing tokens are invalidated (a role change takes effect now)."""
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None or not may_manage_grant(
        actor,
        grant.role,
        grant.initiative_id,
        grant.organisation_id,
        _managed_organisations(session, actor),
    ):
        raise NotFound("no such grant")
    user.grants.remove(grant)
    user.token_version += 1
    session.flush()


def visible_users(*, session: Session, actor) -> list[User]:
    """Admins see everyone; backbone staff see the users holding grants they may manage."""
    users = session.scalars(
        select(User).options(selectinload(User.grants)).order_by(User.email)
    ).all()
    if actor.is_admin:
        return list(users)
    managed = _managed_organisations(session, actor)
    return [
        u
        for u in users
        if any(
            may_manage_grant(actor, g.role, g.initiative_id, g.organisation_id, managed)
            for g in u.grants
        )
    ]


def get_user(*, session: Session, actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or (
        not actor.is_admin and user not in visible_users(session=session, actor=actor)
    ):
        raise NotFound("no such user")
    return user


def set_active(*, session: Session, actor, user: User, active: bool) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only admins may deactivate users")
    user.is_active = active
    user.token_version += 1
    session.flush()


def create_user_as(
    *,
    session: Session,
    actor,
    email: str,
    password: str,
    role: str,
    initiative_slug: str | None = None,
    organisation_slug: str | None = None,
    name: str | None = None,
) -> User:
    """create_user, checked: the actor must be allowed to hand out that grant."""
    initiative_id, organisation_id = _scope_ids(session, role, initiative_slug, organisation_slug)
    if not may_manage_grant(
        actor, role, initiative_id, organisation_id, _managed_organisations(session, actor)
    ):
        raise PermissionDenied(f"you may not create a {role} here")
    return create_user(
        session=session,
        email=email,
        password=password,
        role=role,
        initiative_slug=initiative_slug,
        organisation_slug=organisation_slug,
        name=name,
    )
