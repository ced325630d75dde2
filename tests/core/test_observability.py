"""Every answer carries security headers and a request id; /metrics speaks Prometheus."""

from __future__ import annotations


def test_security_headers_on_api_and_dashboard(client) -> None:
    for path in ("/healthz", "/api/v1/initiatives", "/", "/api/nope"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert r.headers["x-frame-options"] == "DENY"


def test_only_the_public_summary_may_be_embedded(client) -> None:
    r = client.get("/api/v1/public/initiatives/none/summary")
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers


def test_request_id_is_echoed_or_made(client) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert made != "bad id\n" and len(made) == 32


def test_every_answer_says_how_long_the_server_took(client) -> None:
    timing = client.get("/healthz").headers["server-timing"]
    name, duration = timing.split(";dur=")
    assert name == "app" and float(duration) >= 0


def test_an_answer_says_how_long_it_waited_for_its_turn(client) -> None:
    """Past /healthz every request waits for a turn in its worker (api/in_flight.py): the
    wait is part of the server's time, and said next to it."""
    timing = client.get("/api/v1/initiatives").headers["server-timing"]
    metrics = dict(part.strip().split(";dur=") for part in timing.split(","))
    assert set(metrics) == {"wait", "app"}
    assert 0 <= float(metrics["wait"]) <= float(metrics["app"])


def test_metrics_count_requests_by_route_template(client) -> None:
    client.get("/api/v1/initiatives/some-slug/submissions")
    body = client.get("/metrics").text
    assert "cm_http_requests_total" in body
    assert 'route="/api/v1/initiatives/{slug}/submissions"' in body
    assert "some-slug" not in body


def test_request_log_is_json_with_the_request_id(client, capsys) -> None:
    import json
    import logging

    from api.observability import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cm.http")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        client.get("/healthz", headers={"X-Request-ID": "trace-me"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    entry = next(x for x in lines if x.get("request_id") == "trace-me")
    assert entry["route"] == "/healthz" and entry["status"] == 200


def test_metrics_count_imports_and_time_rollups(client) -> None:
    import io

    import pytest

    from models.analytics.rollups import rollups
    from models.core.actors import SYSTEM
    from models.core.errors import NotFound
    from models.core.metrics import REGISTRY
    from models.spreadsheets.imports import import_file

    def sample(name, labels=None):
        return REGISTRY.get_sample_value(name, labels or {}) or 0.0

    refused = sample("cm_imports_total", {"outcome": "refused"})
    timed = sample("cm_rollup_query_seconds_count")
    session = client.app.state.session_factory()
    try:
        with pytest.raises(NotFound):
            import_file(
                session=session,
                actor=SYSTEM,
                initiative_slug="no-such-initiative",
                stream=io.BytesIO(b"indicator,value\n"),
            )
        rollups(session=session, initiative_id=-1)
    finally:
        session.close()
    assert sample("cm_imports_total", {"outcome": "refused"}) == refused + 1
    assert sample("cm_rollup_query_seconds_count") == timed + 1
    body = client.get("/metrics").text
    assert "cm_imports_total" in body and "cm_rollup_query_seconds" in body


def test_an_api_answer_to_credentials_is_never_kept_by_a_shared_cache(client) -> None:
    """Asked with a token or the login cookie, an API answer that says nothing of caching is
    private and not stored; without credentials nothing is added (tests/app/test_http_caching
    has the answers that say how to cache)."""
    token = {"Authorization": "Bearer not-a-real-token"}
    refused = client.get("/api/v1/initiatives", headers=token)
    assert refused.headers["cache-control"] == "private, no-store"
    with_cookie = client.get("/api/v1/initiatives", cookies={"cm_session": "x"})
    assert with_cookie.headers["cache-control"] == "private, no-store"
    assert "cache-control" not in client.get("/api/v1/initiatives").headers
