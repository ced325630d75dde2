"""A worker serves at most so many requests at once; the others wait at the door, first come
first served, and ``/healthz`` is let past them (api/in_flight.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.in_flight import InFlightLimit
from models.core.settings import Settings


def _app(limit: int):
    """Each /work request holds its turn until the test lets it go; records who ran."""
    started: list[str] = []
    release = asyncio.Event()

    async def work(request):
        started.append(request.query_params["name"])
        await release.wait()
        return PlainTextResponse("done")

    async def healthz(_request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/work", work), Route("/healthz", healthz)])
    return InFlightLimit(app, limit=limit), started, release


async def _until(condition) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def test_requests_past_the_limit_wait_their_turn_in_order() -> None:
    async def scenario() -> None:
        app, started, release = _app(limit=2)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            calls = [
                asyncio.create_task(client.get("/work", params={"name": name}))
                for name in ("a", "b", "c", "d")
            ]
            await _until(lambda: len(started) == 2)
            await asyncio.sleep(0.05)
            assert started == ["a", "b"]  # c and d wait at the door
            health = await client.get("/healthz")
            assert health.status_code == 200 and "wait" not in health.headers.get(
                "server-timing", ""
            )
            release.set()
            answers = await asyncio.gather(*calls)
        assert started == ["a", "b", "c", "d"]
        waits = [float(a.headers["server-timing"].split("wait;dur=")[1]) for a in answers]
        assert all(a.status_code == 200 for a in answers)
        assert waits[2] >= 40 and waits[3] >= 40, waits  # they waited for a and b

    asyncio.run(scenario())


def test_the_limit_holds_for_each_event_loop_of_its_own() -> None:
    """A test client may serve one app from several event loops: each gets its own door."""
    app, started, release = _app(limit=1)

    async def one(name: str) -> int:
        release.set()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            return (await client.get("/work", params={"name": name})).status_code

    assert asyncio.run(one("first")) == 200
    release.clear()
    assert asyncio.run(one("second")) == 200
    assert started == ["first", "second"]


@pytest.mark.parametrize(("pool", "overflow", "limit"), [(5, 0, 6), (2, 3, 8)])
def test_no_more_requests_in_flight_than_connections(pool, overflow, limit) -> None:
    with pytest.raises(ValueError, match="CM_MAX_REQUESTS_IN_FLIGHT"):
        Settings(db_pool_size=pool, db_max_overflow=overflow, max_requests_in_flight=limit)
    assert Settings(db_pool_size=pool, db_max_overflow=overflow, max_requests_in_flight=5)
