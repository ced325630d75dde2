"""Submissions: a member's report for a period, its values, and the review workflow.

``draft → submitted → approved``, or ``submitted → returned`` (with the backbone's comment) and
back to ``submitted``; ``approved → draft`` by reopening for a correction. Only drafts and
returned submissions can be edited; approved values and locked periods are read-only.

Every write bumps ``version`` with ``UPDATE … WHERE version = :seen`` before touching values, so
two concurrent writers are serialised and the loser answers 412 instead of silently winning.
Values are written set-based (one read, bulk insert/update/delete), and every change of a value
lands in the append-only audit trail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, contains_eager

from models.access.permissions import get_initiative
from models.analytics.kept import kept, offer_setup_key, setup_key
from models.analytics.rollups import apply_submission
from models.audit.values import value_changes
from models.core import dates
from models.core.actors import Actor
from models.core.dates import day
from models.core.db import transaction_wrote
from models.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)
from models.core.i18n import gettext, ngettext
from models.core.settings import get_settings
from models.outbox.messages import enqueue, reporters
from models.outbox.webhooks import announce
from models.reporting.validation import (
    CheckedValues,
    CleanValue,
    History,
    IndicatorSpec,
    PastFigures,
    ValueInput,
    Warning,
    approved_history,
    check_values,
    history_warnings,
    indicator_specs,
    sum_warnings,
)
from models.reporting.words import action_name, status_name
from models.tables.access import User
from models.tables.audit import AuditEvent
from models.tables.base import utcnow
from models.tables.indicator import TOTAL, Indicator, Obligation
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import STATUSES, DeadlineExtension, Submission, Value
from models.tables.revisions import DataRevision

EDITABLE = ("draft", "returned")
AUDIT_EVENTS, VALUES = AuditEvent.__table__, Value.__table__
NOT_STARTED = "not_started"  # shown for a submission that has no row yet


@dataclass(frozen=True)
class ValueView:
    id: int
    indicator: str
    disaggregation: str
    value: float
    numerator: float | None
    denominator: float | None
    note: str | None
    flags: list[str]


@dataclass
class SubmissionView:
    initiative: str
    organisation: str
    period: str
    status: str
    version: int
    is_late: bool
    comment: str | None
    submitted_at: datetime | None
    approved_at: datetime | None
    updated_at: datetime | None
    values: list[ValueView] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # obligations without a total value
    # When it was first submitted: its lateness is that submission's (a resubmission after a
    # return keeps it); submitted_at is the latest submission.
    first_submitted_at: datetime | None = None

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


@dataclass
class SaveResult:
    submission: SubmissionView
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass
class WriteContext:
    initiative: Initiative
    member: Member
    organisation: Organisation
    period: Period
    submission: Submission | None

    @property
    def claimed(self) -> Submission:
        """The submission, once :func:`claim_submission` or :func:`create_submissions` made it."""
        assert self.submission is not None, "the submission is claimed first"
        return self.submission


# --- lookups and permissions ----------------------------------------------------------------


# The member, its period and its report in one statement, built once (every report request
# starts here, README "Scaling"): the period and report joined loosely, so a missing one is
# told apart; with the initiative's setup revision, under which its indicator specs and
# obligations are kept (models.analytics.kept), so keeping them costs no round trip.
_SETUP_REVISION = (
    select(DataRevision.setup)
    .where(DataRevision.scope == bindparam("initiative_id"))
    .scalar_subquery()
)
_REPORT = (
    select(Member, Organisation, Period, Submission, _SETUP_REVISION)
    .join(Organisation, Organisation.id == Member.organisation_id)
    .outerjoin(
        Period,
        (Period.initiative_id == bindparam("initiative_id"))
        & (Period.key == bindparam("period_key")),
    )
    .outerjoin(
        Submission, (Submission.member_id == Member.id) & (Submission.period_id == Period.id)
    )
    .where(
        Member.initiative_id == bindparam("initiative_id"),
        Organisation.slug == bindparam("org_slug"),
    )
    .options(contains_eager(Member.organisation))
)


def _context(
    session: Session, actor: Actor, slug: str, org_slug: str, period_key: str
) -> WriteContext:
    """Resolve the URL's names; anything the actor may not see is 404, like a missing one."""
    initiative = get_initiative(session=session, actor=actor, slug=slug)
    row = session.execute(
        _REPORT, {"initiative_id": initiative.id, "period_key": period_key, "org_slug": org_slug}
    ).first()
    if row is None:
        raise no_member(org_slug)
    member, organisation, period, submission, setup = row
    if not _may_see(actor, initiative, organisation):
        raise no_member(org_slug)
    if period is None:
        raise no_period(period_key)
    if not transaction_wrote(session):  # as models.analytics.kept.setup_key reads it
        key = (str(session.get_bind().engine.url), initiative.id, initiative.created_at, setup or 0)
        offer_setup_key(session, session.get_transaction(), initiative.id, key)
    return WriteContext(initiative, member, organisation, period, submission)


def _specs(session: Session, initiative_id: int) -> dict[str, IndicatorSpec]:
    """The initiative's indicator specs, kept under its setup revision (models.analytics.kept):
    every save and every view of a report with values needs them. Shared: not to be changed."""
    return kept(
        session,
        initiative_id,
        "indicator specs",
        (),
        lambda: indicator_specs(session=session, initiative_id=initiative_id),
    )


def _visible_member(
    session: Session, actor: Actor, initiative: Initiative, org_slug: str
) -> tuple[Member, Organisation]:
    """The member ``org_slug`` names, if the actor may see its reports (backbone, or a
    reporter of that organisation); 404 otherwise, like a missing one."""
    row = session.execute(
        select(Member, Organisation)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == initiative.id, Organisation.slug == org_slug)
        .options(contains_eager(Member.organisation))
    ).first()
    if row is None:
        raise no_member(org_slug)
    member, organisation = row
    if not _may_see(actor, initiative, organisation):
        raise no_member(org_slug)
    return member, organisation


def _may_see(actor: Actor, initiative: Initiative, organisation: Organisation) -> bool:
    """Whether the actor sees a member's reports: the backbone team, or its own reporter."""
    return actor.is_backbone(initiative.id) or actor.reports_for(initiative.id, organisation.id)


def report_context(
    *, session: Session, actor: Actor, initiative_slug: str, org_slug: str, period_key: str
) -> WriteContext:
    """The initiative, member, period and submission (if any) a report's URL names, as the
    actor may see them: the backbone team any member's, a reporter its own organisation's
    (404 for anything else, like a missing one). For rules about one report kept elsewhere
    (deadline extensions)."""
    return _context(session, actor, initiative_slug, org_slug, period_key)


def no_member(org_slug: str) -> NotFound:
    """Unknown and invisible members answer alike, so a probe learns nothing."""
    return NotFound(
        gettext("no member %(org_slug)r in this initiative", org_slug=org_slug), field="org"
    )


def no_period(period_key: str) -> NotFound:
    return NotFound(gettext("no period %(period_key)r", period_key=period_key), field="period")


def extended_until(*, session: Session, member_id: int, period_id: int) -> date | None:
    """The day until which the member may still write the period's report after it closed
    (its deadline extension), or None."""
    return session.scalar(
        select(DeadlineExtension.until).where(
            DeadlineExtension.member_id == member_id, DeadlineExtension.period_id == period_id
        )
    )


def partner_refusal(
    *, session: Session, period: Period, member_id: int, today: date
) -> Conflict | None:
    """Why the member's own reporters may not write its report for an unlocked period today,
    or None: the period has closed and the member has no deadline extension running until
    today or later (the extension is read only once the period has closed).

    The one place that decides whether partners may still write: their writes ask it, the
    portal's grid asks it, and so does returning a report (a report returned into a period
    closed to its partner would leave a comment and no way to act on it)."""
    if today <= period.closes_on:
        return None
    until = extended_until(session=session, member_id=member_id, period_id=period.id)
    if until is not None and today <= until:
        return None
    if until is None:
        message = gettext(
            "period %(key)s closed on %(closes_on)s; ask the backbone team to extend your deadline",
            key=period.key,
            closes_on=day(period.closes_on),
        )
    else:
        message = gettext(
            "period %(key)s closed on %(closes_on)s and the extension ended on %(until)s; ask "
            "the backbone team to extend your deadline",
            key=period.key,
            closes_on=day(period.closes_on),
            until=day(until),
        )
    return Conflict(
        message,
        code="period_closed",
        field="period",
        extra={"closes_on": period.closes_on.isoformat()},
    )


def partner_period(
    *, session: Session, initiative_id: int, member_ids: Sequence[int], today: date
) -> Period | None:
    """The latest period the members' own reporters may write today (any one of them, when
    several), or None: unlocked, started and opened for reporting, and not closed to them by
    :func:`partner_refusal` (still open, or closed with a deadline extension running).

    The period a report is written for when none is named (a template's default, the
    portal's), decided by the rule their saves obey, so a partner whose deadline was extended
    is offered that period and not one it may no longer write. SQL narrows the candidates to
    the periods that could pass (open, or with an extension of one of the members running);
    :func:`partner_refusal` decides."""
    if not member_ids:
        return None
    extended = exists().where(
        DeadlineExtension.period_id == Period.id,
        DeadlineExtension.member_id.in_(member_ids),
        DeadlineExtension.until >= today,
    )
    candidates = session.scalars(
        select(Period)
        .where(
            Period.initiative_id == initiative_id,
            Period.locked.is_(False),
            Period.starts_on <= today,
            Period.opens_on <= today,
            or_(Period.closes_on >= today, extended),
        )
        .order_by(Period.starts_on.desc(), Period.key.desc())
    )
    for period in candidates:
        if any(
            partner_refusal(session=session, period=period, member_id=member_id, today=today)
            is None
            for member_id in member_ids
        ):
            return period
    return None


def reporting_period(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    today: date | None = None,
) -> str | None:
    """The key of the period the member's report is written for by default today
    (:func:`partner_period`), for whoever may see its reports; None when no period is open to
    its reporters."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    member, _organisation = _visible_member(session, actor, initiative, org_slug)
    period = partner_period(
        session=session,
        initiative_id=initiative.id,
        member_ids=[member.id],
        today=today or dates.today(),
    )
    return None if period is None else period.key


def window_refusal(
    *,
    session: Session,
    actor: Actor,
    initiative_id: int,
    period: Period,
    member_id: int,
    today: date,
) -> Conflict | None:
    """Why the period's reporting window refuses the actor's writes to the member's report
    today, or None: a locked period refuses everyone; a period that has not started everyone
    (its figures cannot exist yet); a closed one everyone but the backbone team, unless the
    member's deadline is extended past today (:func:`partner_refusal`)."""
    if period.locked:
        return Conflict(
            gettext("period %(key)s is locked", key=period.key),
            code="period_locked",
            field="period",
        )
    if today < period.starts_on:
        return Conflict(
            gettext(
                "period %(key)s starts on %(starts_on)s: nothing can be reported for it "
                "before then",
                key=period.key,
                starts_on=day(period.starts_on),
            ),
            code="period_not_started",
            field="period",
            extra={"starts_on": period.starts_on.isoformat()},
        )
    if actor.is_backbone(initiative_id):
        return None
    return partner_refusal(session=session, period=period, member_id=member_id, today=today)


def write_refusal(
    *,
    session: Session,
    actor: Actor,
    initiative_id: int,
    period: Period,
    member_id: int,
    submission: Submission | None,
    today: date,
    submitting: bool = False,
) -> Conflict | None:
    """Why a write into a submission would be refused today, or None when it may go ahead.

    The period's window first (:func:`window_refusal`: locked, not started, closed without a
    running extension); then a submission under review or approved is read-only until
    returned or reopened; a period under way takes drafts and is submitted once its
    reporting window opens. Every refusal names the field it concerns, so the API, the import
    and the dashboard say the same thing."""
    refusal = window_refusal(
        session=session,
        actor=actor,
        initiative_id=initiative_id,
        period=period,
        member_id=member_id,
        today=today,
    )
    if refusal is not None:
        return refusal
    if submission is not None and submission.status not in EDITABLE:
        return Conflict(
            _not_editable(submission),
            code="not_editable",
            extra={"status": submission.status},
        )
    if submitting and today < period.opens_on:
        return Conflict(
            gettext(
                "reporting for %(key)s opens on %(opens_on)s: save a draft until then "
                "and submit it from that day",
                key=period.key,
                opens_on=day(period.opens_on),
            ),
            code="period_not_open",
            field="period",
            extra={"opens_on": period.opens_on.isoformat()},
        )
    return None


def _not_editable(submission: Submission) -> str:
    """Why a report under review or approved is read-only, said as its reporter reads it: when
    it left their hands and who can give it back."""
    if submission.status == "approved":
        if submission.approved_at is None:
            return gettext(
                "this report was approved; it can no longer be edited unless the backbone "
                "team reopens it"
            )
        return gettext(
            "this report was approved on %(day)s; it can no longer be edited unless the "
            "backbone team reopens it",
            day=day(submission.approved_at),
        )
    if submission.submitted_at is None:
        return gettext(
            "this report was submitted; it can no longer be edited unless the backbone team "
            "returns it"
        )
    return gettext(
        "this report was submitted on %(day)s; it can no longer be edited unless the backbone "
        "team returns it",
        day=day(submission.submitted_at),
    )


def check_writable(
    *,
    session: Session,
    actor: Actor,
    initiative_id: int,
    period: Period,
    member_id: int,
    submission: Submission | None,
    today: date,
    submitting: bool = False,
) -> None:
    """Raise :func:`write_refusal`'s refusal, if any. Shared by single writes, submitting and
    imports (which resolve their context in bulk)."""
    refusal = write_refusal(
        session=session,
        actor=actor,
        initiative_id=initiative_id,
        period=period,
        member_id=member_id,
        submission=submission,
        today=today,
        submitting=submitting,
    )
    if refusal is not None:
        raise refusal


def return_refusal(
    *, session: Session, period: Period, member_id: int, today: date
) -> Conflict | None:
    """Why a submitted report cannot be returned to its partner today, or None.

    A returned report is the partner's to correct; once the period is closed to that partner
    (:func:`partner_refusal`: closed, no running extension) they could read the comment but
    change nothing. Returning it with an extension (models.reporting.deadlines) grants the
    extension first, in the same transaction."""
    if partner_refusal(session=session, period=period, member_id=member_id, today=today) is None:
        return None
    return Conflict(
        gettext(
            "the period is closed; extend the partner's deadline or reopen the "
            "period first (%(key)s closed on %(closes_on)s)",
            key=period.key,
            closes_on=day(period.closes_on),
        ),
        code="period_closed",
        field="period",
        extra={"closes_on": period.closes_on.isoformat()},
    )


@dataclass(frozen=True)
class Refusals:
    """Why each move on one submission would be refused today (None: allowed), in the words
    the API answers with, for a page that disables a button and says why."""

    save: str | None
    submit: str | None
    send_back: str | None  # returning the report to the partner (backbone)


def refusals(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    today: date | None = None,
) -> Refusals:
    """What the actor may do with the submission now: save values, submit, return it.

    Asks the same functions the writes do (:func:`write_refusal`, :func:`return_refusal`),
    so a page never offers what the write would then refuse."""
    today = today or dates.today()
    ctx = _context(session, actor, initiative_slug, org_slug, period_key)
    save, submit = (
        write_refusal(
            session=session,
            actor=actor,
            initiative_id=ctx.initiative.id,
            period=ctx.period,
            member_id=ctx.member.id,
            submission=ctx.submission,
            today=today,
            submitting=submitting,
        )
        for submitting in (False, True)
    )
    status = ctx.submission.status if ctx.submission is not None else NOT_STARTED
    send_back: DomainError | None
    if not actor.is_backbone(ctx.initiative.id):
        send_back = PermissionDenied(gettext("only the backbone team may return a submission"))
    elif ctx.period.locked:
        send_back = Conflict(
            gettext("period %(key)s is locked", key=ctx.period.key), field="period"
        )
    elif status != "submitted":
        send_back = Conflict(
            gettext(
                "only a submitted report can be returned; this one is %(status)s",
                status=status_name(status),
            )
        )
    else:
        send_back = return_refusal(
            session=session, period=ctx.period, member_id=ctx.member.id, today=today
        )
    return Refusals(
        save=save.message if save else None,
        submit=submit.message if submit else None,
        send_back=send_back.message if send_back else None,
    )


_MEMBER_OBLIGATIONS = select(Obligation.indicator_id).where(
    Obligation.member_id == bindparam("member_id")
)


_INITIATIVE_OBLIGATIONS = (
    select(Obligation.member_id, Obligation.indicator_id)
    .join(Member, Member.id == Obligation.member_id)
    .where(Member.initiative_id == bindparam("initiative_id"))
)


def _obligations(session: Session, initiative_id: int, member_id: int) -> frozenset[int]:
    """The indicators the member must report, kept under the initiative's setup revision
    (obligations are setup: models.analytics.kept). Kept for every member of the initiative
    in one entry, not one entry per member: the kept store is bounded and cleared whole when
    full, and an initiative's hundreds of partners would flush what the figure views keep.
    A transaction that keeps nothing reads the member's alone."""
    key = setup_key(session, initiative_id)
    if key is None:
        return frozenset(session.scalars(_MEMBER_OBLIGATIONS, {"member_id": member_id}))
    return kept(
        session,
        initiative_id,
        "obligations by member",
        (),
        lambda: _by_member(session, initiative_id),
        key=key,
    ).get(member_id, frozenset())


def _by_member(session: Session, initiative_id: int) -> dict[int, frozenset[int]]:
    """Member id → the indicators it must report, for every member of the initiative."""
    of: dict[int, set[int]] = defaultdict(set)
    for member_id, indicator_id in session.execute(
        _INITIATIVE_OBLIGATIONS, {"initiative_id": initiative_id}
    ):
        of[member_id].add(indicator_id)
    return {member_id: frozenset(ids) for member_id, ids in of.items()}


def _bump_version(
    session: Session,
    submission: Submission,
    expected: int | None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Claim the next version, or fail with 412 when someone else already did; ``changes``
    (a transition's) are made by the same statement, and the row is read back once."""
    seen = submission.version
    if expected is not None and expected != seen:
        raise PreconditionFailed(
            gettext(
                "the submission is at version %(seen)s, not %(expected)s; reload and retry",
                seen=seen,
                expected=expected,
            ),
            extra={"version": seen},
        )
    try:
        # The row as stored comes back with the UPDATE (RETURNING) into the loaded object: a
        # partner's every save and submission claims a version, and reading it back was a
        # round trip of its own.
        claimed = session.execute(
            update(Submission)
            .where(Submission.id == submission.id, Submission.version == seen)
            .values(version=seen + 1, updated_at=utcnow(), **(changes or {}))
            .returning(Submission)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).first()
    except OperationalError as exc:
        # SQLite: another writer committed since this transaction read (busy snapshot).
        if "locked" in str(exc.orig):
            raise PreconditionFailed(
                gettext("the submission was changed by someone else; reload and retry")
            ) from None
        raise
    if claimed is None:
        raise PreconditionFailed(
            gettext("the submission was changed by someone else; reload and retry")
        )
    assert claimed[0] is submission and submission.version == seen + 1


def _audit(session: Session, actor: Actor, initiative_id: int, rows: list[dict[str, Any]]) -> None:
    if rows:
        now = utcnow()
        # The table's INSERT, not the ORM's bulk one: the same rows and defaults, without
        # its per-row bookkeeping (a partner's every save writes these).
        session.execute(
            insert(AUDIT_EVENTS),
            [
                {
                    "at": now,
                    "actor_user_id": actor.user_id,
                    "actor_label": actor.label,
                    "initiative_id": initiative_id,
                    **row,
                }
                for row in rows
            ],
        )


# --- reading --------------------------------------------------------------------------------


def _view(
    session: Session,
    ctx: WriteContext,
    specs: dict[str, IndicatorSpec] | None = None,
    obligations: frozenset[int] | None = None,
) -> SubmissionView:
    """One report's view; ``specs`` and ``obligations`` (the member's) when the caller read
    them before writing (what a transaction that has written reads is not kept)."""
    return _views(session, ctx.initiative, [ctx], specs, obligations=obligations)[0]


# Value.flags as text when a value has none: an empty list, a JSON null, or no JSON at all.
NO_FLAGS = (None, "[]", "null")
# The views' statements, built once (README, "Scaling").
_OBLIGATIONS = select(Obligation.member_id, Obligation.indicator_id).where(
    Obligation.member_id.in_(bindparam("members", expanding=True))
)
_CODES = select(Indicator.id, Indicator.code).where(
    Indicator.initiative_id == bindparam("initiative_id")
)
_VALUES = (
    select(
        Value.id,
        Value.submission_id,
        Value.indicator_id,
        Value.disaggregation,
        Value.value,
        Value.numerator,
        Value.denominator,
        Value.note,
        # As text, read only where there are flags: most values have none, and decoding each
        # value's empty list cost a third of a whole period's views.
        cast(Value.flags, Text),
    )
    .where(Value.submission_id.in_(bindparam("submissions", expanding=True)))
    .order_by(Value.submission_id, Value.indicator_id, Value.disaggregation)
)


def _views(
    session: Session,
    initiative: Initiative,
    contexts: list[WriteContext],
    specs: dict[str, IndicatorSpec] | None = None,
    *,
    messages: bool = True,
    obligations: frozenset[int] | None = None,
) -> list[SubmissionView]:
    """The views of any number of the initiative's submissions, in as many queries as one:
    the members' obligations, the values, and the indicator specs and the members' approved
    history when there are values (else the indicator codes alone). ``messages`` false: warnings with
    codes only, as a page that lists a whole period's flags shows them."""
    if not contexts:
        return []
    obliged: dict[int, frozenset[int]] = defaultdict(frozenset)
    members = list({ctx.member.id for ctx in contexts})
    if len(members) == 1:  # one report's view: kept (a period's views read them all at once)
        obliged[members[0]] = (
            obligations
            if obligations is not None
            else _obligations(session, initiative.id, members[0])
        )
    else:
        of: dict[int, set[int]] = defaultdict(set)
        for member_id, indicator_id in session.execute(_OBLIGATIONS, {"members": members}):
            of[member_id].add(indicator_id)
        obliged.update((member_id, frozenset(ids)) for member_id, ids in of.items())
    values_of: dict[int, list[ValueView]] = {
        ctx.submission.id: [] for ctx in contexts if ctx.submission is not None
    }
    clean_of: dict[int, list[CleanValue]] = {}
    history: History = {}
    # Plain rows, not Value objects: a whole period's values are thousands of rows, and
    # building an ORM object for each cost more than everything else in the view. Each row
    # becomes its view and, in the same pass, the checked value the warnings are computed from.
    rows = session.execute(_VALUES, {"submissions": list(values_of)}).all() if values_of else []
    if rows:
        specs = specs or _specs(session, initiative.id)
    # The indicators' codes: the specs hold every indicator of the initiative (the same rows
    # as _CODES), so a report with values reads them once.
    codes = (
        {spec.id: spec.code for spec in specs.values()}
        if specs
        else kept(
            session,
            initiative.id,
            "indicator codes",
            (),
            lambda: dict(session.execute(_CODES, {"initiative_id": initiative.id}).all()),
        )
    )
    if rows:
        assert specs is not None
        checked = {
            indicator_id: (spec.id, spec.measure_type)
            for indicator_id, code in codes.items()
            if (spec := specs.get(code)) is not None
        }
        for vid, sid, indicator_id, disaggregation, value, num, den, note, flags in rows:
            values_of[sid].append(
                ValueView(
                    id=vid,
                    indicator=codes[indicator_id],
                    disaggregation=disaggregation,
                    value=value,
                    numerator=num,
                    denominator=den,
                    note=note,
                    flags=[] if flags in NO_FLAGS else list(json.loads(flags) or []),
                )
            )
            clean = clean_of.get(sid)
            if clean is None:
                clean = clean_of[sid] = []
            if indicator_id in checked:
                spec_id, measure_type = checked[indicator_id]
                clean.append(
                    CleanValue(spec_id, measure_type, None, disaggregation, value, num, den, note)
                )
        with_values = [
            c for c in contexts if c.submission is not None and c.submission.id in clean_of
        ]
        history = approved_history(
            session=session,
            member_ids={ctx.member.id for ctx in with_values},
            indicator_ids={
                c.indicator_id
                for clean in clean_of.values()
                for c in clean
                if c.disaggregation == TOTAL
            },
            before=max(ctx.period.starts_on for ctx in with_values),
        )
    views = []
    for ctx in contexts:
        sub = ctx.submission
        values = values_of.get(sub.id, []) if sub is not None else []
        warnings: list[Warning] = []
        if values:
            assert sub is not None and specs is not None  # values come from a submission
            warnings = _warnings(session, ctx, specs, clean_of[sub.id], history, messages=messages)
        views.append(_submission_view(ctx, codes, obliged[ctx.member.id], values, warnings))
    return views


def _submission_view(
    ctx: WriteContext,
    codes: Mapping[int, str],
    obligations: frozenset[int],
    values: list[ValueView],
    warnings: list[Warning],
) -> SubmissionView:
    """One report's view from its values and warnings: what is missing is the obligations
    (indicator ids, named by ``codes``) without a total value."""
    sub = ctx.submission
    reported = {v.indicator for v in values if v.disaggregation == TOTAL}
    return SubmissionView(
        initiative=ctx.initiative.slug,
        organisation=ctx.organisation.slug,
        period=ctx.period.key,
        status=sub.status if sub else NOT_STARTED,
        version=sub.version if sub else 0,
        is_late=sub.is_late if sub else False,
        comment=sub.comment if sub else None,
        submitted_at=sub.submitted_at if sub else None,
        approved_at=sub.approved_at if sub else None,
        updated_at=sub.updated_at if sub else None,
        values=values,
        warnings=warnings,
        missing=sorted(codes[i] for i in obligations if codes[i] not in reported),
        first_submitted_at=_first_submitted(sub),
    )


def _warnings(
    session: Session,
    ctx: WriteContext,
    specs: dict[str, IndicatorSpec],
    values: list[CleanValue],
    history: History | None = None,
    *,
    messages: bool = True,
    figures: PastFigures | None = None,
) -> list[Warning]:
    """Sum and history warnings of one submission's values; ``history`` (from
    :func:`approved_history`) is read here when the caller has not read it for many;
    ``messages`` false: codes only (see :func:`sum_warnings`); ``figures``: see
    :func:`history_warnings`."""
    settings = get_settings()
    by_id = {s.id: s for s in specs.values()}
    totals = {v.indicator_id: v.value for v in values if v.disaggregation == TOTAL}
    if history is None:
        history = approved_history(
            session=session,
            member_ids=[ctx.member.id],
            indicator_ids=totals,
            before=ctx.period.starts_on,
        )
    return sum_warnings(values, by_id, messages=messages) + history_warnings(
        member_id=ctx.member.id,
        period=ctx.period,
        totals=totals,
        history=history,
        specs_by_id=by_id,
        z_limit=settings.outlier_z,
        jump_pct=settings.outlier_jump_pct,
        min_history=settings.outlier_min_history,
        messages=messages,
        figures=figures,
    )


def get_submission(
    *, session: Session, actor: Actor, initiative_slug: str, org_slug: str, period_key: str
) -> SubmissionView:
    ctx = _context(session, actor, initiative_slug, org_slug, period_key)
    return _view(session, ctx)


def list_submissions(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period: str | None = None,
    org: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Submissions the actor may see (backbone: all; reporter: its organisations')."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            gettext("status must be one of %(statuses)s", statuses=", ".join(STATUSES)),
            field="status",
        )
    query = (
        select(
            Organisation.slug.label("organisation"),
            Period.key.label("period"),
            Submission.status,
            Submission.version,
            Submission.is_late,
            Submission.submitted_at,
            Submission.approved_at,
            Submission.updated_at,
        )
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Submission.initiative_id == initiative.id)
    )
    if not actor.is_backbone(initiative.id):
        own = actor.reporter_orgs(initiative.id)
        if not own:
            raise PermissionDenied(gettext("only backbone staff and reporters see submissions"))
        query = query.where(Organisation.id.in_(own))
    if period:
        query = query.where(Period.key == period)
    if org:
        query = query.where(Organisation.slug == org)
    if status:
        query = query.where(Submission.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.order_by(Period.starts_on.desc(), Organisation.slug).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], total or 0


def period_submissions(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period_key: str,
    messages: bool = True,
    submission_ids: Collection[int] | None = None,
) -> list[SubmissionView]:
    """Every submission of a period the actor may see (backbone: all; a reporter: its
    organisations'), each as :func:`get_submission` shows it, by organisation slug; members
    without a submission are left out. A fixed number of queries however many there are.
    ``messages`` false: the warnings' codes without their sentences (formatting thousands of
    numbers nobody reads was most of a period's cost). ``submission_ids``: only those of the
    period's submissions (the others the caller kept, ``models.reporting.flagged``)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    period = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == period_key)
    )
    if period is None:
        raise no_period(period_key)
    query = (
        select(Submission, Member, Organisation)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Submission.initiative_id == initiative.id, Submission.period_id == period.id)
        .order_by(Organisation.slug)
        # The member's organisation from this join, not from a second one of its own.
        .options(contains_eager(Member.organisation))
    )
    if not actor.is_backbone(initiative.id):
        own = actor.reporter_orgs(initiative.id)
        if not own:
            raise PermissionDenied(gettext("only backbone staff and reporters see submissions"))
        query = query.where(Organisation.id.in_(own))
    if submission_ids is not None:
        query = query.where(Submission.id.in_(list(submission_ids)))
    contexts = [
        WriteContext(initiative, member, organisation, period, submission)
        for submission, member, organisation in session.execute(query).tuples()
    ]
    return _views(session, initiative, contexts, messages=messages)


# --- writing values -------------------------------------------------------------------------


@dataclass
class WritePlan:
    """A validated (or rejected) write for one submission; nothing has been written yet."""

    ctx: WriteContext
    specs: dict[str, IndicatorSpec]
    checked: CheckedValues
    obligations: frozenset[int] = frozenset()  # the member's, read by the plan

    @property
    def ok(self) -> bool:
        return not self.checked.problems


def plan_values(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    inputs: list[ValueInput],
    today: date | None = None,
    specs: dict[str, IndicatorSpec] | None = None,
) -> WritePlan:
    """Check permissions, period, status and every value; collect problems, write nothing.

    Imports plan every submission in a file first and apply only when all plans are clean.
    """
    today = today or dates.today()
    ctx = _context(session, actor, initiative_slug, org_slug, period_key)
    check_writable(
        session=session,
        actor=actor,
        initiative_id=ctx.initiative.id,
        period=ctx.period,
        member_id=ctx.member.id,
        submission=ctx.submission,
        today=today,
    )
    specs = specs or _specs(session, ctx.initiative.id)
    obligations = _obligations(session, ctx.initiative.id, ctx.member.id)
    checked = check_values(inputs, specs=specs, obligations=obligations)
    return WritePlan(ctx, specs, checked, obligations)


def apply_plan(
    *,
    session: Session,
    actor: Actor,
    plan: WritePlan,
    expected_version: int | None = None,
    reason: str | None = None,
    full_view: bool = True,
) -> SaveResult:
    """Write a clean plan. ``full_view=False`` answers only status and version (imports write
    many submissions and show counts, so re-reading every value would be wasted work)."""
    if not plan.ok:
        raise_problems(plan.checked)
    return _write(
        session,
        actor,
        plan.ctx,
        plan.specs,
        plan.checked,
        expected_version,
        reason,
        full_view,
        plan.obligations,
    )


def save_values(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    inputs: list[ValueInput],
    expected_version: int | None = None,
    reason: str | None = None,
    today: date | None = None,
) -> SaveResult:
    """Upsert a draft's values in one go: all valid, or nothing written (422 listing each problem)."""
    plan = plan_values(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
        inputs=inputs,
        today=today,
    )
    return apply_plan(
        session=session, actor=actor, plan=plan, expected_version=expected_version, reason=reason
    )


def raise_problems(checked: CheckedValues, prefix: str = "values") -> None:
    errors = [
        {"field": f"{prefix}[{p.index}].{p.column}", "reason": p.reason} for p in checked.problems
    ]
    first = errors[0]
    raise InvalidInput(
        ngettext(
            "%(field)s: %(reason)s",
            "%(field)s: %(reason)s (and %(more)s more)",
            len(errors),
            field=first["field"],
            reason=first["reason"],
            more=len(errors) - 1,
        ),
        code="invalid_values",
        field=first["field"],
        extra={"errors": errors},
    )


def claim_submission(
    *,
    session: Session,
    actor: Actor,
    ctx: WriteContext,
    expected_version: int | None,
    reason: str | None,
    events: list[dict[str, Any]] | None = None,
) -> Submission:
    """Create the submission (version 1) or claim its next version before values change.

    A new submission's audit event is written here, or appended to ``events`` when the
    caller writes its values' events with it in one statement."""
    if ctx.submission is None:
        if expected_version not in (None, 0):
            raise PreconditionFailed(gettext("the submission does not exist yet (version 0)"))
        # The row as stored comes back with the INSERT (RETURNING), as create_submissions
        # makes many; a concurrent creator hits the unique constraint → IntegrityError.
        ctx.submission = session.scalars(
            insert(Submission).returning(Submission),
            [
                {
                    "initiative_id": ctx.initiative.id,
                    "member_id": ctx.member.id,
                    "period_id": ctx.period.id,
                    "status": "draft",
                    "version": 1,
                }
            ],
        ).one()
        event = submission_event(
            ctx.submission.id, ctx.submission.version, "create", None, "draft", reason
        )
        if events is None:
            _audit(session, actor, ctx.initiative.id, [event])
        else:
            events.append(event)
    else:
        _bump_version(session, ctx.submission, expected_version)
    return ctx.submission


def create_submissions(
    *, session: Session, actor: Actor, contexts: list[WriteContext], reason: str | None
) -> None:
    """Create many draft submissions (version 1) in one statement, each with its audit event:
    an import into a new quarter starts hundreds at once."""
    if not contexts:
        return
    created = session.scalars(
        insert(Submission).returning(Submission),
        [
            {
                "initiative_id": ctx.initiative.id,
                "member_id": ctx.member.id,
                "period_id": ctx.period.id,
                "status": "draft",
                "version": 1,
            }
            for ctx in contexts
        ],
    ).all()
    by_pair = {(sub.member_id, sub.period_id): sub for sub in created}
    events = []
    for ctx in contexts:
        ctx.submission = sub = by_pair[(ctx.member.id, ctx.period.id)]
        events.append(submission_event(sub.id, sub.version, "create", None, "draft", reason))
    _audit(session, actor, contexts[0].initiative.id, events)


# A report's values before a save, as plain rows (their attributes named as a Value's):
# built once, as the views' statements (README, "Scaling").
_REPORT_VALUES = select(
    Value.id,
    Value.indicator_id,
    Value.disaggregation,
    Value.value,
    Value.numerator,
    Value.denominator,
    Value.note,
).where(Value.submission_id == bindparam("submission_id"))


def _write(
    session: Session,
    actor: Actor,
    ctx: WriteContext,
    specs: dict[str, IndicatorSpec],
    checked: CheckedValues,
    expected_version: int | None,
    reason: str | None,
    full_view: bool = True,
    obligations: frozenset[int] | None = None,
) -> SaveResult:
    created = ctx.submission is None
    events: list[dict[str, Any]] = []
    sub = claim_submission(
        session=session,
        actor=actor,
        ctx=ctx,
        expected_version=expected_version,
        reason=reason,
        events=events,
    )
    # A report created just now has no values yet: nothing to read.
    existing = (
        {}
        if created
        else {
            (v.indicator_id, v.disaggregation): v
            for v in session.execute(_REPORT_VALUES, {"submission_id": sub.id})
        }
    )
    code_of = {s.id: s.code for s in specs.values()}
    inserts, updates = [], []
    updated = unchanged = 0
    for clean in checked.clean:
        old = existing.get(clean.key)
        fields = _fields(clean)
        if old is None:
            inserts.append(clean)
        elif _fields_of(old) != fields:
            updates.append(
                {"id": old.id, **fields, "updated_by_id": actor.user_id, "updated_at": utcnow()}
            )
            events.append(
                value_event(
                    old.id,
                    "update",
                    _fields_of(old),
                    fields,
                    reason,
                    indicator=code_of.get(clean.indicator_id),
                    disaggregation=clean.disaggregation,
                )
            )
            updated += 1
        else:
            unchanged += 1
    removed_ids = []
    for key in checked.removals:
        old = existing.get(key)
        if old is not None:
            removed_ids.append(old.id)
            # The row is gone: its event names the report it left (models.reporting.versions).
            gone = {**_fields_of(old), "submission": sub.id}
            events.append(
                value_event(
                    old.id,
                    "delete",
                    gone,
                    None,
                    reason,
                    indicator=code_of.get(old.indicator_id),
                    disaggregation=old.disaggregation,
                )
            )
    if inserts:
        new_ids = (
            session.execute(
                # The table's INSERT, as for the audit events.
                insert(VALUES).returning(VALUES.c.id, sort_by_parameter_order=True),
                [
                    {
                        "submission_id": sub.id,
                        "initiative_id": ctx.initiative.id,
                        "period_id": ctx.period.id,
                        "indicator_id": c.indicator_id,
                        "measure_type": c.measure_type,
                        "category_id": c.category_id,
                        "disaggregation": c.disaggregation,
                        "updated_by_id": actor.user_id,
                        "flags": [],
                        **_fields(c),
                    }
                    for c in inserts
                ],
            )
            .scalars()
            .all()
        )
        for value_id, c in zip(new_ids, inserts, strict=True):
            events.append(
                value_event(
                    value_id,
                    "create",
                    None,
                    _fields(c),
                    reason,
                    indicator=code_of.get(c.indicator_id),
                    disaggregation=c.disaggregation,
                )
            )
    if updates:
        session.execute(update(Value), updates)
    if removed_ids:
        session.execute(delete(Value).where(Value.id.in_(removed_ids)))
    # A new report's creation and its values' changes: one statement, in that order.
    _audit(session, actor, ctx.initiative.id, events)
    if full_view:
        view = _saved_view(session, ctx, specs, obligations)
    else:
        refresh_flags(session=session, contexts=[ctx], specs=specs)
        view = _summary_view(ctx)
    return SaveResult(
        submission=view,
        created=len(inserts),
        updated=updated,
        unchanged=unchanged,
        removed=len(removed_ids),
    )


def _summary_view(ctx: WriteContext) -> SubmissionView:
    """Status and version only, without reading the values back."""
    sub = ctx.claimed
    return SubmissionView(
        initiative=ctx.initiative.slug,
        organisation=ctx.organisation.slug,
        period=ctx.period.key,
        status=sub.status,
        version=sub.version,
        is_late=sub.is_late,
        comment=sub.comment,
        submitted_at=sub.submitted_at,
        approved_at=sub.approved_at,
        updated_at=sub.updated_at,
        first_submitted_at=_first_submitted(sub),
    )


def _first_submitted(sub: Submission | None) -> datetime | None:
    """The first submission's time; for a report submitted before it was recorded, the
    earliest known one."""
    if sub is None:
        return None
    return sub.first_submitted_at or sub.submitted_at


def _fields(c: CleanValue) -> dict[str, Any]:
    return {
        "value": c.value,
        "numerator": c.numerator,
        "denominator": c.denominator,
        "note": c.note,
    }


def _fields_of(v: Value | Row[*tuple[Any, ...]]) -> dict[str, Any]:
    """A value's figures, from its row or its object."""
    return {
        "value": v.value,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "note": v.note,
    }


def value_event(
    value_id: int,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None,
    *,
    indicator: str | None,
    disaggregation: str,
) -> dict[str, Any]:
    """The audit event of one value's change, as every writer records it (the demo's trail
    too, so the history and a report's versions read both alike)."""
    label = {"indicator": indicator, "disaggregation": disaggregation}
    return {
        "entity_type": "value",
        "entity_id": value_id,
        "action": action,
        "before": {**label, **before} if before else None,
        "after": {**label, **after} if after else None,
        "reason": reason,
    }


def submission_event(
    submission_id: int,
    version: int,
    action: str,
    before: str | None,
    after: str,
    reason: str | None,
) -> dict[str, Any]:
    """The audit event of a report's creation or move through the workflow (``version``: the
    one the move gave it), as the workflow and the demo record it."""
    return {
        "entity_type": "submission",
        "entity_id": submission_id,
        "action": action,
        "before": {"status": before} if before else None,
        "after": {"status": after, "version": version},
        "reason": reason,
    }


def refresh_flags(
    *,
    session: Session,
    contexts: list[WriteContext],
    specs: dict[str, IndicatorSpec],
    history: History | None = None,
) -> None:
    """Store the warnings as flags on the values they concern (for the data-quality views).

    Any number of written submissions, a batch at a time (so memory holds one batch's values):
    per batch one read of their values (plain rows, no ORM objects), one of the members'
    history (unless the caller holds every approved total of these members: ``history``, as
    :func:`approved_history` gives it), and one UPDATE per distinct set of flags that changes.
    """
    # By member, so a member's quarters share a batch and its history is read once (an import
    # of eight quarters would otherwise read every member's history eight times).
    contexts = sorted(contexts, key=lambda c: (c.member.id, c.period.starts_on))
    for start in range(0, len(contexts), FLAG_BATCH):
        _refresh_flags_batch(session, contexts[start : start + FLAG_BATCH], specs, history)
    _expire_values(session)


FLAG_BATCH = 200  # submissions: ~200 × 132 values of a quarter's report


# One read of a report's values after a save, for its flags and its answer alike: in the
# views' order, with what the flags are computed from (built once, README "Scaling").
_SAVED_VALUES = (
    select(
        Value.id,
        Value.indicator_id,
        Value.measure_type,
        Value.category_id,
        Value.disaggregation,
        Value.value,
        Value.numerator,
        Value.denominator,
        Value.note,
        cast(Value.flags, Text),  # decoded only when not empty
    )
    .where(Value.submission_id == bindparam("submission_id"))
    .order_by(Value.indicator_id, Value.disaggregation)
)


def _saved_view(
    session: Session,
    ctx: WriteContext,
    specs: dict[str, IndicatorSpec],
    obligations: frozenset[int] | None,
) -> SubmissionView:
    """The flags of a report just saved, refreshed, and the report as :func:`get_submission`
    shows it, from one read of its values and one of the member's approved history (refreshing
    the flags and reading the view each read both). ``obligations``: the member's, as the
    plan read them (None: read here). The flags are :func:`refresh_flags`' and the view is
    :func:`_views`' (each computed by the same functions); only the reads are shared."""
    sub = ctx.claimed
    session.flush()
    rows = session.connection().execute(_SAVED_VALUES, {"submission_id": sub.id}).all()
    clean = [CleanValue(*row[1:9]) for row in rows]
    history = approved_history(
        session=session,
        member_ids=[ctx.member.id],
        indicator_ids={c.indicator_id for c in clean if c.disaggregation == TOTAL},
        before=ctx.period.starts_on,
    )
    wanted = flags_by_cell(session=session, ctx=ctx, specs=specs, values=clean, history=history)
    changes: dict[tuple[str, ...], list[int]] = {}  # new flags → the values that get them
    shown: dict[int, list[str]] = {}  # a value's flags as the view shows them, when they changed
    for row in rows:
        flags = wanted.get((row[1], row[4]), ())
        stored = () if row[9] in (None, "[]") else tuple(sorted(json.loads(row[9])))
        if stored != flags:
            changes.setdefault(flags, []).append(row[0])
            shown[row[0]] = list(flags)
    _store_flags(session, changes)
    _expire_values(session)
    if obligations is None:
        obligations = _obligations(session, ctx.initiative.id, ctx.member.id)
    codes = {spec.id: spec.code for spec in specs.values()}
    by_id = {spec.id: spec for spec in specs.values()}
    values = [
        ValueView(
            id=vid,
            indicator=codes[indicator_id],
            disaggregation=disaggregation,
            value=value,
            numerator=num,
            denominator=den,
            note=note,
            flags=shown[vid]
            if vid in shown
            else []
            if flags in NO_FLAGS
            else list(json.loads(flags) or []),
        )
        for vid, indicator_id, _m, _c, disaggregation, value, num, den, note, flags in rows
    ]
    checked = [
        CleanValue(spec.id, spec.measure_type, None, row[4], row[5], row[6], row[7], row[8])
        for row in rows
        if (spec := by_id.get(row[1])) is not None
    ]
    warnings = _warnings(session, ctx, specs, checked, history) if values else []
    return _submission_view(ctx, codes, obligations, values, warnings)


def _store_flags(session: Session, changes: dict[tuple[str, ...], list[int]]) -> None:
    """Give each set of flags to its values: a few distinct sets, a few statements."""
    for flags, value_ids in changes.items():
        for start in range(0, len(value_ids), 5000):
            session.execute(
                update(Value)
                .where(Value.id.in_(value_ids[start : start + 5000]))
                .values(flags=list(flags))
                .execution_options(synchronize_session=False)
            )


def _expire_values(session: Session) -> None:
    """Loaded Value objects may now be stale; expire only those (expiring everything would
    reload the member, period and submission of each write)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Value):
            session.expire(obj)


def flags_by_cell(
    *,
    session: Session,
    ctx: WriteContext,
    specs: dict[str, IndicatorSpec],
    values: list[CleanValue],
    history: History | None = None,
    figures: PastFigures | None = None,
) -> dict[tuple[int, str], tuple[str, ...]]:
    """(indicator id, disaggregation) → the sorted flag codes of that cell, for the cells of
    one submission (all its values) that get any. ``figures``: see :func:`history_warnings`."""
    id_of = {s.code: s.id for s in specs.values()}
    wanted: dict[tuple[int, str], set[str]] = {}
    for w in _warnings(session, ctx, specs, values, history, messages=False, figures=figures):
        wanted.setdefault((id_of[w.indicator], w.disaggregation), set()).add(w.code)
    return {cell: tuple(sorted(codes)) for cell, codes in wanted.items()}


# Built once, as the views' statements (README, "Scaling"): every save reads its values here.
_FLAGGED_VALUES = select(
    Value.id,
    Value.indicator_id,
    Value.measure_type,
    Value.category_id,
    Value.disaggregation,
    Value.value,
    Value.numerator,
    Value.denominator,
    Value.note,
    cast(Value.flags, Text),  # decoded below only when not empty
    Value.submission_id,
).where(Value.submission_id.in_(bindparam("submissions", expanding=True)))


def _refresh_flags_batch(
    session: Session,
    contexts: list[WriteContext],
    specs: dict[str, IndicatorSpec],
    history: History | None,
) -> None:
    by_submission = {ctx.claimed.id: ctx for ctx in contexts}
    rows_of: dict[int, list[Row[*tuple[Any, ...]]]] = {sid: [] for sid in by_submission}
    # Core rows on the session's connection: the ORM's result machinery would cost more than
    # the query for the ~100,000 rows of a large import (the session is flushed first).
    session.flush()
    for row in session.connection().execute(
        _FLAGGED_VALUES, {"submissions": list(by_submission)}
    ):  # plain rows, in CleanValue's field order after the id
        rows_of[row[10]].append(row)
    if history is None:
        history = approved_history(
            session=session,
            member_ids={ctx.member.id for ctx in contexts},
            indicator_ids={s.id for s in specs.values()},
            before=max(ctx.period.starts_on for ctx in contexts),
        )
    changes: dict[tuple[str, ...], list[int]] = {}  # new flags → the values that get them
    for submission_id, rows in rows_of.items():
        clean = [CleanValue(*row[1:9]) for row in rows]
        wanted = flags_by_cell(
            session=session,
            ctx=by_submission[submission_id],
            specs=specs,
            values=clean,
            history=history,
        )
        for row in rows:
            flags = wanted.get((row[1], row[4]), ())
            stored = () if row[9] in (None, "[]") else tuple(sorted(json.loads(row[9])))
            if stored != flags:
                changes.setdefault(flags, []).append(row[0])
    _store_flags(session, changes)


# --- workflow -------------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft", "returned"), "submitted"),
    "approve": (("submitted",), "approved"),
    "return": (("submitted",), "returned"),
    "reopen": (("approved", "submitted", "returned"), "draft"),
}


def transition(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    action: str,
    comment: str | None = None,
    expected_version: int | None = None,
    today: date | None = None,
) -> SubmissionView:
    """Move a submission through the workflow; an illegal move answers 409 with the status."""
    today = today or dates.today()
    if action not in TRANSITIONS:
        raise InvalidInput(gettext("unknown action %(action)r", action=action), field="action")
    ctx = _context(session, actor, initiative_slug, org_slug, period_key)
    sub = ctx.submission
    if action in ("approve", "return", "reopen") and not actor.is_backbone(ctx.initiative.id):
        raise PermissionDenied(
            gettext(
                "only the backbone team may %(action)s a submission", action=action_name(action)
            )
        )
    if ctx.period.locked:
        raise Conflict(
            gettext("period %(key)s is locked", key=ctx.period.key),
            code="period_locked",
            field="period",
        )
    sources, target = TRANSITIONS[action]
    status = sub.status if sub else NOT_STARTED
    if status not in sources:
        raise Conflict(
            gettext(
                "cannot %(action)s a submission that is %(status)s",
                action=action_name(action),
                status=status_name(status),
            ),
            code="illegal_transition",
            extra={"status": status},
        )
    assert sub is not None  # a submission not started is no transition's source
    comment = (comment or "").strip() or None
    if action in ("return", "reopen") and not comment:
        raise InvalidInput(
            gettext("a comment is required to %(action)s a submission", action=action_name(action)),
            field="comment",
        )
    if action == "return":
        refusal = return_refusal(
            session=session, period=ctx.period, member_id=ctx.member.id, today=today
        )
        if refusal is not None:
            raise refusal
    if action == "submit":
        check_writable(
            session=session,
            actor=actor,
            initiative_id=ctx.initiative.id,
            period=ctx.period,
            member_id=ctx.member.id,
            submission=sub,
            today=today,
            submitting=True,
        )
        if not session.scalar(
            select(func.count()).select_from(Value).where(Value.submission_id == sub.id)
        ):
            raise Conflict(
                gettext("an empty submission cannot be submitted"), code="empty_submission"
            )

    # What the answer needs of the setup, taken (kept) before the transaction writes.
    specs = _specs(session, ctx.initiative.id)
    obligations = _obligations(session, ctx.initiative.id, ctx.member.id)
    now = utcnow()
    changes: dict[str, Any] = {"status": target}
    if action == "submit":
        changes |= {"submitted_at": now, "submitted_by_id": actor.user_id}
        changes |= _first_submission(sub, ctx.period, now, today)
    elif action == "approve":
        changes |= {"approved_at": now, "approved_by_id": actor.user_id, "comment": None}
    elif action == "return":
        changes |= {"comment": comment}
    elif action == "reopen":
        changes |= {"approved_at": None, "approved_by_id": None, "comment": comment}
    _bump_version(session, sub, expected_version, changes)
    # Keep the rollup table in step, in this same transaction: fresh the instant it commits.
    if target == "approved":
        apply_submission(session=session, submission_id=sub.id, sign=+1)
    elif status == "approved":
        apply_submission(session=session, submission_id=sub.id, sign=-1)
    _audit(
        session,
        actor,
        ctx.initiative.id,
        [submission_event(sub.id, sub.version, action, status, target, comment)],
    )
    if action in NOTICES:
        _notify(session, actor, ctx, sub, action, comment, status)
    return _view(session, ctx, specs, obligations)


NOTICES = {"return": "report_returned", "approve": "report_approved", "reopen": "report_reopened"}
ANNOUNCED = ("approve", "reopen")  # to the initiative's webhooks (a return is the partner's)


def _notify(
    session: Session,
    actor: Actor,
    ctx: WriteContext,
    sub: Submission,
    action: str,
    comment: str | None,
    was: str,
) -> None:
    """Tell the partner's reporters, and the initiative's webhooks of an approval or a
    reopening, in this transaction (models/outbox): the messages exist exactly when the
    decision commits."""
    enqueue(
        session=session,
        kind=NOTICES[action],
        event=f"{NOTICES[action]}:{sub.id}:{sub.version}",
        recipients=reporters(
            session=session,
            initiative_id=ctx.initiative.id,
            organisation_id=ctx.organisation.id,
        ),
        payload={
            "initiative": ctx.initiative.slug,
            "initiative_name": ctx.initiative.name,
            "organisation": ctx.organisation.slug,
            "organisation_name": ctx.organisation.name,
            "period": ctx.period.key,
            "due_on": ctx.period.due_on.isoformat(),
            "comment": comment,
            "was": was,
            "by": actor.shown,
        },
        initiative_id=ctx.initiative.id,
        exclude=[actor.user_id],
    )
    if action in ANNOUNCED:
        # Which report, never its values or the comment (README, "Webhooks").
        announce(
            session=session,
            kind=NOTICES[action],
            event=f"{NOTICES[action]}:{sub.id}:{sub.version}",
            initiative_id=ctx.initiative.id,
            data={
                "initiative": ctx.initiative.slug,
                "initiative_name": ctx.initiative.name,
                "organisation": ctx.organisation.slug,
                "organisation_name": ctx.organisation.name,
                "period": ctx.period.key,
                "submission": sub.id,
                "version": sub.version,
            },
        )


def _first_submission(
    sub: Submission, period: Period, now: datetime, today: date
) -> dict[str, Any]:
    """Lateness is the first submission's: a report first submitted on time and returned for
    a correction stays on time when it comes back after the due date (the partner met the
    deadline; the correction is the review's work). So the first submission records its time
    and lateness, and a resubmission keeps both. A report submitted before the first time was
    kept (``first_submitted_at`` empty, ``submitted_at`` set) keeps its lateness, and its
    earliest known submission time becomes the first."""
    if sub.first_submitted_at is not None:
        return {}
    if sub.submitted_at is not None:
        return {"first_submitted_at": sub.submitted_at}
    return {"first_submitted_at": now, "is_late": today > period.due_on}


# --- history --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a value; who and when are None where nothing recorded them."""

    at: datetime | None
    actor_label: str | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


def value_history(
    *, session: Session, actor: Actor, initiative_slug: str, value_id: int
) -> list[HistoryEntry]:
    """Every change of one value, oldest first; visible to whoever may see the value.

    A value written without an audit trail (a bulk load that wrote none) still has a history:
    its creation, read from the row as it stands now.
    """
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    live = session.scalar(
        select(Value).where(Value.id == value_id, Value.initiative_id == initiative.id)
    )
    # Its imports are read from its report's batches: the live row's report, or (a removed
    # value) the one its removal names.
    changes = value_changes(
        session=session,
        initiative_id=initiative.id,
        value_ids=[value_id],
        submission_ids=[live.submission_id] if live is not None else [],
    ).get(value_id, [])
    changes.sort(key=lambda c: (c.at, c.event_id))
    value = None
    if not changes:
        if live is None:
            raise NotFound(gettext("no value %(value_id)s", value_id=value_id), field="id")
        value = live
    if not actor.is_backbone(initiative.id):
        # The value's organisation: from the live row, or (deleted) from its submission's events.
        org_id = session.scalar(
            select(Member.organisation_id)
            .join(Submission, Submission.member_id == Member.id)
            .join(Value, Value.submission_id == Submission.id)
            .where(Value.id == value_id)
        )
        if org_id is None or not actor.reports_for(initiative.id, org_id):
            raise NotFound(gettext("no value %(value_id)s", value_id=value_id), field="id")
    if value is not None:
        return [_creation(session, value)]
    return [
        HistoryEntry(c.at, c.actor_label, c.action, c.before, c.after, c.reason) for c in changes
    ]


def _creation(session: Session, value: Value) -> HistoryEntry:
    """The creation of a value with no recorded changes: its stored figures; who and when are
    the submission's submitter and submission time (the row's own time moves with its flags)."""
    sub = session.get_one(Submission, value.submission_id)
    email = (
        session.scalar(select(User.email).where(User.id == sub.submitted_by_id))
        if sub.submitted_by_id is not None
        else None
    )
    code = session.scalar(select(Indicator.code).where(Indicator.id == value.indicator_id))
    event = value_event(
        value.id,
        "create",
        None,
        _fields_of(value),
        None,
        indicator=code,
        disaggregation=value.disaggregation,
    )
    return HistoryEntry(
        at=sub.submitted_at,
        actor_label=f"user:{email}" if email is not None else None,
        action="create",
        before=None,
        after=event["after"],
        reason=None,
    )
