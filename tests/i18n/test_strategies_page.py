"""The strategies page with the browser set to Spanish: the cards, the forms and their answers
(saved, refused, deleted; an action added) in Spanish, dates the Spanish way; the English page
unchanged (README, "Languages")."""

from __future__ import annotations

from sqlalchemy import update

from models import StrategyAction

from ..dash_calls import call_declared, render_page, response_of
from ..dashboard.test_analytics_pages import INIT, _as
from ..dashboard.test_strategy_pages import _page_list, _save, planned, world  # noqa: F401
from .admin import SPANISH, english_shown, rename_data, shown


def _form(client, code):
    return call_declared(
        client,
        "..strategies-form-heading.children",
        {"strategies-code.value": code, "strategies-initiative.value": INIT},
        "strategies-code.value",
    )


def _action(client, **values):
    form = {
        "strategies-action-save.n_clicks": 1,
        "strategies-initiative.value": INIT,
        "strategies-code.value": "reading",
        "strategies-action-status.value": "planned",
        **values,
    }
    return call_declared(
        client, "..strategies-action-title.invalid", form, "strategies-action-save.n_clicks"
    )


def test_the_strategies_page_in_spanish(client, session, planned) -> None:  # noqa: F811
    rename_data(session)
    # An action's title is data; "late" in it reads like the catalogue's word.
    session.execute(
        update(StrategyAction)
        .where(StrategyAction.title == "Library late nights")
        .values(title="Noches de biblioteca")
    )
    session.commit()
    _as(client, planned, "backbone")
    client.headers.update(SPANISH)
    page = render_page(client, "/strategies", f"?initiative={INIT}")
    listed = response_of(_page_list(client))
    cards = " ".join(shown(listed))
    assert "Acciones: 1 de 2 hechas" in cards and "sin fecha de término" in cards
    assert "hecha el 14 de agosto de 2025" in cards and "responsables: " in cards
    form = response_of(_form(client, "reading"))
    assert form["strategies-form-heading"]["children"] == "Estrategia reading"
    assert [o["label"] for o in form["strategies-action"]["options"]] == [
        "Noches de biblioteca (hecha)",
        "Book bus (planificada)",
    ]
    new = response_of(_form(client, None))
    assert new["strategies-form-heading"]["children"] == "Nueva estrategia"
    late = {"strategies-form-code.value": "late", "strategies-form-title.value": "Tarde"}
    refused = response_of(_save(client, **late, **{"strategies-form-ends.value": "2025-01-01"}))
    saved = response_of(_save(client, **late))
    assert "Se guardó Tarde." in " ".join(shown(saved))
    added = response_of(_action(client, **{"strategies-action-title.value": "Visitar escuelas"}))
    assert "Se guardó la acción Visitar escuelas." in " ".join(shown(added))
    answers = [client.get("/_dash-layout").json(), response_of(page), listed, form, new]
    answers += [refused, saved, added]
    found = english_shown(answers)
    assert not found, "\n".join(map(str, found))

    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    english = " ".join(shown(response_of(_page_list(client))))
    assert "Actions: 1 of 3 done" in english and "open-ended" in english
