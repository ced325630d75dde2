"""Compressed answers: JSON, pages and the dashboard's bundles travel gzip-compressed to any
client that accepts it (a region's completeness grid is 250 KB of JSON and 20 KB compressed;
the charting bundle 4.8 MB and 1.4 MB).

Starlette's ``GZipMiddleware`` compresses what the app answers; a response that is already
encoded (the read views send their cached answer compressed once, see
``api/routers/analytics.py``) passes through untouched. Nothing the server sends mixes a secret
with text an attacker chose (the BREACH condition): tokens and keys are answered alone, and
pages carry no anti-forgery token (same-origin checks stand in for one, ``api/web_auth.py``).
"""

from __future__ import annotations

import gzip

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, IdentityResponder
from starlette.types import Receive, Scope, Send

# Below this, the compressed answer and its headers are not worth the CPU.
COMPRESS_FROM = 1024
# zlib level 5: nearly the size of level 9 in a fraction of its time, for answers made per request.
LEVEL = 5
VARY = "Authorization, Accept-Encoding"


def accepts_gzip(headers: Headers) -> bool:
    """The client lists gzip in Accept-Encoding without refusing it (``gzip;q=0``)."""
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower().replace(" ", "")
            return not q.startswith("q=") or q[2:].rstrip("0.") != ""
    return False


def gzipped(body: bytes) -> bytes:
    """The body compressed as a gzip member with no timestamp, so the same answer always
    compresses to the same bytes."""
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


class Compression(GZipMiddleware):
    """Starlette's middleware, honouring a client that refuses gzip (``gzip;q=0``), which it
    would otherwise take for one that asks for it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not accepts_gzip(Headers(scope=scope)):
            plain = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
            await plain(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


__all__ = ["COMPRESS_FROM", "LEVEL", "VARY", "Compression", "accepts_gzip", "gzipped"]
