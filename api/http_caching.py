"""What a browser or a CDN may keep of the front end and of the public answers, and for how long.

A phone that opens the public summary a second time should fetch almost nothing: the bundles
from its cache, the page and the published figures by a conditional GET answered 304. Nothing a
logged-in person is shown may ever be kept by a shared cache.

The Dash server's answers (``DashCaching``):

* Bundles named with their version (Dash's ``name.v<version>m<mtime>.js``), assets named with
  their modification time (``?m=``) and the versioned favicon: ``public, max-age=31536000,
  immutable``. A release names them anew.
* Chunks Dash loads on demand under fixed names (``async-*.js``, the charting library) and
  assets without ``?m=``: ``public, no-cache`` with their ETag, so each use is a 304.
* The public pages (``/public``, ``/public/<initiative>``) and the page frame and callback
  graph every page loads (``/_dash-layout``, ``/_dash-dependencies``), asked without a session
  cookie or an Authorization header: ``public, no-cache`` with an ETag of the body.
* Everything else, and all of the above that depends on the user when asked with credentials:
  ``private, no-store``.

Dash's own validators are strong (a file's bytes); the compression middleware leaves an answer
with a strong ETag uncompressed (it names exact bytes), so they are sent weak here (``W/``), as
the bytes that travel are compressed. Conditional requests are answered here, by the weak
comparison RFC 9110 prescribes for If-None-Match, so neither Dash nor Starlette's static files
has to understand the weakened tags.

The public API's published summary and data package use ``public_answer``.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs

from dash.fingerprint import check_fingerprint
from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.session import SESSION_COOKIE

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
PRIVATE = "private, no-store"

SUITES = "/_dash-component-suites/"
ASSETS = "/assets/"
PUBLIC_DYNAMIC = re.compile(r"^/(public(/[^/]+)?/?|_dash-layout|_dash-dependencies)$")
# The index carries a token Dash makes anew for each load (for background callbacks, which
# this app has none of): it is left out of the page's ETag, or no copy would ever be current.
_PER_LOAD = re.compile(rb'"end_id":\s*"[^"]*"')
_CONDITIONAL = {b"if-none-match", b"if-modified-since"}


def weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison: the tags are equal once ``W/`` is set aside."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return opaque in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def public_answer(request: Request, body: bytes, media_type: str, **headers: str) -> Response:
    """A public answer anyone may keep and must revalidate: 304 when the client's copy is
    still this one."""
    etag = weak_etag(body)
    # The legend's words follow the reader's language (README, "Languages").
    # The language comes from the switcher's cookie before Accept-Language: a shared cache keys
    # on both.
    kept = {
        **headers,
        "ETag": etag,
        "Cache-Control": REVALIDATE,
        "Vary": "Accept-Language, Cookie",
    }
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=kept)
    return Response(body, media_type=media_type, headers=kept)


def _has_credentials(headers: Headers) -> bool:
    cookies = headers.get("cookie", "")
    named = {part.split("=", 1)[0].strip() for part in cookies.split(";")}
    return SESSION_COOKIE in named or "authorization" in headers


def policy(path: str, query: str, credentials: bool) -> str:
    """The Cache-Control a Dash answer at ``path`` gets (see the module's docstring)."""
    params = parse_qs(query)
    if path.startswith(SUITES):
        fingerprinted = check_fingerprint(path.rsplit("/", 1)[-1])[1]
        return IMMUTABLE if fingerprinted else REVALIDATE
    if path.startswith(ASSETS):
        return IMMUTABLE if "m" in params else REVALIDATE
    if path == "/_favicon.ico" and "v" in params:
        return IMMUTABLE
    if PUBLIC_DYNAMIC.match(path) and not credentials:
        return REVALIDATE
    return PRIVATE


class DashCaching:
    """ASGI middleware for the Dash server: Cache-Control, weak ETags and 304s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        control = policy(
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            _has_credentials(request_headers),
        )
        if scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, _with_policy(send, PRIVATE, None))
            return
        if_none_match = request_headers.get("if-none-match")
        # Conditions are answered here (the tags Dash and Starlette would compare are weakened).
        inner = {
            **scope,
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() not in _CONDITIONAL],
        }
        dynamic = not scope["path"].startswith((SUITES, ASSETS))
        if control == REVALIDATE and dynamic and scope["method"] == "GET":
            await self.app(inner, receive, _tagged_by_body(send, if_none_match))
            return
        await self.app(inner, receive, _with_policy(send, control, if_none_match))


def _not_modified(start: Message, headers: MutableHeaders) -> Message:
    kept = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in headers.items()
        if k in ("cache-control", "etag", "vary", "last-modified")
    ]
    return {**start, "status": 304, "headers": kept}


def _with_policy(send: Send, control: str, if_none_match: str | None) -> Send:
    """Set ``control`` (a private answer keeps one it set itself), weaken the
    answer's ETag and answer 304 when it matches."""
    swallowing = False

    async def sending(message: Message) -> None:
        nonlocal swallowing
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=list(message.get("headers") or []))
            ok = message["status"] == 200
            if control != PRIVATE and not ok:
                headers["cache-control"] = "no-store"  # a missing bundle is not kept either
            elif control != PRIVATE or "cache-control" not in headers:
                headers["cache-control"] = control
            etag = headers.get("etag")
            if etag and control != PRIVATE:
                headers["etag"] = etag if etag.startswith("W/") else f'W/"{etag.strip(chr(34))}"'
                if ok and matches(if_none_match, headers["etag"]):
                    swallowing = True
                    await send(_not_modified(message, headers))
                    return
            elif etag:
                del headers["etag"]  # nothing private is revalidated: it is not kept
            message = {**message, "headers": headers.raw}
        elif swallowing:
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})
            return
        await send(message)

    return sending


def _tagged_by_body(send: Send, if_none_match: str | None) -> Send:
    """Hold the answer, tag it with its body's hash (without the per-load token) and send it,
    or 304 when the client has it already."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def sending(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        headers = MutableHeaders(raw=list(start.get("headers") or []))
        if start["status"] != 200:
            headers["cache-control"] = "no-store"
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})
            return
        headers["cache-control"] = REVALIDATE
        headers["etag"] = weak_etag(_PER_LOAD.sub(b'"end_id":""', body))
        headers.add_vary_header("Cookie")
        headers.add_vary_header("Accept-Language")  # the page's words (README, "Languages")
        if matches(if_none_match, headers["etag"]):
            await send(_not_modified(start, headers))
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})

    return sending


__all__ = ["DashCaching", "matches", "policy", "public_answer", "weak_etag"]
