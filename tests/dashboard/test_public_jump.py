"""The public page's jump links: one per outcome of the period shown, each to its heading."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import dash
import pytest
from dash import html


@pytest.fixture
def page(app):
    """The page module as Dash registered it with the app (importing it again would clash)."""
    module = next(p["module"] for p in dash.page_registry.values() if "public" in p["module"])
    return sys.modules[module]


def _entry(code: str, outcome: str | None) -> dict:
    return {
        "indicator": code,
        "name": f"Indicator {code}",
        "outcome_name": outcome,
        "unit": "children",
        "decimals": 0,
        "definition": "",
        "total": {"value": 120.0, "marker": None},
        "breakdowns": [],
    }


def _period(key: str, *entries: dict) -> dict:
    return {
        "period": key,
        "published_at": datetime(2026, 1, 5, tzinfo=UTC),
        "note": None,
        "vintage": 1,
        "coverage": None,
        "indicators": list(entries),
        "stories": [],
    }


SUMMARY = {
    "initiative": "open",
    "periods": [
        _period("2025Q3", _entry("A", "Ready"), _entry("B", "Ready")),
        _period("2025Q4", _entry("A", "Ready"), _entry("C", "Reading"), _entry("D", None)),
    ],
}


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)


def test_one_link_per_outcome_of_the_period_each_to_its_heading(page) -> None:
    nav = page.jump_links(SUMMARY, "2025Q4")
    links = [n for n in _walk(nav) if isinstance(n, html.A)]
    assert [a.children for a in links] == ["Ready", "Reading", "Other indicators"]
    headings = {
        n.id: n.children
        for n in _walk(page.public_body(SUMMARY, "2025Q4"))
        if isinstance(n, html.H2) and getattr(n, "id", None)
    }
    assert {a.href: a.children for a in links} == {f"#{k}": v for k, v in headings.items()}


def test_a_single_outcome_needs_no_links(page) -> None:
    assert page.jump_links(SUMMARY, "2025Q3") is None
    assert page.jump_links(SUMMARY, None) is not None  # the latest period, as the page opens on
