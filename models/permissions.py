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
    user_id: int | None = None
    label: str = "anonymous"
    is_admin: bool = False
    backbone_of: frozenset[int] = field(default_factory=frozenset)  # initiative ids
    funder_of: frozenset[int] = field(default_factory=frozenset)  # initiative ids
    reporter_for: frozenset[int] = field(default_factory=frozenset)  # organisation ids

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.label == "anonymous"

    def is_backbone(self, initiative_id: int) -> bool:
        return self.is_admin or initiative_id in self.backbone_of

    def is_funder(self, initiative_id: int) -> bool:
        return initiative_id in self.funder_of

    def reports_for(self, organisation_id: int) -> bool:
        return organisation_id in self.reporter_for


ANONYMOUS = Actor()
SYSTEM = Actor(label="system", is_admin=True)  # the CLI and the demo loader


def actor_for_user(*, session: Session, user: User) -> Actor:
    """Collect a user's grants into an Actor (one query)."""
    grants = session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    return Actor(
        user_id=user.id,
        label=f"user:{user.email}",
        is_admin=any(g.role == "admin" for g in grants),
        backbone_of=frozenset(g.initiative_id for g in grants if g.role == "backbone"),
        funder_of=frozenset(g.initiative_id for g in grants if g.role == "funder"),
        reporter_for=frozenset(g.organisation_id for g in grants if g.role == "reporter"),
    )
