"""The demo's reports as the workflow would have recorded them: their moves and audit events.

The demo inserts its reports in bulk (docs/architecture.md: Scale), yet what changed in a report
since its last version (``models.reporting.versions``) and a value's history are read from the
audit trail. So every demo report is told as a list of moves (saves, submissions, returns,
approvals, reopenings, each by a login at a moment), and this module replays them through the
workflow's own rules (``TRANSITIONS``, the editable statuses) into the report's columns (status,
version, comment, times) and into exactly the events ``models.reporting.submissions`` records for
the same moves (its own event builders). The columns and the trail therefore always agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.reporting.submissions import (
    EDITABLE,
    TRANSITIONS,
    submission_event,
    value_event,
)

Cell = tuple[int, str]  # (indicator id, disaggregation)
Fields = dict[str, Any]  # value, numerator, denominator, note: what a value's event holds
FIELDS = ("value", "numerator", "denominator", "note")


@dataclass
class Move:
    """One write into a report: a save of values, or a move through the workflow."""

    at: datetime
    by: str  # whose login: the member organisation's slug (its reporter) or "backbone"
    action: str  # "save", or an action of TRANSITIONS
    comment: str | None = None  # a return's or reopening's comment; a save's reason
    # A save after the first: the cells it changed, with what they held before it (the first
    # save writes every value as it stands now, but for the cells a later save changed).
    before: dict[Cell, Fields] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredValue:
    """A demo value as stored, to replay its events: the event names its indicator by code."""

    id: int
    code: str
    cell: Cell
    fields: Fields


def fields_of(row: Mapping[Any, Any]) -> Fields:
    """The fields an audit event records of a value row."""
    return {name: row[name] for name in FIELDS}


def _replay(moves: Sequence[Move]) -> Iterator[tuple[Move, str | None, str, int]]:
    """(move, status before, status after, version after) for each move, refusing any move the
    workflow would refuse (the first move saves a draft; only drafts and returned reports are
    saved; each action from its source statuses)."""
    status: str | None = None
    for version, move in enumerate(moves, start=1):  # every write is a new version
        if move.action == "save":
            assert status is None or status in EDITABLE, (move, status)
            target = status or "draft"
        else:
            sources, target = TRANSITIONS[move.action]
            assert status in sources, (move, status)
        yield move, status, target, version
        status = target


def columns(moves: Sequence[Move]) -> dict[str, Any]:
    """The report's columns as the workflow leaves them after ``moves`` (see
    ``models.reporting.submissions.transition``): the latest submission and approval, the first
    submission (its lateness), the comment of a return or reopening until approved; logins as
    in :class:`Move`."""
    out: dict[str, Any] = {
        "created_at": moves[0].at,
        "updated_at": moves[-1].at,
        "submitted_at": None,
        "submitted_by": None,
        "first_submitted_at": None,
        "approved_at": None,
        "approved_by": None,
        "comment": None,
    }
    for move, _before, target, version in _replay(moves):
        out["status"], out["version"] = target, version
        if move.action == "submit":
            out |= {"submitted_at": move.at, "submitted_by": move.by}
            out["first_submitted_at"] = out["first_submitted_at"] or move.at
        elif move.action == "approve":
            out |= {"approved_at": move.at, "approved_by": move.by, "comment": None}
        elif move.action in ("return", "reopen"):
            out["comment"] = move.comment
            if move.action == "reopen":
                out |= {"approved_at": None, "approved_by": None}
    return out


def events(
    submission_id: int, moves: Sequence[Move], values: Sequence[StoredValue]
) -> list[tuple[Move, dict[str, Any]]]:
    """The audit events of one report's moves, each with the move that wrote it, in the order
    the workflow writes them: the first save creates the report and then its values; a later
    save records each value it changed (before, after, its reason); every workflow move, the
    report's status before and after with its new version."""
    now = {v.cell: v for v in values}
    first = {v.cell: v.fields for v in values}
    for move in moves[1:]:
        for cell, was in move.before.items():
            assert cell in now and first[cell] is now[cell].fields, f"{cell} changed twice"
            first[cell] = was
    out: list[tuple[Move, dict[str, Any]]] = []
    for move, before, target, version in _replay(moves):
        if move.action != "save":
            reason = move.comment if move.action in ("return", "reopen") else None
            event = submission_event(submission_id, version, move.action, before, target, reason)
            out.append((move, event))
        elif before is None:
            out.append(
                (move, submission_event(submission_id, version, "create", None, target, None))
            )
            out.extend((move, _value(v, "create", None, first[v.cell], None)) for v in values)
        else:
            out.extend(
                (move, _value(now[cell], "update", was, now[cell].fields, move.comment))
                for cell, was in sorted(move.before.items(), key=lambda kv: now[kv[0]].id)
            )
    return out


def _value(
    v: StoredValue, action: str, before: Fields | None, after: Fields, reason: str | None
) -> dict[str, Any]:
    return value_event(
        v.id, action, before, after, reason, indicator=v.code, disaggregation=v.cell[1]
    )
