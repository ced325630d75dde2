"""The API's errors in the request's language: ``detail`` and each ``reason`` are translated,
``code`` and ``field`` stay machine-readable (README, "Languages")."""

from __future__ import annotations

from .. import factories as f

SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}


def _backbone(client, session) -> dict[str, str]:
    init = f.initiative(session, slug="alpha")
    f.period(session, init, "2025Q3")
    f.user(session, "backbone", init=init, email="ana@example.org")
    session.commit()
    r = client.post(
        "/api/v1/auth/token", data={"username": "ana@example.org", "password": f.PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_domain_error_in_spanish_keeps_its_code_and_field(client, session) -> None:
    headers = _backbone(client, session)
    english = client.get("/api/v1/initiatives/alpha/periods/1999Q1", headers=headers)
    spanish = client.get("/api/v1/initiatives/alpha/periods/1999Q1", headers={**headers, **SPANISH})
    assert english.status_code == spanish.status_code == 404
    assert english.json()["detail"] == "no period '1999Q1' in 'alpha'"
    assert spanish.json()["detail"] == "no existe el período '1999Q1' en 'alpha'"
    assert spanish.json()["code"] == english.json()["code"]
    assert spanish.headers["content-language"] == "es"


def test_unauthenticated_and_validation_errors_in_spanish(client, session) -> None:
    answer = client.get("/api/v1/me", headers=SPANISH)
    assert answer.status_code == 401
    assert answer.json()["detail"] == "inicie sesión primero"
    headers = _backbone(client, session)
    answer = client.put("/api/v1/me/locale", json={}, headers={**headers, **SPANISH})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "validation_error" and body["field"] == "locale"
    assert body["detail"] == "locale: Campo obligatorio"
    assert body["errors"] == [{"field": "locale", "reason": "Campo obligatorio"}]
    english = client.put("/api/v1/me/locale", json={}, headers=headers).json()
    assert english["detail"] == "locale: Field required"


def test_an_unknown_route_and_a_bad_body_in_spanish(client) -> None:
    answer = client.get("/api/v1/no-such-thing", headers=SPANISH)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no existe la ruta de API /api/v1/no-such-thing"
    answer = client.post(
        "/api/v1/auth/invitations/accept",
        content=b"{not json",
        headers={**SPANISH, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] in {"validation_error"}
    assert "JSON" in answer.json()["detail"] and "Field required" not in answer.json()["detail"]
