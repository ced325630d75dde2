"""What the figure views read of each period, named by the database's figure revisions
(migration 0028_figure_revisions): a view computed after a change reads and decides again only
the periods the change touched.

The database bumps a period's figure revision in the transaction of every change to its rollup
rows, packed partner totals and publications, whoever makes it. An approval moves the counter
of its report's quarter only; an audit event, a draft, a setting moves none. So:

- :func:`answer_key` names everything a figure view's answer is made of but the viewer and
  the question: the setup key (``models.analytics.kept``), every period's figure revision and
  the initiative's own row (its threshold, name). Under it, with the viewer, the question, the
  day and the language, an answer is kept whole (``api.routers.analytics``): after an audit
  event nothing is computed again.
- :class:`ByPeriod` keeps what a view decided of one period (the backbone's figures, exactly as
  the rollup rows hold them) under that period's revision: after an approval the views read
  the rollup rows of its quarter again and take the other periods' figures as they were.

The revisions are read before the rows they name, in the request's snapshot, so what is kept
under them is never older than they are. Nothing read by a transaction that has written is
kept or taken (it may roll back, and a counter it moved be reached again by another commit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, String, bindparam, select
from sqlalchemy.orm import Session

from models.analytics.kept import SetupKey, offer_setup_key, setup_key
from models.analytics.setup_rows import InitiativeRow
from models.core.db import transaction_wrote
from models.tables.initiative import Initiative
from models.tables.revisions import DataRevision, FigureRevision

T = TypeVar("T")

Revisions = dict[int, int]  # period id → its figure revision
FiguresKey = tuple[SetupKey, tuple[tuple[int, int], ...], tuple[Any, ...]]

_READ = "cm_figure_revisions"  # Session.info: (transaction, initiative id, revisions)


@cache
def _statement() -> Executable:
    """Every period's figure revision of one initiative: built once."""
    t = FigureRevision
    return select(t.period_id, t.revision).where(t.initiative_id == bindparam("initiative_id"))


def figure_revisions(session: Session, initiative_id: int) -> Revisions | None:
    """Period id → its figure revision as this session sees them (read once per transaction),
    or None when nothing may be kept: the transaction has written."""
    if transaction_wrote(session):
        return None
    transaction = session.get_transaction()
    read = session.info.get(_READ)
    if read is not None and read[0] is transaction and read[1] == initiative_id:
        return read[2]  # type: ignore[no-any-return]
    found: Revisions = dict(
        session.connection().execute(_statement(), {"initiative_id": initiative_id}).all()
    )
    session.info[_READ] = (transaction, initiative_id, found)
    return found


# The initiative's columns in its answer key: what the views read of it (``InitiativeRow``)
# and its creation time, not its free text (a description of any length, which no figure
# view shows, would be read by every request and held in every kept answer's key).
_INITIATIVE_COLUMNS = tuple(
    Initiative.__table__.c[name] for name in (*InitiativeRow.__dataclass_fields__, "created_at")
)
_CREATED_AT = len(_INITIATIVE_COLUMNS) - 1
_INITIATIVE_ROW = len(InitiativeRow.__dataclass_fields__)


@cache
def _key_statement() -> Executable:
    """The initiative's row by slug with its setup revision and every period's figure
    revision (one row per period): built once."""
    t = FigureRevision
    return (
        select(
            *_INITIATIVE_COLUMNS,
            DataRevision.setup.label("cm_setup"),
            t.period_id.label("cm_period"),
            t.revision.label("cm_revision"),
        )
        .outerjoin(DataRevision, DataRevision.scope == Initiative.id)
        .outerjoin(t, t.initiative_id == Initiative.id)
        .where(Initiative.slug == bindparam("slug"))
    )


# What :func:`answer_key` reads, as columns of the figure views' first statement
# (``models.analytics.views.read_version_first``), which reads the initiative by slug already:
# the initiative's columns the views read (``cm_i_<n>``, in :data:`_INITIATIVE_COLUMNS`' order),
# its setup revision and every period's figure revision as text ("period:revision,…").
_FIRST = "cm_answer_key_first"  # Session.info: (transaction, slug, that statement's row)
_INITIATIVE = "cm_answer_key_initiative"  # Session.info: (transaction, slug, InitiativeRow)
assert next(iter(InitiativeRow.__dataclass_fields__)) == "id"
assert _INITIATIVE_COLUMNS[-1].name == "created_at"


def first_columns(dialect: str, initiative_id: str) -> tuple[str, str, dict[str, Any]]:
    """The select list (each column after a comma), the joins and the column types that read
    :func:`answer_key`'s part in another statement, for the initiative whose id is the SQL
    ``initiative_id``."""
    agg = "string_agg" if dialect == "postgresql" else "group_concat"
    f, r, i = FigureRevision.__table__, DataRevision.__table__, Initiative.__tablename__
    columns = "".join(
        f",\n{c}"
        for c in [f"i.{c.name} AS cm_i_{n}" for n, c in enumerate(_INITIATIVE_COLUMNS)]
        + [
            "r.setup AS cm_setup",
            (
                f"(SELECT {agg}(CAST(f.{f.c.period_id.name} AS TEXT) || ':' || "
                f"CAST(f.{f.c.revision.name} AS TEXT), ',') FROM {f.name} f "
                f"WHERE f.{f.c.initiative_id.name} = {initiative_id}) AS cm_figures"
            ),
        ]
    )
    joins = (
        f"LEFT JOIN {i} i ON i.id = {initiative_id}\n"
        f"LEFT JOIN {r.name} r ON r.{r.c.scope.name} = {initiative_id}"
    )
    types: dict[str, Any] = {f"cm_i_{n}": c.type for n, c in enumerate(_INITIATIVE_COLUMNS)}
    types.update(cm_setup=r.c.setup.type, cm_figures=String())
    return columns, joins, types


def offer_first(session: Session, initiative_slug: str, row: Any) -> None:
    """The first statement's row (with :func:`first_columns`), read in this transaction
    before anything else, for :func:`answer_key` to take instead of reading it again."""
    session.info[_FIRST] = (session.get_transaction(), initiative_slug, row)


def _from_first(session: Session, initiative_slug: str) -> FiguresKey | None:
    """:func:`answer_key` from the first statement's row, when it read this transaction's
    initiative ``initiative_slug`` (None otherwise: asked by its own statement)."""
    first = session.info.get(_FIRST)
    if first is None or first[0] is not session.get_transaction() or first[1] != initiative_slug:
        return None
    parsed = _first_parts(first[2])
    if parsed is None:
        return None
    return _keyed(session, initiative_slug, *parsed)


def _first_parts(row: Any) -> tuple[tuple[Any, ...], int | None, Revisions] | None:
    """The initiative's row, its setup revision and every period's figure revision from the
    first statement's row (:func:`first_columns`; a SQLAlchemy row or a mapping), None
    when it names no initiative."""
    mapping = getattr(row, "_mapping", row)
    initiative = tuple(mapping[f"cm_i_{n}"] for n in range(len(_INITIATIVE_COLUMNS)))
    if initiative[0] is None:
        return None
    revisions: Revisions = {}
    if mapping["cm_figures"]:
        for pair in mapping["cm_figures"].split(","):
            period, revision = pair.split(":")
            revisions[int(period)] = int(revision)
    return initiative, mapping["cm_setup"], revisions


def answer_key_alone(engine: Engine, row: Any) -> FiguresKey | None:
    """:func:`answer_key` from the first statement's row read outside any session
    (``models.analytics.views.version_alone``): to find an answer kept under it, never to keep
    one (what is kept is computed in a session, under the key read there)."""
    parsed = _first_parts(row)
    if parsed is None:
        return None
    initiative, setup_revision, revisions = parsed
    return _key_of(str(engine.url), initiative, setup_revision, revisions)


def _key_of(
    url: str, row: tuple[Any, ...], setup_revision: int | None, revisions: Revisions
) -> FiguresKey:
    """The answer key of the initiative's ``row`` (:data:`_INITIATIVE_COLUMNS`) on the
    database at ``url``, its setup revision and its periods' figure revisions."""
    setup: SetupKey = (url, row[0], row[_CREATED_AT], setup_revision or 0)
    return setup, tuple(sorted(revisions.items())), row


def answer_key(session: Session, initiative_slug: str) -> FiguresKey | None:
    """What a figure view's answer of the initiative is made of, as this session sees it: its
    setup key, every period's figure revision and the initiative's row, in one statement by
    slug, for a caller that has checked already that the viewer may see it (and adds the
    viewer, the question, the day and the language to what it keeps); None when nothing may
    be kept or there is no such initiative. What it reads is what the view
    computed next in this transaction takes (:func:`models.analytics.kept.setup_key`,
    :func:`figure_revisions`), so the view asks for none of it again."""
    if transaction_wrote(session):
        return None
    found = _from_first(session, initiative_slug)
    if found is not None:
        return found
    rows = session.connection().execute(_key_statement(), {"slug": initiative_slug}).all()
    if not rows:
        return None
    first = rows[0]
    revisions: Revisions = {r.cm_period: r.cm_revision for r in rows if r.cm_period is not None}
    row = tuple(first[: len(_INITIATIVE_COLUMNS)])
    return _keyed(session, initiative_slug, row, first.cm_setup, revisions)


def _keyed(
    session: Session,
    initiative_slug: str,
    row: tuple[Any, ...],
    setup_revision: int | None,
    revisions: Revisions,
) -> FiguresKey:
    """The answer key of the initiative's ``row`` (:data:`_INITIATIVE_COLUMNS`), its
    setup revision and its periods' figure revisions, offered to what the view asks next in
    this transaction (the setup key, the revisions, the initiative)."""
    key = _key_of(str(session.get_bind().engine.url), row, setup_revision, revisions)
    setup, initiative_id = key[0], row[0]
    transaction = session.get_transaction()
    offer_setup_key(session, transaction, initiative_id, setup)
    session.info[_READ] = (transaction, initiative_id, revisions)
    # The view computed next in this transaction reads the initiative: its row is read here.
    session.info[_INITIATIVE] = (
        transaction,
        initiative_slug,
        InitiativeRow(*row[:_INITIATIVE_ROW]),
    )
    return key


def initiative_row(session: Session, initiative_slug: str) -> InitiativeRow | None:
    """The initiative ``initiative_slug`` as :func:`answer_key` read it in this transaction
    (None when it did not): for a view that checks the viewer may see it."""
    offered = session.info.get(_INITIATIVE)
    if (
        offered is None
        or offered[0] is not session.get_transaction()
        or offered[1] != initiative_slug
    ):
        return None
    return offered[2]  # type: ignore[no-any-return]


class ByPeriod:
    """What was decided of one period, by (what, setup key, period, its revision, arguments):
    bounded by entries and by the bytes the sized ones hold (the partners' packed totals: a
    region of many partners keeps fewer periods, not more memory), cleared when full (a new
    revision leaves the old entries unreachable)."""

    LIMIT = 4096
    LIMIT_BYTES = 16_000_000

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """The bytes the sized entries hold."""
        return self._bytes

    def get(self, key: Hashable) -> Any:
        return self._values.get(key)

    def keep(self, key: Hashable, value: Any, size: int = 0) -> None:
        """Keep ``value`` of ``size`` bytes (one larger than the bound is not kept)."""
        if size > self.LIMIT_BYTES:
            return
        with self._lock:
            if len(self._values) >= self.LIMIT or self._bytes + size > self.LIMIT_BYTES:
                self._values.clear()
                self._bytes = 0
            if key not in self._values:
                self._bytes += size
            self._values[key] = value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0


BY_PERIOD = ByPeriod()


def by_period(
    session: Session,
    initiative_id: int,
    what: str,
    args: tuple[Any, ...],
    period_ids: list[int] | None,
    make: Callable[[list[int]], dict[int, T]],
    size: Callable[[T], int] | None = None,
) -> dict[int, T] | None:
    """Period id → ``make``'s value of that period, for ``period_ids`` (None: every period with
    a figure revision, which every period with a rollup row has). Only the periods whose value
    under their current revision is not kept are made (``make`` is given their ids), and kept
    (``size``: the bytes a value holds, counted against :attr:`ByPeriod.LIMIT_BYTES`). None
    when nothing may be kept (``make`` is then the caller's to call for everything)."""
    setup = setup_key(session, initiative_id)
    if setup is None:
        return None
    revisions = figure_revisions(session, initiative_id)
    if revisions is None:
        return None
    wanted = list(revisions) if period_ids is None else period_ids
    out: dict[int, T] = {}
    missing: list[int] = []
    keys = {}
    for period_id in wanted:
        revision = revisions.get(period_id)
        if revision is None:  # no figure was ever written for this period
            continue
        key = keys[period_id] = (what, setup, period_id, revision, args)
        found = BY_PERIOD.get(key)
        if found is None:
            missing.append(period_id)
        else:
            out[period_id] = found
    if missing:
        made = make(missing)
        for period_id in missing:
            value = made[period_id]
            BY_PERIOD.keep(keys[period_id], value, 0 if size is None else size(value))
            out[period_id] = value
    return out
