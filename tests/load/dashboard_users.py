"""Backbone staff clicking through the dashboard, as their browsers do.

Each user logs in through the login form (the session cookie), loads the app once (index,
layout, the callbacks' dependencies), then moves between the overview, indicator, reporting
and review pages with the menu: the page router's callback renders a page, and the page's own
callbacks fire with what is on the page: the pickers' values and options from the rendered
layout and from earlier answers, in the order Dash's renderer fires them (a callback waits for
the callbacks whose outputs are its inputs). Between clicks the user reads for a moment.

Every callback's round trip is recorded under its name ("dash overview", …), with the server's
own time from ``Server-Timing``; a refused call or an answer carrying an error alert is an
error of the run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tests.load.stats import Stats

CALLBACK_URL = "/_dash-update-component"
# A person reads what a click brought up before the next click, as long as a partner thinks
# between the steps of a report (tests/load/run.py THINK).
READ = (2.0, 6.0)

# The callbacks the pages fire, by the start of their output (as /_dash-dependencies names it).
PAGE_ROUTER = ".._pages_content.children"
OVERVIEW = "..overview-body.children"
TREND = "..indicator-trend.figure"
PARTNERS = "..indicator-partners.figure"
EQUITY = "..indicator-equity.figure"
DIMENSIONS = "..indicator-by.options"
INDICATOR_PERIODS = "..indicator-period.options"
REPORTING = "..reporting-heatmap.figure"
HEATMAP_TABLE = "reporting-heatmap-table.children"
QUEUE = "..review-queue.options"
MOVE = "review-queue.value@"
SELECTION = "..review-detail.children"


def components(tree: Any) -> Iterator[dict]:
    """Every component of a layout (Dash's JSON), depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict):
        if "props" in tree and "type" in tree:
            yield tree
            for value in tree["props"].values():
                yield from components(value)
        else:
            for value in tree.values():
                yield from components(value)


class Browser:
    """One logged-in user's page: the props of its components by "id.prop", as the renderer
    keeps them, and the callbacks it may fire."""

    def __init__(self, client: httpx.AsyncClient, stats: Stats, rng: random.Random):
        self.client = client
        self.stats = stats
        self.rng = rng
        self.deps: list[dict] = []
        self.props: dict[str, Any] = {}

    async def login(self, email: str, password: str) -> None:
        answer = await self.client.post(
            "/auth/login", data={"email": email, "password": password, "next": "/overview"}
        )
        if answer.status_code != 303 or answer.headers.get("location") != "/overview":
            raise RuntimeError(f"login of {email} failed: {answer.status_code} {answer.text[:200]}")
        for path in ("/overview", "/_dash-layout", "/_dash-dependencies"):
            started = time.perf_counter()
            answer = await self.client.get(path)
            self.stats.record_callback("dash app load", answer, started)
        self.deps = answer.json() if answer.status_code == 200 else []

    def _dep(self, output: str) -> dict:
        [dep] = [d for d in self.deps if d["output"].startswith(output)]
        return dep

    def _keep(self, tree: Any) -> None:
        for component in components(tree):
            ident = component["props"].get("id")
            if isinstance(ident, str):
                for prop, value in component["props"].items():
                    self.props[f"{ident}.{prop}"] = value

    async def fire(self, kind: str, output: str, changed: list[str] | None = None) -> None:
        """Call the callback with what the page holds now, and keep what it answers."""
        dep = self._dep(output)
        outputs = [
            dict(zip(("id", "property"), part.split("@")[0].split("."), strict=True))
            for part in dep["output"].strip(".").split("...")
        ]

        def values(items: list[dict]) -> list[dict]:
            return [{**i, "value": self.props.get(f"{i['id']}.{i['property']}")} for i in items]

        body = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": values(dep["inputs"]),
            "state": values(dep["state"]),
            "changedPropIds": changed or [],
        }
        started = time.perf_counter()
        answer = await self.client.post(CALLBACK_URL, json=body)
        self.stats.record_callback(kind, answer, started)
        if answer.status_code == 200:
            for ident, props in answer.json().get("response", {}).items():
                for prop, value in props.items():
                    self.props[f"{ident}.{prop}"] = value
                    self._keep(value)

    async def open(self, path: str) -> None:
        """Follow a menu link: the page router renders the page's layout."""
        self.props["_pages_location.pathname"] = path
        self.props["_pages_location.search"] = ""
        await self.fire("dash page", PAGE_ROUTER, ["_pages_location.pathname"])

    def choose(self, ident: str, *, keep_none: bool = False) -> Any:
        """Pick another option of a dropdown (or none of them, where it may be cleared)."""
        options = [o["value"] for o in self.props.get(f"{ident}.options") or []]
        current = self.props.get(f"{ident}.value")
        others = [o for o in options if o != current] + ([None] if keep_none else [])
        if others:
            self.props[f"{ident}.value"] = self.rng.choice(others)
        return self.props.get(f"{ident}.value")

    async def read(self) -> None:
        await asyncio.sleep(self.rng.uniform(*READ))


# --- the pages, as a person uses them -------------------------------------------------------


async def overview(b: Browser, clicks: int = 2) -> None:
    await b.open("/overview")
    await b.fire("dash overview", OVERVIEW)
    for _ in range(clicks):
        await b.read()
        picker = b.rng.choice(("overview-period", "overview-outcome"))
        b.choose(picker, keep_none=picker == "overview-outcome")
        await b.fire("dash overview", OVERVIEW, [f"{picker}.value"])
    await b.read()


async def indicator(b: Browser) -> None:
    await b.open("/indicator")
    await asyncio.gather(
        b.fire("dash indicator trend", TREND),
        b.fire("dash indicator partners", PARTNERS),
        b.fire("dash indicator equity", EQUITY),
    )
    await b.read()
    b.choose("indicator-code")  # another indicator: its pickers first, then its charts
    changed = ["indicator-code.value"]
    await asyncio.gather(
        b.fire("dash indicator trend", TREND, changed),
        b.fire("dash indicator pickers", DIMENSIONS, changed),
        b.fire("dash indicator pickers", INDICATOR_PERIODS, changed),
    )
    await asyncio.gather(
        b.fire("dash indicator partners", PARTNERS, changed),
        b.fire("dash indicator equity", EQUITY, changed),
    )
    await b.read()
    b.choose("indicator-period")
    await b.fire("dash indicator partners", PARTNERS, ["indicator-period.value"])
    await b.read()


async def reporting(b: Browser) -> None:
    await b.open("/reporting")
    await b.fire("dash reporting", REPORTING)
    await b.read()
    b.choose("reporting-period")  # the heat map's table stays folded: nothing to make
    changed = ["reporting-period.value"]
    await asyncio.gather(
        b.fire("dash reporting", REPORTING, changed),
        b.fire("dash reporting table", HEATMAP_TABLE, changed),
    )
    await b.read()


async def review(b: Browser) -> None:
    await b.open("/reporting/review")
    await b.fire("dash review queue", QUEUE)
    await b.fire("dash review detail", SELECTION)
    for _ in range(2):
        await b.read()
        b.props["review-next.n_clicks"] = (b.props.get("review-next.n_clicks") or 0) + 1
        await b.fire("dash review next", MOVE, ["review-next.n_clicks"])
        await b.fire("dash review detail", SELECTION, ["review-queue.value"])
    await b.read()


PAGES = (overview, indicator, reporting, review)


async def dashboard_user(b: Browser, deadline: float) -> None:
    """Go round the pages, from a page of one's own, until the deadline (logged in)."""
    start = b.rng.randrange(len(PAGES))
    turn = 0
    while time.monotonic() < deadline:
        await PAGES[(start + turn) % len(PAGES)](b)
        turn += 1


async def overview_alone(b: Browser, calls: int) -> None:
    """The overview callback with nobody else on the server: the clicks of :func:`overview`
    without reading in between (the run's baseline)."""
    await b.open("/overview")
    await b.fire("dash overview warm-up", OVERVIEW)
    for _ in range(calls):
        picker = b.rng.choice(("overview-period", "overview-outcome"))
        b.choose(picker, keep_none=picker == "overview-outcome")
        await b.fire("dash overview alone", OVERVIEW, [f"{picker}.value"])
