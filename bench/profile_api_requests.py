"""What the load test's API requests cost in CPU, each kind on its own, through the whole
application in process: under ``make load`` the workers are saturated, so a partner's read or
save that costs less CPU is what leaves the dashboard users their share of the machine.

python -m bench.profile_api_requests [--reporters 200] [--repeat 40] [--profile KIND]

The load test's dataset (``tests/load/dataset.py``) in a private PostgreSQL schema; the
application as ``make load`` serves it (the shared counters in the database, a rate limit the
load never reaches), driven through httpx's ASGI transport one request at a time: a partner
reads its report, saves three values with the ETag it read, submits with the save's ETag and
reads the submitted report (each of ``--repeat`` partners once, after two reads that booked its
key's use and kept its actor, as the load test's partners have); backbone readers ask the
scorecard, completeness and the list of submitted reports; ``/healthz`` is the floor. Each kind
is given as the median and least CPU time of its requests (``time.process_time``: the request's
trips to the thread pool included) and the statements it sent to the database (the counters'
own engine included). ``--profile KIND`` prints the statements of that kind's first request and
samples its requests (pyinstrument), with the trips to the thread pool made on this thread so
the sampler sees them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict

import httpx
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

import migrations
from models.core.settings import get_settings
from tests.load import dataset
from tests.load.run import BASE_URL, PERIOD, _values

STATEMENTS: Counter[str] = Counter()
SENT: list[str] = []
KINDS = (
    "healthz",
    "read own",
    "put",
    "submit",
    "read submitted",
    "scorecard",
    "completeness",
    "list",
)


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn, cursor, sql, params, context, many) -> None:
    STATEMENTS["all"] += 1
    SENT.append(" ".join(sql.split())[:160])


def _count_scripts() -> None:
    """The shared counters' one-script hit (PostgreSQL) is sent past SQLAlchemy's events:
    counted here as the one statement it is to the network."""
    from models.core.counters import DatabaseCounters

    add = getattr(DatabaseCounters, "_add_postgresql", None)
    if add is None:
        return

    def counted(*args, **kwargs):
        STATEMENTS["all"] += 1
        SENT.append("(the shared counters' hit, one script)")
        return add(*args, **kwargs)

    DatabaseCounters._add_postgresql = staticmethod(counted)


async def _measure(app, built, repeat: int, profile: str | None) -> None:
    times: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    sampler = _sampler() if profile else None
    rng = random.Random(14)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:

        async def timed(kind: str, method: str, url: str, **kwargs) -> httpx.Response:
            STATEMENTS.clear()
            SENT.clear()
            sampled = sampler is not None and kind == profile
            started = time.process_time()
            if sampled:
                sampler.start()
            response = await client.request(method, url, **kwargs)
            if sampled:
                sampler.stop()
            times[kind].append(time.process_time() - started)
            statements[kind].append(STATEMENTS["all"])
            if sampled and len(times[kind]) == 1:
                print(f"{kind}'s statements:\n  " + "\n  ".join(SENT))
            if response.status_code != 200:
                raise SystemExit(f"{kind}: {response.status_code} {response.text[:300]}")
            return response

        backbone = {"Authorization": f"Bearer {built.backbone_key}"}
        readers = (
            ("scorecard", "/api/v1/initiatives/load/scorecard"),
            ("completeness", f"/api/v1/initiatives/load/completeness?period={PERIOD}"),
            ("list", "/api/v1/initiatives/load/submissions?status=submitted&limit=20"),
        )
        warm = 3
        # Each partner has read its report before (the load test's partners read every few
        # seconds): its key's use is booked for the minute and its actor kept.
        for org, key in built.keys[: repeat + warm]:
            url = f"/api/v1/initiatives/load/submissions/{org}/{PERIOD}"
            for _ in range(2):
                await client.get(url, headers={"Authorization": f"Bearer {key}"})
        for i, (org, key) in enumerate(built.keys[: repeat + warm]):
            headers = {"Authorization": f"Bearer {key}"}
            url = f"/api/v1/initiatives/load/submissions/{org}/{PERIOD}"
            await timed("healthz", "GET", "/healthz")
            read = await timed("read own", "GET", url, headers=headers)
            saved = await timed(
                "put",
                "PUT",
                url,
                json=_values(rng),
                headers={**headers, "If-Match": read.headers["ETag"]},
            )
            await timed(
                "submit",
                "POST",
                url + "/submit",
                headers={**headers, "If-Match": saved.headers["ETag"]},
            )
            await timed("read submitted", "GET", url, headers=headers)
            for kind, path in readers:
                await timed(kind, "GET", path, headers=backbone)
            if i + 1 == warm:  # statements prepared, caches filled: not counted
                times.clear()
                statements.clear()
    print(f"{'kind':<13} {'median ms':>9} {'min ms':>7} {'× healthz':>9} {'statements':>10}")
    floor = statistics.median(times["healthz"])
    for kind in KINDS:
        ms = statistics.median(times[kind]) * 1000
        print(
            f"{kind:<13} {ms:9.2f} {min(times[kind]) * 1000:7.2f} "
            f"{ms / (floor * 1000):9.1f} {statistics.median(statements[kind]):10.0f}"
        )
    if sampler is not None:
        print(sampler.output_text(unicode=True, show_all=False))


def _inline_thread_pool() -> None:
    """The trips to the thread pool made on this thread, so the sampler sees their work."""
    import fastapi.dependencies.utils
    import fastapi.routing

    import api.deps

    async def inline(work, *args, **kwargs):
        return work(*args, **kwargs)

    for module in (api.deps, fastapi.routing, fastapi.dependencies.utils):
        module.run_in_threadpool = inline


def _sampler():
    from pyinstrument import Profiler

    return Profiler(interval=0.0001, async_mode="disabled")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=40, help="partners that read, save, submit")
    parser.add_argument("--profile", choices=KINDS, help="print where this kind's time went")
    args = parser.parse_args(argv)
    if args.repeat + 3 > args.reporters:
        parser.error("--repeat must leave three partners to warm up with")
    schema = f"cm_prof_{uuid.uuid4().hex[:8]}"
    admin = create_engine(BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(BASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = dataset.build(engine, args.reporters, 1)
        engine.dispose()
        # As tests/load/run.py serves it: its database, a limit the load never reaches.
        os.environ.update(
            CM_DATABASE_URL=url,
            CM_LOG_LEVEL="warning",
            CM_RATE_LIMIT_PER_MINUTE="100000",
            CM_WORKER="external",
        )
        get_settings.cache_clear()
        _count_scripts()
        if args.profile:
            _inline_thread_pool()
        from api.app import create_app

        asyncio.run(_measure(create_app(), built, args.repeat, args.profile))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
