"""On a SQLite file the serving processes' delivery workers take turns: one runs rounds, the
others wait, and the turn passes on when its holder stops or its process dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from models.notifications.turn import Turn, lock_path
from models.notifications.worker import DeliveryWorker

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time; from pathlib import Path; from models.notifications.turn import Turn; "
    "assert Turn(Path(sys.argv[1])).held(); print('held', flush=True); time.sleep(60)"
)


def _factory(url: str) -> sessionmaker:
    return sessionmaker(create_engine(url))


def _counting(worker: DeliveryWorker) -> list[int]:
    rounds = [0]

    def count() -> None:
        rounds[0] += 1

    worker._round = count  # type: ignore[method-assign]
    return rounds


def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_only_a_sqlite_file_needs_turns(tmp_path: Path) -> None:
    assert lock_path(_factory(f"sqlite:///{tmp_path}/cm.db")) == Path(
        f"{tmp_path}/cm.db.worker.lock"
    )
    assert lock_path(_factory("sqlite://")) is None
    assert lock_path(_factory("postgresql+psycopg://u@127.0.0.1:1/x")) is None
    assert lock_path(sessionmaker()) is None


def test_two_workers_on_one_file_take_turns(tmp_path: Path) -> None:
    factory = _factory(f"sqlite:///{tmp_path}/cm.db")
    first = DeliveryWorker(factory, poll_seconds=0.02)
    second = DeliveryWorker(factory, poll_seconds=0.02)
    first_rounds, second_rounds = _counting(first), _counting(second)
    first.start()
    _until(lambda: first_rounds[0] > 0)
    second.start()
    time.sleep(0.3)
    assert first_rounds[0] > 5 and second_rounds[0] == 0
    first.stop()
    _until(lambda: second_rounds[0] > 0)  # the turn passed on
    second.stop()


def test_the_turn_passes_on_when_its_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "cm.db.worker.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = Turn(path)
        assert not mine.held()
        holder.kill()
        holder.wait(10)
        _until(mine.held)
        mine.release()
    finally:
        holder.kill()
