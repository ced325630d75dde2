"""The load test's account of the cores (tests/load/cpu.py): the server's workers are children
of the load generator's process and are counted as the server's, once; a worker born during
the load counts from zero."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from tests.load import cpu

# uvicorn's supervisor, then a worker it starts later that burns 0.6 s of CPU and waits.
WORKER = (
    "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\n"
    "time.sleep(60)"
)
SERVER = (
    "import subprocess, sys, time\ntime.sleep(0.5)\n"
    f"subprocess.run([sys.executable, '-c', {WORKER!r}])"
)


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def _worker_burnt(server: subprocess.Popen) -> bool:
    workers = psutil.Process(server.pid).children()
    return bool(workers) and sum(workers[0].cpu_times()[:2]) >= 0.6


def test_each_part_is_counted_once_and_a_worker_born_during_the_load_from_zero():
    browsers = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    server = subprocess.Popen([sys.executable, "-c", SERVER], start_new_session=True)
    try:
        meter = cpu.Meter(server.pid, generator_pid=os.getpid(), browsers_pid=browsers.pid)
        meter.start(time.monotonic())
        _burn(0.3)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _worker_burnt(server):
            time.sleep(0.05)
        reading = meter.stop(time.monotonic())
    finally:
        browsers.kill()
        os.killpg(server.pid, 9)
        server.wait(timeout=30)
    assert 0.3 <= reading.by_part["API load generator"] < 0.5
    assert 0.6 <= reading.by_part["server workers"] < 0.9
    assert reading.by_part["dashboard users' browsers"] < 0.1
    assert reading.busy >= 0.9
    lines = cpu.report(reading, requests=100, cores=2)
    assert lines[0].startswith("Where the 2 cores went during the load")
    assert [line.split()[0] for line in lines[1:5]] == [
        "server",
        "PostgreSQL",
        "API",
        "dashboard",
    ]
    workers_ms = reading.by_part["server workers"] / 100 * 1000
    assert lines[-1].endswith(f"{workers_ms:.1f} ms (100 requests)")
