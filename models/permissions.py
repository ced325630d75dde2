"""Who is acting, and what they may see. Every rule function takes an ``actor``.

The API and every Dash callback build an Actor for the request and pass it down, so one set of
rules (design §2) guards every door.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.auth import RoleGrant, User


@dataclass(frozen=True)
class Actor:
    """The rights of one request: a logged-in user, an API key, or nobody.

    ``reporter_in`` holds (initiative id, organisation id) pairs: a reporter grant works through
    one membership, never for the organisation's data in other initiatives. ``api_key_id`` is
    set when a key acts; keys never manage access (users, grants, keys).
    """

    user_id: int | None = None
    label: str = "anonymous"
    is_admin: bool = False
    backbone_of: frozenset[int] = field(default_factory=frozenset)  # initiative ids
    funder_of: frozenset[int] = field(default_factory=frozenset)  # initiative ids
    reporter_in: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    api_key_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.label == "anonymous"

    @property
    def via_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def reporter_for(self) -> frozenset[int]:
        """Every organisation the actor reports for, in some initiative."""
        return frozenset(org for _, org in self.reporter_in)

    def is_backbone(self, initiative_id: int) -> bool:
        return self.is_admin or initiative_id in self.backbone_of

    def is_funder(self, initiative_id: int) -> bool:
        return initiative_id in self.funder_of

    def reports_for(self, initiative_id: int, organisation_id: int) -> bool:
        return (initiative_id, organisation_id) in self.reporter_in

    def reporter_orgs(self, initiative_id: int) -> frozenset[int]:
        """The organisations the actor reports for in this initiative."""
        return frozenset(org for init, org in self.reporter_in if init == initiative_id)


def require_person(actor: Actor) -> None:
    """Access (users, grants, keys) is managed by logged-in people: a leaked key must not mint
    users, grants or keys, nor revoke an organisation's other keys."""
    from models.errors import PermissionDenied

    if actor.via_api_key or actor.user_id is None:
        raise PermissionDenied("API keys cannot manage users, grants or keys; log in instead")


ANONYMOUS = Actor()
SYSTEM = Actor(label="system", is_admin=True)  # the CLI and the demo loader


def actor_for_grants(
    grants, *, user_id: int | None, label: str, api_key_id: int | None = None
) -> Actor:
    """An Actor holding exactly these role grants."""
    grants = list(grants)
    return Actor(
        user_id=user_id,
        label=label,
        is_admin=any(g.role == "admin" for g in grants),
        backbone_of=frozenset(g.initiative_id for g in grants if g.role == "backbone"),
        funder_of=frozenset(g.initiative_id for g in grants if g.role == "funder"),
        reporter_in=frozenset(
            (g.initiative_id, g.organisation_id) for g in grants if g.role == "reporter"
        ),
        api_key_id=api_key_id,
    )


def actor_for_user(*, session: Session, user: User) -> Actor:
    """Collect a user's grants into an Actor (one query)."""
    grants = session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    return actor_for_grants(grants, user_id=user.id, label=f"user:{user.email}")


# --- scope checks shared by every rule --------------------------------------------------------


def can_view_initiative(*, session: Session, actor: Actor, initiative_id: int) -> bool:
    """Admin, its backbone and funders, and reporters granted in it.

    ``session`` stays in the signature: every rule takes one, and callers pass it.
    """
    return (
        actor.is_backbone(initiative_id)
        or actor.is_funder(initiative_id)
        or bool(actor.reporter_orgs(initiative_id))
    )


def get_initiative(*, session: Session, actor: Actor, slug: str, manage: bool = False):
    """The initiative by slug if the actor may see it (else 404); ``manage`` needs backbone (403).

    404 for what the actor may not see keeps other tenants invisible; 403 only for what the actor
    can already see but may not change.
    """
    from models.errors import NotFound, PermissionDenied
    from models.initiative import Initiative

    initiative = session.scalar(select(Initiative).where(Initiative.slug == slug))
    if initiative is None or not can_view_initiative(
        session=session, actor=actor, initiative_id=initiative.id
    ):
        raise NotFound(f"no initiative {slug!r}", field="slug")
    if manage and not actor.is_backbone(initiative.id):
        raise PermissionDenied("only the initiative's backbone staff may do this")
    return initiative
