"""Limits: request size, request rate, and input the database cannot store."""

from __future__ import annotations

import pytest

from api.limits import RateLimiter
from models.core.counters import MemoryCounters

from .. import factories as f


def test_a_body_over_the_limit_is_413_json(client) -> None:
    big = b'{"values": [' + b" " * (11 * 1024 * 1024) + b"]}"
    r = client.put(
        "/api/v1/initiatives/x/submissions/a/b",
        content=big,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"


def test_requests_past_the_rate_limit_get_429_with_retry_after(app, client, session) -> None:
    user = f.user(session, "admin", email="busy@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    app.state.rate_limiter = RateLimiter(per_minute=5, counters=MemoryCounters())
    headers = {"Authorization": f"Bearer {token}"}
    answers = [client.get("/api/v1/me", headers=headers).status_code for _ in range(7)]
    assert answers[:5] == [200] * 5
    assert answers[5:] == [429, 429]
    r = client.get("/api/v1/me", headers=headers)
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["code"] == "rate_limited"
    # Another client is not affected by this one's burst.
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("text", ["nul\x00byte", "é" * 5000, "🙂 naïve ☃"])
def test_odd_text_is_a_clear_answer_never_a_500(client, session, text) -> None:
    user = f.user(session, "admin", email="odd@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    r = client.post(
        "/api/v1/organisations",
        json={"slug": "odd", "name": text, "sector": "other"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code in (201, 422), r.text
    assert r.headers["content-type"].startswith("application/json")


def test_an_exhausted_connection_pool_answers_503_not_a_traceback() -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from api.app import create_app

    def no_connection():
        raise PoolTimeout("QueuePool limit reached")

    client = TestClient(create_app(no_connection, with_dashboard=False))
    r = client.get("/api/v1/initiatives")
    assert r.status_code == 503
    assert r.json()["code"] == "busy" and r.headers["Retry-After"] == "2"
