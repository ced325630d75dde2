"""Compressed answers: JSON, pages and the dashboard's bundles travel gzip-compressed to any
client that accepts it (a region's completeness grid is 250 KB of JSON and 9 KB compressed;
the charting bundle 4.8 MB and 1.4 MB).

Starlette's ``GZipMiddleware`` compresses what the app answers; a response that is already
encoded (the read views send their cached answer compressed once, see
``api/routers/analytics.py``) passes through untouched, and so does one with a strong ETag (a
submission's version for If-Match): a strong validator names exact bytes, so those answers go
out as they are. Nothing the server sends mixes a secret with text an attacker chose (the
BREACH condition): tokens and keys are answered alone, and pages carry no anti-forgery token
(same-origin checks stand in for one, ``api/web_auth.py``).
"""

from __future__ import annotations

import gzip

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import Message, Receive, Scope, Send

# Below this, the compressed answer and its headers are not worth the CPU.
COMPRESS_FROM = 1024
# zlib level 5: nearly the size of level 9 in a fraction of its time, for answers made per request.
LEVEL = 5
VARY = "Authorization, Accept-Encoding"


def _weight(params: str) -> float:
    """An Accept-Encoding entry's q (1 when absent; 0, not acceptable, when unreadable)."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def accepts_gzip(headers: Headers) -> bool:
    """The client accepts gzip: named with a q above 0, or else ``*`` with a q above 0 (an
    explicit ``gzip;q=0`` wins over ``*``)."""
    weights: dict[str, float] = {}
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        weights[coding.strip().lower()] = _weight(params)
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("*", 0.0) > 0


def gzipped(body: bytes) -> bytes:
    """The body compressed as a gzip member with no timestamp, so the same answer always
    compresses to the same bytes."""
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


class _Compressing(GZipResponder):
    """Starlette's compressing responder, passing through an answer with a strong ETag."""

    async def send_with_compression(self, message: Message) -> None:
        await super().send_with_compression(message)
        if message["type"] != "http.response.start":
            return
        passed = self.content_encoding_set or self.partial_response
        etag = Headers(raw=message["headers"]).get("etag", "")
        if etag and not etag.startswith("W/") and not (passed or self.content_type_is_excluded):
            self.content_encoding_set = True  # from here on, sent as it is
            await self.send(self.initial_message)


class Compression(GZipMiddleware):
    """Starlette's middleware, honouring a client that refuses gzip (``gzip;q=0``, which it
    would take for one that asks for it) and leaving strong validators' bytes alone."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if accepts_gzip(Headers(scope=scope)):
            responder: IdentityResponder | GZipResponder = _Compressing(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        await responder(scope, receive, send)


__all__ = ["COMPRESS_FROM", "LEVEL", "VARY", "Compression", "accepts_gzip", "gzipped"]
