"""Security headers on every response.

The Content-Security-Policy keeps scripts, styles and connections on this site (the theme is
served from our assets, no CDN). Dash's index page starts its renderer with a small inline
script, hence ``'unsafe-inline'`` for scripts. Only the public summary may be embedded in other
sites' pages (``frame-ancestors *``); everything else refuses framing (clickjacking).

An API answer to a request that carries credentials (a bearer token, an API key or the login
cookie) and says nothing of caching is ``private, no-store``: what a logged-in caller is shown
is for nobody else, and no shared cache between it and us should keep it. Answers that say
how to cache (the analytics' ETags, the public summary) keep what they say.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EMBEDDABLE_PREFIXES = ("/public", "/api/v1/public/")
_CREDENTIALS = {b"authorization", b"cookie"}

_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors {ancestors}"
)


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    embeddable = path.startswith(EMBEDDABLE_PREFIXES)
    policy = _POLICY.format(ancestors="*" if embeddable else "'none'")
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if not embeddable:
        headers.append((b"x-frame-options", b"DENY"))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = headers_for(path)
        names = {name for name, _ in extra}
        private = path.startswith("/api/") and any(
            name.lower() in _CREDENTIALS for name, _ in scope.get("headers") or ()
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers") or [] if k.lower() not in names]
                if private and not any(k.lower() == b"cache-control" for k, _ in kept):
                    kept.append((b"cache-control", b"private, no-store"))
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
