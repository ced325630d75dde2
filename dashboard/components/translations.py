"""The Setup page's Translations tab: each name, definition and story the backbone team wrote,
its English, its Spanish (editable) and a "needs review" badge when the English changed since it
was translated (README, "Languages"). The rules are in models/initiatives/translations.py; an
empty text deletes the translation, so the English shows again.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import data
from dashboard.components.common import error_alert
from dashboard.data import DomainError
from models.core.i18n import LANGUAGE_NAMES, gettext, lazy_gettext

TAB_ID = "translations"
LOCALE = "es"  # the one language texts are translated into today (models.core.i18n.LOCALES)
ENTITY_LABELS = {
    "initiative": lazy_gettext("Initiative"),
    "outcome": lazy_gettext("Outcome"),
    "indicator": lazy_gettext("Indicator"),
    "dimension": lazy_gettext("Dimension"),
    "category": lazy_gettext("Category"),
    "story": lazy_gettext("Story"),
}
FIELD_LABELS = {
    "name": lazy_gettext("name"),
    "description": lazy_gettext("description"),
    "definition": lazy_gettext("definition"),
    "unit": lazy_gettext("unit"),
    "text": lazy_gettext("text"),
}


def _columns() -> list[dict]:
    language = LANGUAGE_NAMES[LOCALE]
    return [
        {"field": "what", "headerName": gettext("What"), "width": 220},
        {"field": "english", "headerName": gettext("English text"), "flex": 2, "wrapText": True},
        {"field": "text", "headerName": language, "flex": 2, "wrapText": True},
        {
            "field": "status",
            "headerName": gettext("Status"),
            "width": 150,
            "cellRenderer": "CheckBadges",
        },
    ]


def tab() -> dbc.Tab:
    """The tab, for the Setup page's tabs."""
    return dbc.Tab(
        html.Div(
            [
                html.P(
                    gettext(
                        "Names, definitions and stories in Spanish. Where there is none, "
                        "readers in Spanish see the English. A translation marked “needs "
                        "review” still shows, but the English changed after it was written."
                    ),
                    className="small text-muted mt-3",
                ),
                html.Div(id="setup-translation-count", className="small mb-1"),
                dag.AgGrid(
                    id="setup-translation-grid",
                    rowData=[],
                    columnDefs=_columns(),
                    getRowId="params.data.key",
                    defaultColDef={"resizable": True, "autoHeight": True},
                    dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False}},
                    style={"height": "420px"},
                    className="ag-theme-alpine cm-grid mb-3",
                ),
                dbc.Label(id="setup-translation-english-label", html_for="setup-translation-text"),
                html.Blockquote(
                    id="setup-translation-english", className="small border-start ps-2"
                ),
                dbc.Textarea(
                    id="setup-translation-text",
                    rows=3,
                    disabled=True,
                    placeholder=gettext("Choose a row above to translate it."),
                ),
                dbc.Button(
                    gettext("Save translation"),
                    id="setup-translation-save",
                    color="primary",
                    className="mt-2",
                    disabled=True,
                ),
                html.Div(id="setup-translation-feedback", className="mt-2"),
                dcc.Store(id="setup-translation-selected"),
                dcc.Store(id="setup-translation-refresh", data=0),
            ]
        ),
        label=gettext("Translations"),
        tab_id=TAB_ID,
        id=f"setup-tab-{TAB_ID}",
    )


def _status(row: dict) -> list[dict]:
    if row["text"] is None:
        return [{"kind": "error", "label": gettext("not translated"), "message": ""}]
    if row["needs_review"]:
        return [
            {
                "kind": "warning",
                "label": gettext("needs review"),
                "message": gettext("The English changed after this was translated."),
            }
        ]
    return []


def rows(initiative: str) -> list[dict]:
    """The grid's rows: every field with English, in Spanish."""
    out = []
    for t in data.setup_translations(initiative):
        if t["locale"] != LOCALE:
            continue
        key = "|".join((t["entity_type"], t["entity"], t["field"]))
        what = f"{ENTITY_LABELS[t['entity_type']]} {t['entity']} · {FIELD_LABELS[t['field']]}"
        out.append({**t, "key": key, "what": what, "status": _status(t)})
    return out


def register() -> None:
    """Register the tab's callbacks: called by the page module, which Dash runs once for each
    app it makes (dashboard.app binds the callbacks registered then to that app)."""

    @callback(
        Output("setup-translation-grid", "rowData"),
        Output("setup-translation-count", "children"),
        Input("setup-initiative", "value"),
        Input("setup-translation-refresh", "data"),
    )
    def list_rows(initiative, _refresh):
        if not initiative or not isinstance(initiative, str):
            return [], None
        try:
            found = rows(initiative)
        except DomainError as exc:
            return [], error_alert(exc, what=gettext("That initiative"))
        review = sum(1 for r in found if r["needs_review"])
        missing = sum(1 for r in found if r["text"] is None)
        return found, gettext(
            "%(count)s texts: %(missing)s not translated, %(review)s to review",
            count=len(found),
            missing=missing,
            review=review,
        )

    @callback(
        Output("setup-translation-selected", "data"),
        Output("setup-translation-english-label", "children"),
        Output("setup-translation-english", "children"),
        Output("setup-translation-text", "value"),
        Output("setup-translation-text", "disabled"),
        Output("setup-translation-save", "disabled"),
        Input("setup-translation-grid", "selectedRows"),
    )
    def choose(selected):
        if not selected:
            return None, None, None, "", True, True
        row = selected[0]
        chosen = {k: row[k] for k in ("entity_type", "entity", "field")}
        return chosen, row["what"], row["english"], row["text"] or "", False, False

    @callback(
        Output("setup-translation-feedback", "children"),
        Output("setup-translation-refresh", "data"),
        Input("setup-translation-save", "n_clicks"),
        State("setup-initiative", "value"),
        State("setup-translation-selected", "data"),
        State("setup-translation-text", "value"),
        State("setup-translation-refresh", "data"),
        prevent_initial_call=True,
    )
    def save(_clicks, initiative, chosen, text, refresh):
        crafted = not isinstance(initiative, str) or not isinstance(chosen, dict)
        if not (ctx.triggered_id and initiative) or crafted:
            return no_update, no_update
        where = [str(chosen.get(k) or "") for k in ("entity_type", "entity", "field")]
        try:
            saved = data.save_translation(initiative, LOCALE, *where, text=text)
        except DomainError as exc:
            return error_alert(exc), no_update
        message = (
            gettext("Saved. Readers in Spanish see this translation.")
            if saved["text"] is not None
            else gettext("Translation deleted: readers in Spanish see the English.")
        )
        alert = dbc.Alert(
            message, color="success", dismissable=True, className="py-2 cm-setup-done"
        )
        return alert, (refresh if isinstance(refresh, int) else 0) + 1
