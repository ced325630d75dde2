"""What each dashboard callback of the load test costs in CPU, through the whole application,
in process: on the loaded machine of ``make load`` wall-clock times say more about the other
processes than about the callback.

python -m bench.profile_dash_callbacks [--db postgresql|sqlite] [--reporters 200]
                                       [--repeat 20] [--profile KIND] [--cprofile]

The load test's initiative (tests/load/dataset.py) with its reporting period mid-season: a
third of the partners have a draft in it, another third have submitted. The application runs
in this process (httpx's ASGI transport) with its trips to the thread pool (the API's, and the
Dash callbacks') made inline, so a callback's whole work runs on this thread and its CPU time
(``time.thread_time``) is measured. One dashboard user logs in and goes through the pages as
tests/load/dashboard_users.py does (its Browser), then each kind of callback is fired again
``--repeat`` times with what the page holds, and its median CPU time (less the client's walk
through the answer; the client's sending and parsing remain, as in ``/healthz``) and the
statements it sent are printed beside ``/healthz`` measured the same way. ``--profile KIND``
prints where that kind's time went (pyinstrument; ``--cprofile``: cProfile, by own CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import create_engine, event, text

import migrations
from bench.__main__ import _database
from models.core.settings import get_settings
from tests.load import dashboard_users as du
from tests.load import dataset
from tests.load.stats import Stats

STATEMENTS: Counter[str] = Counter()
CLIENT: Counter[str] = Counter()  # CPU time of the client's own work, left out
BASE = "http://bench"


def _count_statements(engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def statement(conn, cursor, sql, params, context, many) -> None:
        STATEMENTS["n"] += 1


async def _mid_season(client: httpx.AsyncClient, built: dataset.LoadInitiative) -> None:
    """A third of the partners save a draft of the open quarter, another third submit one."""
    from tests.load.run import _values

    rng = random.Random(7)
    for i, (org, key) in enumerate(built.keys):
        if i % 3 == 2:
            continue
        headers = {"Authorization": f"Bearer {key}"}
        url = f"/api/v1/initiatives/{dataset.SLUG}/submissions/{org}/{dataset.PERIOD}"
        answer = await client.get(url, headers=headers)
        answer.raise_for_status()
        answer = await client.put(
            url, json=_values(rng), headers={**headers, "If-Match": answer.headers["ETag"]}
        )
        answer.raise_for_status()
        if i % 3 == 1:
            submitted = await client.post(
                url + "/submit", headers={**headers, "If-Match": answer.headers["ETag"]}
            )
            submitted.raise_for_status()


async def _draft(client: httpx.AsyncClient, built: dataset.LoadInitiative, rng) -> None:
    """One partner that has not submitted saves a draft of the open quarter (as the load
    test's reporters do; :func:`_mid_season` submitted every third partner's from the
    second)."""
    from tests.load.run import _values

    org, key = rng.choice([k for i, k in enumerate(built.keys) if i % 3 != 1])
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/initiatives/{dataset.SLUG}/submissions/{org}/{dataset.PERIOD}"
    answer = await client.get(url, headers=headers)
    answer.raise_for_status()
    answer = await client.put(
        url, json=_values(rng), headers={**headers, "If-Match": answer.headers["ETag"]}
    )
    answer.raise_for_status()


def _kinds(
    b: du.Browser, built: dataset.LoadInitiative
) -> dict[str, tuple[str, Callable[[], Awaitable[None]]]]:
    """Each kind of callback: the page it is on, and how to fire it once more (the user
    changing a picker first, as dashboard_users does)."""

    def page(path: str) -> Callable[[], Awaitable[None]]:
        return lambda: b.open(path)

    async def overview() -> None:
        b.choose("overview-period")
        await b.fire("dash overview", du.OVERVIEW, ["overview-period.value"])

    def indicator(output: str) -> Callable[[], Awaitable[None]]:
        return lambda: b.fire("", output, ["indicator-code.value"])

    async def reporting() -> None:
        b.choose("reporting-period")
        await b.fire("dash reporting", du.REPORTING, ["reporting-period.value"])

    drafts = random.Random(21)

    async def reporting_after_a_draft() -> None:
        # The open quarter's page after one partner's draft: the draft's own work (its CPU
        # and statements) is left out, as the client's is.
        started = time.thread_time()
        await _draft(b.client, built, drafts)
        CLIENT["keep"] += time.thread_time() - started
        STATEMENTS.clear()
        b.props["reporting-period.value"] = dataset.PERIOD
        await b.fire("dash reporting", du.REPORTING, ["reporting-period.value"])

    async def review_next() -> None:
        b.props["review-next.n_clicks"] = (b.props.get("review-next.n_clicks") or 0) + 1
        await b.fire("dash review next", du.MOVE, ["review-next.n_clicks"])

    async def review_detail() -> None:
        b.choose("review-queue")
        await b.fire("dash review detail", du.SELECTION, ["review-queue.value"])

    return {
        "page overview": ("/overview", page("/overview")),
        "page indicator": ("/indicator", page("/indicator")),
        "page reporting": ("/reporting", page("/reporting")),
        "page review": ("/reporting/review", page("/reporting/review")),
        "overview": ("/overview", overview),
        "indicator trend": ("/indicator", indicator(du.TREND)),
        "indicator partners": ("/indicator", indicator(du.PARTNERS)),
        "indicator equity": ("/indicator", indicator(du.EQUITY)),
        "indicator pickers": ("/indicator", indicator(du.DIMENSIONS)),
        "indicator periods": ("/indicator", indicator(du.INDICATOR_PERIODS)),
        "reporting": ("/reporting", reporting),
        "reporting after a draft": ("/reporting", reporting_after_a_draft),
        "reporting table": ("/reporting", lambda: b.fire("", du.HEATMAP_TABLE)),
        "review queue": ("/reporting/review", lambda: b.fire("", du.QUEUE)),
        "review next": ("/reporting/review", review_next),
        "review detail": ("/reporting/review", review_detail),
    }


async def _measure(app, built: dataset.LoadInitiative, args) -> None:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE, headers={"Origin": BASE}
        ) as client,
    ):
        await _mid_season(client, built)
        stats = Stats()
        b = du.Browser(client, stats, random.Random(14))
        keep = b._keep

        def kept(tree) -> None:
            # The browser's walk through an answer is the client's work, not the server's:
            # its time is left out of the callback's.
            started = time.thread_time()
            keep(tree)
            CLIENT["keep"] += time.thread_time() - started

        b._keep = kept  # type: ignore[method-assign]
        await b.login(built.dashboard_users[0], dataset.DASH_PASSWORD)
        du.READ = (0.0, 0.0)
        for walk in du.PAGES:  # every page once: the props its callbacks read
            await walk(b)
        if stats.errors or stats.callback_errors:
            raise RuntimeError(f"the walk failed: {stats.errors + stats.callback_errors}")

        async def timed(fire: Callable[[], Awaitable[None]], kind: str) -> tuple[float, float]:
            cpu, statements = [], []
            profiler = _profiler(args) if kind == args.profile else None
            for _ in range(args.repeat):
                STATEMENTS.clear()
                CLIENT.clear()
                started = time.thread_time()
                if profiler is not None:
                    profiler.enable() if args.cprofile else profiler.start()
                await fire()
                if profiler is not None:
                    profiler.disable() if args.cprofile else profiler.stop()
                cpu.append(time.thread_time() - started - CLIENT["keep"])
                statements.append(STATEMENTS["n"])
            if profiler is not None:
                if args.cprofile:
                    pstats.Stats(profiler).sort_stats(args.sort).print_stats(120)
                else:
                    print(profiler.output_text(unicode=True, show_all=False))
            return statistics.median(cpu) * 1000, statistics.median(statements)

        async def healthz() -> None:
            (await client.get("/healthz")).raise_for_status()

        floor, _ = await timed(healthz, "")
        print(f"{'/healthz':<24} CPU {floor:6.2f} ms")
        for kind, (path, fire) in _kinds(b, built).items():
            if args.only and kind not in args.only:
                continue
            await b.open(path)  # on the page, as the user is, with what its first callbacks
            if path == "/reporting/review":  # answered (the queue a report is picked from)
                await b.fire("", du.QUEUE)
            await fire()  # warm: statements built, anything kept
            cpu, statements = await timed(fire, kind)
            print(
                f"{kind:<24} CPU {cpu:6.2f} ms ({cpu / floor:5.1f} ×)  {statements:4.0f} statements"
            )
        if stats.errors or stats.callback_errors:
            raise RuntimeError(f"callbacks failed: {stats.errors + stats.callback_errors}")


def _profiler(args):
    if args.cprofile:
        return cProfile.Profile(time.thread_time)  # CPU time, as measured: not the database's
    from pyinstrument import Profiler

    return Profiler(interval=0.0002, async_mode="disabled")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", nargs="*", metavar="KIND", help="measure only these kinds")
    parser.add_argument("--profile", metavar="KIND", help="print where this kind's time went")
    parser.add_argument("--cprofile", action="store_true", help="cProfile, not pyinstrument")
    parser.add_argument(
        "--sort", default="tottime", help="cProfile's order (tottime, cumulative, …)"
    )
    args = parser.parse_args(argv)
    url, drop = _database(args.db)
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = dataset.build(engine, args.reporters, 1)
        if args.db == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        engine.dispose()
        os.environ.update(CM_DATABASE_URL=url, CM_LOG_LEVEL="warning", CM_RATE_LIMIT_PER_MINUTE="0")
        os.environ["CM_WORKER"] = "external"
        get_settings.cache_clear()  # read again, with this database
        import api.deps
        import dashboard.app

        async def inline(work, *args, **kwargs):
            return work(*args, **kwargs)

        # The API's and the callbacks' work on this thread, where its CPU time is measured.
        api.deps.run_in_threadpool = inline
        dashboard.app.run_in_threadpool = inline
        from api.app import create_app
        from models.core.db import get_engine

        app = create_app(run_worker=False)
        _count_statements(get_engine())
        asyncio.run(_measure(app, built, args))
    finally:
        drop()


if __name__ == "__main__":
    main()
