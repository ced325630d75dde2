"""What browsers and CDNs may keep of the front end (api/http_caching.py) and which bundles a
public page names (dashboard/bundles.py): long-lived bundles, public pages revalidated by ETag,
nothing a logged-in person is shown kept by anyone."""

from __future__ import annotations

import re

import pytest
from plotly.offline import get_plotlyjs_version

from api.http_caching import IMMUTABLE, PRIVATE, REVALIDATE, matches, policy
from dashboard import bundles
from dashboard.session import SESSION_COOKIE

from .. import factories as f
from ..dash_calls import CALLBACK_URL, callback_body

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def public_world(session, client):
    """An initiative anyone may look at, and Alice, its backbone, logged in on ``client``."""
    init = f.initiative(session, slug="open", name="Open City")
    f.user(session, "backbone", init=init, email="alice@example.org")
    session.commit()
    return init


def _logged_in(client) -> str:
    r = client.post(
        "/auth/login",
        data={"email": "alice@example.org", "password": f.PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()  # each request below says itself whether it carries the cookie
    return f"{SESSION_COOKIE}={cookie}"


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', html)


@pytest.mark.usefixtures("public_world")
def test_a_public_page_is_public_and_revalidated_by_its_etag(client) -> None:
    first = client.get("/public/open", headers=GZIP)
    again = client.get("/public/open", headers=GZIP)
    assert first.status_code == 200
    assert first.headers["cache-control"] == REVALIDATE
    assert "cookie" in first.headers["vary"].lower()
    assert first.headers["content-encoding"] == "gzip"
    # Dash puts a fresh token into each index; the ETag is the same all the same.
    assert first.text != again.text
    assert first.headers["etag"] == again.headers["etag"]
    assert first.headers["etag"].startswith('W/"')
    unchanged = client.get("/public/open", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == first.headers["etag"]
    assert unchanged.headers["cache-control"] == REVALIDATE
    other = client.get("/public/open", headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200 and other.content


@pytest.mark.usefixtures("public_world")
def test_the_frame_and_callback_graph_are_public_for_anonymous_visitors(client) -> None:
    for path in ("/_dash-layout", "/_dash-dependencies", "/public"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == REVALIDATE, path
        again = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304, path


def test_nothing_a_logged_in_person_is_shown_is_kept_by_anyone(client, public_world) -> None:
    cookie = _logged_in(client)
    anonymous = {p: client.get(p) for p in ("/public/open", "/_dash-layout")}
    for path, seen in anonymous.items():
        mine = client.get(path, headers={"Cookie": cookie})
        assert mine.status_code == 200, path
        assert mine.headers["cache-control"] == PRIVATE, path
        assert "etag" not in mine.headers, path
        # The anonymous copy's tag never turns a logged-in answer into "use what you have".
        asked = client.get(path, headers={"Cookie": cookie, "If-None-Match": seen.headers["etag"]})
        assert asked.status_code == 200 and asked.headers["cache-control"] == PRIVATE, path
    layout = client.get("/_dash-layout", headers={"Cookie": cookie})
    assert "alice@example.org" in layout.text
    # A bearer token makes an answer private too.
    assert (
        client.get("/_dash-layout", headers={"Authorization": "Bearer x"}).headers["cache-control"]
        == PRIVATE
    )
    # Callbacks and the pages behind a login are never kept.
    body = callback_body(
        client,
        "public-body",
        [("public-initiative", "data", "open"), ("public-period", "value", None)],
    )
    for headers in ({}, {"Cookie": cookie}):
        answer = client.post(CALLBACK_URL, json=body, headers=headers)
        assert answer.status_code == 200 and answer.headers["cache-control"] == PRIVATE
    assert client.get("/reporting", headers={"Cookie": cookie}).headers["cache-control"] == (
        PRIVATE
    )


def test_a_missing_initiative_is_not_kept(client) -> None:
    missing = client.get("/public/nowhere")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store" and "etag" not in missing.headers


def test_fingerprinted_bundles_are_kept_for_a_year_and_compressed(client) -> None:
    index = client.get("/login").text
    [renderer] = [s for s in _scripts(index) if "dash_renderer" in s]
    answer = client.get(renderer, headers=GZIP)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["content-encoding"] == "gzip"
    [stylesheet] = re.findall(r'href="(/assets/00-bootstrap[^"]+)"', index)
    css = client.get(stylesheet, headers=GZIP)
    assert css.headers["cache-control"] == IMMUTABLE and css.headers["content-encoding"] == "gzip"
    # Bundles are the same for everyone: kept long also when asked with a session cookie.
    cookie = {"Cookie": f"{SESSION_COOKIE}=anything"}
    assert client.get(renderer, headers=cookie).headers["cache-control"] == IMMUTABLE


def test_chunks_loaded_on_demand_are_compressed_and_revalidated(client) -> None:
    client.get("/login")  # Dash registers the chunks' paths with its first index
    chunk = "/_dash-component-suites/dash/dcc/async-markdown.js"
    first = client.get(chunk, headers=GZIP)
    assert first.status_code == 200
    assert first.headers["cache-control"] == REVALIDATE
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["etag"].startswith('W/"')
    again = client.get(chunk, headers={**GZIP, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    missing = client.get("/_dash-component-suites/dash/dcc/async-nothing.js")
    assert missing.status_code != 200 and missing.headers.get("cache-control") != IMMUTABLE


def test_the_charting_library_is_plotly_cartesian_of_the_bundled_version(client) -> None:
    """Every chart of the app is cartesian; the bundle is that of plotly's own version."""
    assert bundles.PLOTLY_VERSION == get_plotlyjs_version()
    answer = client.get("/" + bundles.PLOTLY_PATH, headers=GZIP)
    assert answer.status_code == 200
    assert f"plotly.js (cartesian - minified) v{bundles.PLOTLY_VERSION}" in answer.text[:200]
    assert answer.headers["cache-control"] == REVALIDATE
    assert answer.headers["content-encoding"] == "gzip"
    again = client.get("/" + bundles.PLOTLY_PATH, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.usefixtures("public_world")
def test_a_public_page_names_only_the_bundles_it_uses(client) -> None:
    public = _scripts(client.get("/public/open").text)
    full = _scripts(client.get("/login").text)
    assert any("dash_ag_grid" in s for s in full)
    assert any("dash_table" in s for s in full)
    assert any("dashAgGridComponentFunctions" in s for s in full)
    assert not any("dash_ag_grid" in s or "dashAgGrid" in s or "dash_table" in s for s in public)
    for library in ("dash_renderer", "react-dom", "dash_core_components", "dash_html_components"):
        assert any(library in s for s in public), library
    assert any("dash_bootstrap_components" in s for s in public)
    assert set(public) <= set(full)
    assert any("30-anchors.js" in s for s in public)  # the app's own scripts stay
    # Leaving the light pages is a full page load (the handler is in the public index only).
    assert bundles.FULL_LOADS_OFF_LIGHT_PAGES in client.get("/public/open").text
    assert bundles.FULL_LOADS_OFF_LIGHT_PAGES not in client.get("/login").text


@pytest.mark.parametrize(
    ("path", "query", "credentials", "expected"),
    [
        (
            "/_dash-component-suites/dash/html/dash_html_components.v4_4_1m1.min.js",
            "",
            0,
            IMMUTABLE,
        ),
        ("/_dash-component-suites/dash/dcc/async-graph.js", "", 0, REVALIDATE),
        ("/assets/10-common-measure.css", "m=1", 1, IMMUTABLE),
        ("/assets/10-common-measure.css", "", 0, REVALIDATE),
        ("/_favicon.ico", "v=4", 0, IMMUTABLE),
        ("/public/open", "", 0, REVALIDATE),
        ("/public/open/", "period=2025Q3", 0, REVALIDATE),
        ("/public", "", 0, REVALIDATE),
        ("/public/open", "", 1, PRIVATE),
        ("/public/open/extra", "", 0, PRIVATE),
        ("/_dash-layout", "", 1, PRIVATE),
        ("/reporting", "", 0, PRIVATE),
        ("/", "", 0, PRIVATE),
    ],
)
def test_policy(path, query, credentials, expected) -> None:
    assert policy(path, query, bool(credentials)) == expected


def test_if_none_match_compares_weakly() -> None:
    assert matches('"a"', 'W/"a"') and matches('W/"b", W/"a"', 'W/"a"') and matches("*", 'W/"a"')
    assert not matches('"b"', 'W/"a"') and not matches(None, 'W/"a"') and not matches("", '"a"')
