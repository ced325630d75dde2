"""Deadline load test: many partners submit at once while backbone staff read dashboards.

Starts a real server (uvicorn, 2 workers) on 127.0.0.1 against a private PostgreSQL schema,
drives it with an async httpx client for a bounded time, prints requests, errors by status and
latency percentiles, then checks the database: every accepted write is there, each value has
exactly one row and a complete audit trail, and no request answered 5xx.

    python -m tests.load.run --reporters 200 --readers 20 --seconds 90
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import migrations
from models import (
    ApiKey,
    AuditEvent,
    Indicator,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Period,
    RoleGrant,
    Submission,
    User,
    Value,
)
from models.access.api_keys import _hash_key

BASE_URL = os.environ.get(
    "CM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
INDICATORS = ("SERVED", "SESSIONS", "READY")
PERIOD = "2020Q1"
# Deadline day, compressed: every partner works on its report at the same time, a few seconds
# between steps; staff dashboards refresh every couple of seconds.
THINK = (2.0, 6.0)
REFRESH = (1.5, 3.0)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    accepted: dict[str, tuple[int, dict]] = field(default_factory=dict)  # org → (version, values)
    changes: Counter = field(default_factory=Counter)  # org → value changes reported

    def record(self, kind: str, response: httpx.Response, started: float) -> None:
        self.latencies[kind].append(time.perf_counter() - started)
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{kind} {response.status_code} {response.text[:200]}")


def _setup(url: str, reporters: int) -> tuple[list[tuple[str, str]], str]:
    """An initiative with ``reporters`` partners, each with an API key; and a backbone key."""
    engine = create_engine(url)
    keys = []
    with Session(engine) as s:
        init = Initiative(slug="load", name="Load test")
        s.add(init)
        s.flush()
        today = date.today()
        s.add(
            Period(
                initiative_id=init.id,
                key=PERIOD,
                kind="quarter",
                starts_on=date(2020, 1, 1),
                ends_on=date(2020, 3, 31),
                opens_on=today - timedelta(days=1),
                due_on=today + timedelta(days=30),
                closes_on=today + timedelta(days=60),
            )
        )
        indicators = [
            Indicator(
                initiative_id=init.id,
                code=c,
                name=c,
                unit="people",
                measure_type="count" if c != "READY" else "rate",
                frequency="quarterly",
                direction="higher",
            )
            for c in INDICATORS
        ]
        s.add_all(indicators)
        s.flush()
        for i in range(reporters):
            org = Organisation(slug=f"partner-{i:03d}", name=f"Partner {i}", sector="nonprofit")
            s.add(org)
            s.flush()
            member = Member(initiative_id=init.id, organisation_id=org.id)
            s.add(member)
            s.flush()
            s.execute(
                insert(Obligation),
                [{"member_id": member.id, "indicator_id": ind.id} for ind in indicators],
            )
            secret = f"cm_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}{uuid.uuid4().hex}"
            prefix = secret.split("_")[1]
            # A key acts for a living reporter of the partner (a login nobody can use).
            owner = User(email=f"load-{i:03d}@load.test", password_hash="!")
            owner.grants.append(
                RoleGrant(role="reporter", initiative_id=init.id, organisation_id=org.id)
            )
            s.add(owner)
            s.flush()
            s.add(
                ApiKey(
                    prefix=prefix,
                    key_hash=_hash_key(secret),
                    name="load",
                    organisation_id=org.id,
                    created_by_id=owner.id,
                )
            )
            keys.append((org.slug, secret))
        backbone = f"cm_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}{uuid.uuid4().hex}"
        officer = User(email="backbone@load.test", password_hash="!")
        officer.grants.append(RoleGrant(role="backbone", initiative_id=init.id))
        s.add(officer)
        s.flush()
        s.add(
            ApiKey(
                prefix=backbone.split("_")[1],
                key_hash=_hash_key(backbone),
                name="load",
                initiative_id=init.id,
                created_by_id=officer.id,
            )
        )
        s.commit()
    engine.dispose()
    return keys, backbone


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
    """A request that gets no answer in time is counted as an error, not a crash of the run."""

    def __init__(self, stats: Stats) -> None:
        super().__init__()
        self.stats = stats

    async def handle_async_request(self, request):
        try:
            return await super().handle_async_request(request)
        except httpx.TimeoutException:
            self.stats.errors.append(f"timeout {request.method} {request.url.path}")
            return httpx.Response(599, request=request, text="client timeout")


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


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be between 1 and 120")

    schema = f"cm_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(BASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    server = None
    try:
        migrations.upgrade(url)
        keys, backbone = _setup(url, args.reporters)
        port = _free_port()
        env = {
            **os.environ,
            "CM_DATABASE_URL": url,
            "CM_LOG_LEVEL": "warning",
            # 20 readers share one backbone key here, and the limit counts per key.
            "CM_RATE_LIMIT_PER_MINUTE": "100000",
        }
        server = subprocess.Popen(
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
                str(args.workers),
                "--log-level",
                "warning",
            ],
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            print("the server did not become ready", file=sys.stderr)
            return 2
        stats = Stats()
        started = time.monotonic()
        deadline = started + args.seconds

        async def drive() -> None:
            limits = httpx.Limits(max_connections=args.reporters + args.readers)
            async with httpx.AsyncClient(
                base_url=base, timeout=60, limits=limits, transport=_CountingTransport(stats)
            ) as client:
                await asyncio.gather(
                    *(
                        reporter(client, org, key, deadline, stats, i)
                        for i, (org, key) in enumerate(keys)
                    ),
                    *(
                        reader(client, backbone, deadline, stats, 10_000 + i, reviews=i == 0)
                        for i in range(args.readers)
                    ),
                )

        asyncio.run(drive())
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    total = sum(stats.statuses.values())
    print(
        f"\n{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), "
        f"{args.reporters} reporters, {args.readers} readers"
    )
    print("status   " + "  ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items())))
    print(f"{'kind':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    everything = []
    for kind, xs in sorted(stats.latencies.items()):
        everything += xs
        print(
            f"{kind:<14}{len(xs):>8}{_percentile(xs, 0.5):>10.1f}{_percentile(xs, 0.95):>10.1f}"
            f"{_percentile(xs, 0.99):>10.1f}"
        )
    print(
        f"{'all':<14}{len(everything):>8}{_percentile(everything, 0.5):>10.1f}"
        f"{_percentile(everything, 0.95):>10.1f}{_percentile(everything, 0.99):>10.1f}"
    )
    problems = _check(url, stats) + stats.errors
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()
    accepted = sum(1 for _ in stats.accepted)
    print(
        f"\naccepted writes checked for {accepted} partners; "
        f"lost writes: {sum('last accepted' in p for p in problems)}; 5xx: {len(stats.errors)}"
    )
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems[:30]))
        return 1
    print("database check: every accepted write is there, once, with its audit trail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
