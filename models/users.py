"""User accounts and their role grants."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.auth import ROLES, RoleGrant, User
from models.errors import Conflict, InvalidInput, NotFound
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
