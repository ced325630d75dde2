"""Who was told what about a period, for its backbone team: each reminder and review notice by
partner, a failed message with its last error, a message that went out in a digest with the
digest's delivery; nobody else reads it (models/notifications/history.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from models import OutboxMessage, User
from models.access.permissions import actor_for_user
from models.core.errors import NotFound, PermissionDenied
from models.notifications.digests import bundle_digests
from models.notifications.history import reminded
from models.notifications.reminders import schedule_reminders
from models.outbox.preferences import set_preferences

from .. import factories as f
from . import world as w

DUE = w.DUE
ERROR = "PermanentFailure: 550 mailbox unavailable"


def _as(session, email: str):
    user = session.scalar(select(User).where(User.email == email))
    return actor_for_user(session=session, user=user)


def _world(session) -> dict:
    """eastside reminded 14 days before (e1 failed, e2 in a digest); westside returned, so
    reminded too."""
    world = w.build(session)
    set_preferences(session=session, actor=_as(session, "e2@x.org"), modes={"reminder": "daily"})
    w.submit(session, "westside")
    w.decide(session, world, "westside", "return", "Recount the autumn intake")
    assert schedule_reminders(session=session, today=DUE - timedelta(days=14)) == 3
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.address == "e1@x.org")
        .values(status="failed", attempts=1, last_error=ERROR)
    )
    assert bundle_digests(session=session, now=datetime.now(UTC) + timedelta(days=1)) == 1
    sent = datetime(2027, 1, 17, 8, 0, tzinfo=UTC)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == "digest")
        .values(status="sent", sent_at=sent)
    )
    session.flush()
    return world


def test_the_backbone_sees_each_partners_messages_and_what_failed(session) -> None:
    _world(session)
    view = reminded(
        session=session, actor=w.backbone(session), initiative_slug="c2c", period="2025Q3"
    )
    assert (view.period, view.due_on) == ("2025Q3", DUE)
    rows = [(n.organisation, n.kind, n.to, n.status, n.offset, n.in_digest) for n in view.notices]
    assert rows == [
        ("eastside", "reminder", "e1@x.org", "failed", -14, False),
        ("eastside", "reminder", "e2@x.org", "sent", -14, True),
        ("westside", "report_returned", "w@x.org", "pending", None, False),
        ("westside", "reminder", "w@x.org", "pending", -14, False),
    ]
    failed = view.failed
    assert [(n.to, n.last_error) for n in failed] == [("e1@x.org", ERROR)]
    in_digest = view.notices[1]
    assert in_digest.sent_at is not None and in_digest.sent_at.day == 17
    assert view.notices[0].organisation_name == "Eastside"


def test_another_period_has_no_messages_and_an_unknown_one_is_404(session) -> None:
    world = _world(session)
    f.period(session, world["init"], "2025Q4")
    session.flush()
    bb = w.backbone(session)
    assert reminded(session=session, actor=bb, initiative_slug="c2c", period="2025Q4").notices == []
    with pytest.raises(NotFound):
        reminded(session=session, actor=bb, initiative_slug="c2c", period="2031Q1")


@pytest.mark.parametrize("email", ["e1@x.org", "w@x.org", "funder@x.org"])
def test_partners_and_funders_may_not_read_it(session, email) -> None:
    _world(session)
    with pytest.raises(PermissionDenied):
        reminded(session=session, actor=_as(session, email), initiative_slug="c2c", period="2025Q3")


def test_another_initiatives_backbone_does_not_see_the_initiative(session) -> None:
    _world(session)
    other = f.initiative(session, slug="other", name="Other")
    f.user(session, "backbone", init=other, email="bb@other.org")
    session.flush()
    with pytest.raises(NotFound):
        reminded(
            session=session,
            actor=_as(session, "bb@other.org"),
            initiative_slug="c2c",
            period="2025Q3",
        )


def test_through_the_api(client, session) -> None:
    _world(session)
    session.commit()

    def login(email: str) -> dict[str, str]:
        answer = client.post("/api/v1/auth/token", data={"username": email, "password": f.PASSWORD})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    url = "/api/v1/initiatives/c2c/periods/2025Q3/notifications"
    answer = client.get(url, headers=login("bb@x.org"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["due_on"] == DUE.isoformat()
    assert [(n["to"], n["status"], n["last_error"]) for n in body["notices"]] == [
        ("e1@x.org", "failed", ERROR),
        ("e2@x.org", "sent", None),
        ("w@x.org", "pending", None),
        ("w@x.org", "pending", None),
    ]
    refused = client.get(url, headers=login("w@x.org"))
    assert refused.status_code == 403
    assert "e1@x.org" not in refused.text
    missing = client.get(url.replace("2025Q3", "2031Q1"), headers=login("bb@x.org"))
    assert (missing.status_code, missing.json()["field"]) == (404, "period")


def test_a_publication_notice_comes_after_the_partners_and_other_periods_stay_out(
    session,
) -> None:
    from models.outbox.messages import enqueue

    world = _world(session)
    for period in ("2025Q3", "2025Q2"):
        enqueue(
            session=session,
            kind="period_published",
            event=f"period_published:{period}",
            recipients=[world["funder"]],
            payload={"initiative": "c2c", "period": period, "note": None},
            initiative_id=world["init"].id,
        )
    view = reminded(
        session=session, actor=w.backbone(session), initiative_slug="c2c", period="2025Q3"
    )
    last = view.notices[-1]
    assert (last.kind, last.organisation, last.to) == ("period_published", None, "funder@x.org")
    assert [n.kind for n in view.notices].count("period_published") == 1


def test_a_bounce_marks_the_message_and_a_digests_bounce_its_messages(session) -> None:
    """A bounce handed in later (models/notifications/bounces.py) turns a sent message into a
    bounced one; a message that went out in a digest bounces with the digest."""
    from models import MailBounce

    _world(session)
    digest = session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "digest"))
    session.add(
        MailBounce(
            outbox_id=digest,
            message_id="<d@common-measure>",
            recipient="e2@x.org",
            status_code="5.2.2",
            action="failed",
            diagnostic="smtp; 552 mailbox full",
            received_at=datetime(2027, 1, 18, tzinfo=UTC),
        )
    )
    session.flush()
    view = reminded(
        session=session, actor=w.backbone(session), initiative_slug="c2c", period="2025Q3"
    )
    rows = [(n.to, n.status, n.bounce_status, n.bounce_diagnostic) for n in view.notices]
    assert rows[:2] == [
        ("e1@x.org", "failed", None, None),
        ("e2@x.org", "bounced", "5.2.2", "smtp; 552 mailbox full"),
    ]
    assert [n.to for n in view.bounced] == ["e2@x.org"]
    assert [n.to for n in view.failed] == ["e1@x.org"]
