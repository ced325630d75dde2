"""HEAD wherever GET is (api/head_requests.py): the GET's status and headers, never a body,
through the same authentication; the log line still says HEAD."""

from __future__ import annotations

import logging

from .. import factories as f


def test_pages_and_health_answer_head_as_their_get(session, client) -> None:
    f.initiative(session, slug="open", name="Open City")
    session.commit()
    for path in ("/", "/login", "/public/open", "/healthz", "/api/docs"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        # The GET's length (a page's differs by its per-request token, so only its presence).
        assert int(head.headers["content-length"]) > 0, path
    for path in ("/healthz", "/api/docs"):
        assert (
            client.head(path).headers["content-length"]
            == client.get(path).headers["content-length"]
        )
    assert client.head("/public/nowhere").status_code == 404  # a page naming no initiative


def test_an_api_read_answers_head_only_to_whom_its_get_answers(session, client) -> None:
    built = f.two_partner_world(session)
    users = f.two_partner_users(session, built, roles=("backbone", "outsider"))
    session.commit()
    headers = f.bearer_headers(client, users)
    path = "/api/v1/initiatives/c2c"
    got = client.get(path, headers=headers["backbone"])
    head = client.head(path, headers=headers["backbone"])
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == "application/json"
    assert head.headers.get("etag") == got.headers.get("etag")
    # Refused exactly as the GET is: no credentials, another initiative's backbone.
    assert client.head(path).status_code == client.get(path).status_code == 401
    outsider = headers["outsider"]
    assert (
        client.head(path, headers=outsider).status_code
        == client.get(path, headers=outsider).status_code
    )
    assert client.head(path, headers=outsider).content == b""


def test_head_where_there_is_no_get_is_refused_with_allow(client) -> None:
    r = client.head("/api/v1/auth/token")  # a POST-only route
    assert r.status_code == 405 and r.content == b""
    assert "HEAD" not in r.headers["allow"] and "POST" in r.headers["allow"]
    listed = client.request("DELETE", "/api/v1/initiatives")
    assert "HEAD" in listed.headers["allow"] and "GET" in listed.headers["allow"]


def test_the_log_line_says_head(client, caplog) -> None:
    with caplog.at_level(logging.INFO):
        client.head("/healthz")
    lines = [r for r in caplog.records if r.name == "cm.http"]
    assert [(r.method, r.route) for r in lines] == [("HEAD", "/healthz")]
