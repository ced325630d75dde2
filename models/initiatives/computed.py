"""Computed indicators: the rules an expression meets when it is saved.

The expression (``models.core.expressions``) reads other indicators of the same initiative by
code, never itself, directly or through other computed indicators; its breakdowns are those
every input collects (a category figure is computed from the inputs' figures of that
category). A computed indicator takes no values and no obligations: its figures are its
inputs' (``models.analytics.computed``), so one with reported values or obligations cannot
become computed, and an indicator an expression reads cannot be deleted.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import Conflict, InvalidInput
from models.core.expressions import Expression, ExpressionError, parse
from models.core.fields import any_row
from models.core.i18n import gettext
from models.tables.indicator import Indicator, Obligation
from models.tables.initiative import Initiative
from models.tables.reporting import Value

FIELD = "expression"


def checked_expression(value: object) -> str | None:
    """The expression as stored (stripped), None for none; refused with the reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(gettext("must be text"), field=FIELD)
    try:
        return parse(value).text
    except ExpressionError as error:
        raise InvalidInput(str(error), field=FIELD) from error


def check_computed(session: Session, initiative: Initiative, indicator: Indicator) -> None:
    """A computed indicator's expression against the initiative: known inputs, no cycle,
    breakdowns its inputs collect, no reported values or obligations of its own."""
    if indicator.expression is None:
        return
    expression = parse(indicator.expression)
    others = {
        i.code: i
        for i in session.scalars(select(Indicator).where(Indicator.initiative_id == initiative.id))
        if i.code != indicator.code
    }
    for code in sorted(expression.codes):
        if code == indicator.code:
            raise InvalidInput(
                gettext("%(code)r cannot be computed from itself", code=code),
                field=FIELD,
                extra={"value": code},
            )
        if code not in others:
            raise InvalidInput(
                gettext("no indicator %(code)r in %(slug)r", code=code, slug=initiative.slug),
                field=FIELD,
                extra={"value": code},
            )
    cycle = _cycle(indicator.code, expression, others)
    if cycle:
        raise InvalidInput(
            gettext("the expression goes round in a circle: %(cycle)s", cycle=" → ".join(cycle)),
            field=FIELD,
            extra={"value": cycle},
        )
    for dimension in indicator.dimensions:
        lacking = sorted(
            code
            for code in expression.codes
            if dimension.id not in {d.id for d in others[code].dimensions}
        )
        if lacking:
            raise InvalidInput(
                gettext(
                    "a computed indicator is broken down by %(code)r only where every input "
                    "is: %(lacking)s is not",
                    code=dimension.code,
                    lacking=", ".join(lacking),
                ),
                field="dimensions",
            )
    if indicator.id is not None:
        if any_row(
            session=session, stmt=select(Value.id).where(Value.indicator_id == indicator.id)
        ):
            raise Conflict(
                gettext(
                    "%(code)r has reported values; it cannot become computed", code=indicator.code
                ),
                field=FIELD,
            )
        if any_row(
            session=session,
            stmt=select(Obligation.id).where(Obligation.indicator_id == indicator.id),
        ):
            raise Conflict(
                gettext(
                    "partners are obliged to report %(code)r; remove the obligations before "
                    "it becomes computed",
                    code=indicator.code,
                ),
                field=FIELD,
            )


def _cycle(code: str, expression: Expression, others: dict[str, Indicator]) -> list[str]:
    """The path from ``code`` back to itself through the expressions, or [] if none."""
    seen: set[str] = set()

    def walk(path: list[str], reads: frozenset[str]) -> list[str]:
        for name in sorted(reads):
            if name == code:
                return [*path, name]
            if name in seen or name not in others or others[name].expression is None:
                continue
            seen.add(name)
            found = walk([*path, name], _codes_of(others[name]))
            if found:
                return found
        return []

    return walk([code], expression.codes)


def _codes_of(indicator: Indicator) -> frozenset[str]:
    assert indicator.expression is not None
    try:
        return parse(indicator.expression).codes
    except ExpressionError:
        return frozenset()  # stored before a cap was lowered: read nothing, loop nowhere


def readers_of(session: Session, indicator: Indicator) -> list[str]:
    """The codes of the computed indicators whose expression reads ``indicator``."""
    return sorted(
        other.code
        for other in session.scalars(
            select(Indicator).where(
                Indicator.initiative_id == indicator.initiative_id,
                Indicator.expression.is_not(None),
                Indicator.id != indicator.id,
            )
        )
        if indicator.code in _codes_of(other)
    )
