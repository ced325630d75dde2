"""Dashboard callbacks never block the event loop: a slow page leaves the worker answering.

Dash's FastAPI backend runs a synchronous callback on the event loop itself; the dashboard
hands each one to the thread pool (dashboard/app.py), as FastAPI does with synchronous routes.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

import dash
import httpx

from dashboard import data

from ..browser.support import live_server
from ..dash_calls import CALLBACK_URL, callback_body, render_page


def test_every_server_callback_is_a_coroutine_for_the_thread_pool(app, client) -> None:
    render_page(client, "/")  # Dash finishes its set-up on the first request
    callbacks = [c["callback"] for c in dash.get_app().callback_map.values() if "callback" in c]
    assert len(callbacks) > 20
    assert all(inspect.iscoroutinefunction(c) for c in callbacks)


def test_a_callback_runs_where_no_event_loop_runs(client, monkeypatch) -> None:
    where: list[str] = []
    directory = data.directory

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:
            where.append("thread pool")
        return directory(*args, **kwargs)

    monkeypatch.setattr(data, "directory", recording)  # the home page's layout reads it
    assert render_page(client, "/").status_code == 200
    assert where == ["thread pool"]


def test_a_slow_page_does_not_hold_up_the_workers_other_requests(database, monkeypatch) -> None:
    """While a page's callback takes a second, ``/healthz`` on the same worker answers: before
    the callback is done, not after it."""
    started, finished = threading.Event(), threading.Event()
    directory = data.directory

    def slow(*args, **kwargs):
        started.set()
        time.sleep(1)
        try:
            return directory(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(data, "directory", slow)

    async def scenario(url: str) -> tuple[int, bool, int]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            deps = await client.get("/_dash-dependencies")
            body = callback_body(
                _Sync(deps.json()),
                ".._pages_content.children",
                [("_pages_location", "pathname", "/"), ("_pages_location", "search", "")],
            )
            page = asyncio.create_task(
                client.post(CALLBACK_URL, json=body, headers={"Origin": url})
            )
            for _ in range(500):
                if started.is_set():
                    break
                await asyncio.sleep(0.01)
            assert started.is_set(), "the page's callback never ran"
            health = await client.get("/healthz")
            done_before_health = finished.is_set()
            return health.status_code, done_before_health, (await page).status_code

    with live_server(database.engine) as url:
        health, page_done_first, page = asyncio.run(scenario(url))
    assert health == 200
    assert not page_done_first  # /healthz was answered while the page was still being built
    assert page == 200 and finished.is_set()


class _Sync:
    """What ``callback_body`` needs of a client: the dependencies, already fetched."""

    def __init__(self, deps: list) -> None:
        self._deps = deps

    def get(self, _path: str) -> _Sync:
        return self

    def json(self) -> list:
        return self._deps
