"""Deadline load test: many partners submit at once while backbone staff read dashboards.

Starts a real server (uvicorn, 2 workers) on 127.0.0.1 against a private PostgreSQL schema and
drives it for a bounded time with async httpx clients: partners write their reports through the
API, backbone staff read its views, and backbone staff click through the dashboard's overview,
indicator, reporting and review pages (tests/load/dashboard_users.py). Prints requests, errors
by status and latency percentiles; then checks the database: every accepted write is there,
each value has exactly one row and a complete audit trail.

Before the load starts, the overview callback and ``/healthz`` are timed with nobody else on
the server; the run holds the overview callback's p95 under load to 3 × its p50 alone, says
how much of it was waiting for a turn in the workers, and reports ``/healthz`` under load (a
page being built must not hold up a worker's other requests). The dashboard users run in a
process of their own, so the API clients' busy event loop is not counted in their times; each
client's own loop lag is printed. Exits non-zero on a lost write, a 5xx, a callback error or a
missed target (with ``--latency-report-only``, as CI runs it, the target is only printed).

    python -m tests.load.run --reporters 200 --readers 20 --dashboard-users 20 --seconds 90
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections import defaultdict

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import migrations
from api import heap
from models import AuditEvent, Indicator, Member, Organisation, Period, Submission, Value
from tests.load import cpu, dashboard_users, dataset
from tests.load.stats import Stats, percentile

BASE_URL = os.environ.get(
    "CM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PERIOD = dataset.PERIOD
# Deadline day, compressed: every partner works on its report at the same time, a few seconds
# between steps; staff dashboards refresh every couple of seconds.
THINK = (2.0, 6.0)
REFRESH = (1.5, 3.0)
# How often the health prober asks /healthz during the load.
PROBE = 0.25
# The overview callback's p95 under load, at most this many times its p50 alone.
OVERVIEW_TARGET = 3.0


def _values(rng: random.Random) -> dict:
    den = rng.randint(20, 400)
    return {
        "values": [
            {"indicator": "SERVED", "value": rng.randint(0, 1000)},
            {"indicator": "SESSIONS", "value": rng.randint(0, 5000)},
            {"indicator": "READY", "numerator": rng.randint(0, den), "denominator": den},
        ],
        "reason": "load test",
    }


async def reporter(client, org, key, deadline, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, THINK[1]))
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/initiatives/load/submissions/{org}/{PERIOD}"
    while time.monotonic() < deadline:
        t = time.perf_counter()
        r = await client.get(url, headers=headers)
        stats.record("read own", r, t)
        if r.status_code != 200:
            await asyncio.sleep(0.2)
            continue
        status, etag = r.json()["status"], r.headers["ETag"]
        if status in ("not_started", "draft", "returned"):
            body = _values(rng)
            t = time.perf_counter()
            r = await client.put(url, json=body, headers={**headers, "If-Match": etag})
            stats.record("put", r, t)
            if r.status_code == 200:
                answer = r.json()
                version = answer["submission"]["version"]
                if version > stats.accepted.get(org, (0, None))[0]:
                    stats.accepted[org] = (version, body)
                stats.changes[org] += answer["created"] + answer["updated"]
                if rng.random() < 0.5:
                    t = time.perf_counter()
                    r = await client.post(
                        url + "/submit", headers={**headers, "If-Match": r.headers["ETag"]}
                    )
                    stats.record("submit", r, t)
        await asyncio.sleep(rng.uniform(*THINK))  # a person reads and types between steps


async def reader(client, key, deadline, stats: Stats, seed: int, reviews: bool) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        for kind, path in (
            ("scorecard", "/api/v1/initiatives/load/scorecard"),
            ("completeness", f"/api/v1/initiatives/load/completeness?period={PERIOD}"),
            ("list", "/api/v1/initiatives/load/submissions?status=submitted&limit=20"),
        ):
            t = time.perf_counter()
            r = await client.get(path, headers=headers)
            stats.record(kind, r, t)
            if kind == "list" and reviews and r.status_code == 200:
                for item in r.json()["items"][:3]:
                    url = (
                        f"/api/v1/initiatives/load/submissions/"
                        f"{item['organisation']}/{item['period']}/return"
                    )
                    t = time.perf_counter()
                    rr = await client.post(url, json={"comment": "please recheck"}, headers=headers)
                    stats.record("return", rr, t)
        await asyncio.sleep(rng.uniform(*REFRESH))  # a dashboard refreshes every few seconds


class _CountingTransport(httpx.AsyncHTTPTransport):
    """A request that gets no answer (in time, or at all) is counted as an error, not a crash
    of the run."""

    async def handle_async_request(self, request):
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            # Recorded with the request's kind, as a 5xx: no answer is a failed answer.
            return httpx.Response(599, request=request, text=f"no answer: {exc!r}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check(url: str, stats: Stats) -> list[str]:
    """Every accepted write is in the database, once, with its audit trail."""
    problems = []
    engine = create_engine(url)
    with Session(engine) as s:
        codes = dict(s.execute(select(Indicator.id, Indicator.code)).all())
        rows = s.execute(
            select(
                Organisation.slug,
                Value.indicator_id,
                Value.disaggregation,
                Value.value,
                Value.numerator,
                Value.denominator,
                Submission.version,
            )
            .join(Submission, Submission.id == Value.submission_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .where(Period.key == PERIOD)
        ).all()
        stored = defaultdict(dict)
        for org, ind, dis, value, num, den, _version in rows:
            stored[org][(codes[ind], dis)] = (value, num, den)
        for org, (_version, body) in stats.accepted.items():
            for v in body["values"]:
                got = stored[org].get((v["indicator"], "total"))
                want = v.get("value")
                if v["indicator"] == "READY":
                    ok = got is not None and got[1] == v["numerator"] and got[2] == v["denominator"]
                else:
                    ok = got is not None and got[0] == want
                if not ok:
                    problems.append(f"{org} {v['indicator']}: stored {got}, last accepted {v}")
        duplicates = s.execute(
            select(func.count()).select_from(
                select(Value.submission_id, Value.indicator_id, Value.disaggregation)
                .group_by(Value.submission_id, Value.indicator_id, Value.disaggregation)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar()
        if duplicates:
            problems.append(f"{duplicates} values have more than one row")
        audited = dict(
            s.execute(
                select(Organisation.slug, func.count())
                .select_from(AuditEvent)
                .join(Value, Value.id == AuditEvent.entity_id)
                .join(Submission, Submission.id == Value.submission_id)
                .join(Member, Member.id == Submission.member_id)
                .join(Organisation, Organisation.id == Member.organisation_id)
                .where(AuditEvent.entity_type == "value")
                .group_by(Organisation.slug)
            ).all()
        )
        for org, changes in stats.changes.items():
            if audited.get(org, 0) != changes:
                problems.append(
                    f"{org}: {changes} value changes accepted, {audited.get(org, 0)} audited"
                )
    engine.dispose()
    return problems


async def health_prober(client, deadline: float, stats: Stats) -> None:
    """``/healthz`` a few times a second: how long a worker makes its other requests wait."""
    while time.monotonic() < deadline:
        t = time.perf_counter()
        r = await client.get("/healthz")
        stats.record("healthz", r, t)
        await asyncio.sleep(PROBE)


async def loop_lag(kind: str, deadline: float, stats: Stats) -> None:
    """How late a client's own event loop wakes up: a late wake-up is time counted in the
    latencies of its requests that the server did not spend."""
    while time.monotonic() < deadline:
        t = time.perf_counter()
        await asyncio.sleep(PROBE)
        stats.lags[kind].append(time.perf_counter() - t - PROBE)


async def alone(client, browser, calls: int, stats: Stats) -> None:
    """The baselines, with nobody else on the server: ``/healthz`` and the overview callback."""
    for _ in range(calls):
        t = time.perf_counter()
        stats.record("healthz", await client.get("/healthz"), t)
    await dashboard_users.overview_alone(browser, calls)


def _serve(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CM_DATABASE_URL": url,
        "CM_LOG_LEVEL": "warning",
        # Every worker must accept the session cookie another one issued.
        "CM_SECRET_KEY": secrets.token_urlsafe(48),
        # 20 readers share one backbone key here, and the limit counts per key.
        "CM_RATE_LIMIT_PER_MINUTE": "100000",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            # Clients pause up to 6 s on a connection they keep: closing it after uvicorn's
            # default 5 s races their next request (browsers retry such a request; httpx does
            # not), as a proxy in front of the app would not.
            "--timeout-keep-alive",
            "30",
        ],
        env=env,
        start_new_session=True,
    )


def _stop(server: subprocess.Popen) -> None:
    """Stop the server and its workers; kill them if they do not finish in time."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def _ready(base: str) -> bool:
    for _ in range(200):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _dashboard_side(base: str, emails: list[str], calls: int, pipe) -> None:
    """The dashboard users' browsers and the health prober, in a process of their own (as the
    browsers are on machines of their own): their event loop is not the one 220 API clients
    keep busy, so what they time is the server's. First the baselines, alone on the server;
    then, from the deadline the parent sends, the load; the stats go back through ``pipe``."""

    async def side() -> tuple[Stats, Stats]:
        baseline, stats = Stats(), Stats()
        async with contextlib.AsyncExitStack() as stack:

            async def browser(stats: Stats, seed: int) -> dashboard_users.Browser:
                # Each dashboard user is a browser of its own: its cookie, its connections.
                client = httpx.AsyncClient(
                    base_url=base,
                    timeout=60,
                    transport=_CountingTransport(),
                    headers={"Origin": base},
                )
                await stack.enter_async_context(client)
                return dashboard_users.Browser(client, stats, random.Random(seed))

            probe = await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, timeout=60, transport=_CountingTransport())
            )
            # Everyone logs in and loads the app before the baselines (and the load) start.
            browsers = [await browser(baseline, 20_000 + i) for i in range(len(emails))]
            for b, email in zip(browsers, emails, strict=True):
                await b.login(email, dataset.DASH_PASSWORD)
            first = await browser(baseline, 19_999)
            await first.login(emails[0], dataset.DASH_PASSWORD)
            # A client paused for its collector's full pass would count the pause as the
            # server's latency: what the clients hold now is kept out of it (api/heap.py).
            heap.settle()
            await alone(probe, first, calls, baseline)
            for b in browsers:
                b.stats = stats
            pipe.send("alone done")
            deadline = pipe.recv()
            await asyncio.gather(
                *(dashboard_users.dashboard_user(b, deadline) for b in browsers),
                health_prober(probe, deadline, stats),
                loop_lag("dashboard client loop lag", deadline, stats),
            )
        return baseline, stats

    pipe.send(asyncio.run(side()))


def _drive(
    base: str, built: dataset.LoadInitiative, args, baseline: Stats, stats: Stats, server_pid: int
) -> cpu.Reading:
    """The baselines, then the load; answers the load's duration and where the cores went."""
    here, there = multiprocessing.Pipe()
    dashboards = multiprocessing.get_context("spawn").Process(
        target=_dashboard_side,
        args=(base, built.dashboard_users, args.baseline_calls, there),
        daemon=True,
    )
    dashboards.start()
    try:
        if not here.poll(300) or here.recv() != "alone done":
            raise RuntimeError("the dashboard users did not get through their baselines")
        meter = cpu.Meter(server_pid, os.getpid(), dashboards.pid)
        started = time.monotonic()  # one clock for every process of the machine
        meter.start(started)
        deadline = started + args.seconds
        here.send(deadline)

        async def drive() -> None:
            # Each partner and reader is a client of its own with its own connection, as their
            # browsers and scripts are. One httpx pool of 220 connections costs the load
            # generator about 4 times the CPU per request (finding a connection for each), on
            # the server's cores, and holds back the load it can offer. Plain HTTP: one TLS
            # context serves them all (each client would otherwise load the CA store).
            tls = ssl.create_default_context()
            async with contextlib.AsyncExitStack() as stack:

                async def client() -> httpx.AsyncClient:
                    return await stack.enter_async_context(
                        httpx.AsyncClient(
                            base_url=base, timeout=60, transport=_CountingTransport(verify=tls)
                        )
                    )

                reporters = [
                    reporter(await client(), org, key, deadline, stats, i)
                    for i, (org, key) in enumerate(built.keys)
                ]
                readers = [
                    reader(await client(), built.backbone_key, deadline, stats, 10_000 + i, i == 0)
                    for i in range(args.readers)
                ]
                await asyncio.gather(
                    *reporters, *readers, loop_lag("API client loop lag", deadline, stats)
                )

        heap.settle()  # as the dashboard users' process does, before the load
        asyncio.run(drive())
        reading = meter.stop(time.monotonic())
        if not here.poll(120):
            raise RuntimeError("the dashboard users did not report back")
        alone_stats, dash_stats = here.recv()
    finally:
        dashboards.join(timeout=30)
        if dashboards.is_alive():
            dashboards.kill()
    baseline.merge(alone_stats)
    stats.merge(dash_stats)
    return reading


def _table(stats: Stats) -> None:
    """Round trips by kind, the server's time of them (``app``) and the part spent waiting
    for a turn (``wait``), in ms; then how late each client's own event loop woke up."""
    print(
        f"{'kind':<26}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}"
        f"{'app p50':>9}{'app p95':>9}{'wait p50':>10}{'wait p95':>10}"
    )
    everything = []
    for kind, xs in sorted(stats.latencies.items()):
        everything += xs
        app, wait = stats.server.get(kind, []), stats.waits.get(kind, [])
        print(
            f"{kind:<26}{len(xs):>7}{percentile(xs, 0.5):>9.1f}{percentile(xs, 0.95):>9.1f}"
            f"{percentile(xs, 0.99):>9.1f}{percentile(app, 0.5):>9.1f}"
            f"{percentile(app, 0.95):>9.1f}{percentile(wait, 0.5):>10.1f}"
            f"{percentile(wait, 0.95):>10.1f}"
        )
    print(
        f"{'all':<26}{len(everything):>7}{percentile(everything, 0.5):>9.1f}"
        f"{percentile(everything, 0.95):>9.1f}{percentile(everything, 0.99):>9.1f}"
    )
    for kind, xs in sorted(stats.lags.items()):
        print(
            f"{kind:<26}{len(xs):>7}{percentile(xs, 0.5):>9.1f}{percentile(xs, 0.95):>9.1f}"
            f"{percentile(xs, 0.99):>9.1f}"
        )


def result(name: str, value: float, baseline: float, target: float | None, note: str = ""):
    """One line as the bench prints it: value, baseline, ratio, target, meets (ms)."""
    ratio = value / baseline if baseline else float("nan")
    meets = None if target is None else ratio <= target
    verdict = "" if meets is None else f"meets: {str(meets).lower()}"
    print(
        f"  {name:<34} {value:>9.1f} ms  baseline {baseline:>7.1f}  ratio {ratio:>7.2f}  "
        f"target {target}  {verdict} {note}".rstrip()
    )
    return meets


def _dashboard_under_load(baseline: Stats, stats: Stats) -> bool:
    """The lines of the dashboard's target and where the overview's time went; whether the
    target is met."""
    alone = baseline.latencies["dash overview alone"]
    loaded = stats.latencies["dash overview"]
    print("\nDashboard under load (round trips; the baselines alone on the server, this run):")
    met = result(
        "overview callback p95 under load",
        percentile(loaded, 0.95),
        percentile(alone, 0.5),
        OVERVIEW_TARGET,
        "(baseline: its p50 alone)",
    )
    app, wait = stats.server["dash overview"], stats.waits["dash overview"]
    running = [a - w for a, w in zip(app, wait, strict=True)] if len(app) == len(wait) else []
    print(
        "    where it went, p50 / p95: in the server "
        f"{percentile(app, 0.5):.0f} / {percentile(app, 0.95):.0f} ms, of which waiting for a "
        f"turn {percentile(wait, 0.5):.0f} / {percentile(wait, 0.95):.0f} ms and running "
        f"{percentile(running, 0.5):.0f} / {percentile(running, 0.95):.0f} ms; alone it runs "
        f"{percentile(baseline.server['dash overview alone'], 0.5):.0f} ms"
    )
    heaviest = max(
        (k for k in stats.server if k.startswith("dash ")),
        key=lambda k: percentile(stats.server[k], 0.5),
        default=None,
    )
    result(
        "/healthz p95 under load",
        percentile(stats.latencies["healthz"], 0.95),
        percentile(baseline.latencies["healthz"], 0.5),
        None,
        "(baseline: its p50 alone)",
    )
    if heaviest is not None:
        print(
            f"    of it {percentile(stats.server['healthz'], 0.95):.1f} ms in the app, on the "
            "event loop; the rest waited for the worker's process and interpreter lock, not "
            f"for a page: the heaviest callback ({heaviest}) took "
            f"{percentile(stats.server[heaviest], 0.5):.0f} ms in the server at p50"
        )
    return bool(met)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--dashboard-users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-calls", type=int, default=40, help="overview calls timed alone")
    parser.add_argument(
        "--latency-report-only",
        action="store_true",
        help="print the latency target's line, but fail only on errors and lost writes (CI: "
        "speed targets are checked by the bench, not by a test)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be between 1 and 120")
    if args.dashboard_users < 1 or args.baseline_calls < 5:
        parser.error("at least one dashboard user and five baseline calls are needed")

    schema = f"cm_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(BASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    server = None
    baseline, stats = Stats(), Stats()
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        built = dataset.build(engine, args.reporters, args.dashboard_users)
        engine.dispose()
        base = f"http://127.0.0.1:{_free_port()}"
        server = _serve(url, int(base.rsplit(":", 1)[1]), args.workers)
        if not _ready(base):
            print("the server did not become ready", file=sys.stderr)
            return 2
        reading = _drive(base, built, args, baseline, stats, server.pid)
        _stop(server)
        server = None
        lost = _check(url, stats)
    finally:
        if server is not None:
            _stop(server)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    total = sum(stats.statuses.values())
    elapsed = reading.wall
    print(
        f"\nAlone on the server first: {args.baseline_calls} × /healthz, then "
        f"{args.baseline_calls} overview clicks of one dashboard user, one after the other"
    )
    _table(baseline)
    print(
        f"\nUnder load: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), "
        f"{args.reporters} reporters, {args.readers} readers, "
        f"{args.dashboard_users} dashboard users, {args.workers} workers, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print("status   " + "  ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items())))
    _table(stats)

    print()
    print("\n".join(cpu.report(reading, total, os.cpu_count() or 1)))

    met = _dashboard_under_load(baseline, stats)

    problems = lost + stats.errors
    accepted = sum(1 for _ in stats.accepted)
    print(
        f"\naccepted writes checked for {accepted} partners; "
        f"lost writes: {sum('last accepted' in p for p in problems)}; 5xx: {len(stats.errors)}; "
        f"callback errors: {len(stats.callback_errors)}"
    )
    problems += stats.callback_errors
    if not met and not args.latency_report_only:
        problems.append(
            f"the overview callback's p95 under load is over {OVERVIEW_TARGET} × its p50 alone"
        )
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems[:30]))
        return 1
    print("database check: every accepted write is there, once, with its audit trail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
