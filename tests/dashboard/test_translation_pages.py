"""Translations in the browser (README, "Languages"): the Setup page's Translations tab lists
each field's English and Spanish with a "needs review" badge and saves a translation; the
overview, indicator and public pages show the Spanish names to a reader in Spanish, the
English to everyone else and wherever there is no translation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import ContentTranslation, Indicator
from models.core.actors import SYSTEM
from models.initiatives.translations import set_translation

from ..dash_calls import call, call_declared, log_in, render_page, response_of, text_of
from .test_analytics_pages import INIT, PERIOD, _overview, _publish, world  # noqa: F401

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}


def _rows(client) -> list[dict]:
    answer = call(
        client,
        "..setup-translation-grid.rowData",
        [("setup-initiative", "value", INIT), ("setup-translation-refresh", "data", 0)],
    )
    return response_of(answer)["setup-translation-grid"]["rowData"]


def _save(client, entity_type: str, entity: str, field: str, text: str):
    return call_declared(
        client,
        "..setup-translation-feedback.children",
        {
            "setup-translation-save.n_clicks": 1,
            "setup-initiative.value": INIT,
            "setup-translation-selected.data": {
                "entity_type": entity_type,
                "entity": entity,
                "field": field,
            },
            "setup-translation-text.value": text,
            "setup-translation-refresh.data": 0,
        },
        "setup-translation-save.n_clicks",
    )


def _translate(session, entity_type: str, entity: str, text: str, field: str = "name") -> None:
    set_translation(
        session=session,
        actor=SYSTEM,
        initiative_slug=INIT,
        locale="es",
        entity_type=entity_type,
        entity=entity,
        field=field,
        text=text,
    )
    session.commit()


def test_the_translations_tab_lists_saves_and_flags(client, world, session) -> None:  # noqa: F811
    log_in(client, world["backbone"])
    page = text_of(render_page(client, "/setup", f"?initiative={INIT}&tab=translations"))
    assert "setup-tab-translations" in page and "Translations" in page
    kids = next(r for r in _rows(client) if r["key"] == "indicator|KIDS|name")
    assert kids["english"] == "Children served" and kids["text"] is None
    assert kids["status"][0]["label"] == "not translated"

    saved = _save(client, "indicator", "KIDS", "name", "Niñez atendida")
    assert "cm-setup-done" in text_of(saved)
    session.expire_all()
    row = session.scalar(select(ContentTranslation))
    assert (row.entity_type, row.field, row.text) == ("indicator", "name", "Niñez atendida")
    kids = next(r for r in _rows(client) if r["key"] == "indicator|KIDS|name")
    assert kids["text"] == "Niñez atendida" and kids["status"] == []

    session.scalar(select(Indicator).where(Indicator.code == "KIDS")).name = "Kids served"
    session.commit()
    kids = next(r for r in _rows(client) if r["key"] == "indicator|KIDS|name")
    assert kids["english"] == "Kids served"
    assert [b["label"] for b in kids["status"]] == ["needs review"]

    refused = _save(client, "indicator", "KIDS", "name", "x" * 201)
    assert "cm-error" in text_of(refused)
    cleared = _save(client, "indicator", "KIDS", "name", "  ")
    assert "cm-setup-done" in text_of(cleared)
    session.expire_all()
    assert session.scalar(select(ContentTranslation)) is None


def test_only_the_backbone_team_saves_translations(client, world, session) -> None:  # noqa: F811
    for role in (None, "reporter", "funder", "outsider"):
        log_in(client, role and world[role])
        answer = _save(client, "indicator", "KIDS", "name", "Niñez")
        assert "cm-error" in text_of(answer), role
        assert _rows(client) == [], role
    session.expire_all()
    assert session.scalar(select(ContentTranslation)) is None


@pytest.mark.usefixtures("few_partners_allowed")
def test_pages_show_the_spanish_names_with_english_fallback(client, world, session) -> None:  # noqa: F811
    _translate(session, "indicator", "KIDS", "Niñez atendida")
    _translate(session, "outcome", "READY", "Listos para la escuela")
    _translate(session, "category", "sex=f", "Femenino")
    _publish(session)
    # Translated after publishing: the public keeps reading what was published.
    _translate(session, "indicator", "KIDS", "Niñez atendida hoy")

    log_in(client, world["backbone"])
    client.headers.update(SPANISH)
    overview = json.dumps(response_of(_overview(client)), ensure_ascii=False)
    assert "Niñez atendida hoy" in overview and "Listos para la escuela" in overview
    assert "Rare cases" in overview  # no translation: the English
    client.cookies.clear()
    public = text_of(
        call(
            client,
            "public-body.children",
            [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
        )
    )
    assert "Niñez atendida" in public and "Niñez atendida hoy" not in public
    assert "Listos para la escuela" in public and "Femenino" in public
    client.headers.pop("Accept-Language")
    english = text_of(
        call(
            client,
            "public-body.children",
            [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
        )
    )
    assert "Children served" in english and "Niñez" not in english
