"""The partner portal's data-entry grid as plain functions: rows from a sheet, the user's edits
back to domain inputs, and the domain's problems onto the rows they concern.

Pure (no Dash callbacks, no data access), so they are tested directly.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from dashboard import data
from dashboard.components.common import FLAG_LABELS, grid_number_format
from dashboard.data import InvalidInput
from models.core.i18n import gettext
from models.reporting.words import measure_type_name

FIELDS = ("value", "numerator", "denominator", "note")
WRITABLE_STATUSES = ("not_started", "draft", "returned")
_PROBLEM_FIELD = re.compile(r"^values\[(\d+)\]\.(\w+)$")


# --- rows -----------------------------------------------------------------------------------


def _editable_fields(measure_type: str) -> set[str]:
    return {
        "count": {"value", "note"},
        "amount": {"value", "note"},
        "rate": {"numerator", "denominator", "note"},
        "average": {"value", "denominator", "note"},
    }.get(measure_type, {"note"})


def writable(sheet: data.PortalSheet) -> tuple[bool, str | None]:
    """Whether the grid may be edited, and why not: the domain's own answer
    (``models.reporting.submissions.write_refusal``, the rule every save and import obeys),
    so the grid never offers an edit that saving would refuse."""
    reason = sheet.refused.save
    return reason is None, sentence(reason)


def submittable(sheet: data.PortalSheet) -> tuple[bool, str | None]:
    """Whether the report may be submitted now, and why not (e.g. its window is not open)."""
    reason = sheet.refused.submit
    return reason is None, sentence(reason)


def sentence(text: str | None) -> str | None:
    """A domain message ("period 2025Q2 is locked") as a sentence on a page."""
    if not text:
        return None
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def edit_hint(rows: list[dict[str, Any]]) -> str | None:
    """How to edit, said only when some cell may be edited (a read-only grid has none)."""
    if not any(row.get(f"edit_{f}") for row in rows for f in FIELDS):
        return None
    return gettext("Yellow cells are editable: double-click or start typing, Enter to confirm.")


def sheet_rows(sheet: data.PortalSheet, *, editable: bool) -> list[dict[str, Any]]:
    """One grid row per obligation × (total + allowed categories), with its value if any."""
    values = {(v.indicator, v.disaggregation): v for v in sheet.submission.values}
    warnings: dict[tuple[str, str], list] = defaultdict(list)
    for w in sheet.submission.warnings:
        warnings[(w.indicator, w.disaggregation)].append(w)
    rows = []
    for ind in sheet.indicators:
        keys = [("total", gettext("Total"))]
        for dim in ind["dimensions"]:
            dim_name, categories = sheet.dimensions.get(dim, (dim, []))
            keys += [(f"{dim}={code}", f"{dim_name}: {name}") for code, name in categories]
        edit = _editable_fields(ind["measure_type"]) if editable else set()
        for key, label in keys:
            v = values.get((ind["code"], key))
            current = {f: getattr(v, f) if v else None for f in FIELDS}
            flags = set(v.flags if v else ()) | {w.code for w in warnings[(ind["code"], key)]}
            messages = {w.code: w.message for w in warnings[(ind["code"], key)]}
            rows.append(
                {
                    "id": f"{ind['code']}|{key}",
                    "indicator": ind["code"],
                    "name": ind["name"] if key == "total" else "",
                    "unit": ind["unit"] or "",
                    "type": ind["measure_type"],  # the code the edits are read by
                    "type_label": measure_type_name(ind["measure_type"]),
                    "disaggregation": key,
                    "label": label,
                    "is_total": key == "total",
                    **current,
                    **{f"o_{f}": current[f] for f in FIELDS},
                    **{f"edit_{f}": f in edit for f in FIELDS},
                    **{f"err_{f}": False for f in FIELDS},
                    "checks": [
                        {
                            "kind": "warning",
                            "label": FLAG_LABELS.get(flag, flag),
                            "message": messages.get(flag, flag),
                        }
                        for flag in sorted(flags)
                    ],
                }
            )
    return rows


def _number(raw: Any) -> float | str | None:
    """A grid cell as a number; text that is not a number is passed on for the domain to refuse."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else raw
    if isinstance(raw, int | float):
        return None if isinstance(raw, float) and math.isnan(raw) else raw
    text = str(raw).strip().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return str(raw)


def _note(raw: Any) -> str | None:
    return (str(raw).strip() or None) if raw is not None else None


def _cell(row: dict, field: str, original: bool = False) -> Any:
    raw = row.get(f"o_{field}" if original else field)
    return _note(raw) if field == "note" else _number(raw)


def changed_inputs(rows: list[dict]) -> tuple[list[data.ValueInput], list[str]]:
    """The rows the user changed, as domain inputs, and their row ids in the same order."""
    inputs, ids = [], []
    for row in rows or []:
        now = {f: _cell(row, f) for f in FIELDS}
        before = {f: _cell(row, f, original=True) for f in FIELDS}
        if now == before:
            continue
        kind = row.get("type")
        if all(x is None for x in now.values()):
            if any(x is not None for x in before.values()):
                inputs.append(data.ValueInput(row["indicator"], row["disaggregation"], remove=True))
                ids.append(row["id"])
            continue
        inputs.append(
            data.ValueInput(
                indicator=row["indicator"],
                disaggregation=row["disaggregation"],
                value=None if kind == "rate" else now["value"],
                numerator=now["numerator"] if kind == "rate" else None,
                denominator=now["denominator"] if kind in ("rate", "average") else None,
                note=now["note"],
            )
        )
        ids.append(row["id"])
    return inputs, ids


def mark_problems(rows: list[dict], ids: list[str], exc: InvalidInput) -> tuple[list[dict], int]:
    """Put each of the domain's problems (``values[i].column``) on its row; count them."""
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["checks"] = [c for c in row.get("checks") or [] if c.get("kind") != "error"]
        for f in FIELDS:
            row[f"err_{f}"] = False
    placed = 0
    for problem in exc.extra.get("errors") or []:
        match = _PROBLEM_FIELD.match(problem.get("field", ""))
        if not match or int(match.group(1)) >= len(ids):
            continue
        row = by_id[ids[int(match.group(1))]]
        column = match.group(2)
        if column in FIELDS:
            row[f"err_{column}"] = True
        row["checks"] = [
            {
                "kind": "error",
                "label": gettext(
                    "%(column)s: %(reason)s",
                    column=field_word(column),
                    reason=problem["reason"],
                ),
                "message": problem["reason"],
            },
            *row["checks"],
        ]
        placed += 1
    return rows, placed


# --- columns --------------------------------------------------------------------------------


def field_word(field: str) -> str:
    """A value's field as a problem on its row names it ("numerator: …"): its column's
    header in lower case (the English is the field's own name)."""
    header = column_names()
    return header.get({"disaggregation": "label"}.get(field, field), field).lower()


def column_names() -> dict[str, str]:
    """The grid's column headers in the reader's language, by field."""
    return {
        "indicator": gettext("Indicator"),
        "name": gettext("Name"),
        "unit": gettext("Unit"),
        "type": gettext("Type"),
        "label": gettext("Disaggregation"),
        "value": gettext("Value"),
        "numerator": gettext("Numerator"),
        "denominator": gettext("Denominator"),
        "note": gettext("Note"),
        "checks": gettext("Checks"),
    }


def _num_col(field: str, header: str, width: int) -> dict:
    return {
        "field": field,
        "headerName": header,
        "width": width,
        "type": "rightAligned",
        "cellDataType": "number",
        "editable": {"function": f"params.data.edit_{field}"},
        "valueFormatter": grid_number_format(),
        "useValueFormatterForExport": False,  # a CSV download carries plain numbers
        "cellClassRules": {
            "cm-editable": f"params.data.edit_{field}",
            "cm-cell-error": f"params.data.err_{field}",
        },
    }


def columns() -> list[dict]:
    """The grid's columns, headed in the reader's language."""
    header = column_names()
    return [
        {"field": "indicator", "headerName": header["indicator"], "width": 136, "pinned": "left"},
        {
            "field": "name",
            "headerName": header["name"],
            "flex": 1.2,
            "minWidth": 150,
            "wrapText": True,
            "autoHeight": True,
        },
        {"field": "unit", "headerName": header["unit"], "width": 74},
        {"field": "type_label", "headerName": header["type"], "width": 76},
        {
            "field": "label",
            "headerName": header["label"],
            "flex": 1.3,
            "minWidth": 180,
            "wrapText": True,
            "autoHeight": True,
            "tooltipField": "label",
        },
        _num_col("value", header["value"], 96),
        _num_col("numerator", header["numerator"], 108),
        _num_col("denominator", header["denominator"], 118),
        {
            "field": "note",
            "headerName": header["note"],
            "flex": 1,
            "minWidth": 110,
            "cellDataType": "text",
            "editable": {"function": "params.data.edit_note"},
            "cellClassRules": {"cm-editable": "params.data.edit_note"},
        },
        {
            "field": "checks",
            "headerName": header["checks"],
            "flex": 1.5,
            "minWidth": 170,
            "cellDataType": False,
            "cellRenderer": "CheckBadges",
            "autoHeight": True,
            "wrapText": True,
            "sortable": False,
        },
    ]
