"""Exports of reported values as CSV, Excel or JSON: one row per value.

Backbone staff (and admins) export every value of their initiative; reporters export only their
own organisation's values — the rule lives here, not in the route, so the API, the dashboard and
the CLI give the same answer. Funders get 403: they see the initiative, but not partners' raw
values; their downloads are the published, suppressed data packages (models.publishing.publish).

Spreadsheet cells are safe to open: text cells go through :func:`models.core.formulas.neutralise`
(CSV injection); numbers — negative ones too — stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core.actors import Actor
from models.core.errors import InvalidInput, PermissionDenied
from models.core.formulas import neutralise
from models.core.i18n import gettext
from models.tables.indicator import TOTAL, Indicator, Outcome
from models.tables.initiative import Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import STATUSES, Submission, Value

EXPORT_COLUMNS = (
    "organisation",
    "period",
    "outcome",
    "indicator",
    "disaggregation",
    "value",
    "numerator",
    "denominator",
    "note",
    "flags",
    "status",
)
NUMBER_COLUMNS = frozenset({"value", "numerator", "denominator"})
FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
_BATCH = 2000


def xlsx_safe(value: Any) -> Any:
    """Text without the control characters an .xlsx cell cannot hold (tab, CR and LF stay).

    openpyxl refuses them, which would fail the whole workbook over one stored note or name.
    Strip before :func:`neutralise`, so a removed character cannot uncover a leading ``=``.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def plain_number(number: float | None) -> str:
    """``12.0`` → ``12``, ``-3.5`` → ``-3.5``, ``None`` → empty: how a number reads in CSV."""
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


@dataclass(frozen=True)
class ExportFilters:
    period_from: str | None = None  # period keys, inclusive
    period_to: str | None = None
    outcome: str | None = None  # outcome code
    indicator: str | None = None  # indicator code
    org: str | None = None  # organisation slug
    status: str | None = None  # submission status


@dataclass
class Export:
    """A checked export, ready to stream: ``rows()`` runs the query in batches."""

    session: Session
    initiative: str
    filters: ExportFilters
    statement: Select[*tuple[Any, ...]]
    count: int = field(default=0)

    def filename(self, fmt: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        return f"{self.initiative}-values-{stamp}.{fmt}"

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """One tuple per value, in ``EXPORT_COLUMNS`` order (flags as a list)."""
        self.count = 0
        # A streamed answer reads after the request's session has ended: the query then opens
        # a transaction of its own, which must end with the stream (also when the client goes
        # away), or its connection would sit "idle in transaction" holding locks.
        owned = not self.session.in_transaction()
        result = self.session.execute(self.statement.execution_options(yield_per=_BATCH))
        try:
            for row in result:
                self.count += 1
                yield (*row[:9], list(row[9] or []), row[10])
        finally:
            result.close()
            if owned:
                self.session.close()


def prepare_export(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    filters: ExportFilters | None = None,
) -> Export:
    """Check who may export what and build the query; nothing is read until ``rows()``.

    Every filter is checked here, before an answer starts: a streamed export that fails after
    its headers are sent can only cut the connection.
    """
    filters = filters or ExportFilters()
    for name, text in (("slug", initiative_slug), *asdict(filters).items()):
        _check_text(name, text)
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    statement = (
        select(
            Organisation.slug,
            Period.key,
            Outcome.code,
            Indicator.code,
            Value.disaggregation,
            Value.value,
            Value.numerator,
            Value.denominator,
            Value.note,
            Value.flags,
            Submission.status,
        )
        .select_from(Value)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Value.period_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .outerjoin(Outcome, Outcome.id == Indicator.outcome_id)
        .where(Value.initiative_id == initiative.id)
        .order_by(
            Period.starts_on,
            Organisation.slug,
            Indicator.position,
            Indicator.code,
            case((Value.disaggregation == TOTAL, 0), else_=1),
            Value.disaggregation,
        )
    )
    if not actor.is_backbone(initiative.id):
        own = actor.reporter_orgs(initiative.id)
        if not own:
            raise PermissionDenied(
                gettext(
                    "funders do not export partners' values; download a published data package "
                    "of the initiative instead (suppressed, approved figures)"
                )
            )
        statement = statement.where(Organisation.id.in_(own))

    for name, bound in (("period_from", filters.period_from), ("period_to", filters.period_to)):
        if bound is None:
            continue
        starts_on = session.scalar(
            select(Period.starts_on).where(
                Period.initiative_id == initiative.id, Period.key == bound
            )
        )
        if starts_on is None:
            raise InvalidInput(gettext("no period %(bound)r", bound=bound), field=name)
        statement = statement.where(
            Period.starts_on >= starts_on
            if name == "period_from"
            else Period.starts_on <= starts_on
        )
    if filters.outcome is not None:
        exists = session.scalar(
            select(Outcome.id).where(
                Outcome.initiative_id == initiative.id, Outcome.code == filters.outcome
            )
        )
        if exists is None:
            raise InvalidInput(
                gettext("no outcome %(outcome)r", outcome=filters.outcome), field="outcome"
            )
        statement = statement.where(Outcome.code == filters.outcome)
    if filters.indicator is not None:
        exists = session.scalar(
            select(Indicator.id).where(
                Indicator.initiative_id == initiative.id, Indicator.code == filters.indicator
            )
        )
        if exists is None:
            raise InvalidInput(
                gettext("no indicator %(indicator)r", indicator=filters.indicator),
                field="indicator",
            )
        statement = statement.where(Indicator.code == filters.indicator)
    if filters.org is not None:
        statement = statement.where(Organisation.slug == filters.org)
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise InvalidInput(
                gettext("status must be one of %(statuses)s", statuses=", ".join(STATUSES)),
                field="status",
            )
        statement = statement.where(Submission.status == filters.status)
    return Export(session, initiative.slug, filters, statement)


def _check_text(name: str, text: str | None) -> None:
    """Refuse a control character (NUL above all) in a slug or filter before any query sees
    it: PostgreSQL cannot compare text holding NUL, so the query would fail mid-stream there
    (and quietly match nothing on SQLite)."""
    if text is not None and not text.isprintable():
        bad = next(c for c in text if not c.isprintable())
        raise InvalidInput(
            gettext("%(name)s contains the control character %(bad)r", name=name, bad=bad),
            field=name,
        )


# --- writers --------------------------------------------------------------------------------


def _spreadsheet_cells(row: tuple[Any, ...]) -> list[Any]:
    """Text neutralised, numbers untouched, flags joined with ``;``."""
    cells: list[Any] = []
    for name, cell in zip(EXPORT_COLUMNS, row, strict=True):
        if name in NUMBER_COLUMNS:
            cells.append(cell)
        elif name == "flags":
            cells.append(neutralise(";".join(cell)) if cell else None)
        else:
            cells.append(neutralise(cell))
    return cells


def csv_chunks(export: Export) -> Iterator[str]:
    """The CSV text in chunks of rows (UTF-8 with a BOM, so Excel reads accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(export.rows(), start=1):
        cells = _spreadsheet_cells(row)
        writer.writerow(
            [
                plain_number(c) if name in NUMBER_COLUMNS else ("" if c is None else c)
                for name, c in zip(EXPORT_COLUMNS, cells, strict=True)
            ]
        )
        if n % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_xlsx(export: Export, target: BinaryIO) -> None:
    """A workbook with one sheet, written row by row (openpyxl write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Values")
    sheet.freeze_panes = "A2"
    widths = (22, 10, 14, 16, 22, 12, 12, 12, 40, 18, 11)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    header = []
    for name in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    for row in export.rows():
        sheet.append(_spreadsheet_cells(tuple(xlsx_safe(cell) for cell in row)))
    workbook.save(target)


def json_chunks(export: Export) -> Iterator[str]:
    """``{"initiative", "filters", "columns", "rows": [{…}, …], "count"}``, streamed."""
    head = {
        "initiative": export.initiative,
        "filters": {k: v for k, v in asdict(export.filters).items() if v is not None},
        "columns": list(EXPORT_COLUMNS),
    }
    yield json.dumps(head)[:-1] + ', "rows": ['
    parts: list[str] = []
    for n, row in enumerate(export.rows(), start=1):
        parts.append(json.dumps(dict(zip(EXPORT_COLUMNS, row, strict=True))))
        if n % _BATCH == 0:
            yield ("," if n > _BATCH else "") + ",".join(parts)
            parts = []
    if parts:
        yield ("," if export.count > len(parts) else "") + ",".join(parts)
    yield f'], "count": {export.count}}}'
