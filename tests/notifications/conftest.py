"""Fixtures shared by the bounce tests: reminders really sent through a local SMTP server."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.core.db import session_scope
from models.notifications.email import SmtpSender
from models.notifications.reminders import schedule_reminders
from models.notifications.worker import DeliveryWorker

from . import world as w
from .smtp import SmtpServer


@pytest.fixture
def factory(fresh_database) -> sessionmaker[Session]:
    fresh_database.migrate()
    return sessionmaker(fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def sent(factory) -> dict[str, EmailMessage]:
    """eastside's and westside's reporters reminded 14 days before, the reminders delivered
    through a local SMTP server: each recipient's mail as the server received it."""
    with session_scope(factory) as session:
        w.build(session)
        assert schedule_reminders(session=session, today=w.DUE - timedelta(days=14)) == 3
    server = SmtpServer().start()
    try:
        tick = DeliveryWorker(factory, SmtpSender(server.url, "cm@x.org")).run_once(reminders=False)
    finally:
        server.stop()
    assert tick.sent == 3
    return {m["To"]: m for m in server.inbox.messages}  # type: ignore[misc]
