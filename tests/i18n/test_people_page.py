"""The People page with the browser set to Spanish: the list, a person's grants and account,
invitations and API keys, every answer in Spanish; the English page unchanged (README,
"Languages")."""

from __future__ import annotations

from ..dash_calls import render_page, response_of, text_of
from ..dashboard.test_people import (
    ACTIVE,  # noqa: F401
    GOOD,
    REVOKE,
    _act,
    _as,
    _create_key,
    _detail,
    _fire,
    _grant,
    _invite,
    _keys,
    _list,
    _user,
    world,  # noqa: F401
)
from .admin import SPANISH, english_shown, rename_data, shown


def test_the_people_page_in_spanish(client, world, session) -> None:  # noqa: F811
    rename_data(session)
    _as(client, world, "backbone")
    client.headers.update(SPANISH)
    rep = world["users"]["reporter"]
    page = render_page(client, "/people")
    answers = [client.get("/_dash-layout").json(), response_of(page)]
    listed = response_of(_list(client))
    assert listed["people-count"]["children"].endswith("personas")
    assert {row["status_text"] for row in listed["people-users"]["rowData"]} == {"activa"}
    answers += [listed, response_of(_detail(client, rep.id))]
    detail = _shown(response_of(_detail(client, rep.id)))
    assert "informante de east en c2c" in detail and "Permisos que usted administra" in detail

    added = response_of(_grant(client, rep.id, "funder", "c2c"))
    assert "Se concedió el permiso de financiador a rep@east.test." in _shown(added)
    twice = response_of(_grant(client, rep.id, "funder", "c2c"))
    funder = next(g for g in _user(session, rep.email).grants if g.role == "funder")
    revoked = _fire(
        client,
        REVOKE,
        {"people-selected": rep.id, "people-refresh": 0},
        clicked={"grant": funder.id, "type": "people-revoke"},
    )
    assert "Permiso revocado; las sesiones de rep@east.test terminaron." in text_of(revoked)
    off, on = _act(client, "off", rep.id), _act(client, "on", rep.id)
    assert "rep@east.test puede volver a iniciar sesión." in text_of(on)
    weak = response_of(_act(client, "people-reset", rep.id, "short"))
    good = response_of(_act(client, "people-reset", rep.id, GOOD))
    assert "Contraseña restablecida" in _shown(good)
    answers += [added, twice, response_of(revoked), response_of(off), response_of(on), weak, good]

    invited = response_of(_invite(client))
    assert "Se invitó a new@east.test." in _shown(invited) and "Copie el enlace ahora:" in _shown(
        invited
    )
    missing = response_of(_invite(client, email=""))
    newcomer = _user(session, "new@east.test")
    renewed = response_of(_act(client, "people-renew", newcomer.id))
    assert "Nuevo enlace de invitación para new@east.test." in _shown(renewed)
    answers += [invited, missing, renewed, response_of(_detail(client, newcomer.id))]

    made = response_of(_create_key(client, "sis", "initiative:c2c", "2099-12-31"))
    assert "Clave sis creada." in _shown(made)
    unnamed = response_of(_create_key(client, "", "initiative:c2c"))
    assert "Dé a la clave un nombre que vaya a reconocer" in _shown(unnamed)
    [row] = _keys(client)
    assert row["state_text"] == "activa" and row["last_used"] == "nunca"
    assert row["scope"] == "iniciativa · Iniciativa de prueba"
    dropped = _fire(client, "people-key-revoke", {"people-keys": [row], "people-keys-refresh": 0})
    assert "Clave sis revocada" in text_of(dropped)
    answers += [made, unnamed, response_of(dropped)]

    found = english_shown(answers)
    assert not found, "\n".join(map(str, found))
    columns = text_of(page)
    assert '"headerName": "Roles que usted administra"' in columns

    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    assert "Granted funder to rep@east.test." in text_of(_grant(client, rep.id, "funder", "c2c"))
    assert _keys(client)[0]["state_text"] == "revoked"


def _shown(answer: dict) -> str:
    return " ".join(shown(answer))
