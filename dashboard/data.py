"""The dashboard's one door to the data: domain functions, called with the request's actor.

Callbacks and layouts call these functions; none of them builds a query of its own. Every
function asks ``current_actor()`` who is logged in (the session cookie of the request Dash is
serving) and hands that actor to ``models/``, where the permission rules live, so a forged
callback request gets exactly what its cookie's user may see: for an anonymous one, nothing.
Domain errors (NotFound, PermissionDenied, Conflict, InvalidInput, …) propagate to the caller,
which shows them as an alert.

This is the only dashboard module that imports ``models``: the types, errors and constants the
pages need are re-exported here, and nothing in ``dashboard/`` builds a query.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import dash

from dashboard.session import SESSION_COOKIE
from models.access.api_keys import (
    create_scoped_api_key,
    describe_api_keys,
    key_scopes,
)
from models.access.api_keys import revoke_api_key as revoke_api_key_as
from models.access.invitations import (
    InvitationInfo,
    accept_invitation,
    invite_user,
    read_invitation,
    renew_invitation,
)
from models.access.login import token_actor
from models.access.permissions import get_initiative
from models.access.users import (
    GrantChoices,
    describe_users,
    get_user,
    grant_choices,
    grant_role,
    reset_password,
    revoke_grant,
    set_active,
    users_page,
)
from models.analytics.disclosure import PARTNERS_ARE_VIEWERS
from models.analytics.suppression import explain, legend, partners_needed
from models.analytics.views import (
    STEADY,
    Completeness,
    Equity,
    Scorecard,
    Series,
    equity,
    scorecard,
    series,
)
from models.audit.trail import list_events
from models.core import i18n
from models.core.actors import ANONYMOUS, Actor
from models.core.dates import day, moment, today
from models.core.db import session_scope
from models.core.errors import (
    AuthenticationFailed,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from models.core.formulas import neutralise
from models.core.paging import MAX_LIMIT
from models.core.settings import get_settings
from models.initiatives import choices as choice_rules
from models.initiatives import dimensions as dimension_rules
from models.initiatives import gap_targets as gap_target_rules
from models.initiatives import indicators as indicator_rules
from models.initiatives import members as member_rules
from models.initiatives import outcomes as outcome_rules
from models.initiatives import periods as period_rules
from models.initiatives import series_breaks as series_break_rules
from models.initiatives import translations as translation_rules
from models.initiatives.changes import object_changes
from models.initiatives.dimensions import list_dimensions
from models.initiatives.directory import (
    InitiativeSummary,
    initiative_directory,
    visible_initiatives,
)
from models.initiatives.indicators import indicator_names, list_indicators
from models.initiatives.members import get_member, get_obligations, list_members
from models.initiatives.organisations import SECTORS as ORGANISATION_SECTORS
from models.initiatives.organisations import list_organisations, suggest_slug
from models.initiatives.periods import get_period, list_periods
from models.initiatives.translations import Localizer, category_key, localizer
from models.notifications import bounces as bounce_rules
from models.notifications import history as notice_rules
from models.notifications import mailbox as mailbox_rules
from models.notifications import reminders as reminder_rules
from models.notifications.bounces import BounceView
from models.notifications.history import Notice, PeriodNotices
from models.notifications.mailbox import MailView, OutboxView
from models.outbox import preferences as preference_rules
from models.outbox.preferences import NEVER_DAILY, Preference
from models.publishing.publish import (
    Preview,
    Vintage,
    VintageDetail,
    preview,
    public_summary,
    publication_history,
    publish,
)
from models.reporting import deadlines as deadline_rules
from models.reporting import submissions as submission_rules
from models.reporting.deadlines import ExtensionView, NextDeadline, ReportDeadline
from models.reporting.progress import ReportingProgress, reporting_progress
from models.reporting.queue import review_queue as queued_reports
from models.reporting.submissions import (
    HistoryEntry,
    Refusals,
    SaveResult,
    SubmissionView,
    get_submission,
    refusals,
    save_values,
    transition,
    value_history,
)
from models.reporting.validation import ValueInput
from models.reporting.versions import CellChange, VersionChanges, submission_changes
from models.spreadsheets.imports import ImportReport, import_file
from models.stories.render import render_markdown, single_line
from models.stories.stories import MAX_LENGTH as STORY_MAX_LENGTH
from models.stories.stories import Story, list_stories, write_story
from models.strategies import strategies as strategy_rules
from models.strategies.strategies import ActionView, StrategyMark, StrategyView
from models.strategies.turn_the_curve import TurnTheCurve
from models.strategies.turn_the_curve import turn_the_curve as turn_the_curve_view
from models.strategies.turn_the_curve_report import render_report
from models.tables.webhooks import WEBHOOK_EVENTS
from models.webhooks import endpoints as webhook_rules

__all__ = [
    "ALL_PEOPLE",
    "NEVER_DAILY",
    "SESSION_COOKIE",
    "STEADY",
    "STORY_MAX_LENGTH",
    "BounceView",
    "CellChange",
    "Completeness",
    "DomainError",
    "Equity",
    "GrantChoices",
    "HistoryEntry",
    "ImportReport",
    "InitiativeSummary",
    "InvalidInput",
    "InvitationInfo",
    "InvitationLink",
    "MailView",
    "NextDeadline",
    "NotFound",
    "Notice",
    "OutboxView",
    "People",
    "PeriodInfo",
    "PeriodNotices",
    "PermissionDenied",
    "PortalSheet",
    "Preference",
    "Preview",
    "QueueItem",
    "Refusals",
    "ReportingProgress",
    "ReviewDetail",
    "SaveResult",
    "Scorecard",
    "Series",
    "Story",
    "StoryPanel",
    "SubmissionView",
    "ValueInput",
    "ValueTrail",
    "VersionChanges",
    "Viewer",
    "Vintage",
    "VintageDetail",
    "Workspace",
    "accept_person_invitation",
    "acting_as",
    "add_person_grant",
    "analytics_workspaces",
    "api_key_scopes",
    "api_keys",
    "configure",
    "coverage_min_share",
    "create_api_key",
    "current_actor",
    "day",
    "default_period",
    "directory",
    "explain",
    "import_upload",
    "indicator_choices",
    "indicator_equity",
    "indicator_series",
    "invitation",
    "invite_person",
    "min_contributors",
    "moment",
    "neutralise",
    "obligation_codes",
    "overview",
    "overview_scorecard",
    "own_indicator_codes",
    "people",
    "people_choices",
    "people_workspaces",
    "periods",
    "person",
    "portal_sheet",
    "public",
    "publication_preview",
    "publications",
    "publish_period",
    "renew_person_invitation",
    "reporting",
    "reset_person_password",
    "review_decision",
    "review_detail",
    "review_queue",
    "review_workspaces",
    "revoke_api_key",
    "revoke_person_grant",
    "save_sheet",
    "set_person_active",
    "submit_sheet",
    "value_trail",
    "whoami",
    "workspaces",
]

_session_factory: sessionmaker[Session] | None = None
_read_session_factory: sessionmaker[Session] | None = None
_override: ContextVar[Actor | None] = ContextVar("cm_dashboard_actor", default=None)

if TYPE_CHECKING:  # types only: the dashboard builds no queries
    from sqlalchemy.orm import Session, sessionmaker

    from models.tables.access import User


def configure(
    session_factory: sessionmaker[Session],
    read_session_factory: sessionmaker[Session] | None = None,
) -> None:
    """Where the doors read and write: ``session_factory`` (the primary), and for the figures
    that may lag behind the last write by a replica's delay, ``read_session_factory`` (the
    same sessions when None)."""
    global _session_factory, _read_session_factory
    _session_factory = session_factory
    _read_session_factory = read_session_factory


def _session() -> AbstractContextManager[Session]:
    """One unit of work on the configured sessions (models.core.db.session_scope)."""
    if _session_factory is None:
        raise RuntimeError("dashboard.data.configure() was not called")
    return session_scope(_session_factory)


def _read_session() -> AbstractContextManager[Session]:
    """A unit of work for figures that may lag by the read replica's delay (architecture:
    Scale): the overview, indicator, reporting-progress and public pages. Anything a user reads
    right after their own write (their draft, the review queue and detail, setup, people, the
    publishing preview) and who is logged in stay on :func:`_session`, the primary."""
    if _read_session_factory is None:
        return _session()
    return session_scope(_read_session_factory)


# --- who is asking ----------------------------------------------------------------------------


def _request_adapter():
    """Dash's view of the request it is serving (cookies, per-request state), or None."""
    try:
        return dash.get_app().backend.request_adapter()
    except Exception:  # noqa: BLE001 - no app, no backend, or no request in this context
        return None


def _request_cookies() -> Mapping[str, str]:
    adapter = _request_adapter()
    try:
        return adapter.cookies if adapter is not None else {}
    except Exception:  # noqa: BLE001
        return {}


def current_actor() -> Actor:
    """The logged-in user of the request being served; ANONYMOUS on any doubt.

    Only an access token in the session cookie counts (API keys are for machines and are not
    accepted from a cookie). The actor is computed once per request and kept on its state.
    """
    override = _override.get()
    if override is not None:
        return override
    adapter = _request_adapter()
    state = None
    if adapter is not None:
        try:
            state = adapter.context
            cached = getattr(state, "cm_actor", None)
            if isinstance(cached, Actor):
                return cached
        except Exception:  # noqa: BLE001
            state = None
    actor = _actor_from_cookie(_request_cookies().get(SESSION_COOKIE))
    i18n.prefer(actor.locale)  # the user's own language wins over the browser's
    if state is not None:
        with suppress(Exception):  # a read-only state only costs a repeated lookup
            state.cm_actor = actor
    return actor


def _actor_from_cookie(token: str | None) -> Actor:
    if not token or _session_factory is None:
        return ANONYMOUS
    try:
        with _session() as session:
            return token_actor(session=session, token=token)
    except AuthenticationFailed:
        return ANONYMOUS
    except Exception:  # noqa: BLE001 - a broken cookie or database must not crash a page
        return ANONYMOUS


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Run seam functions as ``actor`` (tests and scripts that call layouts directly)."""
    token = _override.set(actor)
    try:
        yield
    finally:
        _override.reset(token)


@dataclass(frozen=True)
class Viewer:
    """What the navigation needs to know about the logged-in user."""

    logged_in: bool
    email: str | None = None
    roles: tuple[str, ...] = ()
    may_report: bool = False
    may_review: bool = False
    may_manage_people: bool = False
    is_admin: bool = False


def whoami() -> Viewer:
    actor = current_actor()
    if actor.is_anonymous or actor.user_id is None:
        return Viewer(logged_in=False)
    roles = tuple(
        role
        for role, has in (
            ("admin", actor.is_admin),
            ("backbone", bool(actor.backbone_of)),
            ("funder", bool(actor.funder_of)),
            ("reporter", bool(actor.reporter_for)),
        )
        if has
    )
    return Viewer(
        logged_in=True,
        email=actor.shown,
        roles=roles,
        may_report=bool(actor.is_admin or actor.backbone_of or actor.reporter_for),
        may_review=bool(actor.is_admin or actor.backbone_of),
        may_manage_people=bool(actor.is_admin or actor.backbone_of),
        is_admin=actor.is_admin,
    )


# --- directory --------------------------------------------------------------------------------


def directory() -> list[InitiativeSummary]:
    with _session() as session:
        return initiative_directory(session=session, actor=current_actor())


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodInfo:
    key: str
    kind: str
    starts_on: date
    opens_on: date
    due_on: date
    closes_on: date
    locked: bool

    def state(self, today: date) -> str:
        if self.locked:
            return "locked"
        if today < self.opens_on:
            return "not open yet"
        if today > self.closes_on:
            return "closed"
        return "open"


def periods(initiative: str) -> list[PeriodInfo]:
    """The initiative's periods, earliest first (404 when the actor may not see it)."""
    with _session() as session:
        page = list_periods(
            session=session, actor=current_actor(), initiative=initiative, limit=MAX_LIMIT
        )
        return [
            PeriodInfo(p.key, p.kind, p.starts_on, p.opens_on, p.due_on, p.closes_on, p.locked)
            for p in page.items
        ]


def default_period(options: list[PeriodInfo], today: date) -> str | None:
    """The latest period open for reporting today, else the latest that has opened."""
    by_start = sorted(options, key=lambda p: (p.starts_on, p.key))
    open_now = [p for p in by_start if p.state(today) == "open"]
    if open_now:
        return open_now[-1].key
    opened = [p for p in by_start if p.opens_on <= today]
    if opened:
        return opened[-1].key
    return by_start[0].key if by_start else None


# --- partner portal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """An initiative the actor may enter data in, and the organisations it may report for."""

    slug: str
    name: str
    backbone: bool
    organisations: tuple[tuple[str, str], ...]  # (slug, name)


def _initiatives(session: Session, actor: Actor) -> list[tuple[str, str, int]]:
    """(slug, name, id) of the initiatives the actor may see, by name."""
    return visible_initiatives(session=session, actor=actor)


def workspaces() -> list[Workspace]:
    """Where the actor may report: its organisations' initiatives, or every member as backbone."""
    actor = current_actor()
    if actor.is_anonymous:
        return []
    out = []
    with _session() as session:
        for slug, name, initiative_id in _initiatives(session, actor):
            backbone = actor.is_backbone(initiative_id)
            if not (backbone or actor.reporter_orgs(initiative_id)):
                continue
            members = list_members(
                session=session, actor=actor, initiative=slug, limit=MAX_LIMIT
            ).items
            organisations = tuple(
                (m.organisation.slug, m.organisation.name)
                for m in members
                if backbone or actor.reports_for(initiative_id, m.organisation_id)
            )
            if organisations:
                out.append(Workspace(slug, name, backbone, organisations))
    return out


@dataclass
class PortalSheet:
    """Everything the data-entry grid shows for one member and period."""

    submission: SubmissionView
    period: PeriodInfo
    indicators: list[dict]  # the member's obligations, described, in indicator order
    dimensions: dict[str, tuple[str, list[tuple[str, str]]]]  # code → (name, [(code, name)])
    backbone: bool = False
    # Why saving or submitting would be refused now (the domain's own rule and words).
    refused: Refusals = field(default_factory=lambda: Refusals(None, None, None))
    # Why the period's window refuses the user's writes today (locked, or closed without a
    # running deadline extension), as the domain decides it; None when it lets them write.
    window_refusal: str | None = None
    extended_until: date | None = None  # the member's deadline extension for the period


def _sheet(session: Session, actor: Actor, initiative: str, org: str, period: str) -> PortalSheet:
    # The submission first: it answers 404 unless the actor reports for ``org`` or is backbone.
    submission = get_submission(
        session=session, actor=actor, initiative_slug=initiative, org_slug=org, period_key=period
    )
    codes = get_obligations(session=session, actor=actor, initiative=initiative, organisation=org)
    loc = _local(session, actor, initiative)
    described = list_indicators(
        session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
    ).items
    by_code = {i["code"]: _localized_indicator(i, loc) for i in described}
    dimensions = _dimension_names(
        loc,
        list_dimensions(session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT).items,
    )
    p = get_period(session=session, actor=actor, initiative=initiative, key=period)
    period_info = PeriodInfo(
        p.key, p.kind, p.starts_on, p.opens_on, p.due_on, p.closes_on, p.locked
    )
    initiative_id = get_initiative(session=session, actor=actor, slug=initiative).id
    deadline = deadline_rules.report_deadline(
        session=session, actor=actor, initiative_slug=initiative, org_slug=org, period_key=period
    )
    return PortalSheet(
        submission=submission,
        period=period_info,
        indicators=[by_code[c] for c in codes if c in by_code],
        dimensions=dimensions,
        backbone=actor.is_backbone(initiative_id),
        refused=refusals(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
        ),
        window_refusal=deadline.refusal,
        extended_until=deadline.extended_until,
    )


def portal_sheet(initiative: str, org: str, period: str) -> PortalSheet:
    with _session() as session:
        return _sheet(session, current_actor(), initiative, org, period)


def save_sheet(
    initiative: str, org: str, period: str, inputs: list[ValueInput], version: int | None
) -> tuple[SaveResult, PortalSheet]:
    """Save draft values (all or nothing); the sheet as it stands afterwards."""
    actor = current_actor()
    with _session() as session:
        result = save_values(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
            inputs=inputs,
            expected_version=version,
        )
        return result, _sheet(session, actor, initiative, org, period)


def submit_sheet(
    initiative: str, org: str, period: str, inputs: list[ValueInput] | None, version: int | None
) -> PortalSheet:
    """Save pending edits (if any) and submit, in one transaction: both happen or neither."""
    actor = current_actor()
    with _session() as session:
        if inputs:
            version = save_values(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                org_slug=org,
                period_key=period,
                inputs=inputs,
                expected_version=version,
            ).submission.version
        transition(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
            action="submit",
            expected_version=version,
        )
        return _sheet(session, actor, initiative, org, period)


# --- review queue -----------------------------------------------------------------------------


def review_workspaces() -> list[tuple[str, str]]:
    """(slug, name) of the initiatives whose submissions the actor reviews (backbone, admin)."""
    actor = current_actor()
    if actor.is_anonymous:
        return []
    with _session() as session:
        return [
            (slug, name)
            for slug, name, initiative_id in _initiatives(session, actor)
            if actor.is_backbone(initiative_id)
        ]


@dataclass(frozen=True)
class QueueItem:
    organisation: str
    organisation_name: str
    period: str
    version: int
    is_late: bool
    submitted_at: str | None


def _require_backbone(session: Session, actor: Actor, initiative: str) -> None:
    get_initiative(session=session, actor=actor, slug=initiative, manage=True)


def _organisation_name(session: Session, actor: Actor, initiative: str, org: str) -> str:
    """One member's name (its slug when it is no member): one row, not the whole list."""
    try:
        return get_member(
            session=session, actor=actor, initiative=initiative, organisation=org
        ).organisation.name
    except NotFound:
        return org


def review_queue(initiative: str, period: str | None) -> list[QueueItem]:
    """Submitted reports awaiting review, the longest waiting first (``models.reporting.queue``).
    Every period unless ``period`` narrows it. Backbone only (others: PermissionDenied/NotFound)."""
    actor = current_actor()
    with _session() as session:
        waiting = queued_reports(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            period_key=period or None,
        )
        return [
            QueueItem(
                organisation=w.organisation,
                organisation_name=w.organisation_name,
                period=w.period,
                version=w.version,
                is_late=w.is_late,
                submitted_at=moment(w.submitted_at) if w.submitted_at else None,
            )
            for w in waiting
        ]


@dataclass
class ReviewDetail:
    submission: SubmissionView
    organisation_name: str
    indicator_names: dict[str, str] = field(default_factory=dict)  # in the initiative's order
    send_back: str | None = None  # why the report cannot be returned to the partner now
    labels: dict[str, str] = field(default_factory=dict)  # "race=black" → "Race: Black"
    changes: VersionChanges = field(default_factory=VersionChanges)
    # The partner's reporting window today: when it is closed to them (no running extension),
    # returning the report needs an extension (return_with_extension) in the same step.
    deadline: ReportDeadline | None = None

    @property
    def needs_extension(self) -> bool:
        """A submitted report of an unlocked period its partner may no longer write: a plain
        return is refused, a return with an extension is offered."""
        d = self.deadline
        return (
            self.submission.status == "submitted"
            and d is not None
            and not d.locked
            and not d.partner_may_write
        )


def _category_labels(session: Session, actor: Actor, initiative: str) -> dict[str, str]:
    named = _dimension_names(
        _local(session, actor, initiative),
        list_dimensions(session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT).items,
    )
    return {
        category_key(code, category): f"{name}: {category_name}"
        for code, (name, categories) in named.items()
        for category, category_name in categories
    }


def review_detail(initiative: str, org: str, period: str) -> ReviewDetail:
    """A report as the reviewer reads it: its values, the labels of its indicators and
    categories, and what changed since its previous submitted version (backbone only)."""
    actor = current_actor()
    with _session() as session:
        _require_backbone(session, actor, initiative)
        submission = get_submission(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
        )
        indicators = indicator_names(session=session, actor=actor, initiative=initiative)
        loc = _local(session, actor, initiative)
        return ReviewDetail(
            submission=submission,
            organisation_name=_organisation_name(session, actor, initiative, org),
            indicator_names={
                code: loc.name("indicator", code, name) if loc.texts else name
                for code, name in indicators.items()
            },
            send_back=refusals(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                org_slug=org,
                period_key=period,
            ).send_back,
            labels=_category_labels(session, actor, initiative),
            changes=submission_changes(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                org_slug=org,
                period_key=period,
            ),
            deadline=deadline_rules.report_deadline(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                org_slug=org,
                period_key=period,
            ),
        )


def review_decision(
    initiative: str,
    org: str,
    period: str,
    action: str,
    comment: str | None,
    version: int | None,
) -> SubmissionView:
    """Approve or return a submission (the domain refuses anyone but the backbone)."""
    if action not in ("approve", "return"):
        raise DomainError(f"unknown action {action!r}", "invalid")
    with _session() as session:
        return transition(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
            action=action,
            comment=comment,
            expected_version=version,
        )


# --- analytics: overview, indicator, reporting ------------------------------------------------
# Figures come from models.analytics.views, which suppresses them for anyone but the backbone team.


def analytics_workspaces() -> list[tuple[str, str]]:
    """(slug, name) of the initiatives whose figures the actor may see; none when anonymous."""
    actor = current_actor()
    if actor.is_anonymous:
        return []
    with _session() as session:
        return [(slug, name) for slug, name, _id in _initiatives(session, actor)]


# --- the names the backbone team wrote, in the reader's language --------------------------------
# models.initiatives.translations decides which text shows (the translation, else the English);
# these only apply it to the answers the domain gives.


def _local(session: Session, actor: Actor, initiative: str) -> Localizer:
    """The initiative's translations into the reader's language (README, "Languages")."""
    found = get_initiative(session=session, actor=actor, slug=initiative)
    return localizer(session=session, initiative_id=found.id)


def _localized_card(card: Scorecard, loc: Localizer) -> Scorecard:
    if not loc.texts:
        return card
    return replace(
        card,
        initiative_name=loc.name("initiative", card.initiative, card.initiative_name),
        rows=[
            replace(
                r,
                name=loc.name("indicator", r.code, r.name),
                unit=loc.text("indicator", r.code, "unit", r.unit),
                outcome_name=loc.name("outcome", r.outcome, r.outcome_name)
                if r.outcome_name
                else r.outcome_name,
                gap_targets=[
                    replace(g, dimension_name=loc.name("dimension", g.dimension, g.dimension_name))
                    for g in r.gap_targets
                ],
            )
            for r in card.rows
        ],
    )


def _localized_series(found: Series, loc: Localizer) -> Series:
    if not loc.texts:
        return found
    return replace(
        found,
        name=loc.name("indicator", found.indicator, found.name),
        unit=loc.text("indicator", found.indicator, "unit", found.unit),
        breakdown=[
            replace(p, label=loc.name("category", p.key, p.label)) if "=" in p.key else p
            for p in found.breakdown
        ],
    )


def _localized_indicator(described: dict, loc: Localizer) -> dict:
    """An indicator as ``list_indicators`` describes it, its name, definition and unit shown in
    the reader's language."""
    if not loc.texts:
        return described
    code = described["code"]
    return {
        **described,
        "name": loc.name("indicator", code, described["name"]),
        "definition": loc.text("indicator", code, "definition", described.get("definition") or "")
        or described.get("definition"),
        "unit": loc.text("indicator", code, "unit", described.get("unit") or "")
        or described.get("unit"),
    }


def _dimension_names(
    loc: Localizer, dimensions: Sequence[Any]
) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Dimension code → (name, [(category code, name)]) in the reader's language."""
    return {
        d.code: (
            loc.name("dimension", d.code, d.name),
            [
                (c.code, loc.name("category", category_key(d.code, c.code), c.name))
                for c in d.categories
            ],
        )
        for d in dimensions
    }


def overview(
    initiative: str, period: str | None = None, outcome: str | None = None
) -> tuple[Scorecard, list[tuple[str, str | None]], dict[str, str]]:
    """The scorecard, its outcomes [(code, name)] and the marker legend."""
    actor = current_actor()
    with _read_session() as session:
        everything = scorecard(
            session=session, actor=actor, initiative_slug=initiative, period_key=period or None
        )
        outcomes = list(
            dict.fromkeys((r.outcome, r.outcome_name) for r in everything.rows if r.outcome)
        )
        card = everything
        if outcome:
            card = scorecard(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                period_key=period or None,
                outcome=outcome,
            )
        loc = _local(session, actor, initiative)
        card = _localized_card(card, loc)
        outcomes = [
            (code, loc.name("outcome", code, name) if name else name) for code, name in outcomes
        ]
        rules = (card.threshold, get_settings().min_contributors, PARTNERS_ARE_VIEWERS)
        return card, outcomes, legend(*rules)


def overview_scorecard(
    initiative: str, period: str | None = None, outcome: str | None = None
) -> tuple[Scorecard, dict[str, str], list[StrategyView]]:
    """The scorecard (its ``outcome``'s rows only, when given) as :func:`overview` gives it,
    its marker legend and the strategies the viewer may read, in one unit of work: what the
    overview's body shows, without the outcomes' list its pickers take from :func:`overview`."""
    actor = current_actor()
    with _read_session() as session:
        card = scorecard(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            period_key=period or None,
            outcome=outcome or None,
        )
        card = _localized_card(card, _local(session, actor, initiative))
        rules = (card.threshold, get_settings().min_contributors, PARTNERS_ARE_VIEWERS)
        found = strategy_rules.list_strategies(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        return card, legend(*rules), found


def indicator_series(
    initiative: str,
    code: str,
    by: str | None = None,
    org: str | None = None,
    period: str | None = None,
) -> Series:
    """The indicator's series (``models.analytics.views.series``); ``period``: that period's
    points only (one quarter's partner comparison reads no other quarter's)."""
    actor = current_actor()
    with _read_session() as session:
        found = series(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            indicator_code=code,
            by=by,
            org=org,
            period_key=period,
        )
        return _localized_series(found, _local(session, actor, initiative))


def indicator_equity(initiative: str, code: str, dimension: str) -> Equity:
    with _read_session() as session:
        return equity(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            indicator_code=code,
            dimension=dimension,
        )


def obligation_codes(initiative: str, org: str) -> list[str]:
    """The indicator codes ``org`` is expected to report in ``initiative``."""
    actor = current_actor()
    with _session() as session:
        return get_obligations(
            session=session, actor=actor, initiative=initiative, organisation=org
        )


def own_indicator_codes(initiative: str) -> list[str]:
    """The indicators the actor's own organisations report in ``initiative`` (a reporter's
    obligations), in indicator order; empty for the backbone team and funders, who report
    nothing of their own."""
    actor = current_actor()
    with _session() as session:
        initiative_id = get_initiative(session=session, actor=actor, slug=initiative).id
        if actor.is_backbone(initiative_id) or not actor.reporter_orgs(initiative_id):
            return []
        members = list_members(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        codes: list[str] = []
        for m in members:
            if actor.reports_for(initiative_id, m.organisation_id):
                codes += get_obligations(
                    session=session,
                    actor=actor,
                    initiative=initiative,
                    organisation=m.organisation.slug,
                )
        own = set(codes)
        described = list_indicators(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        return [i["code"] for i in described if i["code"] in own]


def indicator_choices(initiative: str) -> list[dict]:
    """The initiative's indicators: code, name, unit, dimensions [(code, name)], kind and
    performance type, the population indicators a performance measure contributes to and the
    measures contributing to a population indicator (README, "Two kinds of measure"), in the
    reader's language (``models.initiatives.choices``)."""
    actor = current_actor()
    with _session() as session:
        loc = _local(session, actor, initiative)
        choices = choice_rules.indicator_choices(
            session=session, actor=actor, initiative=initiative
        )

        def name(c: choice_rules.IndicatorChoice) -> str:
            return loc.name("indicator", c.code, c.name) if loc.texts else c.name

        def unit(c: choice_rules.IndicatorChoice) -> str:
            if not loc.texts:
                return c.unit or ""
            return loc.text("indicator", c.code, "unit", c.unit or "") or c.unit or ""

        return [
            {
                "code": c.code,
                "name": name(c),
                "unit": unit(c),
                "dimensions": [
                    (d, loc.name("dimension", d, n) if n is not None else d)
                    for d, n in c.dimensions
                ],
                "kind": c.kind,
                "performance_type": c.performance_type,
                "contributes_to": list(c.contributes_to),
                "contributed_by": [m.code for m in choices if c.code in m.contributes_to],
            }
            for c in choices
        ]


def reporting(initiative: str, period: str | None) -> ReportingProgress:
    """Completeness of a period, its late / missing submissions and flagged values (backbone)."""
    with _read_session() as session:
        return reporting_progress(
            session=session, actor=current_actor(), initiative_slug=initiative, period_key=period
        )


# --- people: users, grants, invitations, API keys ----------------------------------------------
# Who may manage whom is decided in models/access (users.py, invitations.py, api_keys.py); these
# calls only pass the request's actor on.

ALL_PEOPLE = "_all"  # the People page's "every initiative" choice (never a slug: no "_")


def people_workspaces() -> list[tuple[str, str]]:
    """The People page's choices: everyone the actor manages, then each initiative whose people
    it manages; none for an actor who may hand out no grant."""
    actor = current_actor()
    if actor.is_anonymous:
        return []
    with _session() as session:
        try:
            choices = grant_choices(session=session, actor=actor)
        except PermissionDenied:
            return []
    if not choices.roles:
        return []
    everyone = "Everyone" if "admin" in choices.roles else "All your initiatives"
    return [(ALL_PEOPLE, everyone), *choices.initiatives]


def people_choices() -> GrantChoices:
    """The roles, initiatives and member organisations the actor may grant (for the forms)."""
    with _session() as session:
        return grant_choices(session=session, actor=current_actor())


@dataclass(frozen=True)
class People:
    users: list[dict]  # models.access.users.describe_users
    total: int


def people(initiative: str | None = None) -> People:
    """The users the actor manages (all, or those with a grant it manages in ``initiative``),
    the first MAX_LIMIT of them by e-mail."""
    scope = None if initiative in (None, "", ALL_PEOPLE) else initiative
    with _session() as session:
        page = users_page(
            session=session, actor=current_actor(), limit=MAX_LIMIT, offset=0, initiative=scope
        )
        return People(users=list(page.items), total=page.total)


def _described(session: Session, actor: Actor, user_id: int) -> dict:
    user = get_user(session=session, actor=actor, user_id=user_id)
    return describe_users(session=session, actor=actor, users=[user])[0]


@contextmanager
def _managed(user_id: int) -> Iterator[tuple[Session, Actor, User]]:
    """One transaction on a user the actor manages (404 for anyone else), for the people
    page's actions."""
    actor = current_actor()
    with _session() as session:
        yield session, actor, get_user(session=session, actor=actor, user_id=user_id)


def person(user_id: int) -> dict:
    """One user as the actor may see them (404 for anyone it does not manage)."""
    with _session() as session:
        return _described(session, current_actor(), user_id)


def add_person_grant(
    user_id: int, role: str, initiative: str | None, organisation: str | None
) -> dict:
    with _managed(user_id) as (session, actor, user):
        grant_role(
            session=session,
            actor=actor,
            user=user,
            role=role,
            initiative_slug=initiative or None,
            organisation_slug=organisation or None,
        )
        return _described(session, actor, user_id)


def revoke_person_grant(user_id: int, grant_id: int) -> dict:
    with _managed(user_id) as (session, actor, user):
        revoke_grant(session=session, actor=actor, user=user, grant_id=grant_id)
        return _described(session, actor, user_id)


def set_person_active(user_id: int, active: bool) -> dict:
    with _managed(user_id) as (session, actor, user):
        set_active(session=session, actor=actor, user=user, active=active)
        return _described(session, actor, user_id)


def reset_person_password(user_id: int, password: str) -> int:
    """Set someone's password; answers how many of their API keys were revoked with it."""
    with _managed(user_id) as (session, actor, user):
        return reset_password(session=session, actor=actor, user=user, password=password)


@dataclass(frozen=True)
class InvitationLink:
    """An invitation's link, to show once."""

    email: str
    link: str
    expires_at: datetime


def _site_url() -> str:
    """The site's address as the browser reached it (the invitation link points at it)."""
    adapter = _request_adapter()
    if adapter is not None:
        with suppress(Exception):  # no request: a script or a test calling directly
            return str(adapter.root)
    settings = get_settings()
    return f"http://{settings.host}:{settings.port}/"


def invite_person(
    email: str,
    role: str,
    initiative: str | None = None,
    organisation: str | None = None,
    name: str | None = None,
) -> InvitationLink:
    """Create the invited account with its grant; the link is logged by the domain and
    answered here to be shown once."""
    with _session() as session:
        made = invite_user(
            session=session,
            actor=current_actor(),
            email=email,
            role=role,
            initiative_slug=initiative or None,
            organisation_slug=organisation or None,
            name=name or None,
            base_url=_site_url(),
        )
        return InvitationLink(made.user.email, made.link, made.expires_at)


def renew_person_invitation(user_id: int) -> InvitationLink:
    with _managed(user_id) as (session, actor, user):
        made = renew_invitation(session=session, actor=actor, user=user, base_url=_site_url())
        return InvitationLink(made.user.email, made.link, made.expires_at)


def invitation(token: str) -> InvitationInfo:
    """Who a working invitation link is for (no login: the token is the proof)."""
    with _session() as session:
        return read_invitation(session=session, token=token)


def accept_person_invitation(token: str, password: str) -> str:
    """Set the invited person's password; answers the e-mail they now log in with."""
    with _session() as session:
        return accept_invitation(session=session, token=token, password=password).email


def api_keys() -> list[dict]:
    """The keys the actor manages or sees (models.access.api_keys.describe_api_keys)."""
    with _session() as session:
        return describe_api_keys(session=session, actor=current_actor())


def api_key_scopes() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(slug, name) of the initiatives and of the organisations the actor may make keys for."""
    with _session() as session:
        return key_scopes(session=session, actor=current_actor())


def create_api_key(
    name: str, initiative: str | None, organisation: str | None, expires_at: datetime | None
) -> tuple[str, str]:
    """Create a key; answers its public prefix and its secret, to show once."""
    with _session() as session:
        key, secret = create_scoped_api_key(
            session=session,
            actor=current_actor(),
            name=name,
            organisation=organisation or None,
            initiative=initiative or None,
            expires_at=expires_at,
        )
        return key.prefix, secret


def revoke_api_key(key_id: int) -> None:
    with _session() as session:
        revoke_api_key_as(session=session, actor=current_actor(), key_id=key_id)


# --- public summary (no login: published, suppressed figures only) ----------------------------


# --- the story behind the curve (backbone writes; others read what a publication carries) -----


@dataclass(frozen=True)
class StoryPanel:
    can_write: bool  # the backbone team edits; everyone else reads the published story
    story: Story | None  # the current version (backbone), or the published one (others)


def story_panel(initiative: str, code: str, period: str) -> StoryPanel:
    """The indicator's story of the period as the actor may see it (models.stories)."""
    actor = current_actor()
    with _session() as session:
        initiative_id = get_initiative(session=session, actor=actor, slug=initiative).id
        stories = list_stories(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            indicator_code=code,
            period_key=period,
        )
        return StoryPanel(actor.is_backbone(initiative_id), stories[0] if stories else None)


def save_story(initiative: str, code: str, period: str, text: str, version: int | None) -> Story:
    """Write the period's story through the same domain function as the API's PUT."""
    with _session() as session:
        return write_story(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            indicator_code=code,
            period_key=period,
            text=text,
            expected_version=version,
        )


def story_html(text: str | None) -> str:
    """A story's safe HTML on one line, for ``dcc.Markdown(…, dangerously_allow_html=True)``:
    the one renderer every page uses (models.stories.render), so a preview is what readers
    get; markup written in the story arrives escaped, never as HTML."""
    return single_line(render_markdown(text or ""))


def public(initiative: str) -> dict:
    """The published summary (models.publishing.publish.public_summary); NotFound if nothing is."""
    with _read_session() as session:
        return public_summary(session=session, initiative_slug=initiative)


# --- publishing (backbone: the preview shows figures nobody else may see yet) --------------------


def publication_preview(initiative: str, period: str) -> Preview:
    """What publishing the period now would freeze and what it needs confirmed (backbone)."""
    with _session() as session:
        return preview(
            session=session, actor=current_actor(), initiative_slug=initiative, period_key=period
        )


def publish_period(
    initiative: str, period: str, note: str | None, confirm: bool, previewed: str | None
) -> Vintage:
    """Publish through the same domain function as the API's POST …/publish, provided the
    figures are still those of the preview the user saw (``previewed``, its fingerprint)."""
    with _session() as session:
        return publish(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            period_key=period,
            note=note,
            confirm_incomplete=confirm,
            previewed=previewed,
        )


def publications(initiative: str, period: str) -> list[VintageDetail]:
    """The period's vintages, oldest first, with what each revised (backbone)."""
    with _session() as session:
        return publication_history(
            session=session, actor=current_actor(), initiative_slug=initiative, period_key=period
        )


# --- a value's history --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueTrail:
    """Every change of one value of a report, with the names to say which value it is."""

    initiative: str
    organisation: str
    organisation_name: str
    period: str
    indicator: str
    indicator_name: str
    disaggregation: str
    label: str  # "All", or the category's label
    value_id: int
    entries: list[HistoryEntry]


def value_trail(
    initiative: str,
    org: str,
    period: str,
    *,
    value_id: int | None = None,
    indicator: str | None = None,
    disaggregation: str = "total",
) -> ValueTrail:
    """The history of a value of ``org``'s report for ``period``: the one with ``value_id``
    (a value the report holds, or held at its previous submission), else the one it holds
    for ``indicator`` and ``disaggregation``. Whoever may see the report may read it."""
    actor = current_actor()
    with _session() as session:
        submission = get_submission(
            session=session,
            actor=actor,
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
        )
        held = {v.id: (v.indicator, v.disaggregation) for v in submission.values}
        if value_id is None:
            found = [i for i, cell in held.items() if cell == (indicator, disaggregation)]
            if not found:
                raise NotFound(
                    f"{org}'s report for {period} holds no {indicator} value for {disaggregation}",
                    field="indicator",
                )
            value_id = found[0]
        elif value_id not in held:
            removed = submission_changes(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                org_slug=org,
                period_key=period,
            )
            gone = {c.value_id: (c.indicator, c.disaggregation) for c in removed.changes}
            if value_id not in gone:
                raise NotFound(f"no value {value_id} in {org}'s report for {period}", field="value")
            held[value_id] = gone[value_id]
        entries = value_history(
            session=session, actor=actor, initiative_slug=initiative, value_id=value_id
        )
        code, key = held[value_id]
        labels = _category_labels(session, actor, initiative)
        names = indicator_names(session=session, actor=actor, initiative=initiative)
        return ValueTrail(
            initiative=initiative,
            organisation=org,
            organisation_name=_organisation_name(session, actor, initiative, org),
            period=period,
            indicator=code,
            indicator_name=names.get(code, code),
            disaggregation=key,
            label=i18n.gettext("All") if key == "total" else labels.get(key, key),
            value_id=value_id,
            entries=entries,
        )


# --- spreadsheet upload (partner portal) ------------------------------------------------------


def import_upload(
    initiative: str,
    content: bytes,
    filename: str,
    *,
    dry_run: bool,
    org: str | None = None,
    period: str | None = None,
) -> ImportReport:
    """Check (dry run) or import a spreadsheet as the actor."""
    with _session() as session:
        return import_file(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            stream=io.BytesIO(content),
            filename=filename or None,
            dry_run=dry_run,
            default_org=org,
            default_period=period,
        )


def min_contributors() -> int:
    """The fewest partners an initiative figure needs before it is shown below backbone level
    (one more than CM_MIN_CONTRIBUTORS: any partner may take its own share away)."""
    return partners_needed(get_settings().min_contributors, PARTNERS_ARE_VIEWERS)


def coverage_min_share() -> float:
    """The share of the partners' usual size that makes an incomplete figure complete."""
    return get_settings().coverage_min_share


__all__ += [  # the setup and deadline pages' doors, below
    "ORGANISATION_SECTORS",
    "ExtensionView",
    "ReportDeadline",
    "delete_category",
    "delete_dimension",
    "delete_indicator",
    "delete_outcome",
    "delete_period",
    "extensions",
    "grant_extension",
    "organisation_choices",
    "remove_member",
    "remove_series_break",
    "report_deadline",
    "reporting_period",
    "return_with_extension",
    "revoke_extension",
    "save_dimension",
    "save_indicator",
    "save_member",
    "save_outcome",
    "save_period",
    "save_series_break",
    "setup_changes",
    "setup_dimensions",
    "setup_indicators",
    "setup_members",
    "setup_outcomes",
    "setup_periods",
    "setup_series_breaks",
    "suggest_slug",
]


# --- setup: the initiative's configuration (backbone) -----------------------------------------
# Each door calls the domain functions of models/initiatives/, which check the permission and
# every field: their InvalidInput and Conflict name the field the setup page shows the message
# next to. A save is one transaction (a member and its obligations, a period and its lock).


def _door(call: Callable[..., Any], describe: Callable[[Any], Any] | None = None, /, **kw) -> Any:
    """One domain call, ``call(session, actor, **kw)``, in a unit of work of its own as the
    signed-in user; its answer as ``describe`` puts it for the page (in the same session)."""
    actor = current_actor()
    with _session() as session:
        answer = call(session=session, actor=actor, **kw)
        return answer if describe is None else describe(answer)


def _rows(listing: Callable[..., Any], row: Callable[[Any], Any], **kw) -> list:
    """Every item a domain listing answers (up to MAX_LIMIT), each as ``row`` puts it."""
    return _door(listing, lambda page: [row(item) for item in page.items], limit=MAX_LIMIT, **kw)


def _create_or_change(
    rules: tuple[Callable[..., Any], Callable[..., Any], Callable[[Any], dict]],
    initiative: str,
    editing: str | None,
    code: str | None,
    **fields,
) -> dict:
    """With ``rules`` (create, change, describe): create one (``editing`` None) with its
    ``code`` and ``fields`` (a blank code or name is refused by name), or change ``fields`` of
    the one whose code is ``editing``, a blank position keeping the one it has."""
    create, change, describe = rules
    if editing is None:
        new = fields | {"code": code or "", "name": fields.get("name") or ""}
        return _door(create, describe, initiative=initiative, **new)
    if fields.get("position") is None:
        fields.pop("position", None)
    return _door(change, describe, initiative=initiative, code=editing, changes=fields)


def _date(value, field_name: str) -> date | None:
    """A date picker's ISO text as a date, None when blank; anything else names the field."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInput("must be a date like 2026-03-31", field=field_name) from None


def _outcome_row(outcome) -> dict:
    return {
        "code": outcome.code,
        "name": outcome.name,
        "description": outcome.description,
        "position": outcome.position,
    }


def setup_outcomes(initiative: str) -> list[dict]:
    """The initiative's outcomes: code, name, description, position."""
    return _rows(outcome_rules.list_outcomes, _outcome_row, initiative=initiative)


def save_outcome(
    initiative: str,
    editing: str | None,
    *,
    code: str | None,
    name: str | None,
    description: str | None,
    position: int | None,
) -> dict:
    """Create an outcome (``editing`` None) or change the one whose code is ``editing``."""
    rules = (outcome_rules.create_outcome, outcome_rules.update_outcome, _outcome_row)
    return _create_or_change(
        rules, initiative, editing, code, name=name, description=description, position=position
    )


def delete_outcome(initiative: str, code: str) -> None:
    _door(outcome_rules.delete_outcome, initiative=initiative, code=code)


def setup_indicators(initiative: str) -> list[dict]:
    """The initiative's indicators, described (models.initiatives.indicators)."""
    return _rows(list_indicators, lambda indicator: indicator, initiative=initiative)


def save_indicator(initiative: str, editing: str | None, fields: dict) -> dict:
    """Create an indicator (``editing`` None; ``fields`` holds code, name, unit, measure_type
    and any optional field) or change the one whose code is ``editing``; ``gap_targets``, when
    given, replaces its gap targets in the same transaction (a refusal saves nothing)."""
    actor = current_actor()
    values = dict(fields)
    gaps = values.pop("gap_targets", None)
    with _session() as session:
        if editing is None:
            saved = indicator_rules.create_indicator(
                session=session,
                actor=actor,
                initiative=initiative,
                code=values.pop("code", None),
                name=values.pop("name", None),
                unit=values.pop("unit", None),
                measure_type=values.pop("measure_type", None),
                **values,
            )
        else:
            changes = {name: value for name, value in values.items() if name != "code"}
            saved = indicator_rules.update_indicator(
                session=session, actor=actor, initiative=initiative, code=editing, changes=changes
            )
        if gaps is not None:
            saved["gap_targets"] = gap_target_rules.replace_gap_targets(
                session=session,
                actor=actor,
                initiative=initiative,
                code=saved["code"],
                gap_targets=gaps,
            )
        return saved


def delete_indicator(initiative: str, code: str) -> None:
    _door(indicator_rules.delete_indicator, initiative=initiative, code=code)


def _dimension_row(dimension) -> dict:
    return {
        "code": dimension.code,
        "name": dimension.name,
        "position": dimension.position,
        "components": dimension.components or [],
        "categories": [
            {"code": c.code, "name": c.name, "position": c.position}
            for c in sorted(dimension.categories, key=lambda c: (c.position, c.code))
        ],
    }


def setup_dimensions(initiative: str) -> list[dict]:
    """The initiative's dimensions with their categories."""
    return _rows(list_dimensions, _dimension_row, initiative=initiative)


def save_dimension(
    initiative: str,
    editing: str | None,
    *,
    code: str | None,
    name: str | None,
    position: int | None,
    categories: list[dict],
    components: list[str] | None = None,
) -> dict:
    """Create a dimension with its categories (or a cross-tab of ``components``), or rename
    it and add or rename categories (categories left out are kept: :func:`delete_category`
    removes one; a cross-tab's components never change)."""
    rules = (dimension_rules.create_dimension, dimension_rules.update_dimension, _dimension_row)
    fields: dict = {"name": name, "categories": categories, "position": position}
    if editing is None and components:
        fields["components"] = components
    elif components:
        fields.pop("categories")  # a cross-tab's pairs follow its components: never written
    return _create_or_change(rules, initiative, editing, code, **fields)


def delete_dimension(initiative: str, code: str) -> None:
    _door(dimension_rules.delete_dimension, initiative=initiative, code=code)


def delete_category(initiative: str, code: str, category: str) -> dict:
    """Remove one category (refused while values are reported in it); the dimension after."""
    return _door(
        dimension_rules.delete_category,
        _dimension_row,
        initiative=initiative,
        code=code,
        category=category,
    )


# Translations of the names, definitions and stories (models.initiatives.translations).


def _translation_row(t: translation_rules.Translation) -> dict:
    return {
        "entity_type": t.entity_type,
        "entity": t.entity,
        "field": t.field,
        "locale": t.locale,
        "english": t.english,
        "text": t.text,
        "needs_review": t.needs_review,
        "translated_by": t.translated_by,
        "translated_at": t.translated_at.isoformat() if t.translated_at else None,
    }


def setup_translations(initiative: str) -> list[dict]:
    """Every field with English to translate and its translations (backbone)."""
    return _door(
        translation_rules.list_translations,
        lambda found: [_translation_row(t) for t in found],
        initiative_slug=initiative,
    )


def save_translation(
    initiative: str, locale: str, entity_type: str, entity: str, field: str, text: str | None
) -> dict:
    """Set one field's translation; an empty text deletes it, so the English shows again."""
    where = {
        "initiative_slug": initiative,
        "locale": locale,
        "entity_type": entity_type,
        "entity": entity,
        "field": field,
    }
    if text is None or (isinstance(text, str) and not text.strip()):
        return _door(translation_rules.clear_translation, _translation_row, **where)
    # Anything but text is refused by the domain (422, field text).
    return _door(translation_rules.set_translation, _translation_row, **where, text=text)


def _member_row(member, obligations: list[str]) -> dict:
    return {
        "organisation": member.organisation.slug,
        "organisation_name": member.organisation.name,
        "sector": member.organisation.sector,
        "joined_on": member.joined_on.isoformat() if member.joined_on else None,
        "shares_with_funders": member.shares_with_funders,
        "active": member.active,
        "obligations": obligations,
    }


def setup_members(initiative: str) -> list[dict]:
    """The initiative's members with the indicator codes each is obliged to report."""
    actor = current_actor()
    with _session() as session:
        members = list_members(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        return [
            _member_row(
                m,
                get_obligations(
                    session=session,
                    actor=actor,
                    initiative=initiative,
                    organisation=m.organisation.slug,
                ),
            )
            for m in members
        ]


def organisation_choices() -> list[tuple[str, str]]:
    """(slug, name) of every organisation of the deployment, by name: partners to add."""
    return _rows(list_organisations, lambda o: (o.slug, o.name))


def save_member(
    initiative: str,
    editing: str | None,
    *,
    organisation: str | None,
    joined_on,
    shares_with_funders: bool,
    active: bool,
    obligations: list[str],
    new_organisation: Mapping | None = None,
) -> dict:
    """Add an organisation as a member (``editing`` None): one of the directory
    (``organisation``), or a new one (``new_organisation``: slug, name, sector, website) added
    to the directory with its membership; or change the member ``editing``. Its obligations
    are set in the same transaction: all of it is saved, or none."""
    actor = current_actor()
    joined = _date(joined_on, "joined_on")
    with _session() as session:
        if editing is None:
            member = member_rules.add_member(
                session=session,
                actor=actor,
                initiative=initiative,
                organisation=None if new_organisation is not None else organisation or "",
                new_organisation=new_organisation,
                joined_on=joined,
                shares_with_funders=shares_with_funders,
                active=active,
            )
        else:
            member = member_rules.update_member(
                session=session,
                actor=actor,
                initiative=initiative,
                organisation=editing,
                changes={
                    "joined_on": joined,
                    "shares_with_funders": shares_with_funders,
                    "active": active,
                },
            )
        codes = member_rules.set_obligations(
            session=session,
            actor=actor,
            initiative=initiative,
            organisation=member.organisation.slug,
            indicators=obligations,
        )
        return _member_row(member, codes)


def remove_member(initiative: str, organisation: str) -> None:
    _door(member_rules.remove_member, initiative=initiative, organisation=organisation)


def _period_row(period, today: date) -> dict:
    info = PeriodInfo(
        period.key,
        period.kind,
        period.starts_on,
        period.opens_on,
        period.due_on,
        period.closes_on,
        period.locked,
    )
    return {
        "key": period.key,
        "kind": period.kind,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "opens_on": period.opens_on.isoformat(),
        "due_on": period.due_on.isoformat(),
        "closes_on": period.closes_on.isoformat(),
        "locked": period.locked,
        "state": info.state(today),
    }


def setup_periods(initiative: str) -> list[dict]:
    """The initiative's periods with their reporting windows and today's state."""
    return _rows(list_periods, lambda p: _period_row(p, today()), initiative=initiative)


def save_period(
    initiative: str,
    editing: str | None,
    *,
    key: str | None,
    opens_on,
    due_on,
    closes_on,
    locked: bool,
) -> dict:
    """Create a period from its key (blank dates take the defaults) or move the window of the
    period ``editing``; lock or unlock it as asked, in the same transaction."""
    actor = current_actor()
    dates = {
        "opens_on": _date(opens_on, "opens_on"),
        "due_on": _date(due_on, "due_on"),
        "closes_on": _date(closes_on, "closes_on"),
    }
    with _session() as session:
        if editing is None:
            period = period_rules.create_period(
                session=session, actor=actor, initiative=initiative, key=key or "", **dates
            )
        else:
            period = period_rules.update_period(
                session=session, actor=actor, initiative=initiative, key=editing, changes=dates
            )
        period = period_rules.set_period_locked(
            session=session, actor=actor, initiative=initiative, key=period.key, locked=locked
        )
        return _period_row(period, today())


def delete_period(initiative: str, key: str) -> None:
    _door(period_rules.delete_period, initiative=initiative, key=key)


# Series breaks: an indicator measured differently from one period on (charts mark it).


def setup_series_breaks(initiative: str) -> list[dict]:
    """The initiative's series breaks, by indicator then period."""
    with _session() as session:
        return [
            {
                "indicator": b.indicator,
                "indicator_name": b.indicator_name,
                "period": b.period,
                "note": b.note,
            }
            for b in series_break_rules.initiative_series_breaks(
                session=session, actor=current_actor(), initiative=initiative
            )
        ]


def save_series_break(
    initiative: str,
    editing: tuple[str, str] | None,
    *,
    indicator: str | None,
    period: str | None,
    note: str | None,
) -> dict:
    """Mark a break (``editing`` None) or correct the note of the break ``editing``
    (indicator code, period key); refusals name ``code`` (the indicator), ``period``, ``note``."""
    actor = current_actor()
    with _session() as session:
        if editing is None:
            if not indicator:
                raise InvalidInput("is required", field="code")
            if not period:
                raise InvalidInput("is required", field="period")
            key, text = series_break_rules.add_series_break(
                session=session,
                actor=actor,
                initiative=initiative,
                code=indicator,
                period=period,
                note=note,
            )
        else:
            indicator, period = editing
            key, text = series_break_rules.update_series_break(
                session=session,
                actor=actor,
                initiative=initiative,
                code=indicator,
                period=period,
                note=note,
            )
        return {"indicator": indicator, "period": key, "note": text}


def remove_series_break(initiative: str, indicator: str, period: str) -> None:
    with _session() as session:
        series_break_rules.remove_series_break(
            session=session,
            actor=current_actor(),
            initiative=initiative,
            code=indicator,
            period=period,
        )


def setup_changes(
    initiative: str, kinds: Sequence[str], entity_type: str | None = None, code: str | None = None
) -> list[dict]:
    """The latest audit events of the setup: of one object (``entity_type`` and ``code``), or
    of every object of these ``kinds``; newest first, backbone only."""
    actor = current_actor()
    with _session() as session:
        if entity_type is not None and code:
            events, _total = object_changes(
                session=session,
                actor=actor,
                initiative=initiative,
                entity_type=entity_type,
                code=code,
                limit=CHANGES_SHOWN,
            )
        else:
            events, _total = list_events(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                entity_types=list(kinds),
                limit=CHANGES_SHOWN,
            )
        return [
            {
                "at": e.at,
                "actor": e.actor_label,
                "entity_type": e.entity_type,
                "action": e.action,
                "before": e.before,
                "after": e.after,
                "reason": e.reason,
            }
            for e in events
        ]


CHANGES_SHOWN = 25


# --- deadline extensions ----------------------------------------------------------------------
# One partner's report written after its period closed (models/reporting/deadlines.py).


def extensions(initiative: str, period: str | None = None) -> list[ExtensionView]:
    """The initiative's deadline extensions (only ``period``'s when given), latest period
    first (backbone: all; a reporter: its own organisations')."""
    with _session() as session:
        return deadline_rules.list_extensions(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            period=period,
            limit=MAX_LIMIT,
        ).items


def reporting_period(initiative: str, org: str) -> str | None:
    """The period ``org``'s report is written for by default today: the latest its reporters
    may write (open, or closed with its deadline extended), as saves decide; None when none
    is (the portal's period picker then falls back to :func:`default_period`)."""
    with _session() as session:
        return submission_rules.reporting_period(
            session=session, actor=current_actor(), initiative_slug=initiative, org_slug=org
        )


def grant_extension(initiative: str, org: str, period: str, until, reason: str | None):
    """Let ``org`` write its report for ``period`` until ``until`` (ISO text or a date), or
    move that day; the domain names the field of any refusal (``until``, ``reason``,
    ``period``, ``org``)."""
    day = _date(until, "until")
    with _session() as session:
        return deadline_rules.grant_extension(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
            until=day,  # None: the domain says the field is required
            reason=reason,
        )


def revoke_extension(initiative: str, org: str, period: str) -> ExtensionView:
    with _session() as session:
        return deadline_rules.revoke_extension(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
        )


def report_deadline(initiative: str, org: str, period: str) -> ReportDeadline:
    """For the review page: whether ``org`` may still write its report for ``period`` today
    (``partner_may_write``), the period's closing day and any extension. When the partner may
    not, returning the report should offer :func:`return_with_extension`."""
    with _session() as session:
        return deadline_rules.report_deadline(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
        )


def return_with_extension(
    initiative: str, org: str, period: str, comment: str | None, until, version: int | None
) -> tuple[SubmissionView, ExtensionView]:
    """For the review page: return a submitted report with ``comment`` and extend the
    partner's deadline to ``until`` (ISO text or a date) in one transaction, both or neither.
    Refusals name their field: ``comment``, ``until`` (after the period closes, not in the
    past), ``period`` (locked); a stale ``version`` is PreconditionFailed."""
    day = _date(until, "until")
    with _session() as session:
        return deadline_rules.return_with_extension(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            org_slug=org,
            period_key=period,
            comment=comment or "",
            until=day,
            expected_version=version,
        )


# --- notifications ----------------------------------------------------------------------------
# The outbox, the local mailbox, preferences and reminders (README, "Notifications").

__all__ += [
    "mailbox",
    "next_deadline",
    "notification_preferences",
    "parse_offsets",
    "period_notices",
    "reminder_schedule",
    "save_notification_preferences",
    "save_reminder_schedule",
    "undelivered",
]

MAILBOX_SHOWN = 200


def mailbox(limit: int = MAILBOX_SHOWN) -> tuple[list[MailView], int]:
    """The local mailbox, newest first, and how many mails it holds (admin only)."""
    with _session() as session:
        return mailbox_rules.mailbox(session=session, actor=current_actor(), limit=limit)


def undelivered(limit: int = MAILBOX_SHOWN) -> list[OutboxView]:
    """The outbox's messages that have not gone out: failed (with their last error), then
    those still waiting (pending, or being sent), newest first (admin only)."""
    actor = current_actor()
    with _session() as session:
        out: list[OutboxView] = []
        for status in ("failed", "pending", "sending"):
            out += mailbox_rules.outbox(session=session, actor=actor, status=status, limit=limit)[0]
        return out


def bounces(limit: int = MAILBOX_SHOWN) -> list[BounceView]:
    """The latest bounces the mail server handed in, newest first (admin only)."""
    with _session() as session:
        return bounce_rules.recent(session=session, actor=current_actor(), limit=limit)


def clear_bounces(address: str) -> int:
    """Mail an address again after a hard bounce held it (admin only): how many bounces were
    cleared."""
    with _session() as session:
        cleared = bounce_rules.clear_bounces(
            session=session, actor=current_actor(), address=address
        )
        return cleared.count


def notification_preferences() -> list[Preference]:
    """The logged-in person's choice for every kind of message."""
    with _session() as session:
        return preference_rules.preferences(session=session, actor=current_actor())


def save_notification_preferences(modes: dict[str, str]) -> list[Preference]:
    """Change the logged-in person's choices; a refusal names the kind as its field."""
    with _session() as session:
        return preference_rules.set_preferences(session=session, actor=current_actor(), modes=modes)


def reminder_schedule(initiative: str) -> reminder_rules.Schedule:
    with _session() as session:
        return reminder_rules.schedule(
            session=session, actor=current_actor(), initiative_slug=initiative
        )


def parse_offsets(text: str | None) -> list[int]:
    """Reminder days as typed, ``-14, -3, 1, 7`` (commas or spaces; empty: no reminders);
    anything but whole numbers is refused on ``offsets``."""
    parts = (text or "").replace(",", " ").split()
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise InvalidInput(
            "write whole days from the due date, separated by commas (e.g. -14, -3, 1, 7)",
            field="offsets",
        ) from None


def parse_escalation(text: str | None) -> int | None:
    """Days overdue before the backbone team hears of a missing report, as typed (empty:
    never); anything but a whole number is refused on ``escalate_after_days``."""
    typed = (text or "").strip()
    if not typed:
        return None
    try:
        return int(typed)
    except ValueError:
        raise InvalidInput(
            "write a whole number of days, or leave it empty for never",
            field="escalate_after_days",
        ) from None


def save_reminder_schedule(
    initiative: str, text: str | None, escalation: str | None
) -> reminder_rules.Schedule:
    """Replace the reminder days and the escalation (backbone); refusals name ``offsets`` or
    ``escalate_after_days``."""
    offsets = parse_offsets(text)
    escalate_after_days = parse_escalation(escalation)
    with _session() as session:
        return reminder_rules.set_schedule(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            offsets=offsets,
            escalate_after_days=escalate_after_days,
        )


def period_notices(initiative: str, period: str) -> PeriodNotices:
    """Who was told what about the period, and what failed (backbone only)."""
    with _session() as session:
        return notice_rules.reminded(
            session=session, actor=current_actor(), initiative_slug=initiative, period=period
        )


def next_deadline(initiative: str, org: str) -> NextDeadline | None:
    """The partner's most pressing report still owed, with its extension and days left."""
    with _session() as session:
        return deadline_rules.next_deadline(
            session=session, actor=current_actor(), initiative_slug=initiative, org_slug=org
        )


# --- webhooks: the initiative's endpoints (backbone) -------------------------------------------
# Each door calls models/webhooks/endpoints.py, which checks that the actor runs the initiative
# and every field. A secret leaves here only in the answer of the create or rotate that made it
# (README, Webhooks): the listing never holds it.

__all__ += [
    "WEBHOOK_EVENTS",
    "delete_webhook",
    "rotate_webhook_secret",
    "save_webhook",
    "webhook_deliveries",
    "webhooks",
]


def _webhook_row(endpoint, last=None) -> dict:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "secret_set_at": moment(endpoint.secret_set_at),
        "last_outcome": last.outcome if last is not None else None,
        "last_at": moment(last.at) if last is not None else None,
    }


def webhooks(initiative: str) -> list[dict]:
    """The initiative's endpoints, each with its latest delivery's outcome; never a secret."""
    actor = current_actor()
    with _session() as session:
        rows = []
        for endpoint in webhook_rules.list_endpoints(
            session=session, actor=actor, initiative_slug=initiative
        ):
            latest, _total = webhook_rules.deliveries(
                session=session,
                actor=actor,
                initiative_slug=initiative,
                endpoint_id=endpoint.id,
                limit=1,
            )
            rows.append(_webhook_row(endpoint, latest[0] if latest else None))
        return rows


def save_webhook(initiative: str, endpoint_id: int | None, fields: dict) -> tuple[dict, str | None]:
    """Create an endpoint (``endpoint_id`` None) or change one: (its row, the new secret when
    created, to show once)."""
    with _session() as session:
        if endpoint_id is None:
            made = webhook_rules.create_endpoint(
                session=session, actor=current_actor(), initiative_slug=initiative, **fields
            )
            return _webhook_row(made), made.secret
        changed = webhook_rules.update_endpoint(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            endpoint_id=endpoint_id,
            changes=fields,
        )
        return _webhook_row(changed), None


def rotate_webhook_secret(initiative: str, endpoint_id: int) -> tuple[dict, str]:
    """A new secret for the endpoint: (its row, the secret, to show once)."""
    with _session() as session:
        made = webhook_rules.rotate_secret(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            endpoint_id=endpoint_id,
        )
        return _webhook_row(made), made.secret


def delete_webhook(initiative: str, endpoint_id: int) -> dict:
    with _session() as session:
        gone = webhook_rules.delete_endpoint(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            endpoint_id=endpoint_id,
        )
        return _webhook_row(gone)


def webhook_deliveries(initiative: str, endpoint_id: int) -> tuple[list[dict], int]:
    """The endpoint's latest delivery attempts, newest first, and how many there are."""
    with _session() as session:
        found, total = webhook_rules.deliveries(
            session=session,
            actor=current_actor(),
            initiative_slug=initiative,
            endpoint_id=endpoint_id,
            limit=MAX_LIMIT,
        )
        return [
            {
                "id": d.id,
                "at": moment(d.at),
                "event": d.event,
                "attempt": d.attempt,
                "result": str(d.status_code) if d.status_code is not None else (d.error or ""),
                "duration_ms": d.duration_ms,
                "outcome": d.outcome,
            }
            for d in found
        ], total


# --- strategies and their actions (README: Strategies) ----------------------------------------
# The domain decides who reads which (funders all, a partner its own) and that only the backbone
# team writes; these doors turn the form's text into the domain's types.

__all__ += ["ActionView", "StrategyMark", "StrategyView"]


def strategies(initiative: str, indicator: str | None = None) -> list[StrategyView]:
    """The strategies the viewer may read (``indicator``: those aimed at it), earliest first."""
    with _read_session() as session:
        return strategy_rules.list_strategies(
            session=session,
            actor=current_actor(),
            initiative=initiative,
            indicator=indicator,
            limit=MAX_LIMIT,
        ).items


def owned_strategies(initiative: str, org: str) -> list[StrategyView]:
    """The strategies ``org`` owns among those the viewer may read (a partner reads only its
    organisations' own; the backbone team, looking at a partner's portal, that partner's)."""
    return [s for s in strategies(initiative) if org in {o.organisation for o in s.owners}]


def indicator_strategies(
    initiative: str, code: str, periods: Sequence[str]
) -> tuple[list[StrategyView], list[StrategyMark]]:
    """The strategies aimed at the indicator and where they fall on its trend's ``periods``."""
    with _read_session() as session:
        return strategy_rules.indicator_marks(
            session=session,
            actor=current_actor(),
            initiative=initiative,
            indicator=code,
            period_keys=periods,
        )


def save_strategy(initiative: str, editing: str | None, fields: dict) -> StrategyView:
    """Create a strategy (``editing`` None) or change the one whose code is ``editing``;
    ``fields`` as the form holds them (dates as ISO text, owners and indicators as lists)."""
    values = dict(fields)
    for name in ("starts_on", "ends_on"):
        if name in values:
            values[name] = _date(values[name], name)
    actor = current_actor()
    with _session() as session:
        if editing is None:
            return strategy_rules.create_strategy(
                session=session, actor=actor, initiative=initiative, **values
            )
        values.pop("code", None)
        return strategy_rules.update_strategy(
            session=session, actor=actor, initiative=initiative, code=editing, changes=values
        )


# --- turn the curve (README: Strategies) ---------------------------------------------------------

__all__ += ["TurnTheCurve"]


def turn_the_curve(initiative: str, code: str) -> TurnTheCurve:
    """The indicator's turn-the-curve view as the viewer may see it (models.strategies)."""
    with _read_session() as session:
        return turn_the_curve_view(
            session=session, actor=current_actor(), initiative_slug=initiative, indicator_code=code
        )


def turn_the_curve_report(initiative: str, code: str, fmt: str) -> tuple[str, bytes]:
    """The view's one-page report as ``fmt`` ("png" or "pdf"): (file name, bytes), drawn by
    the same renderer as the API's export."""
    if fmt not in ("png", "pdf"):
        raise InvalidInput(f"no report format {fmt!r}", field="format")
    view = turn_the_curve(initiative, code)
    name = f"{view.initiative}-{view.indicator}-turn-the-curve.{fmt}"
    return name, render_report(view, "png" if fmt == "png" else "pdf")


def delete_strategy(initiative: str, code: str) -> None:
    with _session() as session:
        strategy_rules.delete_strategy(
            session=session, actor=current_actor(), initiative=initiative, code=code
        )


def save_action(initiative: str, code: str, action_id: int | None, fields: dict) -> ActionView:
    """Add an action to the strategy ``code`` (``action_id`` None) or change that action."""
    values = dict(fields)
    for name in ("due_on", "done_on"):
        if name in values:
            values[name] = _date(values[name], name)
    actor = current_actor()
    with _session() as session:
        if action_id is None:
            return strategy_rules.add_action(
                session=session, actor=actor, initiative=initiative, code=code, **values
            )
        return strategy_rules.update_action(
            session=session,
            actor=actor,
            initiative=initiative,
            code=code,
            action_id=action_id,
            changes=values,
        )


def delete_action(initiative: str, code: str, action_id: int) -> None:
    with _session() as session:
        strategy_rules.delete_action(
            session=session,
            actor=current_actor(),
            initiative=initiative,
            code=code,
            action_id=action_id,
        )


@dataclass(frozen=True)
class StrategyChoices:
    """What the strategy form offers the backbone team: the members that may own a strategy
    and the indicators it may aim at, as (value, label)."""

    owners: list[tuple[str, str]]
    indicators: list[tuple[str, str]]


def strategy_choices(initiative: str) -> StrategyChoices | None:
    """The form's choices for the initiative's backbone team; None for anyone else, who reads
    strategies only (the domain refuses their writes all the same)."""
    actor = current_actor()
    with _read_session() as session:
        found = get_initiative(session=session, actor=actor, slug=initiative)
        if not actor.is_backbone(found.id):
            return None
        members = list_members(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        indicators = list_indicators(
            session=session, actor=actor, initiative=initiative, limit=MAX_LIMIT
        ).items
        return StrategyChoices(
            [(m.organisation.slug, m.organisation.name) for m in members],
            [(i["code"], f"{i['name']} ({i['code']})") for i in indicators],
        )
