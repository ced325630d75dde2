"""An import's staging table and the set-based merge of its rows into ``values``.

Checked rows stream into a temporary table as they are read — ``COPY`` on PostgreSQL, one
``executemany`` per chunk on SQLite — so an import holds one chunk in memory whatever the file's
length. Everything after that is a handful of statements in the caller's transaction, however
many rows there are: find duplicates across chunks, match the rows to the values already
stored, count what would change, then record the import's audit event for each report it writes
into (``models.audit.values``: its rows before and after, the JSON built by the database),
``UPDATE … FROM`` the changed values and ``INSERT … SELECT`` the new ones (their ids numbered
first, so the events name them without finding the rows again). No ORM object is made per
value.

On SQLite the rows are kept in memory first (:class:`Stage`): an import whose rows all go to
reports it creates writes them with one ``executemany`` and builds the events from the rows
just written, with the same ids, JSON and order as through the table.

The table is ``TEMPORARY``: private to the connection, dropped at commit on PostgreSQL and
explicitly by :meth:`Stage.drop` (SQLite keeps temporary tables for the connection's life).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Float,
    FromClause,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    not_,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.audit.values import BATCH, COLUMNS, IMPORT
from models.core.actors import Actor
from models.tables.audit import AuditEvent
from models.tables.indicator import Indicator
from models.tables.reporting import Submission, Value

STAGE = Table(
    "import_stage",
    MetaData(),  # not the application's metadata: migrations never see it
    Column("row", Integer, nullable=False),  # the file's row number, for error messages
    Column("grp", Integer, nullable=False),  # the (organisation, period) group's number
    Column("submission_id", Integer),  # NULL for a submission the import creates
    Column("member_id", Integer, nullable=False),
    Column("period_id", Integer, nullable=False),
    Column("indicator_id", Integer, nullable=False),
    Column("measure_type", String(10)),  # NULL (like value) for a refused row
    Column("category_id", Integer),
    Column("disaggregation", String(90), nullable=False),
    # NULL for a refused row, staged only so a later repeat of its cell is found; a file with
    # refused rows is never merged.
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("note", Text),
    Column("flags", Text),  # JSON list of flag codes, when known before the write (else NULL)
    Column("value_id", Integer),  # the stored value this row replaces, if any
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
LOADED = [
    c.name for c in STAGE.c if c.name not in ("value_id", "new_id")
]  # what :meth:`Stage.add` takes

_VALUES = Value.__table__
MEMORY_ROWS = 250_000  # rows an import keeps in memory before it makes its staging table
_GROUPS_LISTED = 500  # groups named in one IN (…) list (SQLite limits a statement's parameters)
_SUBMISSIONS = Submission.__table__
_AUDIT = AuditEvent.__table__
_INDICATORS = Indicator.__table__


class Stage:
    """The staging table of one import, on the session's connection.

    On SQLite the rows are first kept in memory (:data:`MEMORY_ROWS` at most): while every row
    goes to a report the import creates, there is nothing to match or merge, and the rows go
    straight into ``values`` with one ``executemany`` (:meth:`write`), the repeats and counts
    found in Python. The table is made, and the kept rows loaded into it, only when a row goes
    to a stored report (:meth:`prepare`) or the file outgrows memory (:meth:`add`); a dry run
    (``memory`` false), which writes nothing, stages in the table from the start."""

    def __init__(self, *, session: Session, memory: bool = True) -> None:
        self.conn: Connection = session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.rows = 0
        self.drop()  # what an interrupted import may have left on this pooled connection
        self.kept: list[tuple[Any, ...]] | None = None
        if self.postgres or not memory:
            STAGE.create(self.conn)
        else:
            self.kept = []

    def drop(self) -> None:
        schema = "pg_temp." if self.postgres else "temp."
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {schema}import_stage")

    def _spill(self) -> None:
        """Make the table and load the rows kept in memory into it."""
        kept, self.kept = self.kept, None
        if kept is not None:
            STAGE.create(self.conn)
            self.rows = 0
            self.add(kept)

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Append checked rows (tuples in :data:`LOADED` order)."""
        if not rows:
            return
        if self.kept is not None:
            self.kept += rows
            self.rows += len(rows)
            if self.rows > MEMORY_ROWS:
                self._spill()
            return
        if self.postgres:
            import psycopg

            driver = self.conn.connection.driver_connection
            assert driver is not None  # the connection is checked out and live
            statement = f"COPY import_stage ({', '.join(LOADED)}) FROM STDIN"
            try:
                with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            except psycopg.Error as exc:
                # The driver's own error, past SQLAlchemy: wrap it like any other statement's,
                # so the API's handlers (DataError → 422, OperationalError → 503) see it.
                raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
        else:
            marks = ", ".join("?" * len(LOADED))
            self.conn.exec_driver_sql(
                f"INSERT INTO import_stage ({', '.join(LOADED)}) VALUES ({marks})", rows
            )
        self.rows += len(rows)

    def prepare(self, *, match: bool = True) -> None:
        """Index the loaded rows and match each to the value it would replace (``match``
        false: every row goes to a submission the import creates, which holds no value)."""
        if match:
            self._spill()
        if self.kept is not None:
            return  # nothing to index or match: the rows stay in memory
        self.conn.exec_driver_sql(
            "CREATE INDEX import_stage_key ON import_stage (grp, indicator_id, disaggregation)"
        )
        s, v = STAGE.c, _VALUES.c
        if match:
            self.conn.execute(
                update(STAGE)
                .where(s.submission_id.is_not(None))
                .values(
                    value_id=select(v.id)
                    .where(
                        v.submission_id == s.submission_id,
                        v.indicator_id == s.indicator_id,
                        v.disaggregation == s.disaggregation,
                    )
                    .scalar_subquery()
                )
            )
        if self.postgres:
            self.conn.exec_driver_sql("ANALYZE import_stage")

    def duplicates(self, groups: list[int]) -> list[tuple[int, int, str]]:
        """(row, indicator id, disaggregation) of every row repeating an earlier row's cell,
        in the groups numbered ``groups`` (those whose rows came in more than one chunk; past
        :data:`_GROUPS_LISTED` of them every group is searched, not a list of parameters)."""
        if self.kept is not None:
            wanted = set(groups)
            earliest: dict[tuple[int, int, str], int] = {}
            spread = [r for r in self.kept if r[1] in wanted]
            for r in spread:
                cell = (r[1], r[5], r[8])
                if earliest.get(cell, r[0]) >= r[0]:
                    earliest[cell] = r[0]
            return sorted((r[0], r[5], r[8]) for r in spread if r[0] > earliest[(r[1], r[5], r[8])])
        s = STAGE.c
        scope = s.grp.in_(groups) if len(groups) <= _GROUPS_LISTED else true()
        first = (
            select(s.grp, s.indicator_id, s.disaggregation, func.min(s.row).label("first"))
            .where(scope)
            .group_by(s.grp, s.indicator_id, s.disaggregation)
            .having(func.count() > 1)
            .subquery()
        )
        return [
            tuple(r)
            for r in self.conn.execute(
                select(s.row, s.indicator_id, s.disaggregation)
                .join(
                    first,
                    and_(
                        first.c.grp == s.grp,
                        first.c.indicator_id == s.indicator_id,
                        first.c.disaggregation == s.disaggregation,
                    ),
                )
                .where(s.row > first.c.first)
                .order_by(s.row)
            )
        ]

    def counts(self) -> dict[int, tuple[int, int, int]]:
        """Group number → (created, updated, unchanged) of its accepted rows, compared like a
        single write does."""
        if self.kept is not None:  # no row matches a stored value: every accepted row is new
            created: dict[int, int] = {}
            for r in self.kept:
                if r[9] is not None:
                    created[r[1]] = created.get(r[1], 0) + 1
            return {grp: (count, 0, 0) for grp, count in created.items()}
        s = STAGE.c
        matched = func.count(s.value_id)
        changed = func.sum(case((and_(s.value_id.is_not(None), not_(_same())), 1), else_=0))
        rows = self.conn.execute(
            select(s.grp, func.count(), matched, changed)
            .select_from(STAGE.outerjoin(_VALUES, _VALUES.c.id == s.value_id))
            .where(s.value.is_not(None))
            .group_by(s.grp)
        )
        return {
            grp: (total - found, int(changed or 0), found - int(changed or 0))
            for grp, total, found, changed in rows
        }

    def write(
        self,
        *,
        actor: Actor,
        initiative_id: int,
        reason: str,
        now: datetime,
        updates: bool = True,
        submissions: dict[int, int] | None = None,
    ) -> None:
        """Merge into ``values`` and record the import's event for each report it writes into
        (``models.audit.values``): the events read the changed values as they were, so they
        are written before the update; the new values' ids come from their insertion itself
        (PostgreSQL: ``RETURNING`` in the same statement) or are set beforehand (SQLite: the
        largest id plus the file's row number; the import's earlier writes hold the database's
        write lock, so no other writer takes an id meanwhile). ``updates`` false: no staged row
        changes a stored value (as :meth:`counts` found), so none is updated. ``submissions``:
        each group's report by its number, when the caller knows them all (see
        :meth:`_write_kept`)."""
        if self.kept is not None:
            self._write_kept(actor, initiative_id, reason, now, submissions or {})
            return
        s, v = STAGE.c, _VALUES.c
        new = and_(s.value_id.is_(None), s.value.is_not(None))
        if self.postgres:
            inserted = (
                self._insert(actor, initiative_id, now, STAGE, new)
                .returning(*(v[name] for name in ("id", "submission_id", "indicator_id", *_ROW)))
                .cte("inserted")
            )
            self.conn.execute(
                self._audit(actor, initiative_id, reason, now, inserted, inserted.c.id)
            )
        else:
            largest = self.conn.scalar(select(func.coalesce(func.max(v.id), 0)))
            new_id = literal(largest, Integer) + s.row  # the file's rows are numbered apart
            self.conn.execute(
                self._audit(actor, initiative_id, reason, now, STAGE, new_id, where=new)
            )
        if updates:
            self.conn.execute(
                update(_VALUES)
                .where(v.id == s.value_id, not_(_same()))
                .values(
                    value=s.value,
                    numerator=s.numerator,
                    denominator=s.denominator,
                    note=s.note,
                    updated_at=literal(now, _VALUES.c.updated_at.type),
                    updated_by_id=literal(actor.user_id, Integer),
                )
            )
        if not self.postgres:
            self.conn.execute(self._insert(actor, initiative_id, now, STAGE, new, new_id))

    def _write_kept(
        self,
        actor: Actor,
        initiative_id: int,
        reason: str,
        now: datetime,
        submissions: dict[int, int],
    ) -> None:
        """SQLite, every row kept in memory and new, the file clean (no refused row is kept):
        one ``executemany`` of the kept rows themselves into ``values``, its id numbered as
        :meth:`write` numbers it (the largest plus the file's row number); then the events from
        the rows just written (their ids above the largest). What every row shares is written
        into the statement.

        Each row's report is its group number plus one offset when ``submissions`` (group
        number → report id) gives every kept group's report at that offset, as the reports an
        import creates in its groups' order are numbered; otherwise it is found by member and
        period for each row (a lookup per row that costs a tenth of the insert)."""
        assert self.kept is not None
        v = _VALUES.c
        largest = self.conn.scalar(select(func.coalesce(func.max(v.id), 0)))
        dialect = self.conn.dialect
        stamp_of = v.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
        stamp = str(stamp_of(now) if stamp_of is not None else now).replace("'", "''")
        user = "NULL" if actor.user_id is None else f"{actor.user_id:d}"
        groups = set(map(itemgetter(1), self.kept))
        offsets = {submissions[g] - g for g in groups} if groups <= submissions.keys() else set()
        # What each row binds: only what varies (a parameter costs, and a NULL one costs four
        # times a number: the driver tries to adapt it), so no note when no row has one.
        noted = any(map(itemgetter(LOADED.index("note")), self.kept))
        bound = ["row", "grp" if len(offsets) == 1 else "member_id", *_STAGED, "flags"]
        if not noted:
            bound.remove("note")
        kept = {name: f"?{i + 1}" for i, name in enumerate(bound)}  # a row's parameters
        if len(offsets) == 1:
            report = f"{kept['grp']} + {offsets.pop():d}"
        else:
            report = (
                f"(SELECT id FROM submissions WHERE member_id = {kept['member_id']}"
                f" AND period_id = {kept['period_id']})"
            )
        columns = {
            "id": f"{kept['row']} + {largest:d}",
            "submission_id": report,
            **{name: kept.get(name, "NULL") for name in _STAGED},
            "flags": f"coalesce({kept['flags']}, '[]')",
            "initiative_id": f"{initiative_id:d}",
            "updated_at": f"'{stamp}'",
            "updated_by_id": user,
        }
        statement = (
            f'INSERT INTO "values" ({", ".join(columns)}) VALUES ({", ".join(columns.values())})'
        )
        rows = map(itemgetter(*map(LOADED.index, bound)), self.kept)
        driver = self.conn.connection.driver_connection
        assert driver is not None  # the connection is checked out and live
        try:  # the driver's own executemany: it takes the rows as they are made, no list
            driver.executemany(statement, rows)
        except sqlite3.Error as exc:
            # Wrapped like any other statement's error, so the API's handlers see it.
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
        self.conn.execute(
            self._audit(
                actor, initiative_id, reason, now, _VALUES, v.id, v.id > largest, written=True
            )
        )

    def _insert(
        self,
        actor: Actor,
        initiative_id: int,
        now: datetime,
        source: FromClause,
        where: ColumnElement[bool],
        value_id: ColumnElement[Any] | None = None,
    ) -> Insert:
        """``INSERT … SELECT`` of the new values staged in ``source`` (``where`` picks them),
        with their ids ``value_id`` or the table's own."""
        c = source.c
        flags: ColumnElement[Any] = func.coalesce(
            c.flags, literal_column("'[]'")
        )  # staged by the import, or none
        if self.postgres:
            flags = cast(flags, JSONB)
        columns = {
            "submission_id": _SUBMISSIONS.c.id,
            "initiative_id": literal(initiative_id, Integer),
            **{name: c[name] for name in _STAGED},
            "flags": flags,
            "updated_at": literal(now, _VALUES.c.updated_at.type),
            "updated_by_id": literal(actor.user_id, Integer),
        }
        if value_id is not None:
            columns = {"id": value_id, **columns}
        return insert(_VALUES).from_select(
            list(columns),
            select(*columns.values())
            .select_from(source.join(_SUBMISSIONS, _of_submission(source)))
            .where(where),
        )

    def _audit(
        self,
        actor: Actor,
        initiative_id: int,
        reason: str,
        now: datetime,
        new: FromClause,
        new_id: ColumnElement[Any],
        where: ColumnElement[bool] | None = None,
        *,
        written: bool = False,
    ) -> Insert:
        """One event per report the import writes into: every written value as it will be
        (the changed ones from the staging table, the new ones from ``new`` with their ids
        ``new_id``), and the changed ones also as they were, in rows built by the database.
        ``written``: ``new`` is ``values`` itself, the new rows already in it (``where`` picks
        them) and no value changed; each report's rows in the order of their ids, which is the
        order of the file's rows, as the staging table holds them."""
        s, v, code = STAGE.c, _VALUES.c, _INDICATORS.c.code
        n = new.c
        if written:
            # In the order of the ids: the rows are a range of ids, read without the table's
            # other rows (ordering by report here would walk an index of every value).
            rows = (
                select(n.submission_id, _row(False, new_id, code, new))
                .select_from(new.join(_INDICATORS, _INDICATORS.c.id == n.indicator_id))
                .where(where if where is not None else true())
                .order_by(new_id)
                .subquery("written")
            )
            report, after = rows.c
            return self._events(actor, initiative_id, reason, now, report, after, None)
        if self.postgres:  # the inserted rows: their report is in them
            created = select(
                n.submission_id, _row(True, new_id, code, new), cast(null(), JSON)
            ).select_from(new.join(_INDICATORS, _INDICATORS.c.id == n.indicator_id))
        else:
            created = (
                select(_SUBMISSIONS.c.id, _row(False, new_id, code, new), null())
                .select_from(
                    new.join(_INDICATORS, _INDICATORS.c.id == n.indicator_id).join(
                        _SUBMISSIONS, _of_submission(new)
                    )
                )
                .where(where if where is not None else true())
            )
        changed = select(
            v.submission_id,
            _row(self.postgres, v.id, code, STAGE),
            _row(self.postgres, v.id, code, _VALUES),
        ).select_from(
            STAGE.join(_VALUES, and_(v.id == s.value_id, not_(_same()))).join(
                _INDICATORS, _INDICATORS.c.id == s.indicator_id
            )
        )
        report, after, before = union_all(changed, created).subquery("written").c
        return self._events(actor, initiative_id, reason, now, report, after, before)

    def _events(
        self,
        actor: Actor,
        initiative_id: int,
        reason: str,
        now: datetime,
        report: ColumnElement[Any],
        after: ColumnElement[Any],
        before: ColumnElement[Any] | None,
    ) -> Insert:
        """The events' ``INSERT … SELECT`` from rows (report, row after, row before; no
        ``before``: no row changed)."""
        return insert(_AUDIT).from_select(
            [
                "at",
                "actor_user_id",
                "actor_label",
                "initiative_id",
                "entity_type",
                "entity_id",
                "action",
                "before",
                "after",
                "reason",
            ],
            select(
                literal(now, _AUDIT.c.at.type),
                literal(actor.user_id, Integer),
                literal(actor.label, String),
                literal(initiative_id, Integer),
                literal(BATCH, String),
                report,
                literal(IMPORT, String),
                null()
                if before is None
                else case((func.count(before) > 0, _table(self.postgres, before)), else_=None),
                _table(self.postgres, after),
                literal(reason, Text),
            )
            .group_by(report)
            .order_by(report),
        )


def _of_submission(staged: FromClause) -> ColumnElement[bool]:
    """The staged row's submission, by member and period: those created after staging too."""
    return and_(
        _SUBMISSIONS.c.member_id == staged.c.member_id,
        _SUBMISSIONS.c.period_id == staged.c.period_id,
    )


def _same() -> ColumnElement[bool]:
    """The staged row holds what the stored value holds (NULL-safe, exact, like the writer)."""
    s, v = STAGE.c, _VALUES.c
    return and_(
        v.value == s.value,
        v.numerator.is_not_distinct_from(s.numerator),
        v.denominator.is_not_distinct_from(s.denominator),
        v.note.is_not_distinct_from(s.note),
    )


# What a value's row holds after its id and indicator (models.audit.values.COLUMNS).
_ROW = ("disaggregation", "value", "numerator", "denominator", "note")
# What the staging table holds of a new value, as the value table names it.
_STAGED = (
    "period_id",
    "indicator_id",
    "measure_type",
    "category_id",
    "disaggregation",
    "value",
    "numerator",
    "denominator",
    "note",
)


def _row(
    postgres: bool, value_id: ColumnElement[Any], code: ColumnElement[Any], source: FromClause
) -> ColumnElement[Any]:
    """A value's row in its import's event: its id, its indicator's code, then its fields
    from ``source`` (the staging table as written, the value table as it was)."""
    build = func.json_build_array if postgres else func.json_array
    return build(value_id, code, *(source.c[name] for name in _ROW))


def _table(postgres: bool, rows: ColumnElement[Any]) -> ColumnElement[Any]:
    """``{"columns": [...], "rows": [...]}`` of one report's rows (NULL rows left out). On
    PostgreSQL built as ``json`` (text, cheaper to aggregate) and stored as ``jsonb``."""
    columns = ", ".join(f"'{name}'" for name in COLUMNS)
    if postgres:
        return cast(
            func.json_build_object(
                literal_column("'columns'"),
                literal_column(f"json_build_array({columns})"),
                literal_column("'rows'"),
                func.json_agg(rows).filter(rows.is_not(None)),
            ),
            JSONB,
        )
    # SQLite: the object's text put together from the rows' texts, which ``json_array`` made
    # minified: what ``json_object`` over ``json_group_array(json(rows))`` gives, byte for
    # byte, without parsing every row again (the rows lose their JSON subtype in the union's
    # subquery; ``group_concat`` skips NULL rows and keeps the rows' order as the array did).
    head: ColumnElement[str] = literal_column(
        f"""'{{"columns":' || json_array({columns}) || ',"rows":['"""
    )
    body = func.coalesce(func.group_concat(rows, literal_column("','")), literal_column("''"))
    return head.op("||")(body).op("||")(literal_column("']}'"))
