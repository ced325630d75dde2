"""The language switcher, the user's setting and the login form with odd input: never a 500,
never a way off this site, never markup from a cookie."""

from __future__ import annotations

import pytest

from models.core import i18n

from .. import factories as f


@pytest.mark.parametrize(
    "referer",
    [
        "http://[::1",
        "http://testserver:99999/x",
        "http://testserver/\\\\evil.com",
        "http://testserver//evil.com",
        "http://testserver/%0d%0aSet-Cookie:x=1",
    ],
)
def test_switcher_with_odd_referer(client, referer):
    answer = client.post(
        "/locale",
        data={"locale": "es"},
        headers={"Referer": referer},
        follow_redirects=False,
    )
    assert answer.status_code in (303, 403), (answer.status_code, answer.text)
    if answer.status_code == 303:
        location = answer.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location


def test_switcher_same_origin_with_broken_referer(client):
    """Origin says this site; Referer cannot be parsed."""
    answer = client.post(
        "/locale",
        data={"locale": "es"},
        headers={"Origin": "http://testserver", "Referer": "http://[::1/page"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, (answer.status_code, answer.text)
    assert answer.headers["location"] == "/"


def test_switcher_long_locale(client):
    answer = client.post("/locale", data={"locale": "es" * 20}, follow_redirects=False)
    assert answer.status_code == 422, answer.text
    assert "locale" in answer.text


@pytest.mark.parametrize("value", [123, ["es"], {"a": 1}, "", "e" * 5000, "es\u0000"])
def test_me_locale_odd_values(client, session, value):
    f.user(session, "admin", email="root@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": "root@example.org", "password": f.PASSWORD}
    ).json()["access_token"]
    answer = client.put(
        "/api/v1/me/locale", json={"locale": value}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (200, 422), (answer.status_code, answer.text)
    if answer.status_code == 422:
        assert answer.json().get("field") == "locale", answer.json()


def test_cookie_injection_in_html_lang(client):
    client.cookies.set(i18n.LOCALE_COOKIE, '"><script>x</script>')
    index = client.get("/public").text
    assert "<script>x</script>" not in index
    assert '<html lang="en">' in index


def test_login_form_with_unparseable_referer(client):
    """The same check guards the login form (older than the switcher)."""
    answer = client.post(
        "/auth/login",
        data={"email": "a@x.org", "password": "x"},
        headers={"Referer": "http://[::1"},
        follow_redirects=False,
    )
    assert answer.status_code < 500, (answer.status_code, answer.text)


def test_completeness_404_is_in_the_readers_language(client, session):
    """Every view names a missing initiative in the reader's language, completeness too."""
    f.user(session, "admin", email="root@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": "root@example.org", "password": f.PASSWORD}
    ).json()["access_token"]
    h = {"Authorization": f"Bearer {token}", "Accept-Language": "es"}
    scorecard = client.get("/api/v1/initiatives/nope/scorecard", headers=h)
    completeness = client.get("/api/v1/initiatives/nope/completeness", headers=h)
    assert scorecard.status_code == completeness.status_code == 404
    assert completeness.json()["detail"] == scorecard.json()["detail"] != "no initiative 'nope'"
