"""Which language a request is served in: the user's setting, else the switcher's cookie, else
Accept-Language, else English; numbers and dates written for it (README, "Languages")."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.core import i18n
from models.core.dates import day
from models.tables.access import User

from .. import factories as f
from ..dash_calls import text_of


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR, es;q=0.5", "es"),
        ("fr, de", None),
        ("es;q=0, en;q=0.1", "en"),
        ("en;q=0.2, es;q=0.8", "es"),
        ("", None),
        ("*", None),
        ("es;q=nonsense, en", "en"),
    ],
)
def test_accept_language_is_negotiated(header, expected) -> None:
    assert i18n.negotiate(header) == expected


def test_the_setting_beats_the_cookie_beats_the_browser() -> None:
    assert i18n.choose(setting="es", cookie="en", accept_language="en") == "es"
    assert i18n.choose(setting=None, cookie="es", accept_language="en") == "es"
    assert i18n.choose(setting=None, cookie="xx", accept_language="es-CO") == "es"
    assert i18n.choose() == "en"
    assert i18n.choose(setting="klingon", cookie=None, accept_language="de") == "en"


def test_numbers_and_dates_are_written_for_the_language() -> None:
    with i18n.use_locale("es"):
        assert i18n.format_number(1234.5) == "1.234,5"
        assert i18n.format_number(1234.5, digits=2) == "1.234,50"
        assert i18n.format_percent(0.125, digits=1) == "12,5\xa0%"
        assert i18n.format_date(date(2026, 12, 1)) == "1 de diciembre de 2026"
        assert day(date(2026, 12, 1)) == "1 de diciembre de 2026"
    with i18n.use_locale("en"):
        assert i18n.format_number(1234.5) == "1,234.5"
        assert i18n.format_percent(0.125, digits=1) == "12.5%"
        assert i18n.format_date(date(2026, 12, 1)) == "December 1, 2026"
        assert day(date(2026, 12, 1)) == "1 Dec 2026"  # English keeps the house format
    assert i18n.current_locale() == "en"


def test_a_translation_fills_its_placeholders() -> None:
    with i18n.use_locale("es"):
        assert i18n.gettext("must be one of %(locales)s", locales="en, es") == (
            "debe ser uno de: en, es"
        )
        assert i18n.pgettext("role", "backbone") == "equipo coordinador"
    assert i18n.gettext("must be one of %(locales)s", locales="en") == "must be one of en"


def test_answers_say_their_language(client) -> None:
    assert client.get("/healthz").headers["content-language"] == "en"
    answer = client.get("/healthz", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert answer.headers["content-language"] == "es"
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    answer = client.get("/healthz", headers={"Accept-Language": "es"})
    assert answer.headers["content-language"] == "en"  # the switcher's choice wins


def _token(client, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_user_keeps_a_language_and_it_beats_the_browser(client, session) -> None:
    init = f.initiative(session, slug="alpha")
    f.user(session, "backbone", init=init, email="ana@example.org")
    session.commit()
    headers = _token(client, "ana@example.org")
    answer = client.put("/api/v1/me/locale", json={"locale": "es-MX"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"locale": "es"}
    session.expire_all()
    assert session.scalar(select(User.locale).where(User.email == "ana@example.org")) == "es"
    # The setting wins over an English browser and an English cookie.
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    answer = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
    assert answer.headers["content-language"] == "es"
    # Refused on the field, in the user's language, and nothing changes.
    answer = client.put("/api/v1/me/locale", json={"locale": "fr"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["field"] == "locale"
    assert answer.json()["detail"] == "debe ser uno de: en, es"
    session.expire_all()
    assert session.scalar(select(User.locale).where(User.email == "ana@example.org")) == "es"
    # null forgets it: the browser decides again.
    client.cookies.clear()
    assert client.put("/api/v1/me/locale", json={"locale": None}, headers=headers).json() == {
        "locale": None
    }
    answer = client.get("/api/v1/me", headers={**headers, "Accept-Language": "es"})
    assert answer.headers["content-language"] == "es"
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.headers["content-language"] == "en"


def test_anonymous_may_not_keep_a_language(client) -> None:
    assert client.put("/api/v1/me/locale", json={"locale": "es"}).status_code == 401


def test_the_switcher_sets_the_cookie_and_the_users_setting(client, session) -> None:
    init = f.initiative(session, slug="alpha")
    f.user(session, "backbone", init=init, email="ana@example.org")
    session.commit()
    # Anonymous: the cookie only, and back to the page the form was on.
    answer = client.post(
        "/locale",
        data={"locale": "es"},
        headers={"Referer": "http://testserver/public?x=1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/public?x=1"
    assert client.cookies.get(i18n.LOCALE_COOKIE) == "es"
    layout = text_of(client.get("/_dash-layout"))
    assert "Iniciar sesión" in layout and "Log in" not in layout
    # Logged in: the user's setting too, which the next login brings back on any browser.
    client.post("/auth/login", data={"email": "ana@example.org", "password": f.PASSWORD})
    client.post("/locale", data={"locale": "es"}, follow_redirects=False)
    session.expire_all()
    assert session.scalar(select(User.locale).where(User.email == "ana@example.org")) == "es"
    client.cookies.clear()
    login = client.post(
        "/auth/login",
        data={"email": "ana@example.org", "password": f.PASSWORD},
        follow_redirects=False,
    )
    assert client.cookies.get(i18n.LOCALE_COOKIE) == "es", login.headers
    layout = text_of(client.get("/_dash-layout"))
    assert "Cerrar sesión" in layout and "equipo coordinador" in layout
    # An unknown language switches to English; another site's form is refused.
    client.post("/locale", data={"locale": "xx"}, follow_redirects=False)
    assert client.cookies.get(i18n.LOCALE_COOKIE) == "en"
    refused = client.post(
        "/locale", data={"locale": "es"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403


def test_every_page_offers_the_other_language(client) -> None:
    layout = text_of(client.get("/_dash-layout"))
    assert "language-switcher" in layout and "Español" in layout and "English" in layout
    index = client.get("/public", headers={"Accept-Language": "es"}).text
    assert '<html lang="es">' in index
