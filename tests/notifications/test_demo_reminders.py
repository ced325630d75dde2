"""On the demo built on a fixed day, the default schedule reminds exactly the partners that have
not submitted, on the schedule's days, and the reminders reach a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Member,
    Obligation,
    Organisation,
    OutboxMessage,
    Period,
    RoleGrant,
    Submission,
    User,
)
from models.demo.builder import load_demo
from models.notifications.email import SmtpSender
from models.notifications.reminders import plan, schedule_reminders
from models.notifications.worker import DeliveryWorker

from .smtp import SmtpServer

BUILT = date(2026, 11, 30)  # 2026Q4 open (due 30 Jan 2027), 2026Q3 under review (closes 31 Dec)


@pytest.fixture(scope="module")
def demo(database) -> Iterator[sessionmaker[Session]]:
    with database.engine.connect() as conn:
        outer = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            load_demo(session=session, today=BUILT)
            session.commit()
        yield sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        outer.rollback()


def _not_submitted(session: Session, period_key: str) -> set[tuple[str, str, str]]:
    """(initiative, organisation, reporter's e-mail) of every active member obliged to report
    whose report for the period is missing, a draft or returned: read object by object."""
    out = set()
    for member in session.scalars(select(Member).where(Member.active.is_(True))):
        if not session.scalar(select(func.count()).where(Obligation.member_id == member.id)):
            continue
        period = session.scalars(
            select(Period).where(
                Period.initiative_id == member.initiative_id, Period.key == period_key
            )
        ).one()
        status = session.scalar(
            select(Submission.status).where(
                Submission.member_id == member.id, Submission.period_id == period.id
            )
        )
        if status in (None, "draft", "returned"):
            org = session.get(Organisation, member.organisation_id)
            for user in session.scalars(
                select(User)
                .join(RoleGrant, RoleGrant.user_id == User.id)
                .where(
                    RoleGrant.role == "reporter",
                    RoleGrant.initiative_id == member.initiative_id,
                    RoleGrant.organisation_id == member.organisation_id,
                )
            ):
                out.add((member.initiative.slug, org.slug, user.email))
    return out


def test_the_demo_is_loaded_without_messages(demo) -> None:
    with demo() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2026, 11, 30), None),
        (date(2027, 1, 15), None),
        (date(2027, 1, 16), -14),
        (date(2027, 1, 27), -3),
        (date(2027, 1, 31), 1),
        (date(2027, 2, 6), 7),
        (date(2027, 2, 10), None),  # three days after the last reminder's day, nothing more
    ],
)
def test_the_schedule_reminds_the_partners_that_have_not_submitted(demo, day, offset) -> None:
    with demo() as session:
        planned = [p for p in plan(session=session, today=day) if p.kind == "reminder"]
        if offset is None:
            assert planned == []
            return
        assert {(p.period, p.offset, p.due_on) for p in planned} == {
            ("2026Q4", offset, date(2027, 1, 30))
        }
        got = {(p.initiative, p.organisation, p.email) for p in planned}
        assert got == _not_submitted(session, "2026Q4")
        assert len(planned) == len(got) > 10  # one reminder per reporter, many partners


def test_the_days_reminders_arrive_at_a_real_smtp_server(demo) -> None:
    server = SmtpServer().start()
    try:
        with demo() as session:
            written = schedule_reminders(session=session, today=date(2027, 1, 16))
            session.commit()
            assert schedule_reminders(session=session, today=date(2027, 1, 17)) == 0
        worker = DeliveryWorker(demo, SmtpSender(server.url, "cm@x.org"))
        tick = worker.run_once(reminders=False)
        assert tick.sent == written and len(server.inbox.messages) == written
        subjects = {m["Subject"].split(": ", 1)[1] for m in server.inbox.messages}
        assert subjects == {"the 2026Q4 report is due in 14 days"}
    finally:
        server.stop()
