"""Forms of the setup pages: labelled fields, each with the place its error message appears,
read back as one dict, and a domain error put next to the field it names.

The domain checks every field (models/initiatives/, models/reporting/deadlines.py) and names
the one it refuses (``InvalidInput``/``Conflict`` with ``field``, e.g. ``unit``,
``baseline.value``, ``targets[1].period``); :meth:`Form.place` maps that path onto a field of
the form, so the message shows where the user typed. Element ids are ``{prefix}-{name}`` for
the input, ``…-error`` for its message and ``…-field`` for the block around both.

Pure layout and mapping (no data access), so it is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
from dash import Output, State, dcc, html

from dashboard import data
from dashboard.components.tables import scroll_region
from dashboard.data import DomainError, InvalidInput
from models.core.actors import shown_label
from models.core.i18n import gettext

KINDS = (
    "text",
    "textarea",
    "number",
    "integer",
    "select",
    "multi",
    "radio",
    "date",
    "switch",
    "grid",
)
_PATH = re.compile(r"^(?P<base>[A-Za-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<sub>[A-Za-z_.]+))?$")


@dataclass(frozen=True)
class Field:
    """One input of a form. ``fixed`` marks the name of the object (its code, key or
    organisation): typed when creating, read-only when editing (other records point at it)."""

    name: str
    label: str
    kind: str = "text"
    options: tuple[tuple[str, str], ...] = ()  # (value, label), for select, multi and radio
    md: int = 6
    help: str | None = None
    placeholder: str | None = None
    fixed: bool = False
    default: Any = None
    required: bool = False  # a choice that cannot be left empty (no clear button)

    @property
    def prop(self) -> str:
        """The property that holds the value (a date picker's is ``date``, a grid's rows)."""
        return {"date": "date", "grid": "rowData"}.get(self.kind, "value")


@dataclass(frozen=True)
class Group:
    """Rows of a form inside one element of id ``id`` (a page shows or hides them together)."""

    id: str
    rows: tuple[tuple[str, ...], ...]

    @property
    def names(self) -> list[str]:
        return [n for row in self.rows for n in row]


class Form:
    """The fields of one form, laid out and read in one order."""

    def __init__(
        self,
        prefix: str,
        fields: Sequence[Field],
        aliases: Mapping[str, str] | None = None,
        grids: Mapping[str, Any] | None = None,
    ):
        assert all(f.kind in KINDS for f in fields), [f.kind for f in fields]
        self.prefix = prefix
        # The editable grids of "grid" fields (rows of a list: interim targets, categories),
        # built by the page with the id :meth:`id` gives.
        self.grids = dict(grids or {})
        self.fields = tuple(fields)
        self.by_name = {f.name: f for f in fields}
        # Domain field paths that name a field of another name (``indicators`` → obligations).
        self.aliases = dict(aliases or {})

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    # --- layout ---------------------------------------------------------------------------

    def control(self, f: Field):
        ident = self.id(f.name)
        options = [{"value": v, "label": label} for v, label in f.options]
        if f.kind == "grid":
            return self.grids[f.name]
        if f.kind == "textarea":
            return dbc.Textarea(id=ident, rows=2, placeholder=f.placeholder, value=f.default)
        if f.kind in ("number", "integer"):
            step = 1 if f.kind == "integer" else "any"
            return dbc.Input(
                id=ident, type="number", step=step, placeholder=f.placeholder, value=f.default
            )
        if f.kind == "radio":
            return dbc.RadioItems(id=ident, options=options, value=f.default, inline=True)
        if f.kind in ("select", "multi"):
            return dcc.Dropdown(
                id=ident,
                options=options,
                value=f.default if f.kind == "select" else list(f.default or []),
                multi=f.kind == "multi",
                clearable=not f.required,
                placeholder=f.placeholder or gettext("Choose…"),
            )
        if f.kind == "date":
            return dcc.DatePickerSingle(
                id=ident,
                display_format="YYYY-MM-DD",
                placeholder=f.placeholder or "YYYY-MM-DD",
                clearable=True,
                first_day_of_week=1,
            )
        if f.kind == "switch":
            return dbc.Switch(id=ident, label=f.label, value=bool(f.default))
        return dbc.Input(id=ident, type="text", placeholder=f.placeholder, value=f.default)

    def field(self, name: str) -> dbc.Col:
        f = self.by_name[name]
        parts: list = []
        if f.kind != "switch":
            parts.append(dbc.Label(f.label, html_for=self.id(name), className="cm-muted-label"))
        parts.append(self.control(f))
        if f.help:
            parts.append(dbc.FormText(f.help))
        parts.append(html.Div(id=f"{self.id(name)}-error", className="cm-field-error"))
        return dbc.Col(html.Div(parts, id=f"{self.id(name)}-field", className="cm-field"), md=f.md)

    def rows(self, *names: Sequence[str] | Group) -> list:
        """Rows of fields, by name, and groups of rows (shown or hidden together); every field
        of the form must be placed once."""
        placed = [n for row in names for n in (row.names if isinstance(row, Group) else row)]
        assert sorted(placed) == sorted(self.by_name), (placed, list(self.by_name))
        return [self._row(row) for row in names]

    def _row(self, row: Sequence[str] | Group):
        if isinstance(row, Group):
            return html.Div([self._row(r) for r in row.rows], id=row.id)
        return dbc.Row([self.field(n) for n in row], className="g-3 mb-2")

    # --- callbacks --------------------------------------------------------------------------

    def states(self) -> list[State]:
        return [State(self.id(f.name), f.prop) for f in self.fields]

    def value_outputs(self) -> list[Output]:
        return [Output(self.id(f.name), f.prop) for f in self.fields]

    def message_outputs(self) -> list[Output]:
        """Each field's error message, then the class of the block around it."""
        return [Output(f"{self.id(f.name)}-error", "children") for f in self.fields] + [
            Output(f"{self.id(f.name)}-field", "className") for f in self.fields
        ]

    def read(self, values: Sequence[Any]) -> dict[str, Any]:
        """The form's values by field name; blank text is None."""
        read = {}
        for f, value in zip(self.fields, values, strict=True):
            if isinstance(value, str):
                value = value.strip() or None
            if f.kind == "switch":
                value = bool(value)
            if f.kind == "multi":
                value = list(value or [])
            if f.kind == "grid":
                value = [_clean_row(row) for row in value or []]
                # A row left blank is no row (the grid's own flags, booleans, do not count).
                value = [
                    row
                    for row in value
                    if any(v is not None and not isinstance(v, bool) for v in row.values())
                ]
            read[f.name] = value
        return read

    def fill(self, record: Mapping[str, Any] | None) -> list[Any]:
        """Values for :meth:`value_outputs`: the record's, or each field's default."""
        record = record or {}
        filled = []
        for f in self.fields:
            value = record.get(f.name, f.default)
            if f.kind in ("multi", "grid"):
                value = list(value or [])
            elif f.kind == "switch":
                value = bool(value)
            filled.append(value)
        return filled

    def messages(self, placed: Mapping[str, str] | None = None) -> list[Any]:
        """Values for :meth:`message_outputs`: the placed messages (none: all cleared)."""
        placed = placed or {}
        return [placed.get(f.name) for f in self.fields] + [
            "cm-field cm-field-invalid" if f.name in placed else "cm-field" for f in self.fields
        ]

    def place(self, exc: DomainError) -> tuple[dict[str, str], str | None]:
        """Put the error next to the field it names: ({field name: message}, None); or, when
        it names no field of this form, ({}, the message to show above the form)."""
        path = exc.field or ""
        target, message = self._target(path), exc.message
        if target is None:
            if path and isinstance(exc, InvalidInput):
                return {}, gettext("%(field)s: %(reason)s", field=path, reason=message)
            return {}, None
        match = _PATH.match(path)
        if match and match.group("index") is not None and self.by_name[target].kind != "multi":
            row = int(match.group("index")) + 1
            sub = match.group("sub")
            if sub:
                message = gettext(
                    "row %(row)s, %(field)s: %(reason)s", row=row, field=sub, reason=message
                )
            else:
                message = gettext("row %(row)s: %(reason)s", row=row, reason=message)
        return {target: message}, None

    def _target(self, path: str) -> str | None:
        if path in self.by_name:
            return path
        if path in self.aliases:
            return self.aliases[path]
        match = _PATH.match(path)
        if not match:
            return None
        base, sub = match.group("base"), match.group("sub")
        for name in (f"{base}_{sub}" if sub else None, base):
            if name is None:
                continue
            if name in self.by_name:
                return name
            if name in self.aliases:
                return self.aliases[name]
        return None


@dataclass(frozen=True)
class Resource:
    """One tab: its form, list, and the data calls that read, save and delete its objects.

    ``to_form`` turns a listed record into the form's values; ``save`` (initiative, the key of
    the object edited or None to create, the form's values) answers the record as saved;
    ``key`` names a record (what ``delete`` and the audit take)."""

    kind: str
    word: str  # "indicator", as the page says it
    form: Form
    columns: list[dict]
    rows: Callable[[str], list[dict]]
    save: Callable[[str, str | None, dict], dict]
    delete: Callable[[str, str], Any]
    key: Callable[[dict], str]
    audit: tuple[str, ...]  # the kinds of audit event of this tab
    audit_object: str | None  # the entity type whose single object's changes can be shown
    to_form: Callable[[dict], dict] = dict
    save_label: str = "Save"
    delete_label: str = "Delete"
    delete_message: str = "Delete it? This cannot be undone."
    intro: str = ""
    saved: Callable[[dict], str] | None = None  # what a save did, said of the saved record


def _clean_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A grid row as typed: blank text is None; the grid's own keys (``saved``) are kept."""
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in row.items()}


def summarise_change(event: Mapping[str, Any]) -> tuple[str, str]:
    """(what the event is about, what changed) for the list of changes under a setup form."""
    before, after = event.get("before") or {}, event.get("after") or {}
    state = after or before
    if "dimension" in state and "code" in state:
        what = f"{state['dimension']}={state['code']}"
    elif "strategy" in state and "title" in state:  # an action, named by its strategy
        what = f"{state['strategy']} · {state['title']}"
    elif "dimension" in state and "indicator" in state:  # a gap target
        what = gettext(
            "%(indicator)s · gap target by %(dimension)s",
            indicator=state["indicator"],
            dimension=state["dimension"],
        )
    elif "period" in state and ("organisation" in state or "indicator" in state):
        what = f"{state.get('organisation') or state['indicator']} · {state['period']}"
    else:
        named = ("code", "key", "organisation", "slug")  # an organisation names itself by slug
        what = str(next((state[n] for n in named if state.get(n)), ""))
    action = event.get("action")
    done = {
        "create": gettext("created"),
        "delete": gettext("deleted"),
        "lock": gettext("locked"),
        "unlock": gettext("unlocked"),
    }
    if action in done:
        return what, done[action]
    changed = [
        _changed(name, before.get(name), after.get(name))
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    ]
    return what, "; ".join(changed) or gettext("no change")


def _changed(name: str, old: Any, new: Any) -> str:
    """One field's change; lists of named items (categories by code, targets by period) as
    the items added, removed and changed."""
    key = _item_key(old, new)
    if key is None:
        return f"{name}: {_shown(old)} → {_shown(new)}"
    was = {item[key]: item for item in old or []}
    now = {item[key]: item for item in new or []}
    parts = [f"+ {_item(k, now[k])}" for k in now if k not in was]
    parts += [f"− {k}" for k in was if k not in now]
    parts += [
        f"{k}: {_shown(_diff(was[k], now[k])[0])} → {_shown(_diff(was[k], now[k])[1])}"
        for k in now
        if k in was and was[k] != now[k]
    ]
    return f"{name}: {', '.join(parts)}"


def _item(key: str, item: dict) -> str:
    """An item added to a list: its key and what names or values it."""
    if item.get("name"):
        return f"{key} ({item['name']})"
    if item.get("value") is not None:
        return f"{key}: {_shown(item['value'])}"
    return key


def _item_key(*lists: Any) -> str | None:
    items = [item for value in lists if isinstance(value, list) for item in value]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in ("code", "period"):
        if all(key in item for item in items):
            return key
    return None


def _diff(old: dict, new: dict) -> tuple[dict, dict]:
    names = [n for n in dict.fromkeys([*old, *new]) if old.get(n) != new.get(n)]
    return {n: old.get(n) for n in names}, {n: new.get(n) for n in names}


def _shown(value: Any, limit: int = 60) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list):
        text = ", ".join(_shown(v, limit) for v in value)
    elif isinstance(value, dict) and set(value) == {"value", "period"}:  # a baseline, a target
        text = _shown(value["value"]) + (f" ({value['period']})" if value["period"] else "")
    elif isinstance(value, dict):
        text = ", ".join(f"{k} {_shown(v, limit)}" for k, v in value.items() if v is not None)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def changes_table(events: list[dict]) -> html.Div:
    """Who changed what, when, from what to what (newest first)."""
    if not events:
        return html.P(gettext("No changes recorded yet."), className="small text-muted mb-0")
    rows = []
    for event in events:
        what, change = summarise_change(event)
        at = event["at"]
        rows.append(
            html.Tr(
                [
                    html.Td(data.moment(at) if at else "—"),
                    html.Td(shown_label(event.get("actor") or "")),
                    html.Td(event.get("action")),
                    html.Td(html.Code(what) if what else event.get("entity_type")),
                    html.Td(change, className="cm-change"),
                    html.Td(event.get("reason") or ""),
                ]
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    gettext("When (UTC)"),
                    gettext("Who"),
                    gettext("Action"),
                    gettext("What"),
                    gettext("Change"),
                    gettext("Why"),
                )
            ]
        )
    )
    return scroll_region(
        dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="small mb-0"),
        gettext("Changes"),
    )
