"""Limits that keep one client from hurting the others: request size and request rate.

The rate limit counts requests per user or API key (per client address when anonymous) in a
sliding minute, in the counters every worker and container shares (Redis or the database:
``models/core/counters.py``), so a client gets the same limit however a load balancer spreads
its requests: a safety net against runaway scripts, not a quota system.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from models.core.counters import Counters, Window
from models.core.errors import RateLimited
from models.core.i18n import format_number, gettext


class RateLimiter:
    WINDOW = Window(seconds=60, buckets=12)

    def __init__(
        self, per_minute: int, counters: Counters, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.per_minute, self.counters, self.clock = per_minute, counters, clock

    def hit(self, key: str) -> None:
        """Count one request for ``key``; raise RateLimited past the limit (0 = no limit)."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        tally = self.counters.add(f"rate:{key}", self.WINDOW, now=now, limit=self.per_minute)
        if not tally.added:
            raise RateLimited(retry_after=tally.retry_after(self.WINDOW, self.per_minute, now))


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with a JSON 413, by header or as they stream.

    Spreadsheet uploads (``…/imports``) have their own, larger limit in their route.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").endswith("/imports"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        import json

        body = json.dumps(
            error_body(
                gettext(
                    "the request body is larger than %(limit)s bytes",
                    limit=format_number(self.limit),
                ),
                "too_large",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
