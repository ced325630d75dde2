"""What a repeated or kept read answer costs, through the whole application, in process: the
request's CPU time and wall time, and the round trips it makes to the database, beside
``/healthz`` measured the same way in the same run.

python -m bench.profile_kept [--db sqlite|postgresql] [--members 40] [--quarters 40]
                             [--repeat 60] [--approvals 30] [--profile VIEW CASE]

One initiative of ``--members`` partners × 12 indicators × ``--quarters`` quarters. First
``--approvals`` partner reports of one quarter are approved (as the bench's scorecard section
does before the other views are measured: their events are recent, and the data version counts
them), then each view is asked: again, after a partner's draft, after an audit event (the
bench's three cases). The application runs in this process (httpx's ASGI transport) with its
one trip to the thread pool made inline, so a request's whole work runs on this thread:
its CPU time is this thread's (``time.thread_time``), its wall time includes the database's
work and the round trips. Round trips are counted at the driver: statements, and on
PostgreSQL the transaction commands (BEGIN, COMMIT, ROLLBACK) and the pool's pings (there the
statements are counted at the driver's cursor, those run without SQLAlchemy too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import create_engine, event, select, text

import migrations
from bench.__main__ import _database, _partner_approval, _partner_draft, touch
from bench.dataset import Size, build
from models import Initiative, Period
from models.core.settings import get_settings

TRIPS: Counter[str] = Counter()
CLOCK = time.thread_time  # this thread's CPU; the process's with --threadpool


def _count_trips(engine) -> None:
    """Count what the application's engine sends: each statement, and (PostgreSQL) each
    command the driver sends on its own (BEGIN, COMMIT, ROLLBACK) and each ping."""

    if engine.dialect.name != "postgresql":

        @event.listens_for(engine, "before_cursor_execute")
        def statement(conn, cursor, sql, params, context, many) -> None:
            TRIPS["statement"] += 1

        return
    import psycopg
    from psycopg import _connection_base

    # At the driver's cursor: the statements SQLAlchemy runs and those run on a pooled DB-API
    # connection without it (the answers given without a session).
    execute = psycopg.Cursor.execute

    def executed(self, *args, **kwargs):
        TRIPS["statement"] += 1
        return execute(self, *args, **kwargs)

    psycopg.Cursor.execute = executed

    command = _connection_base.BaseConnection._exec_command

    def counted(self, cmd, *args, **kwargs):
        word = cmd if isinstance(cmd, bytes) else str(cmd).encode()
        TRIPS[word.split()[0].decode().lower() if word.split() else "?"] += 1
        return command(self, cmd, *args, **kwargs)

    _connection_base.BaseConnection._exec_command = counted
    dialect = engine.dialect
    ping = dialect.do_ping

    def pinged(dbapi_connection):
        TRIPS["ping"] += 1
        return ping(dbapi_connection)

    dialect.do_ping = pinged


async def _measure(app, built, engine, args) -> None:
    with engine.connect() as conn:
        init_id = conn.scalar(select(Initiative.id).where(Initiative.slug == built.initiative_slug))
        period = conn.execute(
            select(Period.id, Period.key)
            .where(Period.initiative_id == init_id)
            .order_by(Period.starts_on.desc())
            .offset(1)
        ).first()
    slug, code = built.initiative_slug, built.indicator_codes[0]
    views = {
        "scorecard": f"/api/v1/initiatives/{slug}/scorecard",
        "series": f"/api/v1/initiatives/{slug}/indicators/{code}/series?by=race",
        "equity": f"/api/v1/initiatives/{slug}/indicators/{code}/equity?dimension=race",
        "completeness": f"/api/v1/initiatives/{slug}/completeness?period={period.key}",
    }
    save_draft = _partner_draft(engine, built, period.key)
    approve = _partner_approval(engine, built, period.key)
    from api.app import create_app  # noqa: F401 (imported by the caller)
    from models.core.db import get_engine

    _count_trips(get_engine())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {built.backbone_key}", "Accept-Encoding": "gzip"},
        ) as client,
    ):

        async def timed(
            url: str, before: Callable[[], None] = lambda: None, sampler=None, dumped: str = ""
        ):
            cpu, wall, trips = [], [], Counter()
            for _ in range(args.repeat):
                before()
                TRIPS.clear()
                started, started_wall = CLOCK(), time.perf_counter()
                if sampler is not None:
                    sampler.start()
                response = (await client.get(url)).raise_for_status()
                if sampler is not None:
                    sampler.stop()
                if args.dump is not None and url != "/healthz":
                    args.dump.mkdir(parents=True, exist_ok=True)
                    (args.dump / f"{dumped}-{len(cpu)}.json").write_bytes(response.content)
                cpu.append(CLOCK() - started)
                wall.append(time.perf_counter() - started_wall)
                trips.update(TRIPS)
            per = {k: v / args.repeat for k, v in sorted(trips.items())}
            return statistics.median(cpu) * 1000, statistics.median(wall) * 1000, per

        for url in views.values():
            (await client.get(url)).raise_for_status()  # computed once, kept
        began = time.perf_counter()
        for _ in range(args.approvals):
            approve()
        print(f"{args.approvals} approvals in {time.perf_counter() - began:.1f} s")
        for url in views.values():
            (await client.get(url)).raise_for_status()
        floor_cpu, floor_wall, floor_trips = await timed("/healthz")
        print(f"{'/healthz':<34} CPU {floor_cpu:5.2f} ms  wall {floor_wall:5.2f} ms  {floor_trips}")
        cases = {
            "asked again": lambda: None,
            "after a draft": save_draft,
            "after an audit event": lambda: touch(engine, init_id),
            "after an approval": approve,
        }
        for view, url in views.items():
            for case, before in cases.items():
                if case not in args.cases:
                    continue
                if view == "completeness" and case == "after an approval":
                    continue  # the bench measures completeness after a setup write instead
                sampler = _sampler() if args.profile == [view, case] else None
                dumped = f"{view}-{case.replace(' ', '-')}"
                cpu, wall, trips = await timed(url, before, sampler, dumped)
                print(
                    f"{view + ' ' + case:<34} CPU {cpu:5.2f} ms ({cpu / floor_cpu:4.1f} ×)  "
                    f"wall {wall:5.2f} ms ({wall / floor_wall:4.1f} ×)  {trips}"
                )
                if sampler is not None:
                    print(sampler.output_text(unicode=True, show_all=False))


def _sampler():
    from pyinstrument import Profiler

    return Profiler(interval=0.0001, async_mode="disabled")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--approvals", type=int, default=30)
    parser.add_argument("--profile", nargs=2, metavar=("VIEW", "CASE"))
    parser.add_argument(
        "--dump", type=Path, help="write every answer's body there (to compare two versions)"
    )
    parser.add_argument(
        "--cases",
        nargs="*",
        default=["asked again", "after a draft", "after an audit event", "after an approval"],
        help="the cases to measure",
    )
    parser.add_argument(
        "--threadpool",
        action="store_true",
        help="the request's trip to the thread pool as served (CPU: the process's, all threads)",
    )
    args = parser.parse_args(argv)
    url, drop = _database(args.db)
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = build(engine, Size(1, args.members, 12, args.quarters), progress=str)
        if args.db == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        os.environ.update(CM_DATABASE_URL=url, CM_LOG_LEVEL="warning", CM_RATE_LIMIT_PER_MINUTE="0")
        os.environ["CM_WORKER"] = "external"
        get_settings.cache_clear()
        import api.deps

        async def inline(work, *args, **kwargs):
            return work(*args, **kwargs)

        if args.threadpool:
            global CLOCK
            CLOCK = time.process_time
        else:
            api.deps.run_in_threadpool = inline  # the request's work on this thread
        from api.app import create_app

        asyncio.run(_measure(create_app(run_worker=False), built, engine, args))
    finally:
        drop()


if __name__ == "__main__":
    main()
