"""Deadline extensions: one partner's report may still be written after its period closed.

A partner that cannot report in time, or whose report the backbone team returns after the
period closed, gets more time for that one report, instead of the whole period being reopened
for everyone. An extension names a member, a period and the day ``until`` which the member's
reporters may still save, import and submit (``models.reporting.submissions.check_writable``
reads it; a locked period stays locked). There is at most one per member and period: granting
again moves its day. Only the backbone team grants and revokes; the member's reporters read
their own. Every grant, change and revocation is in the audit trail with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from models.access.permissions import viewable_initiative
from models.audit.trail import jsonable, record
from models.core import dates
from models.core.actors import Actor, require_login
from models.core.dates import day as readable
from models.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.core.fields import checked_date, checked_text
from models.core.i18n import gettext
from models.core.paging import DEFAULT_LIMIT, Page, check_page
from models.reporting.submissions import (
    SubmissionView,
    WriteContext,
    _visible_member,
    extended_until,
    partner_refusal,
    report_context,
    transition,
    window_refusal,
)
from models.tables.access import User
from models.tables.base import utcnow
from models.tables.initiative import Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import DeadlineExtension, Submission

ENTITY = "deadline_extension"
REASON_MAX = 4000  # as long as a return comment, which can be the reason


@dataclass(frozen=True)
class ExtensionView:
    """One extension as the pages and the API show it; ``running`` while ``until`` is today
    or later (the member's reporters may still write)."""

    organisation: str
    organisation_name: str
    period: str
    closes_on: date
    until: date
    reason: str
    granted_at: datetime
    granted_by: str | None  # the granting user's e-mail, None once that account is gone
    running: bool


@dataclass(frozen=True)
class ReportDeadline:
    """One member's reporting window for one period as it stands today: for the review page
    (is the period closed for the partner, so that returning the report needs an extension?)
    and the portal (until when may the partner write?)."""

    organisation: str
    period: str
    due_on: date
    closes_on: date
    locked: bool
    extended_until: date | None
    partner_may_write: bool  # the window lets the member's reporters write today
    partner_refusal: str | None  # why not, as they would read it
    refusal: str | None  # why the window refuses the asking actor's writes today (the portal)


def _query(initiative_id: int) -> Select[DeadlineExtension, Organisation, Period, str]:
    """Extensions with their organisation, period and granting user's e-mail (None once the
    account is gone: an outer join)."""
    return (
        select(DeadlineExtension, Organisation, Period, User.email)
        .join(Member, Member.id == DeadlineExtension.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == DeadlineExtension.period_id)
        .outerjoin(User, User.id == DeadlineExtension.granted_by_id)
        .where(DeadlineExtension.initiative_id == initiative_id)
    )


def _view(row: Row[DeadlineExtension, Organisation, Period, str], today: date) -> ExtensionView:
    extension, organisation, period, email = row
    return ExtensionView(
        organisation=organisation.slug,
        organisation_name=organisation.name,
        period=period.key,
        closes_on=period.closes_on,
        until=extension.until,
        reason=extension.reason,
        granted_at=extension.granted_at,
        granted_by=email,
        running=today <= extension.until,
    )


def _snapshot(ctx: WriteContext, extension: DeadlineExtension) -> dict[str, Any]:
    return {
        "organisation": ctx.organisation.slug,
        "period": ctx.period.key,
        "until": jsonable(extension.until),
        "reason": extension.reason,
    }


def _found(session: Session, ctx: WriteContext) -> DeadlineExtension | None:
    return session.scalar(
        select(DeadlineExtension).where(
            DeadlineExtension.member_id == ctx.member.id,
            DeadlineExtension.period_id == ctx.period.id,
        )
    )


def _described(session: Session, ctx: WriteContext, today: date) -> ExtensionView:
    row = session.execute(
        _query(ctx.initiative.id).where(
            DeadlineExtension.member_id == ctx.member.id,
            DeadlineExtension.period_id == ctx.period.id,
        )
    ).first()
    if row is None:
        raise NotFound(
            gettext(
                "%(slug)r has no deadline extension for %(key)s",
                slug=ctx.organisation.slug,
                key=ctx.period.key,
            ),
            field="period",
        )
    return _view(row, today)


def _backbone_context(
    session: Session, actor: Actor, initiative_slug: str, org_slug: str, period_key: str
) -> WriteContext:
    """The report, for a backbone-only change: 404 for whoever may not see it, 403 for its own
    reporters."""
    require_login(actor)
    ctx = report_context(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
    )
    if not actor.is_backbone(ctx.initiative.id):
        raise PermissionDenied(gettext("only the backbone team may extend or revoke a deadline"))
    return ctx


def list_extensions(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period: str | None = None,
    org: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    today: date | None = None,
) -> Page[ExtensionView]:
    """The initiative's extensions, latest period first (backbone: all; a reporter: its own
    organisations'; funders see no reports, so none)."""
    today = today or dates.today()
    check_page(limit, offset)
    initiative = viewable_initiative(session=session, actor=actor, slug=initiative_slug)
    query = _query(initiative.id)
    if not actor.is_backbone(initiative.id):
        own = actor.reporter_orgs(initiative.id)
        if not own:
            raise PermissionDenied(
                gettext("only backbone staff and reporters see deadline extensions")
            )
        query = query.where(Organisation.id.in_(own))
    if period:
        query = query.where(Period.key == period)
    if org:
        query = query.where(Organisation.slug == org)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(
        query.order_by(Period.starts_on.desc(), Organisation.name, Organisation.slug)
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(
        items=[_view(row, today) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


def get_extension(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    today: date | None = None,
) -> ExtensionView:
    """The member's extension for the period (404 when it has none), for whoever may see the
    report: the backbone team and the member's reporters."""
    require_login(actor)
    ctx = report_context(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
    )
    return _described(session, ctx, today or dates.today())


def grant_extension(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    until: date,
    reason: str,
    today: date | None = None,
) -> ExtensionView:
    """Backbone: let the member write its report for the period until ``until`` (inclusive),
    or move the day of its extension. ``until`` must fall after the period closes (before, the
    period is open anyway) and not in the past; ``reason`` is required and kept in the audit
    trail. Refused (409) for a locked period, which no extension opens."""
    today = today or dates.today()
    ctx = _backbone_context(session, actor, initiative_slug, org_slug, period_key)
    until, reason = _checked_grant(ctx, until, reason, today)
    extension = _found(session, ctx)
    before = None if extension is None else _snapshot(ctx, extension)
    if extension is None:
        extension = DeadlineExtension(
            initiative_id=ctx.initiative.id,
            member_id=ctx.member.id,
            period_id=ctx.period.id,
            until=until,
            reason=reason,
        )
        session.add(extension)
    elif (extension.until, extension.reason) == (until, reason):
        return _described(session, ctx, today)  # granted as asked already: nothing changes
    extension.until, extension.reason = until, reason
    extension.granted_at, extension.granted_by_id = utcnow(), actor.user_id
    session.flush()
    record(
        session=session,
        actor=actor,
        initiative_id=ctx.initiative.id,
        entity_type=ENTITY,
        entity_id=extension.id,
        action="create" if before is None else "update",
        before=before,
        after=_snapshot(ctx, extension),
        reason=reason,
    )
    return _described(session, ctx, today)


def _checked_grant(
    ctx: WriteContext, until: Any, reason: Any, today: date, reason_field: str = "reason"
) -> tuple[date, str]:
    """The day and reason of an extension of the report, or why it cannot be granted (the
    reason's refusal names ``reason_field``: the comment when returning with the extension)."""
    day = checked_date(until, "until")
    why = checked_text(reason, reason_field, max_length=REASON_MAX)
    if day <= ctx.period.closes_on:
        raise InvalidInput(
            gettext(
                "must be after the period closes (%(closes_on)s)",
                closes_on=readable(ctx.period.closes_on),
            ),
            field="until",
        )
    if day < today:
        raise InvalidInput(
            gettext("must be today (%(today)s) or later", today=readable(today)), field="until"
        )
    if ctx.period.locked:
        raise Conflict(
            gettext(
                "period %(key)s is locked; unlock it first (an extension does not open a "
                "locked period)",
                key=ctx.period.key,
            ),
            code="period_locked",
            field="period",
        )
    return day, why


def revoke_extension(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    today: date | None = None,
) -> ExtensionView:
    """Backbone: end the member's extension now (404 when it has none); the period's own
    window applies to its report again. Answers the extension as it was."""
    today = today or dates.today()
    ctx = _backbone_context(session, actor, initiative_slug, org_slug, period_key)
    described = _described(session, ctx, today)
    extension = _found(session, ctx)
    assert extension is not None  # described above
    record(
        session=session,
        actor=actor,
        initiative_id=ctx.initiative.id,
        entity_type=ENTITY,
        entity_id=extension.id,
        action="delete",
        before=_snapshot(ctx, extension),
    )
    session.delete(extension)
    session.flush()
    return described


def return_with_extension(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    comment: str,
    until: date,
    expected_version: int | None = None,
    today: date | None = None,
) -> tuple[SubmissionView, ExtensionView]:
    """Backbone: return a submitted report with ``comment`` and extend the member's deadline
    to ``until`` in one step, so the partner can correct it although the period has closed.
    The comment is the extension's reason. Both happen or, on any refusal, neither (the
    caller's transaction is rolled back); the extension is granted first, so the return sees
    the partner's window open again."""
    today = today or dates.today()
    ctx = _backbone_context(session, actor, initiative_slug, org_slug, period_key)
    if not isinstance(comment, str) or not comment.strip():  # in the words of a plain return
        raise InvalidInput(gettext("a comment is required to return a submission"), field="comment")
    _checked_grant(ctx, until, comment, today, reason_field="comment")
    extension = grant_extension(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
        until=until,
        reason=comment,
        today=today,
    )
    view = transition(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
        action="return",
        comment=comment,
        expected_version=expected_version,
        today=today,
    )
    return view, extension


def report_deadline(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    period_key: str,
    today: date | None = None,
) -> ReportDeadline:
    """The member's reporting window for the period today, for whoever may see its report."""
    today = today or dates.today()
    require_login(actor)
    ctx = report_context(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        org_slug=org_slug,
        period_key=period_key,
    )
    period = ctx.period
    mine = window_refusal(
        session=session,
        actor=actor,
        initiative_id=ctx.initiative.id,
        period=period,
        member_id=ctx.member.id,
        today=today,
    )
    theirs = (
        mine
        if period.locked
        else partner_refusal(session=session, period=period, member_id=ctx.member.id, today=today)
    )
    return ReportDeadline(
        organisation=ctx.organisation.slug,
        period=period.key,
        due_on=period.due_on,
        closes_on=period.closes_on,
        locked=period.locked,
        extended_until=extended_until(
            session=session, member_id=ctx.member.id, period_id=period.id
        ),
        partner_may_write=theirs is None,
        partner_refusal=None if theirs is None else theirs.message,
        refusal=None if mine is None else mine.message,
    )


# Reports still to send: none yet, a draft, or one returned to the partner.
PENDING = ("draft", "returned")


@dataclass(frozen=True)
class NextDeadline:
    """The member's most pressing report: the period, its due date, any extension, and the
    day it counts by (the extension's when one is granted, else the due date)."""

    organisation: str
    period: str
    due_on: date
    closes_on: date
    extended_until: date | None
    deadline: date
    days_left: int  # negative once the deadline has passed (the period may still be open)
    status: str  # "not started", "draft" or "returned"


def next_deadline(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    org_slug: str,
    today: date | None = None,
) -> NextDeadline | None:
    """The member's earliest deadline among the reports it may still write today and has not
    submitted (the portal's "next deadline"), or None when none is owed. The periods are those
    its reporters' saves accept (:func:`partner_refusal`: open, or closed with an extension
    running); for whoever may see its reports (404 otherwise)."""
    today = today or dates.today()
    require_login(actor)
    initiative = viewable_initiative(session=session, actor=actor, slug=initiative_slug)
    member, organisation = _visible_member(session, actor, initiative, org_slug)
    extended = exists().where(
        DeadlineExtension.period_id == Period.id,
        DeadlineExtension.member_id == member.id,
        DeadlineExtension.until >= today,
    )
    rows = session.execute(
        select(Period, Submission.status)
        .outerjoin(
            Submission,
            (Submission.period_id == Period.id) & (Submission.member_id == member.id),
        )
        .where(
            Period.initiative_id == initiative.id,
            Period.locked.is_(False),
            Period.opens_on <= today,
            or_(Period.closes_on >= today, extended),
        )
    ).all()
    owed: list[NextDeadline] = []
    for period, status in rows:
        if status is not None and status not in PENDING:
            continue
        if partner_refusal(session=session, period=period, member_id=member.id, today=today):
            continue
        until = extended_until(session=session, member_id=member.id, period_id=period.id)
        deadline = max(period.due_on, until) if until is not None else period.due_on
        owed.append(
            NextDeadline(
                organisation=organisation.slug,
                period=period.key,
                due_on=period.due_on,
                closes_on=period.closes_on,
                extended_until=until,
                deadline=deadline,
                days_left=(deadline - today).days,
                status=status or "not started",
            )
        )
    return min(owed, key=lambda d: (d.deadline, d.period), default=None)
