"""A report's versions: what changed in it since it was last submitted.

A report the backbone team returned comes back changed; the reviewer should read what changed,
not hunt for it. The values as the report held them when it was previously submitted are
replayed from the audit trail: every write of a value leaves the value before and after, keyed by
its indicator and disaggregation — in an event of its own (a save) or in its import's event for
the report (``models.audit.values`` reads both alike) — and the event of a removed value names
its report. Event ids give the order (a write's value events are recorded before the submit
that follows it; the demo writes its trail oldest first too). A value with no event at all was
loaded in bulk without a trail and has not changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit.values import value_changes
from models.core.actors import Actor
from models.reporting.submissions import _context
from models.tables.audit import AuditEvent
from models.tables.indicator import Indicator
from models.tables.reporting import Submission, Value

FIELDS = ("value", "numerator", "denominator", "note")
Cell = tuple[str, str]  # (indicator code, disaggregation)


@dataclass(frozen=True)
class CellChange:
    """One value that differs from the previous submitted version."""

    value_id: int  # the value now, or (removed) the one the previous version held
    indicator: str
    disaggregation: str
    before: dict[str, Any] | None  # value, numerator, denominator, note; None: not there
    after: dict[str, Any] | None  # None: removed since

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


@dataclass(frozen=True)
class SentBack:
    """The return (or reopening) that sent the previous version back to the partner."""

    action: str  # "return" or "reopen"
    at: datetime
    actor_label: str
    comment: str | None


@dataclass(frozen=True)
class VersionChanges:
    """A report against its previous submitted version; ``previous_at`` None means the trail
    holds no earlier submission, so there is nothing to compare with."""

    previous_at: datetime | None = None
    previous_version: int | None = None
    sent_back: SentBack | None = None
    changes: tuple[CellChange, ...] = ()


def submission_changes(
    *, session: Session, actor: Actor, initiative_slug: str, org_slug: str, period_key: str
) -> VersionChanges:
    """What changed in a report since its previous submitted version: for a report under
    review or approved, since the submission before the current one; for one being edited
    again (returned, reopened), since its last submission. Visible to whoever may see the
    report (its partner's reporters, the backbone team); others get 404."""
    ctx = _context(session, actor, initiative_slug, org_slug, period_key)
    sub = ctx.submission
    if sub is None:
        return VersionChanges()
    trail = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.initiative_id == ctx.initiative.id,
            AuditEvent.entity_type == "submission",
            AuditEvent.entity_id == sub.id,
        )
        .order_by(AuditEvent.id)
    ).all()
    submits = [e for e in trail if e.action == "submit"]
    current_is_submitted = sub.status in ("submitted", "approved")
    earlier = submits[:-1] if current_is_submitted else submits
    if not earlier:
        return VersionChanges()
    previous = earlier[-1]
    sent_back = next(
        (
            SentBack(e.action, e.at, e.actor_label, e.reason)
            for e in reversed(trail)
            if e.id > previous.id and e.action in ("return", "reopen")
        ),
        None,
    )
    now = _current(session, sub)
    then = _replay(session, ctx.initiative.id, sub, now, previous.id, since=trail[0].id)
    changes = []
    for cell in sorted(then.keys() | now.keys()):
        old, new = then.get(cell), now.get(cell)
        if old is not None and new is not None and _same(old[1], new[1]):
            continue
        value_id = (new or old or (0, {}))[0]
        changes.append(
            CellChange(
                value_id,
                cell[0],
                cell[1],
                old[1] if old is not None else None,
                new[1] if new is not None else None,
            )
        )
    return VersionChanges(
        previous_at=previous.at,
        previous_version=(previous.after or {}).get("version"),
        sent_back=sent_back,
        changes=tuple(changes),
    )


def _current(session: Session, sub: Submission) -> dict[Cell, tuple[int, dict[str, Any]]]:
    """The report's values now: cell → (value id, fields)."""
    rows = session.execute(
        select(Value, Indicator.code)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id == sub.id)
    ).all()
    return {
        (code, v.disaggregation): (v.id, {f: getattr(v, f) for f in FIELDS}) for v, code in rows
    }


def _replay(
    session: Session,
    initiative_id: int,
    sub: Submission,
    now: Mapping[Cell, tuple[int, dict[str, Any]]],
    upto: int,
    *,
    since: int,
) -> dict[Cell, tuple[int, dict[str, Any]]]:
    """The report's values as they stood at the audit event ``upto``: cell → (value id,
    fields). The values to replay are those it holds now and those removed from it after its
    first event ``since`` (removals are rare: the initiative's are read, then picked by their
    report)."""
    removed = [
        e.entity_id
        for e in session.scalars(
            select(AuditEvent).where(
                AuditEvent.initiative_id == initiative_id,
                AuditEvent.entity_type == "value",
                AuditEvent.action == "delete",
                AuditEvent.id > since,
            )
        )
        if e.entity_id is not None and (e.before or {}).get("submission") == sub.id
    ]
    live = {value_id: (cell, fields) for cell, (value_id, fields) in now.items()}
    events = value_changes(
        session=session,
        initiative_id=initiative_id,
        value_ids=[*live, *removed],
        submission_ids=[sub.id],
    )
    then: dict[Cell, tuple[int, dict[str, Any]]] = {}
    for value_id in {*live, *removed}:
        trail = events.get(value_id, [])
        before = [e for e in trail if e.event_id < upto]
        if before:
            state = before[-1].after  # None once deleted
        elif trail:
            state = trail[0].before  # None when it was created after
        else:
            state = live[value_id][1] if value_id in live else None  # unchanged since loaded
        if state is None:
            continue
        if value_id in live:
            cell = live[value_id][0]
        else:
            cell = (str(state.get("indicator")), str(state.get("disaggregation")))
        then[cell] = (value_id, {f: state.get(f) for f in FIELDS})
    return then


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(a.get(f) == b.get(f) for f in FIELDS)
