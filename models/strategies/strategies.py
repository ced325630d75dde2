"""Writing and reading strategies and their actions (README: Strategies).

The backbone team writes. Its funders read every strategy of the initiative; a partner reads
only the strategies its organisation owns, and any other answers 404 as if it did not exist (a
partner is not told what its peers are planning). The public sees none. Every change is an
audit event: a strategy's under its own id (``strategy``), an action's under its strategy's id
(``strategy_action``), so the strategy's change list holds both, as a member's holds its
obligations. No figure view reads them (``models.tables.audit.NARRATIVE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from models.access.permissions import viewable_initiative
from models.audit.trail import EntityAudit
from models.core.actors import Actor
from models.core.dates import today
from models.core.errors import InvalidInput, NotFound, PermissionDenied
from models.core.fields import (
    checked_choice,
    checked_integer,
    checked_pattern,
    checked_text,
    flush_unique,
    reject_unknown_changes,
)
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, page_of
from models.stories.render import render_markdown
from models.tables.indicator import Indicator
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.strategy import ACTION_STATUSES, Strategy, StrategyAction, strategy_owners

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,59}$"
TITLE_MAX = 200
DESCRIPTION_MAX = 4000  # characters of Markdown: a strategy is described in a few paragraphs
NOTE_MAX = 2000
LINKS_MAX = 50  # owners, or indicators, of one strategy
POSITION_MAX = 10_000
STRATEGY_FIELDS = ("title", "description", "starts_on", "ends_on", "owners", "indicators")
ACTION_FIELDS = ("title", "status", "due_on", "done_on", "note", "position")


@dataclass(frozen=True)
class ActionView:
    id: int
    title: str
    status: str
    due_on: date | None
    done_on: date | None
    note: str
    position: int


@dataclass(frozen=True)
class OwnerView:
    organisation: str  # its slug
    name: str


@dataclass(frozen=True)
class StrategyView:
    """A strategy as its reader may see it."""

    code: str
    title: str
    description: str  # Markdown as written
    html: str  # render_markdown(description): safe to show
    starts_on: date
    ends_on: date | None
    owners: list[OwnerView]
    indicators: list[str]  # codes
    actions: list[ActionView]
    created_at: datetime
    updated_at: datetime

    @property
    def actions_done(self) -> int:
        return sum(a.status == "done" for a in self.actions)

    @property
    def actions_total(self) -> int:
        """Actions that count: a dropped one is no longer part of the plan."""
        return sum(a.status != "dropped" for a in self.actions)


def _action_view(row: StrategyAction) -> ActionView:
    return ActionView(
        row.id, row.title, row.status, row.due_on, row.done_on, row.note, row.position
    )


def _view(row: Strategy) -> StrategyView:
    return StrategyView(
        code=row.code,
        title=row.title,
        description=row.description,
        html=render_markdown(row.description),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        owners=sorted(
            (OwnerView(m.organisation.slug, m.organisation.name) for m in row.owners),
            key=lambda o: (o.name, o.organisation),
        ),
        indicators=[i.code for i in row.indicators],
        actions=[_action_view(a) for a in row.actions],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def strategy_record(row: Strategy) -> dict[str, Any]:
    """What the audit trail keeps of a strategy (its actions have events of their own)."""
    return {
        "code": row.code,
        "title": row.title,
        "description": row.description,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "owners": sorted(m.organisation.slug for m in row.owners),
        "indicators": sorted(i.code for i in row.indicators),
    }


def action_record(strategy: Strategy, row: StrategyAction) -> dict[str, Any]:
    return {
        "strategy": strategy.code,
        "action": row.id,
        "title": row.title,
        "status": row.status,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "done_on": row.done_on.isoformat() if row.done_on else None,
        "note": row.note,
        "position": row.position,
    }


# --- who sees what ----------------------------------------------------------------------------


def _visible(actor: Actor, initiative: Initiative, stmt: Select[Any]) -> Select[Any]:
    """``stmt`` over strategies, narrowed to those the actor may read: all for the backbone team
    and funders, those its organisations own for a partner."""
    if actor.is_backbone(initiative.id) or actor.is_funder(initiative.id):
        return stmt
    owned = (
        select(strategy_owners.c.strategy_id)
        .join(Member, Member.id == strategy_owners.c.member_id)
        .where(
            Member.initiative_id == initiative.id,
            Member.organisation_id.in_(actor.reporter_orgs(initiative.id)),
        )
    )
    return stmt.where(Strategy.id.in_(owned))


_LOADED = (
    selectinload(Strategy.owners).joinedload(Member.organisation),
    selectinload(Strategy.indicators),
    selectinload(Strategy.actions),
)


def _find(
    session: Session, actor: Actor, initiative: str, code: str, *, manage: bool = False
) -> tuple[Initiative, Strategy]:
    """The initiative and its strategy ``code`` as the actor may see it (else 404, naming
    ``code``); ``manage`` then needs the backbone team (403)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    row = session.scalar(
        _visible(
            actor,
            init,
            select(Strategy)
            .options(*_LOADED)
            .where(Strategy.initiative_id == init.id, Strategy.code == code),
        )
    )
    if row is None:
        raise NotFound(gettext("no strategy %(code)r", code=code), field="code")
    if manage and not actor.is_backbone(init.id):
        raise PermissionDenied(
            gettext("only the initiative's backbone staff may change strategies")
        )
    return init, row


def _manageable(session: Session, actor: Actor, initiative: str) -> Initiative:
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    if not actor.is_backbone(init.id):
        raise PermissionDenied(gettext("only the initiative's backbone staff may write strategies"))
    return init


# --- reading ----------------------------------------------------------------------------------


def list_strategies(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    indicator: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[StrategyView]:
    """The strategies the actor may read, earliest start first; ``indicator`` keeps those
    aimed at it."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    stmt = select(Strategy).where(Strategy.initiative_id == init.id)
    if indicator is not None:
        stmt = stmt.where(Strategy.indicators.any(Indicator.code == indicator))
    stmt = _visible(actor, init, stmt).order_by(Strategy.starts_on, Strategy.code)
    page = page_of(session=session, stmt=stmt.options(*_LOADED), limit=limit, offset=offset)
    return Page([_view(r) for r in page.items], page.total, page.limit, page.offset)


def get_strategy(*, session: Session, actor: Actor, initiative: str, code: str) -> StrategyView:
    return _view(_find(session, actor, initiative, code)[1])


# --- checks -----------------------------------------------------------------------------------


def _description(value: Any) -> str:
    """Markdown as stored: text, trimmed, at most :data:`DESCRIPTION_MAX` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(gettext("must be text"), field="description")
    text = value.strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            gettext(
                "must be at most %(description_max)s characters (%(count)s given)",
                description_max=DESCRIPTION_MAX,
                count=len(text),
            ),
            field="description",
        )
    if "\x00" in text:
        raise InvalidInput(gettext("may not hold NUL characters"), field="description")
    return text


def _date(value: Any, field: str, *, required: bool = False) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(gettext("must be a date (YYYY-MM-DD)"), field=field)
    return value


def _codes(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(gettext("must be a list"), field=field)
    if len(value) > LINKS_MAX:
        raise InvalidInput(gettext("at most %(links_max)s", links_max=LINKS_MAX), field=field)
    if not all(isinstance(v, str) for v in value):
        raise InvalidInput(gettext("must be a list of text"), field=field)
    return list(dict.fromkeys(value))


def _owners(session: Session, init: Initiative, value: Any) -> list[Member]:
    """Members of this initiative, by organisation slug; any other slug (unknown, or an
    organisation of another initiative only) is refused naming it."""
    slugs = _codes(value, "owners")
    found = {
        m.organisation.slug: m
        for m in session.scalars(
            select(Member)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.initiative_id == init.id, Organisation.slug.in_(slugs))
        )
    }
    missing = [s for s in slugs if s not in found]
    if missing:
        raise InvalidInput(
            gettext("not a member of this initiative: %(missing)s", missing=", ".join(missing)),
            field="owners",
        )
    return [found[s] for s in slugs]


def _indicators(session: Session, init: Initiative, value: Any) -> list[Indicator]:
    codes = _codes(value, "indicators")
    found = {
        i.code: i
        for i in session.scalars(
            select(Indicator).where(Indicator.initiative_id == init.id, Indicator.code.in_(codes))
        )
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput(
            gettext("no indicator of this initiative: %(missing)s", missing=", ".join(missing)),
            field="indicators",
        )
    return [found[c] for c in codes]


def _check_dates(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            gettext("must be on or after the start (%(value)s)", value=starts_on.isoformat()),
            field="ends_on",
        )


# --- writing strategies -----------------------------------------------------------------------


def create_strategy(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: Any,
    title: Any,
    starts_on: Any,
    ends_on: Any = None,
    description: Any = None,
    owners: Any = None,
    indicators: Any = None,
) -> StrategyView:
    """Backbone: a new strategy, with the members owning it and the indicators it aims at."""
    init = _manageable(session, actor, initiative)
    code = checked_pattern(code, CODE_PATTERN, "code", "strategy code")
    row = Strategy(
        initiative_id=init.id,
        code=code,
        title=checked_text(title, "title", max_length=TITLE_MAX),
        description=_description(description),
        starts_on=_date(starts_on, "starts_on", required=True),
        ends_on=_date(ends_on, "ends_on"),
    )
    _check_dates(row.starts_on, row.ends_on)
    row.owners = _owners(session, init, owners)
    row.indicators = _indicators(session, init, indicators)
    session.add(row)
    flush_unique(
        session=session,
        field="code",
        message=gettext("a strategy %(code)r exists already", code=code),
    )
    EntityAudit(
        session=session, actor=actor, entity_type="strategy", initiative_id=init.id
    ).created(row.id, strategy_record(row))
    return _view(row)


def update_strategy(
    *, session: Session, actor: Actor, initiative: str, code: str, changes: Mapping[str, Any]
) -> StrategyView:
    """Backbone: change some of a strategy's fields (its code names it and stays). Nothing is
    written, nor audited, when nothing changes."""
    reject_unknown_changes(changes, STRATEGY_FIELDS)
    init, row = _find(session, actor, initiative, code, manage=True)
    before = strategy_record(row)
    if "title" in changes:
        row.title = checked_text(changes["title"], "title", max_length=TITLE_MAX)
    if "description" in changes:
        row.description = _description(changes["description"])
    starts_on = row.starts_on
    if "starts_on" in changes:
        starts_on = _date(changes["starts_on"], "starts_on", required=True) or starts_on
    ends_on = _date(changes["ends_on"], "ends_on") if "ends_on" in changes else row.ends_on
    _check_dates(starts_on, ends_on)
    row.starts_on, row.ends_on = starts_on, ends_on
    if "owners" in changes:
        row.owners = _owners(session, init, changes["owners"])
    if "indicators" in changes:
        row.indicators = _indicators(session, init, changes["indicators"])
    after = strategy_record(row)
    if after != before:
        session.flush()
        EntityAudit(
            session=session, actor=actor, entity_type="strategy", initiative_id=init.id
        ).updated(row.id, before, after)
    return _view(row)


def delete_strategy(*, session: Session, actor: Actor, initiative: str, code: str) -> StrategyView:
    """Backbone: remove a strategy and its actions (the audit trail keeps what it was)."""
    init, row = _find(session, actor, initiative, code, manage=True)
    view = _view(row)
    EntityAudit(
        session=session, actor=actor, entity_type="strategy", initiative_id=init.id
    ).deleted(row.id, {**strategy_record(row), "actions": len(row.actions)})
    session.delete(row)
    session.flush()
    return view


# --- writing actions --------------------------------------------------------------------------


def _action_audit(session: Session, actor: Actor, init: Initiative) -> EntityAudit:
    return EntityAudit(
        session=session, actor=actor, entity_type="strategy_action", initiative_id=init.id
    )


def _check_action(status: str, done_on: date | None) -> None:
    """A done date belongs to a done action, and is not in the future."""
    if done_on is None:
        return
    if status != "done":
        raise InvalidInput(gettext("only a done action has a done date"), field="done_on")
    if done_on > today():
        raise InvalidInput(gettext("cannot be in the future"), field="done_on")


def _find_action(strategy: Strategy, action_id: int) -> StrategyAction:
    action = next((a for a in strategy.actions if a.id == action_id), None)
    if action is None:
        raise NotFound(
            gettext(
                "strategy %(code)r has no action %(action_id)s",
                code=strategy.code,
                action_id=action_id,
            ),
            field="action_id",
        )
    return action


def add_action(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    title: Any,
    status: Any = "planned",
    due_on: Any = None,
    done_on: Any = None,
    note: Any = None,
    position: Any = None,
) -> ActionView:
    """Backbone: a new action of the strategy, last unless a ``position`` is given; a done
    action without a date is done today."""
    init, strategy = _find(session, actor, initiative, code, manage=True)
    status = checked_choice(status, ACTION_STATUSES, "status")
    done = _date(done_on, "done_on")
    if status == "done" and done is None:
        done = today()
    _check_action(status, done)
    if position is None:
        position = max((a.position for a in strategy.actions), default=-1) + 1
    row = StrategyAction(
        title=checked_text(title, "title", max_length=TITLE_MAX),
        status=status,
        due_on=_date(due_on, "due_on"),
        done_on=done,
        note=checked_text(note, "note", max_length=NOTE_MAX, required=False) or "",
        position=checked_integer(position, "position", minimum=0, maximum=POSITION_MAX),
    )
    strategy.actions.append(row)
    session.flush()
    _action_audit(session, actor, init).created(strategy.id, action_record(strategy, row))
    return _action_view(row)


def update_action(
    *,
    session: Session,
    actor: Actor,
    initiative: str,
    code: str,
    action_id: int,
    changes: Mapping[str, Any],
) -> ActionView:
    """Backbone: change an action; marking it done without a date dates it today, and moving
    it out of done clears its date."""
    reject_unknown_changes(changes, ACTION_FIELDS)
    init, strategy = _find(session, actor, initiative, code, manage=True)
    row = _find_action(strategy, action_id)
    before = action_record(strategy, row)
    status = row.status
    if "status" in changes:
        status = checked_choice(changes["status"], ACTION_STATUSES, "status")
    done = _date(changes["done_on"], "done_on") if "done_on" in changes else row.done_on
    if status != "done" and "done_on" not in changes:
        done = None
    if status == "done" and done is None:
        done = today()
    _check_action(status, done)
    row.status, row.done_on = status, done
    if "title" in changes:
        row.title = checked_text(changes["title"], "title", max_length=TITLE_MAX)
    if "due_on" in changes:
        row.due_on = _date(changes["due_on"], "due_on")
    if "note" in changes:
        row.note = checked_text(changes["note"], "note", max_length=NOTE_MAX, required=False) or ""
    if "position" in changes:
        row.position = checked_integer(
            changes["position"], "position", minimum=0, maximum=POSITION_MAX
        )
    after = action_record(strategy, row)
    if after != before:
        session.flush()
        _action_audit(session, actor, init).updated(strategy.id, before, after)
    return _action_view(row)


def delete_action(
    *, session: Session, actor: Actor, initiative: str, code: str, action_id: int
) -> ActionView:
    """Backbone: remove an action added by mistake (a dropped one stays, marked dropped)."""
    init, strategy = _find(session, actor, initiative, code, manage=True)
    row = _find_action(strategy, action_id)
    view = _action_view(row)
    _action_audit(session, actor, init).deleted(strategy.id, action_record(strategy, row))
    strategy.actions.remove(row)
    session.flush()
    return view


# --- the trend chart --------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneMark:
    period: str
    title: str
    done_on: date


@dataclass(frozen=True)
class StrategyMark:
    """A strategy on a chart of periods: the periods its dates overlap, and its actions done
    in a period shown."""

    code: str
    title: str
    starts_on: date
    ends_on: date | None
    first: str  # the first period shown it overlaps
    last: str  # the last one (the chart's last while the strategy is open-ended)
    done: list[DoneMark]


def chart_marks(
    strategies: Iterable[StrategyView], periods: Sequence[tuple[str, date, date]]
) -> list[StrategyMark]:
    """Where each strategy falls on a chart of ``periods`` ((key, first day, last day), in
    order): strategies overlapping none of them are left out."""
    marks = []
    for s in strategies:
        shown = [
            key
            for key, start, end in periods
            if end >= s.starts_on and (s.ends_on is None or start <= s.ends_on)
        ]
        if not shown:
            continue
        done = [
            DoneMark(key, a.title, a.done_on)
            for a in s.actions
            if a.status == "done" and a.done_on is not None
            for key, start, end in periods
            if start <= a.done_on <= end
        ]
        marks.append(
            StrategyMark(s.code, s.title, s.starts_on, s.ends_on, shown[0], shown[-1], done)
        )
    return marks


def indicator_marks(
    *, session: Session, actor: Actor, initiative: str, indicator: str, period_keys: Sequence[str]
) -> tuple[list[StrategyView], list[StrategyMark]]:
    """The strategies aimed at ``indicator`` the actor may read, and their marks on a chart of
    the periods ``period_keys`` (in the chart's order)."""
    init = viewable_initiative(session=session, actor=actor, slug=initiative)
    strategies = list_strategies(
        session=session, actor=actor, initiative=initiative, indicator=indicator, limit=500
    ).items
    if not strategies:
        return [], []
    dates = {
        key: (start, end)
        for key, start, end in session.execute(
            select(Period.key, Period.starts_on, Period.ends_on).where(
                Period.initiative_id == init.id, Period.key.in_(list(period_keys))
            )
        )
    }
    periods = [(k, *dates[k]) for k in period_keys if k in dates]
    return strategies, chart_marks(strategies, periods)
