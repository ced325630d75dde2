"""Grids write numbers the reader's way: the entry and review grids format their figures with
the language's decimal mark and group separator (README, "Languages")."""

from __future__ import annotations

import json
import re
import sys

import dash
import pytest

from dashboard.components import entry_grid
from models.core import i18n

MARKS = {"en": (".", ","), "es": (",", ".")}


def _marks(column: dict) -> tuple[str, str]:
    function = column["valueFormatter"]["function"]
    found = re.search(r"d3\.formatLocale\((\{.*?\})\)", function)
    assert found, function
    locale = json.loads(found.group(1))
    return locale["decimal"], locale["thousands"]


@pytest.fixture
def review(app):
    """The review page's module, as Dash registered it once its app exists."""
    [name] = [p["module"] for p in dash.page_registry.values() if p["path"] == "/reporting/review"]
    return sys.modules[name]


@pytest.mark.parametrize("language", sorted(MARKS))
def test_number_columns_use_the_languages_marks(review, language) -> None:
    token = i18n.begin_request(language)
    try:
        columns = [*entry_grid.columns(), *review.value_columns()]
    finally:
        i18n.end_request(token)
    numeric = [c for c in columns if "valueFormatter" in c]
    assert {c["field"] for c in numeric} >= {"value", "numerator", "denominator"}
    assert all(_marks(c) == MARKS[language] for c in numeric)
    # Shown the reader's way, downloaded as plain numbers a spreadsheet or an import reads.
    assert all(c["useValueFormatterForExport"] is False for c in numeric)
