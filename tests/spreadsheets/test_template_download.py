"""The browser's download of the pre-filled template (api.web_downloads): the session cookie of
the dashboard's login, a visit to the login page and back without one, the API's file and
permission rules, and headers fit for private data."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlencode, urlsplit

import openpyxl
import pytest
from fastapi.testclient import TestClient

from dashboard.session import SESSION_COOKIE
from models.notifications.email import TEMPLATE_DOWNLOAD, template_path

from .. import factories as f
from .conftest import build_world

API = "/api/v1/initiatives/c2c/template.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EAST, WEST = "eastside@example.org", "westside@example.org"
BACKBONE, FUNDER = "backbone@example.org", "funder@example.org"


@pytest.fixture
def people(session) -> dict:
    built = build_world(session)
    init = built["init"]
    f.user(session, "reporter", org=built["east"].organisation, email=EAST)
    f.user(session, "reporter", org=built["west"].organisation, email=WEST)
    f.user(session, "backbone", init=init, email=BACKBONE)
    f.user(session, "funder", init=init, email=FUNDER)
    session.commit()
    return built


def _login(client: TestClient, email: str, next_path: str = "/"):
    return client.post(
        "/auth/login",
        data={"email": email, "password": f.PASSWORD, "next": next_path},
        follow_redirects=False,
    )


def _bearer(client: TestClient, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _cells(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values: the workbook's contents, without its creation time."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_download_with_the_login_cookie_is_the_apis_file(client, people) -> None:
    path = template_path("c2c", "eastside", "2025Q3")
    assert _login(client, EAST).status_code == 303
    assert SESSION_COOKIE in client.cookies
    got = client.get(path, follow_redirects=False)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    api = client.get(
        API, params={"org": "eastside", "period": "2025Q3"}, headers=_bearer(client, EAST)
    )
    assert api.status_code == 200, api.text
    assert _cells(got.content) == _cells(api.content)
    assert "eastside" in str(_cells(got.content)["Values"])
    for response in (got, api):
        assert response.headers["content-disposition"] == (
            'attachment; filename="c2c-eastside-2025Q3-template.xlsx"'
        )
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_without_a_login_the_browser_goes_to_the_login_page_and_back(client, people) -> None:
    path = template_path("c2c", "eastside", "2025Q3")
    first = client.get(path, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["cache-control"] == "no-store"
    location = urlsplit(first.headers["location"])
    assert location.path == "/login"
    [back] = parse_qs(location.query)["next"]
    assert back == path
    # The login page (Dash) answers; its form posts the e-mail, password and that ``next``.
    assert client.get(first.headers["location"]).status_code == 200
    logged_in = _login(client, EAST, next_path=back)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == path
    again = client.get(logged_in.headers["location"], follow_redirects=False)
    assert again.status_code == 200
    assert again.headers["content-type"] == XLSX


def test_a_broken_or_revoked_cookie_is_no_login(client, people) -> None:
    path = template_path("c2c", "eastside", "2025Q3")
    client.cookies.set(SESSION_COOKIE, "not-a-token")
    assert client.get(path, follow_redirects=False).headers["location"].startswith("/login?")
    token = _login(client, EAST).cookies[SESSION_COOKIE]
    assert client.get(path, follow_redirects=False).status_code == 200
    # Logging out revokes every token of the user: the old cookie, sent again, is no login.
    assert client.post("/auth/logout", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get(path, follow_redirects=False).status_code == 303


def test_an_api_key_in_the_cookie_is_no_login(client, people) -> None:
    key = client.post(
        "/api/v1/api-keys",
        json={"name": "east-key", "organisation": "eastside"},
        headers=_bearer(client, EAST),
    )
    assert key.status_code == 201, key.text
    client.cookies.set(SESSION_COOKIE, key.json()["key"])
    got = client.get(template_path("c2c", "eastside", "2025Q3"), follow_redirects=False)
    assert got.status_code == 303


@pytest.mark.parametrize(
    ("email", "org", "status"),
    [
        (EAST, "eastside", 200),
        (WEST, "eastside", 404),  # another organisation's report: as if it did not exist
        (WEST, "westside", 200),
        (BACKBONE, "eastside", 200),  # the backbone team, for any member
        (BACKBONE, "westside", 200),
        (FUNDER, "eastside", 404),
    ],
)
def test_the_same_permissions_as_the_api(client, people, email, org, status) -> None:
    query = {"org": org, "period": "2025Q3"}
    api = client.get(API, params=query, headers=_bearer(client, email))
    assert api.status_code == status, api.text
    _login(client, email)
    got = client.get(TEMPLATE_DOWNLOAD, params={"initiative": "c2c", **query})
    assert got.status_code == status, got.text
    if status != 200:
        assert got.json()["detail"] == api.json()["detail"]


def test_unknown_initiative_and_missing_one(client, people) -> None:
    _login(client, EAST)
    unknown = client.get(TEMPLATE_DOWNLOAD, params={"initiative": "nope", "org": "eastside"})
    assert unknown.status_code == 404
    missing = client.get(f"{TEMPLATE_DOWNLOAD}?{urlencode({'org': 'eastside'})}")
    assert missing.status_code == 422
    assert "initiative" in missing.text
