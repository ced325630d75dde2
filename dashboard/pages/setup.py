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
from typing import Any, NamedTuple

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html

from dashboard import data
from dashboard.components import translations
from dashboard.components.common import error_alert, sync_url
from dashboard.components.forms import Field, Form, Group, Resource, changes_table
from dashboard.components.page import enter, frame, initiative_picker, pickers
from dashboard.data import DomainError
from models.core.actors import shown_label
from models.core.i18n import gettext, ngettext, short_number

dash.register_page(
    __name__, path="/setup", title=lambda **_: gettext("Setup · Common Measure"), name="Setup"
)

translations.register()  # the Translations tab's callbacks, bound to this app

# Every text below is built when it is shown, in the reader's language (README, "Languages"):
# the forms, columns and tabs are made by functions, called again for each page and answer.
# The module-level ``RESOURCES`` (built in English at import) only names the callbacks' ids.


def _not_allowed() -> str:
    return gettext(
        "Setup is for the initiative's backbone team. "
        "Your account does not run any initiative's configuration."
    )


def _measure_types() -> tuple[tuple[str, str], ...]:
    return (
        ("count", gettext("count (adds up)")),
        ("amount", gettext("amount (adds up)")),
        ("rate", gettext("rate (numerator ÷ denominator)")),
        ("average", gettext("average (weighted by its denominator)")),
    )


def _directions() -> tuple[tuple[str, str], ...]:
    return (("higher", gettext("higher is better")), ("lower", gettext("lower is better")))


def _frequencies() -> tuple[tuple[str, str], ...]:
    return (("quarterly", gettext("quarterly")), ("annual", gettext("annual")))


def _performance_types() -> tuple[tuple[str, str], ...]:
    """The three questions of a performance measure (README, "Two kinds of measure")."""
    return (
        ("how_much", gettext("how much did we do?")),
        ("how_well", gettext("how well did we do it?")),
        ("better_off", gettext("is anyone better off?")),
    )


def _kinds() -> tuple[tuple[str, str], ...]:
    """README, "Two kinds of measure"."""
    return (
        ("population", gettext("population indicator (the whole community)")),
        ("performance", gettext("partner performance measure")),
    )


GRID_STYLE = {"height": "460px"}
SMALL_GRID = {"height": "190px"}

# --- forms --------------------------------------------------------------------------------------


def _target_columns() -> list[dict]:
    return [
        {
            "field": "period",
            "headerName": gettext("Period"),
            "editable": True,
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": []},
            "flex": 1,
        },
        {
            "field": "value",
            "headerName": gettext("Target"),
            "editable": True,
            "cellEditor": "agNumberCellEditor",
            "type": "rightAligned",
            "flex": 1,
        },
        {"field": "note", "headerName": gettext("Note"), "editable": True, "flex": 2},
    ]


def _gap_columns() -> list[dict]:
    return [
        {
            "field": "dimension",
            "headerName": gettext("Breakdown"),
            "editable": True,
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": []},
            "flex": 1,
        },
        {
            "field": "baseline",
            "headerName": gettext("Baseline gap"),
            "editable": True,
            "cellEditor": "agNumberCellEditor",
            "type": "rightAligned",
            "flex": 1,
        },
        {
            "field": "baseline_period",
            "headerName": gettext("at"),
            "editable": True,
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": []},
            "flex": 1,
        },
        {
            "field": "target",
            "headerName": gettext("Target gap"),
            "editable": True,
            "cellEditor": "agNumberCellEditor",
            "type": "rightAligned",
            "flex": 1,
        },
        {
            "field": "target_period",
            "headerName": gettext("due by"),
            "editable": True,
            "cellEditor": "agSelectCellEditor",
            "cellEditorParams": {"values": []},
            "flex": 1,
        },
        {"field": "note", "headerName": gettext("Note"), "editable": True, "flex": 2},
    ]


GAP_FIELDS = ("dimension", "baseline", "baseline_period", "target", "target_period", "note")


def _category_columns() -> list[dict]:
    return [
        {
            "field": "code",
            "headerName": gettext("Code"),
            "editable": {"function": "!params.data.saved"},
            "flex": 1,
        },
        {"field": "name", "headerName": gettext("Name"), "editable": True, "flex": 2},
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


def _code_help() -> str:
    return gettext("Letters, digits, - and _; it cannot change later.")


def _outcome_form() -> Form:
    return Form(
        "setup-outcome",
        [
            Field(
                "code",
                gettext("Code"),
                fixed=True,
                md=4,
                placeholder=gettext("e.g. kindergarten_readiness"),
                help=_code_help(),
            ),
            Field(
                "name", gettext("Name"), md=8, placeholder=gettext("e.g. Kindergarten readiness")
            ),
            Field("description", gettext("Description"), "textarea", md=12),
            Field(
                "position",
                gettext("Position"),
                "integer",
                md=4,
                help=gettext("Sort order; blank puts it last."),
            ),
        ],
    )


def _indicator_form() -> Form:
    return Form(
        "setup-indicator",
        [
            Field(
                "code",
                gettext("Code"),
                fixed=True,
                md=4,
                placeholder=gettext("e.g. K_READY"),
                help=gettext("Capitals, digits and _; it cannot change later."),
            ),
            Field(
                "name",
                gettext("Name"),
                md=8,
                placeholder=gettext("e.g. Children ready for kindergarten"),
            ),
            Field("outcome", gettext("Outcome"), "select", md=6, placeholder=gettext("No outcome")),
            Field(
                "measure_type",
                gettext("Measure type"),
                "select",
                _measure_types(),
                md=3,
                required=True,
            ),
            Field("unit", gettext("Unit"), md=3, placeholder=gettext("e.g. %, people")),
            Field("definition", gettext("Definition"), "textarea", md=12),
            Field(
                "direction",
                gettext("Direction of good"),
                "select",
                _directions(),
                md=3,
                default="higher",
                required=True,
            ),
            Field("decimals", gettext("Decimals"), "integer", md=3, default=1),
            Field(
                "frequency",
                gettext("Frequency"),
                "select",
                _frequencies(),
                md=3,
                default="quarterly",
                required=True,
            ),
            Field(
                "position",
                gettext("Position"),
                "integer",
                md=3,
                help=gettext("Blank puts it last."),
            ),
            Field(
                "valid_min",
                gettext("Valid from"),
                "number",
                md=3,
                help=gettext("Lowest value accepted."),
            ),
            Field(
                "valid_max",
                gettext("Valid to"),
                "number",
                md=3,
                help=gettext("Highest value accepted."),
            ),
            Field(
                "data_source",
                gettext("Data source"),
                md=6,
                placeholder=gettext("e.g. State kindergarten assessment"),
            ),
            Field(
                "kind",
                gettext("Kind"),
                "select",
                _kinds(),
                md=4,
                default="population",
                required=True,
                help=gettext(
                    "A population indicator says how the whole community is doing; a "
                    "performance measure, how a partner's programme is doing."
                ),
            ),
            Field(
                "performance_type",
                gettext("Performance type"),
                "select",
                _performance_types(),
                md=3,
                placeholder=gettext("Population indicator: none"),
                help=gettext("Required for a performance measure."),
            ),
            Field(
                "contributes_to",
                gettext("Contributes to"),
                "multi",
                md=5,
                placeholder=gettext("No population indicator"),
                help=gettext(
                    "The population indicators this measure contributes to (contribution, not "
                    "attribution)."
                ),
            ),
            Field(
                "expression",
                gettext("Computed from"),
                md=12,
                placeholder=gettext("Blank: partners report it. e.g. 100 * FAFSA_DONE / SENIORS"),
                help=gettext(
                    "A computed indicator: other indicators' codes with numbers, + - * /, "
                    "parentheses, min(…) and max(…). Nobody reports it; its figures come from its "
                    "inputs' and are hidden wherever one of them is."
                ),
            ),
            Field(
                "dimensions",
                gettext("Breakdowns"),
                "multi",
                md=12,
                placeholder=gettext("No breakdown"),
                help=gettext("The dimensions partners break this indicator down by."),
            ),
            Field("baseline_value", gettext("Baseline"), "number", md=3),
            Field("baseline_period", gettext("Baseline period"), "select", md=3),
            Field("target_value", gettext("End target"), "number", md=3),
            Field("target_period", gettext("End target period"), "select", md=3),
            Field("targets", gettext("Interim targets"), "grid", md=12),
            Field(
                "gap_targets",
                gettext("Gap targets"),
                "grid",
                md=12,
                help=gettext(
                    "A target on the gap between the best and the worst category of a breakdown "
                    "(e.g. halve it by 2030); the equity chart and the overview judge the gap "
                    "against it."
                ),
            ),
        ],
        grids={
            "targets": _editable_grid("setup-indicator-targets", _target_columns()),
            "gap_targets": html.Div(
                [
                    _editable_grid("setup-indicator-gap_targets", _gap_columns()),
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
                                ("add", gettext("Add gap target")),
                                ("remove", gettext("Remove selected gap target")),
                            )
                        ],
                        className="d-flex gap-2 mb-1",
                    ),
                ]
            ),
        },
    )


def _dimension_form() -> Form:
    return Form(
        "setup-dimension",
        [
            Field(
                "code",
                gettext("Code"),
                fixed=True,
                md=4,
                placeholder=gettext("e.g. race"),
                help=_code_help(),
            ),
            Field("name", gettext("Name"), md=5, placeholder=gettext("e.g. Race/ethnicity")),
            Field(
                "position",
                gettext("Position"),
                "integer",
                md=3,
                help=gettext("Blank puts it last."),
            ),
            Field(
                "components",
                gettext("Cross-tab of"),
                "multi",
                md=12,
                fixed=True,
                placeholder=gettext("A plain dimension"),
                help=gettext(
                    "Two dimensions, rows then columns (e.g. race, income): the categories are "
                    "their pairs, at most 48, and follow them; leave the categories empty. "
                    "Indicators collect it with both."
                ),
            ),
            Field("categories", gettext("Categories"), "grid", md=12),
        ],
        grids={"categories": _editable_grid("setup-dimension-categories", _category_columns())},
    )


def _sectors() -> tuple[tuple[str, str], ...]:
    """The directory's sectors, each named in the reader's language."""
    names = {
        "education": gettext("education"),
        "early_childhood": gettext("early childhood"),
        "government": gettext("government"),
        "nonprofit": gettext("nonprofit"),
        "health": gettext("health"),
        "business": gettext("business"),
        "higher_education": gettext("higher education"),
        "philanthropy": gettext("philanthropy"),
        "community": gettext("community"),
        "other": gettext("other"),
    }
    return tuple(
        (sector, names.get(sector, sector.replace("_", " ")))
        for sector in data.ORGANISATION_SECTORS
    )


NEW_ORGANISATION = (
    ("name", "name"),
    ("slug", "slug"),
    ("sector", "sector"),
    ("website", "website"),
)


def _member_form() -> Form:
    return Form(
        "setup-member",
        [
            Field(
                "joins",
                gettext("The partner"),
                "radio",
                (
                    ("existing", gettext("is in the directory")),
                    ("new", gettext("is new: add it to the directory")),
                ),
                md=12,
                default="existing",
            ),
            Field("organisation", gettext("Organisation"), "select", fixed=True, md=12),
            Field(
                "org_name",
                gettext("Name"),
                md=6,
                placeholder=gettext("e.g. Riverside Health Clinic"),
            ),
            Field(
                "org_slug",
                gettext("Slug"),
                md=6,
                placeholder=gettext("e.g. riverside-health-clinic"),
                help=gettext(
                    "Made from the name: lower-case words joined by hyphens. It cannot change."
                ),
            ),
            Field("org_sector", gettext("Sector"), "select", _sectors(), md=6),
            Field("org_website", gettext("Website"), md=6, placeholder="https://…"),
            Field("joined_on", gettext("Joined on"), "date", md=4),
            Field(
                "shares_with_funders",
                gettext("Shares its figures with funders"),
                "switch",
                md=6,
                default=True,
            ),
            Field("active", gettext("Active (expected to report)"), "switch", md=6, default=True),
            Field(
                "obligations",
                gettext("Obligations"),
                "multi",
                md=12,
                placeholder=gettext("Reports no indicator yet"),
                help=gettext("The indicators this partner is expected to report."),
            ),
        ],
        aliases={
            "indicators": "obligations",
            **{f"new_organisation.{key}": f"org_{name}" for key, name in NEW_ORGANISATION},
        },
    )


def _period_form() -> Form:
    return Form(
        "setup-period",
        [
            Field(
                "key",
                gettext("Period"),
                fixed=True,
                md=3,
                placeholder=gettext("e.g. 2026Q3"),
                help=gettext("2026Q3 for a quarter, 2026 for a year."),
            ),
            Field(
                "opens_on",
                gettext("Opens"),
                "date",
                md=3,
                help=gettext("Blank: the day after it ends."),
            ),
            Field(
                "due_on",
                gettext("Due"),
                "date",
                md=3,
                help=gettext("Blank: 30 days after it ends."),
            ),
            Field(
                "closes_on",
                gettext("Closes"),
                "date",
                md=3,
                help=gettext("Blank: 60 days after it ends."),
            ),
            Field(
                "locked",
                gettext("Locked: no more writes to its reports, whatever the dates"),
                "switch",
                md=12,
            ),
        ],
    )


def _extension_form() -> Form:
    return Form(
        "setup-extension",
        [
            Field("org", gettext("Partner"), "select", fixed=True, md=5),
            Field("period", gettext("Period"), "select", fixed=True, md=4),
            Field(
                "until",
                gettext("Until (inclusive)"),
                "date",
                md=3,
                help=gettext("After the period closes."),
            ),
            Field(
                "reason",
                gettext("Reason"),
                "textarea",
                md=12,
                placeholder=gettext("Why this partner gets more time (kept in the audit trail)"),
            ),
        ],
    )


def _break_form() -> Form:
    return Form(
        "setup-break",
        [
            Field("indicator", gettext("Indicator"), "select", fixed=True, md=7),
            Field(
                "period",
                gettext("From period"),
                "select",
                fixed=True,
                md=5,
                help=gettext("The first period measured the new way."),
            ),
            Field(
                "note",
                gettext("What changed"),
                "textarea",
                md=12,
                placeholder=gettext(
                    "e.g. The state replaced its reading test; scores are not comparable"
                ),
            ),
        ],
        aliases={"code": "indicator"},
    )


# The forms as the callbacks know them: their ids and fields (the layout draws translated
# copies of the same forms).
OUTCOME = _outcome_form()
INDICATOR = _indicator_form()
DIMENSION = _dimension_form()
MEMBER = _member_form()
PERIOD = _period_form()
EXTENSION = _extension_form()
BREAK = _break_form()


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
        return gettext("population")
    text = dict(_performance_types()).get(
        indicator.get("performance_type") or "", gettext("performance")
    )
    links = indicator.get("contributes_to") or []
    return text + (f" → {', '.join(links)}" if links else "")


def _value_at(point: dict | None) -> str:
    if not point:
        return ""
    return f"{_num(point['value'])}" + (f" ({point['period']})" if point.get("period") else "")


def _num(value) -> str:
    """A number as briefly as it reads, with the reader's decimal mark."""
    if value is None:
        return "…"
    return short_number(value) if isinstance(value, float) else str(value)


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
    return gettext("Member %(name)s saved.", name=record["organisation_name"])


def _member_rows(initiative: str) -> list[dict]:
    return [
        {**m, "obligation_count": len(m["obligations"])} for m in data.setup_members(initiative)
    ]


def _period_state(state: str) -> str:
    """A period's state today, as the reader's language says it."""
    states = {
        "locked": gettext("locked"),
        "not open yet": gettext("not open yet"),
        "closed": gettext("closed"),
        "open": gettext("open"),
    }
    return states.get(state, state)


def _day_text(iso: str | None) -> str:
    """An ISO day (as the forms take it) as the reader's language writes it."""
    return data.day(date.fromisoformat(iso)) if iso else ""


def _date_column(field: str, header: str, **kw) -> dict:
    """A column of ISO days (so that it sorts by date) shown as ``{field}_text`` says them."""
    return _column(field, header, valueFormatter={"function": f"params.data.{field}_text"}, **kw)


def _period_rows(initiative: str) -> list[dict]:
    return [
        {
            **p,
            "state_text": _period_state(p["state"]),
            **{f"{name}_text": _day_text(p[name]) for name in ("opens_on", "due_on", "closes_on")},
        }
        for p in data.setup_periods(initiative)
    ]


def _extension_rows(initiative: str) -> list[dict]:
    return [
        {
            "org": e.organisation,
            "organisation_name": e.organisation_name,
            "period": e.period,
            "closes_on": e.closes_on.isoformat(),
            "closes_on_text": data.day(e.closes_on),
            "until": e.until.isoformat(),
            "until_text": data.day(e.until),
            "running": "running" if e.running else "ended",
            "running_text": gettext("running") if e.running else gettext("ended"),
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
    return gettext(
        "Deadline extension granted: %(partner)s may write its %(period)s report until %(day)s.",
        partner=record["organisation_name"],
        period=record["period"],
        day=data.day(until),
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
    return gettext(
        "Series break %(indicator)s from %(period)s saved: charts mark the break.",
        indicator=record["indicator"],
        period=record["period"],
    )


def _column(field: str, header: str, **kw) -> dict:
    return {"field": field, "headerName": header, **kw}


def _resources() -> dict[str, Resource]:
    """The tabs' resources, their texts in the reader's language."""
    return {
        r.kind: r
        for r in (
            Resource(
                kind="indicator",
                word="indicator",
                form=_indicator_form(),
                columns=[
                    _column("code", gettext("Code"), width=120),
                    _column("name", gettext("Name"), flex=2, minWidth=180),
                    _column("measure_type", gettext("Type"), width=90),
                    _column("kind_text", gettext("Kind"), width=150),
                    _column("expression", gettext("Computed from"), width=170),
                    _column("unit", gettext("Unit"), width=80),
                    _column("outcome", gettext("Outcome"), width=130),
                    _column("direction", gettext("Good"), width=90),
                    _column("baseline_text", gettext("Baseline"), width=130),
                    _column("target_text", gettext("End target"), width=130),
                    _column("range", gettext("Valid range"), width=120),
                    _column("data_source", gettext("Data source"), width=160),
                ],
                rows=_indicator_rows,
                save=_save_indicator,
                delete=data.delete_indicator,
                key=lambda r: r["code"],
                audit=("indicator", "gap_target", "series_break"),
                audit_object="indicator",
                to_form=indicator_form,
                save_label=gettext("Save"),
                delete_label=gettext("Delete"),
                delete_message=gettext(
                    "Delete this indicator? Refused once values are reported for it."
                ),
                intro=gettext(
                    "What is measured: definition, unit, how partners' values combine, the "
                    "direction of good, the valid range, the baseline and the targets."
                ),
            ),
            Resource(
                kind="outcome",
                word="outcome",
                form=_outcome_form(),
                columns=[
                    _column("position", "#", width=70),
                    _column("code", gettext("Code"), width=180),
                    _column("name", gettext("Name"), flex=2, minWidth=200),
                    _column("description", gettext("Description"), flex=2),
                ],
                rows=data.setup_outcomes,
                save=_spread(data.save_outcome),
                delete=data.delete_outcome,
                key=lambda r: r["code"],
                audit=("outcome",),
                audit_object="outcome",
                save_label=gettext("Save"),
                delete_label=gettext("Delete"),
                delete_message=gettext(
                    "Delete this outcome? Refused while indicators belong to it."
                ),
                intro=gettext(
                    "The results of the common agenda that indicators are grouped under."
                ),
            ),
            Resource(
                kind="dimension",
                word="dimension",
                form=_dimension_form(),
                columns=[
                    _column("code", gettext("Code"), width=120),
                    _column("name", gettext("Name"), flex=1),
                    _column("category_names", gettext("Categories"), flex=2),
                ],
                rows=_dimension_rows,
                save=_save_dimension,
                delete=data.delete_dimension,
                key=lambda r: r["code"],
                audit=("dimension", "category"),
                audit_object="dimension",
                to_form=dimension_form,
                save_label=gettext("Save"),
                delete_label=gettext("Delete"),
                delete_message=gettext(
                    "Delete this dimension and its categories? Refused while values "
                    "are reported in any of them."
                ),
                intro=gettext(
                    "The breakdowns (race/ethnicity, income…) and their categories. A "
                    "category's code cannot change; a category with reported values cannot be "
                    "deleted."
                ),
            ),
            Resource(
                kind="member",
                word="member",
                form=_member_form(),
                columns=[
                    _column("organisation_name", gettext("Organisation"), flex=2, minWidth=180),
                    _column("sector", gettext("Sector"), width=120),
                    _column("active", gettext("Active"), width=90, filter=False),
                    _column("shares_with_funders", gettext("Funders"), width=100, filter=False),
                    _column(
                        "obligation_count", gettext("Obligations"), width=110, type="rightAligned"
                    ),
                ],
                rows=_member_rows,
                save=_save_member,
                delete=data.remove_member,
                key=lambda r: r["organisation"],
                audit=("member", "obligations", "organisation"),
                audit_object="member",
                saved=_member_saved,
                save_label=gettext("Save"),
                delete_label=gettext("Remove"),
                delete_message=gettext(
                    "Remove this member? Refused once it has reported: switch 'Active' off instead."
                ),
                intro=gettext(
                    "The partners taking part and the indicators each is expected to report. "
                    "A partner not in the directory yet is added to it as it joins. A partner "
                    "that has reported is retired by switching 'Active' off (its figures stay), "
                    "and reactivated by switching it on again."
                ),
            ),
            Resource(
                kind="period",
                word="period",
                form=_period_form(),
                columns=[
                    _column("key", gettext("Period"), width=100),
                    _date_column("opens_on", gettext("Opens"), width=115),
                    _date_column("due_on", gettext("Due"), width=115),
                    _date_column("closes_on", gettext("Closes"), width=115),
                    _column("state_text", gettext("Now"), width=120),
                    _column("locked", gettext("Locked"), width=90),
                ],
                rows=_period_rows,
                save=_spread(data.save_period),
                delete=data.delete_period,
                key=lambda r: r["key"],
                audit=("period",),
                audit_object="period",
                save_label=gettext("Save"),
                delete_label=gettext("Delete"),
                delete_message=gettext(
                    "Delete this period? Refused once it has reports or a "
                    "publication, or holds an indicator's baseline or target."
                ),
                intro=gettext(
                    "Reporting periods and their windows: reports open, are due and close on "
                    "these days; a locked period accepts no more writes."
                ),
            ),
            Resource(
                kind="break",
                word="series break",
                form=_break_form(),
                columns=[
                    _column("indicator", gettext("Indicator"), width=120),
                    _column("indicator_name", gettext("Name"), flex=1, minWidth=140),
                    _column("period", gettext("From"), width=95),
                    _column("note", gettext("What changed"), flex=2),
                ],
                rows=data.setup_series_breaks,
                save=_save_break,
                delete=_remove_break,
                key=_break_key,
                audit=("series_break",),
                audit_object=None,
                saved=_break_saved,
                save_label=gettext("Save"),
                delete_label=gettext("Remove"),
                delete_message=gettext(
                    "Remove this series break? Charts and trends will compare across "
                    "the period again."
                ),
                intro=gettext(
                    "Where an indicator is measured differently from one period on (a new "
                    "test, a new source, a new definition): its charts mark the break, and "
                    "trends do not compare across it. To move a break, remove it and mark the "
                    "right period."
                ),
            ),
            Resource(
                kind="extension",
                word="deadline extension",
                form=_extension_form(),
                columns=[
                    _column("organisation_name", gettext("Partner"), flex=2, minWidth=160),
                    _column("period", gettext("Period"), width=95),
                    _date_column("closes_on", gettext("Closed"), width=110),
                    _date_column("until", gettext("Until"), width=110),
                    _column("running_text", gettext("Now"), width=90),
                    _column("reason", gettext("Reason"), flex=2),
                    _column("granted_by", gettext("Granted by"), width=170),
                ],
                rows=_extension_rows,
                save=_save_extension,
                delete=_revoke_extension,
                key=lambda r: f"{r['org']}|{r['period']}",
                audit=("deadline_extension",),
                audit_object=None,
                saved=_extension_saved,
                save_label=gettext("Grant or move"),
                delete_label=gettext("Revoke"),
                delete_message=gettext(
                    "Revoke this extension? The partner's report closes with its period again."
                ),
                intro=gettext(
                    "One partner may still save, upload and submit its report for a closed "
                    "period until the day you set, instead of reopening the period for "
                    "everyone. A locked period stays locked."
                ),
            ),
        )
    }


# The tabs as the callbacks know them (their kinds, forms and data calls).
RESOURCES: dict[str, Resource] = _resources()


def _tabs() -> tuple[tuple[str, str], ...]:
    return (
        ("indicator", gettext("Indicators")),
        ("outcome", gettext("Outcomes")),
        ("dimension", gettext("Dimensions")),
        ("member", gettext("Members")),
        ("period", gettext("Periods")),
        ("break", gettext("Series breaks")),
        ("extension", gettext("Deadlines")),
    )


class _Says(NamedTuple):
    """What a tab says of its objects, each a whole sentence (README, "Languages"); ``key``
    placeholders are filled by the caller."""

    new: str
    edit: str
    saved: str
    removed: str
    changes: str
    latest: str
    count: Callable[[int], str]


def _says(kind: str) -> _Says:
    if kind == "indicator":
        return _Says(
            gettext("New indicator"),
            gettext("Edit indicator %(key)s"),
            gettext("Indicator %(key)s saved."),
            gettext("Indicator %(key)s removed."),
            gettext("Changes to indicator %(key)s"),
            gettext("Latest changes to indicators"),
            lambda n: ngettext("%(n)s indicator", "%(n)s indicators", n),
        )
    if kind == "outcome":
        return _Says(
            gettext("New outcome"),
            gettext("Edit outcome %(key)s"),
            gettext("Outcome %(key)s saved."),
            gettext("Outcome %(key)s removed."),
            gettext("Changes to outcome %(key)s"),
            gettext("Latest changes to outcomes"),
            lambda n: ngettext("%(n)s outcome", "%(n)s outcomes", n),
        )
    if kind == "dimension":
        return _Says(
            gettext("New dimension"),
            gettext("Edit dimension %(key)s"),
            gettext("Dimension %(key)s saved."),
            gettext("Dimension %(key)s removed."),
            gettext("Changes to dimension %(key)s"),
            gettext("Latest changes to dimensions"),
            lambda n: ngettext("%(n)s dimension", "%(n)s dimensions", n),
        )
    if kind == "member":
        return _Says(
            gettext("New member"),
            gettext("Edit member %(key)s"),
            gettext("Member %(key)s saved."),
            gettext("Member %(key)s removed."),
            gettext("Changes to member %(key)s"),
            gettext("Latest changes to members"),
            lambda n: ngettext("%(n)s member", "%(n)s members", n),
        )
    if kind == "period":
        return _Says(
            gettext("New period"),
            gettext("Edit period %(key)s"),
            gettext("Period %(key)s saved."),
            gettext("Period %(key)s removed."),
            gettext("Changes to period %(key)s"),
            gettext("Latest changes to periods"),
            lambda n: ngettext("%(n)s period", "%(n)s periods", n),
        )
    if kind == "break":
        return _Says(
            gettext("New series break"),
            gettext("Edit series break %(key)s"),
            gettext("Series break %(key)s saved."),
            gettext("Series break %(key)s removed."),
            gettext("Changes to series break %(key)s"),
            gettext("Latest changes to series breaks"),
            lambda n: ngettext("%(n)s series break", "%(n)s series breaks", n),
        )
    return _Says(
        gettext("New deadline extension"),
        gettext("Edit deadline extension %(key)s"),
        gettext("Deadline extension %(key)s saved."),
        gettext("Deadline extension %(key)s removed."),
        gettext("Changes to deadline extension %(key)s"),
        gettext("Latest changes to deadline extensions"),
        lambda n: ngettext("%(n)s deadline extension", "%(n)s deadline extensions", n),
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
        add, remove = gettext("Add target"), gettext("Remove selected target")
    elif kind == "dimension":
        add, remove = gettext("Add category"), gettext("Delete selected category")
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
            dbc.CardHeader(html.Span(_says(kind).new, id=f"setup-{kind}-heading")),
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
                                        _says(kind).new,
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
        "/setup", "setup", data.review_workspaces, _not_allowed(), initiative=initiative, tab=tab
    )
    if entry.instead is not None:
        return entry.instead
    active = tab if tab in RESOURCES or tab == translations.TAB_ID else "indicator"
    resources = _resources()
    tabs = dbc.Tabs(
        [
            *(
                dbc.Tab(_tab(resources[kind]), label=label, tab_id=kind, id=f"setup-tab-{kind}")
                for kind, label in _tabs()
            ),
            translations.tab(),
        ],
        id="setup-tabs",
        active_tab=active,
    )
    return frame(
        "setup",
        gettext("Setup"),
        gettext(
            "The initiative's configuration: what is measured, by whom, and when. Every change "
            "is checked as the API checks it and kept in the audit trail."
        ),
        pickers(initiative_picker("setup", entry, md=6)),
        html.P(
            [
                gettext("Events posted to your own systems:") + " ",
                dcc.Link(
                    gettext("manage the webhooks"), href="/webhooks", id="setup-webhooks-link"
                ),
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
            return [], error_alert(exc, what=gettext("That initiative"))
        for row in found:
            row["key"] = resource.key(row)
        return found, _says(kind).count(len(found))


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
            return _says(kind).new
        return _says(kind).edit % {"key": editing.replace("|", " · ")}

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
            done = _done(_says(kind).removed % {"key": editing.replace("|", " · ")})
            return answer(*blank(), done, (refresh or 0) + 1, [])
        saved, refused = attempt(lambda: resource.save(initiative, editing, form.read(values)))
        if refused is not None:
            return refused
        key = resource.key(saved)
        if resource.saved:
            said = resource.saved(saved)
        else:
            said = _says(kind).saved % {"key": key.replace("|", " · ")}
        done = _done(said)
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
                skip,
                form.messages(placed),
                skip,
                skip,
                _refused(kind, exc, placed, other),
                skip,
                skip,
            )
            return None, refused


def _done(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="py-2 cm-setup-done")


def _refused(kind: str, exc: DomainError, placed: dict, other: str | None) -> dbc.Alert:
    """Above the form: a pointer to the marked field, or the refusal itself when it names no
    field of the form."""
    if placed:
        [(name, _message)] = placed.items()
        return dbc.Alert(
            gettext("Not saved: see the message under “%(field)s”.", field=_label_of(kind, name)),
            color="danger",
            className="py-2 cm-setup-refused",
        )
    if other:
        return dbc.Alert(other, color="danger", className="py-2 cm-error")
    return error_alert(exc)


def _label_of(kind: str, name: str) -> str:
    """The label of the form's field, in the reader's language."""
    form = _FORMS[kind]()
    return form.by_name[name].label if name in form.by_name else name


_FORMS: dict[str, Callable[[], Form]] = {
    "indicator": _indicator_form,
    "outcome": _outcome_form,
    "dimension": _dimension_form,
    "member": _member_form,
    "period": _period_form,
    "break": _break_form,
    "extension": _extension_form,
}


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
        says = _says(kind)
        heading = says.changes % {"key": one} if one else says.latest
        try:
            events = data.setup_changes(initiative, resource.audit, resource.audit_object, one)
        except DomainError as exc:
            return heading, error_alert(exc)
        return heading, changes_table(events)


# --- callbacks: choices that come from other tabs -------------------------------------------------


def _options(pairs) -> list[dict]:
    return [{"value": value, "label": label} for value, label in pairs]


def _choices(
    *outputs: Output,
    refreshed_by: tuple[str, ...],
    empty: Callable[[], tuple] | None = None,
):
    """Registers the callback that fills a form's ``outputs`` from other tabs' lists: the
    decorated function builds them for the chosen initiative, again whenever a tab in
    ``refreshed_by`` changes its list; ``empty()`` (no choices, in the reader's language) when
    no initiative is chosen or it cannot be read (the tab's own list says why)."""

    def none() -> tuple:
        return empty() if empty is not None else tuple([] for _ in outputs)

    def register(build: Callable[[str], tuple]) -> Callable[[str], tuple]:
        @callback(
            *outputs,
            Input("setup-initiative", "value"),
            *(Input(f"setup-{tab}-refresh", "data") for tab in refreshed_by),
        )
        def fill(initiative, *_refreshes):
            if not initiative:
                return none()
            try:
                return build(initiative)
            except DomainError:
                return none()

        return build

    return register


@_choices(
    Output(DIMENSION.id("components"), "options"),
    refreshed_by=("dimension",),
    empty=lambda: ([],),
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
    empty=lambda: ([], [], [], [], _target_columns(), [], _gap_columns()),
)
def _indicator_choices(initiative: str) -> tuple:
    outcomes = data.setup_outcomes(initiative)
    dimensions = data.setup_dimensions(initiative)
    keys = [p["key"] for p in data.setup_periods(initiative)]
    columns = _target_columns()
    columns[0]["cellEditorParams"] = {"values": keys}
    gap_columns = _gap_columns()
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
                "label": gettext("%(name)s (a member)", name=name) if slug in members else name,
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
            (
                p["key"],
                gettext(
                    "%(period)s · closes %(day)s · %(state)s",
                    period=p["key"],
                    day=_day_text(p["closes_on"]),
                    state=_period_state(p["state"]),
                ),
            )
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
        return [*rows, dict.fromkeys(GAP_FIELDS)]
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
    done = _done(
        gettext("Category %(dimension)s=%(code)s deleted.", dimension=editing, code=chosen["code"])
    )
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
