"""Form fields that show the domain's complaint next to the field it names.

A domain error names its field (``InvalidInput("…", field="email")``); a form maps those names
to its own inputs, and :func:`field_errors` turns the error into the ``invalid`` flag and the
message of each input (see :func:`error_outputs`), or into an alert when no input of the form
is meant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import Output, html
from dash.development.base_component import Component

from dashboard.components.common import error_alert
from dashboard.data import DomainError


def field(label: str, control: Component, *, hint: str | None = None, **col) -> dbc.Col:
    """A labelled input in a column, with the place for its error message right under it."""
    ident = control.id
    parts: list = [dbc.Label(label, html_for=ident, className="cm-muted-label"), control]
    parts.append(dbc.FormFeedback(id=f"{ident}-error", type="invalid"))
    if hint:
        parts.append(dbc.FormText(hint))
    return dbc.Col(parts, **col)


def error_outputs(*idents: str) -> list[Output]:
    """The outputs :func:`field_errors` fills, for the inputs ``idents`` (in that order)."""
    outputs = []
    for ident in idents:
        outputs += [
            Output(ident, "invalid", allow_duplicate=True),
            Output(f"{ident}-error", "children", allow_duplicate=True),
        ]
    return outputs


def field_errors(
    exc: DomainError | None, fields: Mapping[str, str], *, what: str = ""
) -> tuple[list, html.Div | None]:
    """(the values of ``error_outputs(*fields.values())``, an alert or None).

    ``fields`` maps the domain's field names to the form's input ids. No error clears every
    message; an error naming one of the fields marks that input; any other error is an alert.
    """
    named = exc is not None and exc.field in fields
    values: list = []
    for name in fields:
        mine = named and exc is not None and exc.field == name
        values += [mine, _sentence(exc.message) if mine and exc is not None else None]
    alert = error_alert(exc, what=what) if exc is not None and not named else None
    return values, alert


def _sentence(message: str) -> str:
    """The domain's message (lower case, to fit in API answers) as a sentence under a field."""
    return message[:1].upper() + message[1:]


def choice_field(label: str, control: Component, **col) -> dbc.Col:
    """A checklist, switch or dropdown with its message under it: those controls have no
    ``invalid`` flag for :func:`field_errors` to set, so the message shows on its own."""
    return dbc.Col(
        [
            dbc.Label(label, html_for=control.id, className="cm-muted-label"),
            control,
            html.Div(id=f"{control.id}-error", className="small text-danger"),
        ],
        **col,
    )


def mixed_errors(
    exc: DomainError | None,
    fields: Mapping[str, str],
    text_fields: Sequence[str],
    choice_fields: Sequence[str],
    *,
    what: str = "",
) -> tuple[list, html.Div | None]:
    """:func:`field_errors` for a form of text inputs and :func:`choice_field` controls: the
    flag and message of each of ``text_fields``, then the message of each of
    ``choice_fields`` (the outputs :func:`mixed_outputs` lists), and the alert."""
    values, alert = field_errors(exc, fields, what=what)
    pairs = dict(zip(fields, zip(values[::2], values[1::2], strict=True), strict=True))
    out: list = []
    for name in text_fields:
        out += list(pairs[name])
    out += [pairs[name][1] for name in choice_fields]
    return out, alert


def mixed_outputs(
    fields: Mapping[str, str], text_fields: Sequence[str], choice_fields: Sequence[str]
) -> list[Output]:
    """The outputs :func:`mixed_errors` fills, in its order."""
    return [
        *error_outputs(*(fields[name] for name in text_fields)),
        *(
            Output(f"{fields[name]}-error", "children", allow_duplicate=True)
            for name in choice_fields
        ),
    ]
