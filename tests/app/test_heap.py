"""The serving process keeps what startup made out of the cycle collector's walks (api/heap.py)
and still collects cyclic garbage made while it serves."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

from api import heap


def test_a_worker_freezes_what_startup_made_and_makes_full_passes_rare(tmp_path):
    """The entry point uvicorn's workers import: its app and modules frozen, full passes rare."""
    code = textwrap.dedent(
        """
        import gc
        before = len(gc.get_objects())
        import api.asgi
        print(gc.get_freeze_count() > before, gc.get_threshold())
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ".",
        "CM_DATABASE_URL": f"sqlite:///{tmp_path / 'heap.db'}",
        "CM_VAR_DIR": str(tmp_path),
        "CM_WORKER": "external",
        "CM_SECRET_KEY": "x" * 48,
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == f"True {heap.THRESHOLDS}"


def test_cyclic_garbage_made_after_the_freeze_is_still_collected():
    thresholds = gc.get_threshold()

    class Node:
        pass

    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == heap.THRESHOLDS
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        gc.collect(0)  # into the older generations, as a request's long-lived garbage goes
        gc.collect(1)
        del node
        assert any(type(o) is Node for o in gc.get_objects())
        assert gc.collect() >= 1
        assert not any(type(o) is Node for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
