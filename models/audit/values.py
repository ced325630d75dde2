"""Changes of reported values as the audit trail keeps them, and read back one value at a time.

Two forms, one meaning (README: Audit):

- a save records each value it changes as its own event (``entity_type`` ``"value"``, the
  value's id), with the value before and after;
- an import records one event per report it writes into (``entity_type`` :data:`BATCH`, the
  submission's id, action :data:`IMPORT`): its ``after`` holds every value the import wrote and
  its ``before`` the values it replaced as they were, one compact row each (``{"columns": [...],
  "rows": [[...], ...]}``, columns :data:`COLUMNS`). Who, when and why are the event's, shared by
  its rows. An import of 100,000 values thus writes a few hundred events, not 100,000.

:func:`value_changes` reads both back as one list per value, as if every change had its own
event, so a value's history and a report's versions answer alike whichever form wrote it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables.audit import AuditEvent

VALUE = "value"  # one value's change
BATCH = "values"  # one import's changes of one report's values
IMPORT = "import"
# A row of a batch: the value's id, then its picture as a single change's event records it.
COLUMNS = ("id", "indicator", "disaggregation", "value", "numerator", "denominator", "note")
_IN_CHUNK = 500  # ids per IN (…) list


@dataclass(frozen=True)
class ValueChange:
    """One change of one value: who, when, from what, to what, why (``event_id``: the event
    that records it, alone or in a batch; ids only grow, so they give the order of writes)."""

    event_id: int
    at: datetime
    actor_label: str
    value_id: int
    action: str  # create, update, delete
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


def batch_changes(event: AuditEvent) -> Iterator[ValueChange]:
    """The value changes a batch event holds, in its rows' order: a value whose former picture
    the event keeps was updated, any other created."""
    was = {value_id: picture for value_id, picture in _pictures(event.before)}
    for value_id, picture in _pictures(event.after):
        before = was.get(value_id)
        yield ValueChange(
            event.id,
            event.at,
            event.actor_label,
            value_id,
            "create" if before is None else "update",
            before,
            picture,
            event.reason,
        )


def _pictures(table: Mapping[str, Any] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    if not table:
        return
    columns = table["columns"]
    for row in table["rows"]:
        picture = dict(zip(columns, row, strict=True))
        yield int(picture.pop("id")), picture


def single_change(event: AuditEvent) -> ValueChange:
    assert event.entity_id is not None  # a value event names its value
    return ValueChange(
        event.id,
        event.at,
        event.actor_label,
        event.entity_id,
        event.action,
        event.before,
        event.after,
        event.reason,
    )


def value_changes(
    *,
    session: Session,
    initiative_id: int,
    value_ids: Collection[int],
    submission_ids: Iterable[int] = (),
) -> dict[int, list[ValueChange]]:
    """Value id → its changes in the initiative, in the order they were written.

    ``submission_ids`` are the reports the values are in (a value never moves): their batch
    events are read for the values' imported changes. A removed value's report is named by its
    removal event, so it need not be given."""
    wanted = set(value_ids)
    out: dict[int, list[ValueChange]] = defaultdict(list)
    reports = set(submission_ids)
    for chunk in _chunks(sorted(wanted)):
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.initiative_id == initiative_id,
                AuditEvent.entity_type == VALUE,
                AuditEvent.entity_id.in_(chunk),
            )
        ):
            change = single_change(event)
            out[change.value_id].append(change)
            report = (event.before or {}).get("submission")  # a removal names its report
            if isinstance(report, int):
                reports.add(report)
    for chunk in _chunks(sorted(reports)):
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.initiative_id == initiative_id,
                AuditEvent.entity_type == BATCH,
                AuditEvent.entity_id.in_(chunk),
            )
        ):
            for change in batch_changes(event):
                if change.value_id in wanted:
                    out[change.value_id].append(change)
    for changes in out.values():
        changes.sort(key=lambda c: c.event_id)
    return dict(out)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]
