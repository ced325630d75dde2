"""Where the machine's cores went during the load: the server's workers, PostgreSQL, the load
generator's two processes and everything else, in CPU seconds.

The load test runs its clients on the server's own machine (CI has one), so a latency under
load says as much about the clients' share of the cores as about the server's; this tells the
two apart. PostgreSQL is every ``postgres`` process on the machine (the cluster is shared, and
its backends are per connection); a process that ends before the load does is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil


def _seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


@dataclass(frozen=True)
class Reading:
    by_part: dict[str, float]
    busy: float  # the whole machine's busy CPU seconds so far
    wall: float


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class Meter:
    """CPU seconds of the load's parts between :meth:`start` and :meth:`stop`."""

    def __init__(self, server_pid: int, generator_pid: int, browsers_pid: int):
        # The server is a child of the load generator's process: its parts are counted apart.
        self._server, self._generator, self._browsers = server_pid, generator_pid, browsers_pid
        self._processes: dict[str, dict[int, psutil.Process]] = {}
        self._start: dict[tuple[str, int], float] = {}
        self._busy0 = 0.0
        self._wall0 = 0.0

    def _tree(self, pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _one(self, pid: int) -> list[psutil.Process]:
        try:
            return [psutil.Process(pid)]
        except psutil.NoSuchProcess:
            return []

    def _postgres(self) -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]

    def _refresh(self, since_start: bool) -> None:
        """Know every process of each part (new PostgreSQL backends, restarted workers): one
        seen at the start counts from its reading then, one born during the load from zero."""
        parts = {
            "server workers": self._tree(self._server),
            "API load generator": self._one(self._generator),
            "dashboard users' browsers": self._one(self._browsers),
            "PostgreSQL": self._postgres(),
        }
        for part, processes in parts.items():
            known = self._processes.setdefault(part, {})
            for process in processes:
                if process.pid not in known:
                    known[process.pid] = process
                    self._start[(part, process.pid)] = _seconds(process) if since_start else 0.0

    def start(self, wall: float) -> None:
        self._refresh(since_start=True)
        self._busy0 = _machine_busy()
        self._wall0 = wall

    def stop(self, wall: float) -> Reading:
        self._refresh(since_start=False)
        by_part = {
            part: sum(
                max(_seconds(process) - self._start[(part, pid)], 0.0)
                for pid, process in known.items()
            )
            for part, known in self._processes.items()
        }
        return Reading(by_part, _machine_busy() - self._busy0, wall - self._wall0)


def report(reading: Reading, requests: int, cores: int) -> list[str]:
    """The lines of the run's report: each part's CPU seconds and share of the cores."""
    capacity = reading.wall * cores
    counted = sum(reading.by_part.values())
    title = (
        f"Where the {cores} cores went during the load ({reading.wall:.0f} s, "
        f"{capacity:.0f} CPU seconds in all):"
    )
    lines = [title]
    order = ["server workers", "PostgreSQL", "API load generator", "dashboard users' browsers"]
    for part in order:
        seconds = reading.by_part.get(part, 0.0)
        lines.append(f"  {part:<28}{seconds:>7.1f} s  {seconds / capacity:>6.1%}")
    other = max(reading.busy - counted, 0.0)
    lines.append(f"  {'anything else':<28}{other:>7.1f} s  {other / capacity:>6.1%}")
    idle = max(capacity - reading.busy, 0.0)
    lines.append(f"  {'idle':<28}{idle:>7.1f} s  {idle / capacity:>6.1%}")
    if requests:
        workers = reading.by_part.get("server workers", 0.0)
        lines.append(
            f"  the workers' CPU per request: {workers / requests * 1000:.1f} ms "
            f"({requests} requests)"
        )
    return lines
