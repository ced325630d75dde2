"""The review queue with the browser set to Spanish: the page, the queue, a report with what
changed since it was returned, and a value's history, with no English UI text; the same page
in English unchanged (README, "Languages")."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from models import Indicator, Initiative, Organisation

from ..dash_calls import log_in, render_page, response_of, text_of
from ..dashboard.test_review_history import EAST, _detail, _history, _queue, world  # noqa: F401
from .english import english_in, visible_strings

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def backbone(client, world, session):  # noqa: F811
    """The backbone team logged in; the factory's names ("Indicator 3", "Initiative 1") are
    data, not UI text, so they are renamed."""
    session.execute(update(Indicator).values(name="Niños " + Indicator.code))
    session.execute(update(Initiative).values(name="Cuna a carrera"))
    session.execute(update(Organisation).values(name="Entidad " + Organisation.slug))
    session.commit()
    log_in(client, world["users"]["backbone"])
    return world


def _answers(client, world) -> list:  # noqa: F811
    page = render_page(client, "/reporting/review", "?initiative=c2c")
    queue = _queue(client)
    options = response_of(queue)["review-queue"]["options"]
    return [page, queue, _detail(client, EAST, options), _history(client, world["served"])]


def _english_found(answers) -> list[tuple[str, str]]:
    texts: list[str] = []
    for answer in answers:
        texts += visible_strings(response_of(answer))
    return english_in(texts)


@pytest.mark.usefixtures("backbone")
def test_the_review_queue_in_spanish(client, world) -> None:  # noqa: F811
    client.headers.update(SPANISH)
    answers = _answers(client, world)
    # The value history's dialog is the partner side's component: its body is checked there.
    found = _english_found(answers[:3])
    assert not found, found
    page, queue, detail = (text_of(a) for a in answers[:3])
    assert "Cola de revisión" in page and "Devolver con comentario" in page
    assert "2 informes en espera, los más antiguos primero" in queue
    assert "Devuelto el " in detail and "Desde la versión" in detail
    assert "1 modificado" in detail  # SERVED corrected
    client.headers.update(ENGLISH)
    english = [text_of(a) for a in _answers(client, world)[:3]]
    assert "Review queue" in english[0] and "2 reports waiting, oldest first" in english[1]
    assert "Returned " in english[2] and "Since version" in english[2]
