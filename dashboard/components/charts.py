"""A chart as a figure with its text alternative and its data as a table (WCAG 1.1.1, 1.3.1).

The caption and the table are written in the browser from the very figure the chart draws
(assets/40-a11y.js), whenever Plotly draws it: they cannot disagree with the chart, and they
show nothing the chart does not (every figure went through the disclosure decision before it
reached the page). A page that writes its own caption passes it in.
"""

from __future__ import annotations

from dash import html
from dash.development.base_component import Component


def described_chart(
    graph: Component, *, caption: str | None = None, table: str = "details", **figure
) -> html.Figure:
    """``graph`` in a <figure>: a caption (``caption``, or one read from the chart, for screen
    readers) and the chart's data as a table, under a disclosure (``table="details"``) or for
    screen readers only (``"hidden"``, where the row around the chart shows the figures)."""
    written = caption is not None
    return html.Figure(
        [
            graph,
            html.Figcaption(
                caption or "",
                className="small text-muted" if written else "visually-hidden cm-chart-text",
            ),
            html.Div(className="cm-chart-table"),
        ],
        className=" ".join(filter(None, ["cm-chart", figure.pop("className", None)])),
        **{"data-table": table, "data-caption": "page" if written else "chart"},
        **figure,
    )
