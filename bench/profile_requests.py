"""What one completeness request costs in CPU, through the whole application, on a loaded
machine: wall-clock times there say more about the other processes than about the app.

python -m bench.profile_requests [--members 200] [--quarters 12] [--repeat 40]
                                 [--profile "after a change"]

One initiative of ``--members`` partners × 12 indicators × ``--quarters`` quarters on SQLite.
The application runs in this process (httpx's ASGI transport) with its one trip to the thread
pool made inline, so a request's whole work runs on this thread and its CPU time is measured:
asked again, after a change that may move figures (an audit event, as the bench's: it touches
neither the setup nor the reports completeness reads), after a partner's draft, and after a
setup change (an organisation's row written, which every initiative's setup revision follows).
Each is set beside ``/healthz`` and the raw completeness query, timed the same way in the same
run, as the median and the least of the requests' CPU times. The in-process client's own work
is in every figure, the floor's included. ``--profile CASE`` samples that case's requests (pyinstrument) and prints where
their time went.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable

import httpx
from sqlalchemy import create_engine, select, text

import migrations
from bench.__main__ import _database, _partner_draft, setup_change, touch
from bench.dataset import Size, build
from models import Initiative, Period
from models.core.settings import get_settings

RAW = text(
    'SELECT s.member_id, v.indicator_id, s.status FROM "values" v JOIN submissions s '
    "ON s.id = v.submission_id WHERE v.initiative_id = :i AND v.period_id = :p "
    "AND v.disaggregation = 'total'"
)


# Each figure twice: the median, and the least CPU time a request took, which other
# processes' load (caches, the other hyperthread of a core) can only raise.
STATS = {"median": statistics.median, "min": min}


def _cpu_ms(times: list[float], stat: str) -> float:
    return STATS[stat](times) * 1000


async def _measure(app, built, engine, repeat: int, profile: str | None = None) -> None:
    with engine.connect() as conn:
        init_id = conn.scalar(select(Initiative.id).where(Initiative.slug == built.initiative_slug))
        period = conn.execute(
            select(Period.id, Period.key)
            .where(Period.initiative_id == init_id)
            .order_by(Period.starts_on.desc())
            .offset(1)
        ).first()
        conn.execute(RAW, {"i": init_id, "p": period.id}).all()
        raw = []
        for _ in range(repeat):
            started = time.thread_time()
            conn.execute(RAW, {"i": init_id, "p": period.id}).all()
            raw.append(time.thread_time() - started)
    path = f"/api/v1/initiatives/{built.initiative_slug}/completeness?period={period.key}"
    save_draft = _partner_draft(engine, built, period.key)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {built.backbone_key}"},
        ) as client,
    ):

        async def timed(
            url: str, before: Callable[[], None] = lambda: None, sampler=None
        ) -> list[float]:
            times = []
            for _ in range(repeat):
                before()
                started = time.thread_time()
                if sampler is not None:
                    sampler.start()
                (await client.get(url)).raise_for_status()
                if sampler is not None:
                    sampler.stop()
                times.append(time.thread_time() - started)
            return times

        await timed(path)  # warm: statements built, the answer kept
        floors = await timed("/healthz")
        for stat in STATS:
            print(
                f"{stat:>6}: /healthz {_cpu_ms(floors, stat):.2f} ms CPU, "
                f"raw query {_cpu_ms(raw, stat):.2f} ms CPU"
            )
        cases = {
            "asked again": lambda: None,
            "after a change": lambda: touch(engine, init_id),
            "after a partner's draft": save_draft,
            "after a setup change": lambda: setup_change(engine),
        }
        for name, before in cases.items():
            sampler = _sampler() if name == profile else None
            times = await timed(path, before, sampler)
            for stat in STATS:
                ms, floor, raw_ms = (_cpu_ms(t, stat) for t in (times, floors, raw))
                print(
                    f"{stat:>6}: completeness {name:<24} {ms:6.2f} ms CPU  "
                    f"{ms / floor:5.2f} × /healthz  {ms / raw_ms:5.2f} × raw query"
                )
            if sampler is not None:
                print(sampler.output_text(unicode=True, show_all=False))


def _sampler():
    """A statistical profiler of this thread's requests, started and stopped around each."""
    from pyinstrument import Profiler

    return Profiler(interval=0.0001, async_mode="disabled")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--profile",
        choices=[
            "asked again",
            "after a change",
            "after a partner's draft",
            "after a setup change",
        ],
        help="print where this case's requests spent their time",
    )
    args = parser.parse_args(argv)
    url, drop = _database("sqlite")
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = build(engine, Size(1, args.members, 12, args.quarters), progress=str)
        with engine.begin() as conn:  # the bench's covering index for the raw query
            conn.execute(
                text(
                    'CREATE INDEX bench_best ON "values" (initiative_id, disaggregation, '
                    "indicator_id, period_id, submission_id, value, numerator, denominator)"
                )
            )
        os.environ.update(CM_DATABASE_URL=url, CM_LOG_LEVEL="warning", CM_RATE_LIMIT_PER_MINUTE="0")
        os.environ["CM_WORKER"] = "external"
        get_settings.cache_clear()  # read again, with this database
        import api.deps

        async def inline(work, *args, **kwargs):
            return work(*args, **kwargs)

        api.deps.run_in_threadpool = inline  # the request's work on this thread
        from api.app import create_app

        asyncio.run(
            _measure(create_app(run_worker=False), built, engine, args.repeat, args.profile)
        )
    finally:
        drop()


if __name__ == "__main__":
    main()
