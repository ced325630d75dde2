"""Indicators, outcomes and the initiative as the figure views read them: plain rows of their columns, kept
under the initiative's setup revision (``models.analytics.kept``; migration
0023_setup_revision: every write to an indicator or an outcome moves it) instead of loaded as
ORM objects on every request.

What the views do with an indicator is read its columns; a row answers them as the object
does (``IndicatorLike``), and, being plain values, may be shared by requests and threads. It
holds the columns the views read, not the free text they never show (the definition and the
data source, of any length the backbone team writes): kept again under every setup revision,
those would fill a process's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from models.analytics.kept import SetupKey, kept
from models.tables.indicator import Indicator, Outcome
from models.tables.initiative import Initiative


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """An indicator's columns the figure views read (its relationships are the setup's other
    rows, read apart)."""

    id: int
    initiative_id: int
    outcome_id: int | None
    code: str
    name: str
    unit: str
    measure_type: str
    direction: str
    valid_min: float | None
    valid_max: float | None
    decimals: int
    frequency: str
    position: int
    kind: str
    performance_type: str | None
    expression: str | None
    baseline_value: float | None
    baseline_period_id: int | None
    target_value: float | None
    target_period_id: int | None

    def __repr__(self) -> str:
        return f"Indicator({self.code!r})"


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """What the scorecard shows of an indicator's outcome."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class InitiativeRow:
    """What the figure views read of their initiative: taken from the row their answer key
    read in the same transaction (``models.analytics.fresh``), not loaded again as an object."""

    id: int
    slug: str
    name: str
    suppression_threshold: int


# An initiative as the ORM object or as that row: the figure views read these four columns.
InitiativeLike = Initiative | InitiativeRow

# An indicator as an ORM object (the writes, and the readers that load their own) or as the
# row of its columns the figure views keep: both answer the same attributes.
IndicatorLike = Indicator | IndicatorRow

_COLUMNS = tuple(IndicatorRow.__dataclass_fields__)


@cache
def _statement() -> Executable:
    """The initiative's indicators' columns with their outcomes' code and name, in the
    scorecard's order: built once."""
    return (
        select(
            *(getattr(Indicator, c) for c in _COLUMNS),
            Outcome.code.label("cm_outcome_code"),
            Outcome.name.label("cm_outcome_name"),
        )
        .outerjoin(Outcome, Outcome.id == Indicator.outcome_id)
        .where(Indicator.initiative_id == bindparam("initiative_id"))
        .order_by(Outcome.position, Outcome.code, Indicator.position, Indicator.code)
    )


Listed = tuple[tuple[IndicatorRow, OutcomeRow | None], ...]


def _read(session: Session, initiative_id: int) -> Listed:
    width = len(_COLUMNS)
    return tuple(
        (
            IndicatorRow(*row[:width]),
            None if row.cm_outcome_code is None else OutcomeRow(*row[width:]),
        )
        for row in session.connection().execute(_statement(), {"initiative_id": initiative_id})
    )


def _flushed(
    session: Session, setup: SetupKey | None | Literal[False]
) -> SetupKey | None | Literal[False]:
    """The session's pending changes flushed, as the ORM query these rows replace did
    (autoflush): the view of a transaction that changed an indicator shows the change, and,
    having written, keeps nothing (``setup`` read before the flush is then read again)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
        return False
    return setup


def indicators_with_outcomes(
    session: Session, initiative_id: int, *, setup: SetupKey | None | Literal[False] = False
) -> Listed:
    """Every indicator of the initiative with its outcome (None without one), ordered by
    outcome position and code, then indicator position and code: kept under the setup
    revision (``setup``: its key when already read in this request)."""
    setup = _flushed(session, setup)
    return kept(
        session,
        initiative_id,
        "indicators",
        (),
        lambda: _read(session, initiative_id),
        key=setup,
    )


def indicators_by_code(
    session: Session, initiative_id: int, *, setup: SetupKey | None | Literal[False] = False
) -> dict[str, IndicatorRow]:
    """The initiative's indicators by code, kept under the setup revision."""
    setup = _flushed(session, setup)
    return kept(
        session,
        initiative_id,
        "indicators_by_code",
        (),
        lambda: {
            i.code: i for i, _ in indicators_with_outcomes(session, initiative_id, setup=setup)
        },
        key=setup,
    )


def of_outcome(listed: Sequence[tuple[IndicatorRow, OutcomeRow | None]], outcome: str) -> Listed:
    """The indicators of the outcome with code ``outcome``, in the same order."""
    return tuple((i, o) for i, o in listed if o is not None and o.code == outcome)
