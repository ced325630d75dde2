"""The webhooks page with the browser set to Spanish: the list, the form's answers (added with
its secret, saved, refused, disabled, rotated, deleted) and the delivery log in Spanish; the
English page unchanged (README, "Languages")."""

from __future__ import annotations

from .. import factories as f
from ..dash_calls import call, render_page, response_of, text_of
from ..dashboard.conftest import world  # noqa: F401 - the fixture
from ..dashboard.test_webhook_pages import URL, _act, _as, _delete, _endpoint, _list, _log, _save
from .admin import SPANISH, english_shown, rename_data, shown


def test_the_webhooks_page_in_spanish(client, world, session) -> None:  # noqa: F811
    rename_data(session)
    _as(client, world, "backbone")
    client.headers.update(SPANISH)
    page = render_page(client, "/webhooks")
    answers = [client.get("/_dash-layout").json(), response_of(page)]
    assert "Volver a la configuración" in text_of(page)
    refused = response_of(_save(client, url="ftp://hooks.example.org/x"))
    made = response_of(_save(client))
    assert "Punto de conexión agregado: " in _text(made)
    assert "Copie ahora su secreto de firma:" in _text(made)
    endpoint = _endpoint(session)
    listed = response_of(_list(client))
    [row] = listed["webhooks-grid"]["rowData"]
    assert (row["state"], row["last"]) == ("activado", "ninguno todavía")
    assert row["events_shown"] == "Se aprueba un informe; Se publica un período"
    assert listed["webhooks-count"]["children"] == "1 punto de conexión"
    picked = response_of(
        call(
            client,
            "..webhooks-selected.data...",
            [
                ("webhooks-grid", "selectedRows", [row]),
                ("webhooks-new", "n_clicks", None),
                ("webhooks-initiative", "value", "c2c"),
            ],
        )
    )
    buttons = response_of(
        call(
            client,
            "..webhooks-toggle.disabled...",
            [("webhooks-selected", "data", endpoint.id), ("webhooks-grid", "rowData", [row])],
        )
    )
    assert buttons["webhooks-toggle"]["children"] == "Desactivar"
    empty_log = response_of(_log(client, endpoint.id))
    assert empty_log["webhooks-log-note"]["children"] == "Aún no hay entregas."
    rotated = response_of(_act(client, "rotate", endpoint.id, [row]))
    assert f"Nuevo secreto para {URL}." in _text(rotated)
    saved = response_of(_save(client, endpoint.id, url=URL + "/v2"))
    assert f"Se guardó {URL}/v2." in _text(saved)
    disabled = response_of(_act(client, "toggle", endpoint.id, [row]))
    assert "desactivado: no recibe eventos nuevos." in _text(disabled)
    f.webhook_delivery(session, endpoint.id, "retrying", status_code=None, error="x", duration_ms=5)
    session.commit()
    log = response_of(_log(client, endpoint.id))
    [delivery] = log["webhooks-deliveries"]["rowData"]
    assert (delivery["outcome_text"], delivery["event_text"]) == (
        "reintentando",
        "Se aprueba un informe",
    )
    assert log["webhooks-log-note"]["children"] == "1 intento, el más reciente primero"
    relisted = response_of(_list(client))
    assert relisted["webhooks-grid"]["rowData"][0]["last"].startswith("reintentando · ")
    gone = response_of(_delete(client, endpoint.id))
    assert "y su registro de entregas." in _text(gone)
    answers += [refused, made, listed, picked, buttons, empty_log, rotated, saved, disabled]
    answers += [log, relisted, gone]
    found = english_shown(answers)
    assert not found, "\n".join(map(str, found))
    assert '"headerName": "Última entrega"' in text_of(page)

    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    again = response_of(_save(client))
    assert "Endpoint added: " in _text(again) and "Copy its signing secret now:" in _text(again)


def _text(answer: dict) -> str:
    return " ".join(shown(answer))
