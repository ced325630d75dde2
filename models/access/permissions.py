"""Permissions: an actor from a user's grants, and the initiatives an actor may view or manage.

An initiative the actor may not view answers 404 (tenants stay invisible); one it may view but
not manage answers 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

from models.core.actors import Actor, require_login
from models.core.i18n import gettext
from models.tables.access import RoleGrant, User
from models.tables.initiative import Initiative
from models.tables.organisation import Organisation


def actor_for_grants(
    grants: Iterable[Any], *, user_id: int | None, label: str, api_key_id: int | None = None
) -> Actor:
    """An Actor holding exactly these role grants (rows or anything with ``role``,
    ``initiative_id`` and ``organisation_id``)."""
    grants = list(grants)
    return Actor(
        user_id=user_id,
        label=label,
        is_admin=any(g.role == "admin" for g in grants),
        # The table's check constraint gives these roles their initiative (and organisation).
        backbone_of=frozenset(
            g.initiative_id for g in grants if g.role == "backbone" and g.initiative_id is not None
        ),
        funder_of=frozenset(
            g.initiative_id for g in grants if g.role == "funder" and g.initiative_id is not None
        ),
        reporter_in=frozenset(
            (g.initiative_id, g.organisation_id)
            for g in grants
            if g.role == "reporter"
            and g.initiative_id is not None
            and g.organisation_id is not None
        ),
        api_key_id=api_key_id,
    )


# Every request reads its actor's grants: the statement is built once, and reads the three
# columns an Actor is made of rather than whole rows (README, "Scaling").
_GRANTS = select(RoleGrant.role, RoleGrant.initiative_id, RoleGrant.organisation_id).where(
    RoleGrant.user_id == bindparam("user_id")
)


def actor_for_user(*, session: Session, user: User) -> Actor:
    """Collect a user's grants into an Actor (one query), with the user's chosen language."""
    actor = actor_for_user_id(session=session, user_id=user.id, email=user.email)
    return replace(actor, locale=user.locale) if user.locale else actor


def actor_for_user_id(*, session: Session, user_id: int, email: str) -> Actor:
    """The Actor of the user ``user_id`` (whose e-mail is ``email``), from their grants."""
    session.flush()  # grants given in this unit of work count (a no-op when there are none)
    # On the connection: a few columns need none of the ORM's loading.
    grants = session.connection().execute(_GRANTS, {"user_id": user_id}).all()
    return actor_for_grants(grants, user_id=user_id, label=f"user:{email}")


def can_view_initiative(*, session: Session | None, actor: Actor, initiative_id: int) -> bool:
    """Admin, its backbone and funders, and reporters granted in it.

    ``session`` stays in the signature: every rule takes one, and callers pass it (None: a
    caller that has none, answering from what it keeps).
    """
    return (
        actor.is_backbone(initiative_id)
        or actor.is_funder(initiative_id)
        or bool(actor.reporter_orgs(initiative_id))
    )


_BY_SLUG = select(Initiative).where(Initiative.slug == bindparam("slug"))


def get_initiative(
    *, session: Session, actor: Actor, slug: str, manage: bool = False
) -> Initiative:
    """The initiative by slug if the actor may see it (else 404); ``manage`` needs backbone (403).

    404 for what the actor may not see keeps other tenants invisible; 403 only for what the actor
    can already see but may not change.
    """
    from models.core.errors import NotFound, PermissionDenied

    # A request looks its initiative up more than once (its data version, then its view):
    # the session keeps the row a slug named (its identity map alone holds rows weakly, so a
    # row no caller kept would be read again), as long as the row is still persistent in it.
    known = session.info.setdefault("initiatives", {})
    initiative: Initiative | None = known.get(slug)
    if initiative is not None:
        state = inspect(initiative)
        if not state.persistent or state.session is not session or state.expired_attributes:
            initiative = None  # deleted, moved or expired: asked again
    if initiative is None or initiative.slug != slug:
        initiative = session.scalar(_BY_SLUG, {"slug": slug})
        if initiative is not None:
            known[slug] = initiative
    if initiative is None or not can_view_initiative(
        session=session, actor=actor, initiative_id=initiative.id
    ):
        raise NotFound(gettext("no initiative %(slug)r", slug=slug), field="slug")
    if manage and not actor.is_backbone(initiative.id):
        raise PermissionDenied(gettext("only the initiative's backbone staff may do this"))
    return initiative


def viewable_initiative(*, session: Session, actor: Actor, slug: str) -> Initiative:
    require_login(actor)
    return get_initiative(session=session, actor=actor, slug=slug)


def manageable_initiative(*, session: Session, actor: Actor, slug: str) -> Initiative:
    require_login(actor)
    return get_initiative(session=session, actor=actor, slug=slug, manage=True)


def describe_actor(*, session: Session, actor: Actor) -> dict[str, Any]:
    """Who the actor is and its grants by slug (``GET /me``): only the initiatives and
    organisations named in its own grants are read."""
    initiative_ids = set(actor.backbone_of | actor.funder_of) | {i for i, _ in actor.reporter_in}
    organisation_ids = {o for _, o in actor.reporter_in}
    slugs = dict(
        session.execute(
            select(Initiative.id, Initiative.slug).where(Initiative.id.in_(initiative_ids))
        ).all()
    )
    orgs = dict(
        session.execute(
            select(Organisation.id, Organisation.slug).where(Organisation.id.in_(organisation_ids))
        ).all()
    )
    grants: list[dict[str, str | None]] = [{"role": "admin"}] if actor.is_admin else []
    grants += [{"role": "backbone", "initiative": slugs.get(i)} for i in sorted(actor.backbone_of)]
    grants += [{"role": "funder", "initiative": slugs.get(i)} for i in sorted(actor.funder_of)]
    grants += [
        {"role": "reporter", "initiative": slugs.get(i), "organisation": orgs.get(o)}
        for i, o in sorted(actor.reporter_in)
    ]
    if actor.user_id is None:
        return {"kind": "api_key", "label": actor.label, "grants": grants}
    user = session.get(User, actor.user_id)
    return {
        "kind": "user",
        "email": user.email if user else None,
        "name": user.name if user else None,
        "label": actor.label,
        "grants": grants,
    }
