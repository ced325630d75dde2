"""A data table with a "Download CSV" button: exactly the rows a chart shows, as a file.

The CSV is built in the browser's request from the rows the table shows (kept in a store next
to it) by the callback in ``dashboard/pages/downloads.py``; no data is fetched for it.
"""

from __future__ import annotations

import csv
import io

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.data import neutralise
from models.core.i18n import format_number, gettext

HTML = html.Td._namespace  # the namespace of Dash's html components


def _cell(value) -> str:
    """Numbers as numbers (a negative one too); text neutralised, as in every export."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() else f"{round(value, 6)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return neutralise(str(value)) or ""


def to_csv(columns: list[list[str]] | list[tuple[str, str]], rows: list[dict]) -> str:
    """CSV text with one header line (the column headers) and one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header for _key, header in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key, _header in columns])
    return out.getvalue()


def _display(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(value, max_digits=2)
    return str(value)


def html_element(kind: str, children, **props) -> dict:
    """An html element as Dash sends it to the browser (``Component.to_plotly_json``): a
    table's rows are thousands of cells, and making a component of each (its arguments
    checked, then turned into this) cost more than reading their figures."""
    return {"props": {"children": children, **props}, "type": kind, "namespace": HTML}


def scroll_region(table, name: str) -> html.Div:
    """A table in a box of its own height that scrolls: a keyboard can reach and scroll it
    (WCAG 2.1.1), and a screen reader names the region."""
    return html.Div(
        table,
        className="table-responsive cm-table-scroll",
        tabIndex="0",
        role="region",
        **{"aria-label": name},
    )


def data_table(
    name: str,
    columns: list[tuple[str, str]],
    rows: list[dict],
    filename: str,
    caption: str | None = None,
) -> html.Div:
    """A compact table of ``rows`` and its CSV download (ids keyed by ``name``)."""
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
                    html_element(
                        "Tr",
                        [
                            html_element(
                                "Td",
                                _display(r.get(k)),
                                className="text-end" if k in numeric else None,
                            )
                            for k, _ in columns
                        ],
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
            scroll_region(table, caption or ", ".join(h for _k, h in columns)),
            dbc.Button(
                gettext("Download CSV"),
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
