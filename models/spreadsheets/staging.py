"""An import's staging table and the set-based merge of its rows into ``values``.

Checked rows stream into a temporary table as they are read — ``COPY`` on PostgreSQL, one
``executemany`` per chunk on SQLite — so an import holds one chunk in memory whatever the file's
length. Everything after that is a handful of statements in the caller's transaction, however
many rows there are: find duplicates across chunks, match the rows to the values already
stored, count what would change, then ``UPDATE … FROM`` the changed values, ``INSERT … SELECT``
the new ones and write their audit events with ``INSERT … SELECT`` too (the JSON of each event
is built by the database). No ORM object is made per value.

The table is ``TEMPORARY``: private to the connection, dropped at commit on PostgreSQL and
explicitly by :meth:`Stage.drop` (SQLite keeps temporary tables for the connection's life).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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
LOADED = [c.name for c in STAGE.c if c.name != "value_id"]  # what :meth:`Stage.add` takes

_VALUES = Value.__table__
_SUBMISSIONS = Submission.__table__
_AUDIT = AuditEvent.__table__
_INDICATORS = Indicator.__table__


class Stage:
    """The staging table of one import, on the session's connection."""

    def __init__(self, *, session: Session) -> None:
        self.conn: Connection = session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.rows = 0
        self.drop()  # what an interrupted import may have left on this pooled connection
        STAGE.create(self.conn)

    def drop(self) -> None:
        schema = "pg_temp." if self.postgres else "temp."
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {schema}import_stage")

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Append checked rows (tuples in :data:`LOADED` order)."""
        if not rows:
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

    def prepare(self) -> None:
        """Index the loaded rows and match each to the value it would replace."""
        self.conn.exec_driver_sql(
            "CREATE INDEX import_stage_key ON import_stage (grp, indicator_id, disaggregation)"
        )
        s, v = STAGE.c, _VALUES.c
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

    def duplicates(self) -> list[tuple[int, int, str]]:
        """(row, indicator id, disaggregation) of every row repeating an earlier row's cell."""
        s = STAGE.c
        first = (
            select(s.grp, s.indicator_id, s.disaggregation, func.min(s.row).label("first"))
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

    def write(self, *, actor: Actor, initiative_id: int, reason: str, now: datetime) -> None:
        """Merge into ``values``: audit and update changed values, insert and audit new ones."""
        s, v = STAGE.c, _VALUES.c
        changed = and_(v.id == s.value_id, not_(_same()))
        self.conn.execute(
            self._audit(
                actor,
                initiative_id,
                reason,
                now,
                action="update",
                before=_value_json(self.postgres, _VALUES),
                after=_value_json(self.postgres, STAGE),
                source=STAGE.join(_VALUES, changed),
            )
        )
        self.conn.execute(
            update(_VALUES)
            .where(changed)
            .values(
                value=s.value,
                numerator=s.numerator,
                denominator=s.denominator,
                note=s.note,
                updated_at=literal(now, _VALUES.c.updated_at.type),
                updated_by_id=literal(actor.user_id, Integer),
            )
        )
        flags: ColumnElement[Any] = func.coalesce(
            s.flags, literal_column("'[]'")
        )  # staged by the import, or none
        if self.postgres:
            flags = cast(flags, JSONB)
        self.conn.execute(
            insert(_VALUES).from_select(
                [
                    "submission_id",
                    "initiative_id",
                    "period_id",
                    "indicator_id",
                    "measure_type",
                    "category_id",
                    "disaggregation",
                    "value",
                    "numerator",
                    "denominator",
                    "note",
                    "flags",
                    "updated_at",
                    "updated_by_id",
                ],
                select(
                    _SUBMISSIONS.c.id,
                    literal(initiative_id, Integer),
                    s.period_id,
                    s.indicator_id,
                    s.measure_type,
                    s.category_id,
                    s.disaggregation,
                    s.value,
                    s.numerator,
                    s.denominator,
                    s.note,
                    flags,
                    literal(now, _VALUES.c.updated_at.type),
                    literal(actor.user_id, Integer),
                )
                .select_from(STAGE.join(_SUBMISSIONS, _of_submission()))
                .where(s.value_id.is_(None))
                .order_by(s.row),
            )
        )
        self.conn.execute(
            self._audit(
                actor,
                initiative_id,
                reason,
                now,
                action="create",
                before=None,
                after=_value_json(self.postgres, STAGE),
                source=STAGE.join(_SUBMISSIONS, _of_submission()).join(
                    _VALUES,
                    and_(
                        s.value_id.is_(None),
                        v.submission_id == _SUBMISSIONS.c.id,
                        v.indicator_id == s.indicator_id,
                        v.disaggregation == s.disaggregation,
                    ),
                ),
            )
        )

    @staticmethod
    def _audit(
        actor: Actor,
        initiative_id: int,
        reason: str,
        now: datetime,
        *,
        action: str,
        before: ColumnElement[Any] | None,
        after: ColumnElement[Any],
        source: FromClause,
    ) -> Insert:
        s = STAGE.c
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
                literal("value", String),
                _VALUES.c.id,
                literal(action, String),
                before if before is not None else literal(None, _AUDIT.c.before.type),
                after,
                literal(reason, Text),
            )
            .select_from(source.join(_INDICATORS, _INDICATORS.c.id == s.indicator_id))
            .order_by(s.row),
        )


def _of_submission() -> ColumnElement[bool]:
    """The staged row's submission, by member and period: those created after staging too."""
    s = STAGE.c
    return and_(_SUBMISSIONS.c.member_id == s.member_id, _SUBMISSIONS.c.period_id == s.period_id)


def _same() -> ColumnElement[bool]:
    """The staged row holds what the stored value holds (NULL-safe, exact, like the writer)."""
    s, v = STAGE.c, _VALUES.c
    return and_(
        v.value == s.value,
        v.numerator.is_not_distinct_from(s.numerator),
        v.denominator.is_not_distinct_from(s.denominator),
        v.note.is_not_distinct_from(s.note),
    )


def _json(postgres: bool, columns: Iterable[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    """The audit trail's picture of a value, built by the database (same keys as the writer)."""
    build = func.jsonb_build_object if postgres else func.json_object
    args: list[Any] = []
    for key, column in (("indicator", _INDICATORS.c.code), *columns):
        args += [literal_column(f"'{key}'"), column]
    return build(*args)


def _value_json(postgres: bool, table: Table) -> ColumnElement[Any]:
    """A value's picture from the staging table (after) or the value table (before)."""
    c = table.c
    fields = ("disaggregation", "value", "numerator", "denominator", "note")
    return _json(postgres, tuple((name, c[name]) for name in fields))
