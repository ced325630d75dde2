"""Messages are written in the transaction of the change they tell of: one per recipient and
channel, resolved from the grants; none when the change rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import OutboxMessage, Submission
from models.access.invitations import invite_user
from models.access.permissions import actor_for_user
from models.core.db import session_scope
from models.outbox.messages import enqueue
from models.outbox.preferences import set_preferences
from models.outbox.webhooks import announce
from models.publishing.publish import publish
from models.webhooks.endpoints import create_endpoint, update_endpoint

from . import world as w


def _rows(session, kind=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def test_a_return_tells_the_partners_reporters_with_the_comment(session) -> None:
    world = w.build(session)
    w.submit(session, "eastside")
    w.decide(session, world, "eastside", "return", "Recount the <b>autumn</b> intake")
    rows = _rows(session)
    assert [(r.kind, r.address) for r in rows] == [
        ("report_returned", "e1@x.org"),
        ("report_returned", "e2@x.org"),
    ]
    assert rows[0].payload["comment"] == "Recount the <b>autumn</b> intake"
    assert rows[0].payload["period"] == "2025Q3" and rows[0].status == "pending"
    assert rows[0].payload["by"] == "bb@x.org"  # who returned it, as people read it
    assert len({r.idempotency_key for r in rows}) == 2


def test_approve_reopen_and_publish_each_tell_their_people(session) -> None:
    world = w.build(session)
    w.submit(session, "eastside")
    w.decide(session, world, "eastside", "approve")
    w.decide(session, world, "eastside", "reopen", "A correction is due")
    w.submit(session, "eastside")
    w.decide(session, world, "eastside", "approve")
    publish(
        session=session,
        actor=w.backbone(session, world),
        initiative_slug="c2c",
        period_key="2025Q3",
        confirm_incomplete=True,
    )
    kinds = [(r.kind, r.address) for r in _rows(session)]
    assert kinds == [
        ("report_approved", "e1@x.org"),
        ("report_approved", "e2@x.org"),
        ("report_reopened", "e1@x.org"),
        ("report_reopened", "e2@x.org"),
        ("report_approved", "e1@x.org"),
        ("report_approved", "e2@x.org"),
        # the funder; the backbone officer who published needs no notice of it
        ("period_published", "funder@x.org"),
    ]


def test_an_invitation_mails_the_invitee_without_holding_the_link(session) -> None:
    world = w.build(session)
    invitation = invite_user(
        session=session,
        actor=actor_for_user(session=session, user=world["admin"]),
        email="new@x.org",
        role="funder",
        initiative_slug="c2c",
        base_url="http://testserver/",
    )
    [row] = _rows(session, "invitation")
    assert row.address == "new@x.org"
    token = invitation.link.split("token=", 1)[1]
    assert token not in str(row.payload)


def test_nothing_is_written_when_the_change_rolls_back(session_factory) -> None:
    with session_scope(session_factory) as session:
        world = w.build(session)
        w.submit(session, "eastside")
    with pytest.raises(RuntimeError), session_scope(session_factory) as session:
        w.decide(session, world, "eastside", "return", "Recount it")
        assert len(_rows(session)) == 2  # written with the change…
        raise RuntimeError("the request fails after the decision")
    with session_scope(session_factory) as session:
        assert _rows(session) == []  # …and gone with it
        assert session.scalar(select(Submission.status)) == "submitted"
    with session_scope(session_factory) as session:
        w.decide(session, world, "eastside", "return", "Recount it")
    with session_scope(session_factory) as session:
        assert len(_rows(session)) == 2


def test_a_kind_turned_off_is_not_written_and_an_event_is_written_once(session) -> None:
    world = w.build(session)
    set_preferences(
        session=session,
        actor=actor_for_user(session=session, user=world["east2"]),
        modes={"report_returned": "off"},
    )
    w.submit(session, "eastside")
    w.decide(session, world, "eastside", "return", "Recount it")
    assert [r.address for r in _rows(session)] == ["e1@x.org"]
    again = enqueue(
        session=session,
        kind="report_returned",
        event=_rows(session)[0].idempotency_key.rsplit(":", 2)[0],
        recipients=[world["east1"]],
        payload={},
    )
    assert again == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_webhooks_get_one_row_per_enabled_endpoint_that_wants_the_event(session) -> None:
    world = w.build(session)
    bb = w.backbone(session)
    hook = {"session": session, "actor": bb, "initiative_slug": "c2c"}
    listening = create_endpoint(**hook, url="https://a.example.org/h")
    create_endpoint(**hook, url="https://b.example.org/h", events=["period_published"])
    paused = create_endpoint(**hook, url="https://c.example.org/h")
    update_endpoint(**hook, endpoint_id=paused.id, changes={"enabled": False})
    w.submit(session, "eastside")
    w.decide(session, world, "eastside", "approve")
    rows = [r for r in _rows(session) if r.channel == "webhook"]
    assert [(r.kind, r.webhook_endpoint_id, r.recipient_user_id, r.address) for r in rows] == [
        ("report_approved", listening.id, None, "https://a.example.org/h")
    ]
    event = rows[0].idempotency_key.rsplit(":", 2)[0]
    again = announce(
        session=session,
        kind="report_approved",
        event=event,
        initiative_id=world["init"].id,
        data=rows[0].payload,
    )
    assert again == 0  # an event is written once per endpoint
    assert len([r for r in _rows(session) if r.channel == "webhook"]) == 1
