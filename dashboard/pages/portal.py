"""Partner portal: a member's data-entry grid for one period, saved as a draft and submitted.

Reporters see their own organisation(s); backbone staff pick any member. The grid has one row
per obligation and disaggregation (the total first, then each allowed category). Only the cells
a measure type uses are editable (counts and amounts: value; rates: numerator and denominator,
the value is computed; averages: value and the number of cases), and only when the domain
would take the write (``data.PortalSheet.refused``: a draft or returned report in a period that
has started and is still open; it is submitted once the period's reporting window opens). Save
sends the changed rows; the domain either writes all of them or answers every problem with its
row and column, shown next to the row.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import data, figures
from dashboard.components.charts import described_chart
from dashboard.components.common import (
    error_alert,
    late_title,
    late_word,
    missing_and_warnings,
    page_url,
    status_badge,
    sync_url,
)
from dashboard.components.entry_grid import (
    changed_inputs,
    columns,
    edit_hint,
    mark_problems,
    sheet_rows,
    submittable,
    writable,
)
from dashboard.components.page import enter, frame, initiative_picker, picker, pickers
from dashboard.components.periods import choose_period, period_state
from dashboard.data import DomainError, InvalidInput, explain
from models.core.i18n import format_number, gettext, ngettext, pgettext
from models.notifications.email import template_path

dash.register_page(
    __name__,
    path="/portal",
    title=lambda **_: gettext("Partner portal · Common Measure"),
    name="Partner portal",
)

# --- layout ---------------------------------------------------------------------------------


def not_allowed() -> str:
    return gettext(
        "The partner portal is where partner organisations report their figures. "
        "Your account does not report for any organisation."
    )


def _org_options(space: data.Workspace) -> list[dict]:
    return [{"label": name, "value": slug} for slug, name in space.organisations]


def layout(initiative: str | None = None, org: str | None = None, period: str | None = None, **_):
    entry = enter(
        "/portal",
        "portal",
        data.workspaces,
        not_allowed(),
        colour="warning",
        initiative=initiative,
        org=org,
        period=period,
    )
    if entry.instead is not None:
        return entry.instead
    space = next(w for w in entry.spaces if w.slug == entry.slug)
    org_slugs = [slug for slug, _name in space.organisations]
    org = org if org in org_slugs else org_slugs[0]
    try:
        period_options, period = choose_period(
            space.slug, period, preferred=data.reporting_period(space.slug, org)
        )
    except DomainError as exc:
        return error_alert(exc)
    selectors = pickers(
        initiative_picker("portal", entry, md=4),
        picker(
            gettext("Organisation"),
            "portal-org",
            _org_options(space),
            org,
            md=4,
            clearable=False,
            disabled=len(org_slugs) == 1,
        ),
        picker(gettext("Period"), "portal-period", period_options, period, md=4, clearable=False),
    )
    grid = dag.AgGrid(
        id="portal-grid",
        rowData=[],
        columnDefs=columns(),
        defaultColDef={"resizable": True, "sortable": False, "suppressMovable": True},
        getRowId="params.data.id",
        dashGridOptions={
            "domLayout": "autoHeight",
            "rowClassRules": {"cm-total-row": "params.data.is_total"},
            "stopEditingWhenCellsLoseFocus": True,
            "singleClickEdit": False,
            "tooltipShowDelay": 300,
            # One Tab stop (WCAG 2.1.1, the ARIA grid pattern): arrows move between cells,
            # Enter edits; Tab leaves the grid for Save and Submit instead of walking every cell.
            "tabToNextCell": {"function": "false"},
            "tabToNextHeader": {"function": "false"},
        },
        csvExportParams={"fileName": f"{space.slug}-{org}-{period}.csv"},
        className="ag-theme-alpine cm-grid",
    )
    toolbar = html.Div(
        [
            dbc.Button(gettext("Save draft"), id="portal-save", color="primary", disabled=True),
            dbc.Button(gettext("Submit"), id="portal-submit", color="success", disabled=True),
        ],
        className="d-flex flex-wrap align-items-center gap-2 my-3",
    )
    return frame(
        "portal",
        gettext("Partner portal"),
        gettext(
            "Enter your organisation's figures for the period, save a draft as often as "
            "you like, and submit when they are complete."
        ),
        selectors,
        html.Div(id="portal-next-deadline"),
        dcc.Loading(html.Div(id="portal-status"), type="dot", delay_show=400),
        html.Div(id="portal-feedback"),
        toolbar,
        grid,
        _upload_card(),
        _trend_card(),
        _strategies_card(),
        dcc.Store(id="portal-version"),
    )


# --- upload and trend -----------------------------------------------------------------------


def _upload_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Upload a spreadsheet"), className="h5"),
                html.P(
                    # The column names are the file's keys, the same in every language.
                    gettext(
                        "A CSV or Excel (.xlsx) file with columns indicator, disaggregation, "
                        "value, numerator, denominator, note (and organisation, period when it "
                        "covers several). It is checked first; nothing is written until you "
                        "press Import."
                    ),
                    className="small text-muted",
                ),
                dcc.Upload(
                    id="portal-upload",
                    # One sentence, all of it the target (a translation may order it freely).
                    children=html.Div(html.A(gettext("Drop a file here or choose one"))),
                    className="cm-upload",
                    max_size=10 * 1024 * 1024,
                    multiple=False,
                ),
                html.Div(id="portal-upload-report", className="mt-2"),
                dbc.Button(
                    gettext("Import"),
                    id="portal-import",
                    color="primary",
                    disabled=True,
                    className="mt-2",
                ),
            ]
        ),
        className="mt-4 shadow-sm",
    )


def _trend_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Your trend against the initiative"), className="h5"),
                dcc.Dropdown(
                    id="portal-trend-code",
                    placeholder=gettext("Choose an indicator"),
                    clearable=False,
                    className="mb-2",
                ),
                described_chart(
                    dcc.Graph(
                        id="portal-trend",
                        figure={"data": [], "layout": {"height": 80}},
                        config={"displaylogo": False, "toImageButtonOptions": {"format": "png"}},
                    )
                ),
            ]
        ),
        className="mt-4 mb-4 shadow-sm",
    )


# --- status panel ---------------------------------------------------------------------------


def _strategies_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(gettext("Your strategies"), className="h5"),
                html.P(
                    gettext(
                        "The strategies your organisation owns with the backbone team and "
                        "other partners, their actions, and the curves they aim to turn."
                    ),
                    className="small text-muted",
                ),
                html.Div(id="portal-strategies"),
            ]
        ),
        className="mb-4 shadow-sm",
        id="portal-strategies-card",
    )


def _status_panel(sheet: data.PortalSheet, today: date, rows: list[dict]) -> html.Div:
    sub, period = sheet.submission, sheet.period
    editable, reason = writable(sheet)
    may_submit, why_not = submittable(sheet)
    facts = [
        html.Span(
            [
                html.Span(gettext("Status") + " ", className="cm-muted-label"),
                status_badge(sub.status, id="portal-status-badge"),
            ]
        ),
        html.Span(
            [
                html.Span(gettext("Version") + " ", className="cm-muted-label"),
                html.Strong(str(sub.version)),
            ],
            id="portal-version-text",
        ),
        html.Span(
            [
                html.Span(gettext("Period") + " ", className="cm-muted-label"),
                gettext(
                    "%(period)s · %(state)s · due %(due)s · closes %(closes)s",
                    period=period.key,
                    state=period_state(period.state(today)),
                    due=data.day(period.due_on),
                    closes=data.day(period.closes_on),
                ),
            ]
        ),
    ]
    until = sheet.extended_until
    if until:
        ended = today > until
        facts.append(
            dbc.Badge(
                gettext("deadline extension ended %(day)s", day=data.day(until))
                if ended
                else gettext("deadline extended to %(day)s", day=data.day(until)),
                color="secondary" if ended else "info",
                id="portal-extension",
            )
        )
    if sub.is_late:
        facts.append(dbc.Badge(late_word(), color="danger", id="portal-late", title=late_title()))
    if sub.submitted_at:
        first = sub.first_submitted_at
        again = first is not None and data.moment(first) != data.moment(sub.submitted_at)
        facts.append(
            html.Span(
                [
                    html.Span(gettext("Submitted") + " ", className="cm-muted-label"),
                    data.moment(sub.submitted_at),
                    " " + gettext("(first on %(day)s)", day=data.day(first)) if again else "",
                ]
            )
        )
    parts: list = [
        html.Div(facts, className="d-flex flex-wrap align-items-center cm-status-bar mb-2")
    ]
    note = extension_note(sheet, today)
    if note:
        parts.append(
            dbc.Alert(note, color="info", className="small py-2 mb-2", id="portal-extension-note")
        )
    if sub.comment and sub.status in ("returned", "draft"):
        parts.append(
            dbc.Alert(
                [html.Strong(gettext("Returned by the backbone team:") + " "), sub.comment],
                color="warning",
                id="portal-return-comment",
                className="mb-2",
            )
        )
    if editable:
        parts.append(_template_link(sheet))
    if not editable and reason:
        parts.append(html.P(reason, className="small text-muted mb-2", id="portal-readonly"))
    elif not may_submit and why_not:
        parts.append(html.P(why_not, className="small text-muted mb-2", id="portal-not-yet"))
    hint = edit_hint(rows)
    if hint:
        parts.append(html.P(hint, className="small text-muted mb-2", id="portal-edit-hint"))
    parts += missing_and_warnings(
        sub, missing_label=gettext("Not yet reported:") + " ", warnings_id="portal-warnings"
    )
    return html.Div(parts)


def _template_link(sheet: data.PortalSheet) -> html.P:
    """The pre-filled Excel template of the open period, downloaded with the login's cookie
    (api.web_downloads; the same link as the period's opening mail, README "Notifications")."""
    sub = sheet.submission
    return html.P(
        html.A(
            gettext("Download the pre-filled template"),
            href=template_path(sub.initiative, sub.organisation, sub.period),
            id="portal-template",
            className="btn btn-outline-secondary btn-sm",
            download="",
        ),
        className="mb-2",
    )


def extension_note(sheet: data.PortalSheet, today: date) -> str | None:
    """Until when the partner may write thanks to its deadline extension, while it runs (a
    locked period stays locked; an ended one is said by the window's refusal)."""
    until, period = sheet.extended_until, sheet.period
    if until is None or period.locked or today > until:
        return None
    words = {"period": period.key, "until": data.day(until), "closes": data.day(period.closes_on)}
    if today > period.closes_on:
        if sheet.backbone:
            return gettext(
                "The partner may still write %(period)s until %(until)s (extension granted by "
                "the backbone team).",
                **words,
            )
        return gettext(
            "You may still write %(period)s until %(until)s (extension granted by the "
            "backbone team).",
            **words,
        )
    if sheet.backbone:
        return gettext(
            "The partner may write %(period)s until %(until)s, after the period closes on "
            "%(closes)s (extension granted by the backbone team).",
            **words,
        )
    return gettext(
        "You may write %(period)s until %(until)s, after the period closes on %(closes)s "
        "(extension granted by the backbone team).",
        **words,
    )


def _loaded(sheet: data.PortalSheet, feedback=None):
    editable, _reason = writable(sheet)
    may_submit, _why_not = submittable(sheet)
    rows = sheet_rows(sheet, editable=editable)
    return (
        rows,
        _status_panel(sheet, data.today(), rows),
        feedback,
        sheet.submission.version,
        not editable,
        not (editable and may_submit),
    )


def _report_status(status: str) -> str:
    """The owed report's status, said whole ("report not started"); the domain says
    "not started", "draft" or "returned" (models/reporting/deadlines.py)."""
    said = {
        "not started": pgettext("next deadline", "report not started"),
        "draft": pgettext("next deadline", "report draft"),
        "returned": pgettext("next deadline", "report returned"),
    }
    return said.get(status, status)


def next_deadline_note(found: data.NextDeadline | None) -> dbc.Alert:
    """The partner's most pressing report still owed: which period, by when, how many days
    are left (or how late it is), and the extension it counts by."""
    if found is None:
        return dbc.Alert(
            gettext("No report is due: every period open to you has been submitted."),
            color="light",
            className="py-2 small",
            id="portal-deadline",
        )
    left = found.days_left
    if left > 0:
        when = ngettext("%(n)s day left", "%(n)s days left", left)
        colour = "info" if left > 7 else "warning"
    elif left == 0:
        when, colour = gettext("due today"), "warning"
    else:
        when, colour = ngettext("%(n)s day overdue", "%(n)s days overdue", -left), "danger"
    if found.extended_until is not None:
        due = gettext(
            "%(period)s due %(day)s (deadline extended; the period closed on %(closed)s)",
            period=found.period,
            day=data.day(found.deadline),
            closed=data.day(found.closes_on),
        )
    else:
        due = gettext("%(period)s due %(day)s", period=found.period, day=data.day(found.deadline))
    return dbc.Alert(
        [
            html.Span(gettext("Next deadline:") + " ", className="fw-semibold"),
            f"{due} · ",
            html.Strong(when, id="portal-deadline-days"),
            html.Span(" · " + _report_status(found.status), className="text-muted"),
        ],
        color=colour,
        className="py-2",
        id="portal-deadline",
    )


# --- callbacks ------------------------------------------------------------------------------


@callback(
    Output("portal-next-deadline", "children"),
    Input("portal-initiative", "value"),
    Input("portal-org", "value"),
    Input("portal-version", "data"),
)
def portal_next_deadline(initiative, org, _version):
    """Read again after each save or submission (the version moves), as submitting pays it."""
    if not (initiative and org):
        return None
    try:
        return next_deadline_note(data.next_deadline(initiative, org))
    except DomainError:
        return None


@callback(
    Output("portal-org", "options"),
    Output("portal-org", "value"),
    Output("portal-org", "disabled"),
    Output("portal-period", "options"),
    Output("portal-period", "value"),
    Input("portal-initiative", "value"),
    State("portal-org", "value"),
    State("portal-period", "value"),
    prevent_initial_call=True,
)
def _choose_initiative(initiative, org, period):
    try:
        space = next((w for w in data.workspaces() if w.slug == initiative), None)
        if space is None:
            return [], None, True, [], None
        slugs = [slug for slug, _name in space.organisations]
        org = org if org in slugs else slugs[0]
        period_options, period = choose_period(
            space.slug, period, preferred=data.reporting_period(space.slug, org)
        )
    except DomainError:
        return [], None, True, [], None
    return (
        _org_options(space),
        org,
        len(slugs) == 1,
        period_options,
        period,
    )


@callback(
    Output("portal-grid", "rowData"),
    Output("portal-status", "children"),
    Output("portal-feedback", "children"),
    Output("portal-version", "data"),
    Output("portal-save", "disabled"),
    Output("portal-submit", "disabled"),
    Input("portal-initiative", "value"),
    Input("portal-org", "value"),
    Input("portal-period", "value"),
    Input("portal-save", "n_clicks"),
    Input("portal-submit", "n_clicks"),
    State("portal-grid", "rowData"),
    State("portal-version", "data"),
)
def portal_grid(initiative, org, period, _save, _submit, rows, version):
    """Load the grid for the selection, or save / submit it. Every read and write goes through
    the data seam with the cookie's user, so a forged request sees only what that user may."""
    empty = ([], None, None, None, True, True)
    if not (initiative and org and period):
        return empty
    action = ctx.triggered_id if ctx.triggered_id in ("portal-save", "portal-submit") else "load"
    try:
        if action == "load":
            return _loaded(data.portal_sheet(initiative, org, period))
        inputs, ids = changed_inputs(rows or [])
        if action == "portal-save":
            if not inputs:
                return _unchanged(
                    dbc.Alert(gettext("Nothing to save: no cell was changed."), color="info")
                )
            result, sheet = data.save_sheet(initiative, org, period, inputs, version)
            changes = result.created + result.updated + result.removed
            return _loaded(
                sheet,
                dbc.Alert(
                    _saved_text(sheet.submission.version, changes, len(sheet.submission.warnings)),
                    color="success",
                    id="portal-saved",
                    dismissable=True,
                ),
            )
        sheet = data.submit_sheet(initiative, org, period, inputs or None, version)
        return _loaded(
            sheet,
            dbc.Alert(
                gettext(
                    "Submitted to the backbone team (version %(version)s).",
                    version=sheet.submission.version,
                ),
                color="success",
                id="portal-submitted",
                dismissable=True,
            ),
        )
    except InvalidInput as exc:
        if action == "load" or not exc.extra.get("errors"):
            return _failed(exc, action)
        marked, count = mark_problems(rows or [], ids, exc)
        return (
            marked,
            dash.no_update,
            dbc.Alert(
                ngettext(
                    "Nothing was saved: %(n)s problem to fix, marked in red next to the rows.",
                    "Nothing was saved: %(n)s problems to fix, marked in red next to the rows.",
                    count,
                ),
                color="danger",
                id="portal-problems",
            ),
            dash.no_update,
            dash.no_update,
            dash.no_update,
        )
    except DomainError as exc:
        return _failed(exc, action)


def _saved_text(version: int, changes: int, flagged: int) -> str:
    """What a save did: the new version, how many values changed, how many are flagged."""
    text = ngettext(
        "Draft saved: version %(version)s, %(n)s value changed.",
        "Draft saved: version %(version)s, %(n)s values changed.",
        changes,
        version=version,
    )
    if flagged:
        text += " " + gettext("%(count)s flagged for a second look.", count=flagged)
    return text


def _unchanged(feedback):
    return (
        dash.no_update,
        dash.no_update,
        feedback,
        dash.no_update,
        dash.no_update,
        dash.no_update,
    )


def _failed(exc: DomainError, action: str):
    if action == "load":
        return ([], None, error_alert(exc, what="That report"), None, True, True)
    return _unchanged(error_alert(exc, what="That report"))


sync_url("portal", "initiative", "org", "period")


# --- spreadsheet upload ---------------------------------------------------------------------


def _decode(contents: str | None) -> bytes | None:
    import base64
    import binascii

    if not contents or "," not in contents:
        return None
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return None


def import_report(report) -> html.Div:
    """The row-level report of an import (models.spreadsheets.imports.ImportReport)."""
    if not report.ok:
        count = report.error_count
        return html.Div(
            [
                dbc.Alert(
                    ngettext(
                        "%(count)s problem in %(file)s: nothing was written. Fix it and upload "
                        "the file again.",
                        "%(count)s problems in %(file)s: nothing was written. Fix them and "
                        "upload the file again.",
                        count,
                        count=format_number(count),
                        file=report.file,
                    ),
                    color="danger",
                    id="portal-upload-problems",
                    className="mb-2",
                ),
                html.Div(
                    dbc.Table(
                        [
                            html.Thead(
                                html.Tr(
                                    [
                                        html.Th(gettext("Row")),
                                        html.Th(gettext("Column")),
                                        html.Th(gettext("Reason")),
                                    ]
                                )
                            ),
                            html.Tbody(
                                [
                                    html.Tr([html.Td(e.row), html.Td(e.column), html.Td(e.reason)])
                                    for e in report.errors
                                ]
                            ),
                        ],
                        size="sm",
                        striped=True,
                        className="small",
                        id="portal-upload-errors",
                    ),
                    className="table-responsive",
                ),
            ]
        )
    counts = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    if report.dry_run:
        summary = ngettext(
            "%(n)s row read: %(created)s values would be created, %(updated)s updated, "
            "%(unchanged)s unchanged.",
            "%(n)s rows read: %(created)s values would be created, %(updated)s updated, "
            "%(unchanged)s unchanged.",
            report.rows,
            **counts,
        )
        return dbc.Alert(
            [
                html.Strong(gettext("The file is fine.") + " "),
                summary,
                " " + gettext("Press Import to save it as a draft."),
            ],
            color="info",
            id="portal-upload-ok",
        )
    summary = ngettext(
        "%(n)s row read: %(created)s values were created, %(updated)s updated, "
        "%(unchanged)s unchanged.",
        "%(n)s rows read: %(created)s values were created, %(updated)s updated, "
        "%(unchanged)s unchanged.",
        report.rows,
        **counts,
    )
    return dbc.Alert(
        [html.Strong(gettext("Imported.") + " "), summary],
        color="success",
        id="portal-upload-done",
    )


@callback(
    Output("portal-upload-report", "children"),
    Output("portal-import", "disabled"),
    Output("portal-period", "value", allow_duplicate=True),
    Input("portal-upload", "contents"),
    Input("portal-import", "n_clicks"),
    State("portal-upload", "filename"),
    State("portal-initiative", "value"),
    State("portal-org", "value"),
    State("portal-period", "value"),
    prevent_initial_call=True,
)
def portal_upload(contents, _import, filename, initiative, org, period):
    """Check the file (dry run) on upload; write it on Import. All as the cookie's user."""
    content = _decode(contents)
    if content is None or not initiative:
        return None, True, dash.no_update
    dry_run = ctx.triggered_id != "portal-import"
    try:
        report = data.import_upload(
            initiative, content, filename or "upload", dry_run=dry_run, org=org, period=period
        )
    except DomainError as exc:
        return error_alert(exc, what="That initiative"), True, dash.no_update
    # After a real import, reload the grid (setting the period again triggers it).
    reload = period if (not dry_run and report.ok) else dash.no_update
    return import_report(report), not (dry_run and report.ok), reload


# --- own trend ------------------------------------------------------------------------------


@callback(
    Output("portal-trend-code", "options"),
    Output("portal-trend-code", "value"),
    Input("portal-initiative", "value"),
    Input("portal-org", "value"),
    State("portal-trend-code", "value"),
)
def portal_trend_choices(initiative, org, code):
    """The partner's own indicators (a trend of one it does not report would be an empty line);
    every indicator of the initiative when it has none, or no partner is chosen."""
    if not initiative:
        return [], None
    try:
        choices = data.indicator_choices(initiative)
        own = set(data.obligation_codes(initiative, org)) if org else set()
    except DomainError:
        return [], None
    choices = [c for c in choices if c["code"] in own] or choices
    codes = [c["code"] for c in choices]
    options = [{"label": f"{c['name']} ({c['code']})", "value": c["code"]} for c in choices]
    return options, code if code in codes else (codes[0] if codes else None)


@callback(
    Output("portal-trend", "figure"),
    Input("portal-initiative", "value"),
    Input("portal-org", "value"),
    Input("portal-trend-code", "value"),
)
def portal_trend(initiative, org, code):
    empty = {"data": [], "layout": {"height": 80}}
    if not (initiative and org and code):
        return empty
    try:
        s = data.indicator_series(initiative, code, by="partner", org=org)
    except DomainError:
        return empty
    mine = [p for p in s.breakdown if p.key == org]
    own = {p.period: p.figure.value for p in mine}
    label = mine[0].label if mine else org
    return figures.own_trend(
        [(k, own.get(k)) for k in s.periods],
        [(p.period, p.figure.value) for p in s.total],
        label,
        s.unit,
        gettext("%(indicator)s: %(partner)s and all partners", indicator=s.name, partner=label),
        note=_hidden_note(mine, s.total),
    )


# --- own strategies ----------------------------------------------------------------------------


def action_status(status: str) -> str:
    """A strategy action's status as the reader says it."""
    names = {
        "planned": pgettext("action status", "planned"),
        "in_progress": pgettext("action status", "in progress"),
        "done": pgettext("action status", "done"),
        "dropped": pgettext("action status", "dropped"),
    }
    return names.get(status, status)


def strategy_list(initiative: str, owned) -> html.Div | html.P:
    """The strategies the organisation owns: dates, actions and a link to each curve."""
    if not owned:
        return html.P(gettext("Your organisation owns no strategy here."), className="small mb-0")
    items = []
    for s in owned:
        ends = data.day(s.ends_on) if s.ends_on else gettext("open-ended")
        actions = [
            html.Li(f"{a.title} · {action_status(a.status)}", className="small") for a in s.actions
        ]
        curves = [
            dcc.Link(
                code,
                href=page_url("/turn-the-curve", initiative=initiative, code=code),
                className="small me-2",
                id=f"portal-strategy-curve-{s.code}-{code}",
            )
            for code in s.indicators
        ]
        items.append(
            html.Li(
                [
                    dcc.Link(
                        html.Strong(s.title),
                        href=page_url("/strategies", initiative=initiative, code=s.code),
                    ),
                    html.Div(
                        f"{data.day(s.starts_on)} – {ends} · "
                        + ngettext(
                            "%(done)s of %(n)s action done",
                            "%(done)s of %(n)s actions done",
                            s.actions_total,
                            done=s.actions_done,
                        ),
                        className="small text-muted",
                    ),
                    html.Ul(actions, className="mb-1") if actions else None,
                    html.Div([gettext("Turn the curve:") + " ", *curves], className="small")
                    if curves
                    else None,
                ],
                className="mb-3",
                id=f"portal-strategy-{s.code}",
            )
        )
    return html.Ul(items, className="list-unstyled mb-0")


@callback(
    Output("portal-strategies", "children"),
    Input("portal-initiative", "value"),
    Input("portal-org", "value"),
)
def portal_strategies(initiative, org):
    if not (initiative and org):
        return None
    try:
        owned = data.owned_strategies(initiative, org)
    except DomainError as exc:
        return error_alert(exc)
    return strategy_list(initiative, owned)


def _hidden_note(mine, total) -> str | None:
    """Why a line is empty or has gaps (an empty line explains nothing). A partner always
    sees its own figures; the initiative's may be hidden, e.g. when the partner's own share
    would give away another partner's figure."""
    if not mine:
        return gettext("No approved figures of this partner for this indicator yet.")
    hidden = [p for p in total if p.figure.value is None and p.figure.marker]
    if not hidden:
        return None
    if len(hidden) == len(total):
        lines = [gettext("The figure of all partners is hidden in every period:")]
    else:
        lines = [
            ngettext(
                "The figure of all partners is hidden in %(hidden)s of %(n)s period:",
                "The figure of all partners is hidden in %(hidden)s of %(n)s periods:",
                len(total),
                hidden=len(hidden),
            )
        ]
    lines += [f"{m} {explain(m)}" for m in dict.fromkeys(p.figure.marker for p in hidden)]
    return "<br>".join(lines)
