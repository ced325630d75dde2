"""The demo, built on a fixed day, through the weeks that follow with the calendar fixed
(``CM_TODAY``) and the delivery worker running each day against a real SMTP server: exactly
the expected escalations, period-opening notices, reminders (one partner's against its extended
deadline) and digests are written, each once, a batch goes over one connection, and the links
in the mail work."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models import Initiative, OutboxMessage, RoleGrant, User
from models.access.permissions import actor_for_user
from models.core.settings import get_settings
from models.demo.builder import load_demo
from models.demo.spec import DEMO_PASSWORD
from models.notifications.claims import BATCH
from models.notifications.email import SmtpSender
from models.notifications.worker import DeliveryWorker
from models.outbox.preferences import set_preferences
from models.reporting.deadlines import grant_extension
from models.tables.base import utcnow

from .smtp import SmtpServer
from .test_demo_reminders import _not_submitted

BUILT = date(2026, 11, 30)  # 2026Q3 due 30 Oct, closes 31 Dec; 2026Q4 due 30 Jan 2027
EXTENDED_UNTIL = date(2027, 1, 15)
LINK = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def demo(database) -> Iterator[sessionmaker[Session]]:
    with database.engine.connect() as conn:
        outer = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            load_demo(session=session, today=BUILT)
            session.commit()
        yield sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        outer.rollback()


@pytest.fixture
def on_day(monkeypatch):
    """Fix the calendar's today (models.core.dates.today) for the worker and the app."""

    def fix(day: date) -> None:
        monkeypatch.setenv("CM_TODAY", day.isoformat())
        get_settings.cache_clear()

    yield fix
    monkeypatch.delenv("CM_TODAY")
    get_settings.cache_clear()


def _backbone(session: Session, slug: str) -> list[str]:
    return list(
        session.scalars(
            select(User.email)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .join(Initiative, Initiative.id == RoleGrant.initiative_id)
            .where(RoleGrant.role == "backbone", Initiative.slug == slug)
        )
    )


def _owed(session: Session, period: str) -> dict[tuple[str, str], set[str]]:
    """(initiative, organisation) → reporters' e-mails, of the reports owed for the period."""
    out: dict[tuple[str, str], set[str]] = {}
    for initiative, org, email in _not_submitted(session, period):
        out.setdefault((initiative, org), set()).add(email)
    return out


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_season_of_notifications_on_the_demo(demo, on_day) -> None:
    server = SmtpServer().start()
    worker = DeliveryWorker(demo, SmtpSender(server.url, "cm@x.org"))
    seen = 0

    def day(when: date, *, digest_due: bool = False) -> set[tuple[str, str, str, str, str]]:
        """One worker round on ``when``: the messages written, as (kind, to, initiative,
        organisation, period), checking that each batch went over one connection."""
        nonlocal seen
        on_day(when)
        before = server.inbox.connections
        # A minute ahead: the messages this round writes are due at once.
        later = timedelta(days=1) if digest_due else timedelta(minutes=1)
        tick = worker.run_once(utcnow() + later)
        assert tick.failed == tick.retrying == 0
        assert server.inbox.connections - before == math.ceil(tick.claimed / BATCH)
        with demo() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > seen).order_by(OutboxMessage.id)
            ).all()
        seen = max([seen, *(r.id for r in rows)])
        return {
            (
                r.kind,
                r.address,
                r.payload.get("initiative", "-"),
                r.payload.get("organisation", "-"),
                r.payload.get("period", "-"),
            )
            for r in rows
        }

    try:
        with demo() as session:
            late_q3 = _owed(session, "2026Q3")
            owed_q1 = _owed(session, "2027Q1")
            owed_q4 = _owed(session, "2026Q4")
            staff = {slug: _backbone(session, slug) for slug, _ in late_q3}
            # One late partner of 2026Q3 is given until 15 Jan; its reporter hears of
            # reminders and openings once a day.
            (init, org) = extended = min(late_q3)
            [reporter] = late_q3[extended]
            grant_extension(
                session=session,
                actor=actor_for_user(
                    session=session,
                    user=session.scalar(select(User).where(User.email == staff[init][0])),
                ),
                initiative_slug=init,
                org_slug=org,
                period_key="2026Q3",
                until=EXTENDED_UNTIL,
                reason="Their data manager left",
                today=BUILT,
            )
            set_preferences(
                session=session,
                actor=actor_for_user(
                    session=session,
                    user=session.scalar(select(User).where(User.email == reporter)),
                ),
                modes={"reminder": "daily", "period_opened": "daily"},
            )
            session.commit()
        assert len(late_q3) == 11 and len(owed_q1) == len(owed_q4) == 28

        # Built day: every late 2026Q3 report but the extended one is escalated to its
        # initiative's backbone staff.
        escalations = {
            ("escalation", to, i, o, "2026Q3")
            for (i, o) in late_q3
            if (i, o) != extended
            for to in staff[i]
        }
        assert len(escalations) == 10
        assert day(BUILT) == escalations
        assert len(server.inbox.messages) == 10
        first = server.inbox.messages[0]
        assert first["Subject"].endswith("2026Q3 report is 31 days overdue")
        assert day(BUILT + timedelta(days=1)) == set()  # once

        # 1 Jan: 2027Q1 opens for every partner; the extended partner is reminded 14 days
        # before its own deadline (held for its reporter's digest, as are its opening's).
        opens = {
            ("period_opened", to, i, o, "2027Q1")
            for (i, o), emails in owed_q1.items()
            for to in emails
        }
        reminder = ("reminder", reporter, init, org, "2026Q3")
        assert day(date(2027, 1, 1)) == opens | {reminder}
        opened = [
            m for m in server.inbox.messages[10:] if "are open, due 30 Apr 2027" in m["Subject"]
        ]
        assert len(opened) == len(opens) - 1 == len(server.inbox.messages) - 10

        # 2 Jan: nothing new to write; the extended partner's reporter gets the one digest.
        assert day(date(2027, 1, 2), digest_due=True) == {("digest", reporter, "-", "-", "-")}
        [digest] = server.inbox.messages[10 + len(opened) :]
        assert digest["To"] == reporter
        assert digest["Subject"].endswith(": 2 messages")
        with demo() as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).one()
        assert [(o["period"], o["due_on"]) for o in row.payload["obligations"]] == [
            ("2026Q3", "2027-01-15"),
            ("2026Q4", "2027-01-30"),
            ("2027Q1", "2027-04-30"),
        ]

        # 12 Jan: the extended partner's deadline is 3 days away (held for the digest again).
        assert day(date(2027, 1, 12)) == {reminder}
        # 16 Jan: 2026Q4 is due in 14 days. The extended deadline passed yesterday, its last
        # day to write: no reminder any more.
        q4 = {
            ("reminder", to, i, o, "2026Q4") for (i, o), emails in owed_q4.items() for to in emails
        }
        assert day(date(2027, 1, 16)) == q4

        # 22 Jan: the extended deadline was missed a week ago: the backbone team hears of it.
        assert day(date(2027, 1, 22)) == {
            ("escalation", to, init, org, "2026Q3") for to in staff[init]
        }
        assert day(date(2027, 1, 23)) == set()

        # The links work: the reporting page, the template of an opening, the digest's own.
        by_kind = {m["X-CM-Kind"]: m for m in server.inbox.messages}
        links = {k: LINK.findall(m.get_body(("plain",)).get_content()) for k, m in by_kind.items()}
        escalation_link, opening_link = links["escalation"][0], links["period_opened"][0]
        assert _path(escalation_link).startswith("/reporting?initiative=")
        assert _path(opening_link).startswith("/portal/template.xlsx?initiative=")
        owed_links = [
            l
            for l in LINK.findall(digest.get_body(("plain",)).get_content())
            if "template.xlsx" in l
        ]
        assert len(owed_links) == 3 + 1  # three owed reports, and the opening held for it
        on_day(date(2027, 1, 2))
        logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs URLs, tokens included
        app = create_app(demo)
        with TestClient(app) as client:
            assert client.get(_path(escalation_link)).status_code == 200
            portal = links["period_opened"][1]
            assert _path(portal).startswith("/portal?initiative=")
            assert client.get(_path(portal)).status_code == 200

        def browser(email: str) -> TestClient:
            """A browser that clicked a mail's link: sent to the login form, it logs in there
            and comes back (the session cookie kept by the client, as a browser keeps it)."""
            client = TestClient(app)
            to_login = client.get(_path(opening_link), follow_redirects=False)
            assert to_login.status_code == 303
            assert to_login.headers["location"].startswith("/login?")
            [back] = parse_qs(urlsplit(to_login.headers["location"]).query)["next"]
            assert back == _path(opening_link)
            logged_in = client.post(
                "/auth/login",
                data={"email": email, "password": DEMO_PASSWORD, "next": back},
                follow_redirects=False,
            )
            assert logged_in.headers["location"] == back
            return client

        def xlsx(client: TestClient, link: str) -> None:
            got = client.get(_path(link), follow_redirects=False)
            assert got.status_code == 200, (link, got.status_code, got.text[:300])
            assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
            assert got.content.startswith(b"PK")  # a zip, as every .xlsx is
            assert got.headers["cache-control"] == "private, no-store"

        with browser(by_kind["period_opened"]["To"]) as opener:
            xlsx(opener, opening_link)
        with browser(reporter) as mine:
            for link in owed_links:
                xlsx(mine, link)
    finally:
        server.stop()
