"""Import trails, compact: one audit event per import and report instead of one per value.

An import used to record one event per value it wrote (``entity_type`` "value"); it now records
one per report it writes into (``entity_type`` "values", the submission's id, action "import"),
whose ``after`` lists every value written and ``before`` the values it replaced as they were
(``models/audit/values.py``, which reads both forms alike). This converts the trails of earlier
imports: their value events (reason "import of …"), grouped by import (initiative, moment,
actor, reason) and report, become one event each, taking the id of the group's first event so
that the trail keeps its order. Events of values removed since stay as they are (their report
is no longer known from the value), as does any group that is not exactly what an import wrote.

Downgrade expands every such event back into one event per value, in the event's order, at the
ids that follow its own: the ids the upgrade left free, or else later events move up to make
room, in order (event ids give the trail's order; nothing else refers to them).

Revision ID: 0012_import_trails
Revises: 0011_outbox
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_import_trails"
down_revision: str | None = "0011_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = "values"
IMPORT = "import"
COLUMNS = ["id", "indicator", "disaggregation", "value", "numerator", "denominator", "note"]
FIELDS = COLUMNS[1:]
CHUNK = 500

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("at"),  # as stored: compared and copied, never interpreted
    sa.column("actor_user_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("initiative_id", sa.Integer),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("before", _JSON),
    sa.column("after", _JSON),
    sa.column("reason", sa.Text),
)
VALUES = sa.table(
    "values",
    sa.column("id", sa.Integer),
    sa.column("submission_id", sa.Integer),
    sa.column("initiative_id", sa.Integer),
)
KEPT = ("at", "actor_user_id", "actor_label", "initiative_id", "reason")


def upgrade() -> None:
    conn = op.get_bind()
    e = EVENTS.c
    imported = sa.and_(
        e.entity_type == "value",
        e.action.in_(("create", "update")),
        e.reason.like("import of %"),
    )
    imports = conn.execute(sa.select(e.initiative_id, e.at).where(imported).distinct()).all()
    for initiative_id, at in imports:
        rows = conn.execute(
            sa.select(EVENTS, VALUES.c.submission_id)
            .join(
                VALUES,
                sa.and_(VALUES.c.id == e.entity_id, VALUES.c.initiative_id == e.initiative_id),
            )
            .where(imported, e.initiative_id == initiative_id, e.at == at)
            .order_by(e.id)
        ).all()
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for row in rows:
            key = (*(getattr(row, name) for name in KEPT), row.submission_id)
            groups[key].append(row)
        for (*kept, submission_id), events in groups.items():
            batch = _batch(events)
            if batch is None:
                continue
            for chunk in _chunks([event.id for event in events]):
                conn.execute(sa.delete(EVENTS).where(e.id.in_(chunk)))
            conn.execute(
                sa.insert(EVENTS).values(
                    id=events[0].id,
                    **dict(zip(KEPT, kept, strict=True)),
                    entity_type=BATCH,
                    entity_id=submission_id,
                    action=IMPORT,
                    **batch,
                )
            )


def _batch(events: list[Any]) -> dict[str, Any] | None:
    """``before`` and ``after`` of the one event that stands for these value events, or None
    when they are not exactly what an import records (then they stay as they are)."""
    after, before, seen = [], [], set()
    for event in events:
        if event.entity_id in seen or not _picture(event.after):
            return None
        seen.add(event.entity_id)
        after.append([event.entity_id, *(event.after[name] for name in FIELDS)])
        if event.action == "update":
            if not _picture(event.before):
                return None
            before.append([event.entity_id, *(event.before[name] for name in FIELDS)])
        elif event.before is not None:
            return None
    return {
        "before": {"columns": COLUMNS, "rows": before} if before else None,
        "after": {"columns": COLUMNS, "rows": after},
    }


def _picture(fields: Any) -> bool:
    return isinstance(fields, dict) and sorted(fields) == sorted(FIELDS)


def downgrade() -> None:
    conn = op.get_bind()
    e = EVENTS.c
    is_batch = sa.and_(e.entity_type == BATCH, e.action == IMPORT)
    postgres = conn.dialect.name == "postgresql"
    size = (
        sa.func.jsonb_array_length(e.after["rows"])
        if postgres
        else sa.func.json_array_length(e.after, "$.rows")
    )
    sizes = dict(conn.execute(sa.select(e.id, size).where(is_batch)).all())
    if not sizes:
        return
    # Where each event goes: in order, each batch followed by room for its rows.
    moves, starts, cursor = [], {}, 0
    for (event_id,) in conn.execute(sa.select(e.id).where(e.id >= min(sizes)).order_by(e.id)):
        target = max(event_id, cursor)
        if target != event_id:
            moves.append({"old": event_id, "new": target})
        if event_id in sizes:
            starts[target] = event_id
            cursor = target + sizes[event_id]
        else:
            cursor = target + 1
    _drop_audit_guard(postgres)
    # From the last: each event moves up into room no other event holds any more.
    for chunk in _chunks(moves[::-1]):
        conn.execute(
            sa.update(EVENTS).where(e.id == sa.bindparam("old")).values(id=sa.bindparam("new")),
            chunk,
        )
    for start in sorted(starts):
        batch = conn.execute(sa.select(EVENTS).where(e.id == start)).one()
        conn.execute(sa.delete(EVENTS).where(e.id == start))
        rows = list(_expanded(batch, start))
        for chunk in _chunks(rows):
            conn.execute(sa.insert(EVENTS), chunk)
    if postgres:
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('audit_events', 'id'),"
                " (SELECT max(id) FROM audit_events))"
            )
        )
    _create_audit_guard(postgres)


def _expanded(batch: Any, start: int) -> Iterator[dict[str, Any]]:
    """One event per value of a batch, as an import wrote them, numbered from ``start``."""
    was = {row[0]: row for row in (batch.before or {}).get("rows", [])}
    columns = batch.after["columns"]
    for offset, row in enumerate(batch.after["rows"]):
        picture = dict(zip(columns, row, strict=True))
        value_id = picture.pop("id")
        old = was.get(value_id)
        yield {
            "id": start + offset,
            **{name: getattr(batch, name) for name in KEPT},
            "entity_type": "value",
            "entity_id": value_id,
            "action": "create" if old is None else "update",
            "before": None if old is None else dict(zip(columns[1:], old[1:], strict=True)),
            "after": picture,
        }


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# The append-only guard of the initial schema, lifted while the downgrade renumbers events.


def _drop_audit_guard(postgres: bool) -> None:
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")


def _create_audit_guard(postgres: bool) -> None:
    if postgres:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
