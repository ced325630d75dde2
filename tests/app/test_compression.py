"""The compression middleware: who gets gzip, and what is never compressed."""

from __future__ import annotations

import gzip

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from api.compression import COMPRESS_FROM, LEVEL, Compression, accepts_gzip

BODY = b'{"rows": [' + b",".join(b'{"value": %d}' % i for i in range(400)) + b"]}"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate", True),
        ("GZIP ; q=1", True),
        ("gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("gzip;level=1;q=0", False),  # q after another parameter
        ("*, gzip;q=0", False),  # naming gzip wins over the wildcard
        ("gzip;q=0, *", False),
        ("*", True),
        ("*;q=0", False),
        ("br, identity", False),
        ("gzip;q=abc", False),  # unreadable: not acceptable
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_http_says(header, accepted) -> None:
    assert accepts_gzip(Headers({"accept-encoding": header})) is accepted


def _client() -> TestClient:
    def plain(_request) -> Response:
        return Response(BODY, media_type="application/json")

    def strong(_request) -> Response:
        return Response(BODY, media_type="application/json", headers={"ETag": '"3"'})

    def weak(_request) -> Response:
        return Response(BODY, media_type="application/json", headers={"ETag": 'W/"3"'})

    def small(_request) -> Response:
        return Response(b"{}", media_type="application/json")

    app = Starlette(
        routes=[
            Route("/plain", plain),
            Route("/strong", strong),
            Route("/weak", weak),
            Route("/small", small),
        ]
    )
    app.add_middleware(Compression, minimum_size=COMPRESS_FROM, compresslevel=LEVEL)
    return TestClient(app)


def test_answers_are_compressed_for_clients_that_accept_gzip() -> None:
    client = _client()
    with client.stream("GET", "/plain", headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in r.headers["vary"]
    assert gzip.decompress(raw) == BODY and len(raw) < len(BODY) / 3
    assert client.get("/weak", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == (
        "gzip"
    )


def test_refused_gzip_small_answers_and_strong_validators_go_out_as_they_are() -> None:
    client = _client()
    for path, encoding in (
        ("/plain", "gzip;q=0"),
        ("/plain", "*, gzip;q=0"),
        ("/small", "gzip"),
        # A strong ETag names these exact bytes (a submission's version for If-Match).
        ("/strong", "gzip"),
    ):
        with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as r:
            raw = b"".join(r.iter_raw())
            assert "content-encoding" not in r.headers, (path, encoding)
        assert raw in (BODY, b"{}"), (path, encoding)
    assert client.get("/strong", headers={"Accept-Encoding": "gzip"}).headers["etag"] == '"3"'


def test_an_answer_computed_again_to_the_same_bytes_is_not_compressed_again() -> None:
    """Kept by content: completeness computed again after a write that moved nothing in it is
    sent as compressed before; other bytes are compressed afresh."""
    from api.compression import gzipped
    from api.response_cache import ResponseCache

    cache = ResponseCache()
    made: list[bytes] = []

    def encode(body: bytes) -> bytes:
        made.append(body)
        return gzipped(body)

    body = b'{"cells":[' + b'"x",' * 2000 + b'"x"]}'
    first = cache.by_content(body, "gzip", lambda: encode(body))
    again = cache.by_content(bytes(bytearray(body)), "gzip", lambda: encode(body))
    other = cache.by_content(body + b" ", "gzip", lambda: encode(body + b" "))
    assert again is first and made == [body, body + b" "]
    assert gzip.decompress(first) == body and gzip.decompress(other) == body + b" "
