"""Two versions of the server side by side on one database, asked the same requests in turn.

    python -m bench.ab --before REV [--db sqlite|postgresql] [--members 200] [--quarters 12]
                       [--rounds 5] [--requests 150] [--fresh | --approve] [--recent N]

Builds one initiative (``bench.dataset``), starts a server from a checkout of ``REV`` (a git
worktree under ``var/bench/``) and one from this tree, both on that database (migrated by this
tree), and asks each, one after the other, ``--requests`` times per round: ``/healthz`` (the
floor), the scorecard, a series, an equity view and completeness, with the backbone's API key
and no validators (the response cache answers). With ``--fresh`` every request follows a change
that may move figures (an audit event the data version cannot rule out), as the bench's "after
a change"; with ``--approve`` every figure request follows an approval of a partner's report of
the shown quarter (reopened, submitted, approved through the workflow). With ``--recent N``
each round starts with N approvals, so that the answers asked again are asked while recent
events are counted (as the bench's views after the scorecard's approvals). Prints the bench's
plain ``GROUP BY`` timed on the same database (the ratios' baseline), each round's median per
server and the median of the rounds, and each server's CPU time per request (its process's,
all threads, from /proc: what the machine's other load changes least).

On a shared machine a single run before and a single run after a change measure the machine's
drift as much as the change; servers asked in turn share whatever load there is.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

import migrations
from bench.__main__ import _database, _partner_approval, _start_server, touch
from bench.dataset import Size, build
from bench.profile_reads import _group_by
from models import Initiative, Period

ROOT = Path(__file__).resolve().parents[1]


def _checkout(rev: str) -> Path:
    """A worktree of ``rev`` under var/bench/ (made once per commit, reused after)."""
    commit = subprocess.check_output(["git", "rev-parse", rev], cwd=ROOT, text=True).strip()
    tree = ROOT / "var" / "bench" / f"ab-{commit[:12]}"
    if not tree.exists():
        subprocess.check_call(
            ["git", "worktree", "add", "--detach", str(tree), commit],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return tree


def _absolute(url: str) -> str:
    """A SQLite file named from this directory, so a server started elsewhere finds it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(
            hide_password=False
        )
    return url


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--fresh", action="store_true", help="a change before every request")
    parser.add_argument(
        "--approve",
        action="store_true",
        help="a partner's report of the shown quarter approved before every figure request",
    )
    parser.add_argument("--recent", type=int, default=0, help="approvals before each round")
    args = parser.parse_args(argv)
    before = _checkout(args.before)
    url, drop = _database(args.db)
    url = _absolute(url)
    servers = []
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        size = Size(initiatives=1, members=args.members, indicators=12, quarters=args.quarters)
        built = build(engine, size, progress=str)
        with engine.connect() as conn:
            init_id = conn.scalar(
                select(Initiative.id).where(Initiative.slug == built.initiative_slug)
            )
            period = conn.scalar(
                select(Period.key)
                .where(Period.initiative_id == init_id)
                .order_by(Period.starts_on.desc())
                .offset(1)
            )
        _group_by(engine, init_id, 15)  # the bench's baseline, on this database
        approve = _partner_approval(engine, built, period)
        slug, code = built.initiative_slug, built.indicator_codes[0]
        paths = {
            "/healthz": "/healthz",
            "scorecard": f"/api/v1/initiatives/{slug}/scorecard",
            "series": f"/api/v1/initiatives/{slug}/indicators/{code}/series?by=race",
            "equity": f"/api/v1/initiatives/{slug}/indicators/{code}/equity?dimension=race",
            "completeness": f"/api/v1/initiatives/{slug}/completeness?period={period}",
        }
        for name, tree in (("before", before), ("after", None)):
            proc, base = _start_server(url, tree)
            servers.append((name, proc, base))

        auth = {"Authorization": f"Bearer {built.backbone_key}"}
        rounds: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], float] = {}
        for r in range(args.rounds):
            for _ in range(args.recent):
                approve()
            for view, path in paths.items():
                for name, proc, base in servers:
                    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
                        client.get(path).raise_for_status()  # warm: connection, cache entry
                        times = []
                        used = _cpu_seconds(proc.pid)
                        for _ in range(args.requests):
                            if args.fresh and view != "/healthz":
                                touch(engine, init_id)
                            if args.approve and view not in ("/healthz", "completeness"):
                                approve()
                            t = time.perf_counter()
                            client.get(path).raise_for_status()
                            times.append(time.perf_counter() - t)
                        used = _cpu_seconds(proc.pid) - used
                    rounds.setdefault((view, name), []).append(statistics.median(times) * 1000)
                    cpu[view, name] = cpu.get((view, name), 0.0) + used
            print(f"round {r + 1}/{args.rounds} done", flush=True)
        kind = (
            "after an approval" if args.approve else "after a change" if args.fresh else "repeated"
        )
        print(f"\n{kind}, p50 in ms (median of {args.rounds} rounds of {args.requests}):")
        print(
            f"  {'view':<14} {'before':>8} {'after':>8} {'change':>8}"
            f"   server CPU ms/request: {'before':>6} {'after':>6}"
        )
        asked = args.rounds * args.requests / 1000
        for view in paths:
            b = statistics.median(rounds[(view, "before")])
            a = statistics.median(rounds[(view, "after")])
            print(
                f"  {view:<14} {b:8.2f} {a:8.2f} {(a - b) / b:+8.0%}"
                f"   {'':>21} {cpu[view, 'before'] / asked:6.2f} {cpu[view, 'after'] / asked:6.2f}"
            )
        engine.dispose()
    finally:
        for _, proc, _ in servers:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        drop()


def _cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, all its threads (Linux: /proc/PID/stat, utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
