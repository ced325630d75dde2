"""Strategies: what the backbone team and partners do to turn a curve (README: Strategies).

Everyone who sees the initiative's figures reads here the strategies the domain lets them read
(its backbone team and funders all, a partner those its organisation owns): title, owners,
dates, the indicators aimed at, the description (Markdown rendered safely) and the actions.
The backbone team also gets the forms: pick a strategy to edit it, or "New strategy"; under it
the strategy's actions, each picked to edit or "New action". Every save goes through
``dashboard/data.py`` to ``models/strategies/strategies.py``, which checks the permission and
each field; a refusal appears under the field it names. The indicator page draws the
strategies on its trend chart.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data
from dashboard.components.common import error_alert, sync_url
from dashboard.components.field_errors import (
    choice_field,
    error_outputs,
    field,
    field_errors,
    mixed_errors,
    mixed_outputs,
)
from dashboard.components.forms import changes_table
from dashboard.components.page import enter, frame, initiative_picker, no_figures, picker, pickers
from dashboard.data import DomainError, day
from models.core.i18n import gettext

dash.register_page(
    __name__,
    path="/strategies",
    title=lambda **_: gettext("Strategies · Common Measure"),
    name="Strategies",
)


def status_labels() -> dict[str, str]:
    """An action's status in the reader's language (README, "Languages")."""
    return {
        "planned": gettext("planned"),
        "in_progress": gettext("in progress"),
        "done": gettext("done"),
        "dropped": gettext("dropped"),
    }


STATUS_COLOURS = {
    "planned": "secondary",
    "in_progress": "info",
    "done": "success",
    "dropped": "light",
}
# The domain's field names → this page's inputs (field_errors puts each message under its input).
STRATEGY_FIELDS = {
    "code": "strategies-form-code",
    "title": "strategies-form-title",
    "description": "strategies-form-description",
    "starts_on": "strategies-form-starts",
    "ends_on": "strategies-form-ends",
    "owners": "strategies-form-owners",
    "indicators": "strategies-form-indicators",
}
# The text inputs get field_errors' flag and message; the dropdowns (no ``invalid`` flag) only
# the message under them.
TEXT_FIELDS = ("code", "title", "description", "starts_on", "ends_on")
CHOICE_FIELDS = ("owners", "indicators")
ACTION_FIELDS = {
    "title": "strategies-action-title",
    "status": "strategies-action-status",
    "due_on": "strategies-action-due",
    "done_on": "strategies-action-done",
    "note": "strategies-action-note",
}


def _messages(exc: DomainError | None) -> tuple[list, html.Div | None]:
    return mixed_errors(
        exc, STRATEGY_FIELDS, TEXT_FIELDS, CHOICE_FIELDS, what=gettext("That strategy")
    )


def _strategy_form() -> html.Div:
    return html.Div(
        [
            html.H2(gettext("New strategy"), className="h6", id="strategies-form-heading"),
            dbc.Row(
                [
                    field(
                        gettext("Code"),
                        dbc.Input(
                            id="strategies-form-code", placeholder=gettext("e.g. summer-reading")
                        ),
                        hint=gettext("Lower-case letters, digits and -; it cannot change later."),
                        md=4,
                    ),
                    field(gettext("Title"), dbc.Input(id="strategies-form-title"), md=8),
                    field(
                        gettext("Description"),
                        dbc.Textarea(id="strategies-form-description", rows=4),
                        hint=gettext("Markdown; markup is shown as text."),
                        md=12,
                    ),
                    field(
                        gettext("Starts"), dbc.Input(id="strategies-form-starts", type="date"), md=6
                    ),
                    field(
                        gettext("Ends"),
                        dbc.Input(id="strategies-form-ends", type="date"),
                        hint=gettext("Blank while open-ended."),
                        md=6,
                    ),
                    choice_field(
                        gettext("Owners"),
                        dcc.Dropdown(
                            id="strategies-form-owners",
                            multi=True,
                            options=[],
                            placeholder=gettext("Choose…"),
                        ),
                        md=12,
                    ),
                    choice_field(
                        gettext("Aims at"),
                        dcc.Dropdown(
                            id="strategies-form-indicators",
                            multi=True,
                            options=[],
                            placeholder=gettext("Choose…"),
                        ),
                        md=12,
                    ),
                ],
                className="g-2 mb-2",
            ),
            html.Div(
                [
                    dbc.Button(
                        gettext("Save strategy"), id="strategies-save", color="primary", size="sm"
                    ),
                    dbc.Button(
                        gettext("New strategy"),
                        id="strategies-new",
                        color="secondary",
                        outline=True,
                        size="sm",
                    ),
                    dcc.ConfirmDialogProvider(
                        dbc.Button(
                            gettext("Delete strategy"), color="danger", outline=True, size="sm"
                        ),
                        id="strategies-delete",
                        message=gettext(
                            "Delete this strategy and its actions? The audit trail keeps "
                            "what they were."
                        ),
                    ),
                ],
                className="d-flex flex-wrap gap-2",
            ),
        ]
    )


def _action_form() -> html.Div:
    return html.Div(
        [
            html.H2(gettext("Actions"), className="h6 mt-4"),
            dbc.Row(
                picker(
                    gettext("Action"),
                    "strategies-action",
                    [],
                    None,
                    md=12,
                    placeholder=gettext("A new action (or pick one to edit)"),
                )
            ),
            dbc.Row(
                [
                    field(gettext("Action title"), dbc.Input(id="strategies-action-title"), md=8),
                    field(
                        gettext("Status"),
                        dbc.Select(
                            id="strategies-action-status",
                            options=[{"label": v, "value": k} for k, v in status_labels().items()],
                            value="planned",
                        ),
                        md=4,
                    ),
                    field(gettext("Due"), dbc.Input(id="strategies-action-due", type="date"), md=6),
                    field(
                        gettext("Done on"),
                        dbc.Input(id="strategies-action-done", type="date"),
                        hint=gettext("Blank: today, once done."),
                        md=6,
                    ),
                    field(gettext("Note"), dbc.Input(id="strategies-action-note"), md=12),
                ],
                className="g-2 my-2",
            ),
            html.Div(
                [
                    dbc.Button(gettext("Save action"), id="strategies-action-save", size="sm"),
                    dcc.ConfirmDialogProvider(
                        dbc.Button(
                            gettext("Delete action"), color="danger", outline=True, size="sm"
                        ),
                        id="strategies-action-delete",
                        message=gettext(
                            "Delete this action? Mark it dropped instead if it was planned."
                        ),
                    ),
                ],
                className="d-flex flex-wrap gap-2",
            ),
            html.H2(gettext("Changes"), className="h6 mt-4"),
            html.Div(id="strategies-changes"),
        ],
        id="strategies-actions-editor",
        hidden=True,
    )


def layout(initiative: str | None = None, code: str | None = None, **_):
    entry = enter(
        "/strategies",
        "strategies",
        data.analytics_workspaces,
        no_figures(),
        initiative=initiative,
        code=code,
    )
    if entry.instead is not None:
        return entry.instead
    return frame(
        "strategies",
        gettext("Strategies"),
        gettext(
            "What the backbone team and partners do to turn the curves, who owns it, and the "
            "actions taken. The indicator page shades each strategy on the trend it aims at."
        ),
        pickers(
            initiative_picker("strategies", entry, md=4),
            picker(
                gettext("Strategy"),
                "strategies-code",
                [],
                code,
                md=8,
                placeholder=gettext("Every strategy you may read"),
            ),
        ),
        html.Div(id="strategies-feedback"),
        dbc.Row(
            [
                dbc.Col(html.Div(id="strategies-list"), lg=7),
                dbc.Col(
                    html.Div(
                        [_strategy_form(), _action_form()],
                        id="strategies-editor",
                        hidden=True,
                    ),
                    lg=5,
                ),
            ],
            className="g-4",
        ),
        dcc.Store(id="strategies-refresh", data=0),
    )


# --- reading --------------------------------------------------------------------------------


def _runs(s) -> str:
    if s.ends_on:
        return gettext("%(start)s – %(end)s", start=day(s.starts_on), end=day(s.ends_on))
    return gettext("%(start)s – open-ended", start=day(s.starts_on))


def _when(a) -> str:
    """When an action was done, or is due."""
    if a.done_on:
        return " · " + gettext("done %(day)s", day=day(a.done_on))
    if a.due_on:
        return " · " + gettext("due %(day)s", day=day(a.due_on))
    return ""


def strategy_card(s, indicator_names: dict[str, str]) -> dbc.Card:
    """One strategy as every reader sees it; the description is the domain's safe HTML."""
    statuses = status_labels()
    actions = [
        html.Li(
            [
                dbc.Badge(statuses[a.status], color=STATUS_COLOURS[a.status], className="me-2"),
                a.title,
                html.Span(_when(a), className="small text-muted"),
                html.Div(a.note, className="small text-muted") if a.note else None,
            ],
            className="mb-1",
        )
        for a in s.actions
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3(s.title, className="h6 mb-1"),
                html.Div(
                    [
                        html.Code(s.code),
                        " · ",
                        gettext(
                            "%(runs)s · owners: %(owners)s",
                            runs=_runs(s),
                            owners=", ".join(o.name for o in s.owners) or gettext("none"),
                        ),
                    ],
                    className="small text-muted",
                ),
                html.Div(
                    gettext(
                        "Aims at: %(indicators)s",
                        indicators=", ".join(indicator_names.get(c, c) for c in s.indicators)
                        or gettext("no indicator"),
                    ),
                    className="small mb-2",
                ),
                html.Div(
                    dcc.Markdown(data.single_line(s.html), dangerously_allow_html=True),
                    className="cm-story",
                )
                if s.html
                else None,
                html.Div(
                    gettext(
                        "Actions: %(done)s of %(total)s done",
                        done=s.actions_done,
                        total=s.actions_total,
                    ),
                    className="small fw-semibold",
                ),
                html.Ul(actions, className="list-unstyled mb-0") if actions else None,
            ]
        ),
        className="mb-3",
        id=f"strategies-card-{s.code}",
    )


@callback(
    Output("strategies-list", "children"),
    Output("strategies-code", "options"),
    Output("strategies-editor", "hidden"),
    Output("strategies-form-owners", "options"),
    Output("strategies-form-indicators", "options"),
    Input("strategies-initiative", "value"),
    Input("strategies-code", "value"),
    Input("strategies-refresh", "data"),
)
def strategies_list(initiative, code, _refresh):
    """The strategies the cookie's user may read (one, when picked), and the forms for the
    backbone team."""
    if not initiative:
        return None, [], True, [], []
    try:
        found = data.strategies(initiative)
        choices = data.strategy_choices(initiative)
        names = {c: n for c, n in (choices.indicators if choices else [])}
        if not names:
            names = {c["code"]: c["name"] for c in data.indicator_choices(initiative)}
    except DomainError as exc:
        return error_alert(exc, what=gettext("That initiative")), [], True, [], []
    options = [{"label": s.title, "value": s.code} for s in found]
    shown = [s for s in found if s.code == code] if code else found
    cards = [strategy_card(s, names) for s in shown] or [
        dbc.Alert(gettext("No strategy to show yet."), color="info", id="strategies-none")
    ]
    if choices is None:
        return cards, options, True, [], []
    owners = [{"label": n, "value": v} for v, n in choices.owners]
    indicators = [{"label": n, "value": v} for v, n in choices.indicators]
    return cards, options, False, owners, indicators


# --- the backbone team's forms --------------------------------------------------------------


def _picked(initiative, code):
    return next((s for s in data.strategies(initiative) if s.code == code), None)


def _action_options_of(s) -> list[dict]:
    statuses = status_labels()
    return [
        {
            "label": gettext("%(action)s (%(status)s)", action=a.title, status=statuses[a.status]),
            "value": a.id,
        }
        for a in s.actions
    ]


def _action_options(initiative, code) -> list[dict]:
    picked = _picked(initiative, code)
    return _action_options_of(picked) if picked else []


@callback(
    Output("strategies-form-heading", "children"),
    Output("strategies-form-code", "value"),
    Output("strategies-form-code", "disabled"),
    Output("strategies-form-title", "value"),
    Output("strategies-form-description", "value"),
    Output("strategies-form-starts", "value"),
    Output("strategies-form-ends", "value"),
    Output("strategies-form-owners", "value"),
    Output("strategies-form-indicators", "value"),
    Output("strategies-actions-editor", "hidden"),
    Output("strategies-action", "options"),
    Output("strategies-action", "value"),
    Input("strategies-code", "value"),
    State("strategies-initiative", "value"),
)
def strategies_form(code, initiative):
    """The form holds the strategy picked above, or nothing for a new one; no action of
    another strategy stays picked."""
    empty = (gettext("New strategy"), None, False, None, None, None, None, [], [], True, [], None)
    if not (initiative and code):
        return empty
    try:
        s = _picked(initiative, code)
    except DomainError:
        return empty
    if s is None:
        return empty
    actions = _action_options_of(s)
    return (
        gettext("Strategy %(code)s", code=s.code),
        s.code,
        True,
        s.title,
        s.description,
        s.starts_on.isoformat(),
        s.ends_on.isoformat() if s.ends_on else None,
        [o.organisation for o in s.owners],
        list(s.indicators),
        False,
        actions,
        None,
    )


@callback(
    Output("strategies-code", "value", allow_duplicate=True),
    Input("strategies-new", "n_clicks"),
    prevent_initial_call=True,
)
def strategies_new(clicks):
    """No strategy picked: the form empties for a new one."""
    if not clicks:
        raise PreventUpdate
    return ""


def _done(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="py-2")


@callback(
    *mixed_outputs(STRATEGY_FIELDS, TEXT_FIELDS, CHOICE_FIELDS),
    Output("strategies-feedback", "children", allow_duplicate=True),
    Output("strategies-refresh", "data", allow_duplicate=True),
    Output("strategies-code", "value", allow_duplicate=True),
    Input("strategies-save", "n_clicks"),
    State("strategies-initiative", "value"),
    State("strategies-code", "value"),
    State("strategies-form-code", "value"),
    State("strategies-form-title", "value"),
    State("strategies-form-description", "value"),
    State("strategies-form-starts", "value"),
    State("strategies-form-ends", "value"),
    State("strategies-form-owners", "value"),
    State("strategies-form-indicators", "value"),
    State("strategies-refresh", "data"),
    prevent_initial_call=True,
)
def strategies_save(
    clicks, initiative, editing, code, title, description, starts, ends, owners, aims, refresh
):
    """Create (nothing picked) or change the picked strategy; a refusal names its field."""
    if not clicks or not initiative:
        raise PreventUpdate
    fields = {
        "title": title,
        "description": description or "",
        "starts_on": starts,
        "ends_on": ends,
        "owners": list(owners or []),
        "indicators": list(aims or []),
    }
    if not editing:
        fields["code"] = (code or "").strip()
    try:
        saved = data.save_strategy(initiative, editing or None, fields)
    except DomainError as exc:
        errors, alert = _messages(exc)
        return *errors, alert, dash.no_update, dash.no_update
    errors, _ = _messages(None)
    done = _done(gettext("Saved %(title)s.", title=saved.title))
    return *errors, done, (refresh or 0) + 1, saved.code


@callback(
    Output("strategies-feedback", "children", allow_duplicate=True),
    Output("strategies-refresh", "data", allow_duplicate=True),
    Output("strategies-code", "value", allow_duplicate=True),
    Input("strategies-delete", "submit_n_clicks"),
    State("strategies-initiative", "value"),
    State("strategies-code", "value"),
    State("strategies-refresh", "data"),
    prevent_initial_call=True,
)
def strategies_delete(confirmed, initiative, code, refresh):
    if not confirmed or not initiative or not code:
        raise PreventUpdate
    try:
        data.delete_strategy(initiative, code)
    except DomainError as exc:
        return error_alert(exc, what=gettext("That strategy")), dash.no_update, dash.no_update
    return _done(gettext("Deleted strategy %(code)s.", code=code)), (refresh or 0) + 1, None


@callback(
    Output("strategies-action-title", "value"),
    Output("strategies-action-status", "value"),
    Output("strategies-action-due", "value"),
    Output("strategies-action-done", "value"),
    Output("strategies-action-note", "value"),
    Input("strategies-action", "value"),
    Input("strategies-code", "value"),
    State("strategies-initiative", "value"),
)
def strategies_action_form(action_id, code, initiative):
    """The action form holds the action picked, or nothing for a new one."""
    empty = (None, "planned", None, None, None)
    if ctx.triggered_id == "strategies-code" or not (initiative and code and action_id):
        return empty
    try:
        s = _picked(initiative, code)
    except DomainError:
        return empty
    a = next((a for a in (s.actions if s else []) if a.id == action_id), None)
    if a is None:
        return empty
    return (
        a.title,
        a.status,
        a.due_on.isoformat() if a.due_on else None,
        a.done_on.isoformat() if a.done_on else None,
        a.note,
    )


@callback(
    *error_outputs(*ACTION_FIELDS.values()),
    Output("strategies-feedback", "children", allow_duplicate=True),
    Output("strategies-refresh", "data", allow_duplicate=True),
    Output("strategies-action", "value", allow_duplicate=True),
    Output("strategies-action", "options", allow_duplicate=True),
    Input("strategies-action-save", "n_clicks"),
    State("strategies-initiative", "value"),
    State("strategies-code", "value"),
    State("strategies-action", "value"),
    State("strategies-action-title", "value"),
    State("strategies-action-status", "value"),
    State("strategies-action-due", "value"),
    State("strategies-action-done", "value"),
    State("strategies-action-note", "value"),
    State("strategies-refresh", "data"),
    prevent_initial_call=True,
)
def strategies_action_save(
    clicks, initiative, code, action_id, title, status, due, done, note, refresh
):
    """Add an action to the picked strategy (none picked) or change the picked action."""
    if not clicks or not initiative or not code:
        raise PreventUpdate
    fields = {
        "title": title,
        "status": status or "planned",
        "due_on": due,
        "done_on": done,
        "note": note or "",
    }
    try:
        saved = data.save_action(initiative, code, action_id or None, fields)
    except DomainError as exc:
        errors, alert = field_errors(exc, ACTION_FIELDS, what=gettext("That action"))
        return *errors, alert, dash.no_update, dash.no_update, dash.no_update
    errors, _ = field_errors(None, ACTION_FIELDS)
    done = _done(gettext("Saved action %(title)s.", title=saved.title))
    return *errors, done, (refresh or 0) + 1, saved.id, _action_options(initiative, code)


@callback(
    Output("strategies-feedback", "children", allow_duplicate=True),
    Output("strategies-refresh", "data", allow_duplicate=True),
    Output("strategies-action", "value", allow_duplicate=True),
    Output("strategies-action", "options", allow_duplicate=True),
    Input("strategies-action-delete", "submit_n_clicks"),
    State("strategies-initiative", "value"),
    State("strategies-code", "value"),
    State("strategies-action", "value"),
    State("strategies-refresh", "data"),
    prevent_initial_call=True,
)
def strategies_action_delete(confirmed, initiative, code, action_id, refresh):
    if not confirmed or not (initiative and code and action_id):
        raise PreventUpdate
    try:
        data.delete_action(initiative, code, int(action_id))
    except (DomainError, TypeError, ValueError) as exc:
        refused = error_alert(exc, what=gettext("That action"))
        return refused, dash.no_update, dash.no_update, dash.no_update
    done = _done(gettext("Deleted the action."))
    return done, (refresh or 0) + 1, None, _action_options(initiative, code)


@callback(
    Output("strategies-changes", "children"),
    Input("strategies-code", "value"),
    Input("strategies-refresh", "data"),
    State("strategies-initiative", "value"),
)
def strategies_changes(code, _refresh, initiative):
    """The picked strategy's audit trail, its actions' changes with it (backbone only: the
    domain refuses anyone else)."""
    if not (initiative and code):
        return None
    try:
        events = data.setup_changes(initiative, (), "strategy", code)
    except DomainError as exc:
        return error_alert(exc)
    return changes_table(events)


sync_url("strategies", "initiative", "code")
