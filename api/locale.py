"""The language of each request (README, "Languages"): chosen before anything else runs, so
every message, page and error of the request is written in it.

The switcher's cookie, else ``Accept-Language``, else English; the user's own setting replaces
it once the request's user is known (``api.deps`` and the dashboard's ``current_actor`` call
``models.core.i18n.prefer``). The answer says which language it is in (``Content-Language``).
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.core import i18n


def _cookie(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header only loses the choice
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def request_locale(headers: Headers) -> str:
    return i18n.choose(
        cookie=_cookie(headers, i18n.LOCALE_COOKIE),
        accept_language=headers.get("accept-language"),
    )


class LocaleMiddleware:
    """Serve each HTTP request in its language (ASGI, so the context reaches every handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = i18n.begin_request(request_locale(Headers(scope=scope)))

        async def with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-language"] = i18n.current_locale()
            await send(message)

        try:
            await self.app(scope, receive, with_language)
        finally:
            i18n.end_request(token)
