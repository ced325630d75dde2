"""Notifications: each person's preferences, the signed unsubscribe link (no login), each
initiative's reminder schedule, and the admin's view of the mailbox and the outbox. HTTP only;
the rules are in models/outbox and models/notifications."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import LoggedInDep, SessionDep
from api.schemas.common import ErrorRead, Page
from api.schemas.notifications import (
    BounceClear,
    BounceClearedRead,
    BounceRead,
    BounceRecordedRead,
    MailRead,
    OutboxRead,
    PeriodNoticesRead,
    PreferenceRead,
    PreferencesPut,
    SchedulePut,
    ScheduleRead,
    UnsubscribedRead,
)
from models.core import i18n
from models.core.i18n import gettext
from models.notifications import bounces, history, reminders
from models.notifications import mailbox as admin_view
from models.outbox import preferences as prefs

router = APIRouter(tags=["notifications"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}
Token = Annotated[str, Query(min_length=1, max_length=2000, description="The signed link's token.")]


@router.get("/notifications/preferences", response_model=list[PreferenceRead], responses=ERRORS)
def get_preferences(session: SessionDep, actor: LoggedInDep):
    """How you want each kind of message: immediately (the default), daily or not at all."""
    return prefs.preferences(session=session, actor=actor)


@router.put("/notifications/preferences", response_model=list[PreferenceRead], responses=ERRORS)
def put_preferences(body: PreferencesPut, session: SessionDep, actor: LoggedInDep):
    """Change how you want some kinds of message."""
    return prefs.set_preferences(session=session, actor=actor, modes=dict(body.modes))


@router.get(
    "/notifications/unsubscribe",
    response_model=None,
    responses={
        200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
        422: {"model": ErrorRead},
    },
)
def unsubscribe_page(token: Token, session: SessionDep) -> HTMLResponse:
    """The page an unsubscribe link opens (no login): it names what stops and asks for a click,
    so a mail scanner that follows links turns nothing off."""
    user, kind = prefs.read_unsubscribe(session=session, token=token)
    i18n.prefer(user.locale)  # the language of the mail the link came in
    question = gettext(
        "Stop messages about %(kind)s to %(email)s?", kind=prefs.labels()[kind], email=user.email
    )
    body = (
        f"<!doctype html><html lang='{i18n.current_locale()}'><head><meta charset='utf-8'>"
        f"<title>{escape(gettext('Unsubscribe'))}</title></head>"
        "<body style='font-family: system-ui, sans-serif'>"
        f"<p>{escape(question)}</p>"
        f"<form method='post' action='?token={escape(token)}'>"
        f"<button type='submit'>{escape(gettext('Unsubscribe'))}</button></form></body></html>"
    )
    return HTMLResponse(body)


@router.post(
    "/notifications/unsubscribe",
    response_model=UnsubscribedRead,
    responses={422: {"model": ErrorRead}},
)
def unsubscribe(token: Token, session: SessionDep):
    """Turn the link's kind of message off for its person (no login: the link is signed). Mail
    clients' one-click unsubscribe (RFC 8058) posts here too."""
    return prefs.unsubscribe(session=session, token=token)


@router.get("/initiatives/{slug}/reminder-schedule", response_model=ScheduleRead, responses=ERRORS)
def get_schedule(slug: str, session: SessionDep, actor: LoggedInDep):
    """When the initiative's partners are reminded of a report not yet submitted, and when
    its backbone team is told of one overdue."""
    chosen = reminders.schedule(session=session, actor=actor, initiative_slug=slug)
    return ScheduleRead(offsets=chosen.offsets, escalate_after_days=chosen.escalate_after_days)


@router.put(
    "/initiatives/{slug}/reminder-schedule",
    response_model=ScheduleRead,
    responses={**ERRORS, 403: {"model": ErrorRead}},
)
def put_schedule(slug: str, body: SchedulePut, session: SessionDep, actor: LoggedInDep):
    """Replace the schedule (backbone): reminder days from the due date, negative before it,
    and the days overdue after which the backbone staff are told (7 when left out; null:
    never)."""
    chosen = reminders.set_schedule(
        session=session,
        actor=actor,
        initiative_slug=slug,
        offsets=list(body.offsets),
        escalate_after_days=body.escalate_after_days,
    )
    return ScheduleRead(offsets=chosen.offsets, escalate_after_days=chosen.escalate_after_days)


@router.get(
    "/initiatives/{slug}/periods/{key}/notifications",
    response_model=PeriodNoticesRead,
    responses=ERRORS,
)
def get_period_notifications(slug: str, key: str, session: SessionDep, actor: LoggedInDep):
    """Who was told what about the period (backbone): each reminder, return, approval,
    reopening and publication notice, by partner, with its delivery and last error."""
    return history.reminded(session=session, actor=actor, initiative_slug=slug, period=key)


@router.get("/notifications/mailbox", response_model=Page[MailRead], responses=ERRORS)
def get_mailbox(
    session: SessionDep,
    actor: LoggedInDep,
    to: Annotated[str | None, Query(max_length=254)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """The mail delivered locally (no CM_SMTP_URL), newest first (admin)."""
    items, total = admin_view.mailbox(
        session=session, actor=actor, to=to, limit=limit, offset=offset
    )
    return Page[MailRead](
        items=[MailRead.model_validate(m) for m in items], total=total, limit=limit, offset=offset
    )


@router.get("/notifications/outbox", response_model=Page[OutboxRead], responses=ERRORS)
def get_outbox(
    session: SessionDep,
    actor: LoggedInDep,
    status: Annotated[str | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Every message and its delivery: pending, sending, sent, failed (with the last error) or
    skipped, newest first (admin)."""
    items, total = admin_view.outbox(
        session=session, actor=actor, status=status, limit=limit, offset=offset
    )
    return Page[OutboxRead](
        items=[OutboxRead.model_validate(m) for m in items], total=total, limit=limit, offset=offset
    )


async def _raw_message(request: Request) -> bytes:
    """The body as it came, read no further than one byte past the cap (the domain refuses a
    message over it, after checking who asks)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > bounces.MAX_BYTES:
            break
    return bytes(raw[: bounces.MAX_BYTES + 1])


@router.post(
    "/notifications/bounces",
    response_model=BounceRecordedRead,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def post_bounce(
    raw: Annotated[bytes, Depends(_raw_message)], session: SessionDep, actor: LoggedInDep
):
    """Hand in a delivery status notification (RFC 3464), the raw message as the body (admin:
    the mail server's API key). Its failed recipients are recorded against the message it
    names, once however often it comes; a message that is no DSN, or names no mail of ours,
    is refused (422, field ``message``)."""
    report = bounces.record_bounce(session, raw, actor=actor)
    return BounceRecordedRead(
        outbox_id=report.outbox_id,
        message_id=report.message_id,
        recorded=len(report.recorded),
        bounced=[b.recipient for b in report.bounced],
        other=[f"{action}: {address}" for address, action in report.other],
    )


@router.get("/notifications/bounces", response_model=list[BounceRead], responses=ERRORS)
def get_bounces(
    session: SessionDep,
    actor: LoggedInDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """The latest bounces, newest first (admin): which addresses stopped taking our mail."""
    return bounces.recent(session=session, actor=actor, limit=limit)


@router.post("/notifications/bounces/clear", response_model=BounceClearedRead, responses=ERRORS)
def clear_bounces(body: BounceClear, session: SessionDep, actor: LoggedInDep):
    """Mail an address again after a hard bounce held it (admin: its owner says the mailbox
    works again). Every hard bounce of the address is cleared and audited; 404 when none
    holds it."""
    cleared = bounces.clear_bounces(session=session, actor=actor, address=body.address)
    return BounceClearedRead(address=cleared.address, cleared=cleared.count)
