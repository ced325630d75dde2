"""The "Download CSV" callback every data table uses (dashboard.components.tables).

Not a page (it does not call dash.register_page; Dash imports page-folder modules that mention
that name, so the callback is registered for each app as the pages' own callbacks are). It only
turns the rows the table already shows into a file; it reads no data.
"""

from __future__ import annotations

from dash import MATCH, Input, Output, State, callback, dcc, no_update

from dashboard.components.tables import to_csv


@callback(
    Output({"type": "cm-csv-file", "name": MATCH}, "data"),
    Input({"type": "cm-csv", "name": MATCH}, "n_clicks"),
    State({"type": "cm-csv-data", "name": MATCH}, "data"),
    prevent_initial_call=True,
)
def download_csv(n_clicks, payload):
    if not n_clicks or not isinstance(payload, dict):
        return no_update
    columns = [tuple(c) for c in payload.get("columns") or [] if len(c) == 2]
    rows = [r for r in payload.get("rows") or [] if isinstance(r, dict)]
    name = str(payload.get("filename") or "table.csv")
    name = "".join(ch for ch in name if ch.isalnum() or ch in "-_.") or "table.csv"
    return dcc.send_string(to_csv(columns, rows), name)
