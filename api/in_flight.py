"""At most so many requests of a worker are served at once; the others wait at the door, and
people waiting go in before machines.

A synchronous route hops between the event loop and the thread pool several times (each
synchronous dependency, then the route itself) and keeps its database connection from the
first hop that reads until it answers. With more requests in flight than threads, every
connection can end up held by a request waiting for a thread while every thread waits for a
connection: nothing moves until the pool's timeout turns them into 503s. And every request in
flight is one more thread contending for the interpreter's lock, with the event loop among
them: each hop of every request then waits longer for its turn, and the worker spends its time
switching instead of answering.

Requests past the limit wait on the event loop, holding neither a thread nor a connection
(README "Under load"). They wait in two lanes: **machines** (the JSON API under ``/api/`` and
``/metrics``: partners' systems, scripts, pollers) and **people** (everything else: the
dashboard's pages and callbacks, the login form, downloads, public pages). A person clicking
waits for the answer; a partner's system submitting its report can take a second longer. So:

- a freed turn goes to the person who has waited longest, before any machine;
- machines may be held to ``machine_limit`` of the turns (``CM_MAX_API_REQUESTS_IN_FLIGHT``;
  by default all of them): the rest are kept for people, so a click finds a turn free instead
  of waiting for one to end, and runs beside fewer threads. Where an API request is mostly
  the worker's CPU that should cost the API little; measured on a machine whose cores were
  shared, an API request spent most of its time waiting for the database or a core, and
  fewer of them at once answered a third fewer per second (bench/RESULTS.md, "Two lanes at
  the door");
- machines are never starved: while none of their requests is in flight and one waits, the next
  freed turn is theirs, whoever else waits. However many people click, one machine request at a
  time moves.

Within a lane it is first come, first served. How long a request waited is sent as
``Server-Timing: wait``, next to the whole time in the server (``app``). ``/healthz`` is let
through, since it only says whether the process answers at all.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT = frozenset({"/healthz"})
MACHINE_PATHS = ("/api/", "/metrics")

Lane = Literal["people", "machines"]


def lane_of(path: str) -> Lane:
    """Which lane a request waits in, by its path: the API's clients are machines."""
    return "machines" if path.startswith(MACHINE_PATHS) else "people"


class Door:
    """The turns of one event loop: how many each lane holds, and who waits in each."""

    def __init__(self, limit: int, machine_limit: int) -> None:
        self.limit, self.machine_limit = limit, min(machine_limit, limit)
        self.running: dict[Lane, int] = {"people": 0, "machines": 0}
        self.waiting: dict[Lane, deque[asyncio.Future[None]]] = {
            "people": deque(),
            "machines": deque(),
        }

    def _may_start(self, lane: Lane) -> bool:
        if sum(self.running.values()) >= self.limit:
            return False
        return lane == "people" or self.running["machines"] < self.machine_limit

    def _next(self) -> Lane | None:
        """The lane whose oldest waiter gets a free turn now, if any."""
        people = bool(self.waiting["people"]) and self._may_start("people")
        machines = bool(self.waiting["machines"]) and self._may_start("machines")
        if machines and (self.running["machines"] == 0 or not people):
            return "machines"
        return "people" if people else None

    def _hand_on(self) -> None:
        """Give the free turns to those next in line (the turn is theirs before they wake)."""
        while (lane := self._next()) is not None:
            waiter = self.waiting[lane].popleft()
            if not waiter.done():  # a request that gave up waiting (its client left)
                self.running[lane] += 1
                waiter.set_result(None)

    async def enter(self, lane: Lane) -> None:
        if not self.waiting[lane] and self._may_start(lane):
            self.running[lane] += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[lane].append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave(lane)  # the turn was handed over as it was cancelled: pass it on
            elif waiter in self.waiting[lane]:  # else it was passed over when a turn was free
                self.waiting[lane].remove(waiter)
            raise

    def leave(self, lane: Lane) -> None:
        self.running[lane] -= 1
        self._hand_on()


class InFlightLimit:
    def __init__(self, app: ASGIApp, limit: int, machine_limit: int | None = None) -> None:
        self.app, self.limit = app, limit
        self.machine_limit = limit if machine_limit is None else machine_limit
        # One door per event loop: a test client may serve the same app from several.
        self._doors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Door]
        self._doors = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        door = self._doors.get(loop)
        if door is None:
            door = self._doors[loop] = Door(self.limit, self.machine_limit)
        lane = lane_of(scope.get("path", ""))
        arrived = time.perf_counter()
        await door.enter(lane)
        try:
            waited = f"wait;dur={(time.perf_counter() - arrived) * 1000:.1f}".encode()

            async def send_with_wait(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", ()), (b"server-timing", waited)]
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, send_with_wait)
        finally:
            door.leave(lane)
