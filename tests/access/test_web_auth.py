"""Dashboard login: the session cookie, safe redirects, logout, and the same-origin guard."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.web_auth import cross_origin_reason
from dashboard.session import SESSION_COOKIE, login_url, safe_next
from models.core.settings import get_settings

from .. import factories as f
from ..dash_calls import CALLBACK_URL, callback_body, text_of


def _login(client, email="alice@example.org", password=f.PASSWORD, next_path=None, **kw):
    form = {"email": email, "password": password}
    if next_path is not None:
        form["next"] = next_path
    return client.post("/auth/login", data=form, follow_redirects=False, **kw)


def _set_cookie(response) -> str:
    [cookie] = [
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(f"{SESSION_COOKIE}=")
    ]
    return cookie


def _attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_login_sets_an_httponly_samesite_session_cookie(client, alice) -> None:
    response = _login(client, next_path="/portal?period=2025Q3")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal?period=2025Q3"
    cookie = _set_cookie(response)
    attributes = _attributes(cookie)
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "max-age=28800" in attributes
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    # The cookie is an access token of that user; the dashboard shows who is logged in.
    layout = text_of(client.get("/_dash-layout"))
    assert "alice@example.org" in layout and "nav-logout" in layout


def test_login_without_next_goes_home(client, alice) -> None:
    assert _login(client).headers["location"] == "/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.org", "wrong-password-1"), ("nobody@example.org", f.PASSWORD)],
)
def test_failed_login_redirects_back_with_one_message_and_no_cookie(
    client, alice, email, password
) -> None:
    response = _login(client, email=email, password=password, next_path="/portal")
    assert response.status_code == 303
    # The same answer for an unknown account as for a wrong password.
    assert response.headers["location"] == login_url("/portal", error="1")
    assert "set-cookie" not in response.headers
    assert SESSION_COOKIE not in client.cookies
    assert "nav-login" in text_of(client.get("/_dash-layout"))


def test_repeated_failures_are_throttled(client, alice) -> None:
    for _ in range(5):
        _login(client, password="wrong-password-1")
    response = _login(client)  # even the right password, until the window passes
    assert response.headers["location"] == login_url(error="throttled")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/portal",
        "https://evil.com",
        "https://evil.com/portal",
        "/\\evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/portal\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_open_redirects_are_ignored(client, alice, target) -> None:
    response = _login(client, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    failed = _login(client, password="wrong-password-1", next_path=target)
    assert "evil" not in failed.headers["location"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/portal?initiative=a&period=2025Q3", "/portal?initiative=a&period=2025Q3"),
        ("/reporting/review", "/reporting/review"),
        ("//evil.com", "/"),
        ("/\\evil.com", "/"),
        ("http:/evil.com", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target, expected) -> None:
    assert safe_next(target) == expected


def test_logout_clears_the_cookie_and_revokes_the_token(client, alice) -> None:
    token = _set_cookie(_login(client)).split(";")[0].split("=", 1)[1]
    api = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=api).status_code == 200

    response = client.post("/auth/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == login_url(logged_out="1")
    cleared = _set_cookie(response)
    assert cleared.startswith((f'{SESSION_COOKIE}="";', f"{SESSION_COOKIE}=;"))
    assert "max-age=0" in _attributes(cleared)
    assert SESSION_COOKIE not in client.cookies
    # Revoked, not merely forgotten: the old token no longer works anywhere.
    assert client.get("/api/v1/me", headers=api).status_code == 401
    client.cookies.set(SESSION_COOKIE, token)
    assert "nav-login" in text_of(client.get("/_dash-layout"))


def test_logout_without_a_session_is_harmless(client) -> None:
    response = client.post("/auth/logout", follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, "not-a-token")
    assert client.post("/auth/logout", follow_redirects=False).status_code == 303


def test_secure_cookie_over_https(app, alice) -> None:
    with TestClient(app, base_url="https://testserver") as https:
        assert "secure" in _attributes(_set_cookie(_login(https)))


def test_secure_cookie_behind_a_tls_proxy(client, alice) -> None:
    response = _login(client, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in _attributes(_set_cookie(response))


def _home_callback(client) -> dict:
    return callback_body(
        client,
        ".._pages_content.children",
        [("_pages_location", "pathname", "/"), ("_pages_location", "search", "")],
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "http://testserver:8080"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ],
)
def test_cross_origin_post_to_a_callback_is_refused(client, alice, headers) -> None:
    _login(client)
    body = _home_callback(client)
    response = client.post(CALLBACK_URL, json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "cross_origin"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Origin": "http://testserver:80"},
        {"Referer": "http://testserver/portal"},
        {},  # not a browser: no cross-site request to forge
    ],
)
def test_same_origin_post_to_a_callback_is_served(client, headers) -> None:
    response = client.post(CALLBACK_URL, json=_home_callback(client), headers=headers)
    assert response.status_code == 200, response.text
    assert "multi" in response.json()


def test_cross_origin_login_and_logout_are_refused(client, alice) -> None:
    evil = {"Origin": "https://evil.example"}
    response = _login(client, headers=evil)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    _login(client)
    assert client.post("/auth/logout", headers=evil, follow_redirects=False).status_code == 403
    assert SESSION_COOKIE in client.cookies


def test_origin_behind_a_proxy_may_match_the_forwarded_host() -> None:
    from starlette.datastructures import Headers

    headers = Headers(
        {
            "host": "app:8000",
            "x-forwarded-host": "cm.example.org",
            "origin": "https://cm.example.org",
        }
    )
    assert cross_origin_reason(headers) is None
    headers = Headers({"host": "cm.example.org", "origin": "https://cm.example.org:443"})
    assert cross_origin_reason(headers) is None
    headers = Headers({"host": "cm.example.org", "origin": "ftp://cm.example.org"})
    assert cross_origin_reason(headers) is not None


def test_tokens_are_signed_with_the_configured_key(client, alice) -> None:
    """The cookie is a token like any other: signed with the deployment's secret key."""
    import jwt

    token = _set_cookie(_login(client)).split(";")[0].split("=", 1)[1]
    claims = jwt.decode(token, get_settings().effective_secret_key, algorithms=["HS256"])
    assert claims["sub"] == str(alice.id)
