"""Review queue: the backbone team approves submitted reports or returns them with a comment.

The page fits a screen: the reports waiting (every period unless one is picked, the longest
waiting first) on the left, the chosen report's values grouped by indicator on the right, with
their flags and what changed since the report was last submitted, and an action bar that stays
at the bottom of the window with its messages beside the buttons. ``j``/``k`` (or the Next and
Previous buttons, whose access keys are ``n`` and ``p``) move through the queue; a decision
opens the next report.

A report whose partner may no longer write (its period closed, no deadline extension running)
cannot simply be returned: the partner would read the comment and could change nothing. Its
Return step extends that partner's deadline to a day picked beside the button, in the same
transaction (``data.return_with_extension``), instead of reopening the period for everyone.

Only backbone staff (and admins) get data here: the data seam asks the domain for the
initiative with ``manage=True``, so a reporter's or funder's request, or a forged callback, is
refused before any submission is read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html

from dashboard import data
from dashboard.components.common import (
    FLAG_LABELS,
    error_alert,
    grid_number_format,
    late_title,
    missing_and_warnings,
    status_badge,
    sync_url,
)
from dashboard.components.entry_grid import sentence
from dashboard.components.history import figure_text, history_table, history_url
from dashboard.components.page import enter_period, follow_initiative, frame, period_pickers
from dashboard.components.periods import choose_period
from dashboard.components.tables import html_element
from dashboard.data import DomainError
from models.core.i18n import gettext, lazy_gettext, ngettext

dash.register_page(
    __name__,
    path="/reporting/review",
    title=lambda **_: gettext("Review queue · Common Measure"),
    name="Review queue",
)

NOT_ALLOWED = lazy_gettext(
    "The review queue is for the initiative's backbone team. "
    "Your account is not allowed to review submissions."
)
NOTHING_CHOSEN = lazy_gettext("Select a report in the queue to review it.")
# The decisions the action bar offers: button id → the workflow action it takes. Every
# decision goes through review_decide below, the one place a report is approved or returned.
DECISIONS = {"review-approve": "approve", "review-return": "return"}
RETURN = lazy_gettext("Return with comment")
RETURN_EXTENDED = lazy_gettext("Return with an extension")
EXTENSION_DAYS = 7  # the extension's default length, counted from today
KINDS = ("changed", "added", "removed")  # of a value since the last version, as summed up


def value_columns() -> list[dict]:
    """The report grid's columns, headed in the reader's language."""
    return [
        {
            "field": "label",
            "headerName": gettext("Indicator / category"),
            "flex": 3,
            "minWidth": 190,
            "wrapText": True,
            "autoHeight": True,
            "cellClassRules": {"cm-category-cell": "params.data.disaggregation != 'total'"},
        },
        *[
            {
                "field": f,
                "headerName": h,
                "width": w,
                "type": "rightAligned",
                "valueFormatter": grid_number_format(),
                "useValueFormatterForExport": False,  # a CSV download carries plain numbers
            }
            for f, h, w in (
                ("value", gettext("Value"), 84),
                ("numerator", gettext("Numerator"), 100),
                ("denominator", gettext("Denominator"), 118),
            )
        ],
        {
            "field": "change",
            "headerName": gettext("Change"),
            "headerTooltip": gettext("What changed since the report was last submitted"),
            "flex": 2,
            "minWidth": 120,
            "wrapText": True,
            "autoHeight": True,
            "cellClassRules": {"cm-change-cell": "params.value"},
        },
        {
            "field": "history",
            "headerName": "",
            "width": 86,
            "cellRenderer": "HistoryLink",
            "cellRendererParams": {
                "label": gettext("History"),
                "title": gettext("Who changed this value, when, from what, and why"),
            },
            "sortable": False,
            "resizable": False,
        },
        {
            "field": "checks",
            "headerName": gettext("Flags"),
            "flex": 1,
            "minWidth": 110,
            "cellDataType": False,
            "cellRenderer": "CheckBadges",
            "autoHeight": True,
            "wrapText": True,
            "sortable": False,
        },
        {
            "field": "note",
            "headerName": gettext("Note"),
            "flex": 1,
            "minWidth": 90,
            "wrapText": True,
            "autoHeight": True,
        },
    ]


def layout(initiative: str | None = None, period: str | None = None, **_):
    entry = enter_period(
        "/reporting/review", "review", str(NOT_ALLOWED), initiative, period, _periods
    )
    if entry.instead is not None:
        return entry.instead
    return frame(
        "review",
        gettext("Review queue"),
        gettext(
            "Submitted reports waiting for the backbone team, the longest waiting first. Check "
            "each report's values, flags and what changed since it was last submitted, then "
            "approve it or return it to the partner with a comment."
        ),
        period_pickers("review", entry, placeholder=gettext("All periods")),
        dbc.Row(
            [
                dbc.Col(
                    [
                        # The queue's name for a screen reader (assets/40-a11y.js ties it).
                        html.Label(
                            gettext("Reports to review"),
                            htmlFor="review-queue",
                            className="visually-hidden",
                        ),
                        html.Div(
                            id="review-queue-count",
                            className="small text-muted mb-1",
                            role="status",  # said when the period changes the queue (4.1.3)
                        ),
                        dcc.RadioItems(
                            id="review-queue",
                            options=[],
                            value=None,
                            className="cm-queue",
                            labelClassName="cm-queue-item",
                            inputClassName="visually-hidden",
                        ),
                    ],
                    lg=3,
                    md=4,
                    className="mb-3",
                ),
                dbc.Col(
                    html.Div(
                        html.P(str(NOTHING_CHOSEN), className="text-muted small"),
                        id="review-detail",
                    ),
                    lg=9,
                    md=8,
                ),
            ],
            className="g-3",
        ),
        _action_bar(),
        dbc.Modal(
            [
                dbc.ModalHeader(dbc.ModalTitle(gettext("Value history"))),
                dbc.ModalBody(id="review-history-body"),
                dbc.ModalFooter(
                    dbc.Button(
                        gettext("Open as a page"),
                        id="review-history-page",
                        color="secondary",
                        outline=True,
                        size="sm",
                    )
                ),
            ],
            id="review-history",
            size="xl",
            scrollable=True,
            is_open=False,
        ),
        dcc.Store(id="review-selected"),
        dcc.Store(id="review-refresh", data=0),
        dcc.Store(id="review-keys", data=0),
    )


def _periods(initiative: str, wanted: str | None) -> tuple[list[dict], str | None]:
    """The period picker: every period, none chosen (all) unless the address names one."""
    options, chosen = choose_period(initiative, wanted)
    return options, chosen if wanted and chosen == wanted else None


def _action_bar() -> html.Div:
    """Always in view at the bottom of the window, with its messages beside the buttons."""
    return html.Div(
        [
            html.Div(
                [
                    html.Button(
                        gettext("‹ Previous"),
                        id="review-prev",
                        className="btn btn-outline-primary btn-sm",
                        disabled=True,
                        accessKey="p",
                        title=gettext("Previous report (k, or the access key p)"),
                    ),
                    html.Button(
                        gettext("Next ›"),
                        id="review-next",
                        className="btn btn-outline-primary btn-sm",
                        disabled=True,
                        accessKey="n",
                        title=gettext("Next report (j, or the access key n)"),
                    ),
                ],
                className="btn-group",
                role="group",
                **{"aria-label": gettext("Move through the queue")},
            ),
            html.Span(id="review-position", className="small text-muted text-nowrap"),
            dbc.Label(
                gettext("Comment to the partner (needed to return)"),
                html_for="review-comment",
                className="visually-hidden",
            ),
            dbc.Textarea(
                id="review-comment",
                rows=1,
                placeholder=gettext("Comment to the partner (needed to return)"),
                className="cm-review-comment",
            ),
            dbc.Button(gettext("Approve"), id="review-approve", color="success", disabled=True),
            _extension_field(),
            dbc.Button(str(RETURN), id="review-return", color="warning", disabled=True),
            html.Div(id="review-feedback", className="cm-action-feedback", role="status"),
        ],
        className="cm-action-bar",
        id="review-actions",
    )


def _extension_field() -> html.Div:
    """The day the partner's deadline is extended to when returning needs it (hidden
    otherwise), with its error beside it."""
    return html.Div(
        [
            dbc.Label(
                gettext("Extend the deadline until"), html_for="review-until", className="mb-0"
            ),
            dcc.DatePickerSingle(
                id="review-until",
                display_format="YYYY-MM-DD",
                placeholder="YYYY-MM-DD",
                first_day_of_week=1,
                clearable=False,
            ),
            html.Div(id="review-until-error", className="cm-review-until-error"),
        ],
        id="review-extension",
        className="cm-review-extension",
        hidden=True,
    )


def default_until(today: date | None = None) -> str:
    """The extension's day the field offers: a week from today."""
    return ((today or data.today()) + timedelta(days=EXTENSION_DAYS)).isoformat()


# --- pieces ---------------------------------------------------------------------------------


def queue_key(item: data.QueueItem) -> str:
    return f"{item.organisation}|{item.period}"


def queue_options(items: list[data.QueueItem]) -> list[dict]:
    """One entry per report waiting: organisation, period, when it came in, late or not.
    Each label is sent as the elements it is (``html_element``), the late badge made once: a
    season's queue is hundreds of reports, and making components of each cost more than
    reading them."""
    late = dbc.Badge(gettext("late"), color="danger", className="ms-1").to_plotly_json()
    return [
        {
            "label": html_element(
                "Span",
                [
                    html_element("Span", item.organisation_name, className="fw-semibold d-block"),
                    html_element(
                        "Span",
                        [
                            item.period,
                            " · " + gettext("submitted %(when)s", when=item.submitted_at)
                            if item.submitted_at
                            else "",
                            late if item.is_late else None,
                        ],
                        className="small text-muted",
                    ),
                ],
            ),
            "value": queue_key(item),
        }
        for item in items
    ]


def _keys(options) -> list[str]:
    return [o.get("value") for o in options or [] if isinstance(o, dict)]


def next_choice(old: list[str], new: list[str], current: str | None) -> str | None:
    """Which report to show once the queue is read again: the same one while it waits,
    else the one that followed it (the decided report has left), else the first."""
    if current in new:
        return current
    if current in old:
        after = [k for k in old[old.index(current) + 1 :] if k in new]
        if after:
            return after[0]
        before = [k for k in old[: old.index(current)] if k in new]
        if before:
            return before[-1]
    return new[0] if new else None


def change_text(change: data.CellChange | None) -> str:
    if change is None:
        return ""
    if change.kind == "added":
        return gettext("new")
    if change.kind == "removed":
        return gettext("removed (was %(before)s)", before=figure_text(change.before))
    return gettext("was %(before)s", before=figure_text(change.before))


def value_rows(detail: data.ReviewDetail) -> list[dict]:
    """The report's values grouped by indicator (the initiative's order), the total first and
    then each category by its label; values removed since the last version stay listed."""
    sub = detail.submission
    messages: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for w in sub.warnings:
        messages[(w.indicator, w.disaggregation)][w.code] = w.message
    changes = {(c.indicator, c.disaggregation): c for c in detail.changes.changes}
    held = {(v.indicator, v.disaggregation): v for v in sub.values}
    removed = [cell for cell, c in changes.items() if c.kind == "removed"]
    indicators = list(detail.indicator_names)
    categories = list(detail.labels)

    def order(cell: tuple[str, str]) -> tuple:
        code, key = cell
        return (
            indicators.index(code) if code in indicators else len(indicators),
            code,
            key != "total",
            categories.index(key) if key in categories else len(categories),
            key,
        )

    cells = sorted({*held, *removed}, key=order)
    with_total = {code for code, key in cells if key == "total"}
    rows = []
    for code, key in cells:
        v = held.get((code, key))
        change = changes.get((code, key))
        name = f"{detail.indicator_names.get(code, code)} ({code})"
        category = detail.labels.get(key, key)
        found = messages[(code, key)]
        flags = sorted(set(v.flags if v is not None else ()) | set(found))
        rows.append(
            {
                "id": f"{code}|{key}",
                "indicator": code,
                "disaggregation": key,
                # A category under its total reads as its label; without one, it names both.
                "label": name
                if key == "total"
                else category
                if code in with_total
                else f"{name} · {category}",
                "value": v.value if v is not None else None,
                "numerator": v.numerator if v is not None else None,
                "denominator": v.denominator if v is not None else None,
                "note": (v.note or "") if v is not None else "",
                "change": change_text(change),
                "checks": [
                    {"kind": "warning", "label": FLAG_LABELS.get(f, f), "message": found.get(f, f)}
                    for f in flags
                ],
                "history": v.id if v is not None else change.value_id if change else None,
            }
        )
    return rows


def changes_summary(changes: data.VersionChanges) -> html.Div:
    """What the reviewer should know about the report's last round: who sent it back and why,
    and how much changed since."""
    if changes.previous_at is None:
        return html.Div(
            gettext("No earlier submitted version of this report is recorded: nothing to compare."),
            className="small text-muted mb-2",
            id="review-changes",
        )
    parts: list = []
    back = changes.sent_back
    if back is not None:
        who = {"when": data.day(back.at), "who": back.actor_label.removeprefix("user:")}
        parts.append(
            html.Span(
                [
                    gettext("Returned %(when)s by %(who)s", **who)
                    if back.action == "return"
                    else gettext("Reopened %(when)s by %(who)s", **who),
                    ": " if back.comment else "",
                    html.Q(back.comment) if back.comment else None,
                    # A comment is quoted as written: after its own full stop, none of ours.
                    " "
                    if back.comment and back.comment.rstrip().endswith((".", "!", "?"))
                    else ". ",
                ]
            )
        )
    counts = {kind: sum(c.kind == kind for c in changes.changes) for kind in KINDS}
    said = {
        "changed": lambda n: ngettext("%(n)s changed", "%(n)s changed", n),
        "added": lambda n: ngettext("%(n)s added", "%(n)s added", n),
        "removed": lambda n: ngettext("%(n)s removed", "%(n)s removed", n),
    }
    what = ", ".join(said[kind](n) for kind, n in counts.items() if n) or gettext("nothing changed")
    when = data.day(changes.previous_at)
    parts.append(
        gettext(
            "Since version %(version)s submitted %(when)s: %(what)s.",
            version=changes.previous_version,
            when=when,
            what=what,
        )
        if changes.previous_version
        else gettext("Since submitted %(when)s: %(what)s.", when=when, what=what)
    )
    return html.Div(parts, className="small mb-2 cm-changes", id="review-changes")


def _detail(detail: data.ReviewDetail) -> html.Div:
    sub = detail.submission
    rows = value_rows(detail)
    flagged = sum(1 for row in rows if row["checks"])
    header = html.Div(
        [
            html.H2(f"{detail.organisation_name} · {sub.period}", className="h5 mb-0 me-2"),
            status_badge(sub.status, id="review-detail-status"),
            html.Span(
                gettext("version %(version)s", version=sub.version), className="small text-muted"
            ),
            dbc.Badge(gettext("late"), color="danger", title=late_title()) if sub.is_late else None,
            html.Span(
                ngettext(
                    "%(n)s value, %(flagged)s flagged",
                    "%(n)s values, %(flagged)s flagged",
                    len(sub.values),
                    flagged=flagged,
                ),
                className="small text-muted",
            ),
            html.Span(_submitted(sub), className="small text-muted") if sub.submitted_at else None,
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-1",
    )
    parts: list = [
        header,
        changes_summary(detail.changes),
        *missing_and_warnings(sub, missing_label=gettext("Not reported: ")),
    ]
    if detail.needs_extension:
        parts.append(extension_offer(detail))
    elif sub.status == "submitted" and detail.send_back:
        parts.append(
            dbc.Alert(
                [html.Strong(gettext("It cannot be returned now. ")), sentence(detail.send_back)],
                color="warning",
                className="small py-2",
                id="review-cannot-return",
            )
        )
    elif detail.deadline is not None and detail.deadline.extended_until is not None:
        parts.append(
            html.P(
                gettext(
                    "The partner's deadline is extended to %(day)s.",
                    day=data.day(detail.deadline.extended_until),
                ),
                className="small text-muted mb-2",
                id="review-extended",
            )
        )
    parts.append(
        dag.AgGrid(
            id="review-values",
            rowData=rows,
            columnDefs=value_columns(),
            defaultColDef={"resizable": True, "sortable": False},
            getRowId="params.data.id",
            rowClassRules={
                "cm-total-row": "params.data.disaggregation == 'total'",
                "cm-changed-row": "params.data.change",
            },
            dashGridOptions={
                "suppressRowVirtualisation": True,
                "suppressCellFocus": True,
                # Tab leaves the header (its cells cannot take the focus, so the grid's own Tab
                # would circle the header for ever: a keyboard trap, WCAG 2.1.2).
                "tabToNextHeader": {"function": "false"},
                "tabToNextCell": {"function": "false"},
            },
            csvExportParams={"fileName": f"{sub.initiative}-{sub.organisation}-{sub.period}.csv"},
            className="ag-theme-alpine cm-grid cm-review-grid",
            # The grid scrolls within the window, so the report and its actions fit a screen.
            style={"height": "calc(100vh - 22rem)", "minHeight": "18rem"},
        )
    )
    return html.Div(
        parts, id="review-detail-body", **{"data-report": f"{sub.organisation}|{sub.period}"}
    )


def extension_offer(detail: data.ReviewDetail) -> dbc.Alert:
    """Why a plain return is refused, and the return with an extension offered instead."""
    deadline = detail.deadline
    assert deadline is not None  # needs_extension read it
    ended = deadline.extended_until
    return dbc.Alert(
        [
            html.Strong(gettext("A plain return is refused: ")),
            sentence(detail.send_back or deadline.partner_refusal),
            " " + gettext("Its deadline extension ended on %(day)s.", day=data.day(ended))
            if ended
            else "",
            html.Br(),
            gettext(
                "%(action)s instead: the partner may then correct the report until the day you "
                "pick beside the button (a week from today unless you change it), and your "
                "comment is kept as the extension's reason. The period stays closed for "
                "everyone else.",
                action=RETURN_EXTENDED,
            ),
        ],
        color="warning",
        className="small py-2",
        id="review-cannot-return",
    )


def _submitted(sub) -> str:
    """When the report was submitted; the first time too when it came back since (its
    lateness is the first submission's)."""
    when = data.moment(sub.submitted_at)
    first = sub.first_submitted_at
    if first is not None and data.moment(first) != when:
        return gettext("submitted %(when)s, first on %(first)s", when=when, first=data.day(first))
    return gettext("submitted %(when)s", when=when)


# --- callbacks ------------------------------------------------------------------------------


follow_initiative("review", _periods)


@callback(
    Output("review-queue", "options"),
    Output("review-queue", "value"),
    Output("review-queue-count", "children"),
    Output("review-feedback", "children", allow_duplicate=True),
    Input("review-initiative", "value"),
    Input("review-period", "value"),
    Input("review-refresh", "data"),
    State("review-queue", "options"),
    State("review-queue", "value"),
    prevent_initial_call="initial_duplicate",
)
def review_queue(initiative, period, _refresh, shown, current):
    """The reports waiting for review (backbone staff only), and the one to show: the same
    while it waits, else the next."""
    if not initiative:
        return [], None, None, None
    try:
        items = data.review_queue(initiative, period)
    except DomainError as exc:
        return [], None, None, error_alert(exc, what=gettext("That initiative"))
    options = queue_options(items)
    keys = _keys(options)
    count = (
        ngettext(
            "%(n)s report waiting in %(period)s, oldest first",
            "%(n)s reports waiting in %(period)s, oldest first",
            len(items),
            period=period,
        )
        if period
        else ngettext(
            "%(n)s report waiting, oldest first", "%(n)s reports waiting, oldest first", len(items)
        )
    )
    return options, next_choice(_keys(shown), keys, current), count, dash.no_update


@callback(
    Output("review-queue", "value", allow_duplicate=True),
    Input("review-prev", "n_clicks"),
    Input("review-next", "n_clicks"),
    State("review-queue", "options"),
    State("review-queue", "value"),
    prevent_initial_call=True,
)
def review_move(_prev, _next, options, current):
    """The previous or next report in the queue (buttons, access keys, j and k)."""
    keys = _keys(options)
    if not keys or ctx.triggered_id not in ("review-prev", "review-next"):
        return dash.no_update
    step = 1 if ctx.triggered_id == "review-next" else -1
    at = keys.index(current) if current in keys else -step
    return keys[max(0, min(len(keys) - 1, at + step))]


@callback(
    Output("review-detail", "children"),
    Output("review-selected", "data"),
    Output("review-approve", "disabled"),
    Output("review-return", "disabled"),
    Output("review-prev", "disabled"),
    Output("review-next", "disabled"),
    Output("review-position", "children"),
    Output("review-extension", "hidden"),
    Output("review-return", "children"),
    Output("review-until", "date"),
    Output("review-until-error", "children", allow_duplicate=True),
    Input("review-queue", "value"),
    Input("review-queue", "options"),
    State("review-initiative", "value"),
    prevent_initial_call="initial_duplicate",
)
def review_selection(chosen, options, initiative):
    """The chosen report, and the action bar it allows: a report its partner may no longer
    write is returned with an extension, whose day the bar then asks for."""
    keys = _keys(options)
    at = keys.index(chosen) if chosen in keys else None
    moves = (
        at is None or at == 0,
        at is None or at >= len(keys) - 1,
        gettext("%(at)s of %(n)s", at=at + 1, n=len(keys)) if at is not None else "",
    )
    plain = (True, str(RETURN), None, None)  # no extension field, the plain button, no error
    nothing = html.P(str(NOTHING_CHOSEN), className="text-muted small")
    if not chosen or not initiative or "|" not in str(chosen):
        return nothing, None, True, True, *moves, *plain
    org, period = str(chosen).split("|", 1)
    try:
        detail = data.review_detail(initiative, org, period)
    except DomainError as exc:
        return error_alert(exc, what=gettext("That report")), None, True, True, *moves, *plain
    sub = detail.submission
    extend = detail.needs_extension
    selected = {
        "initiative": initiative,
        "organisation": sub.organisation,
        "name": detail.organisation_name,
        "period": sub.period,
        "version": sub.version,
        "extend": extend,
    }
    waiting = sub.status == "submitted"
    return (
        _detail(detail),
        selected,
        not waiting,
        not waiting or (detail.send_back is not None and not extend),
        *moves,
        *((False, str(RETURN_EXTENDED), default_until(), None) if extend else plain),
    )


@callback(
    Output("review-feedback", "children"),
    Output("review-refresh", "data"),
    Output("review-comment", "value"),
    Output("review-until-error", "children"),
    Input("review-approve", "n_clicks"),
    Input("review-return", "n_clicks"),
    State("review-selected", "data"),
    State("review-comment", "value"),
    State("review-refresh", "data"),
    State("review-until", "date"),
    prevent_initial_call=True,
)
def review_decide(_approve, _return, chosen, comment, refresh, until):
    """Approve or return the report shown (with an extension to ``until`` when its partner
    may no longer write); the queue is read again and opens the next."""
    action = DECISIONS.get(str(ctx.triggered_id))
    if not chosen or action is None:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    extend = action == "return" and bool(chosen.get("extend"))
    args = (chosen["initiative"], chosen["organisation"], chosen["period"])
    extension = None
    try:
        if extend:
            view, extension = data.return_with_extension(
                *args, comment, until, chosen.get("version")
            )
        else:
            view = data.review_decision(*args, action, comment, chosen.get("version"))
    except DomainError as exc:
        return _refused(exc, action, refresh)
    report = {"report": f"{chosen.get('name') or view.organisation} · {view.period}"}
    message = dbc.Alert(
        [
            gettext("Approved: %(report)s is now ", **report)
            if action == "approve"
            else gettext("Returned to the partner: %(report)s is now ", **report),
            status_badge(view.status),
            " " + gettext("(version %(version)s)", version=view.version),
            gettext("; the partner may correct it until %(day)s.", day=data.day(extension.until))
            if extension is not None
            else ".",
        ],
        color="success",
        id="review-done",
        className="mb-0 py-1 px-2 small",
    )
    return message, (refresh or 0) + 1, "", None


def _refused(exc: DomainError, action: str, refresh) -> tuple:
    """A refused decision: the extension's day refused beside its field, anything else beside
    the buttons. A plain return refused because the period has closed for the partner (since
    the report was opened) reads the report again, so its Return step offers the extension."""
    if exc.field == "until":
        return None, dash.no_update, dash.no_update, sentence(exc.message)
    alert = _message(error_alert(exc, what=gettext("That report")))
    if action == "return" and exc.code == "period_closed":
        alert.children = [
            sentence(exc.message),
            " "
            + gettext(
                "Return it with an extension: pick the day beside “%(action)s”.",
                action=RETURN_EXTENDED,
            ),
        ]
        return alert, (refresh or 0) + 1, dash.no_update, None
    return alert, dash.no_update, dash.no_update, None


def _message(alert: dbc.Alert) -> dbc.Alert:
    """An alert sized for the action bar."""
    alert.className = f"{alert.className or ''} mb-0 py-1 px-2 small"
    return alert


@callback(
    Output("review-history", "is_open"),
    Output("review-history-body", "children"),
    Output("review-history-page", "href"),
    Input("review-values", "cellClicked"),
    State("review-selected", "data"),
    prevent_initial_call=True,
)
def review_history(clicked, chosen):
    """A value's history in a dialog, from its row's History link."""
    if not clicked or clicked.get("colId") != "history" or not chosen:
        return dash.no_update, dash.no_update, dash.no_update
    value_id = clicked.get("value")
    if not isinstance(value_id, int) or isinstance(value_id, bool):
        return dash.no_update, dash.no_update, dash.no_update
    args = (chosen["initiative"], chosen["organisation"], chosen["period"])
    try:
        trail = data.value_trail(*args, value_id=value_id)
    except DomainError as exc:
        return True, error_alert(exc, what=gettext("That value")), None
    return True, history_table(trail), history_url(*args, value=str(value_id))


# j / k (and n / p) move through the queue unless the user is typing; the access keys of the
# buttons do the same with the browser's modifier (Alt+Shift in Chrome, Ctrl+Alt in Safari).
clientside_callback(
    """
    function (_) {
        if (!window.cmReviewKeys) {
            window.cmReviewKeys = true;
            document.addEventListener('keydown', function (event) {
                var target = event.target || {};
                var tag = (target.tagName || '').toLowerCase();
                if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing ||
                    tag === 'input' || tag === 'textarea' || tag === 'select' ||
                    target.isContentEditable || document.querySelector('.modal.show')) {
                    return;
                }
                var key = (event.key || '').toLowerCase();
                var id = (key === 'j' || key === 'n') ? 'review-next'
                    : (key === 'k' || key === 'p') ? 'review-prev' : null;
                var button = id && document.getElementById(id);
                if (button && !button.disabled) {
                    event.preventDefault();
                    button.click();
                }
            });
        }
        return window.dash_clientside.no_update;
    }
    """,
    Output("review-keys", "data"),
    Input("review-keys", "data"),
)


sync_url("review", "initiative", "period")
