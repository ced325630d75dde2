"""Members of an initiative and their obligations (which indicators each partner reports).

A member is an organisation of the directory, or a new one added with its membership (how
backbone staff add organisations). Ending a membership ends the reporter grants that worked
through it; a member that has reported is retired (``active`` false) instead, and can be
reactivated.

The rules every configuration function follows are in :mod:`models.initiatives`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.access.permissions import manageable_initiative, viewable_initiative
from models.access.users import end_grants
from models.audit.trail import EntityAudit, snapshot
from models.core.actors import Actor
from models.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from models.core.fields import (
    any_row,
    checked_boolean,
    checked_date,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, contains_text, page_of
from models.initiatives.organisations import create_organisation
from models.tables.access import RoleGrant
from models.tables.indicator import (
    Indicator,
    Obligation,
)
from models.tables.initiative import Initiative, Member
from models.tables.organisation import Organisation
from models.tables.reporting import Submission


def _member_snapshot(member: Member) -> dict[str, Any]:
    return {
        "organisation": member.organisation.slug,
        **snapshot(member, ("joined_on", "shares_with_funders", "active")),
    }


def _find_member(session: Session, initiative: Initiative, organisation: str) -> Member:
    member = session.scalar(
        select(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == initiative.id, Organisation.slug == organisation)
    )
    if member is None:
        raise NotFound(
            gettext(
                "%(organisation)r is not a member of %(slug)r",
                organisation=organisation,
                slug=initiative.slug,
            ),
            field="organisation",
        )
    return member


def list_members(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    active: bool | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Member]:
    """The initiative's members, by organisation name."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = (
        select(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == init.id)
        .order_by(Organisation.name, Organisation.slug)
    )
    if active is not None:
        stmt = stmt.where(Member.active == active)
    if q:
        stmt = stmt.where(
            or_(contains_text(Organisation.name, q), contains_text(Organisation.slug, q))
        )
    return page_of(session=session, stmt=stmt, limit=limit, offset=offset)


def member_names(*, session: Session, actor: Actor, initiative: str) -> dict[str, str]:
    """Every member's organisation, slug → name, as plain rows: pages that name a period's
    partners (the review queue) need no Member objects."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return dict(
        session.execute(
            select(Organisation.slug, Organisation.name)
            .join(Member, Member.organisation_id == Organisation.id)
            .where(Member.initiative_id == init.id)
        ).all()
    )


def get_member(*, session: Session, actor: Actor, initiative: str, organisation: str) -> Member:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return _find_member(session, init, organisation)


NEW_ORGANISATION_FIELDS = ("slug", "name", "sector", "website", "description")


def add_member(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    organisation: str | None = None,
    new_organisation: Mapping[str, Any] | None = None,
    joined_on: date | None = None,
    shares_with_funders: bool = True,
    active: bool = True,
) -> Member:
    """Backbone: make an organisation a member of the initiative: one of the directory
    (``organisation``, its slug), or a new one (``new_organisation``: slug, name, sector,
    website, description), added to the directory and enrolled in one step, and audited in
    this initiative (the only way backbone staff add organisations:
    :func:`models.initiatives.organisations.check_may_create`)."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    if (organisation is None) == (new_organisation is None):
        raise InvalidInput(
            gettext(
                "give either organisation (the slug of one in the directory) or new_organisation"
            ),
            field="organisation",
        )
    if joined_on is not None:
        checked_date(joined_on, "joined_on")
    flags = {
        "shares_with_funders": checked_boolean(shares_with_funders, "shares_with_funders"),
        "active": checked_boolean(active, "active"),
    }
    if new_organisation is not None:
        if not isinstance(new_organisation, Mapping):
            raise InvalidInput(gettext("must be an object"), field="new_organisation")
        reject_unknown_changes(
            {f"new_organisation.{k}": v for k, v in new_organisation.items()},
            [f"new_organisation.{name}" for name in NEW_ORGANISATION_FIELDS],
        )
        given: dict[str, Any] = {n: new_organisation.get(n) for n in NEW_ORGANISATION_FIELDS}
        org = create_organisation(
            session=session, actor=actor, initiative=init, field_prefix="new_organisation.", **given
        )
        organisation = org.slug
    else:
        found = session.scalar(select(Organisation).where(Organisation.slug == organisation))
        if found is None:
            raise InvalidInput(
                gettext("no organisation %(organisation)r", organisation=organisation),
                field="organisation",
            )
        org = found
        taken = select(Member.id).where(
            Member.initiative_id == init.id, Member.organisation_id == org.id
        )
        if any_row(session=session, stmt=taken):
            raise Conflict(
                gettext("%(organisation)r is a member already", organisation=organisation),
                field="organisation",
            )
    member = Member(initiative_id=init.id, organisation=org, joined_on=joined_on, **flags)
    session.add(member)
    flush_unique(
        session=session,
        field="organisation",
        message=gettext("%(organisation)r is a member already", organisation=organisation),
    )
    EntityAudit(session=session, actor=actor, entity_type="member", initiative_id=init.id).created(
        member.id, _member_snapshot(member)
    )
    return member


def update_member(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    organisation: str,
    changes: Mapping[str, Any],
) -> Member:
    """Backbone: ``active``, ``shares_with_funders``, ``joined_on``."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    member = _find_member(session, init, organisation)
    reject_unknown_changes(changes, ("active", "shares_with_funders", "joined_on"))
    before = _member_snapshot(member)
    for name, value in changes.items():
        if name == "joined_on":
            member.joined_on = None if value is None else checked_date(value, name)
        else:
            setattr(member, name, checked_boolean(value, name))
    session.flush()
    after = _member_snapshot(member)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="member", initiative_id=init.id
        ).updated(member.id, before, after)
    return member


def remove_member(*, session: Session, actor: Actor, initiative: str, organisation: str) -> Member:
    """Backbone; refused once the member has reported (deactivate it instead)."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    member = _find_member(session, init, organisation)
    if any_row(
        session=session, stmt=select(Submission.id).where(Submission.member_id == member.id)
    ):
        raise Conflict(
            gettext(
                "%(organisation)r has submissions here; set active to false instead",
                organisation=organisation,
            ),
            field="organisation",
        )
    EntityAudit(session=session, actor=actor, entity_type="member", initiative_id=init.id).deleted(
        member.id, {**_member_snapshot(member), "obligations": _obligation_codes(session, member)}
    )
    _end_membership_grants(session, actor, member)
    session.delete(member)
    session.flush()
    return member


def _end_membership_grants(session: Session, actor: Actor, member: Member) -> None:
    """The reporter grants that worked through this membership end with it (the database's
    foreign key would remove them too; here they are audited and their holders' tokens end)."""
    grants = session.scalars(
        select(RoleGrant).where(
            RoleGrant.role == "reporter",
            RoleGrant.initiative_id == member.initiative_id,
            RoleGrant.organisation_id == member.organisation_id,
        )
    ).all()
    end_grants(session=session, actor=actor, grants=grants, reason="membership removed")


def _obligation_codes(session: Session, member: Member) -> list[str]:
    return list(
        session.scalars(
            select(Indicator.code)
            .join(Obligation, Obligation.indicator_id == Indicator.id)
            .where(Obligation.member_id == member.id)
            .order_by(Indicator.position, Indicator.code)
        )
    )


def get_obligations(
    *, session: Session, actor: Actor, initiative: str, organisation: str
) -> list[str]:
    """The codes of the indicators the member is expected to report."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    return _obligation_codes(session, _find_member(session, init, organisation))


def set_obligations(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    organisation: str,
    indicators: Sequence[str],
) -> list[str]:
    """Backbone: replace the member's obligations with these indicator codes."""
    init = manageable_initiative(session=session, actor=actor, slug=initiative)
    member = _find_member(session, init, organisation)
    wanted = list(dict.fromkeys(indicators))  # drop repeats, keep order
    rows = session.execute(
        select(Indicator.code, Indicator.id, Indicator.expression).where(
            Indicator.initiative_id == init.id, Indicator.code.in_(wanted)
        )
    ).all()
    by_code = {code: indicator_id for code, indicator_id, _ in rows}
    computed = {code for code, _, expression in rows if expression is not None}
    for index, code in enumerate(indicators):
        if code not in by_code:
            raise InvalidInput(
                gettext("no indicator with code %(code)r in %(slug)r", code=code, slug=init.slug),
                field=f"indicators[{index}]",
                extra={"value": code},
            )
        if code in computed:
            # Its figures are its inputs': nobody reports a computed indicator.
            raise InvalidInput(
                gettext("%(code)r is computed from other indicators; nobody reports it", code=code),
                field=f"indicators[{index}]",
                extra={"value": code},
            )
    before = _obligation_codes(session, member)
    existing = {
        o.indicator_id: o
        for o in session.scalars(select(Obligation).where(Obligation.member_id == member.id))
    }
    wanted_ids = {by_code[c] for c in wanted}
    for indicator_id, obligation in existing.items():
        if indicator_id not in wanted_ids:
            session.delete(obligation)
    for indicator_id in wanted_ids - set(existing):
        session.add(Obligation(member_id=member.id, indicator_id=indicator_id))
    session.flush()
    after = _obligation_codes(session, member)
    if after != before:
        EntityAudit(
            session=session, actor=actor, entity_type="obligations", initiative_id=init.id
        ).updated(
            member.id,
            {"organisation": organisation, "indicators": before},
            {"organisation": organisation, "indicators": after},
        )
    return after
