"""Two kinds of measure on the pages (README, "Two kinds of measure"): the overview puts each
population indicator first and the partners' performance measures that contribute to it under
it, by how much / how well / better off, then the measures linked to none; the setup form sets
kind, type and links (refusals next to their field, the change history); the indicator page
names the kind and links the related indicators."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import Indicator

from .. import factories as f
from ..dash_calls import call, render_page, response_of, text_of
from ..dash_calls import find as _find
from . import test_setup_pages as setup_page
from .test_explained import INIT, PERIOD, _overview
from .test_explained import _as as _login
from .test_setup_pages import _as as _setup_as
from .test_setup_pages import _edit, _error, _events, _form_answer

world = setup_page.world  # the setup page tests' world, as a fixture of this module


# code, outcome, kind/type, contributes to — in the initiative's order of indicators.
SHAPE = (
    ("P1", "learn", None, ()),
    ("M_MUCH", "learn", "how_much", ("P1",)),
    ("M_WELL", "learn", "how_well", ("P1", "P2")),
    ("M_OFF", "learn", "better_off", ("P1",)),
    ("P2", "learn", None, ()),
    ("M_FREE", "learn", "better_off", ()),
    ("P3", "work", None, ()),
    ("M_ELSE", "work", "how_much", ("P1",)),
)


@pytest.fixture
def kinds(session, client):
    init = f.initiative(session, slug=INIT, name="Cradle to Career")
    f.period(session, init, PERIOD)
    outcomes = {
        code: f.outcome(session, init, code=code, name=code.title()) for code in ("learn", "work")
    }
    rows: dict[str, Indicator] = {}
    for n, (code, outcome, performance_type, _links) in enumerate(SHAPE):
        rows[code] = f.indicator(
            session,
            init,
            code=code,
            name=f"Name of {code}",
            outcome_id=outcomes[outcome].id,
            position=n,
            kind="population" if performance_type is None else "performance",
            performance_type=performance_type,
        )
    for code, _outcome, _type, links in SHAPE:
        rows[code].contributes_to = [rows[c] for c in links]
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
    }
    session.commit()
    return users


def _rows_in_order(node) -> list[str]:
    """Each table row of the overview in page order: its id, or its caption's kind."""
    out: list[str] = []

    def walk(n) -> None:
        if isinstance(n, dict):
            if n.get("type") == "Tr" and n.get("namespace") == "dash_html_components":
                ident = n["props"].get("id")
                if ident:
                    out.append(ident)
                    return
                cell = n["props"].get("children")
                if isinstance(cell, dict) and cell.get("type") == "Td":
                    classes = cell["props"].get("className", "")
                    kind = next(c for c in classes.split() if c.startswith("cm-"))
                    out.append(f"{kind}:{cell['props'].get('children')}")
                    return
            for value in n.values():
                walk(value)
        elif isinstance(n, list):
            for value in n:
                walk(value)

    walk(node)
    return out


CONTRIBUTION = (
    "cm-contribution:Partners' performance measures that bear on it: contribution, not "
    "attribution (each programme plays a part in the curve above; none moves it alone)."
)
EXPECTED = [
    "ov-row-P1",
    CONTRIBUTION,
    "cm-performance-type:How much did we do?",
    "ov-row-M_MUCH",
    "ov-row-M_ELSE",  # of another outcome, shown under the population indicator it bears on
    "cm-performance-type:How well did we do it?",
    "ov-row-M_WELL",
    "cm-performance-type:Is anyone better off?",
    "ov-row-M_OFF",
    "ov-row-P2",
    CONTRIBUTION,
    "cm-performance-type:How well did we do it?",
    "ov-row-M_WELL-under-P2",  # the same measure under its second population indicator
    "cm-unlinked:Performance measures linked to no population indicator on this page",
    "cm-performance-type:Is anyone better off?",
    "ov-row-M_FREE",
    "ov-row-P3",
]


@pytest.mark.parametrize("role", ["backbone", "funder"])
def test_the_overview_puts_the_population_curve_first_and_its_measures_under_it(
    client, kinds, role
) -> None:
    _login(client, kinds, role)
    body = _overview(client)
    assert _rows_in_order(body) == EXPECTED
    # Each measure keeps its own trend line.
    text = json.dumps(body)
    assert text.count("cm-sparkline") == sum(1 for e in EXPECTED if e.startswith("ov-row-"))
    assert "Population and performance" in json.dumps(_find(body, "overview-legend"))


def test_filtered_to_an_outcome_its_measures_linked_elsewhere_come_after(client, kinds) -> None:
    """With the outcome filter, M_ELSE's population indicator is not on the page: it is listed
    after, with the measures linked to none."""
    _login(client, kinds, "backbone")
    body = response_of(
        call(
            client,
            "..overview-body.children",
            [
                ("overview-initiative", "value", INIT),
                ("overview-period", "value", PERIOD),
                ("overview-outcome", "value", "work"),
            ],
        )
    )
    assert _rows_in_order(body) == [
        "ov-row-P3",
        "cm-unlinked:Performance measures linked to no population indicator on this page",
        "cm-performance-type:How much did we do?",
        "ov-row-M_ELSE",
    ]


def test_the_indicator_page_names_the_kind_and_links_the_related_indicators(client, kinds) -> None:
    _login(client, kinds, "funder")
    page = response_of(render_page(client, "/indicator", f"?initiative={INIT}&code=M_WELL"))
    line = json.dumps(_find(page, "indicator-kind"), ensure_ascii=False)
    assert "Partner performance measure" in line and "how well did we do it?" in line
    assert "contribution, not attribution" in line
    for code in ("P1", "P2"):
        link = _find(page, f"indicator-kind-link-{code}")
        assert link["props"]["href"] == f"/indicator?initiative={INIT}&code={code}"
        assert link["props"]["children"] == f"Name of {code}"
    # Picking the population indicator: the partners' measures that bear on it.
    answer = response_of(
        call(
            client,
            "..indicator-by.options...indicator-by.value...indicator-title.children"
            "...indicator-kind.children..",
            [("indicator-code", "value", "P1"), ("indicator-initiative", "value", INIT)],
        )
    )
    line = json.dumps(answer["indicator-kind"]["children"], ensure_ascii=False)
    assert "Population indicator" in line
    for code in ("M_MUCH", "M_WELL", "M_OFF", "M_ELSE"):
        assert f"indicator-kind-link-{code}" in line
    assert "M_FREE" not in line


# --- the setup form -----------------------------------------------------------------------------

MEASURE = {
    "code": "TUTORING",
    "name": "Tutoring sessions",
    "outcome": "reach",
    "measure_type": "count",
    "unit": "sessions",
    "direction": "higher",
    "decimals": 0,
    "frequency": "quarterly",
    "kind": "performance",
    "performance_type": "how_much",
    "contributes_to": ["K_READY"],
}


def test_the_setup_form_makes_a_performance_measure_and_its_history_shows_the_links(
    client, world, session
) -> None:
    _setup_as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", MEASURE)
    assert "saved" in str(out["setup-indicator-feedback"]["children"]), out
    session.expire_all()
    made = session.scalar(select(Indicator).where(Indicator.code == "TUTORING"))
    assert (made.kind, made.performance_type) == ("performance", "how_much")
    assert [p.code for p in made.contributes_to] == ["K_READY"]

    # The list says what it is; a measure is no choice to contribute to.
    listed = response_of(
        call(
            client,
            "..setup-indicator-grid.rowData",
            [("setup-initiative", "value", INIT), ("setup-indicator-refresh", "data", 1)],
        )
    )["setup-indicator-grid"]["rowData"]
    row = next(r for r in listed if r["code"] == "TUTORING")
    assert row["kind_text"] == "how much did we do? → K_READY"
    choices = response_of(
        call(
            client,
            "..setup-indicator-outcome.options",
            [
                ("setup-initiative", "value", INIT),
                ("setup-outcome-refresh", "data", 0),
                ("setup-dimension-refresh", "data", 0),
                ("setup-period-refresh", "data", 0),
                ("setup-indicator-refresh", "data", 1),
            ],
        )
    )["setup-indicator-contributes_to"]["options"]
    assert "TUTORING" not in {o["value"] for o in choices}

    changed = {**MEASURE, "performance_type": "how_well", "contributes_to": ["K_READY", "SCORE"]}
    out = _form_answer(
        client, "indicator", "save", changed, **{"setup-indicator-editing.data": "TUTORING"}
    )
    assert "saved" in str(out["setup-indicator-feedback"]["children"]), out
    [_created, updated] = _events(session, "indicator")
    assert updated.after["contributes_to"] == ["K_READY", "SCORE"]
    history = text_of(
        call(
            client,
            "..setup-indicator-changes-title.children",
            [
                ("setup-indicator-editing", "data", "TUTORING"),
                ("setup-indicator-refresh", "data", 2),
                ("setup-initiative", "value", INIT),
            ],
        )
    )
    assert "performance_type: how_much → how_well" in history
    assert "contributes_to" in history and "SCORE" in history


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"performance_type": None}, "performance_type", "needs its type"),
        ({"contributes_to": ["NOPE"]}, "contributes_to", "no indicator 'NOPE'"),
        ({"kind": "population"}, "performance_type", "only a performance measure"),
    ],
)
def test_a_refused_measure_shows_the_message_next_to_its_field(
    client, world, session, changes, field, says
) -> None:
    _setup_as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", {**MEASURE, **changes})
    message = _error(out, "indicator", field)
    assert message and says in message, out
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "TUTORING")) is None


def test_others_cannot_save_a_measure_through_the_setup_form(client, world, session) -> None:
    for role in ("reporter", "funder", "outsider"):
        _setup_as(client, world, role)
        answer = _edit(client, "indicator", "save", MEASURE)
        assert answer.status_code == 200
        assert "saved" not in text_of(answer), role
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "TUTORING")) is None
