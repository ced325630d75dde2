"""The elements a callback sends as plain JSON (dashboard.components.tables.html_element) are
exactly what Dash's components would send: the browser gets the same tables, links and lists."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from types import SimpleNamespace

import dash
import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html
from plotly.io.json import to_json_plotly

from dashboard.components import common, history, tables
from models.core import i18n
from models.reporting.deadlines import ExtensionView

COLUMNS = [("partner", "Partner"), ("value", "Value"), ("share", "Share")]
ROWS = [
    {"partner": "Eastside <b>", "value": 1234, "share": 0.125},
    {"partner": "=cmd()", "value": None, "share": -2.5},
    {"partner": None, "value": 7, "share": 1234567.891},
]


def _sent(component) -> object:
    """What the browser receives: Dash's serialisation of a callback's answer."""
    return json.loads(to_json_plotly(component))


def _components_table(name, columns, rows, filename, caption=None) -> html.Div:
    """data_table as it was built with a component for each cell: the reference."""
    numeric = {key for key, _ in columns if any(isinstance(r.get(key), int | float) for r in rows)}
    table = dbc.Table(
        [
            html.Caption(caption, className="small") if caption else None,
            html.Thead(
                html.Tr(
                    [html.Th(h, className="text-end" if k in numeric else None) for k, h in columns]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(
                                tables._display(r.get(k)),
                                className="text-end" if k in numeric else None,
                            )
                            for k, _ in columns
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
        size="sm",
        striped=True,
        className="mb-1 small cm-data-table",
        id={"type": "cm-table", "name": name},
    )
    return html.Div(
        [
            tables.scroll_region(table, caption or ", ".join(h for _k, h in columns)),
            dbc.Button(
                i18n.gettext("Download CSV"),
                id={"type": "cm-csv", "name": name},
                color="secondary",
                outline=True,
                size="sm",
                className="mb-3",
            ),
            dcc.Download(id={"type": "cm-csv-file", "name": name}),
            dcc.Store(
                id={"type": "cm-csv-data", "name": name},
                data={"filename": filename, "columns": columns, "rows": rows},
            ),
        ]
    )


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("caption", [None, "Partners in 2025Q3"])
def test_data_table_sends_what_its_components_would(language, caption) -> None:
    token = i18n.begin_request(language)
    try:
        sent = _sent(tables.data_table("partners", COLUMNS, ROWS, "p.csv", caption=caption))
        reference = _sent(_components_table("partners", COLUMNS, ROWS, "p.csv", caption))
    finally:
        i18n.end_request(token)
    assert sent == reference
    assert "1.234" in json.dumps(sent) if language == "es" else "1,234" in json.dumps(sent)


def _point(key: str, label: str, period: str = "2025Q3", value: float | None = 1.0):
    return SimpleNamespace(key=key, label=label, period=period, figure=SimpleNamespace(value=value))


@pytest.mark.parametrize("initiative", ["youth", "a&b=c"])
def test_partner_history_links_send_what_their_components_would(initiative) -> None:
    points = [
        _point("west side", "Westside"),
        _point("east&co", "Eastside"),
        _point("", "No slug"),
        _point("north", "Northside", period="2025Q2"),
        _point("south", "Southside", value=None),
    ]
    s = SimpleNamespace(suppressed=False, breakdown=points, indicator="SERVED")
    sent = _sent(history.partner_history_links(s, initiative, "2025Q3"))
    shown = sorted(points[:3], key=lambda p: p.label)
    links: list = []
    for p in shown:
        if links:
            links.append(" · ")
        links.append(
            html.A(
                p.label,
                href=history.history_url(initiative, p.key, "2025Q3", indicator="SERVED"),
                className="cm-partner-history",
            )
        )
    reference = html.P(
        [
            html.Span(
                i18n.gettext("History of each partner's %(period)s value:", period="2025Q3") + " ",
                className="fw-semibold",
            ),
            *links,
        ],
        className="small mb-0",
        id="indicator-partner-history",
    )
    assert sent == _sent(reference)
    links = [c["props"] for c in sent["props"]["children"] if isinstance(c, dict)][1:]
    assert [link["children"] for link in links] == ["Eastside", "No slug", "Westside"]
    assert links[0]["href"] == history.page_url(
        "/history", initiative=initiative, org="east&co", period="2025Q3", indicator="SERVED"
    )
    assert "org=" not in links[1]["href"]


@pytest.fixture
def reporting(app):
    """The reporting page's module, as Dash registered it once its app exists."""
    [name] = [p["module"] for p in dash.page_registry.values() if p["path"] == "/reporting"]
    return sys.modules[name]


def _find(tree, ident: str) -> dict:
    """The component with id ``ident`` in JSON sent to the browser."""
    if isinstance(tree, list):
        for item in tree:
            if (found := _find(item, ident)) is not None:
                return found
    elif isinstance(tree, dict):
        if tree.get("props", {}).get("id") == ident:
            return tree
        for value in (tree.get("props") or tree).values():
            if (found := _find(value, ident)) is not None:
                return found
    return None  # type: ignore[return-value]


@pytest.mark.parametrize("language", ["en", "es"])
def test_reporting_lists_send_what_their_components_would(reporting, language) -> None:
    submissions = [
        {"organisation": "east", "name": "Eastside", "status": "draft", "late": "late",
         "missing": "SERVED, READY"},
        {"organisation": "west", "name": "Westside", "status": "not_started", "late": "",
         "missing": ""},
        {"organisation": "north", "name": "Northside", "status": "returned", "late": "",
         "missing": "READY"},
    ]  # fmt: skip
    flagged = [
        {"organisation": "east", "name": "Eastside", "indicator": "SERVED",
         "disaggregation": "total", "flags": ["outlier", "sum_mismatch"], "status": "draft"},
        {"organisation": "west", "name": "Westside", "indicator": "READY",
         "disaggregation": "gender=female", "flags": ["jump"], "status": "submitted"},
        {"organisation": "north", "name": "Northside", "indicator": "SERVED",
         "disaggregation": "total", "flags": ["outlier"], "status": "draft"},
    ]  # fmt: skip
    extension = ExtensionView(
        organisation="east",
        organisation_name="Eastside",
        period="2025Q3",
        closes_on=date(2025, 10, 15),
        until=date(2025, 10, 30),
        reason="flood",
        granted_at=datetime(2025, 10, 1, tzinfo=UTC),
        granted_by="lead@example.org",
        running=True,
    )
    view = SimpleNamespace(
        completeness=SimpleNamespace(period="2025Q3"), submissions=submissions, flagged=flagged
    )
    token = i18n.begin_request(language)
    try:
        sent = _sent(reporting._lists(view, "youth", [extension]))
        review = common.page_url("/reporting/review", initiative="youth", period="2025Q3")
        rows = [
            html.Tr(
                [
                    html.Td(s["name"]),
                    html.Td(
                        [
                            common.status_badge(s["status"]),
                            reporting.extension_badge(
                                extension if s["organisation"] == "east" else None,
                                id=f"reporting-extended-{s['organisation']}",
                            ),
                        ]
                    ),
                    html.Td(dbc.Badge(i18n.gettext("late"), color="danger") if s["late"] else ""),
                    html.Td(s["missing"] or "—", className="small"),
                ]
            )
            for s in submissions
        ]
        items = [
            html.Li(
                [
                    *[common.flag_badge(f) for f in v["flags"]],
                    html.Span(f"{v['name']} · ", className="fw-semibold"),
                    html.Code(v["indicator"]),
                    f" {v['disaggregation']} ",
                    common.status_badge(v["status"]),
                    " ",
                    html.A(i18n.gettext("review"), href=review),
                ],
                className="small mb-1",
            )
            for v in flagged
        ]
        late_rows = _sent(rows)
        flagged_items = _sent(items)
    finally:
        i18n.end_request(token)
    late = _find(sent, "reporting-late")
    assert late["props"]["children"][1]["props"]["children"] == late_rows
    assert _find(sent, "reporting-flagged")["props"]["children"] == flagged_items
    assert "reporting-extended-east" in json.dumps(late)
