"""Configuring initiatives: organisations, initiatives, members and their obligations, outcomes,
dimensions and categories, indicators with baseline and targets, and reporting periods.

Rules (design §2): every caller must be logged in. Organisations are visible to every logged-in
user; admin and any backbone may create them, only admin may change or delete them. Only admin
creates or deletes initiatives. Everything below an initiative is read by whoever may view the
initiative and changed by its backbone (or admin); others get 404, so tenants stay invisible,
and viewers who may not change it get 403.

Every change writes an audit event. Functions flush, never commit. Deleting something that
reported data depends on is refused with :class:`Conflict` instead of cascading it away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.audit_log import record, snapshot
from models.auth import RoleGrant
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.indicator import (
    DIRECTIONS,
    FREQUENCIES,
    MEASURE_TYPES,
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    Obligation,
    Outcome,
    SeriesBreak,
)
from models.initiative import PERIOD_KINDS, Initiative, Member, Period
from models.organisation import SECTORS, SLUG_PATTERN, Organisation
from models.permissions import Actor, get_initiative
from models.publication import Publication
from models.reporting import Submission, Value
from models.security import AuthenticationFailed
from models.users import end_grants

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000
# Integer columns (positions, thresholds) are 32-bit on PostgreSQL; a larger number must be
# refused here, not by the database (a 500 on PostgreSQL, an OverflowError on SQLite).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

INDICATOR_CODE_PATTERN = r"^[A-Z0-9_]{1,60}$"
OUTCOME_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,60}$"
# Dimension and category codes make disaggregation keys ("race=black"): no "=", "," or spaces.
DIMENSION_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
PERIOD_KEY_PATTERN = r"^(\d{4})(?:Q([1-4]))?$"
MIN_YEAR, MAX_YEAR = 1900, 2999

# Defaults for a new period's reporting window, counted from the period's last day.
OPENS_AFTER = timedelta(days=1)
DUE_AFTER = timedelta(days=30)
CLOSES_AFTER = timedelta(days=60)

ORGANISATION_FIELDS = ("slug", "name", "sector", "website", "description")
INITIATIVE_FIELDS = ("slug", "name", "description", "region", "suppression_threshold")
OUTCOME_FIELDS = ("code", "name", "description", "position")
PERIOD_FIELDS = (
    "key",
    "kind",
    "starts_on",
    "ends_on",
    "opens_on",
    "due_on",
    "closes_on",
    "locked",
)
INDICATOR_SCALARS = (
    "name",
    "definition",
    "unit",
    "measure_type",
    "direction",
    "valid_min",
    "valid_max",
    "decimals",
    "frequency",
    "data_source",
    "position",
)


# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the size of the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")


def _page(session: Session, stmt: Select, *, limit: int, offset: int) -> Page:
    _check_page(limit, offset)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(limit).offset(offset)).unique())
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


def _contains(column, text: str):
    """Case-insensitive substring match with the LIKE wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


# --- shared checks ----------------------------------------------------------------------------


def _require_login(actor: Actor) -> None:
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")


def _viewable(session: Session, actor: Actor, slug: str) -> Initiative:
    _require_login(actor)
    return get_initiative(session=session, actor=actor, slug=slug)


def _manageable(session: Session, actor: Actor, slug: str) -> Initiative:
    _require_login(actor)
    return get_initiative(session=session, actor=actor, slug=slug, manage=True)


def _text(
    value: Any, field: str, *, max_length: int | None = None, required: bool = True
) -> str | None:
    if value is None:
        if required:
            raise InvalidInput("is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=field)
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput("must not be empty", field=field)
        return None
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"must be at most {max_length} characters", field=field)
    return value


def _pattern(value: Any, pattern: str, field: str, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise InvalidInput(f"{value!r} is not a valid {what} (must match {pattern})", field=field)
    return value


def _choice(value: Any, options: Sequence[str], field: str) -> str:
    if value not in options:
        raise InvalidInput(f"must be one of {', '.join(options)}", field=field)
    return value


def _integer(value: Any, field: str, *, minimum: int = INT_MIN, maximum: int = INT_MAX):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be a whole number", field=field)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"must be at least {minimum}", field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"must be at most {maximum}", field=field)
    return value


def _number(value: Any, field: str, *, required: bool = False) -> float | None:
    if value is None:
        if required:
            raise InvalidInput("is required", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("must be a number", field=field)
    if not math.isfinite(value):
        raise InvalidInput("must be a finite number", field=field)
    return float(value)


def _boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("must be true or false", field=field)
    return value


def _date(value: Any, field: str) -> date:
    if not isinstance(value, date):
        raise InvalidInput("must be a date", field=field)
    return value


def _unknown_changes(changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    extra = sorted(set(changes) - set(allowed))
    if extra:
        raise InvalidInput(f"cannot change {', '.join(extra)}", field=extra[0])


def _flush(session: Session, field: str, message: str) -> None:
    """Flush; a unique constraint lost to a concurrent writer answers 409, not 500."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message, field=field) from None


def _any(session: Session, stmt: Select) -> bool:
    return bool(session.scalar(select(exists(stmt))))


# --- organisations ----------------------------------------------------------------------------


def _check_organisation_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = _text(value, name, max_length=200)
        elif name == "sector":
            out[name] = _choice(value, SECTORS, name)
        elif name == "website":
            out[name] = _text(value, name, max_length=300, required=False)
        elif name == "description":
            out[name] = _text(value, name, required=False)
        else:
            out[name] = value
    return out


def list_organisations(
    *,
    session: Session,
    actor: Actor,
    sector: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Organisation]:
    """Every organisation (partner names are shared within the deployment), by name."""
    _require_login(actor)
    stmt = select(Organisation).order_by(Organisation.name, Organisation.slug)
    if sector:
        stmt = stmt.where(Organisation.sector == sector)
    if q:
        stmt = stmt.where(or_(_contains(Organisation.name, q), _contains(Organisation.slug, q)))
    return _page(session, stmt, limit=limit, offset=offset)


def get_organisation(*, session: Session, actor: Actor, slug: str) -> Organisation:
    _require_login(actor)
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"no organisation {slug!r}", field="slug")
    return org


def create_organisation(
    *,
    session: Session,
    actor: Actor,
    slug: str,
    name: str,
    sector: str,
    website: str | None = None,
    description: str | None = None,
) -> Organisation:
    """Admin and any initiative's backbone may add a partner organisation."""
    _require_login(actor)
    if not (actor.is_admin or actor.backbone_of):
        raise PermissionDenied("only admin or backbone staff may add organisations")
    slug = _pattern(slug, SLUG_PATTERN, "slug", "slug")
    fields = _check_organisation_fields(
        {"name": name, "sector": sector, "website": website, "description": description}
    )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(f"an organisation with slug {slug!r} exists already", field="slug")
    org = Organisation(slug=slug, **fields)
    session.add(org)
    _flush(session, "slug", f"an organisation with slug {slug!r} exists already")
    record(
        session=session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        action="create",
        after=snapshot(org, ORGANISATION_FIELDS),
    )
    return org


def update_organisation(
    *, session: Session, actor: Actor, slug: str, changes: Mapping[str, Any]
) -> Organisation:
    """Admin only: change name, sector, website or description."""
    org = get_organisation(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied("only admin may change an organisation")
    _unknown_changes(changes, ("name", "sector", "website", "description"))
    checked = _check_organisation_fields(dict(changes))
    before = snapshot(org, ORGANISATION_FIELDS)
    for name, value in checked.items():
        setattr(org, name, value)
    session.flush()
    after = snapshot(org, ORGANISATION_FIELDS)
    if after != before:
        record(
            session=session,
            actor=actor,
            entity_type="organisation",
            entity_id=org.id,
            action="update",
            before=before,
            after=after,
        )
    return org


def delete_organisation(*, session: Session, actor: Actor, slug: str) -> Organisation:
    """Admin only; refused while the organisation is a member of any initiative."""
    org = get_organisation(session=session, actor=actor, slug=slug)
    if not actor.is_admin:
        raise PermissionDenied("only admin may delete an organisation")
    initiatives = session.scalars(
        select(Initiative.slug)
        .join(Member, Member.initiative_id == Initiative.id)
        .where(Member.organisation_id == org.id)
        .order_by(Initiative.slug)
    ).all()
    if initiatives:
        raise Conflict(
            f"{slug!r} is a member of {', '.join(initiatives)}; remove it there first",
            field="slug",
        )
    record(
        session=session,
        actor=actor,
        entity_type="organisation",
        entity_id=org.id,
        action="delete",
        before=snapshot(org, ORGANISATION_FIELDS),
    )
    session.delete(org)
    session.flush()
    return org


# --- initiatives ------------------------------------------------------------------------------


def _check_initiative_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out[name] = _text(value, name, max_length=200)
        elif name == "region":
            out[name] = _text(value, name, max_length=200, required=False)
        elif name == "description":
            out[name] = _text(value, name, required=False)
        elif name == "suppression_threshold":
            out[name] = _integer(value, name, minimum=1)
        else:
            out[name] = value
    return out


def get_initiative_settings(*, session: Session, actor: Actor, slug: str) -> Initiative:
    """The initiative, for anyone who may view it."""
    return _viewable(session, actor, slug)


def create_initiative(
    *,
    session: Session,
    actor: Actor,
    slug: str,
    name: str,
    description: str | None = None,
    region: str | None = None,
    suppression_threshold: int = 10,
) -> Initiative:
    """Admin only."""
    _require_login(actor)
    if not actor.is_admin:
        raise PermissionDenied("only admin may create initiatives")
    slug = _pattern(slug, SLUG_PATTERN, "slug", "slug")
    fields = _check_initiative_fields(
        {
            "name": name,
            "description": description,
            "region": region,
            "suppression_threshold": suppression_threshold,
        }
    )
    if session.scalar(select(Initiative.id).where(Initiative.slug == slug)) is not None:
        raise Conflict(f"an initiative with slug {slug!r} exists already", field="slug")
    initiative = Initiative(slug=slug, **fields)
    session.add(initiative)
    _flush(session, "slug", f"an initiative with slug {slug!r} exists already")
    record(
        session=session,
        actor=actor,
        initiative_id=initiative.id,
        entity_type="initiative",
        entity_id=initiative.id,
        action="create",
        after=snapshot(initiative, INITIATIVE_FIELDS),
    )
    return initiative


def update_initiative(
    *, session: Session, actor: Actor, slug: str, changes: Mapping[str, Any]
) -> Initiative:
    """Backbone or admin: name, description, region, suppression threshold (≥ 1)."""
    initiative = _manageable(session, actor, slug)
    _unknown_changes(changes, ("name", "description", "region", "suppression_threshold"))
    checked = _check_initiative_fields(dict(changes))
    before = snapshot(initiative, INITIATIVE_FIELDS)
    for name, value in checked.items():
        setattr(initiative, name, value)
    session.flush()
    after = snapshot(initiative, INITIATIVE_FIELDS)
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=initiative.id,
            entity_type="initiative",
            entity_id=initiative.id,
            action="update",
            before=before,
            after=after,
        )
    return initiative


def delete_initiative(*, session: Session, actor: Actor, slug: str) -> Initiative:
    """Admin only; refused once any member has reported (that data would go with it).

    The event is recorded without an initiative, because the database deletes the initiative's
    own events with it.
    """
    initiative = _viewable(session, actor, slug)
    if not actor.is_admin:
        raise PermissionDenied("only admin may delete an initiative")
    if _any(session, select(Submission.id).where(Submission.initiative_id == initiative.id)):
        raise Conflict(f"initiative {slug!r} has submissions; it cannot be deleted", field="slug")
    record(
        session=session,
        actor=actor,
        entity_type="initiative",
        entity_id=initiative.id,
        action="delete",
        before=snapshot(initiative, INITIATIVE_FIELDS),
    )
    session.delete(initiative)
    session.flush()
    return initiative


# --- members and obligations ------------------------------------------------------------------


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
            f"{organisation!r} is not a member of {initiative.slug!r}", field="organisation"
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
    init = _viewable(session, actor, initiative)
    stmt = (
        select(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == init.id)
        .order_by(Organisation.name, Organisation.slug)
    )
    if active is not None:
        stmt = stmt.where(Member.active == active)
    if q:
        stmt = stmt.where(or_(_contains(Organisation.name, q), _contains(Organisation.slug, q)))
    return _page(session, stmt, limit=limit, offset=offset)


def get_member(*, session: Session, actor: Actor, initiative: str, organisation: str) -> Member:
    init = _viewable(session, actor, initiative)
    return _find_member(session, init, organisation)


def add_member(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    organisation: str,
    joined_on: date | None = None,
    shares_with_funders: bool = True,
    active: bool = True,
) -> Member:
    """Backbone: make an existing organisation a member of the initiative."""
    init = _manageable(session, actor, initiative)
    org = session.scalar(select(Organisation).where(Organisation.slug == organisation))
    if org is None:
        raise InvalidInput(f"no organisation {organisation!r}", field="organisation")
    if joined_on is not None:
        _date(joined_on, "joined_on")
    taken = select(Member.id).where(
        Member.initiative_id == init.id, Member.organisation_id == org.id
    )
    if _any(session, taken):
        raise Conflict(f"{organisation!r} is a member already", field="organisation")
    member = Member(
        initiative_id=init.id,
        organisation=org,
        joined_on=joined_on,
        shares_with_funders=_boolean(shares_with_funders, "shares_with_funders"),
        active=_boolean(active, "active"),
    )
    session.add(member)
    _flush(session, "organisation", f"{organisation!r} is a member already")
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="member",
        entity_id=member.id,
        action="create",
        after=_member_snapshot(member),
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
    init = _manageable(session, actor, initiative)
    member = _find_member(session, init, organisation)
    _unknown_changes(changes, ("active", "shares_with_funders", "joined_on"))
    before = _member_snapshot(member)
    for name, value in changes.items():
        if name == "joined_on":
            member.joined_on = None if value is None else _date(value, name)
        else:
            setattr(member, name, _boolean(value, name))
    session.flush()
    after = _member_snapshot(member)
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="member",
            entity_id=member.id,
            action="update",
            before=before,
            after=after,
        )
    return member


def remove_member(*, session: Session, actor: Actor, initiative: str, organisation: str) -> Member:
    """Backbone; refused once the member has reported (deactivate it instead)."""
    init = _manageable(session, actor, initiative)
    member = _find_member(session, init, organisation)
    if _any(session, select(Submission.id).where(Submission.member_id == member.id)):
        raise Conflict(
            f"{organisation!r} has submissions here; set active to false instead",
            field="organisation",
        )
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="member",
        entity_id=member.id,
        action="delete",
        before={**_member_snapshot(member), "obligations": _obligation_codes(session, member)},
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
    init = _viewable(session, actor, initiative)
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
    init = _manageable(session, actor, initiative)
    member = _find_member(session, init, organisation)
    wanted = list(dict.fromkeys(indicators))  # drop repeats, keep order
    by_code = dict(
        session.execute(
            select(Indicator.code, Indicator.id).where(
                Indicator.initiative_id == init.id, Indicator.code.in_(wanted)
            )
        ).all()
    )
    for index, code in enumerate(indicators):
        if code not in by_code:
            raise InvalidInput(
                f"no indicator with code {code!r} in {init.slug!r}",
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
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="obligations",
            entity_id=member.id,
            action="update",
            before={"organisation": organisation, "indicators": before},
            after={"organisation": organisation, "indicators": after},
        )
    return after


# --- outcomes ---------------------------------------------------------------------------------


def _find_outcome(session: Session, initiative: Initiative, code: str) -> Outcome:
    outcome = session.scalar(
        select(Outcome).where(Outcome.initiative_id == initiative.id, Outcome.code == code)
    )
    if outcome is None:
        raise NotFound(f"no outcome {code!r} in {initiative.slug!r}", field="code")
    return outcome


def _next_position(session: Session, column, *where) -> int:
    return (session.scalar(select(func.max(column)).where(*where)) or 0) + 1


def list_outcomes(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Outcome]:
    init = _viewable(session, actor, initiative)
    stmt = (
        select(Outcome)
        .where(Outcome.initiative_id == init.id)
        .order_by(Outcome.position, Outcome.code)
    )
    if q:
        stmt = stmt.where(or_(_contains(Outcome.name, q), _contains(Outcome.code, q)))
    return _page(session, stmt, limit=limit, offset=offset)


def get_outcome(*, session: Session, actor: Actor, initiative: str, code: str) -> Outcome:
    init = _viewable(session, actor, initiative)
    return _find_outcome(session, init, code)


def create_outcome(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    description: str | None = None,
    position: int | None = None,
) -> Outcome:
    init = _manageable(session, actor, initiative)
    code = _pattern(code, OUTCOME_CODE_PATTERN, "code", "outcome code")
    name = _text(name, "name", max_length=200)
    description = _text(description, "description", required=False)
    if position is None:
        position = _next_position(session, Outcome.position, Outcome.initiative_id == init.id)
    position = _integer(position, "position")
    taken = select(Outcome.id).where(Outcome.initiative_id == init.id, Outcome.code == code)
    if _any(session, taken):
        raise Conflict(f"an outcome with code {code!r} exists already", field="code")
    outcome = Outcome(
        initiative_id=init.id, code=code, name=name, description=description, position=position
    )
    session.add(outcome)
    _flush(session, "code", f"an outcome with code {code!r} exists already")
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="outcome",
        entity_id=outcome.id,
        action="create",
        after=snapshot(outcome, OUTCOME_FIELDS),
    )
    return outcome


def update_outcome(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> Outcome:
    init = _manageable(session, actor, initiative)
    outcome = _find_outcome(session, init, code)
    _unknown_changes(changes, ("name", "description", "position"))
    before = snapshot(outcome, OUTCOME_FIELDS)
    for name, value in changes.items():
        if name == "name":
            outcome.name = _text(value, name, max_length=200)
        elif name == "description":
            outcome.description = _text(value, name, required=False)
        else:
            outcome.position = _integer(value, name)
    session.flush()
    after = snapshot(outcome, OUTCOME_FIELDS)
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="outcome",
            entity_id=outcome.id,
            action="update",
            before=before,
            after=after,
        )
    return outcome


def delete_outcome(*, session: Session, actor: Actor, initiative: str, code: str) -> Outcome:
    """Refused while indicators belong to the outcome."""
    init = _manageable(session, actor, initiative)
    outcome = _find_outcome(session, init, code)
    codes = session.scalars(
        select(Indicator.code).where(Indicator.outcome_id == outcome.id).order_by(Indicator.code)
    ).all()
    if codes:
        raise Conflict(
            f"outcome {code!r} has indicators ({', '.join(codes)}); move or delete them first",
            field="code",
        )
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="outcome",
        entity_id=outcome.id,
        action="delete",
        before=snapshot(outcome, OUTCOME_FIELDS),
    )
    session.delete(outcome)
    session.flush()
    return outcome


# --- dimensions and categories ----------------------------------------------------------------


def _dimension_snapshot(dimension: Dimension) -> dict[str, Any]:
    return {
        **snapshot(dimension, ("code", "name", "position")),
        "categories": [snapshot(c, ("code", "name", "position")) for c in dimension.categories],
    }


def _find_dimension(session: Session, initiative: Initiative, code: str) -> Dimension:
    dimension = session.scalar(
        select(Dimension)
        .where(Dimension.initiative_id == initiative.id, Dimension.code == code)
        .options(selectinload(Dimension.categories))
    )
    if dimension is None:
        raise NotFound(f"no dimension {code!r} in {initiative.slug!r}", field="code")
    return dimension


def _category_has_values(session: Session, category_ids: Iterable[int]) -> bool:
    ids = list(category_ids)
    return bool(ids) and _any(session, select(Value.id).where(Value.category_id.in_(ids)))


def _apply_categories(
    dimension: Dimension, categories: Sequence[Mapping[str, Any]], *, field: str
) -> None:
    """Add new categories and rename (or move) existing ones, matched by code."""
    by_code = {c.code: c for c in dimension.categories}
    seen: set[str] = set()
    next_position = max((c.position for c in dimension.categories), default=-1) + 1
    for index, item in enumerate(categories):
        where = f"{field}[{index}]"
        code = _pattern(item.get("code"), DIMENSION_CODE_PATTERN, f"{where}.code", "category code")
        if code in seen:
            raise InvalidInput(f"category {code!r} is listed twice", field=f"{where}.code")
        seen.add(code)
        name = _text(item.get("name"), f"{where}.name", max_length=120)
        position = item.get("position")
        if position is not None:
            position = _integer(position, f"{where}.position")
        category = by_code.get(code)
        if category is None:
            if position is None:
                position, next_position = next_position, next_position + 1
            dimension.categories.append(Category(code=code, name=name, position=position))
        else:
            category.name = name
            if position is not None:
                category.position = position


def list_dimensions(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Dimension]:
    init = _viewable(session, actor, initiative)
    stmt = (
        select(Dimension)
        .where(Dimension.initiative_id == init.id)
        .order_by(Dimension.position, Dimension.code)
        .options(selectinload(Dimension.categories))
    )
    return _page(session, stmt, limit=limit, offset=offset)


def get_dimension(*, session: Session, actor: Actor, initiative: str, code: str) -> Dimension:
    init = _viewable(session, actor, initiative)
    return _find_dimension(session, init, code)


def create_dimension(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    position: int | None = None,
    categories: Sequence[Mapping[str, Any]] = (),
) -> Dimension:
    init = _manageable(session, actor, initiative)
    code = _pattern(code, DIMENSION_CODE_PATTERN, "code", "dimension code")
    name = _text(name, "name", max_length=120)
    if position is None:
        position = _next_position(session, Dimension.position, Dimension.initiative_id == init.id)
    position = _integer(position, "position")
    taken = select(Dimension.id).where(Dimension.initiative_id == init.id, Dimension.code == code)
    if _any(session, taken):
        raise Conflict(f"a dimension with code {code!r} exists already", field="code")
    dimension = Dimension(
        initiative_id=init.id, code=code, name=name, position=position, categories=[]
    )
    _apply_categories(dimension, categories, field="categories")
    session.add(dimension)
    _flush(session, "code", f"a dimension with code {code!r} exists already")
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="dimension",
        entity_id=dimension.id,
        action="create",
        after=_dimension_snapshot(dimension),
    )
    return dimension


def update_dimension(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> Dimension:
    """Rename or move the dimension; ``categories`` adds new codes and renames existing ones.

    Categories left out are kept; delete one with :func:`delete_category`. Codes never change,
    because reported values carry them in their disaggregation keys.
    """
    init = _manageable(session, actor, initiative)
    dimension = _find_dimension(session, init, code)
    _unknown_changes(changes, ("name", "position", "categories"))
    before = _dimension_snapshot(dimension)
    for name, value in changes.items():
        if name == "name":
            dimension.name = _text(value, name, max_length=120)
        elif name == "position":
            dimension.position = _integer(value, name)
        else:
            if value is None:
                raise InvalidInput("must be a list", field=name)
            _apply_categories(dimension, value, field=name)
    session.flush()
    dimension.categories.sort(key=lambda c: (c.position, c.code))
    after = _dimension_snapshot(dimension)
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="dimension",
            entity_id=dimension.id,
            action="update",
            before=before,
            after=after,
        )
    return dimension


def delete_dimension(*, session: Session, actor: Actor, initiative: str, code: str) -> Dimension:
    """Refused while any value is reported in one of its categories."""
    init = _manageable(session, actor, initiative)
    dimension = _find_dimension(session, init, code)
    if _category_has_values(session, (c.id for c in dimension.categories)):
        raise Conflict(f"values are reported by {code!r}; it cannot be deleted", field="code")
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="dimension",
        entity_id=dimension.id,
        action="delete",
        before=_dimension_snapshot(dimension),
    )
    session.delete(dimension)
    session.flush()
    return dimension


def delete_category(
    *, session: Session, actor: Actor, initiative: str, code: str, category: str
) -> Dimension:
    """Remove one category; refused while values are reported in it. Answers the dimension."""
    init = _manageable(session, actor, initiative)
    dimension = _find_dimension(session, init, code)
    found = next((c for c in dimension.categories if c.code == category), None)
    if found is None:
        raise NotFound(f"no category {category!r} in dimension {code!r}", field="category")
    if _category_has_values(session, [found.id]):
        raise Conflict(
            f"values are reported for {code}={category}; it cannot be deleted", field="category"
        )
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="category",
        entity_id=found.id,
        action="delete",
        before={"dimension": code, **snapshot(found, ("code", "name", "position"))},
    )
    dimension.categories.remove(found)
    session.flush()
    return dimension


# --- indicators -------------------------------------------------------------------------------


def _indicator_query(initiative_id: int) -> Select:
    return (
        select(Indicator)
        .where(Indicator.initiative_id == initiative_id)
        .options(
            selectinload(Indicator.outcome),
            selectinload(Indicator.dimensions),
            selectinload(Indicator.targets),
        )
    )


def describe_indicators(*, session: Session, indicators: Sequence[Indicator]) -> list[dict]:
    """Indicators as plain dicts: outcome and dimension codes, baseline and targets by period key.

    One query for the period keys of the whole list.
    """
    period_ids = {
        pid
        for ind in indicators
        for pid in (
            ind.baseline_period_id,
            ind.target_period_id,
            *(t.period_id for t in ind.targets),
        )
        if pid is not None
    }
    periods: dict[int, tuple[str, date]] = {}
    if period_ids:
        periods = {
            pid: (key, start)
            for pid, key, start in session.execute(
                select(Period.id, Period.key, Period.starts_on).where(Period.id.in_(period_ids))
            )
        }

    def key_of(period_id: int | None) -> str | None:
        return periods[period_id][0] if period_id in periods else None

    out = []
    for ind in indicators:
        targets = sorted(ind.targets, key=lambda t: periods.get(t.period_id, ("", date.min))[1])
        out.append(
            {
                "code": ind.code,
                **{name: getattr(ind, name) for name in INDICATOR_SCALARS},
                "outcome": ind.outcome.code if ind.outcome is not None else None,
                "dimensions": [
                    d.code for d in sorted(ind.dimensions, key=lambda d: (d.position, d.code))
                ],
                "baseline": None
                if ind.baseline_value is None
                else {"value": ind.baseline_value, "period": key_of(ind.baseline_period_id)},
                "target": None
                if ind.target_value is None
                else {"value": ind.target_value, "period": key_of(ind.target_period_id)},
                "targets": [
                    {"period": key_of(t.period_id), "value": t.value, "note": t.note}
                    for t in targets
                ],
            }
        )
    return out


def _find_indicator(session: Session, initiative: Initiative, code: str) -> Indicator:
    indicator = session.scalar(_indicator_query(initiative.id).where(Indicator.code == code))
    if indicator is None:
        raise NotFound(f"no indicator {code!r} in {initiative.slug!r}", field="code")
    return indicator


def _period_id(session: Session, initiative: Initiative, key: Any, field: str) -> int:
    period_id = session.scalar(
        select(Period.id).where(Period.initiative_id == initiative.id, Period.key == key)
    )
    if period_id is None:
        raise InvalidInput(f"no period {key!r} in {initiative.slug!r}", field=field)
    return period_id


def _checked_point(
    session: Session, initiative: Initiative, point: Mapping[str, Any] | None, field: str
) -> tuple[float | None, int | None]:
    """A baseline or end target ``{value, period}`` as (value, period id)."""
    if point is None:
        return None, None
    value = _number(point.get("value"), f"{field}.value", required=True)
    period = point.get("period")
    period_id = (
        None if period is None else _period_id(session, initiative, period, f"{field}.period")
    )
    return value, period_id


def _set_indicator_fields(
    session: Session, initiative: Initiative, indicator: Indicator, values: Mapping[str, Any]
) -> None:
    """Check and apply indicator fields (create and update share this)."""
    for name, value in values.items():
        if name in ("name", "unit"):
            setattr(indicator, name, _text(value, name, max_length=200 if name == "name" else 40))
        elif name in ("definition", "data_source"):
            setattr(indicator, name, _text(value, name, required=False))
        elif name == "measure_type":
            indicator.measure_type = _choice(value, MEASURE_TYPES, name)
        elif name == "direction":
            indicator.direction = _choice(value, DIRECTIONS, name)
        elif name == "frequency":
            indicator.frequency = _choice(value, FREQUENCIES, name)
        elif name in ("valid_min", "valid_max"):
            setattr(indicator, name, _number(value, name))
        elif name == "decimals":
            indicator.decimals = _integer(value, name, minimum=0, maximum=6)
        elif name == "position":
            indicator.position = _integer(value, name)
        elif name == "outcome":
            indicator.outcome = (
                None
                if value is None
                else session.scalar(
                    select(Outcome).where(
                        Outcome.initiative_id == initiative.id, Outcome.code == value
                    )
                )
            )
            if value is not None and indicator.outcome is None:
                raise InvalidInput(f"no outcome {value!r} in {initiative.slug!r}", field=name)
        elif name == "dimensions":
            indicator.dimensions = _dimensions_by_code(session, initiative, value or [])
        elif name == "baseline":
            indicator.baseline_value, indicator.baseline_period_id = _checked_point(
                session, initiative, value, name
            )
        elif name == "target":
            indicator.target_value, indicator.target_period_id = _checked_point(
                session, initiative, value, name
            )
        elif name == "targets":
            _set_targets(session, initiative, indicator, value or [])
    if (
        indicator.valid_min is not None
        and indicator.valid_max is not None
        and indicator.valid_min > indicator.valid_max
    ):
        raise InvalidInput("valid_min must not be above valid_max", field="valid_min")


def _dimensions_by_code(
    session: Session, initiative: Initiative, codes: Sequence[str]
) -> list[Dimension]:
    codes = list(dict.fromkeys(codes))
    found = {
        d.code: d
        for d in session.scalars(
            select(Dimension).where(
                Dimension.initiative_id == initiative.id, Dimension.code.in_(codes)
            )
        )
    }
    for index, code in enumerate(codes):
        if code not in found:
            raise InvalidInput(
                f"no dimension {code!r} in {initiative.slug!r}",
                field=f"dimensions[{index}]",
                extra={"value": code},
            )
    return sorted(found.values(), key=lambda d: (d.position, d.code))


def _set_targets(
    session: Session,
    initiative: Initiative,
    indicator: Indicator,
    targets: Sequence[Mapping[str, Any]],
) -> None:
    """Replace the interim targets, updating rows in place by period (keeps the unique key)."""
    wanted: dict[int, tuple[float, str | None]] = {}
    for index, item in enumerate(targets):
        where = f"targets[{index}]"
        period_id = _period_id(session, initiative, item.get("period"), f"{where}.period")
        if period_id in wanted:
            raise InvalidInput(
                f"period {item.get('period')!r} has two targets", field=f"{where}.period"
            )
        value = _number(item.get("value"), f"{where}.value", required=True)
        wanted[period_id] = (value, _text(item.get("note"), f"{where}.note", required=False))
    for target in list(indicator.targets):
        if target.period_id not in wanted:
            indicator.targets.remove(target)
    existing = {t.period_id: t for t in indicator.targets}
    for period_id, (value, note) in wanted.items():
        target = existing.get(period_id)
        if target is None:
            indicator.targets.append(IndicatorTarget(period_id=period_id, value=value, note=note))
        else:
            target.value, target.note = value, note


def list_indicators(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    outcome: str | None = None,
    measure_type: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[dict]:
    """The initiative's indicators, described (see :func:`describe_indicators`)."""
    init = _viewable(session, actor, initiative)
    stmt = _indicator_query(init.id).order_by(Indicator.position, Indicator.code)
    if outcome:
        stmt = stmt.where(
            Indicator.outcome_id.in_(
                select(Outcome.id).where(Outcome.initiative_id == init.id, Outcome.code == outcome)
            )
        )
    if measure_type:
        stmt = stmt.where(
            Indicator.measure_type == _choice(measure_type, MEASURE_TYPES, "measure_type")
        )
    if q:
        stmt = stmt.where(or_(_contains(Indicator.name, q), _contains(Indicator.code, q)))
    page = _page(session, stmt, limit=limit, offset=offset)
    return Page(
        items=describe_indicators(session=session, indicators=page.items),
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


def get_indicator(*, session: Session, actor: Actor, initiative: str, code: str) -> dict:
    init = _viewable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    return describe_indicators(session=session, indicators=[indicator])[0]


def create_indicator(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    name: str,
    unit: str,
    measure_type: str,
    **fields: Any,
) -> dict:
    """Backbone: a new indicator; ``fields`` as in :func:`update_indicator`."""
    init = _manageable(session, actor, initiative)
    code = _pattern(code, INDICATOR_CODE_PATTERN, "code", "indicator code")
    _unknown_changes(
        fields, (*INDICATOR_SCALARS, "outcome", "dimensions", "baseline", "target", "targets")
    )
    taken = select(Indicator.id).where(Indicator.initiative_id == init.id, Indicator.code == code)
    if _any(session, taken):
        raise Conflict(f"an indicator with code {code!r} exists already", field="code")
    indicator = Indicator(
        initiative_id=init.id,
        code=code,
        direction="higher",
        decimals=1,
        frequency="quarterly",
        dimensions=[],
        targets=[],
    )
    if fields.get("position") is None:
        fields["position"] = _next_position(
            session, Indicator.position, Indicator.initiative_id == init.id
        )
    values = {"name": name, "unit": unit, "measure_type": measure_type, **fields}
    # Optional fields left as None take the defaults above.
    for optional in ("direction", "decimals", "frequency"):
        if values.get(optional) is None:
            values.pop(optional, None)
    with session.no_autoflush:
        _set_indicator_fields(session, init, indicator, values)
    session.add(indicator)
    _flush(session, "code", f"an indicator with code {code!r} exists already")
    described = describe_indicators(session=session, indicators=[indicator])[0]
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="indicator",
        entity_id=indicator.id,
        action="create",
        after=described,
    )
    return described


def update_indicator(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> dict:
    """Backbone: change any field but the code.

    ``measure_type`` cannot change once values are reported, nor can a dimension with values be
    dropped from ``dimensions``.
    """
    init = _manageable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    _unknown_changes(
        changes, (*INDICATOR_SCALARS, "outcome", "dimensions", "baseline", "target", "targets")
    )
    before = describe_indicators(session=session, indicators=[indicator])[0]
    if "measure_type" in changes:
        new_type = _choice(changes["measure_type"], MEASURE_TYPES, "measure_type")
        has_values = select(Value.id).where(Value.indicator_id == indicator.id)
        if new_type != indicator.measure_type and _any(session, has_values):
            raise Conflict(
                f"{code!r} has reported values; its measure_type cannot change",
                field="measure_type",
            )
    if "dimensions" in changes:
        kept = set(changes["dimensions"] or [])
        for dimension in indicator.dimensions:
            if dimension.code in kept:
                continue
            in_use = select(Value.id).where(
                Value.indicator_id == indicator.id,
                Value.category_id.in_(
                    select(Category.id).where(Category.dimension_id == dimension.id)
                ),
            )
            if _any(session, in_use):
                raise Conflict(
                    f"{code!r} has values broken down by {dimension.code!r}; keep that dimension",
                    field="dimensions",
                )
    for required in ("name", "unit", "measure_type", "direction", "decimals", "frequency"):
        if required in changes and changes[required] is None:
            raise InvalidInput("must not be null", field=required)
    with session.no_autoflush:
        _set_indicator_fields(session, init, indicator, changes)
    session.flush()
    after = describe_indicators(session=session, indicators=[indicator])[0]
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="indicator",
            entity_id=indicator.id,
            action="update",
            before=before,
            after=after,
        )
    return after


def delete_indicator(*, session: Session, actor: Actor, initiative: str, code: str) -> dict:
    """Refused once values are reported for the indicator (they would go with it)."""
    init = _manageable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    if _any(session, select(Value.id).where(Value.indicator_id == indicator.id)):
        raise Conflict(f"{code!r} has reported values; it cannot be deleted", field="code")
    described = describe_indicators(session=session, indicators=[indicator])[0]
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="indicator",
        entity_id=indicator.id,
        action="delete",
        before=described,
    )
    session.delete(indicator)
    session.flush()
    return described


# --- periods ----------------------------------------------------------------------------------


def parse_period_key(key: str) -> tuple[str, str, date, date]:
    """``2025Q3`` → (key, "quarter", 2025-07-01, 2025-09-30); ``2025`` → (key, "year", …)."""
    normalised = key.strip().upper() if isinstance(key, str) else ""
    match = re.fullmatch(PERIOD_KEY_PATTERN, normalised)
    if not match:
        raise InvalidInput(
            f"{key!r} is not a period key: use 2025Q3 for a quarter or 2025 for a year",
            field="key",
        )
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"year must be between {MIN_YEAR} and {MAX_YEAR}", field="key")
    if match.group(2) is None:
        return normalised, "year", date(year, 1, 1), date(year, 12, 31)
    quarter = int(match.group(2))
    start = date(year, 3 * quarter - 2, 1)
    next_start = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return normalised, "quarter", start, next_start - timedelta(days=1)


def _check_window(opens_on: date, due_on: date, closes_on: date) -> None:
    if opens_on > due_on:
        raise InvalidInput(
            f"due_on ({due_on}) is before opens_on ({opens_on}); need opens ≤ due ≤ closes",
            field="due_on",
        )
    if due_on > closes_on:
        raise InvalidInput(
            f"closes_on ({closes_on}) is before due_on ({due_on}); need opens ≤ due ≤ closes",
            field="closes_on",
        )


def _find_period(session: Session, initiative: Initiative, key: str) -> Period:
    period = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == key)
    )
    if period is None:
        raise NotFound(f"no period {key!r} in {initiative.slug!r}", field="key")
    return period


def list_periods(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[Period]:
    """The initiative's periods, earliest first (a year before its first quarter)."""
    init = _viewable(session, actor, initiative)
    stmt = (
        select(Period)
        .where(Period.initiative_id == init.id)
        .order_by(Period.starts_on, Period.ends_on.desc(), Period.key)
    )
    if kind:
        stmt = stmt.where(Period.kind == _choice(kind, PERIOD_KINDS, "kind"))
    return _page(session, stmt, limit=limit, offset=offset)


def get_period(*, session: Session, actor: Actor, initiative: str, key: str) -> Period:
    init = _viewable(session, actor, initiative)
    return _find_period(session, init, key)


def create_period(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    key: str,
    opens_on: date | None = None,
    due_on: date | None = None,
    closes_on: date | None = None,
) -> Period:
    """Backbone: a period from its key; the reporting window defaults to opening the day after
    the period ends, due 30 days after its end and closing 60 days after."""
    init = _manageable(session, actor, initiative)
    key, kind, starts_on, ends_on = parse_period_key(key)
    opens_on = ends_on + OPENS_AFTER if opens_on is None else _date(opens_on, "opens_on")
    due_on = ends_on + DUE_AFTER if due_on is None else _date(due_on, "due_on")
    closes_on = ends_on + CLOSES_AFTER if closes_on is None else _date(closes_on, "closes_on")
    _check_window(opens_on, due_on, closes_on)
    taken = select(Period.id).where(Period.initiative_id == init.id, Period.key == key)
    if _any(session, taken):
        raise Conflict(f"period {key!r} exists already", field="key")
    period = Period(
        initiative_id=init.id,
        key=key,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        opens_on=opens_on,
        due_on=due_on,
        closes_on=closes_on,
        locked=False,
    )
    session.add(period)
    _flush(session, "key", f"period {key!r} exists already")
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="period",
        entity_id=period.id,
        action="create",
        after=snapshot(period, PERIOD_FIELDS),
    )
    return period


def update_period(
    *, session: Session, actor: Actor, initiative: str, key: str, changes: Mapping[str, Any]
) -> Period:
    """Backbone: move the reporting window (``opens_on``, ``due_on``, ``closes_on``)."""
    init = _manageable(session, actor, initiative)
    period = _find_period(session, init, key)
    _unknown_changes(changes, ("opens_on", "due_on", "closes_on"))
    dates = {
        name: _date(changes.get(name, getattr(period, name)), name)
        for name in ("opens_on", "due_on", "closes_on")
    }
    _check_window(**dates)
    before = snapshot(period, PERIOD_FIELDS)
    for name, value in dates.items():
        setattr(period, name, value)
    session.flush()
    after = snapshot(period, PERIOD_FIELDS)
    if after != before:
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="period",
            entity_id=period.id,
            action="update",
            before=before,
            after=after,
        )
    return period


def set_period_locked(
    *, session: Session, actor: Actor, initiative: str, key: str, locked: bool
) -> Period:
    """Backbone: lock a period (no more writes to its submissions) or unlock it again."""
    init = _manageable(session, actor, initiative)
    period = _find_period(session, init, key)
    if period.locked != locked:
        before = snapshot(period, PERIOD_FIELDS)
        period.locked = locked
        session.flush()
        record(
            session=session,
            actor=actor,
            initiative_id=init.id,
            entity_type="period",
            entity_id=period.id,
            action="lock" if locked else "unlock",
            before=before,
            after=snapshot(period, PERIOD_FIELDS),
        )
    return period


def delete_period(*, session: Session, actor: Actor, initiative: str, key: str) -> Period:
    """Refused once a submission, a publication or an indicator's baseline or target uses it."""
    init = _manageable(session, actor, initiative)
    period = _find_period(session, init, key)
    if _any(session, select(Submission.id).where(Submission.period_id == period.id)):
        raise Conflict(f"period {key!r} has submissions; it cannot be deleted", field="key")
    if _any(session, select(Publication.id).where(Publication.period_id == period.id)):
        raise Conflict(f"period {key!r} has been published; it cannot be deleted", field="key")
    used_by = session.scalars(
        select(Indicator.code)
        .where(
            Indicator.initiative_id == init.id,
            or_(
                Indicator.baseline_period_id == period.id,
                Indicator.target_period_id == period.id,
                Indicator.id.in_(
                    select(IndicatorTarget.indicator_id).where(
                        IndicatorTarget.period_id == period.id
                    )
                ),
            ),
        )
        .order_by(Indicator.code)
    ).all()
    if used_by:
        raise Conflict(
            f"period {key!r} holds the baseline or a target of {', '.join(used_by)}",
            field="key",
        )
    record(
        session=session,
        actor=actor,
        initiative_id=init.id,
        entity_type="period",
        entity_id=period.id,
        action="delete",
        before=snapshot(period, PERIOD_FIELDS),
    )
    session.delete(period)
    session.flush()
    return period


# --- series breaks ----------------------------------------------------------------------------


def list_series_breaks(
    *, session: Session, actor: Actor, initiative: str, code: str
) -> list[tuple[str, str]]:
    """An indicator's definition changes: (period key, note), earliest first."""
    init = _viewable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    return [
        (key, note)
        for key, note in session.execute(
            select(Period.key, SeriesBreak.note)
            .join(Period, Period.id == SeriesBreak.period_id)
            .where(SeriesBreak.indicator_id == indicator.id)
            .order_by(Period.starts_on)
        )
    ]


def add_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str, note: Any
) -> tuple[str, str]:
    """Backbone: mark that the indicator is measured differently from ``period`` on (e.g. a
    new reading test), so charts show the break and trends do not compare across it."""
    init = _manageable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    period_id = _period_id(session, init, period, "period")
    text = _text(note, "note", required=True, max_length=2000)
    if _any(
        session,
        select(SeriesBreak.id).where(
            SeriesBreak.indicator_id == indicator.id, SeriesBreak.period_id == period_id
        ),
    ):
        raise Conflict(f"{code} already has a series break at {period}", field="period")
    row = SeriesBreak(indicator_id=indicator.id, period_id=period_id, note=text)
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        entity_type="series_break",
        entity_id=row.id,
        action="create",
        initiative_id=init.id,
        after={"indicator": code, "period": period, "note": text},
    )
    return (period, text)


def remove_series_break(
    *, session: Session, actor: Actor, initiative: str, code: str, period: str
) -> tuple[str, str]:
    init = _manageable(session, actor, initiative)
    indicator = _find_indicator(session, init, code)
    period_id = _period_id(session, init, period, "period")
    row = session.scalar(
        select(SeriesBreak).where(
            SeriesBreak.indicator_id == indicator.id, SeriesBreak.period_id == period_id
        )
    )
    if row is None:
        raise NotFound(f"{code} has no series break at {period}", field="period")
    note = row.note
    record(
        session=session,
        actor=actor,
        entity_type="series_break",
        entity_id=row.id,
        action="delete",
        initiative_id=init.id,
        before={"indicator": code, "period": period, "note": note},
    )
    session.delete(row)
    session.flush()
    return (period, note)
