"""`python -m api.cli` and `python -m api` run the same command line as the `cm` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CM_VAR_DIR": str(tmp_path / "var"),
        "CM_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, *args],
        check=False,  # the exit status is what the tests read
        cwd=tmp_path,  # not the checkout: the module is found through PYTHONPATH, as installed
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", ["api.cli", "api"])
def test_python_dash_m_runs_the_cm_command_line(module: str, tmp_path: Path) -> None:
    result = _run("-m", module, "--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: cm [OPTIONS] COMMAND" in result.stdout
    for command in ("db", "demo", "users", "import", "export", "serve"):
        assert f"│ {command} " in result.stdout, command
    assert not (tmp_path / "unused.db").exists(), "help touched the database"


def test_python_dash_m_refuses_an_unknown_command_like_cm(tmp_path: Path) -> None:
    wrong = _run("-m", "api.cli", "no-such-command", tmp_path=tmp_path)
    assert wrong.returncode == 2 and "No such command" in wrong.stderr
    assert "Usage: cm " in wrong.stderr
