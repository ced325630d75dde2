"""What the load test saw: latencies by kind of request, statuses, errors and accepted writes."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

# An answer of a dashboard callback that shows a domain error (the alert of
# dashboard.components.common.error_alert) carries this class.
ERROR_ALERT = "cm-error"


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # The server's own time (Server-Timing "app": to its first byte), where it sent one, and
    # the part of it the request waited for its turn (Server-Timing "wait": api/in_flight.py).
    server: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # How late a client's event loop woke up, by client: time no request spent in the server.
    lags: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # 5xx and requests without an answer
    callback_errors: list[str] = field(default_factory=list)  # refused calls, error alerts
    accepted: dict[str, tuple[int, dict]] = field(default_factory=dict)  # org → (version, values)
    changes: Counter = field(default_factory=Counter)  # org → value changes reported

    def record(self, kind: str, response: httpx.Response, started: float) -> None:
        self.latencies[kind].append(time.perf_counter() - started)
        self.statuses[response.status_code] += 1
        timing = server_timing(response.headers.get("server-timing", ""))
        if "app" in timing:
            self.server[kind].append(timing["app"])
        if "wait" in timing:
            self.waits[kind].append(timing["wait"])
        if response.status_code >= 500:
            self.errors.append(f"{kind} {response.status_code} {response.text[:200]}")

    def record_callback(self, kind: str, response: httpx.Response, started: float) -> None:
        """A dashboard callback: besides a 5xx, any answer but an update (200) or "nothing to
        update" (204) is an error, and so is an update that shows an error alert."""
        self.record(kind, response, started)
        if response.status_code not in (200, 204) and response.status_code < 500:
            self.callback_errors.append(f"{kind} {response.status_code} {response.text[:200]}")
        elif response.status_code == 200 and ERROR_ALERT in response.text:
            self.callback_errors.append(f"{kind} answered an error alert: {response.text[:300]}")

    def merge(self, other: Stats) -> None:
        """Add what the dashboard users' process saw (it writes nothing: no accepted writes)."""
        for kind, xs in other.latencies.items():
            self.latencies[kind] += xs
        for kind, xs in other.server.items():
            self.server[kind] += xs
        for kind, xs in other.waits.items():
            self.waits[kind] += xs
        for kind, xs in other.lags.items():
            self.lags[kind] += xs
        self.statuses.update(other.statuses)
        self.errors += other.errors
        self.callback_errors += other.callback_errors


def server_timing(header: str) -> dict[str, float]:
    """The metrics of a ``Server-Timing`` header in seconds: "wait;dur=0.1, app;dur=12.3"."""
    metrics = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            metrics[name] = float(duration) / 1000
    return metrics


def percentile(xs: list[float], p: float) -> float:
    """The ``p`` quantile of ``xs`` in milliseconds (0 for none)."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0
