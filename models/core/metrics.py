"""Metrics the domain records about itself (Prometheus); ``/metrics`` exposes this registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
IMPORTS = Counter(
    "cm_imports_total", "Spreadsheet imports by outcome", ["outcome"], registry=REGISTRY
)
IMPORTED_ROWS = Counter(
    "cm_imported_rows_total", "Rows read from spreadsheet imports", registry=REGISTRY
)
ROLLUP_QUERY = Histogram(
    "cm_rollup_query_seconds",
    "Time spent reading rollups",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
