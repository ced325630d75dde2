"""On SQLite, one delivery worker at a time among the processes that share the data file.

SQLite has one writer: several serving processes (``cm serve --workers N``) each running the
worker would only queue for the write lock at every round and every claim. So on a SQLite file
a worker runs its rounds only while it holds an exclusive lock on a file next to the data file
(``<file>.worker.lock``, ``flock``); the others wait their turn and check again at each poll.
The operating system releases the lock when its holder's process ends, however it ends, so
another takes over at once. PostgreSQL needs no turn: its workers share the outbox
(``FOR UPDATE SKIP LOCKED``); an in-memory database has one process.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not on this platform: every worker runs (claims stay correct)
    fcntl = None  # type: ignore[assignment]


def lock_path(session_factory: sessionmaker[Session]) -> Path | None:
    """The lock file of the SQLite data file the sessions use; None when no turn is needed."""
    bind = session_factory.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite" or fcntl is None:
        return None
    database = bind.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.worker.lock")


class Turn:
    """Held by one worker of those sharing ``path`` (always held when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None

    def held(self) -> bool:
        """Whether this worker has the turn, taking it when it is free."""
        if self.path is None or self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another worker has it
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
