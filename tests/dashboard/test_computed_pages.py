"""Computed indicators on the setup page: the form's "Computed from" field saves the
expression (audited, listed in the grid), and a refused expression is shown next to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Indicator

from ..dash_calls import call, response_of
from . import test_setup_pages as setup_page
from .test_setup_pages import _as as _setup_as
from .test_setup_pages import _error, _events, _form_answer

world = setup_page.world  # the setup page tests' world, as a fixture of this module
INIT = "c2c"

COMPUTED = {
    "code": "SERVED_PER_READY",
    "name": "Children served per ready point",
    "outcome": "reach",
    "measure_type": "count",
    "unit": "children",
    "direction": "higher",
    "decimals": 1,
    "frequency": "quarterly",
    "kind": "population",
    "expression": "SERVED / max(K_READY, 1)",
}


def test_the_setup_form_saves_a_computed_indicator(client, world, session) -> None:
    _setup_as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", COMPUTED)
    assert "saved" in str(out["setup-indicator-feedback"]["children"]), out
    session.expire_all()
    made = session.scalar(select(Indicator).where(Indicator.code == "SERVED_PER_READY"))
    assert made.expression == "SERVED / max(K_READY, 1)"
    [created] = _events(session, "indicator")
    assert created.after["expression"] == "SERVED / max(K_READY, 1)"
    listed = response_of(
        call(
            client,
            "..setup-indicator-grid.rowData",
            [("setup-initiative", "value", INIT), ("setup-indicator-refresh", "data", 1)],
        )
    )["setup-indicator-grid"]["rowData"]
    row = next(r for r in listed if r["code"] == "SERVED_PER_READY")
    assert row["expression"] == "SERVED / max(K_READY, 1)"
    # A blank field makes it a reported indicator again.
    out = _form_answer(
        client,
        "indicator",
        "save",
        {**COMPUTED, "expression": ""},
        **{"setup-indicator-editing.data": "SERVED_PER_READY"},
    )
    assert "saved" in str(out["setup-indicator-feedback"]["children"]), out
    session.expire_all()
    assert (
        session.scalar(select(Indicator.expression).where(Indicator.code == "SERVED_PER_READY"))
        is None
    )


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("SERVED.__class__", "attribute access"),
        ("SERVED + NOPE", "no indicator 'NOPE'"),
        ("SERVED ** 2", "powers"),
    ],
)
def test_a_refused_expression_shows_next_to_its_field(
    client, world, session, expression, says
) -> None:
    _setup_as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", {**COMPUTED, "expression": expression})
    message = _error(out, "indicator", "expression")
    assert message and says in message, out
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "SERVED_PER_READY")) is None


def test_the_partner_comparison_of_a_computed_indicator_says_what_it_is_computed_from(
    client, world
) -> None:
    """No partner reports a computed indicator: its partner chart and table say so, and what
    it is computed from, instead of an empty chart."""
    _setup_as(client, world, "backbone")
    _form_answer(client, "indicator", "save", COMPUTED)
    out = response_of(
        call(
            client,
            "..indicator-partners.figure",
            [
                ("indicator-initiative", "value", INIT),
                ("indicator-code", "value", "SERVED_PER_READY"),
                ("indicator-period", "value", "2025Q3"),
            ],
        )
    )
    figure = out["indicator-partners"]["figure"]
    assert figure["data"] == []
    [note] = figure["layout"]["annotations"]
    assert note["text"].startswith("Computed from SERVED / max(K_READY, 1)")
    assert "is computed from SERVED / max(K_READY, 1)" in str(
        out["indicator-partners-table"]["children"]
    )
