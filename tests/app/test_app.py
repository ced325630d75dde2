"""The running shell: health, readiness, the API's JSON 404s, OpenAPI, and the Dash front end."""

from __future__ import annotations

from datetime import date

import dash
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from dashboard import data

from .. import factories as f


def test_healthz(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_revision(client) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["schema_revision"]


def test_readyz_answers_503_when_the_database_is_unreachable() -> None:
    from fastapi.testclient import TestClient

    engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    client = TestClient(create_app(sessionmaker(engine), with_dashboard=False))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/nope", "/api/v1/initiatives/x/y/z"])
def test_unknown_api_paths_answer_json_404_not_the_dash_page(client, path) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["code"] == "not_found"


def test_openapi_docs(client) -> None:
    assert client.get("/api/docs").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/initiatives" in spec["paths"]


def test_openapi_bounds_are_json_schema_keywords(client) -> None:
    """Bounds read as ``minimum``/``maximum``: pydantic writes ``ge``/``le`` (which no client
    understands) for some shapes of field, e.g. an optional integer with a validator."""
    spec = client.get("/api/openapi.json").json()
    misspelt: list[str] = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("integer", "number"):
                misspelt.extend(f"{where}.{k}" for k in ("ge", "le", "gt", "lt") if k in node)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(spec, "")
    assert not misspelt
    decimals = spec["components"]["schemas"]["IndicatorUpdate"]["properties"]["decimals"]
    assert decimals["anyOf"][0]["maximum"] == 6


def test_dash_serves_its_index_on_page_urls(client) -> None:
    for path in ("/", "/some/bookmarked/page"):
        response = client.get(path)
        assert response.status_code == 200
        assert "_dash-config" in response.text or "dash-renderer" in response.text


def test_dash_assets_are_local(client) -> None:
    """No CDN: the theme is served from our assets, so the page works on a closed network."""
    index = client.get("/").text
    assert "cdn." not in index and "googleapis" not in index
    assert client.get("/assets/00-bootstrap-flatly.min.css").status_code == 200


def test_initiatives_api_lists_the_directory(client, session) -> None:
    init = f.initiative(session, slug="river-city", name="River City Reads")
    f.member(session, init)
    f.member(session, init)
    f.indicator(session, init)
    session.commit()
    body = client.get("/api/v1/initiatives").json()
    [entry] = [e for e in body if e["slug"] == "river-city"]
    assert entry["members"] == 2
    assert entry["indicators"] == 1
    assert len(entry["member_names"]) == 2


def _home_layout():
    return dash.page_registry["pages.home"]["layout"]()


def test_home_page_shows_initiatives_through_the_domain_layer(
    app, session, session_factory
) -> None:
    init = f.initiative(session, slug="river-city", name="River City Reads")
    f.member(session, init, f.organisation(session, name="Eastside Library"))
    f.period(session, init, "2025Q3")
    session.commit()
    data.configure(session_factory)
    rendered = str(_home_layout())
    assert "River City Reads" in rendered
    assert "Eastside Library" in rendered


def test_home_page_without_initiatives_explains_how_to_load_the_demo(app, session_factory) -> None:
    data.configure(session_factory)
    assert "cm demo" in str(_home_layout())


def test_directory_current_period_is_the_one_containing_today(session) -> None:
    from models.core.actors import ANONYMOUS
    from models.initiatives.directory import initiative_directory

    init = f.initiative(session, slug="dated")
    for key in ("2025Q2", "2025Q3", "2025Q4"):
        f.period(session, init, key)
    [entry] = [
        e
        for e in initiative_directory(session=session, actor=ANONYMOUS, today=date(2025, 8, 15))
        if e.slug == "dated"
    ]
    assert entry.current_period == "2025Q3"
    assert entry.latest_approved_period is None


def test_wrong_method_on_an_api_route_is_405_with_allow(client) -> None:
    r = client.put("/api/v1/me")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"  # HEAD is served as the GET (api/head_requests)
    assert r.json()["code"] == "method_not_allowed"
    r = client.delete("/api/v1/initiatives/x/submissions/a/b")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT"}


def test_every_405_lists_every_method_of_the_path(client) -> None:
    """Starlette answered 405 from the first route at a path, so ``OPTIONS /api-keys`` said
    ``Allow: GET`` though POST is there too. Every documented path, every other method."""
    import re

    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/api-keys" in paths
    wrong = []
    for template, operations in paths.items():
        documented = {m.upper() for m in operations}
        if "GET" in documented:
            documented.add("HEAD")  # answered as the GET (tests/app/test_head_requests.py)
        url = re.sub(r"\{[^}]+\}", "1", template)
        others = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} - documented
        for method in sorted(others):
            r = client.request(method, url)
            allow = set(r.headers.get("allow", "").split(", ")) - {""}
            if r.status_code != 405 or allow != documented:
                wrong.append((method, template, r.status_code, sorted(allow)))
    assert wrong == []
    assert client.options("/api/v1/api-keys").json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("with_dashboard", [False, True])
def test_an_app_is_freed_once_dropped(session_factory, with_dashboard) -> None:
    """The suite builds an app per test. A route closing over ``app`` was kept, with the whole
    app, by FastAPI's 4,096-entry cache of endpoint functions: thousands of apps stayed alive
    (15 M objects), and the garbage collector paused the suite for up to 13 s at a time."""
    import gc
    import weakref

    from api.app import create_app

    ref = weakref.ref(create_app(session_factory, with_dashboard=with_dashboard))
    gc.collect()
    assert ref() is None
