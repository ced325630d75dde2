"""What the initiative's partners were told about one period, for its backbone team: who was
reminded when, whose report was returned, approved or reopened, and which messages failed
(README, "Notifications"), and which bounced afterwards.

Read from the outbox, which keeps every message with its delivery: the period and partner are
those of the message's payload, as the change that wrote it saw them. A message held for a
daily digest is shown with the digest's delivery, as that is when its recipient got it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from models.access.permissions import get_initiative
from models.core.actors import Actor, require_login
from models.core.errors import NotFound
from models.core.i18n import gettext
from models.tables.initiative import Period
from models.tables.notifications import MailBounce, OutboxMessage

# The kinds that tell of one period (an invitation or a digest names none of its own).
PERIOD_KINDS = (
    "reminder",
    "report_returned",
    "report_approved",
    "report_reopened",
    "period_published",
)


@dataclass(frozen=True)
class Notice:
    """One message about the period to one person, and how its delivery went."""

    id: int
    kind: str
    organisation: str | None  # the partner's slug; None for a message to funders and backbone
    organisation_name: str | None
    to: str
    written_at: datetime
    sent_at: datetime | None
    status: str  # the outbox's; "bundled" reads with the digest's status and time
    attempts: int
    last_error: str | None
    offset: int | None  # a reminder's day from the due date (negative: before it)
    in_digest: bool
    # A delivery status notification said it failed after it was sent (status "bounced").
    bounce_status: str | None = None  # RFC 3463, e.g. "5.1.1"
    bounce_diagnostic: str | None = None
    bounced_at: datetime | None = None


@dataclass(frozen=True)
class PeriodNotices:
    period: str
    due_on: date
    notices: list[Notice]

    @property
    def failed(self) -> list[Notice]:
        return [n for n in self.notices if n.status == "failed"]

    @property
    def bounced(self) -> list[Notice]:
        return [n for n in self.notices if n.status == "bounced"]


def reminded(*, session: Session, actor: Actor, initiative_slug: str, period: str) -> PeriodNotices:
    """The messages about ``period`` of the initiative, by partner then time (backbone only:
    others who see the initiative get 403, as one partner must not read another's; 404 for
    whoever may not see it, and for a period it does not have)."""
    require_login(actor)
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    found = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == period)
    )
    if found is None:
        raise NotFound(
            gettext(
                "no period %(period)r in %(initiative_slug)r",
                period=period,
                initiative_slug=initiative_slug,
            ),
            field="period",
        )
    digest = aliased(OutboxMessage)
    rows = session.execute(
        select(OutboxMessage, digest.status, digest.sent_at, digest.last_error)
        .outerjoin(digest, digest.id == OutboxMessage.bundled_into)
        .where(
            OutboxMessage.initiative_id == initiative.id,
            OutboxMessage.kind.in_(PERIOD_KINDS),
            OutboxMessage.payload["period"].as_string() == found.key,
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    # A bundled message bounces with its digest: the bounce of the mail that carried it.
    carried = {r[0].id: r[0].bundled_into or r[0].id for r in rows}
    bounces: dict[int, MailBounce] = {}
    if carried:
        for b in session.scalars(
            select(MailBounce)
            .where(MailBounce.outbox_id.in_(set(carried.values())))
            .order_by(MailBounce.id)
        ):
            bounces[b.outbox_id or 0] = b  # the latest wins
    notices = [_notice(*row, bounces.get(carried[row[0].id])) for row in rows]
    notices.sort(
        key=lambda n: (n.organisation is None, n.organisation_name or "", n.organisation or "")
    )
    return PeriodNotices(found.key, found.due_on, notices)


def _notice(
    m: OutboxMessage,
    digest_status: str | None,
    digest_sent_at: datetime | None,
    digest_error: str | None,
    bounce: MailBounce | None,
) -> Notice:
    payload = m.payload or {}
    bundled = m.status == "bundled"
    offset = payload.get("offset") if m.kind == "reminder" else None
    status = (digest_status or "pending") if bundled else m.status
    if bounce is not None and status == "sent":
        status = "bounced"
    return Notice(
        id=m.id,
        kind=m.kind,
        organisation=payload.get("organisation"),
        organisation_name=payload.get("organisation_name"),
        to=m.address,
        written_at=m.created_at,
        sent_at=digest_sent_at if bundled else m.sent_at,
        status=status,
        attempts=m.attempts,
        last_error=digest_error if bundled else m.last_error,
        offset=offset if isinstance(offset, int) else None,
        in_digest=bundled,
        bounce_status=bounce.status_code if bounce else None,
        bounce_diagnostic=bounce.diagnostic if bounce else None,
        bounced_at=bounce.received_at if bounce else None,
    )
