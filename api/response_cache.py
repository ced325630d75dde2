"""Rendered answers of the read views, reused until the data behind them changes.

Dashboards poll the same scorecard, series and completeness views many times between two
approvals. An answer depends only on the initiative's data version (its newest audit event:
every write leaves one), on who asks (their roles decide suppression and scope), on the day
(lateness) and on the query; under that key the rendered JSON is kept and sent again without
running a single query of the view. A new version makes the old entries unreachable, and the
least recently used are evicted past a size bound. Each worker process has its own cache, so
nothing is shared between processes and nothing can go stale across them: each checks the
version in the database on every request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024
BY_OBJECT = 32  # bodies known by identity (the few answers made again most)


class ResponseCache:
    """A thread-safe LRU map from a key to rendered bytes, bounded in entries and bytes."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._by_object: dict[tuple[int, str], tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The answer kept under ``key``, else ``render()``'s, kept (counted in hits/misses)."""
        return self._get_or_make(key, render, counted=True)

    def kept(self, key: Hashable) -> bytes | None:
        """The answer kept under ``key`` (counted as a hit), else None (not counted: the caller
        answers otherwise, and counts there)."""
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return body

    def encoded(self, key: Hashable, encoding: str, encode: Callable[[], bytes]) -> bytes:
        """The answer under ``key`` in another encoding (gzip), made once by ``encode()`` and
        kept beside it; not counted again, as it is the same answer."""
        return self._get_or_make((key, encoding), encode, counted=False)

    def by_content(self, body: bytes, encoding: str, encode: Callable[[], bytes]) -> bytes:
        """``body`` in another encoding, kept under a digest of its bytes: an answer computed
        again after a change that moved nothing in it (completeness after an audit event that
        touched no report) is sent as it was encoded before, not encoded again (a region's
        grid: 250 KB of JSON, 1.5 ms to compress, 0.2 ms to digest). The same bytes object
        again (a grid's JSON kept whole by the view) is not even digested: it is known by
        identity, held beside its encoding so that its id cannot name other bytes."""
        known = self._by_object.get((id(body), encoding))
        if known is not None and known[0] is body:  # the very bytes encoded before
            return known[1]
        digest = hashlib.blake2b(body, digest_size=32).digest()
        encoded = self._get_or_make(("content", digest, encoding), encode, counted=False)
        with self._lock:
            if len(self._by_object) >= BY_OBJECT:
                self._by_object.clear()
            # The body is held with its id, so the id names these bytes while it is kept.
            self._by_object[(id(body), encoding)] = (body, encoded)
        return encoded

    def _get_or_make(self, key: Hashable, make: Callable[[], bytes], *, counted: bool) -> bytes:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                self.hits += counted
                return body
            self.misses += counted
        body = make()  # outside the lock: two first requests may both render, harmlessly
        if len(body) <= self.max_bytes // 4:
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = body
                    self._bytes += len(body)
                while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= len(evicted)
        return body

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_object.clear()
            self._bytes = 0
