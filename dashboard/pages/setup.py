"""Setup: the backbone team configures its initiative (indicators, outcomes, dimensions and
their categories, members and their obligations, periods and their windows, series breaks)
and extends one partner's deadline.

One tab per resource: its list on the left; select a row to edit it, or "New" to create one;
save, or delete it. A member that has reported is retired (switch "Active" off) and can be
reactivated; a new partner organisation is added to the directory as it becomes a member. Every save goes through ``dashboard/data.py`` to the domain
functions of ``models/initiatives/`` (and ``models/reporting/deadlines.py``), which check the
permission and each field; a refusal names its field and the message appears next to it
(``dashboard/components/forms.py``). Under each form, the audit trail of the selected object
(or the latest changes of its kind): who changed what, when, and from what.

Only the initiative's backbone team (and admins) get here: the page's workspaces are the
initiatives they run, and the domain refuses anyone else's forged callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html

from dashboard import data
from dashboard.components import translations
from dashboard.components.common import error_alert, sync_url
from dashboard.components.forms import Field, Form, Group, Resource, changes_table
from dashboard.components.kinds import PERFORMANCE_TYPES
from dashboard.components.page import enter, frame, initiative_picker, pickers
from dashboard.data import DomainError
from models.core.actors import shown_label

dash.register_page(__name__, path="/setup", title="Setup · Common Measure", name="Setup")

translations.register()  # the Translations tab's callbacks, bound to this app

NOT_ALLOWED = (
    "Setup is for the initiative's backbone team. "
    "Your account does not run any initiative's configuration."
)

MEASURE_TYPES = (
    ("count", "count (adds up)"),
    ("amount", "amount (adds up)"),
    ("rate", "rate (numerator ÷ denominator)"),
    ("average", "average (weighted by its denominator)"),
)
DIRECTIONS = (("higher", "higher is better"), ("lower", "lower is better"))
FREQUENCIES = (("quarterly", "quarterly"), ("annual", "annual"))
# README, "Two kinds of measure".
KINDS = (
    ("population", "population indicator (the whole community)"),
    ("performance", "partner performance measure"),
)
GRID_STYLE = {"height": "460px"}
SMALL_GRID = {"height": "190px"}

# --- forms --------------------------------------------------------------------------------------

TARGET_COLUMNS = [
    {
        "field": "period",
        "headerName": "Period",
        "editable": True,
        "cellEditor": "agSelectCellEditor",
        "cellEditorParams": {"values": []},
        "flex": 1,
    },
    {
        "field": "value",
        "headerName": "Target",
        "editable": True,
        "cellEditor": "agNumberCellEditor",
        "type": "rightAligned",
        "flex": 1,
    },
    {"field": "note", "headerName": "Note", "editable": True, "flex": 2},
]
GAP_COLUMNS = [
    {
        "field": "dimension",
        "headerName": "Breakdown",
        "editable": True,
        "cellEditor": "agSelectCellEditor",
        "cellEditorParams": {"values": []},
        "flex": 1,
    },
    {
        "field": "baseline",
        "headerName": "Baseline gap",
        "editable": True,
        "cellEditor": "agNumberCellEditor",
        "type": "rightAligned",
        "flex": 1,
    },
    {
        "field": "baseline_period",
        "headerName": "at",
        "editable": True,
        "cellEditor": "agSelectCellEditor",
        "cellEditorParams": {"values": []},
        "flex": 1,
    },
    {
        "field": "target",
        "headerName": "Target gap",
        "editable": True,
        "cellEditor": "agNumberCellEditor",
        "type": "rightAligned",
        "flex": 1,
    },
    {
        "field": "target_period",
        "headerName": "due by",
        "editable": True,
        "cellEditor": "agSelectCellEditor",
        "cellEditorParams": {"values": []},
        "flex": 1,
    },
    {"field": "note", "headerName": "Note", "editable": True, "flex": 2},
]
CATEGORY_COLUMNS = [
    {
        "field": "code",
        "headerName": "Code",
        "editable": {"function": "!params.data.saved"},
        "flex": 1,
    },
    {"field": "name", "headerName": "Name", "editable": True, "flex": 2},
]


def _editable_grid(ident: str, columns: list[dict]) -> dag.AgGrid:
    return dag.AgGrid(
        id=ident,
        rowData=[],
        columnDefs=columns,
        defaultColDef={"resizable": True, "singleClickEdit": True},
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False},
            "stopEditingWhenCellsLoseFocus": True,
        },
        style=SMALL_GRID,
        className="ag-theme-alpine cm-grid mb-1",
    )


OUTCOME = Form(
    "setup-outcome",
    [
        Field(
            "code",
            "Code",
            fixed=True,
            md=4,
            placeholder="e.g. kindergarten_readiness",
            help="Letters, digits, - and _; it cannot change later.",
        ),
        Field("name", "Name", md=8, placeholder="e.g. Kindergarten readiness"),
        Field("description", "Description", "textarea", md=12),
        Field("position", "Position", "integer", md=4, help="Sort order; blank puts it last."),
    ],
)

INDICATOR = Form(
    "setup-indicator",
    [
        Field(
            "code",
            "Code",
            fixed=True,
            md=4,
            placeholder="e.g. K_READY",
            help="Capitals, digits and _; it cannot change later.",
        ),
        Field("name", "Name", md=8, placeholder="e.g. Children ready for kindergarten"),
        Field("outcome", "Outcome", "select", md=6, placeholder="No outcome"),
        Field("measure_type", "Measure type", "select", MEASURE_TYPES, md=3, required=True),
        Field("unit", "Unit", md=3, placeholder="e.g. %, people"),
        Field("definition", "Definition", "textarea", md=12),
        Field(
            "direction",
            "Direction of good",
            "select",
            DIRECTIONS,
            md=3,
            default="higher",
            required=True,
        ),
        Field("decimals", "Decimals", "integer", md=3, default=1),
        Field(
            "frequency",
            "Frequency",
            "select",
            FREQUENCIES,
            md=3,
            default="quarterly",
            required=True,
        ),
        Field("position", "Position", "integer", md=3, help="Blank puts it last."),
        Field("valid_min", "Valid from", "number", md=3, help="Lowest value accepted."),
        Field("valid_max", "Valid to", "number", md=3, help="Highest value accepted."),
        Field("data_source", "Data source", md=6, placeholder="e.g. State kindergarten assessment"),
        Field(
            "kind",
            "Kind",
            "select",
            KINDS,
            md=4,
            default="population",
            required=True,
            help="A population indicator says how the whole community is doing; a "
            "performance measure, how a partner's programme is doing.",
        ),
        Field(
            "performance_type",
            "Performance type",
            "select",
            PERFORMANCE_TYPES,
            md=3,
            placeholder="Population indicator: none",
            help="Required for a performance measure.",
        ),
        Field(
            "contributes_to",
            "Contributes to",
            "multi",
            md=5,
            placeholder="No population indicator",
            help="The population indicators this measure contributes to (contribution, not "
            "attribution).",
        ),
        Field(
            "expression",
            "Computed from",
            md=12,
            placeholder="Blank: partners report it. e.g. 100 * FAFSA_DONE / SENIORS",
            help="A computed indicator: other indicators' codes with numbers, + - * /, "
            "parentheses, min(…) and max(…). Nobody reports it; its figures come from its "
            "inputs' and are hidden wherever one of them is.",
        ),
        Field(
            "dimensions",
            "Breakdowns",
            "multi",
            md=12,
            placeholder="No breakdown",
            help="The dimensions partners break this indicator down by.",
        ),
        Field("baseline_value", "Baseline", "number", md=3),
        Field("baseline_period", "Baseline period", "select", md=3),
        Field("target_value", "End target", "number", md=3),
        Field("target_period", "End target period", "select", md=3),
        Field("targets", "Interim targets", "grid", md=12),
        Field(
            "gap_targets",
            "Gap targets",
            "grid",
            md=12,
            help="A target on the gap between the best and the worst category of a breakdown "
            "(e.g. halve it by 2030); the equity chart and the overview judge the gap against it.",
        ),
    ],
    grids={
        "targets": _editable_grid("setup-indicator-targets", TARGET_COLUMNS),
        "gap_targets": html.Div(
            [
                _editable_grid("setup-indicator-gap_targets", GAP_COLUMNS),
                html.Div(
                    [
                        dbc.Button(
                            label,
                            id=f"setup-indicator-gap-{action}",
                            size="sm",
                            color="secondary",
                            outline=True,
                        )
                        for action, label in (
                            ("add", "Add gap target"),
                            ("remove", "Remove selected gap target"),
                        )
                    ],
                    className="d-flex gap-2 mb-1",
                ),
            ]
        ),
    },
)

DIMENSION = Form(
    "setup-dimension",
    [
        Field(
            "code",
            "Code",
            fixed=True,
            md=4,
            placeholder="e.g. race",
            help="Letters, digits, - and _; it cannot change later.",
        ),
        Field("name", "Name", md=5, placeholder="e.g. Race/ethnicity"),
        Field("position", "Position", "integer", md=3, help="Blank puts it last."),
        Field(
            "components",
            "Cross-tab of",
            "multi",
            md=12,
            fixed=True,
            placeholder="A plain dimension",
            help="Two dimensions, rows then columns (e.g. race, income): the categories are "
            "their pairs, at most 48, and follow them; leave the categories empty. Indicators "
            "collect it with both.",
        ),
        Field("categories", "Categories", "grid", md=12),
    ],
    grids={"categories": _editable_grid("setup-dimension-categories", CATEGORY_COLUMNS)},
)

SECTORS = tuple((sector, sector.replace("_", " ")) for sector in data.ORGANISATION_SECTORS)
NEW_ORGANISATION = (
    ("name", "name"),
    ("slug", "slug"),
    ("sector", "sector"),
    ("website", "website"),
)

MEMBER = Form(
    "setup-member",
    [
        Field(
            "joins",
            "The partner",
            "radio",
            (("existing", "is in the directory"), ("new", "is new: add it to the directory")),
            md=12,
            default="existing",
        ),
        Field("organisation", "Organisation", "select", fixed=True, md=12),
        Field("org_name", "Name", md=6, placeholder="e.g. Riverside Health Clinic"),
        Field(
            "org_slug",
            "Slug",
            md=6,
            placeholder="e.g. riverside-health-clinic",
            help="Made from the name: lower-case words joined by hyphens. It cannot change.",
        ),
        Field("org_sector", "Sector", "select", SECTORS, md=6),
        Field("org_website", "Website", md=6, placeholder="https://…"),
        Field("joined_on", "Joined on", "date", md=4),
        Field(
            "shares_with_funders", "Shares its figures with funders", "switch", md=6, default=True
        ),
        Field("active", "Active (expected to report)", "switch", md=6, default=True),
        Field(
            "obligations",
            "Obligations",
            "multi",
            md=12,
            placeholder="Reports no indicator yet",
            help="The indicators this partner is expected to report.",
        ),
    ],
    aliases={
        "indicators": "obligations",
        **{f"new_organisation.{key}": f"org_{name}" for key, name in NEW_ORGANISATION},
    },
)

PERIOD = Form(
    "setup-period",
    [
        Field(
            "key",
            "Period",
            fixed=True,
            md=3,
            placeholder="e.g. 2026Q3",
            help="2026Q3 for a quarter, 2026 for a year.",
        ),
        Field("opens_on", "Opens", "date", md=3, help="Blank: the day after it ends."),
        Field("due_on", "Due", "date", md=3, help="Blank: 30 days after it ends."),
        Field("closes_on", "Closes", "date", md=3, help="Blank: 60 days after it ends."),
        Field(
            "locked",
            "Locked: no more writes to its reports, whatever the dates",
            "switch",
            md=12,
        ),
    ],
)

EXTENSION = Form(
    "setup-extension",
    [
        Field("org", "Partner", "select", fixed=True, md=5),
        Field("period", "Period", "select", fixed=True, md=4),
        Field(
            "until",
            "Until (inclusive)",
            "date",
            md=3,
            help="After the period closes.",
        ),
        Field(
            "reason",
            "Reason",
            "textarea",
            md=12,
            placeholder="Why this partner gets more time (kept in the audit trail)",
        ),
    ],
)

BREAK = Form(
    "setup-break",
    [
        Field("indicator", "Indicator", "select", fixed=True, md=7),
        Field(
            "period",
            "From period",
            "select",
            fixed=True,
            md=5,
            help="The first period measured the new way.",
        ),
        Field(
            "note",
            "What changed",
            "textarea",
            md=12,
            placeholder="e.g. The state replaced its reading test; scores are not comparable",
        ),
    ],
    aliases={"code": "indicator"},
)


# --- resources ----------------------------------------------------------------------------------


def _point(value, period) -> dict | None:
    if value is None and period is None:
        return None
    return {"value": value, "period": period}


def indicator_fields(values: dict) -> dict:
    """The indicator form's values as the domain takes them (baseline and end target as
    ``{value, period}``, interim targets as a list)."""
    fields = {
        name: values[name]
        for name in (
            "code",
            "name",
            "outcome",
            "measure_type",
            "unit",
            "definition",
            "direction",
            "decimals",
            "frequency",
            "valid_min",
            "valid_max",
            "data_source",
            "dimensions",
            "position",
            "kind",
            "performance_type",
            "contributes_to",
            "expression",
        )
    }
    fields["baseline"] = _point(values["baseline_value"], values["baseline_period"])
    fields["target"] = _point(values["target_value"], values["target_period"])
    fields["targets"] = [
        {"period": row.get("period"), "value": row.get("value"), "note": row.get("note")}
        for row in values["targets"]
    ]
    fields["gap_targets"] = [
        {
            "dimension": row.get("dimension"),
            "baseline": {"value": row.get("baseline"), "period": row.get("baseline_period")},
            "target": {"value": row.get("target"), "period": row.get("target_period")},
            "note": row.get("note"),
        }
        for row in values["gap_targets"]
    ]
    return fields


def _save_indicator(initiative: str, editing: str | None, values: dict) -> dict:
    fields = indicator_fields(values)
    if editing is not None and fields["position"] is None:
        del fields["position"]  # blank keeps the place it has
    if fields["kind"] is None:
        del fields["kind"]  # a form without the choice keeps the kind the indicator has
    return data.save_indicator(initiative, editing, fields)


def indicator_form(record: dict) -> dict:
    baseline, target = record.get("baseline") or {}, record.get("target") or {}
    return {
        **record,
        "baseline_value": baseline.get("value"),
        "baseline_period": baseline.get("period"),
        "target_value": target.get("value"),
        "target_period": target.get("period"),
        "targets": [dict(t) for t in record.get("targets") or []],
        "gap_targets": [
            {
                "dimension": g["dimension"],
                "baseline": g["baseline"]["value"],
                "baseline_period": g["baseline"]["period"],
                "target": g["target"]["value"],
                "target_period": g["target"]["period"],
                "note": g["note"],
            }
            for g in record.get("gap_targets") or []
        ],
    }


def _indicator_rows(initiative: str) -> list[dict]:
    rows = []
    for ind in data.setup_indicators(initiative):
        baseline, target = ind.get("baseline"), ind.get("target")
        low, high = ind.get("valid_min"), ind.get("valid_max")
        rows.append(
            {
                **ind,
                "baseline_text": _value_at(baseline),
                "target_text": _value_at(target),
                "range": "" if low is None and high is None else f"{_num(low)} – {_num(high)}",
                "kind_text": kind_text(ind),
            }
        )
    return rows


def kind_text(indicator: dict) -> str:
    """ "population", or the performance type and what the measure contributes to."""
    if indicator.get("kind") != "performance":
        return "population"
    text = dict(PERFORMANCE_TYPES).get(indicator.get("performance_type") or "", "performance")
    links = indicator.get("contributes_to") or []
    return text + (f" → {', '.join(links)}" if links else "")


def _value_at(point: dict | None) -> str:
    if not point:
        return ""
    return f"{_num(point['value'])}" + (f" ({point['period']})" if point.get("period") else "")


def _num(value) -> str:
    if value is None:
        return "…"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _spread(door: Callable[..., dict]) -> Callable[[str, str | None, dict], dict]:
    """A Resource's ``save`` for a door that takes the form's fields as they are named."""

    def save(initiative: str, editing: str | None, values: dict) -> dict:
        return door(initiative, editing, **values)

    return save


def _save_dimension(initiative: str, editing: str | None, values: dict) -> dict:
    categories = [
        {"code": row.get("code"), "name": row.get("name")} for row in values["categories"]
    ]
    return data.save_dimension(
        initiative,
        editing,
        code=values["code"],
        name=values["name"],
        position=values["position"],
        categories=categories,
        components=values.get("components") or None,
    )


def dimension_form(record: dict) -> dict:
    return {
        **record,
        "categories": [{**c, "saved": True} for c in record.get("categories") or []],
    }


def _dimension_rows(initiative: str) -> list[dict]:
    return [
        {**d, "category_names": ", ".join(c["name"] for c in d["categories"])}
        for d in data.setup_dimensions(initiative)
    ]


def _save_member(initiative: str, editing: str | None, values: dict) -> dict:
    """An existing organisation, or a new one from the fields of the "new" block (read only
    when it is shown: creating, and "is new" chosen)."""
    values = dict(values)
    new = values.pop("joins") == "new" and editing is None
    fields = {key: values.pop(f"org_{name}") for key, name in NEW_ORGANISATION}
    return data.save_member(initiative, editing, new_organisation=fields if new else None, **values)


def _member_saved(record: dict) -> str:
    return f"{record['organisation_name']} saved."


def _member_rows(initiative: str) -> list[dict]:
    return [
        {**m, "obligation_count": len(m["obligations"])} for m in data.setup_members(initiative)
    ]


def _extension_rows(initiative: str) -> list[dict]:
    return [
        {
            "org": e.organisation,
            "organisation_name": e.organisation_name,
            "period": e.period,
            "closes_on": e.closes_on.isoformat(),
            "until": e.until.isoformat(),
            "running": "running" if e.running else "ended",
            "reason": e.reason,
            "granted_by": shown_label(e.granted_by or ""),
            "granted_at": data.moment(e.granted_at),
        }
        for e in data.extensions(initiative)
    ]


def _save_extension(initiative: str, editing: str | None, values: dict) -> dict:
    view = data.grant_extension(
        initiative, values["org"] or "", values["period"] or "", values["until"], values["reason"]
    )
    return {
        "org": view.organisation,
        "organisation_name": view.organisation_name,
        "period": view.period,
        "until": view.until.isoformat(),
        "reason": view.reason,
    }


def _extension_saved(record: dict) -> str:
    until = date.fromisoformat(record["until"])
    return (
        f"granted: {record['organisation_name']} may write its {record['period']} report "
        f"until {data.day(until)}."
    )


def _revoke_extension(initiative: str, key: str) -> None:
    org, period = key.split("|", 1)
    data.revoke_extension(initiative, org, period)


def _break_key(record: dict) -> str:
    return f"{record['indicator']}|{record['period']}"


def _save_break(initiative: str, editing: str | None, values: dict) -> dict:
    named = None if editing is None else tuple(editing.split("|", 1))
    return data.save_series_break(initiative, named, **values)


def _remove_break(initiative: str, key: str) -> None:
    indicator, period = key.split("|", 1)
    data.remove_series_break(initiative, indicator, period)


def _break_saved(record: dict) -> str:
    return f"{record['indicator']} from {record['period']} saved: charts mark the break."


def _column(field: str, header: str, **kw) -> dict:
    return {"field": field, "headerName": header, **kw}


RESOURCES: dict[str, Resource] = {
    r.kind: r
    for r in (
        Resource(
            kind="indicator",
            word="indicator",
            form=INDICATOR,
            columns=[
                _column("code", "Code", width=120),
                _column("name", "Name", flex=2, minWidth=180),
                _column("measure_type", "Type", width=90),
                _column("kind_text", "Kind", width=150),
                _column("expression", "Computed from", width=170),
                _column("unit", "Unit", width=80),
                _column("outcome", "Outcome", width=130),
                _column("direction", "Good", width=90),
                _column("baseline_text", "Baseline", width=130),
                _column("target_text", "End target", width=130),
                _column("range", "Valid range", width=120),
                _column("data_source", "Data source", width=160),
            ],
            rows=_indicator_rows,
            save=_save_indicator,
            delete=data.delete_indicator,
            key=lambda r: r["code"],
            audit=("indicator", "gap_target", "series_break"),
            audit_object="indicator",
            to_form=indicator_form,
            delete_message="Delete this indicator? Refused once values are reported for it.",
            intro="What is measured: definition, unit, how partners' values combine, the "
            "direction of good, the valid range, the baseline and the targets.",
        ),
        Resource(
            kind="outcome",
            word="outcome",
            form=OUTCOME,
            columns=[
                _column("position", "#", width=70),
                _column("code", "Code", width=180),
                _column("name", "Name", flex=2, minWidth=200),
                _column("description", "Description", flex=2),
            ],
            rows=data.setup_outcomes,
            save=_spread(data.save_outcome),
            delete=data.delete_outcome,
            key=lambda r: r["code"],
            audit=("outcome",),
            audit_object="outcome",
            delete_message="Delete this outcome? Refused while indicators belong to it.",
            intro="The results of the common agenda that indicators are grouped under.",
        ),
        Resource(
            kind="dimension",
            word="dimension",
            form=DIMENSION,
            columns=[
                _column("code", "Code", width=120),
                _column("name", "Name", flex=1),
                _column("category_names", "Categories", flex=2),
            ],
            rows=_dimension_rows,
            save=_save_dimension,
            delete=data.delete_dimension,
            key=lambda r: r["code"],
            audit=("dimension", "category"),
            audit_object="dimension",
            to_form=dimension_form,
            delete_message="Delete this dimension and its categories? Refused while values "
            "are reported in any of them.",
            intro="The breakdowns (race/ethnicity, income…) and their categories. A category's "
            "code cannot change; a category with reported values cannot be deleted.",
        ),
        Resource(
            kind="member",
            word="member",
            form=MEMBER,
            columns=[
                _column("organisation_name", "Organisation", flex=2, minWidth=180),
                _column("sector", "Sector", width=120),
                _column("active", "Active", width=90, filter=False),
                _column("shares_with_funders", "Funders", width=100, filter=False),
                _column("obligation_count", "Obligations", width=110, type="rightAligned"),
            ],
            rows=_member_rows,
            save=_save_member,
            delete=data.remove_member,
            key=lambda r: r["organisation"],
            audit=("member", "obligations", "organisation"),
            audit_object="member",
            saved=_member_saved,
            delete_label="Remove",
            delete_message="Remove this member? Refused once it has reported: "
            "switch 'Active' off instead.",
            intro="The partners taking part and the indicators each is expected to report. "
            "A partner not in the directory yet is added to it as it joins. A partner that "
            "has reported is retired by switching 'Active' off (its figures stay), and "
            "reactivated by switching it on again.",
        ),
        Resource(
            kind="period",
            word="period",
            form=PERIOD,
            columns=[
                _column("key", "Period", width=100),
                _column("opens_on", "Opens", width=115),
                _column("due_on", "Due", width=115),
                _column("closes_on", "Closes", width=115),
                _column("state", "Now", width=120),
                _column("locked", "Locked", width=90),
            ],
            rows=data.setup_periods,
            save=_spread(data.save_period),
            delete=data.delete_period,
            key=lambda r: r["key"],
            audit=("period",),
            audit_object="period",
            delete_message="Delete this period? Refused once it has reports or a "
            "publication, or holds an indicator's baseline or target.",
            intro="Reporting periods and their windows: reports open, are due and close on "
            "these days; a locked period accepts no more writes.",
        ),
        Resource(
            kind="break",
            word="series break",
            form=BREAK,
            columns=[
                _column("indicator", "Indicator", width=120),
                _column("indicator_name", "Name", flex=1, minWidth=140),
                _column("period", "From", width=95),
                _column("note", "What changed", flex=2),
            ],
            rows=data.setup_series_breaks,
            save=_save_break,
            delete=_remove_break,
            key=_break_key,
            audit=("series_break",),
            audit_object=None,
            saved=_break_saved,
            delete_label="Remove",
            delete_message="Remove this series break? Charts and trends will compare across "
            "the period again.",
            intro="Where an indicator is measured differently from one period on (a new test, "
            "a new source, a new definition): its charts mark the break, and trends do not "
            "compare across it. To move a break, remove it and mark the right period.",
        ),
        Resource(
            kind="extension",
            word="deadline extension",
            form=EXTENSION,
            columns=[
                _column("organisation_name", "Partner", flex=2, minWidth=160),
                _column("period", "Period", width=95),
                _column("closes_on", "Closed", width=110),
                _column("until", "Until", width=110),
                _column("running", "Now", width=90),
                _column("reason", "Reason", flex=2),
                _column("granted_by", "Granted by", width=170),
            ],
            rows=_extension_rows,
            save=_save_extension,
            delete=_revoke_extension,
            key=lambda r: f"{r['org']}|{r['period']}",
            audit=("deadline_extension",),
            audit_object=None,
            saved=_extension_saved,
            save_label="Grant or move",
            delete_label="Revoke",
            delete_message="Revoke this extension? The partner's report closes with its "
            "period again.",
            intro="One partner may still save, upload and submit its report for a closed "
            "period until the day you set, instead of reopening the period for everyone. "
            "A locked period stays locked.",
        ),
    )
}
TABS = (
    ("indicator", "Indicators"),
    ("outcome", "Outcomes"),
    ("dimension", "Dimensions"),
    ("member", "Members"),
    ("period", "Periods"),
    ("break", "Series breaks"),
    ("extension", "Deadlines"),
)

FORM_ROWS = {
    "indicator": [
        ["code", "name"],
        ["outcome", "measure_type", "unit"],
        ["definition"],
        ["direction", "decimals", "frequency", "position"],
        ["valid_min", "valid_max", "data_source"],
        ["kind", "performance_type", "contributes_to"],
        ["expression"],
        ["dimensions"],
        ["baseline_value", "baseline_period", "target_value", "target_period"],
        ["targets"],
        ["gap_targets"],
    ],
    "outcome": [["code", "name"], ["description"], ["position"]],
    "dimension": [["code", "name", "position"], ["components"], ["categories"]],
    "member": [
        Group("setup-member-choose-group", (("joins",),)),
        Group("setup-member-existing-group", (("organisation",),)),
        Group("setup-member-new-group", (("org_name", "org_slug"), ("org_sector", "org_website"))),
        ["joined_on"],
        ["shares_with_funders", "active"],
        ["obligations"],
    ],
    "period": [["key", "opens_on", "due_on", "closes_on"], ["locked"]],
    "break": [["indicator", "period"], ["note"]],
    "extension": [["org", "period", "until"], ["reason"]],
}


# --- layout -------------------------------------------------------------------------------------


def _grid_buttons(kind: str) -> html.Div | None:
    """Add and remove rows of a form's grid (interim targets, categories)."""
    if kind == "indicator":
        add, remove = "Add target", "Remove selected target"
    elif kind == "dimension":
        add, remove = "Add category", "Delete selected category"
    else:
        return None
    return html.Div(
        [
            dbc.Button(add, id=f"setup-{kind}-add-row", size="sm", color="secondary", outline=True),
            dbc.Button(
                remove, id=f"setup-{kind}-remove-row", size="sm", color="secondary", outline=True
            ),
        ],
        className="d-flex gap-2 mb-2",
    )


def _tab(resource: Resource) -> html.Div:
    kind = resource.kind
    grid = dag.AgGrid(
        id=f"setup-{kind}-grid",
        rowData=[],
        columnDefs=resource.columns,
        defaultColDef={"resizable": True, "sortable": True, "filter": True},
        getRowId="params.data.key",
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}
        },
        style=GRID_STYLE,
        className="ag-theme-alpine cm-grid",
    )
    buttons = html.Div(
        [
            dbc.Button(resource.save_label, id=f"setup-{kind}-save", color="primary"),
            dcc.ConfirmDialogProvider(
                dbc.Button(
                    resource.delete_label,
                    id=f"setup-{kind}-delete-button",
                    color="danger",
                    outline=True,
                    disabled=True,
                ),
                id=f"setup-{kind}-delete",
                message=resource.delete_message,
            ),
        ],
        className="d-flex gap-2 mt-2",
    )
    form_body = [*resource.form.rows(*FORM_ROWS[kind])]
    extra = _grid_buttons(kind)
    if extra is not None:
        form_body.append(extra)
    form = dbc.Card(
        [
            dbc.CardHeader(html.Span(f"New {resource.word}", id=f"setup-{kind}-heading")),
            dbc.CardBody([*form_body, buttons]),
        ],
        className="shadow-sm",
    )
    return html.Div(
        [
            html.P(resource.intro, className="text-muted small mt-3"),
            html.Div(id=f"setup-{kind}-feedback"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.Span(
                                        id=f"setup-{kind}-count", className="small text-muted"
                                    ),
                                    dbc.Button(
                                        f"New {resource.word}",
                                        id=f"setup-{kind}-new",
                                        size="sm",
                                        color="primary",
                                        outline=True,
                                    ),
                                ],
                                className="d-flex justify-content-between align-items-center mb-1",
                            ),
                            grid,
                        ],
                        lg=5,
                    ),
                    dbc.Col(form, lg=7),
                ],
                className="g-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(id=f"setup-{kind}-changes-title"),
                    dbc.CardBody(id=f"setup-{kind}-changes", className="p-2"),
                ],
                className="mt-3 mb-2",
            ),
            dcc.Store(id=f"setup-{kind}-editing"),
            dcc.Store(id=f"setup-{kind}-refresh", data=0),
            *([dcc.Store(id="setup-member-slug-suggested")] if kind == "member" else []),
        ]
    )


def layout(initiative: str | None = None, tab: str | None = None, **_):
    entry = enter(
        "/setup", "setup", data.review_workspaces, NOT_ALLOWED, initiative=initiative, tab=tab
    )
    if entry.instead is not None:
        return entry.instead
    active = tab if tab in RESOURCES or tab == translations.TAB_ID else "indicator"
    tabs = dbc.Tabs(
        [
            *(
                dbc.Tab(_tab(RESOURCES[kind]), label=label, tab_id=kind, id=f"setup-tab-{kind}")
                for kind, label in TABS
            ),
            translations.tab(),
        ],
        id="setup-tabs",
        active_tab=active,
    )
    return frame(
        "setup",
        "Setup",
        "The initiative's configuration: what is measured, by whom, and when. Every change "
        "is checked as the API checks it and kept in the audit trail.",
        pickers(initiative_picker("setup", entry, md=6)),
        html.P(
            [
                "Events posted to your own systems: ",
                dcc.Link("manage the webhooks", href="/webhooks", id="setup-webhooks-link"),
                ".",
            ],
            className="small",
        ),
        tabs,
        dcc.Store(id="setup-tab-sync"),
    )


# --- callbacks: lists -----------------------------------------------------------------------------


def _register_list(resource: Resource) -> None:
    kind = resource.kind

    @callback(
        Output(f"setup-{kind}-grid", "rowData"),
        Output(f"setup-{kind}-count", "children"),
        Input("setup-initiative", "value"),
        Input(f"setup-{kind}-refresh", "data"),
    )
    def rows(initiative, _refresh):
        if not initiative:
            return [], None
        try:
            found = resource.rows(initiative)
        except DomainError as exc:
            return [], error_alert(exc, what="That initiative")
        for row in found:
            row["key"] = resource.key(row)
        plural = "" if len(found) == 1 else "s"
        return found, f"{len(found)} {resource.word}{plural}"


# --- callbacks: the form --------------------------------------------------------------------------


def _register_form(resource: Resource) -> None:
    kind, form = resource.kind, resource.form
    fixed = [f.name for f in form.fields if f.fixed]
    outputs = [
        *form.value_outputs(),
        *form.message_outputs(),
        Output(f"setup-{kind}-heading", "children"),
        Output(f"setup-{kind}-editing", "data"),
        Output(f"setup-{kind}-feedback", "children"),
        Output(f"setup-{kind}-refresh", "data"),
        Output(f"setup-{kind}-grid", "selectedRows"),
        Output(f"setup-{kind}-delete-button", "disabled"),
        *[Output(form.id(name), "disabled") for name in fixed],
    ]
    skip = dash.no_update

    def answer(values, messages, heading, editing, feedback, refresh, selected):
        """The callback's outputs, in order; ``values``/``messages`` are lists or no_update."""
        values = values if values is not skip else [skip] * len(form.fields)
        messages = messages if messages is not skip else [skip] * (2 * len(form.fields))
        locked = skip if editing is skip else [editing is not None] * len(fixed)
        delete_off = skip if editing is skip else editing is None
        return (
            *values,
            *messages,
            heading,
            editing,
            feedback,
            refresh,
            selected,
            delete_off,
            *(locked if locked is not skip else [skip] * len(fixed)),
        )

    def title(editing: str | None) -> str:
        if editing is None:
            return f"New {resource.word}"
        return f"Edit {resource.word} {editing.replace('|', ' · ')}"

    def blank() -> tuple:
        return (form.fill(None), form.messages(), title(None), None)

    @callback(
        *outputs,
        Input(f"setup-{kind}-grid", "selectedRows"),
        Input(f"setup-{kind}-new", "n_clicks"),
        Input(f"setup-{kind}-save", "n_clicks"),
        Input(f"setup-{kind}-delete", "submit_n_clicks"),
        Input("setup-initiative", "value"),
        State(f"setup-{kind}-editing", "data"),
        State(f"setup-{kind}-refresh", "data"),
        *form.states(),
        prevent_initial_call=True,
    )
    def edit(selected, _new, _save, _delete, initiative, editing, refresh, *values):
        trigger = ctx.triggered_id
        if trigger in ("setup-initiative", f"setup-{kind}-new"):
            return answer(*blank(), None, skip, [])
        if trigger == f"setup-{kind}-grid":
            record = selected[0] if selected else None
            key = resource.key(record) if record else None
            if key is None or key == editing:  # deselected, or the list reloaded after a save
                return answer(skip, skip, skip, skip, skip, skip, skip)
            return answer(
                form.fill(resource.to_form(record)),
                form.messages(),
                title(key),
                key,
                None,
                skip,
                skip,
            )
        if not initiative:
            return answer(skip, skip, skip, skip, None, skip, skip)
        if trigger == f"setup-{kind}-delete":
            if editing is None:
                return answer(skip, skip, skip, skip, None, skip, skip)
            _, refused = attempt(lambda: resource.delete(initiative, editing))
            if refused is not None:
                return refused
            done = _done(f"{resource.word.capitalize()} {editing.replace('|', ' · ')} removed.")
            return answer(*blank(), done, (refresh or 0) + 1, [])
        saved, refused = attempt(lambda: resource.save(initiative, editing, form.read(values)))
        if refused is not None:
            return refused
        key = resource.key(saved)
        said = resource.saved(saved) if resource.saved else f"{key.replace('|', ' · ')} saved."
        done = _done(f"{resource.word.capitalize()} {said}")
        return answer(
            form.fill(resource.to_form(saved)),
            form.messages(),
            title(key),
            key,
            done,
            (refresh or 0) + 1,
            skip,
        )

    def attempt(door: Callable[[], Any]) -> tuple[Any, tuple | None]:
        """(what a door of dashboard/data.py answered, None); or, when the domain refused,
        (None, the answer that puts its message next to the field it names; the form keeps
        what was typed)."""
        try:
            return door(), None
        except DomainError as exc:
            placed, other = form.place(exc)
            refused = answer(
                skip, form.messages(placed), skip, skip, _refused(exc, placed, other), skip, skip
            )
            return None, refused


def _done(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="py-2 cm-setup-done")


def _refused(exc: DomainError, placed: dict, other: str | None) -> dbc.Alert:
    """Above the form: a pointer to the marked field, or the refusal itself when it names no
    field of the form."""
    if placed:
        [(name, _message)] = placed.items()
        return dbc.Alert(
            f"Not saved: see the message under “{_label_of(name)}”.",
            color="danger",
            className="py-2 cm-setup-refused",
        )
    if other:
        return dbc.Alert(other, color="danger", className="py-2 cm-error")
    return error_alert(exc)


def _label_of(name: str) -> str:
    for resource in RESOURCES.values():
        if name in resource.form.by_name:
            return resource.form.by_name[name].label
    return name


# --- callbacks: changes -------------------------------------------------------------------------


def _register_changes(resource: Resource) -> None:
    kind = resource.kind

    @callback(
        Output(f"setup-{kind}-changes-title", "children"),
        Output(f"setup-{kind}-changes", "children"),
        Input(f"setup-{kind}-editing", "data"),
        Input(f"setup-{kind}-refresh", "data"),
        Input("setup-initiative", "value"),
    )
    def changes(editing, _refresh, initiative):
        if not initiative:
            return None, None
        one = editing if resource.audit_object is not None else None
        heading = (
            f"Changes to {resource.word} {one}" if one else f"Latest changes to {resource.word}s"
        )
        try:
            events = data.setup_changes(initiative, resource.audit, resource.audit_object, one)
        except DomainError as exc:
            return heading, error_alert(exc)
        return heading, changes_table(events)


# --- callbacks: choices that come from other tabs -------------------------------------------------


def _options(pairs) -> list[dict]:
    return [{"value": value, "label": label} for value, label in pairs]


def _choices(*outputs: Output, refreshed_by: tuple[str, ...], empty: tuple | None = None):
    """Registers the callback that fills a form's ``outputs`` from other tabs' lists: the
    decorated function builds them for the chosen initiative, again whenever a tab in
    ``refreshed_by`` changes its list; ``empty`` (no choices) when no initiative is chosen or
    it cannot be read (the tab's own list says why)."""
    none = empty if empty is not None else tuple([] for _ in outputs)

    def register(build: Callable[[str], tuple]) -> Callable[[str], tuple]:
        @callback(
            *outputs,
            Input("setup-initiative", "value"),
            *(Input(f"setup-{tab}-refresh", "data") for tab in refreshed_by),
        )
        def fill(initiative, *_refreshes):
            if not initiative:
                return none
            try:
                return build(initiative)
            except DomainError:
                return none

        return build

    return register


@_choices(
    Output(DIMENSION.id("components"), "options"),
    refreshed_by=("dimension",),
    empty=([],),
)
def _dimension_choices(initiative: str) -> tuple:
    """A cross-tab is composed of plain dimensions."""
    plain = [d for d in data.setup_dimensions(initiative) if not d["components"]]
    return (_options((d["code"], d["name"]) for d in plain),)


@_choices(
    Output(INDICATOR.id("outcome"), "options"),
    Output(INDICATOR.id("dimensions"), "options"),
    Output(INDICATOR.id("baseline_period"), "options"),
    Output(INDICATOR.id("target_period"), "options"),
    Output("setup-indicator-targets", "columnDefs"),
    Output(INDICATOR.id("contributes_to"), "options"),
    Output("setup-indicator-gap_targets", "columnDefs"),
    refreshed_by=("outcome", "dimension", "period", "indicator"),
    empty=([], [], [], [], TARGET_COLUMNS, [], GAP_COLUMNS),
)
def _indicator_choices(initiative: str) -> tuple:
    outcomes = data.setup_outcomes(initiative)
    dimensions = data.setup_dimensions(initiative)
    keys = [p["key"] for p in data.setup_periods(initiative)]
    columns = [dict(c) for c in TARGET_COLUMNS]
    columns[0]["cellEditorParams"] = {"values": keys}
    gap_columns = [dict(c) for c in GAP_COLUMNS]
    for column in gap_columns:
        if column["field"] == "dimension":
            column["cellEditorParams"] = {"values": [d["code"] for d in dimensions]}
        elif column["field"].endswith("period"):
            column["cellEditorParams"] = {"values": keys}
    period_options = _options((k, k) for k in reversed(keys))
    populations = [i for i in data.setup_indicators(initiative) if i["kind"] == "population"]
    return (
        _options((o["code"], f"{o['name']} ({o['code']})") for o in outcomes),
        _options((d["code"], d["name"]) for d in dimensions),
        period_options,
        period_options,
        columns,
        _options((i["code"], f"{i['code']} · {i['name']}") for i in populations),
        gap_columns,
    )


@_choices(
    Output(MEMBER.id("organisation"), "options"),
    Output(MEMBER.id("obligations"), "options"),
    refreshed_by=("indicator", "member"),
)
def _member_choices(initiative: str) -> tuple:
    members = {m["organisation"] for m in data.setup_members(initiative)}
    organisations = data.organisation_choices()
    indicators = data.setup_indicators(initiative)
    return (
        [
            {
                "value": slug,
                "label": f"{name} (a member)" if slug in members else name,
                "disabled": slug in members,
            }
            for slug, name in organisations
        ],
        _options((i["code"], f"{i['code']} · {i['name']}") for i in indicators),
    )


@_choices(
    Output(EXTENSION.id("org"), "options"),
    Output(EXTENSION.id("period"), "options"),
    refreshed_by=("member", "period"),
)
def _extension_choices(initiative: str) -> tuple:
    members = data.setup_members(initiative)
    periods = data.setup_periods(initiative)
    return (
        _options((m["organisation"], m["organisation_name"]) for m in members),
        _options(
            (p["key"], f"{p['key']} · closes {p['closes_on']} · {p['state']}")
            for p in reversed(periods)
        ),
    )


@_choices(
    Output(BREAK.id("indicator"), "options"),
    Output(BREAK.id("period"), "options"),
    refreshed_by=("indicator", "period"),
)
def _break_choices(initiative: str) -> tuple:
    indicators = data.setup_indicators(initiative)
    periods = data.setup_periods(initiative)
    return (
        _options((i["code"], f"{i['code']} · {i['name']}") for i in indicators),
        _options((p["key"], p["key"]) for p in reversed(periods)),
    )


# --- callbacks: a member that is a new organisation ------------------------------------------------

HIDDEN = {"display": "none"}


@callback(
    Output("setup-member-choose-group", "style"),
    Output("setup-member-existing-group", "style"),
    Output("setup-member-new-group", "style"),
    Input(MEMBER.id("joins"), "value"),
    Input("setup-member-editing", "data"),
)
def member_source(joins, editing):
    """Creating: the directory's choice, or the new organisation's fields; editing a member:
    its organisation only (a membership does not move to another organisation)."""
    if editing is not None:
        return HIDDEN, None, HIDDEN
    if joins == "new":
        return None, HIDDEN, None
    return None, None, HIDDEN


@callback(
    Output(MEMBER.id("org_slug"), "value", allow_duplicate=True),
    Output("setup-member-slug-suggested", "data"),
    Input(MEMBER.id("org_name"), "value"),
    State(MEMBER.id("org_slug"), "value"),
    State("setup-member-slug-suggested", "data"),
    prevent_initial_call=True,
)
def follow_name_with_slug(name, slug, suggested):
    """The slug follows the name as it is typed, until the person types a slug of their own."""
    if slug and slug != suggested:
        return dash.no_update, dash.no_update
    fresh = data.suggest_slug(name)
    return fresh or None, fresh


# --- callbacks: rows of a form's grid (interim targets, categories) --------------------------------


@callback(
    Output("setup-indicator-targets", "rowData", allow_duplicate=True),
    Input("setup-indicator-add-row", "n_clicks"),
    Input("setup-indicator-remove-row", "n_clicks"),
    State("setup-indicator-targets", "rowData"),
    State("setup-indicator-targets", "selectedRows"),
    prevent_initial_call=True,
)
def target_rows(_add, _remove, rows, selected):
    rows = list(rows or [])
    if ctx.triggered_id == "setup-indicator-add-row":
        return [*rows, {"period": None, "value": None, "note": None}]
    if not selected:
        return dash.no_update
    return [row for row in rows if row != selected[0]]


@callback(
    Output("setup-indicator-gap_targets", "rowData", allow_duplicate=True),
    Input("setup-indicator-gap-add", "n_clicks"),
    Input("setup-indicator-gap-remove", "n_clicks"),
    State("setup-indicator-gap_targets", "rowData"),
    State("setup-indicator-gap_targets", "selectedRows"),
    prevent_initial_call=True,
)
def gap_target_rows(_add, _remove, rows, selected):
    rows = list(rows or [])
    if ctx.triggered_id == "setup-indicator-gap-add":
        return [*rows, dict.fromkeys(c["field"] for c in GAP_COLUMNS)]
    if not selected:
        return dash.no_update
    return [row for row in rows if row != selected[0]]


@callback(
    Output("setup-dimension-categories", "rowData", allow_duplicate=True),
    Output("setup-dimension-feedback", "children", allow_duplicate=True),
    Output("setup-dimension-refresh", "data", allow_duplicate=True),
    Input("setup-dimension-add-row", "n_clicks"),
    Input("setup-dimension-remove-row", "n_clicks"),
    State("setup-dimension-categories", "rowData"),
    State("setup-dimension-categories", "selectedRows"),
    State("setup-initiative", "value"),
    State("setup-dimension-editing", "data"),
    State("setup-dimension-refresh", "data"),
    prevent_initial_call=True,
)
def category_rows(_add, _remove, rows, selected, initiative, editing, refresh):
    """Add a row for a new category, or delete the selected one: a saved category is deleted
    at once (refused while values are reported in it), a new one only leaves the grid."""
    rows = list(rows or [])
    skip = dash.no_update
    if ctx.triggered_id == "setup-dimension-add-row":
        return [*rows, {"code": None, "name": None, "saved": False}], skip, skip
    if not selected:
        return skip, skip, skip
    chosen = selected[0]
    if not chosen.get("saved") or editing is None:
        return [row for row in rows if row != chosen], skip, skip
    try:
        dimension = data.delete_category(initiative, editing, chosen["code"])
    except DomainError as exc:
        return skip, error_alert(exc), skip
    kept = dimension_form(dimension)["categories"]
    unsaved = [row for row in rows if not row.get("saved")]
    done = _done(f"Category {editing}={chosen['code']} deleted.")
    return kept + unsaved, done, (refresh or 0) + 1


for _resource in RESOURCES.values():
    _register_list(_resource)
    _register_form(_resource)
    _register_changes(_resource)

sync_url("setup", "initiative")

# The open tab in the address bar too (``?tab=period``), so a tab can be bookmarked and shared.
clientside_callback(
    """
    function (tab) {
        var params = new URLSearchParams(window.location.search);
        params.set('tab', tab);
        var url = window.location.pathname + '?' + params.toString();
        if (url !== window.location.pathname + window.location.search) {
            window.history.replaceState(window.history.state, '', url);
        }
        return window.dash_clientside.no_update;
    }
    """,
    Output("setup-tab-sync", "data"),
    Input("setup-tabs", "active_tab"),
)
