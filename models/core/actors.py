"""The acting user of a request: a logged-in person, an API key, or nobody.

Every domain function takes one; it is built from grants by :mod:`models.access.permissions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.core.errors import (
    AuthenticationFailed,
)
from models.core.i18n import gettext


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
    locale: str | None = None  # the user's chosen language, if any (models.core.i18n)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.label == "anonymous"

    @property
    def via_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def shown(self) -> str:
        """The actor as people read it (in a message, a history): see :func:`shown_label`."""
        return shown_label(self.label)

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


def shown_label(label: str) -> str:
    """An actor's recorded label as people read it: a user's e-mail address without the
    ``user:`` the audit trail keeps; an API key or the system as recorded."""
    return label.removeprefix("user:")


def require_person(actor: Actor) -> None:
    """Access (users, grants, keys) is managed by logged-in people: a leaked key must not mint
    users, grants or keys, nor revoke an organisation's other keys."""
    from models.core.errors import PermissionDenied

    if actor.via_api_key or actor.user_id is None:
        raise PermissionDenied(
            gettext("API keys cannot manage users, grants or keys; log in instead")
        )


ANONYMOUS = Actor()
SYSTEM = Actor(label="system", is_admin=True)  # the CLI and the demo loader


def require_login(actor: Actor) -> None:
    if actor.is_anonymous:
        raise AuthenticationFailed(gettext("log in first"))
