"""E-mails in their recipient's language: each recipient's own setting, English without one
(README, "Languages")."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models import MailboxMessage, User
from models.core import i18n
from models.core.db import session_scope
from models.notifications.email import MailboxSender, render
from models.notifications.worker import DeliveryWorker
from models.tables.notifications import KINDS

from ..conftest import BACKENDS
from ..notifications import world as w
from ..notifications.test_email import PAYLOAD
from .english import english_in


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_mail_in_spanish_has_no_english(kind: str) -> None:
    # What people wrote (a comment, a publication's note) is data, not UI text: in Spanish here.
    payload = {**PAYLOAD, "comment": "Recuento <script>", "note": "Ahora con <i>todos</i>"}
    with i18n.use_locale("es"):
        mail = render(kind=kind, to="a@x.org", user_id=7, payload=payload, link="l", key="k")
    texts = [mail.subject, *mail.text.splitlines(), *mail.html.splitlines()]
    assert not english_in(texts), english_in(texts)
    assert "<script>" not in mail.html  # escaped in Spanish as in English
    assert '<html lang="es">' in mail.html
    if "due_on" in PAYLOAD and kind in ("reminder", "period_opened", "escalation"):
        assert "30 de enero de 2027" in mail.text


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_returned_report_mails_each_reporter_in_their_language(fresh_database) -> None:
    fresh_database.migrate()
    factory: sessionmaker[Session] = sessionmaker(fresh_database.engine, expire_on_commit=False)
    with session_scope(factory) as session:
        world = w.build(session)
        w.submit(session, "eastside")
        session.execute(update(User).where(User.email == "e1@x.org").values(locale="es"))
    with session_scope(factory) as session:
        w.decide(session, world, "eastside", "return", "Recount the autumn intake")
    DeliveryWorker(factory, MailboxSender()).run_once(reminders=False)
    with factory() as session:
        mails = {m.to_address: m for m in session.query(MailboxMessage)}
    spanish, english = mails["e1@x.org"], mails["e2@x.org"]
    assert spanish.subject == "Eastside: se le devolvió su informe de 2025Q3 con un comentario"
    assert spanish.text_body.startswith("Hola:\n\nEl equipo coordinador de ")
    assert "Recount the autumn intake" in spanish.text_body  # the comment is as written
    assert not english_in(spanish.text_body.splitlines())
    assert english.subject == "Eastside: your 2025Q3 report was returned with a comment"
    assert english.text_body.startswith("Hello,")
