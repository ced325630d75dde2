"""The audit trail of one configured object: every change of an outcome, indicator, dimension,
member (with its obligations), period or strategy (with its actions), named by its code, newest
first.

The configuration functions of this package record an event per create, update and delete
(:mod:`models.audit.trail`); the setup pages show them next to the object they concern. Reading
the trail is for the initiative's backbone team, as :func:`models.audit.trail.list_events` rules.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative
from models.audit.trail import list_events
from models.core.actors import Actor
from models.core.errors import InvalidInput, NotFound
from models.core.i18n import gettext
from models.tables.audit import AuditEvent
from models.tables.indicator import Dimension, Indicator, Outcome
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.strategy import Strategy

# The kinds of object named by a code, and the kinds of event recorded under the object's id
# (a member's obligations are recorded under the member).
ENTITY_EVENTS: dict[str, tuple[str, ...]] = {
    "outcome": ("outcome",),
    "indicator": ("indicator", "gap_target"),
    "dimension": ("dimension",),
    "member": ("member", "obligations"),
    "period": ("period",),
    "strategy": ("strategy", "strategy_action"),  # actions are recorded under their strategy
}


def _not_found(entity_type: str, code: str, slug: str) -> str:
    """The refusal as a whole sentence per kind of object (README, "Languages": no English
    word slotted into a translated sentence)."""
    words = {"code": code, "slug": slug}
    sentences = {
        "member": lambda: gettext("no member %(code)r in %(slug)r", **words),
        "outcome": lambda: gettext("no outcome %(code)r in %(slug)r", **words),
        "indicator": lambda: gettext("no indicator %(code)r in %(slug)r", **words),
        "dimension": lambda: gettext("no dimension %(code)r in %(slug)r", **words),
        "period": lambda: gettext("no period %(code)r in %(slug)r", **words),
        "strategy": lambda: gettext("no strategy %(code)r in %(slug)r", **words),
    }
    return sentences[entity_type]()


def _entity_id(session: Session, initiative: Initiative, entity_type: str, code: str) -> int:
    if entity_type == "member":
        found = session.scalar(
            select(Member.id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.initiative_id == initiative.id, Organisation.slug == code)
        )
    else:
        id_, scope, column = {
            "outcome": (Outcome.id, Outcome.initiative_id, Outcome.code),
            "indicator": (Indicator.id, Indicator.initiative_id, Indicator.code),
            "dimension": (Dimension.id, Dimension.initiative_id, Dimension.code),
            "period": (Period.id, Period.initiative_id, Period.key),
            "strategy": (Strategy.id, Strategy.initiative_id, Strategy.code),
        }[entity_type]
        found = session.scalar(select(id_).where(scope == initiative.id, column == code))
    if found is None:
        raise NotFound(_not_found(entity_type, code, initiative.slug), field="code")
    return found


def object_changes(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    entity_type: str,
    code: str,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """The audit events of one object of the initiative (``entity_type`` one of
    :data:`ENTITY_EVENTS`, ``code`` its code, a member by its organisation's slug, a period by
    its key), newest first, with their total; backbone staff only.

    Only the events since the object's creation count: SQLite gives a new row the id of a
    deleted one, and the deleted object's events (recorded under that id) are not the new
    one's."""
    if entity_type not in ENTITY_EVENTS:
        raise InvalidInput(
            gettext(
                "entity_type must be one of %(entity_events)s",
                entity_events=", ".join(ENTITY_EVENTS),
            ),
            field="entity_type",
        )
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    entity_id = _entity_id(session, init, entity_type, code)
    created = session.scalar(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.initiative_id == init.id,
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == entity_id,
            AuditEvent.action == "create",
        )
    )
    return list_events(
        session=session,
        actor=actor,
        initiative_slug=init.slug,
        entity_types=ENTITY_EVENTS[entity_type],
        entity_id=entity_id,
        from_id=created,
        limit=limit,
        offset=offset,
    )
