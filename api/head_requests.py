"""HEAD answered wherever GET is (RFC 9110 §9.3.2): the same status and headers, no body.

FastAPI routes a GET only as GET, so uptime monitors, link checkers and caches revalidating
with HEAD met 405 on every page and API read. A HEAD is served as the GET it asks about,
through the same authentication, limits and caching, and its answer's body is dropped on the
way out; ``Content-Length`` stays the GET's, as the RFC allows. The request's log line, outside
this middleware, still says HEAD, and a 405's ``Allow`` that lists GET lists HEAD too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, _allowing_head(send))
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_head_allowed(message)
            elif message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body's parts: only its end is sent, empty
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            for key in ("route", "path_params"):  # the route matched, for the log and metrics
                if key in as_get:
                    scope[key] = as_get[key]


def _allowing_head(send: Send) -> Send:
    async def sending(message: Message) -> None:
        await send(
            _with_head_allowed(message) if message["type"] == "http.response.start" else message
        )

    return sending


def _with_head_allowed(start: Message) -> Message:
    """A 405's ``Allow`` naming GET names HEAD too, since HEAD is answered wherever GET is."""
    if start.get("status") != 405:
        return start
    headers = []
    for name, value in start.get("headers") or []:
        if name.lower() == b"allow":
            methods = [m.strip() for m in value.decode("latin-1").split(",") if m.strip()]
            if "GET" in methods and "HEAD" not in methods:
                methods.append("HEAD")
            value = ", ".join(sorted(methods)).encode("latin-1")
        headers.append((name, value))
    return {**start, "headers": headers}
