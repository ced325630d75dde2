"""The setup page with the browser set to Spanish: every tab, its list, its form's answers
(new, edit, saved, refused, removed) and its changes speak Spanish, while the English page is
unchanged (README, "Languages")."""

from __future__ import annotations

from datetime import date, timedelta

from ..dash_calls import call, call_declared, response_of, text_of
from ..dashboard.test_setup_pages import NEW_INDICATOR, _as, _edit, world  # noqa: F401
from .admin import SPANISH, english_shown, rename_data, shown

KINDS = ("indicator", "outcome", "dimension", "member", "period", "break", "extension")


def _list(client, kind: str):
    return call(
        client,
        f"..setup-{kind}-grid.rowData",
        [("setup-initiative", "value", "c2c"), (f"setup-{kind}-refresh", "data", 1)],
    )


def _changes(client, kind: str, editing: str | None = None):
    return call(
        client,
        f"..setup-{kind}-changes-title.children",
        [
            (f"setup-{kind}-editing", "data", editing),
            (f"setup-{kind}-refresh", "data", 1),
            ("setup-initiative", "value", "c2c"),
        ],
    )


def _choices(client, output: str):
    return call_declared(
        client, output, {"setup-initiative.value": "c2c"}, "setup-initiative.value"
    )


def test_every_setup_tab_in_spanish(client, world, session) -> None:  # noqa: F811
    rename_data(session)
    _as(client, world, "backbone")
    client.headers.update(SPANISH)
    answers = [client.get("/_dash-layout").json()]
    page = call(
        client,
        ".._pages_content.children",
        [("_pages_location", "pathname", "/setup"), ("_pages_location", "search", "")],
    )
    answers.append(response_of(page))
    for kind in KINDS:
        answers.append(response_of(_list(client, kind)))
        answers.append(response_of(_changes(client, kind)))
        answers.append(response_of(_edit(client, kind, "new")))
    for output in (
        "..setup-indicator-outcome.options",
        "setup-dimension-components.options",
        "..setup-member-organisation.options",
        "..setup-extension-org.options",
        "..setup-break-indicator.options",
    ):
        answers.append(response_of(_choices(client, output)))

    # Saved, edited, refused and removed, tab by tab.
    saved = response_of(_edit(client, "indicator", "save", NEW_INDICATOR))
    assert saved["setup-indicator-heading"]["children"] == "Editar el indicador KIDS_READ"
    assert "Indicador KIDS_READ guardado." in text_of_answer(saved)
    refused = response_of(_edit(client, "indicator", "save", {**NEW_INDICATOR, "code": "X Y"}))
    assert "No se guardó: vea el mensaje bajo “Código”." in text_of_answer(refused)
    answers += [saved, refused, response_of(_changes(client, "indicator", "KIDS_READ"))]
    outcome = response_of(_edit(client, "outcome", "save", {"code": "salud", "name": "Salud"}))
    assert "Resultado salud guardado." in text_of_answer(outcome)
    removed = response_of(
        _edit(client, "outcome", "delete", **{"setup-outcome-editing.data": "salud"})
    )
    assert "Resultado salud eliminado." in text_of_answer(removed)
    answers += [outcome, removed]
    dimension = response_of(
        _edit(
            client,
            "dimension",
            "save",
            {
                "code": "zona",
                "name": "Zona",
                "categories": [{"code": "n", "name": "Norte"}, {"code": "s", "name": "Sur"}],
            },
        )
    )
    assert "Dimensión zona guardada." in text_of_answer(dimension)
    answers.append(dimension)
    period = response_of(_edit(client, "period", "save", {"key": "2026Q1"}))
    assert "Período 2026Q1 guardado." in text_of_answer(period)
    answers.append(period)
    listed = response_of(_list(client, "period"))["setup-period-grid"]["rowData"]
    assert {"abierto", "cerrado"} <= {row["state_text"] for row in listed}
    assert all(" de 20" in row["closes_on_text"] for row in listed)  # "30 de septiembre de 2025"
    series = response_of(
        _edit(client, "break", "save", {"indicator": "SERVED", "period": "2025Q3", "note": "x"})
    )
    assert "Corte de serie de SERVED desde 2025Q3 guardado" in text_of_answer(series)
    answers.append(series)
    until = (date.today() + timedelta(days=5)).isoformat()
    extension = response_of(
        _edit(
            client,
            "extension",
            "save",
            {"org": "eastside", "period": "2025Q2", "until": until, "reason": "Inundación"},
        )
    )
    assert "Prórroga del plazo concedida: " in text_of_answer(extension)
    answers += [extension, response_of(_changes(client, "extension", "eastside|2025Q2"))]
    extensions = response_of(_list(client, "extension"))["setup-extension-grid"]["rowData"]
    assert [row["running_text"] for row in extensions] == ["vigente"]
    answers.append(response_of(_list(client, "indicator")))

    found = english_shown(answers)
    assert not found, "\n".join(map(str, found))
    columns = text_of(page)
    assert '"headerName": "Código"' in columns and '"headerName": "Code"' not in columns

    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    again = response_of(_edit(client, "outcome", "save", {"code": "care", "name": "Care"}))
    assert "Outcome care saved." in text_of_answer(again)
    assert response_of(_list(client, "indicator"))["setup-indicator-count"]["children"] == (
        "4 indicators"
    )


def text_of_answer(answer: dict) -> str:
    return " ".join(shown(answer))
