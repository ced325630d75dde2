"""At most so many requests of a worker are served at once; the others wait at the door.

A synchronous route hops between the event loop and the thread pool several times (each
synchronous dependency, then the route itself) and keeps its database connection from the
first hop that reads until it answers. With more requests in flight than threads, every
connection can end up held by a request waiting for a thread while every thread waits for a
connection: nothing moves until the pool's timeout turns them into 503s. And every request in
flight is one more thread contending for the interpreter's lock, with the event loop among
them: each hop of every request then waits longer for its turn, and the worker spends its time
switching instead of answering.

Requests past the limit wait on the event loop, first come first served, holding neither a
thread nor a connection (README "Scaling"); how long is sent as ``Server-Timing: wait``, next
to the whole time in the server (``app``). ``/healthz`` is let through, since it only says
whether the process answers at all.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT = frozenset({"/healthz"})


class InFlightLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        # One semaphore per event loop: a test client may serve the same app from several.
        self._doors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._doors = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        door = self._doors.get(loop)
        if door is None:
            door = self._doors[loop] = asyncio.Semaphore(self.limit)
        arrived = time.perf_counter()
        async with door:
            waited = f"wait;dur={(time.perf_counter() - arrived) * 1000:.1f}".encode()

            async def send_with_wait(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", ()), (b"server-timing", waited)]
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_wait)
