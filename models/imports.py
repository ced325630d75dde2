"""Spreadsheet imports (CSV or Excel .xlsx): read every row, check everything, write all or nothing.

The flow (design §3):

1. **Parse** the upload as a stream: CSV through the ``csv`` module over a text wrapper of the
   (spooled) file — UTF-8 with or without a BOM, falling back to Windows-1252 when the bytes are
   not UTF-8, UTF-16 when the file starts with its BOM; the delimiter (``,``, ``;`` or tab) is
   taken from the header line — or XLSX with openpyxl in ``read_only`` mode, one row at a time.
   Rows are kept as compact tuples grouped by (organisation, period); fully blank rows and rows
   with no number and no note (an unfilled template line) are skipped.
2. **Plan** every group with :func:`models.submissions.plan_values` (permissions, period, status
   and every value), collecting each problem with the file's row number (the header is row 1) and
   the column name. A group the actor may not write (another organisation, an unknown period, a
   locked period, a submitted report…) becomes a problem on the group's first row as well, so the
   answer lists everything wrong at once.
3. **Apply** only when every group is clean, each group with
   :func:`models.submissions.apply_plan` in the caller's transaction. Groups whose values are
   already as in the file are not touched (no version bump, no audit event), so uploading the
   same file twice is harmless. A dry run stops after step 2 and writes nothing.

Cells, documented for users in the template's Instructions sheet:

- Numbers are plain digits with ``.`` as the decimal point, an optional sign and exponent
  (``1234``, ``-12.5``, ``1e3``). **Thousands separators are refused, consistently**: ``1,234``,
  ``1.234,5`` and ``1 234`` are "not a number" (a comma is ambiguous between thousands and
  decimals, so no guess is made). Excel number cells are read as they are.
- In Excel files, formulas (``=A1*2``) and dates are refused in number cells ("paste values
  only"); formulas are refused in text cells too, since their result is not stored by every tool.
- A leading ``'`` before ``= + - @``, tab or CR — how exports neutralise formula injection — is
  dropped from text cells, so an exported note imports back unchanged.
- Imports never delete values: an empty cell means "not reported in this file". Remove a value
  through the data-entry grid or ``PUT …/submissions`` with ``remove``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import DomainError, PermissionDenied
from models.indicator import TOTAL
from models.metrics import IMPORTED_ROWS, IMPORTS
from models.permissions import Actor, get_initiative
from models.reporting import Value
from models.settings import get_settings
from models.submissions import NOT_STARTED, WritePlan, apply_plan, plan_values
from models.validation import CleanValue, ValueInput, indicator_specs

Progress = Callable[[str, int, int], None]

# The columns the importer reads; anything else (indicator_name, unit, measure_type…) is ignored.
TEXT_COLUMNS = ("organisation", "period", "indicator", "disaggregation", "note")
NUMBER_COLUMNS = ("value", "numerator", "denominator")
READ_COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS
ALIASES = {
    "organization": "organisation",
    "org": "organisation",
    "indicator_code": "indicator",
    "notes": "note",
}
MAX_LISTED_ERRORS = 1000  # the answer lists this many problems and counts the rest
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # what exports neutralise with a quote
SPREADSHEET_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
SPREADSHEET_TYPES = (
    "text/csv",
    "text/plain",
    "text/tab-separated-values",
    "application/csv",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
_BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"\x1f\x8b",
    b"BZh",
    b"\x7fELF",
    b"MZ",
    b"Rar!",
    b"7z\xbc\xaf",
)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_PROGRESS_EVERY = 2000


class BadCell(Exception):
    """A cell that cannot be read as what its column holds; the message is the reason."""


class FileTooLarge(DomainError):
    """The upload exceeds the byte or row limit (HTTP 413)."""

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, kw.pop("code", "file_too_large"), **kw)


class UnsupportedFile(DomainError):
    """Not a CSV or Excel workbook (HTTP 415)."""

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, kw.pop("code", "unsupported_file"), **kw)


@dataclass(frozen=True, order=True)
class RowError:
    row: int  # the file's row number; the header is row 1
    column: str
    reason: str


# One data row as kept between parsing and planning:
# (row number, indicator, disaggregation, value, numerator, denominator, note)
Row = tuple[int, str, str, float | None, float | None, float | None, str | None]


@dataclass
class ParsedFile:
    kind: str  # "csv" or "xlsx"
    rows: int = 0  # non-blank data rows
    skipped: int = 0  # rows with no number and no note
    groups: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    bad_cells: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class SubmissionResult:
    organisation: str
    period: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    status: str = NOT_STARTED
    version: int = 0


@dataclass
class ImportReport:
    dry_run: bool
    file: str
    rows: int = 0
    skipped: int = 0
    submissions: list[SubmissionResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(s.created for s in self.submissions)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.submissions)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.submissions)

    @property
    def message(self) -> str:
        if self.errors:
            rows = len({e.row for e in self.errors})
            return (
                f"rejected: {len(self.errors)} problem{'s' * (len(self.errors) != 1)} in "
                f"{rows} row{'s' * (rows != 1)}; nothing was written"
            )
        counts = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"in {len(self.submissions)} submission{'s' * (len(self.submissions) != 1)}"
        )
        if self.dry_run:
            return f"dry run: the file is valid ({counts}); nothing was written"
        if not self.created and not self.updated:
            return f"nothing changed: all {self.unchanged} values are already as in the file"
        return f"imported: {counts}"

    def as_dict(self) -> dict[str, Any]:
        listed = sorted(self.errors)[:MAX_LISTED_ERRORS]
        return {
            "dry_run": self.dry_run,
            "file": self.file,
            "rows": self.rows,
            "skipped": self.skipped,
            "submissions": [vars(s).copy() for s in self.submissions],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in listed],
            "error_count": len(self.errors),
            "message": self.message,
        }


# --- recognising the file -------------------------------------------------------------------


def looks_like_spreadsheet(filename: str | None, content_type: str | None) -> bool:
    name = (filename or "").lower()
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return name.endswith(SPREADSHEET_EXTENSIONS) or kind in SPREADSHEET_TYPES


def _sniff(head: bytes, filename: str) -> tuple[str, str | None]:
    """("xlsx", None) or ("csv", encoding); binaries answer 415 whatever their name says."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile(
            f"{filename} is an old Excel (.xls) workbook; save it as .xlsx or CSV"
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv", "utf-16"
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise UnsupportedFile(
            f"{filename} is not a spreadsheet; upload a CSV or an Excel .xlsx file"
        )
    return "csv", "utf-8-sig"


# --- reading cells --------------------------------------------------------------------------


def _unquote(text: str) -> str:
    """Drop the quote exports put before a formula-like text (``'=x`` → ``=x``)."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _number_from_text(text: str) -> float:
    """A finite float from a plain number; :class:`BadCell` with the reason otherwise."""
    if not _NUMBER.fullmatch(text):
        raise BadCell(
            f"not a number: {text[:40]!r} (write plain digits with '.' for decimals and no "
            "thousands separators)"
        )
    number = float(text)
    if not math.isfinite(number):
        raise BadCell(f"not a number: {text[:40]!r} is too large")
    return number


class _Cells:
    """Turns raw cells (CSV strings or openpyxl values) into text or numbers, or a reason."""

    def __init__(self, kind: str) -> None:
        self.xlsx = kind == "xlsx"

    @staticmethod
    def blank(raw: object) -> bool:
        return raw is None or (isinstance(raw, str) and not raw.strip())

    def text(self, raw: object) -> str:
        if isinstance(raw, str):
            text = raw.strip()
            if self.xlsx and text.startswith("="):
                raise BadCell(f"formulas are not read ({text[:40]}); paste the values only")
            return _unquote(text)
        if isinstance(raw, bool):
            return str(raw).lower()
        if isinstance(raw, int):
            return str(raw)
        if isinstance(raw, float):
            return str(int(raw)) if raw.is_integer() else repr(raw)
        if isinstance(raw, datetime | date | time | timedelta):
            raise BadCell("is a date; type the text itself (format the cell as text)")
        return str(raw).strip()

    def number(self, raw: object) -> float:
        if isinstance(raw, bool):
            raise BadCell(f"not a number: {raw}")
        if isinstance(raw, int | float):
            number = float(raw)
            if not math.isfinite(number):
                raise BadCell("not a number: must be finite")
            return number
        if isinstance(raw, datetime | date | time | timedelta):
            raise BadCell("is a date or time, not a number; format the cell as a number")
        text = str(raw).strip()
        if self.xlsx and text.startswith("="):
            raise BadCell(f"formulas are not read ({text[:40]}); paste the values only")
        return _number_from_text(text)


# --- row sources ----------------------------------------------------------------------------


def _csv_rows(
    stream: BinaryIO, encoding: str, size: int, progress: Progress | None
) -> Iterator[tuple[int, list[str]]]:
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first = wrapper.readline()
        line = first.rstrip("\r\n")
        delimiter = max((",", ";", "\t"), key=line.count) if line else ","
        reader = csv.reader(chain([first], wrapper), delimiter=delimiter)
        for number, cells in enumerate(reader, start=1):
            if progress and number % _PROGRESS_EVERY == 0:
                position = max(stream.tell(), 1)
                progress("reading rows", number, max(number, int(number * size / position)))
            yield number, cells
    except csv.Error as exc:
        raise _FileProblem(f"not a readable CSV file: {exc}") from None
    finally:
        wrapper.detach()


MAX_XLSX_EXPANSION = 100  # a real workbook compresses ~5-20×; a zip bomb far more


def _refuse_zip_bombs(stream: BinaryIO, filename: str) -> None:
    """Read the zip directory before unpacking anything: a workbook that would expand past
    the byte limit, or by an implausible ratio, is refused (413) without being inflated."""
    import zipfile

    start = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsupportedFile(f"{filename} is not an Excel .xlsx workbook") from None
    finally:
        stream.seek(start)
    expanded = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    limit = get_settings().import_max_bytes * 4
    if expanded > limit or (expanded > 10_000_000 and expanded / packed > MAX_XLSX_EXPANSION):
        raise FileTooLarge(
            f"{filename} would unpack to {expanded:,} bytes ({expanded // packed}× its size); "
            "save it again as a plain .xlsx or .csv",
            code="file_too_large",
        )


def _xlsx_rows(stream: BinaryIO, filename: str, progress: Progress | None):
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _refuse_zip_bombs(stream, filename)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=False)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise UnsupportedFile(f"{filename} is not an Excel .xlsx workbook") from None
    try:
        names = workbook.sheetnames
        sheet_name = (
            "Values"
            if "Values" in names
            else next((n for n in names if n not in ("Instructions", "Lists")), names[0])
        )
        sheet = workbook[sheet_name]
        total = max((sheet.max_row or 0) - 1, 0)
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if progress and number % _PROGRESS_EVERY == 0:
                progress("reading rows", number, max(total, number))
            yield number, cells
    finally:
        workbook.close()


class _FileProblem(Exception):
    """A problem with the file as a whole, reported on row 1."""


# --- parsing --------------------------------------------------------------------------------


def parse_spreadsheet(
    stream: BinaryIO,
    *,
    filename: str = "upload",
    content_type: str | None = None,
    default_org: str | None = None,
    default_period: str | None = None,
    max_rows: int | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Read the rows of a CSV or XLSX stream into groups; problems are row errors, not raises.

    Raises :class:`UnsupportedFile` for what is not a spreadsheet and :class:`FileTooLarge` past
    ``max_rows`` data rows.
    """
    max_rows = max_rows or get_settings().import_max_rows
    start = stream.tell()
    head = stream.read(8192)
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    kind, encoding = _sniff(head, filename)
    if kind == "xlsx":
        return _parse(
            _xlsx_rows(stream, filename, progress),
            kind=kind,
            filename=filename,
            content_type=content_type,
            default_org=default_org,
            default_period=default_period,
            max_rows=max_rows,
            progress=progress,
        )
    for attempt in (encoding, "cp1252"):
        try:
            return _parse(
                _csv_rows(stream, attempt, size, progress),
                kind=kind,
                filename=filename,
                content_type=content_type,
                default_org=default_org,
                default_period=default_period,
                max_rows=max_rows,
                progress=progress,
            )
        except UnicodeDecodeError:
            if attempt != encoding or encoding != "utf-8-sig":
                break
            stream.seek(start)  # not UTF-8: read it again as Windows-1252 (Excel's "CSV")
    raise UnsupportedFile(f"{filename} is not text in UTF-8 or Windows-1252; save it as UTF-8 CSV")


def _header(cells, default_org, default_period) -> tuple[dict[str, int], list[RowError]]:
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(cells or ()):
        if raw is None:
            continue
        name = str(raw).strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        name = ALIASES.get(name, name)
        if name in READ_COLUMNS:
            if name in positions:
                errors.append(RowError(1, name, "this column appears twice"))
            positions[name] = index
    required = ["indicator"]
    if default_org is None:
        required.append("organisation")
    if default_period is None:
        required.append("period")
    for name in required:
        if name not in positions:
            hint = "" if name == "indicator" else f" (or pass the {name} with the upload)"
            errors.append(RowError(1, name, f"missing column{hint}"))
    if not any(n in positions for n in NUMBER_COLUMNS):
        errors.append(RowError(1, "value", "missing column: value, numerator or denominator"))
    return positions, errors


def _parse(
    rows: Generator[tuple[int, Any], None, None],
    *,
    kind: str,
    filename: str,
    content_type: str | None,
    default_org: str | None,
    default_period: str | None,
    max_rows: int,
    progress: Progress | None,
) -> ParsedFile:
    parsed = ParsedFile(kind=kind)
    cells = _Cells(kind)
    errors = parsed.errors
    intern = sys.intern
    try:
        first = next(rows, None)
        positions, header_errors = _header(first[1] if first else None, default_org, default_period)
        if not any(n in positions for n in READ_COLUMNS):
            if not looks_like_spreadsheet(filename, content_type):
                raise UnsupportedFile(
                    f"{filename} is not a spreadsheet; upload a CSV or an Excel .xlsx file"
                )
            reason = (
                "the file is empty"
                if first is None
                else "row 1 must be the header: " + ", ".join(READ_COLUMNS)
            )
            parsed.errors = [RowError(1, "header", reason)]
            return parsed
        if header_errors:
            parsed.errors = header_errors
            return parsed
        at = [positions.get(name) for name in READ_COLUMNS]
        groups = parsed.groups
        for number, raw in rows:
            if all(cells.blank(v) for v in raw):
                continue
            parsed.rows += 1
            if parsed.rows > max_rows:
                raise FileTooLarge(
                    f"the file has more than {max_rows:,} data rows; split it into smaller files",
                    code="too_many_rows",
                    extra={"limit": max_rows},
                )
            row = _read_row(number, raw, at, cells, parsed)
            if row is None:
                continue
            org = row[0] or default_org
            period = row[1] or default_period
            missing = [
                name
                for name, present in (("organisation", org), ("period", period))
                if not present and (number, name) not in parsed.bad_cells
            ]
            for name in missing:
                errors.append(RowError(number, name, "is required"))
            if not (org and period):
                continue
            key = (intern(org), intern(period))
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
            group.append(row[2])
        if progress:
            progress("reading rows", parsed.rows, parsed.rows)
    except _FileProblem as exc:
        parsed.errors.append(RowError(1, "file", str(exc)))
    finally:
        rows.close()  # detach the text wrapper, close the workbook
    return parsed


def _read_row(
    number: int, raw: Any, at: list[int | None], cells: _Cells, parsed: ParsedFile
) -> tuple[str | None, str | None, Row] | None:
    """(organisation, period, row) of one data row; None when skipped or unusable."""
    values = [None if i is None or i >= len(raw) else raw[i] for i in at]
    text: dict[str, str | None] = {}
    numbers: list[float | None] = []
    bad = False
    for name, cell in zip(READ_COLUMNS, values, strict=True):
        converted: Any = None
        if not cells.blank(cell):
            try:
                converted = cells.number(cell) if name in NUMBER_COLUMNS else cells.text(cell)
            except BadCell as exc:
                parsed.errors.append(RowError(number, name, str(exc)))
                parsed.bad_cells.add((number, name))
                bad = True
        if name in NUMBER_COLUMNS:
            numbers.append(converted)
        else:
            text[name] = converted
    if not bad and text["note"] is None and all(n is None for n in numbers):
        parsed.skipped += 1  # an unfilled line (of a template): nothing to import
        return None
    indicator = text["indicator"]
    if not indicator:
        if (number, "indicator") not in parsed.bad_cells:
            parsed.errors.append(RowError(number, "indicator", "is required"))
        return None
    intern = sys.intern
    row: Row = (
        number,
        intern(indicator),
        intern(_disaggregation(text["disaggregation"])),
        numbers[0],
        numbers[1],
        numbers[2],
        text["note"],
    )
    return text["organisation"], text["period"], row


def _disaggregation(text: str | None) -> str:
    if not text or text.strip().lower() == TOTAL:
        return TOTAL
    if "=" in text:
        dimension, category = text.split("=", 1)
        return f"{dimension.strip()}={category.strip()}"
    return text.strip()


# --- planning and writing -------------------------------------------------------------------


def _column_of(exc: DomainError) -> str:
    return {"org": "organisation", "period": "period"}.get(exc.field or "", "period")


def _diff(session: Session, plan: WritePlan) -> tuple[int, int, int]:
    """(created, updated, unchanged) the plan would cause, compared like the writer does."""
    if plan.ctx.submission is None:
        return len(plan.checked.clean), 0, 0
    existing = {
        (row.indicator_id, row.disaggregation): (
            row.value,
            row.numerator,
            row.denominator,
            row.note,
        )
        for row in session.execute(
            select(
                Value.indicator_id,
                Value.disaggregation,
                Value.value,
                Value.numerator,
                Value.denominator,
                Value.note,
            ).where(Value.submission_id == plan.ctx.submission.id)
        )
    }
    created = updated = unchanged = 0
    for clean in plan.checked.clean:
        old = existing.get(clean.key)
        if old is None:
            created += 1
        elif old != (clean.value, clean.numerator, clean.denominator, clean.note):
            updated += 1
        else:
            unchanged += 1
    return created, updated, unchanged


def _null_pattern(clean: CleanValue) -> tuple[bool, ...]:
    return (
        clean.category_id is None,
        clean.numerator is None,
        clean.denominator is None,
        clean.note is None,
    )


def _import_file(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    stream: BinaryIO,
    filename: str = "upload",
    content_type: str | None = None,
    dry_run: bool = False,
    default_org: str | None = None,
    default_period: str | None = None,
    max_rows: int | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> ImportReport:
    """Import a CSV/XLSX stream: every row valid and written, or nothing written.

    Returns the report (with ``errors`` when rejected); raises only for what is not an import at
    all: an initiative the actor cannot see (404), an actor who reports for no one (403), a file
    that is not a spreadsheet (:class:`UnsupportedFile`) or has too many rows
    (:class:`FileTooLarge`). Flushes, never commits.
    """
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    if not actor.is_backbone(initiative.id) and not actor.reporter_for:
        raise PermissionDenied("only backbone staff and reporters import values")
    parsed = parse_spreadsheet(
        stream,
        filename=filename,
        content_type=content_type,
        default_org=default_org,
        default_period=default_period,
        max_rows=max_rows,
        progress=progress,
    )
    report = ImportReport(dry_run=dry_run, file=filename, rows=parsed.rows, skipped=parsed.skipped)
    report.errors = parsed.errors
    if not parsed.groups:
        if not report.errors:
            report.errors.append(RowError(1, "file", "the file holds no values to import"))
        return report

    specs = indicator_specs(session=session, initiative_id=initiative.id)
    to_apply: list[tuple[SubmissionResult, WritePlan]] = []
    savepoint = session.begin_nested() if dry_run else None
    try:
        total = len(parsed.groups)
        for done, ((org, period), rows) in enumerate(parsed.groups.items(), start=1):
            if progress:
                progress("checking submissions", done, total)
            result = SubmissionResult(organisation=org, period=period)
            try:
                plan = plan_values(
                    session=session,
                    actor=actor,
                    initiative_slug=initiative_slug,
                    org_slug=org,
                    period_key=period,
                    inputs=[
                        ValueInput(
                            indicator=r[1],
                            disaggregation=r[2],
                            value=r[3],
                            numerator=r[4],
                            denominator=r[5],
                            note=r[6],
                        )
                        for r in rows
                    ],
                    today=today,
                    specs=specs,
                )
            except DomainError as exc:
                count = f"{len(rows)} row{'s' * (len(rows) != 1)}"
                report.errors.append(
                    RowError(
                        rows[0][0], _column_of(exc), f"{exc.message} ({count} for {org} {period})"
                    )
                )
                to_apply.clear()
                continue
            for problem in plan.checked.problems:
                row = rows[problem.index][0]
                if (row, problem.column) not in parsed.bad_cells:
                    report.errors.append(RowError(row, problem.column, problem.reason))
            result.created, result.updated, result.unchanged = _diff(session, plan)
            if plan.ctx.submission is not None:
                result.status = plan.ctx.submission.status
                result.version = plan.ctx.submission.version
            report.submissions.append(result)
            if report.errors or dry_run:
                to_apply.clear()  # nothing will be written: keep no plans in memory
            elif result.created or result.updated:
                to_apply.append((result, plan))
    finally:
        if savepoint is not None:
            savepoint.rollback()
    if report.errors or dry_run:
        return report

    for done, (result, plan) in enumerate(to_apply, start=1):
        if progress:
            progress("writing", done, len(to_apply))
        # The ORM's bulk INSERT batches consecutive rows with the same NULL columns; put them
        # together (totals, breakdowns, with or without a note) so batches are hundreds of rows.
        plan.checked.clean.sort(key=_null_pattern)
        saved = apply_plan(
            session=session,
            actor=actor,
            plan=plan,
            reason=f"import of {filename}",
            full_view=False,
        )
        result.created, result.updated = saved.created, saved.updated
        result.unchanged, result.removed = saved.unchanged, saved.removed
        result.status, result.version = saved.submission.status, saved.submission.version
    report.written = bool(to_apply)
    session.flush()
    return report


def import_file(**kwargs: Any) -> ImportReport:
    """Import a CSV/XLSX stream (see :func:`_import_file`), counted in the import metrics."""
    try:
        report = _import_file(**kwargs)
    except DomainError:
        IMPORTS.labels("refused").inc()
        raise
    IMPORTED_ROWS.inc(report.rows)
    if report.errors:
        outcome = "rejected"
    elif report.dry_run:
        outcome = "dry_run"
    else:
        outcome = "written" if report.written else "unchanged"
    IMPORTS.labels(outcome).inc()
    return report
