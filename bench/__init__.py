"""Benchmarks (on demand): Common Measure against raw SQL on the same database and schema."""
