"""A worker serves at most so many requests at once; the others wait at the door, people
before machines (the API), machines never starved, and ``/healthz`` is let past them
(api/in_flight.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.in_flight import Door, InFlightLimit, lane_of
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


def _lanes_app(limit: int, machine_limit: int):
    """People ask ``/page``, machines ``/api/work``; each request holds its turn until the
    test lets that one go (by its name); records who started, in order."""
    started: list[str] = []
    releases: dict[str, asyncio.Event] = {}

    async def work(request):
        name = request.query_params["name"]
        started.append(name)
        await releases.setdefault(name, asyncio.Event()).wait()
        return PlainTextResponse("done")

    app = Starlette(routes=[Route("/page", work), Route("/api/work", work)])
    limited = InFlightLimit(app, limit=limit, machine_limit=machine_limit)

    def release(name: str) -> None:
        releases.setdefault(name, asyncio.Event()).set()

    return limited, started, release


async def _lanes(limit, machine_limit, steps) -> list[str]:
    """Run ``steps`` against the lanes app: ``("person"|"machine", name)`` sends a request and
    waits until it started or queued; ``("release", name)`` lets one go and waits until the
    door has handed its turn on. Answers who started, in order."""
    app, started, release = _lanes_app(limit, machine_limit)
    calls = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for step, name in steps:
            if step == "release":
                release(name)
            else:
                path = "/page" if step == "person" else "/api/work"
                calls.append(asyncio.create_task(client.get(path, params={"name": name})))
            await asyncio.sleep(0.05)  # the request reaches the door, or a turn is handed on
        order = list(started)
        for name in {n for _, n in steps}:
            release(name)
        answers = await asyncio.gather(*calls)
    assert all(a.status_code == 200 for a in answers)
    return order


def test_a_person_waiting_goes_in_before_machines_that_came_first() -> None:
    order = asyncio.run(
        _lanes(
            2,
            2,
            [
                ("machine", "m1"),
                ("machine", "m2"),
                ("machine", "m3"),  # waits: both turns are taken
                ("person", "p1"),  # waits, after m3
                ("release", "m1"),
            ],
        )
    )
    assert order == ["m1", "m2", "p1"]  # first come, first served would have let m3 in


def test_machines_leave_turns_free_for_people() -> None:
    order = asyncio.run(
        _lanes(
            3,
            2,
            [
                ("machine", "m1"),
                ("machine", "m2"),
                ("machine", "m3"),  # waits, though a turn is free: it is kept for people
                ("person", "p1"),  # goes straight in
            ],
        )
    )
    assert order == ["m1", "m2", "p1"]


def test_machines_are_not_starved_by_people() -> None:
    order = asyncio.run(
        _lanes(
            2,
            2,
            [
                ("person", "p1"),
                ("person", "p2"),
                ("machine", "m1"),  # waits: people hold every turn
                ("person", "p3"),  # waits too, after m1
                ("release", "p1"),  # no machine in flight: this turn is the machines'
                ("person", "p4"),
                ("release", "p2"),
            ],
        )
    )
    assert order == ["p1", "p2", "m1", "p3"]


def test_the_limit_is_the_whole_of_the_turns_whatever_the_lanes() -> None:
    order = asyncio.run(
        _lanes(
            2,
            5,
            [("machine", "m1"), ("person", "p1"), ("person", "p2"), ("machine", "m2")],
        )
    )
    assert order == ["m1", "p1"]


def test_a_request_that_gives_up_waiting_keeps_no_turn() -> None:
    async def scenario() -> None:
        door = Door(limit=1, machine_limit=1)
        await door.enter("people")
        gives_up = asyncio.create_task(door.enter("people"))
        handed_over = asyncio.create_task(door.enter("machines"))
        await asyncio.sleep(0.01)
        gives_up.cancel()  # its client left while it waited
        await asyncio.gather(gives_up, return_exceptions=True)
        door.leave("people")  # the turn goes past it, to the machine
        await handed_over
        assert door.running == {"people": 0, "machines": 1}
        door.leave("machines")
        # A turn handed to a request cancelled before it woke up is passed on, not kept.
        await door.enter("people")
        late = asyncio.create_task(door.enter("people"))
        await asyncio.sleep(0.01)
        door.leave("people")  # the turn is late's now, but it has not woken up yet
        late.cancel()
        await asyncio.gather(late, return_exceptions=True)
        assert door.running == {"people": 0, "machines": 0}
        assert not door.waiting["people"] and not door.waiting["machines"]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("path", "lane"),
    [
        ("/api/v1/initiatives/x/submissions/org/2026-Q4", "machines"),
        ("/metrics", "machines"),
        ("/_dash-update-component", "people"),
        ("/overview", "people"),
        ("/auth/login", "people"),
        ("/apiary", "people"),
    ],
)
def test_the_api_is_the_machines_lane(path, lane) -> None:
    assert lane_of(path) == lane


def test_the_app_keeps_the_configured_turns_for_people(monkeypatch) -> None:
    from api.app import create_app
    from models.core.settings import get_settings

    monkeypatch.setenv("CM_MAX_REQUESTS_IN_FLIGHT", "6")
    monkeypatch.setenv("CM_MAX_API_REQUESTS_IN_FLIGHT", "3")
    get_settings.cache_clear()
    try:
        app = create_app(with_dashboard=False)
    finally:
        get_settings.cache_clear()
    [door] = [m for m in app.user_middleware if m.cls is InFlightLimit]
    assert door.kwargs == {"limit": 6, "machine_limit": 3}


def test_by_default_the_api_may_hold_every_turn(monkeypatch) -> None:
    from api.app import create_app
    from models.core.settings import get_settings

    monkeypatch.delenv("CM_MAX_API_REQUESTS_IN_FLIGHT", raising=False)
    get_settings.cache_clear()
    try:
        app = create_app(with_dashboard=False)
    finally:
        get_settings.cache_clear()
    [door] = [m for m in app.user_middleware if m.cls is InFlightLimit]
    assert door.kwargs["machine_limit"] is None
    assert door.cls(None, **door.kwargs).machine_limit == door.kwargs["limit"]
