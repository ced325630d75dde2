"""Attack review of content translations: refusals are 4xx naming the field, never a 500;
markup in a translation arrives escaped; a publication freezes only translations of the English
it publishes (a translation flagged for review translates an English that is not published)."""

from __future__ import annotations

import pytest

from models.core.actors import SYSTEM
from models.stories.stories import write_story

from .test_translations import C2C, SPANISH, V1, World, _approve_and_publish


@pytest.fixture
def w(session, client) -> World:
    return World(session, client)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"text": "Ni\\ud800o"}', "text"),  # a lone surrogate: no database stores it
        ({"text": 12}, "text"),
        ({"text": None}, "text"),
        ({}, "text"),
    ],
)
def test_odd_bodies_are_refused_naming_the_field(w, body, field) -> None:
    sent = (
        {"content": body, "headers": {"Content-Type": "application/json"}}
        if isinstance(body, str)
        else {"json": body}
    )
    answer = w.call("backbone", "PUT", f"{C2C}/es/indicator/KIDS/name", **sent)
    assert answer.status_code == 422, answer.text
    assert answer.json().get("field") == field, answer.json()


@pytest.mark.parametrize("query", [{"locale": "xx"}, {"locale": "en"}, {"needs_review": "maybe"}])
def test_odd_listing_queries_are_refused(w, query) -> None:
    answer = w.call("backbone", "GET", C2C, params=query)
    assert answer.status_code == 422, answer.text


def _story(w: World, text: str) -> None:
    write_story(
        session=w.session,
        actor=SYSTEM,
        initiative_slug="c2c",
        indicator_code="KIDS",
        period_key="2025Q3",
        text=text,
    )
    w.session.commit()


def _public(w: World, headers) -> dict:
    w.client.cookies.clear()
    answer = w.client.get(f"{V1}/public/initiatives/c2c/summary", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.usefixtures("few_partners_allowed")
def test_markup_in_a_translated_story_arrives_escaped(w) -> None:
    _story(w, "Attendance rose.")
    assert w.put("es/story/KIDS@2025Q3/text", "Subió <script>alert(1)</script>").status_code == 200
    _approve_and_publish(w)
    public = _public(w, SPANISH)
    [told] = public["periods"][0]["stories"]
    assert "<script>" not in told["html"] and "&lt;script&gt;" in told["html"]


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_translation_of_a_retracted_story_is_not_published(w) -> None:
    """The backbone team rewrites a story to take a name out; its Spanish, written for the
    first wording, now needs review. Publishing must not hand the public, in Spanish, the
    wording the English retracted: the period's Spanish readers get the English published."""
    _story(w, "Attendance fell after the Garcia twins left Eastside's programme.")
    assert (
        w.put(
            "es/story/KIDS@2025Q3/text",
            "La asistencia bajó cuando los gemelos García dejaron el programa de Eastside.",
        ).status_code
        == 200
    )
    assert w.put("es/indicator/KIDS/name", "Niñez atendida").status_code == 200
    _story(w, "Attendance fell after two children left a programme.")
    _approve_and_publish(w)
    public = _public(w, SPANISH)
    [told] = public["periods"][0]["stories"]
    assert "García" not in told["text"], told
    assert told["text"] == "Attendance fell after two children left a programme."
    # A translation of the English as published is frozen as before.
    assert public["periods"][0]["indicators"][0]["name"] == "Niñez atendida"
