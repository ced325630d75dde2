"""Routes are matched in the order the app includes them, and partners' reports and the views
dashboards poll come first (api/app.py): that order is free only while their paths are their
own, which these tests hold."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from starlette.routing import compile_path

from api.app import create_app

FIRST = ("submissions", "analytics")  # the tags of the areas matched first


def _paths_by_tag() -> dict[str, set[str]]:
    app = create_app(sessionmaker(create_engine("sqlite://")), with_dashboard=False)
    found: dict[str, set[str]] = {}
    for path, operations in app.openapi()["paths"].items():
        for operation in operations.values():
            for tag in operation.get("tags", ["-"]):
                found.setdefault(tag, set()).add(path)
    return found


def _example(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.mark.parametrize("tag", FIRST)
def test_the_areas_matched_first_share_no_path_with_any_other_route(tag) -> None:
    by_tag = _paths_by_tag()
    assert by_tag[tag]
    first = by_tag[tag]
    others = set().union(*(paths for t, paths in by_tag.items() if t != tag)) - first
    clashes = [
        (mine, other)
        for mine in first
        for other in others
        if compile_path(other)[0].match(_example(mine))
        or compile_path(mine)[0].match(_example(other))
    ]
    assert clashes == []


def test_a_clash_would_be_seen() -> None:
    """The check above finds a route whose parameter stands where another has a word."""
    assert compile_path("/api/v1/initiatives/{slug}/{what}/{org}/{period}")[0].match(
        _example("/api/v1/initiatives/{slug}/submissions/{org}/{period}")
    )


def test_the_document_lists_the_areas_as_documented_not_as_matched() -> None:
    """Partners' reports are matched first, yet documented after the analytics views, as
    they always were (api/app.py AREAS)."""
    app = create_app(sessionmaker(create_engine("sqlite://")), with_dashboard=False)
    order = []
    for operations in app.openapi()["paths"].values():
        for operation in operations.values():
            order.extend(t for t in operation.get("tags", []) if t not in order)
    assert (
        order.index("analytics") < order.index("submissions") < order.index("deadline extensions")
    )
    assert "HTTPValidationError" in app.openapi()["components"]["schemas"]  # amended too
    assert "ValidationError" not in app.openapi()["components"]["schemas"]
