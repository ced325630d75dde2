"""Demo data: two fictional initiatives with three years of believable, reproducible history.

Everything is generated from one seeded ``random.Random`` per stream (never the global one) and
dated from the day the demo is built (``today``, models/demo/calendar.py), so the same seed and
day always yield the same rows, and tests can compare checksums. The numbers are built cell by
cell over the cross-tab of every dimension, so each breakdown adds up to its total exactly, as the
data rules require (docs/architecture.md: Data rules). Values go in through bulk inserts: the ORM
unit of work is ~20× slower for tens of thousands of rows (docs/architecture.md: Scale).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import product
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from models.access.passwords import hash_password
from models.access.permissions import actor_for_user
from models.analytics.disclosure import PUBLIC, told_baselines
from models.analytics.rollups import rebuild as rebuild_rollups
from models.analytics.views import equity
from models.core import dates
from models.core.errors import Conflict
from models.core.expressions import evaluate, parse
from models.demo.calendar import DemoCalendar, built_for, quarter_of
from models.demo.spec import (
    CORRECTED_STEP,
    CRADLE,
    DEMO_DOMAIN,
    DEMO_INITIATIVE_SLUGS,
    DEMO_ORGANISATION_SLUGS,
    DEMO_PASSWORD,
    HEAT_YEARS,
    HISTORY_QUARTERS,
    INITIATIVES,
    INTERIM_STEPS,
    ORGANISATIONS,
    OUTLIER_FLAG,
    RECOUNT_SHARE,
    REVIEW_STEP,
    TARGET_STEP,
    IndicatorSpec,
    InitiativeSpec,
    MemberSpec,
)
from models.demo.trail import Move, StoredValue, columns, events, fields_of
from models.initiatives.directory import any_initiative
from models.initiatives.indicators import describe_gap_target
from models.initiatives.translations import ENTITY as TRANSLATION_ENTITY
from models.initiatives.translations import source_hash
from models.initiatives.translations import sources as translation_sources
from models.publishing.publish import publish
from models.strategies.strategies import action_record, strategy_record
from models.tables.access import RoleGrant, User
from models.tables.audit import AuditEvent
from models.tables.indicator import (
    TOTAL,
    Category,
    Dimension,
    GapTarget,
    Indicator,
    IndicatorTarget,
    Obligation,
    Outcome,
    pair_code,
)
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.publication import Publication
from models.tables.reporting import Submission, Value
from models.tables.story import StoryVersion
from models.tables.strategy import Strategy, StrategyAction
from models.tables.translation import ENTITY_COLUMNS, ContentTranslation

Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass
class DemoSummary:
    initiatives: list[str]
    organisations: int
    users: list[tuple[str, str]]  # (email, role description), printed as the demo logins
    values: int
    submissions: int
    created: bool
    period: str | None  # the quarter open for reporting when the demo was built


def demo_loaded(*, session: Session) -> bool:
    """Whether a demo initiative exists: loading then is a no-op, so first start stays cheap."""
    stmt = select(Initiative.id).where(
        Initiative.is_demo.is_(True), Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)
    )
    return session.scalar(stmt.limit(1)) is not None


def demo_quarter(*, session: Session) -> str | None:
    """The quarter the loaded demo was built for (open for reporting then), None without one.

    Read from the demo's first quarter, which its history begins ``HISTORY_QUARTERS`` before
    the quarter it was built in; what people do in the demo since (reports, new periods after
    it) does not move it.
    """
    first = session.scalar(
        select(Period.key)
        .join(Initiative, Initiative.id == Period.initiative_id)
        .where(Initiative.is_demo.is_(True), Initiative.slug.in_(DEMO_INITIATIVE_SLUGS))
        .order_by(Period.starts_on)
        .limit(1)
    )
    return built_for(first) if first else None


def load_demo(
    *,
    session: Session,
    seed: int = 2026,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create both demo initiatives, their partners and logins; flush, never commit.

    The demo is dated around ``today`` (default: the real date): its quarter is open for
    reporting, the one before is under review, older ones are approved, locked and published.
    Idempotent: when the demo is there already nothing changes and ``created`` is False.
    """
    session.flush()
    if demo_loaded(session=session):
        return _summary(session, created=False)
    calendar = DemoCalendar(today or dates.today())
    report = progress or (lambda _step, _done, _total: None)
    orgs = _organisations(session, calendar, report)
    users = _users(session, calendar, orgs, report)
    trail: list[dict[str, Any]] = []
    for spec in INITIATIVES:
        builder = _Builder(session, spec, seed, calendar, orgs, users, report)
        builder.build()
        trail += builder.publish()
    # One insert, oldest first, so event ids follow time as in a real trail (a report's
    # versions are told apart by their events' order: models/reporting/versions.py).
    trail.sort(key=lambda event: event["at"])  # stable: the events of one write keep their order
    session.execute(insert(AuditEvent), trail)
    session.flush()
    return _summary(session, created=True)


@dataclass(frozen=True)
class FirstStart:
    """What ``cm demo --first-start`` (``make run``) did, for the command line to say."""

    action: str  # loaded, rebuilt, current, stale (left alone: other initiatives), absent
    today: str  # the quarter of today
    found: str | None  # the quarter the demo already there was built for
    summary: DemoSummary | None  # of the demo loaded, when one was


def demo_on_first_start(
    *,
    session: Session,
    seed: int = 2026,
    today: date | None = None,
    progress: Progress | None = None,
) -> FirstStart:
    """Load the demo into an empty deployment, and rebuild one built in an earlier quarter.

    A demo a month old has no quarter open for reporting any more, so a restart rebuilds it for
    today, but only when the deployment holds nothing but the demo: never when a real
    initiative is there (``stale``: the caller says how to refresh, ``cm demo --reset``, which
    removes the demo's rows only). A deployment without the demo is left alone (``absent``).
    Flushes, never commits.
    """
    today = today or dates.today()
    quarter = quarter_of(today)
    if not any_initiative(session=session):
        summary = load_demo(session=session, seed=seed, today=today, progress=progress)
        return FirstStart("loaded", quarter, None, summary)
    found = demo_quarter(session=session)
    if found is None:
        return FirstStart("absent", quarter, None, None)
    if found == quarter:
        return FirstStart("current", quarter, found, None)
    if not only_demo(session=session):
        return FirstStart("stale", quarter, found, None)
    remove_demo(session=session)
    summary = load_demo(session=session, seed=seed, today=today, progress=progress)
    return FirstStart("rebuilt", quarter, found, summary)


def only_demo(*, session: Session) -> bool:
    """Whether every initiative here is a demo one: then rebuilding the demo loses nothing."""
    other = select(Initiative.id).where(
        or_(Initiative.is_demo.is_(False), Initiative.slug.not_in(DEMO_INITIATIVE_SLUGS))
    )
    return session.scalar(other.limit(1)) is None


def remove_demo(*, session: Session) -> None:
    """Delete what ``load_demo`` created and nothing else; flush, never commit.

    Values go first: their category foreign key is RESTRICT, so the initiative's cascade could
    otherwise trip over it. Organisations still used by a non-demo initiative are kept.
    """
    session.flush()
    initiative_ids = list(
        session.scalars(select(Initiative.id).where(Initiative.is_demo.is_(True)))
    )
    if initiative_ids:
        _delete(session, delete(Value).where(Value.initiative_id.in_(initiative_ids)))
        _delete(session, delete(Initiative).where(Initiative.id.in_(initiative_ids)))
    still_members = select(Member.organisation_id)
    _delete(
        session,
        delete(Organisation).where(
            Organisation.slug.in_(DEMO_ORGANISATION_SLUGS),
            Organisation.website.like(f"%.{DEMO_DOMAIN}"),
            Organisation.id.not_in(still_members),
        ),
    )
    user_ids = select(User.id).where(_demo_email())
    # The audit trail refuses UPDATE, so ON DELETE SET NULL on actor_user_id would fail: events of
    # the demo's fictional users are removed with them.
    _delete(session, delete(AuditEvent).where(AuditEvent.actor_user_id.in_(user_ids)))
    _delete(session, delete(User).where(_demo_email()))
    _forget_deleted(session)


def _organisations(
    session: Session, calendar: DemoCalendar, report: Progress
) -> dict[str, Organisation]:
    """All demo partners, shared by both initiatives (a funder is a member of both)."""
    step = "Organisations and logins"
    report(step, 0, 3)
    existing = {
        o.slug: o
        for o in session.scalars(
            select(Organisation).where(Organisation.slug.in_(DEMO_ORGANISATION_SLUGS))
        )
    }
    # A demo organisation kept by remove_demo (a real initiative uses it) is reused; anyone
    # else's organisation or initiative with a demo slug is not ours to touch.
    foreign = {slug for slug, o in existing.items() if not _is_demo_website(o.website)}
    foreign.update(
        session.scalars(select(Initiative.slug).where(Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)))
    )
    if foreign:
        names = ", ".join(sorted(foreign))
        raise Conflict(f"cannot load the demo: these slugs are in use already: {names}")
    orgs = {
        o.slug: existing.get(o.slug)
        or Organisation(
            slug=o.slug,
            name=o.name,
            sector=o.sector,
            description=o.description,
            website=f"https://{o.slug}.{DEMO_DOMAIN}",
            created_at=calendar.epoch,
        )
        for o in ORGANISATIONS
    }
    session.add_all(orgs.values())
    session.flush()
    report(step, 1, 3)
    return orgs


def _users(
    session: Session, calendar: DemoCalendar, orgs: Mapping[str, Organisation], report: Progress
) -> dict[str, User]:
    """Demo logins keyed by role or organisation slug; argon2 runs once for all of them."""
    step = "Organisations and logins"
    if session.scalar(select(func.count()).select_from(User).where(_demo_email())):
        raise Conflict(f"cannot load the demo: users with @{DEMO_DOMAIN} addresses exist")
    password_hash = hash_password(DEMO_PASSWORD)
    report(step, 2, 3)
    users: dict[str, User] = {}

    def add(key: str, email: str, name: str) -> User:
        users[key] = User(
            email=email, name=name, password_hash=password_hash, created_at=calendar.epoch
        )
        return users[key]

    add("admin", f"admin@{DEMO_DOMAIN}", "Ada Admin (demo)").grants.append(RoleGrant(role="admin"))
    add("backbone", f"backbone@{DEMO_DOMAIN}", "Bea Backbone (demo)")
    add("funder", f"funder@{DEMO_DOMAIN}", "Fred Funder (demo)")
    for slug, org in orgs.items():  # their grants come with the memberships they work through
        add(slug, f"reporter@{slug}.{DEMO_DOMAIN}", f"Reporter, {org.name} (demo)")
    session.add_all(users.values())
    session.flush()
    report(step, 3, 3)
    return users


def _is_demo_website(website: str | None) -> bool:
    return website is not None and website.endswith(f".{DEMO_DOMAIN}")


def _demo_email() -> Any:
    return or_(User.email.like(f"%@{DEMO_DOMAIN}"), User.email.like(f"%.{DEMO_DOMAIN}"))


def _delete(session: Session, stmt: Any) -> None:
    session.execute(stmt.execution_options(synchronize_session=False))


def _forget_deleted(session: Session) -> None:
    """Drop objects whose rows the bulk deletes removed, so a reload cannot meet stale twins."""
    by_class: dict[type[Any], dict[Any, Any]] = defaultdict(dict)
    for state in session.identity_map.all_states():
        key, obj = state.key, state.obj()
        if key is None or obj is None:  # not persistent, or already collected
            continue
        cls, pk = key[0], key[1]
        if len(pk) == 1:
            by_class[cls][pk[0]] = obj
    for cls, objs in by_class.items():
        column = cls.__mapper__.primary_key[0]
        ids = list(objs)
        alive: set[Any] = set()
        for i in range(0, len(ids), 500):
            alive.update(session.scalars(select(column).where(column.in_(ids[i : i + 500]))))
        for pk, obj in objs.items():
            if pk not in alive and obj in session:
                session.expunge(obj)
    session.expire_all()


def _summary(session: Session, *, created: bool) -> DemoSummary:
    """What is in the database now, so a repeated load reports the same as the first one."""
    initiatives = dict(
        session.execute(
            select(Initiative.slug, Initiative.id).where(
                Initiative.is_demo.is_(True), Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)
            )
        ).all()
    )
    ids = list(initiatives.values())
    values = session.scalar(
        select(func.count()).select_from(Value).where(Value.initiative_id.in_(ids))
    )
    submissions = session.scalar(
        select(func.count()).select_from(Submission).where(Submission.initiative_id.in_(ids))
    )
    organisations = session.scalar(
        select(func.count())
        .select_from(Organisation)
        .where(
            Organisation.slug.in_(DEMO_ORGANISATION_SLUGS),
            Organisation.website.like(f"%.{DEMO_DOMAIN}"),
        )
    )
    rows = session.execute(
        select(User.email, RoleGrant.role, Initiative.slug, Organisation.name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(Initiative, Initiative.id == RoleGrant.initiative_id)
        .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
        .where(_demo_email())
        .order_by(User.email, Initiative.slug)
    ).all()
    scopes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for email, role, initiative, organisation in rows:
        if organisation and initiative:
            scopes[(email, role)].append(f"{organisation} in {initiative}")
        else:
            scopes[(email, role)].append(initiative or organisation or "")
    rank = {"admin": 0, "backbone": 1, "funder": 2, "reporter": 3}
    users = [
        (email, f"{role}: {', '.join(s for s in scope if s)}" if any(scope) else role)
        for (email, role), scope in sorted(scopes.items(), key=lambda kv: (rank[kv[0][1]], kv[0]))
    ]
    return DemoSummary(
        initiatives=[s for s in DEMO_INITIATIVE_SLUGS if s in initiatives],
        organisations=organisations or 0,
        users=users,
        values=values or 0,
        submissions=submissions or 0,
        created=created,
        period=demo_quarter(session=session),
    )


def _at(day: date, rng: random.Random, earliest: int = 14, latest: int = 23) -> datetime:
    """A working-hours moment (US time, stored in UTC) on ``day``."""
    return datetime.combine(day, time(rng.randint(earliest, latest), rng.randrange(60)), UTC)


def _clamp(x: float, low: float, high: float) -> float:
    return max(low, min(x, high))


@dataclass
class _Plan:
    """One submission to write, decided before any number is drawn."""

    member: MemberSpec
    step: int  # quarters since the baseline
    status: str = "approved"
    codes: list[str] = field(default_factory=list)
    outliers: set[str] = field(default_factory=set)
    comment: str | None = None
    resubmitted: _Resubmission | None = None
    moves: list[Move] = field(default_factory=list)  # its story, oldest first
    row: dict[str, Any] = field(default_factory=dict)  # the submission's columns
    id: int = 0

    @property
    def resave(self) -> Move | None:
        """The partner's save after the report was returned, if it was."""
        if self.resubmitted is None:
            return None
        after = self.moves[[m.action for m in self.moves].index("return") + 1 :]
        return next(m for m in after if m.action == "save")


@dataclass(frozen=True)
class _Resubmission:
    """A report the backbone team returned after its first submission, and its partner put
    right and submitted again."""

    comment: str  # the return's
    reason: str  # the partner's, on the values it changed
    recounted: str | None = None  # the indicator first sent with too few counted


@dataclass
class _Total:
    value: float
    numerator: float | None
    denominator: float | None


class _Builder:
    """Builds one initiative: structure through the ORM, history through bulk inserts."""

    def __init__(
        self,
        session: Session,
        spec: InitiativeSpec,
        seed: int,
        calendar: DemoCalendar,
        orgs: Mapping[str, Organisation],
        users: Mapping[str, User],
        report: Progress,
    ) -> None:
        self.session = session
        self.spec = spec
        self.seed = seed
        self.calendar = calendar
        self.orgs = orgs
        self.users = users
        self.report = report
        self.rng = random.Random(f"{seed}:{spec.slug}")
        self.indicators = {i.code: i for i in spec.indicators}
        self.reporting = [m for m in spec.members if m.reports]
        self.total_steps = len(spec.members) + 3
        self.done = 0
        correction = spec.correction
        self.corrected = (correction.org, CORRECTED_STEP) if correction else None
        self.first_report: list[dict[str, Any]] = []  # the corrected values as first reported
        self.correction_rows: list[dict[str, Any]] = []  # … and as corrected
        # Each indicator's line to its goal: (baseline step, baseline, goal), unrounded.
        self.lines: dict[str, tuple[int, float, float]] = {}

    def tick(self) -> None:
        self.done += 1
        self.report(self.spec.name, self.done, self.total_steps)

    def build(self) -> None:
        self.report(self.spec.name, 0, self.total_steps)
        self._structure()
        self.tick()
        self.plans = self._plans()
        self._submissions(self.plans)
        rows: list[dict[str, Any]] = []
        totals: dict[str, dict[int, list[_Total]]] = defaultdict(lambda: defaultdict(list))
        for member in self.spec.members:
            rows.extend(self._member_values(member, self.plans, totals))
            self.tick()
        self._targets(totals)
        # The corrected report goes in as first reported: it is corrected after publication.
        self.session.execute(insert(Value), rows + self.first_report)
        self.session.flush()
        self.tick()

    # publications -----------------------------------------------------------------------------

    def publish(self) -> list[dict[str, Any]]:
        """Publish every quarter before the one under review, as the backbone team did when
        each was approved: funders, partners and the public see published figures only (README,
        Disclosure). One quarter is published again after a partner's correction, so the
        public page shows two vintages of it. Publications are dated after the approvals.
        Answers the initiative's audit trail, to be written (:meth:`_trail`)."""
        session, initiative = self.session, self.initiative
        # Demo submissions are inserted in bulk, not approved one by one: sum them up once.
        rebuild_rollups(session=session, initiative_id=initiative.id)
        backbone = actor_for_user(session=session, user=self.users["backbone"])
        told = self._stories()  # before publishing: each publication carries its quarter's
        told += self._gap_targets()
        told += self._translations()  # before publishing too: the publications freeze them
        moments: dict[int, datetime] = {}
        for step in range(REVIEW_STEP):
            vintage = publish(
                session=session,
                actor=backbone,
                initiative_slug=initiative.slug,
                period_key=self.periods[step].key,
                note="Published with the quarter's approved reports.",
                confirm_incomplete=True,
                notify=False,
            )
            moments[vintage.id] = self._published_at(step)
        correction = self.spec.correction
        if correction is not None:
            plan = self.plans[(correction.org, CORRECTED_STEP)]
            first = self._published_at(CORRECTED_STEP)
            self._correct(plan, first)
            rebuild_rollups(session=session, initiative_id=initiative.id)
            vintage = publish(
                session=session,
                actor=backbone,
                initiative_slug=initiative.slug,
                period_key=self.periods[CORRECTED_STEP].key,
                note=correction.republished,
                confirm_incomplete=True,
                notify=False,
            )
            moments[vintage.id] = datetime.combine(
                (plan.row["approved_at"] + timedelta(days=2)).date(), time(16), UTC
            )
        self._interim_targets()
        for publication_id, moment in moments.items():
            session.execute(  # the loaded publications get the date too
                update(Publication)
                .where(Publication.id == publication_id)
                .values(published_at=moment)
            )
        trail = self._trail(moments) + told + self._strategies()
        session.flush()
        self.tick()
        return trail

    def _stories(self) -> list[dict[str, Any]]:
        """The backbone team's stories behind the curves of the last published quarters,
        written the day before each was published (README: Stories); answers their audit
        events, written with the rest of the trail."""
        backbone = actor_for_user(session=self.session, user=self.users["backbone"])
        events: list[dict[str, Any]] = []
        for code, texts in self.spec.stories:
            indicator = self.indicator_rows[code]
            for offset, text in enumerate(texts):
                step = REVIEW_STEP - len(texts) + offset
                if step < 0:
                    continue
                period = self.periods[step]
                at = self._published_at(step) - timedelta(days=1)
                story = StoryVersion(
                    initiative_id=self.initiative.id,
                    indicator_id=indicator.id,
                    period_id=period.id,
                    version=1,
                    text=text,
                    written_at=at,
                    written_by_id=backbone.user_id,
                    written_by=backbone.label,
                )
                self.session.add(story)
                self.session.flush()
                events.append(
                    {
                        "at": at,
                        "actor_user_id": backbone.user_id,
                        "actor_label": backbone.label,
                        "initiative_id": self.initiative.id,
                        "entity_type": "story",
                        "entity_id": story.id,
                        "action": "create",
                        "before": None,
                        "after": {
                            "indicator": code,
                            "period": period.key,
                            "version": 1,
                            "text": text,
                        },
                        "reason": None,
                    }
                )
        return events

    def _translations(self) -> list[dict[str, Any]]:
        """The backbone team's Spanish names (README, "Languages"), written the week before
        the first quarter was published, each of the English it translates as it stands (so
        none needs review); answers their audit events, written with the rest of the trail."""
        if not self.spec.spanish:
            return []
        backbone = actor_for_user(session=self.session, user=self.users["backbone"])
        at = self._published_at(0) - timedelta(days=7)
        fields = {
            (s.entity_type, s.key, s.field): s
            for s in translation_sources(self.session, self.initiative)
        }
        events: list[dict[str, Any]] = []
        for (entity_type, key, field_name), text in self.spec.spanish.items():
            source = fields[(entity_type, key, field_name)]
            column = ENTITY_COLUMNS[entity_type]
            row = ContentTranslation(
                initiative_id=self.initiative.id,
                entity_type=entity_type,
                entity_id=source.entity_id,
                field=field_name,
                locale="es",
                text=text,
                source_hash=source_hash(source.english),
                translated_at=at,
                translated_by_id=backbone.user_id,
                translated_by=backbone.label,
                **({column: source.entity_id} if column else {}),
            )
            self.session.add(row)
            self.session.flush()
            events.append(
                {
                    "at": at,
                    "actor_user_id": backbone.user_id,
                    "actor_label": backbone.label,
                    "initiative_id": self.initiative.id,
                    "entity_type": TRANSLATION_ENTITY,
                    "entity_id": row.id,
                    "action": "create",
                    "before": None,
                    "after": {
                        "entity_type": entity_type,
                        "entity": key,
                        "field": field_name,
                        "locale": "es",
                        "text": text,
                        "source_hash": row.source_hash,
                    },
                    "reason": None,
                }
            )
        return events

    def _strategies(self) -> list[dict[str, Any]]:
        """The initiative's strategies and their actions, set up by the backbone team a week
        before each starts and each action recorded as it was done (README: Strategies);
        answers their audit events, written with the rest of the trail."""
        backbone = actor_for_user(session=self.session, user=self.users["backbone"])
        quarters = self.calendar.quarters
        events: list[dict[str, Any]] = []

        def event(at: datetime, entity_type: str, entity_id: int, after: dict[str, Any]) -> None:
            events.append(
                {
                    "at": at,
                    "actor_user_id": backbone.user_id,
                    "actor_label": backbone.label,
                    "initiative_id": self.initiative.id,
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "action": "create",
                    "before": None,
                    "after": after,
                    "reason": None,
                }
            )

        for spec in self.spec.strategies:
            starts_on = quarters[spec.starts].starts_on
            ends_on = quarters[spec.ends].ends_on if spec.ends is not None else None
            created = datetime.combine(starts_on - timedelta(days=7), time(15), UTC)
            strategy = Strategy(
                initiative_id=self.initiative.id,
                code=spec.code,
                title=spec.title,
                description=spec.description,
                starts_on=starts_on,
                ends_on=ends_on,
                created_at=created,
                updated_at=created,
                owners=[self.members[org] for org in spec.owners],
                indicators=[self.indicator_rows[code] for code in spec.indicators],
            )
            self.session.add(strategy)
            self.session.flush()
            event(created, "strategy", strategy.id, strategy_record(strategy))
            for position, a in enumerate(spec.actions):
                quarter = quarters[a.step]
                done_on = quarter.starts_on + timedelta(days=40) if a.status == "done" else None
                at = datetime.combine(done_on, time(15), UTC) if done_on else created
                action = StrategyAction(
                    title=a.title,
                    status=a.status,
                    due_on=None if done_on else quarter.ends_on,
                    done_on=done_on,
                    note=a.note,
                    position=position,
                    created_at=at,
                    updated_at=at,
                )
                strategy.actions.append(action)
                self.session.flush()
                # Without the action's id, as for every row of the demo the same seed makes the
                # same trail (ids differ between loads); its title names it.
                record = action_record(strategy, action)
                del record["action"]
                event(at, "strategy_action", strategy.id, record)
        return events

    def _gap_targets(self) -> list[dict[str, Any]]:
        """The spec's gap targets: the baseline gap is the indicator's gap between its best and
        worst group in its baseline quarter (the equity view's, exact for the backbone team),
        the target that share of it by the end target's quarter; set when the baseline quarter
        was published. Answers their audit events."""
        backbone = actor_for_user(session=self.session, user=self.users["backbone"])
        keys = {p.id: p.key for p in self.periods}
        events: list[dict[str, Any]] = []
        for code, dimension, share in self.spec.gap_targets:
            row = self.indicator_rows[code]
            if row.baseline_period_id is None:
                continue
            seen = equity(
                session=self.session,
                actor=backbone,
                initiative_slug=self.initiative.slug,
                indicator_code=code,
                dimension=dimension,
            )
            base_key = keys[row.baseline_period_id]
            gap = next(p.gap for p in seen.points if p.period == base_key)
            if gap is None:
                continue
            target = GapTarget(
                indicator_id=row.id,
                dimension=self.dimensions[dimension],
                baseline_value=round(gap, row.decimals),
                baseline_period_id=row.baseline_period_id,
                target_value=round(gap * share, row.decimals),
                target_period_id=self.periods[TARGET_STEP].id,
                note=f"Keep {share:.0%} of the baseline gap by the end target.",
            )
            self.session.add(target)
            self.session.flush()
            step = next(i for i, p in enumerate(self.periods) if p.id == row.baseline_period_id)
            events.append(
                {
                    "at": self._published_at(step) - timedelta(days=1),
                    "actor_user_id": backbone.user_id,
                    "actor_label": backbone.label,
                    "initiative_id": self.initiative.id,
                    "entity_type": "gap_target",
                    "entity_id": row.id,
                    "action": "create",
                    "before": None,
                    "after": {"indicator": code, **describe_gap_target(target, keys)},
                    "reason": None,
                }
            )
        return events

    def _published_at(self, step: int) -> datetime:
        """Two days after the quarter's last approval, in the afternoon."""
        last = max(
            p.row["approved_at"]
            for p in self.plans.values()
            if p.step == step and p.row["approved_at"] is not None
        )
        return datetime.combine(last.date() + timedelta(days=2), time(16), UTC)

    def _correct(self, plan: _Plan, published: datetime) -> None:
        """The partner's correction after the first publication: the backbone team reopened
        the report, the partner saved the full count, submitted it, and the report was
        approved again (four more versions, each with its audit event); the corrected values
        replace the first ones in place, as a save does."""
        correction = self.spec.correction
        assert correction is not None
        org = plan.member.org
        indicator_id = self.indicator_rows[correction.code].id
        submitted = published + timedelta(days=16, hours=3)
        saved = submitted - timedelta(hours=1)
        save = Move(saved, org, "save", correction.reason)
        plan.moves += [
            Move(published + timedelta(days=14), "backbone", "reopen", correction.reopened),
            save,
            Move(submitted, org, "submit"),
            Move(published + timedelta(days=19, hours=2), "backbone", "approve"),
        ]
        for row in self.correction_rows:
            if row["category_id"] is None:
                row["note"] = correction.note
        self._resaved(save, self.first_report, self.correction_rows)
        ids = dict(
            self.session.execute(
                select(Value.disaggregation, Value.id).where(
                    Value.submission_id == plan.id, Value.indicator_id == indicator_id
                )
            ).all()
        )
        corrected = {(r["indicator_id"], r["disaggregation"]): r for r in self.correction_rows}
        changed = [
            {"id": ids[cell[1]], **fields_of(corrected[cell]), "updated_at": saved}
            for cell in save.before
        ]
        self.session.execute(update(Value), changed)
        plan.row = self._row(plan)
        self.session.execute(
            update(Submission)
            .where(Submission.id == plan.id)
            .values(plan.row)
            .execution_options(synchronize_session=False)
        )

    def _trail(self, published: Mapping[int, datetime]) -> list[dict[str, Any]]:
        """The audit events of the initiative's reports, as the workflow would have written
        them (models/demo/trail.py), and of its publications dated when they were published
        (``publish`` records them now; the trail refuses UPDATE, so they are taken out here
        and written again with the rest)."""
        session, initiative_id = self.session, self.initiative.id
        stored: dict[int, list[StoredValue]] = defaultdict(list)
        for row in session.execute(
            select(
                Value.id,
                Value.submission_id,
                Indicator.code,
                Value.indicator_id,
                Value.disaggregation,
                Value.value,
                Value.numerator,
                Value.denominator,
                Value.note,
            )
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(Value.initiative_id == initiative_id)
            .order_by(Value.id)
        ).mappings():
            stored[row["submission_id"]].append(
                StoredValue(
                    row["id"],
                    row["code"],
                    (row["indicator_id"], row["disaggregation"]),
                    fields_of(row),
                )
            )
        labels = {
            login: actor_for_user(session=session, user=user)
            for login, user in self.users.items()
            if login == "backbone" or login in self.members
        }
        rows: list[dict[str, Any]] = []
        for plan in sorted(self.plans.values(), key=lambda p: p.id):
            for move, event in events(plan.id, plan.moves, stored[plan.id]):
                actor = labels[move.by]
                rows.append(
                    {
                        "at": move.at,
                        "actor_user_id": actor.user_id,
                        "actor_label": actor.label,
                        "initiative_id": initiative_id,
                        **event,
                    }
                )
        table = AuditEvent.__table__
        publishing = and_(
            table.c.initiative_id == initiative_id, table.c.entity_type == "publication"
        )
        for row in session.execute(select(table).where(publishing)).mappings():
            event = {key: value for key, value in row.items() if key != "id"}
            rows.append(event | {"at": published[row["entity_id"]]})
        session.execute(delete(table).where(publishing))
        return rows

    # structure ----------------------------------------------------------------------------

    def _structure(self) -> None:
        spec, session = self.spec, self.session
        self.initiative = Initiative(
            slug=spec.slug,
            name=spec.name,
            description=spec.description,
            region=spec.region,
            suppression_threshold=spec.suppression_threshold,
            is_demo=True,
            created_at=self.calendar.epoch,
        )
        session.add(self.initiative)
        self.periods: list[Period] = []
        for step, quarter in enumerate(self.calendar.quarters):
            window = self.calendar.window(step)
            self.periods.append(
                Period(
                    initiative=self.initiative,
                    key=quarter.key,
                    kind="quarter",
                    starts_on=quarter.starts_on,
                    ends_on=quarter.ends_on,
                    opens_on=window.opens_on,
                    due_on=window.due_on,
                    closes_on=window.closes_on,
                    # Approved and published; the quarter under review and later ones are open.
                    locked=step < REVIEW_STEP,
                )
            )
        session.add_all(self.periods)  # 2.0 no longer cascades along the backref
        session.flush()
        initiative_id = self.initiative.id
        self.outcomes = {
            code: Outcome(
                initiative_id=initiative_id, code=code, name=name, description=text, position=n
            )
            for n, (code, name, text) in enumerate(spec.outcomes)
        }
        self.dimensions = {
            d.code: Dimension(
                initiative_id=initiative_id,
                code=d.code,
                name=d.name,
                position=n,
                categories=[
                    Category(code=c.code, name=c.name, position=k) for k, c in enumerate(d.cats)
                ],
            )
            for n, d in enumerate(spec.dims)
        }
        for code, name, row_code, column_code in spec.cross_tabs:
            r, c = self.dimensions[row_code], self.dimensions[column_code]
            self.dimensions[code] = Dimension(
                initiative_id=initiative_id,
                code=code,
                name=name,
                position=len(self.dimensions),
                row_dimension=r,
                column_dimension=c,
                categories=[
                    Category(
                        code=pair_code(a.code, b.code),
                        name=f"{a.name} · {b.name}",
                        position=i * len(c.categories) + j,
                    )
                    for i, a in enumerate(r.categories)
                    for j, b in enumerate(c.categories)
                ],
            )
        # A cross-tab's cell from its row's and column's: (rows, columns, its position) by code.
        order = list(self.dimensions)
        self.cross_cells = {
            code: (
                order.index(row_code),
                order.index(column_code),
                order.index(code),
                len(self.dimensions[column_code].categories),
            )
            for code, _name, row_code, column_code in spec.cross_tabs
        }
        session.add_all([*self.outcomes.values(), *self.dimensions.values()])
        session.flush()
        # (dimension position, category position) → (category id, disaggregation key)
        self.category_keys = {
            (n, k): (c.id, f"{d.code}={c.code}")
            for n, d in enumerate(self.dimensions.values())
            for k, c in enumerate(d.categories)
        }
        self.indicator_rows: dict[str, Indicator] = {}
        for n, ind in enumerate(spec.indicators):
            self.indicator_rows[ind.code] = Indicator(
                initiative_id=self.initiative.id,
                outcome_id=self.outcomes[ind.outcome].id,
                code=ind.code,
                name=ind.name,
                definition=ind.definition,
                unit=ind.unit,
                measure_type=ind.measure_type,
                direction=ind.direction,
                valid_min=ind.valid_min,
                valid_max=ind.valid_max,
                decimals=ind.decimals,
                frequency="quarterly",
                data_source=ind.data_source,
                position=n,
                kind=ind.kind,
                performance_type=ind.performance_type,
                expression=ind.expression,
                baseline_period_id=self.periods[0].id,
                target_period_id=self.periods[TARGET_STEP].id,
                dimensions=[self.dimensions[d] for d in (*ind.dims, *ind.cross_tabs)],
                created_at=self.calendar.epoch,
            )
        for ind in spec.indicators:
            self.indicator_rows[ind.code].contributes_to = [
                self.indicator_rows[code] for code in ind.contributes_to
            ]
        session.add_all(self.indicator_rows.values())
        self.members: dict[str, Member] = {}
        for m in spec.members:
            joined = self.calendar.quarters[m.joins].starts_on if m.joins else self.calendar.launch
            self.members[m.org] = Member(
                initiative_id=self.initiative.id,
                organisation_id=self.orgs[m.org].id,
                joined_on=joined,
                shares_with_funders=m.shares_with_funders,
                created_at=datetime.combine(joined, time(15), UTC),
            )
        session.add_all(self.members.values())
        session.flush()
        session.add_all(
            Obligation(member_id=self.members[m.org].id, indicator_id=self.indicator_rows[code].id)
            for m in spec.members
            for code in m.reports
        )
        for m in spec.members:
            self.users[m.org].grants.append(
                RoleGrant(
                    role="reporter",
                    initiative_id=self.initiative.id,
                    organisation_id=self.orgs[m.org].id,
                )
            )
        self.users["backbone"].grants.append(
            RoleGrant(role="backbone", initiative_id=self.initiative.id)
        )
        if spec is CRADLE:  # the funder login sees one initiative, as funders usually do
            self.users["funder"].grants.append(
                RoleGrant(role="funder", initiative_id=self.initiative.id)
            )
        session.flush()

    # who submits what, when ---------------------------------------------------------------

    def _plans(self) -> dict[tuple[str, int], _Plan]:
        """Statuses, lateness and planted outliers, drawn in a fixed order from one stream.

        Quarters before the one under review are approved, with a few reports missing. The one
        under review shows every status, and some partners have not started it.
        """
        rng, last = self.rng, REVIEW_STEP
        forced = ["returned", "draft", "submitted", "approved"]
        plans: dict[tuple[str, int], _Plan] = {}
        for step in range(HISTORY_QUARTERS):
            active = [m for m in self.reporting if step >= m.joins]
            if step == last:
                # One or more not started, but enough reports left for every status.
                draws = sum(rng.random() < 0.12 for _ in active)
                count = max(1, min(draws, len(active) - len(forced)))
                missing = {m.org for m in rng.sample(active, count)}
            else:
                # Complete: the baseline; the latest published quarter, so the public page opens
                # on figures (one district missing hides every school figure: too few
                # partners); and the corrected one, so its republication revises figures the
                # public sees.
                complete = step in (0, CORRECTED_STEP, REVIEW_STEP - 1)
                missing = {m.org for m in active if not complete and rng.random() < 0.04}
            for m in active:
                if m.org not in missing:
                    plans[(m.org, step)] = _Plan(m, step, codes=list(m.reports))
        latest = [p for (_, step), p in plans.items() if step == last]
        rng.shuffle(latest)
        # One returned report has an outlier to fix, so it goes first.
        latest.sort(key=lambda p: not any(self._eligible(c) for c in p.codes))
        for n, plan in enumerate(latest):
            plan.status = (
                forced[n]
                if n < len(forced)
                else rng.choices(
                    ("approved", "submitted", "draft", "returned"), (0.45, 0.3, 0.2, 0.05)
                )[0]
            )
        for plan in latest:
            if plan.status == "returned":
                codes = [c for c in plan.codes if self._eligible(c)]
                if codes:
                    code = rng.choice(codes)
                    plan.outliers.add(code)
                    plan.comment = (
                        f"{self.indicators[code].name}: this quarter's figure is far from your "
                        "earlier ones. Please check it and its breakdown, then resubmit (or add "
                        "a note if it is right)."
                    )
                else:
                    plan.comment = "Please add a note on how this quarter's figures were counted."
            elif plan.status == "draft" and len(plan.codes) > 1:
                plan.codes.remove(rng.choice(plan.codes))
        correction = self.spec.correction
        spared = (correction.org, CORRECTED_STEP, correction.code) if correction else None
        candidates = [
            (plan, code)
            for plan in plans.values()
            if plan.status == "approved" and 2 <= plan.step <= last - 1
            for code in plan.codes
            if self._eligible(code) and (plan.member.org, plan.step, code) != spared
        ]
        for plan, code in rng.sample(candidates, min(self.spec.outliers, len(candidates))):
            plan.outliers.add(code)
        self._resubmissions(plans, latest)
        return plans

    def _resubmissions(
        self, plans: Mapping[tuple[str, int], _Plan], latest: Sequence[_Plan]
    ) -> None:
        """Reports the backbone team returned once before they were submitted again, so the
        review page and the values' histories have changes to show.

        An approved report with an outlier was returned with a question and came back with a
        note saying the figure is right. Under review, a report first sent with part of one
        indicator's people missing was returned and resubmitted with them counted: the review
        queue opens with its changes. Drawn from a stream of their own, so the other reports
        stay as they are."""
        for plan in plans.values():
            if plan.status == "approved" and plan.outliers:
                names = " and ".join(self.indicators[c].name for c in sorted(plan.outliers))
                plan.resubmitted = _Resubmission(
                    comment=f"{names}: this quarter's figure is far from your earlier ones. "
                    "Please check it, then resubmit (or add a note if it is right).",
                    reason="Checked the figure against our records and added a note.",
                )
        rng = random.Random(f"{self.seed}:{self.spec.slug}:resubmitted")
        correction = self.spec.correction
        corrected = (correction.org, correction.code) if correction else None
        options = [
            (plan, code)
            for plan in sorted(latest, key=lambda p: p.member.org)
            if plan.status == "submitted"
            for code in plan.codes
            if self.indicators[code].measure_type in ("rate", "count")
            and (plan.member.org, code) != corrected  # another story than the correction's
        ]
        if options:
            plan, code = rng.choice(options)
            name = self.indicators[code].name
            plan.resubmitted = _Resubmission(
                comment=f"{name}: the figure is well below your earlier quarters. Were all "
                "your sites counted? Please check and resubmit.",
                reason="Added the two sites missing from the first count.",
                recounted=code,
            )

    def _eligible(self, code: str) -> bool:
        return self.indicators[code].outlier_eligible

    def _submissions(self, plans: Mapping[tuple[str, int], _Plan]) -> None:
        """Insert every submission in one statement; the ids come back in parameter order.

        Core, not the ORM: the ORM would reset ``version`` to 1, and these rows have been
        written several times (drafted, submitted, approved) before the demo begins.
        """
        ordered = sorted(plans.values(), key=lambda p: (p.member.org, p.step))
        for org in sorted({p.member.org for p in ordered}):
            timing = random.Random(f"{self.seed}:{self.spec.slug}:{org}:timing")
            for plan in (p for p in ordered if p.member.org == org):
                plan.row = self._submission_row(plan, timing)
        table = Submission.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = self.session.execute(stmt, [p.row for p in ordered]).scalars().all()
        for plan, submission_id in zip(ordered, ids, strict=True):
            plan.id = submission_id

    def _submission_row(self, plan: _Plan, rng: random.Random) -> dict[str, Any]:
        """Dates follow the period's calendar: reports are drafted once the quarter is over,
        submitted around the due date (late means after it) and approved days later; the
        quarter under review is fitted into the days before today (``DemoCalendar.fit``).
        They are the moments of the report's moves, and its columns are what those moves
        leave (models/demo/trail.py)."""
        period = self.periods[plan.step]
        last = plan.step == REVIEW_STEP
        late = plan.status != "draft" and rng.random() < plan.member.lateness
        begins = period.ends_on + timedelta(days=1)
        org = plan.member.org
        if plan.status == "draft":
            plan.moves = [Move(_at(begins + timedelta(days=rng.randint(3, 20)), rng), org, "save")]
        else:
            if late:
                day = period.due_on + timedelta(days=rng.randint(1, 14 if last else 24))
            else:
                day = period.due_on - timedelta(days=rng.randint(0, 27))
            submitted = _at(day, rng)
            created = max(
                submitted - timedelta(days=rng.randint(0, 6), hours=3),
                datetime.combine(begins, time(14), UTC),
            )
            plan.moves = [Move(created, org, "save"), Move(submitted, org, "submit")]
            if plan.resubmitted is not None:
                plan.moves += self._returned(plan, submitted)
            if plan.status == "approved":
                approved = plan.moves[-1].at + timedelta(
                    days=rng.randint(1, 5 if last else 12), hours=rng.randint(0, 5)
                )
                plan.moves.append(Move(approved, "backbone", "approve"))
            elif plan.status == "returned":
                returned = submitted + timedelta(days=2, hours=1)
                plan.moves.append(Move(returned, "backbone", "return", plan.comment))
        for move in plan.moves:
            move.at = self.calendar.fit(plan.step, move.at)
        return self._row(plan)

    def _returned(self, plan: _Plan, submitted: datetime) -> list[Move]:
        """The return of a report submitted at ``submitted``, the partner's save and its second
        submission, a few days in all (within the under-review quarter's natural calendar:
        ``REVIEW_SPAN``)."""
        resubmitted = plan.resubmitted
        assert resubmitted is not None
        org = plan.member.org
        rng = random.Random(f"{self.seed}:{self.spec.slug}:{org}:{plan.step}:returned")
        returned = submitted + timedelta(days=rng.randint(1, 2), hours=rng.randint(1, 3))
        saved = returned + timedelta(days=1, hours=rng.randint(0, 3))
        again = saved + timedelta(minutes=rng.randint(10, 50))
        return [
            Move(returned, "backbone", "return", resubmitted.comment),
            Move(saved, org, "save", resubmitted.reason),
            Move(again, org, "submit"),
        ]

    def _row(self, plan: _Plan) -> dict[str, Any]:
        """The submission's columns, as its moves leave them; lateness is the first
        submission's."""
        done = columns(plan.moves)
        assert done["status"] == plan.status, (plan.member.org, plan.step, done["status"])
        period = self.periods[plan.step]
        first = done["first_submitted_at"]
        return {
            "initiative_id": self.initiative.id,
            "member_id": self.members[plan.member.org].id,
            "period_id": period.id,
            "status": done["status"],
            "version": done["version"],
            "is_late": first is not None and first.date() > period.due_on,
            "comment": done["comment"],
            "created_at": done["created_at"],
            "updated_at": done["updated_at"],
            "submitted_at": done["submitted_at"],
            "first_submitted_at": first,
            "submitted_by_id": self._user_id(done["submitted_by"]),
            "approved_at": done["approved_at"],
            "approved_by_id": self._user_id(done["approved_by"]),
        }

    def _user_id(self, login: str | None) -> int | None:
        return None if login is None else self.users[login].id

    # numbers --------------------------------------------------------------------------------

    def _member_values(
        self,
        member: MemberSpec,
        plans: Mapping[tuple[str, int], _Plan],
        totals: dict[str, dict[int, list[_Total]]],
    ) -> list[dict[str, Any]]:
        if not member.reports:
            return []
        joint = self._joint(member, random.Random(f"{self.seed}:{self.spec.slug}:{member.org}"))
        rows: list[dict[str, Any]] = []
        for code, size in member.reports.items():
            ind = self.indicators[code]
            rng = random.Random(f"{self.seed}:{self.spec.slug}:{member.org}:{code}")
            cells = self._collapse(joint, ind)
            offset = rng.gauss(0.0, ind.spread)
            pace = rng.uniform(0.35, 1.15)
            for step in range(HISTORY_QUARTERS):
                plan = plans.get((member.org, step))
                draw = self._draw(ind, size, cells, offset, pace, step, rng, plan)
                if plan is None or code not in plan.codes:
                    continue
                if self._is_corrected(plan, code):  # first sent short, corrected later
                    assert self.spec.correction is not None
                    short = self._undercounted(ind, draw, self.spec.correction.undercount)
                    self._emit(ind, plan, short, self.first_report)
                    totals[code][step].append(self._emit(ind, plan, draw, self.correction_rows))
                    continue
                resubmitted = plan.resubmitted
                if resubmitted is not None and code == resubmitted.recounted:
                    # First sent short, returned, resubmitted with everyone counted.
                    first: list[dict[str, Any]] = []
                    self._emit(ind, plan, self._undercounted(ind, draw, RECOUNT_SHARE), first)
                    start = len(rows)
                    totals[code][step].append(self._emit(ind, plan, draw, rows))
                    assert plan.resave is not None
                    self._resaved(plan.resave, first, rows[start:])
                    continue
                totals[code][step].append(self._emit(ind, plan, draw, rows))
        return rows

    def _resaved(
        self, resave: Move, first: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]
    ) -> None:
        """The values ``rows`` as the partner's later save ``resave`` left them, where they
        differ from the ``first`` version: what the save changed (its audit events) and its
        time as theirs."""
        was = {(r["indicator_id"], r["disaggregation"]): fields_of(r) for r in first}
        assert set(was) == {(r["indicator_id"], r["disaggregation"]) for r in rows}
        for row in rows:
            cell = (row["indicator_id"], row["disaggregation"])
            if fields_of(row) != was[cell]:
                resave.before[cell] = was[cell]
                row["updated_at"] = resave.at

    def _is_corrected(self, plan: _Plan, code: str) -> bool:
        correction = self.spec.correction
        return (
            correction is not None
            and (plan.member.org, plan.step) == self.corrected
            and code == correction.code
        )

    def _undercounted(
        self,
        ind: IndicatorSpec,
        cells: Sequence[tuple[tuple[tuple[int, int], ...], float, float]],
        share: float,
    ) -> list[tuple[tuple[tuple[int, int], ...], float, float]]:
        """A report as first sent, put right later: ``share`` of each cell's people with the
        outcome (a rate's numerator, a count) was missing, so every breakdown still adds up."""
        assert ind.measure_type in ("rate", "count")
        if ind.measure_type == "rate":
            return [(key, n, x - round(x * share)) for key, n, x in cells]
        return [(key, n - round(n * share), x) for key, n, x in cells]

    def _joint(
        self, member: MemberSpec, rng: random.Random
    ) -> list[tuple[tuple[int, ...], float, float]]:
        """The member's population over the cross-tab of every dimension: (cell, share, advantage).

        Each partner gets its own mix (one serves mostly low-income families, another a suburb),
        which is what makes partners' levels and gaps differ in a believable way.
        """
        dims = self.spec.dims
        shares: dict[str, list[float]] = {}
        first: dict[str, float] = {}
        for d in dims:
            if d.given is None:
                raw = [rng.gammavariate(d.concentration * c.share, 1.0) for c in d.cats]
                shares[d.code] = [r / sum(raw) for r in raw]
            else:
                first[d.code] = member.shift + rng.gauss(0.0, 0.03)
        position = {d.code: n for n, d in enumerate(dims)}
        cells = []
        for combo in product(*(range(len(d.cats)) for d in dims)):
            weight, advantage = 1.0, 0.0
            for n, d in enumerate(dims):
                k = combo[n]
                if d.given is None:
                    share = shares[d.code][k]
                else:
                    parent = dims[position[d.given]].cats[combo[position[d.given]]].code
                    low = _clamp(d.given_first_share[parent] + first[d.code], 0.03, 0.97)
                    share = low if k == 0 else (1.0 - low) / (len(d.cats) - 1)
                weight *= share
                advantage += d.cats[k].adv
            cells.append((combo, weight, advantage))
        return cells

    def _collapse(
        self, joint: Sequence[tuple[tuple[int, ...], float, float]], ind: IndicatorSpec
    ) -> list[tuple[tuple[tuple[int, int], ...], float, float]]:
        """Cells over the indicator's own dimensions: ((dim, category) pairs, share, advantage)."""
        positions = [n for n, d in enumerate(self.spec.dims) if d.code in ind.dims]
        acc: dict[tuple[tuple[int, int], ...], list[float]] = {}
        for combo, weight, advantage in joint:
            key = tuple((n, combo[n]) for n in positions)
            slot = acc.setdefault(key, [0.0, 0.0])
            slot[0] += weight
            slot[1] += weight * advantage
        return [(key, w, a / w if w else 0.0) for key, (w, a) in acc.items()]

    def _turn(self, ind: IndicatorSpec, step: int) -> float:
        """The bend of a curve a strategy turns: ``turn`` lost a quarter until the first
        strategy aimed at the indicator starts, regained a quarter (on top of the trend) after."""
        starts = [s.starts for s in self.spec.strategies if ind.code in s.indicators]
        if not ind.turn or not starts:
            return 0.0
        first = min(starts)
        return ind.turn * (max(0, step - first) - min(step, first))

    def _draw(
        self,
        ind: IndicatorSpec,
        size: float,
        cells: Sequence[tuple[tuple[tuple[int, int], ...], float, float]],
        offset: float,
        pace: float,
        step: int,
        rng: random.Random,
        plan: _Plan | None,
    ) -> list[tuple[tuple[tuple[int, int], ...], float, float]]:
        """One quarter's cells: (cell, size, numerator or mean); categories then sum exactly."""
        sign = 1.0 if ind.direction == "higher" else -1.0
        progress = step / TARGET_STEP
        outlier = plan is not None and ind.code in plan.outliers
        period = self.periods[step]
        quarter = (period.starts_on.month - 1) // 3
        weights = [w * max(0.0, 1.0 + rng.gauss(0.0, 0.04)) for _, w, _ in cells]
        if ind.measure_type == "count":
            scale = size * (1.0 + sign * ind.change * pace * progress)
            scale *= ind.season[quarter] if ind.season else 1.0
            scale *= self._summer(period.starts_on.year) if ind.weather else 1.0
            scale *= max(0.0, 1.0 + rng.gauss(0.0, ind.noise))
            if outlier:
                scale *= rng.uniform(3.5, 5.0)
            counts = _allocate(round(scale), weights)
            return [(key, float(n), 0.0) for (key, _, _), n in zip(cells, counts, strict=True)]
        n_total = max(1, round(size * (1.0 + rng.gauss(0.0, ind.size_noise))))
        sizes = _allocate(n_total, weights)
        level = ind.start + offset + sign * ind.change * pace * progress + rng.gauss(0, ind.noise)
        level += sign * self._turn(ind, step)
        if outlier:
            away = 1.0 if level < (ind.valid_max or 100.0) / 2 else -1.0
            jump = rng.uniform(20, 28) if ind.measure_type == "rate" else 4.5 * ind.spread
            level += away * jump
        gap = ind.gap * (1.0 - 0.25 * progress)  # gaps narrow a little as the work takes hold
        out = []
        for (key, _, advantage), n in zip(cells, sizes, strict=True):
            centre = level + sign * gap * advantage
            if ind.measure_type == "rate":
                p = _clamp(centre, 1.0, 99.0) / 100.0
                hits = 0 if n == 0 else round(n * p + rng.gauss(0.0, math.sqrt(n * p * (1 - p))))
                out.append((key, float(n), float(_clamp(hits, 0, n))))
            else:
                mean = centre + rng.gauss(0.0, ind.cell_sd / math.sqrt(max(n, 1)))
                out.append((key, float(n), round(mean, ind.decimals)))
        return out

    def _summer(self, year: int) -> float:
        """How hot the year's summer was (heat-driven counts follow it): as recorded, else drawn
        from the seed, the same for every initiative and day built."""
        if year in HEAT_YEARS:
            return HEAT_YEARS[year]
        return round(random.Random(f"{self.seed}:summer:{year}").uniform(0.92, 1.15), 2)

    def _emit(
        self,
        ind: IndicatorSpec,
        plan: _Plan,
        cells: Sequence[tuple[tuple[tuple[int, int], ...], float, float]],
        rows: list[dict[str, Any]],
    ) -> _Total:
        """Append the total and every category's row; return the total (for the baseline)."""
        submission = plan.row
        groups: dict[tuple[int, int] | None, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for key, n, x in cells:
            at = dict(key)
            pairs = [
                (cross, at[row] * width + at[column])
                for row, column, cross, width in map(self.cross_cells.__getitem__, ind.cross_tabs)
            ]
            for target in (None, *key, *pairs):
                acc = groups[target]
                acc[0] += n
                acc[1] += x if ind.measure_type == "rate" else n * x
        indicator = self.indicator_rows[ind.code]
        stamp = plan.moves[0].at  # the first save wrote every value
        author = self.users[plan.member.org].id
        total: _Total | None = None
        for target in sorted(groups, key=lambda t: (-1, -1) if t is None else t):
            n, x = groups[target]
            if ind.measure_type == "count":
                value, numerator, denominator = n, None, None
            elif n == 0:
                continue  # no one in this category: a rate or mean of nobody is not a number
            elif ind.measure_type == "rate":
                value, numerator, denominator = 100.0 * x / n, x, n
            else:
                value, numerator, denominator = x / n, None, n
            flags: list[str] = []
            note = None
            if target is None and ind.code in plan.outliers:
                flags = [OUTLIER_FLAG]
                if plan.status == "approved":
                    note = "Checked: the figure is right (a one-off change this quarter)."
            category_id, disaggregation = (
                (None, TOTAL) if target is None else self.category_keys[target]
            )
            resave = plan.resave
            if note is not None and resave is not None:  # added after the report's return
                resave.before[(indicator.id, disaggregation)] = {
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "note": None,
                }
            rows.append(
                {
                    "submission_id": plan.id,
                    "initiative_id": self.initiative.id,
                    "period_id": submission["period_id"],
                    "indicator_id": indicator.id,
                    "measure_type": ind.measure_type,
                    "category_id": category_id,
                    "disaggregation": disaggregation,
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "note": note,
                    "flags": flags,
                    "updated_at": stamp if note is None or resave is None else resave.at,
                    "updated_by_id": author,
                }
            )
            if target is None:
                total = _Total(value, numerator, denominator)
        assert total is not None
        return total

    def _targets(self, by_step: Mapping[str, Mapping[int, list[_Total]]]) -> None:
        """Baseline from the first quarter with figures; end and interim targets from it.

        An indicator whose only partner joined later gets its baseline when the partner began.
        """
        for ind in self.spec.indicators:
            if not by_step.get(ind.code):
                continue
            first = min(by_step[ind.code])
            totals = by_step[ind.code][first]
            if ind.measure_type == "count":
                base = sum(t.value for t in totals)
                sign = 1.0 if ind.direction == "higher" else -1.0
                goal: float = round(base * (1.0 + sign * ind.change))
            elif ind.measure_type == "rate":
                base = (
                    100.0
                    * sum(t.numerator or 0 for t in totals)
                    / sum(t.denominator or 0 for t in totals)
                )
                goal = base + (ind.change if ind.direction == "higher" else -ind.change)
            else:
                weight = sum(t.denominator or 0 for t in totals)
                base = sum(t.value * (t.denominator or 0) for t in totals) / weight
                goal = base + (ind.change if ind.direction == "higher" else -ind.change)
            row = self.indicator_rows[ind.code]
            row.baseline_value = round(base, ind.decimals)
            row.baseline_period_id = self.periods[first].id
            row.target_value = round(goal, ind.decimals)
            self.lines[ind.code] = (first, base, goal)
        self._computed_targets()
        self.session.flush()

    def _interim_targets(self) -> None:
        """Interim targets on the straight line from each baseline to its goal, where the
        public is told the baseline: two points of a line and its end draw it back to the
        baseline, and a baseline whose quarter's figure the public does not see is that hidden
        figure (README, Disclosure). There the backbone team keeps to the end target."""
        rows = [row for row in self.indicator_rows.values() if row.baseline_value is not None]
        told, _ = told_baselines(
            session=self.session,
            initiative=self.initiative,
            audience=PUBLIC,
            indicators=rows,
            gap_targets=False,
        )
        for row in rows:
            if row.id not in told or row.code not in self.lines:
                continue
            first, base, goal = self.lines[row.code]
            for step in (s for s in INTERIM_STEPS if s > first):
                share = (step - first) / (TARGET_STEP - first)
                row.targets.append(
                    IndicatorTarget(
                        period_id=self.periods[step].id,
                        value=round(base + (goal - base) * share, row.decimals),
                        note="Interim target on the straight line from baseline to goal.",
                    )
                )
        self._computed_interim_targets(told)
        self.session.flush()

    def _computed_targets(self) -> None:
        """A computed indicator's baseline and end target: its expression over its inputs'
        (which all start from the first quarter with figures), unrounded, so that the baseline
        is the computed figure of its quarter as the indicator writes it."""
        for ind in self.spec.indicators:
            if ind.expression is None:
                continue
            expression = parse(ind.expression)
            if any(code not in self.lines for code in expression.codes):
                continue
            row = self.indicator_rows[ind.code]
            first = {self.lines[code][0] for code in expression.codes}
            row.baseline_period_id = self.periods[min(first)].id
            for end, at in (("baseline_value", 1), ("target_value", 2)):
                value = evaluate(
                    expression, {code: self.lines[code][at] for code in expression.codes}
                ).value
                setattr(row, end, None if value is None else round(value, ind.decimals))

    def _computed_interim_targets(self, told: frozenset[int]) -> None:
        """A computed indicator's interim targets: its expression over its inputs' (where the
        public is told its baseline, as for the others: :meth:`_interim_targets`)."""
        for ind in self.spec.indicators:
            row = self.indicator_rows[ind.code]
            if ind.expression is None or row.id not in told:
                continue
            expression = parse(ind.expression)
            inputs = {code: self.indicator_rows[code] for code in expression.codes}
            by_period: dict[int, dict[str, float]] = {}
            for code, i in inputs.items():
                for t in i.targets:
                    by_period.setdefault(t.period_id, {})[code] = t.value
            for period_id, values in sorted(by_period.items()):
                if values.keys() != inputs.keys():
                    continue
                value = evaluate(expression, values).value
                if value is not None:
                    row.targets.append(
                        IndicatorTarget(
                            period_id=period_id,
                            value=round(value, ind.decimals),
                            note="Interim target computed from its inputs' targets.",
                        )
                    )


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number by weights (largest remainder), so the parts sum to it exactly."""
    total = max(0, total)
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    exact = [total * w / weight_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
