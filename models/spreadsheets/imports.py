"""Spreadsheet imports (CSV or Excel .xlsx): read every row, check everything, write all or nothing.

The flow (docs/architecture.md: Data rules):

1. **Read** the upload as a stream, a chunk of rows at a time (:func:`read_chunks`). Its type
   comes from its name and its content together (:func:`_sniff`): ``.csv``, ``.tsv`` or
   ``.txt`` must hold text and ``.xlsx`` or ``.xlsm`` a workbook; any other name, or a name
   that does not match the content, answers 415 (an upload without a name goes by content).
   CSV is read through the ``csv`` module over a text wrapper of the (spooled) file — UTF-8
   with or without a BOM, Windows-1252 when the bytes are not UTF-8 (checked in one pass
   first), UTF-16 when the file starts with its BOM; the delimiter (``,``, ``;`` or tab) is
   taken from the header line — and XLSX with openpyxl in ``read_only`` mode. Fully blank rows and rows with no number and no
   note (an unfilled template line) are skipped. CSV is read strictly (RFC 4180): a quote never
   closed, text after a closing quote, a quote inside an unquoted cell, a NUL, or a row with
   more or fewer cells than the header is a row error naming its row and column, never a
   guess (read loosely, an unclosed quote turns the rest of the file into one note).
2. **Check** each chunk: its (organisation, period) groups are resolved in bulk with the rules
   of a single write (permissions, period open, submission editable), and every value goes
   through :func:`models.reporting.validation.check_rows` (``check_values``'s result, the
   common case checked a column at a time). Each problem is recorded with the file's row
   number (the header is row 1) and column; the first 1000 are listed and the rest counted.
   Clean rows are staged (:mod:`models.spreadsheets.staging`): in a temporary table, so that
   memory holds one chunk whatever the file's length, or on SQLite, while every row goes to a
   report the import creates, in memory up to ``MEMORY_ROWS`` rows and from there straight
   into ``values``. A CSV without quotes and NULs is read a block of lines and a column at a
   time; anything unusual in a block is read line by line with the same rules and messages.
3. **Merge** only when the whole file is clean: one set-based statement each finds cells given
   twice, compares with the stored values, updates changed values, inserts new ones and writes
   one audit event per submission written, holding its values before and after
   (:mod:`models.audit.values`); then the data-quality flags of the written submissions are
   refreshed.
   Groups whose values are already as in the file are not touched (no version bump, no audit
   event), so uploading the same file twice is harmless. A dry run stops before the merge.

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
import functools
import gc
import io
import json
import math
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain, repeat
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.core import dates
from models.core.actors import Actor
from models.core.errors import DomainError, PermissionDenied
from models.core.formulas import FORMULA_PREFIXES
from models.core.i18n import format_number, gettext, lazy_gettext, ngettext
from models.core.metrics import IMPORTED_ROWS, IMPORTS
from models.core.settings import get_settings
from models.reporting.submissions import (
    NOT_STARTED,
    WriteContext,
    check_writable,
    claim_submission,
    create_submissions,
    flags_by_cell,
    no_member,
    no_period,
    refresh_flags,
)
from models.reporting.validation import (
    CleanValue,
    History,
    IndicatorSpec,
    KnownCell,
    PastFigures,
    approved_history,
    check_rows,
    indicator_specs,
)
from models.spreadsheets.staging import Stage
from models.tables.base import utcnow
from models.tables.indicator import TOTAL, Obligation
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import Submission

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
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
SPREADSHEET_EXTENSIONS = CSV_EXTENSIONS + XLSX_EXTENSIONS
ACCEPTED = "a CSV file (.csv, .tsv or .txt) or an Excel workbook (.xlsx or .xlsm)"
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


# One data row as kept between reading and checking: (row number, indicator, disaggregation,
# value, numerator, denominator, note). A plain tuple of plain values: a chunk holds thousands,
# and the garbage collector stops tracking such tuples (a named tuple it would track, and
# traverse, for as long as the chunk lives).
Row = tuple[int, str, str, float | None, float | None, float | None, str | None]


@dataclass
class ParsedFile:
    kind: str  # "csv" or "xlsx"
    rows: int = 0  # non-blank data rows
    skipped: int = 0  # rows with no number and no note
    groups: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


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
    error_log: ErrorLog = field(default_factory=lambda: ErrorLog())
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_log

    @property
    def errors(self) -> list[RowError]:
        """The first :data:`MAX_LISTED_ERRORS` problems, by row."""
        return self.error_log.sorted()

    @property
    def error_count(self) -> int:
        return self.error_log.count

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
        if self.error_log:
            count = self.error_log.count
            self.error_log.close_chunk()
            rows = self.error_log.rows
            problems = ngettext("%(n)s problem", "%(n)s problems", count)
            in_rows = ngettext("%(n)s row", "%(n)s rows", rows)
            return gettext(
                "rejected: %(problems)s in %(rows)s; nothing was written",
                problems=problems,
                rows=in_rows,
            )
        counts = ngettext(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged in %(n)s submission",
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged in %(n)s "
            "submissions",
            len(self.submissions),
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )
        if self.dry_run:
            return gettext(
                "dry run: the file is valid (%(counts)s); nothing was written", counts=counts
            )
        if not self.created and not self.updated:
            return gettext(
                "nothing changed: all %(unchanged)s values are already as in the file",
                unchanged=self.unchanged,
            )
        return gettext("imported: %(counts)s", counts=counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "file": self.file,
            "rows": self.rows,
            "skipped": self.skipped,
            "submissions": [vars(s).copy() for s in self.submissions],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.errors],
            "error_count": self.error_count,
            "message": self.message,
        }


# --- recognising the file -------------------------------------------------------------------


def looks_like_spreadsheet(filename: str | None, content_type: str | None) -> bool:
    name = (filename or "").lower()
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return name.endswith(SPREADSHEET_EXTENSIONS) or kind in SPREADSHEET_TYPES


def _kind_of_name(filename: str) -> str | None:
    name = filename.lower()
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    return "xlsx" if name.endswith(XLSX_EXTENSIONS) else None


def _sniff(head: bytes, filename: str | None) -> tuple[str, str | None]:
    """("xlsx", None) or ("csv", encoding), from the name and the content together: a name
    that is not a spreadsheet's (``x.exe``), or one that says CSV over a workbook or the other
    way round, answers 415, as do binaries whatever their name says. Without a name (an API
    client may send none) the content alone decides.

    A NUL byte alone does not make a file binary: in a CSV it is a row error with its row and
    column, wherever it is."""
    shown = filename or "the file"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile(
            gettext(
                "%(shown)s is an old Excel (.xls) workbook; save it as .xlsx or CSV", shown=shown
            )
        )
    named = _kind_of_name(filename) if filename else None
    if filename and named is None:
        raise UnsupportedFile(
            gettext(
                "%(filename)s is not a file type that is imported; upload %(accepted)s",
                filename=filename,
                accepted=ACCEPTED,
            )
        )
    if head.startswith(_BINARY_MAGIC):
        raise UnsupportedFile(
            gettext(
                "%(shown)s is not a spreadsheet; upload %(accepted)s",
                shown=shown,
                accepted=ACCEPTED,
            )
        )
    if head.startswith(b"PK\x03\x04"):
        kind, encoding = "xlsx", None
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        kind, encoding = "csv", "utf-16"
    else:
        kind, encoding = "csv", "utf-8-sig"
    if named == "csv" and kind == "xlsx":
        raise UnsupportedFile(
            gettext(
                "%(filename)s is named as a CSV file but holds an Excel workbook (or "
                "another zip file); name it .xlsx, or save it as CSV. Accepted: "
                "%(accepted)s",
                filename=filename,
                accepted=ACCEPTED,
            )
        )
    if named == "xlsx" and kind == "csv":
        raise UnsupportedFile(
            gettext(
                "%(filename)s is named as an Excel workbook but holds text; name it .csv "
                "if it is CSV, or save it from Excel as .xlsx. Accepted: %(accepted)s",
                filename=filename,
                accepted=ACCEPTED,
            )
        )
    return kind, encoding


# --- reading cells --------------------------------------------------------------------------


def _unquote(text: str) -> str:
    """Drop the quote writers put before a formula-like text (``'=x`` → ``=x``):
    :func:`models.core.formulas.neutralise` undone."""
    if text.startswith("'") and text.startswith(FORMULA_PREFIXES, 1):
        return text[1:]
    return text


def _number_from_text(text: str) -> float:
    """A finite float from a plain number; :class:`BadCell` with the reason otherwise.

    Plain digits, the common case, skip the pattern."""
    if not (text.isascii() and text.isdigit()) and not _NUMBER.fullmatch(text):
        raise BadCell(
            gettext(
                "not a number: %(value)r (write plain digits with '.' for decimals and "
                "no thousands separators)",
                value=text[:40],
            )
        )
    number = float(text)
    if not math.isfinite(number):
        raise BadCell(gettext("not a number: %(value)r is too large", value=text[:40]))
    return number


class _Cells:
    """Turns raw cells (CSV strings or openpyxl values) into text or numbers, or a reason."""

    def __init__(self, kind: str) -> None:
        self.xlsx = kind == "xlsx"
        # Text columns repeat a few names (organisations, periods, indicators, categories)
        # thousands of times: each distinct cell is converted (and interned) once.
        self.known: dict[str, str] = {}  # raw cell → its text

    @staticmethod
    def blank(raw: object) -> bool:
        return raw is None or (isinstance(raw, str) and not raw.strip())

    def text(self, raw: object) -> str:
        if isinstance(raw, str):
            known = self.known.get(raw)
            if known is not None:
                return known
            text = raw.strip()
            if self.xlsx and text.startswith("="):
                raise BadCell(
                    gettext(
                        "formulas are not read (%(value)s); paste the values only", value=text[:40]
                    )
                )
            if "\x00" in text:
                raise BadCell(gettext("contains a NUL character (\\0); remove it"))
            text = _unquote(text)
            if len(self.known) < 10_000 and len(text) <= 100:
                self.known[raw] = text = sys.intern(text)
            return text
        if isinstance(raw, bool):
            return str(raw).lower()
        if isinstance(raw, int):
            return str(raw)
        if isinstance(raw, float):
            return str(int(raw)) if raw.is_integer() else repr(raw)
        if isinstance(raw, datetime | date | time | timedelta):
            raise BadCell(gettext("is a date; type the text itself (format the cell as text)"))
        return str(raw).strip()

    def number(self, raw: object) -> float:
        if isinstance(raw, bool):
            raise BadCell(gettext("not a number: %(raw)s", raw=raw))
        if isinstance(raw, int | float):
            number = float(raw)
            if not math.isfinite(number):
                raise BadCell(gettext("not a number: must be finite"))
            return number
        if isinstance(raw, datetime | date | time | timedelta):
            raise BadCell(gettext("is a date or time, not a number; format the cell as a number"))
        text = str(raw).strip()
        if self.xlsx and text.startswith("="):
            raise BadCell(
                gettext("formulas are not read (%(value)s); paste the values only", value=text[:40])
            )
        return _number_from_text(text)


# --- row sources ----------------------------------------------------------------------------


def _csv_rows(
    stream: BinaryIO,
    encoding: str,
    size: int,
    filename: str,
    progress: Progress | None,
    errors: ErrorLog,
    plain: bool = False,
) -> Generator[tuple[int, Any], None, None]:
    """The CSV's records numbered from 1 (the header), blank lines after the header left out.

    Stricter than the ``csv`` module, which reads a quote that is never closed as one cell
    holding the rest of the file and keeps stray quotes as text: a record with a quote never
    closed, text after a closing quote, a quote inside a cell that does not start with one, a
    NUL, or another number of cells than the header is not yielded but recorded in ``errors``
    with its row and column. Nothing of such a file is written, and nothing is guessed.

    ``plain``: the file holds no quote and no NUL (:func:`_scan`), so each line is one record
    and its cells are the line split at the delimiter, exactly as the ``csv`` module reads it.
    The lines after the header then come as :class:`_Block` s of many lines (with the number of
    the first), which :func:`_chunks` reads a column at a time; a block is checked line by line
    like any record only when something in it is not plain (:func:`_block_records`).
    """
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first = wrapper.readline()
        line = first.rstrip("\r\n")
        delimiter = max((",", ";", "\t"), key=line.count) if line else ","
        limit = csv.field_size_limit()
        if plain and line and "\r" not in line and len(line) <= limit:
            header = line.split(delimiter)
            yield 1, header
            yield from _plain_blocks(
                wrapper, delimiter, header, limit, stream, size, progress, errors
            )
            return
        yield from _records(
            chain([first], wrapper), delimiter, 1, None, stream, size, progress, errors
        )
    except UnicodeDecodeError:
        raise UnsupportedFile(
            gettext(
                "%(filename)s is not text in UTF-8 or Windows-1252; save it as UTF-8 CSV",
                filename=filename,
            )
        ) from None
    finally:
        wrapper.detach()


@dataclass
class _Block:
    """Lines of a plain CSV (no quote, no NUL), without their line ends: one record each."""

    lines: list[str]
    delimiter: str
    header: list[str]


_BLOCK_CHARS = 1 << 18  # text read at a time from a plain CSV (about 5,000 lines)


def _plain_blocks(
    wrapper: io.TextIOWrapper,
    delimiter: str,
    header: list[str],
    limit: int,
    stream: BinaryIO,
    size: int,
    progress: Progress | None,
    errors: ErrorLog,
) -> Generator[tuple[int, Any], None, None]:
    """The lines after the header of a plain CSV in blocks, numbered as the csv module numbers
    its records: a line ends at ``\\n``, ``\\r\\n`` or ``\\r``. A block with a line past the
    csv module's field limit, and everything after it, goes through the csv module."""
    number, rest = 2, ""
    while True:
        text = wrapper.read(_BLOCK_CHARS)
        if text:
            text = rest + text
            cut = text.rfind("\n") + 1
            if not cut:
                rest = text
                continue
            body, rest = text[:cut], text[cut:]
        elif rest:
            body, rest = rest, ""
        else:
            return
        if "\r" in body:
            body = body.replace("\r\n", "\n").replace("\r", "\n")
        lines = body[:-1].split("\n") if body.endswith("\n") else body.split("\n")
        if max(map(len, lines)) > limit:
            pending = chain((f"{line}\n" for line in lines), [rest] if rest else [], wrapper)
            yield from _records(pending, delimiter, number, header, stream, size, progress, errors)
            return
        yield number, _Block(lines, delimiter, header)
        number += len(lines)
        if progress:
            position = max(stream.tell(), 1)
            progress("reading rows", number, max(number, int(number * size / position)))


def _records(
    lines: Iterator[str],
    delimiter: str,
    number: int,
    header: list[str] | None,
    stream: BinaryIO,
    size: int,
    progress: Progress | None,
    errors: ErrorLog,
) -> Generator[tuple[int, list[str]], None, None]:
    """The records of ``lines`` through the csv module, the first numbered ``number`` (the
    header unless ``header`` is given), checked as :func:`_csv_rows` says."""
    record: list[str] = []  # the lines of the record being read, to locate a problem in it
    reader = csv.reader(_kept(lines, record), delimiter=delimiter, strict=True)
    number -= 1
    while True:
        number += 1
        record.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            text = "".join(record)
            resumable = _refuse_record(number, text, None, delimiter, header, errors, exc)
            if header is None or not resumable:
                return  # no header, or no telling where the next record starts
            continue
        if progress and number % _PROGRESS_EVERY == 0:
            position = max(stream.tell(), 1)
            progress("reading rows", number, max(number, int(number * size / position)))
        joined = "".join(cells)
        suspect = '"' in joined or "\x00" in joined
        if header is None:
            header = cells
            if suspect and _refuse_record(
                number, "".join(record), cells, delimiter, header, errors
            ):
                return  # without its header, no row can be read
        elif not joined.strip():
            continue  # a blank line
        elif (suspect or len(cells) != len(header)) and _refuse_record(
            number, "".join(record), cells, delimiter, header, errors
        ):
            continue
        yield number, cells


def _block_records(number: int, block: _Block, errors: ErrorLog) -> Iterator[tuple[int, list[str]]]:
    """The records of a plain block one by one, checked as :func:`_records` checks them (a
    line of a plain CSV is the record of its cells split at the delimiter; an empty line is
    a record without cells)."""
    delimiter, header = block.delimiter, block.header
    for line in block.lines:
        cells = line.split(delimiter) if line else []
        if not "".join(cells).strip():
            pass  # a blank line
        elif len(cells) != len(header) and _refuse_record(
            number, line, cells, delimiter, header, errors
        ):
            pass
        else:
            yield number, cells
        number += 1


def _kept(lines: Iterable[str], kept: list[str]) -> Iterator[str]:
    """The lines, each also appended to ``kept`` (which the reader empties for each record)."""
    for line in lines:
        kept.append(line)
        yield line


_UNCLOSED = lazy_gettext(
    'opens a quote (") that is never closed, so the rest of the file would be read into this '
    "cell; close the quote"
)
_AFTER_QUOTE = lazy_gettext(
    "has text after its closing quote; put the whole cell in quotes and write each quote inside "
    'it as two ("")'
)
_STRAY = lazy_gettext(
    'has a quote (") inside a cell that does not start with one; put the whole cell in quotes '
    'and write each quote inside it as two ("")'
)
_NUL = lazy_gettext("contains a NUL character (\\0); remove it")


def _refuse_record(
    number: int,
    text: str,
    cells: list[str] | None,
    delimiter: str,
    header: list[str] | None,
    errors: ErrorLog,
    exc: csv.Error | None = None,
) -> bool:
    """Record what is wrong with one CSV record (its ``text``, and its ``cells`` when the csv
    module could read it); whether it is refused. After a ``csv.Error``, false means that the
    records after this one cannot be found (a quote never closed, a cell past the size limit).
    """
    problems, last = _record_problems(text, delimiter)
    resumable = True
    if exc is not None:
        if "field limit" in str(exc):
            limit = csv.field_size_limit()
            reason = gettext(
                "is longer than %(limit)s characters, or opens a quote that is never closed",
                limit=format_number(limit),
            )
            problems = [(last, reason)]
        elif not problems:
            problems = [(last, gettext("is not readable as CSV (%(exc)s)", exc=exc))]
        resumable = all(reason == str(_AFTER_QUOTE) for _, reason in problems)
    elif header is not None and cells is not None and len(cells) != len(header):
        width, count = len(header), len(cells)
        if count > width:
            reason = gettext(
                "the row has %(count)s cells but the header has %(width)s: a cell holding "
                "%(delimiter)s must be in quotes",
                count=count,
                width=width,
                delimiter=_delimiter_name(delimiter),
            )
        else:
            reason = gettext(
                "the row has %(count)s cells but the header has %(width)s; write every "
                "column's cell, empty ones too",
                count=count,
                width=width,
            )
        problems.append((min(count, width), reason))
    for index, reason in problems:
        errors.add(number, _column_name(header, index), reason)
    return bool(problems) and resumable


def _record_problems(text: str, delimiter: str) -> tuple[list[tuple[int, str]], int]:
    """(cell index, reason) of each malformed cell of one record's text, and the index of its
    last cell: the rules of RFC 4180 that the csv module does not enforce."""
    problems: list[tuple[int, str]] = []
    end_of_cell = _CELL_END[delimiter]
    index, at, size = 0, 0, len(text)
    while True:
        start = at
        if at < size and text[at] == '"':
            at += 1
            while True:
                close = text.find('"', at)
                if close < 0:
                    problems.append((index, str(_UNCLOSED)))
                    return problems, index
                if text.startswith('""', close):
                    at = close + 2
                    continue
                at = close + 1
                break
            found = end_of_cell.search(text, at)
            stop = found.start() if found else size
            if stop != at:
                problems.append((index, str(_AFTER_QUOTE)))
        else:
            found = end_of_cell.search(text, at)
            stop = found.start() if found else size
            if '"' in text[at:stop]:
                problems.append((index, str(_STRAY)))
        if "\x00" in text[start:stop]:
            problems.append((index, str(_NUL)))
        if stop >= size or text[stop] != delimiter:
            return problems, index
        index += 1
        at = stop + 1


_CELL_END = {d: re.compile(f"[{re.escape(d)}\r\n]") for d in (",", ";", "\t")}


def _delimiter_name(delimiter: str) -> str:
    names = {",": gettext("a comma"), ";": gettext("a semicolon"), "\t": gettext("a tab")}
    return names[delimiter]


def _header_name(raw: object) -> str:
    """A header cell as the importer reads it: ``Indicator Code`` → ``indicator``."""
    name = str(raw).strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(name, name)


def _column_name(header: list[str] | None, index: int) -> str:
    """How a problem names a CSV column: by its header, or by its letter where it has none."""
    if header is not None and index < len(header):
        name = _header_name(header[index])
        if name and name.isprintable() and '"' not in name:
            return name[:60]
    from openpyxl.utils import get_column_letter

    return gettext("column %(letter)s", letter=get_column_letter(index + 1))


MAX_XLSX_EXPANSION = 100  # a real workbook compresses ~5-20×; a zip bomb far more
MAX_XLSX_COLUMNS = 200  # the template has ten; anything past this column is not read


def _refuse_zip_bombs(stream: BinaryIO, filename: str) -> None:
    """Read the zip directory before unpacking anything: a workbook that would expand past
    the byte limit, or by an implausible ratio, is refused (413) without being inflated."""
    import zipfile

    start = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsupportedFile(
            gettext("%(filename)s is not an Excel .xlsx workbook", filename=filename)
        ) from None
    finally:
        stream.seek(start)
    expanded = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    limit = get_settings().import_max_bytes * 4
    if expanded > limit or (expanded > 10_000_000 and expanded / packed > MAX_XLSX_EXPANSION):
        raise FileTooLarge(
            gettext(
                "%(filename)s would unpack to %(expanded)s bytes (%(ratio)s× its size); "
                "save it again as a plain .xlsx or .csv",
                filename=filename,
                expanded=format_number(expanded),
                ratio=format_number(expanded // packed),
            ),
            code="file_too_large",
        )


def _xlsx_rows(
    stream: BinaryIO, filename: str, progress: Progress | None
) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _refuse_zip_bombs(stream, filename)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=False)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise UnsupportedFile(
            gettext("%(filename)s is not an Excel .xlsx workbook", filename=filename)
        ) from None
    try:
        names = workbook.sheetnames
        sheet_name = (
            "Values"
            if "Values" in names
            else next((n for n in names if n not in ("Instructions", "Lists")), names[0])
        )
        sheet = workbook[sheet_name]
        total = max((sheet.max_row or 0) - 1, 0)
        # The sheet's declared size is not trusted: "A1:XFD1048576" would pad every row to
        # 16,384 cells. Only the first MAX_XLSX_COLUMNS columns can hold what is read.
        width = min(sheet.max_column or MAX_XLSX_COLUMNS, MAX_XLSX_COLUMNS)
        rows = sheet.iter_rows(values_only=True, max_col=width)
        for number, cells in enumerate(rows, start=1):
            if progress and number % _PROGRESS_EVERY == 0:
                progress("reading rows", number, max(total, number))
            yield number, cells
    finally:
        workbook.close()


# --- parsing --------------------------------------------------------------------------------


# Rows with a problem remembered to count each once (~5 MB); a file with more is far past
# fixing row by row, and its count may then be a little high.
MAX_TRACKED_ROWS = 100_000


class ErrorLog:
    """Every problem counted, the first :data:`MAX_LISTED_ERRORS` (by row) kept for the answer.

    A file with a million bad rows must not need a million error objects in memory.
    """

    def __init__(self) -> None:
        self.listed: list[RowError] = []
        self.count = 0
        self._seen: set[int] = set()  # rows with a problem, up to MAX_TRACKED_ROWS of them
        self._untracked = 0  # rows counted past that (a row may then be counted twice)
        self._chunk_rows: set[int] = set()

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        self._chunk_rows.add(row)
        self.listed.append(RowError(row, column, reason))
        if len(self.listed) >= 4 * MAX_LISTED_ERRORS:
            self.listed = sorted(self.listed)[:MAX_LISTED_ERRORS]

    def close_chunk(self) -> None:
        """Count the chunk's rows with a problem once, also when a later check (a cell given
        twice, a group refused as a whole) comes back to a row that already had one."""
        new = self._chunk_rows - self._seen
        if len(self._seen) + len(new) <= MAX_TRACKED_ROWS:
            self._seen |= new
        else:
            self._untracked += len(new)
        self._chunk_rows.clear()

    @property
    def rows(self) -> int:
        """Distinct rows with a problem (exact up to MAX_TRACKED_ROWS of them)."""
        return len(self._seen) + self._untracked

    def sorted(self) -> list[RowError]:
        self.close_chunk()
        self.listed = sorted(self.listed)[:MAX_LISTED_ERRORS]
        return self.listed

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass
class ReadState:
    """What reading the file found besides the rows it yields."""

    kind: str
    rows: int = 0  # non-blank data rows
    skipped: int = 0  # rows with no number and no note
    errors: ErrorLog = field(default_factory=ErrorLog)
    bad_cells: set[tuple[int, str]] = field(default_factory=set)  # of the current chunk


# A chunk of rows by where they belong, (organisation, period), in the file's order.
Chunk = dict[tuple[str, str], list[Row]]
CHUNK_ROWS = 5000


def read_chunks(
    stream: BinaryIO,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    default_org: str | None = None,
    default_period: str | None = None,
    max_rows: int | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[ReadState, Iterator[Chunk]]:
    """The file's state and an iterator over its rows in chunks of up to ``chunk_rows``.

    Raises :class:`UnsupportedFile` for what is not a spreadsheet (at once, or while reading a
    file whose text turns out not to be decodable) and :class:`FileTooLarge` past ``max_rows``
    data rows. Problems with cells are recorded in the state's error log, not raised. Each
    chunk's ``bad_cells`` are valid until the next chunk is read.
    """
    max_rows = max_rows or get_settings().import_max_rows
    start = stream.tell()
    head = stream.read(8192)
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    kind, encoding = _sniff(head, filename)
    shown = filename or "the file"
    state = ReadState(kind=kind)
    source: Generator[tuple[int, Any], None, None]
    if kind == "xlsx":
        source = _xlsx_rows(stream, shown, progress)
    else:
        assert encoding is not None  # _sniff names a CSV's encoding
        plain = False
        if encoding == "utf-8-sig":
            decodes, plain = _scan(stream)
            if not decodes:
                encoding = "cp1252"  # not UTF-8: Excel's "CSV" on Windows
        source = _csv_rows(stream, encoding, size, shown, progress, state.errors, plain)
    chunks = _chunks(
        source,
        state=state,
        filename=filename,
        content_type=content_type,
        default_org=default_org,
        default_period=default_period,
        max_rows=max_rows,
        progress=progress,
        chunk_rows=chunk_rows,
    )
    return state, chunks


def _scan(stream: BinaryIO) -> tuple[bool, bool]:
    """Whether the whole stream is valid UTF-8, and whether it is plain: no quote and no NUL,
    in UTF-8 or Windows-1252 alike (both write them as those bytes and no other), so that
    every line is one record (read in blocks, nothing kept)."""
    start = stream.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    decodes, plain = True, True
    try:
        while block := stream.read(1 << 20):
            if plain and (b'"' in block or b"\x00" in block):
                plain = False
            if decodes:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    decodes = False
        if decodes:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                decodes = False
        return decodes, plain
    finally:
        stream.seek(start)


def parse_spreadsheet(stream: BinaryIO, **kwargs: Any) -> ParsedFile:
    """Read a whole (small) file into groups: for tests and tools, not the import path."""
    state, chunks = read_chunks(stream, **kwargs)
    parsed = ParsedFile(kind=state.kind)
    for chunk in chunks:
        for key, rows in chunk.items():
            parsed.groups.setdefault(key, []).extend(rows)
    parsed.rows, parsed.skipped = state.rows, state.skipped
    parsed.errors = state.errors.sorted()
    return parsed


def _header(
    cells: Sequence[object] | None, default_org: str | None, default_period: str | None
) -> tuple[dict[str, int], list[RowError]]:
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(cells or ()):
        if raw is None:
            continue
        name = _header_name(raw)
        if name in READ_COLUMNS:
            if name in positions:
                errors.append(RowError(1, name, gettext("this column appears twice")))
            positions[name] = index
    required = ["indicator"]
    if default_org is None:
        required.append("organisation")
    if default_period is None:
        required.append("period")
    for name in required:
        if name not in positions:
            reason = (
                gettext("missing column")
                if name == "indicator"
                else gettext("missing column (or pass the %(name)s with the upload)", name=name)
            )
            errors.append(RowError(1, name, reason))
    if not any(n in positions for n in NUMBER_COLUMNS):
        errors.append(
            RowError(1, "value", gettext("missing column: value, numerator or denominator"))
        )
    return positions, errors


def _chunks(
    rows: Generator[tuple[int, Any], None, None],
    *,
    state: ReadState,
    filename: str | None,
    content_type: str | None,
    default_org: str | None,
    default_period: str | None,
    max_rows: int,
    progress: Progress | None,
    chunk_rows: int,
) -> Iterator[Chunk]:
    cells = _Cells(state.kind)
    errors = state.errors
    intern = sys.intern
    try:
        first = next(rows, None)
        if first is None and errors:
            return  # the reader refused the header itself
        positions, header_errors = _header(first[1] if first else None, default_org, default_period)
        if not any(n in positions for n in READ_COLUMNS):
            if not looks_like_spreadsheet(filename, content_type):
                raise UnsupportedFile(
                    gettext(
                        "%(value)s is not a spreadsheet; upload %(accepted)s",
                        value=filename or "the file",
                        accepted=ACCEPTED,
                    )
                )
            reason = (
                "the file is empty"
                if first is None
                else "row 1 must be the header: " + ", ".join(READ_COLUMNS)
            )
            errors.add(1, "header", reason)
            return
        if header_errors:
            for e in header_errors:
                errors.add(e.row, e.column, e.reason)
            return
        at = [positions.get(name) for name in READ_COLUMNS]
        # Every CSV row has the header's width (the reader refuses others), and one cell more
        # is added to each: the columns the file lacks read as that empty cell.
        width = len(first[1]) if first else 0
        csv_at = [width if i is None else i for i in at]
        chunk: Chunk = {}
        in_chunk = 0
        group: list[Row] = []
        last_org = last_period = None
        blank, csv_file = cells.blank, state.kind == "csv"
        raw: Any  # a CSV record's cells, or a sheet row's values
        for number, item in rows:
            records: Iterable[tuple[int, Any]]
            if type(item) is _Block:
                plain = None
                if state.rows + len(item.lines) <= max_rows:
                    plain = _plain_rows(number, item, csv_at, cells, default_org, default_period)
                if plain is not None:
                    # Every line a row of its group: added as the loop below adds them.
                    state.rows += len(plain[2])
                    for in_org, in_period, row in zip(*plain, strict=True):
                        if in_org is not last_org or in_period is not last_period:
                            key = (intern(in_org), intern(in_period))
                            found = chunk.get(key)
                            if found is None:
                                found = chunk[key] = []
                            group, last_org, last_period = found, in_org, in_period
                        group.append(row)
                        in_chunk += 1
                        if in_chunk >= chunk_rows:
                            yield chunk
                            chunk, in_chunk, last_org, last_period = {}, 0, None, None
                            state.bad_cells.clear()
                            errors.close_chunk()
                    continue
                records = _block_records(number, item, errors)
            else:
                records = ((number, item),)
            for number, raw in records:
                # Blank rows are skipped: the CSV reader leaves them out, gaps in a sheet are rows
                # of None (the first test runs at C speed).
                if not csv_file and (raw.count(None) == len(raw) or all(map(blank, raw))):
                    continue
                state.rows += 1
                if state.rows > max_rows:
                    raise FileTooLarge(
                        gettext(
                            "the file has more than %(max_rows)s data rows; split it into smaller "
                            "files",
                            max_rows=format_number(max_rows),
                        ),
                        code="too_many_rows",
                        extra={"limit": max_rows},
                    )
                if csv_file:
                    read = _read_csv_row(number, raw, csv_at, cells, state)
                else:
                    read = _read_row(number, raw, at, cells, state)
                if read is None:
                    continue
                org = read[0] or default_org
                period = read[1] or default_period
                if not (org and period):
                    for name, present in (("organisation", org), ("period", period)):
                        if not present and (number, name) not in state.bad_cells:
                            errors.add(number, name, gettext("is required"))
                    continue
                if org is not last_org or period is not last_period:  # rows come in runs
                    key = (intern(org), intern(period))
                    found = chunk.get(key)
                    if found is None:
                        found = chunk[key] = []
                    group, last_org, last_period = found, org, period
                group.append(read[2])
                in_chunk += 1
                if in_chunk >= chunk_rows:
                    yield chunk
                    chunk, in_chunk, last_org, last_period = {}, 0, None, None
                    state.bad_cells.clear()
                    errors.close_chunk()
        if chunk:
            yield chunk
        if progress:
            progress("reading rows", state.rows, state.rows)
    finally:
        rows.close()  # detach the text wrapper, close the workbook


def _plain_rows(
    number: int,
    block: _Block,
    at: list[int],
    cells: _Cells,
    default_org: str | None,
    default_period: str | None,
) -> tuple[list[str], list[str], list[Row]] | None:
    """(organisation, period, row) of every line of a plain block, read a column at a time
    (numbered from ``number``); None when a line is not a plain row, so the block is read line
    by line instead: a line of another width, a blank line, a row without its indicator, its
    organisation or period, or with no number and no note, a cell that is not plain text or a
    plain number. What it gives is what :func:`_read_csv_row` gives for each line."""
    lines = block.lines
    if not lines:
        return [], [], []
    delimiter, width = block.delimiter, len(block.header)
    # Every line of the header's width, then all cells in one list, cut into columns: no list
    # per line (lines by the thousand would keep the garbage collector busy).
    if set(map(str.count, lines, repeat(delimiter))) != {width - 1}:
        return None
    cut = delimiter.join(lines).split(delimiter)
    columns = [cut[i::width] for i in range(width)]
    columns.append([""] * len(lines))  # the cell of any column the file lacks
    at_org, at_period, at_indicator, at_disaggregation, at_note, at_value, at_num, at_den = at
    indicators = _plain_texts(columns[at_indicator], cells)
    orgs = _plain_texts(columns[at_org], cells)
    periods = _plain_texts(columns[at_period], cells)
    disaggregations = _plain_texts(columns[at_disaggregation], cells)
    notes = _plain_texts(columns[at_note], cells)
    values = _plain_numbers(columns[at_value])
    numerators = _plain_numbers(columns[at_num])
    denominators = _plain_numbers(columns[at_den])
    if (
        indicators is None
        or orgs is None
        or periods is None
        or disaggregations is None
        or notes is None
        or values is None
        or numerators is None
        or denominators is None
        or None in indicators
    ):
        return None
    if None in orgs:
        if not default_org:
            return None
        orgs = [org or default_org for org in orgs]
    if None in periods:
        if not default_period:
            return None
        periods = [period or default_period for period in periods]
    if (None, None, None, None) in zip(values, numerators, denominators, notes):
        return None  # a line with no number and no note: skipped, and counted so
    rows = zip(
        range(number, number + len(lines)),
        indicators,
        map(_disaggregation, disaggregations),
        values,
        numerators,
        denominators,
        notes,
    )
    return orgs, periods, list(rows)  # type: ignore[return-value]


def _plain_texts(column: Sequence[str], cells: _Cells) -> list[str | None] | None:
    """The text of each cell of a text column (None for a blank cell), as
    :func:`_text_cell` reads it; None when a cell is refused."""
    known = cells.known
    missing = set(column).difference(known)
    extra: dict[str, str] = {}
    for cell in missing:
        if cell and not cell.isspace():
            try:
                text = cells.text(cell)
            except BadCell:
                return None
            if cell not in known:  # not kept (long, or past the cache's size)
                extra[cell] = text
    if extra:
        return [known.get(cell) or extra.get(cell) for cell in column]
    return list(map(known.get, column))


# What a column of plain numbers holds: ASCII digits, a point, an exponent, signs, and the
# line ends that join its cells. float() reads a cell of these characters exactly when
# _NUMBER matches it (an optional sign, digits with at most one point, an optional exponent),
# and reads it as _number_from_text does; it raises ValueError for any other.
_NOT_PLAIN_NUMBER = re.compile(r"[^0-9.eE+\-\n]")
_INFINITY = float("inf")


def _plain_numbers(column: Sequence[str]) -> list[float | None] | None:
    """The number of each cell of a number column (None for an empty cell), as
    :func:`_read_csv_row` reads it; None when a cell is not a plain, finite number."""
    if not any(column):
        return [None] * len(column)
    if _NOT_PLAIN_NUMBER.search("\n".join(column)):
        return None
    try:
        if "" in column:
            numbers = [float(cell) if cell else None for cell in column]
        else:
            numbers = list(map(float, column))
    except ValueError:
        return None
    if _INFINITY in numbers or -_INFINITY in numbers:
        return None
    return numbers


def _read_row(
    number: int, raw: Any, at: list[int | None], cells: _Cells, state: ReadState
) -> tuple[str | None, str | None, Row] | None:
    """(organisation, period, row) of one data row; None when skipped or unusable."""
    size = len(raw)
    converted: list[Any] = []
    bad = False
    for name, i in zip(READ_COLUMNS, at, strict=True):
        cell = None if i is None or i >= size else raw[i]
        value: Any = None
        if not cells.blank(cell):
            try:
                value = cells.number(cell) if name in NUMBER_COLUMNS else cells.text(cell)
            except BadCell as exc:
                state.errors.add(number, name, str(exc))
                state.bad_cells.add((number, name))
                bad = True
        converted.append(value)
    return _located(number, converted, bad, state)


def _read_csv_row(
    number: int, raw: list[str], at: list[int], cells: _Cells, state: ReadState
) -> tuple[str | None, str | None, Row] | None:
    """:func:`_read_row` for CSV, where every cell is a string: the same rules and messages,
    without the type tests that only Excel cells need (the hot loop of a large import). The
    commonest cells are taken without a call: a text seen before (``_Cells.text``'s cache),
    an empty cell, a whole number; the others go through ``_text_cell`` and ``_number_cell``."""
    raw.append("")  # the cell of any column the file lacks (see _chunks)
    known = cells.known.get
    errors = state.errors.count
    at_org, at_period, at_indicator, at_disaggregation, at_note, at_value, at_num, at_den = at
    cell = raw[at_org]
    organisation = known(cell)
    if organisation is None and cell:
        organisation = _text_cell(number, 0, cell, cells, state)
    cell = raw[at_period]
    period = known(cell)
    if period is None and cell:
        period = _text_cell(number, 1, cell, cells, state)
    cell = raw[at_indicator]
    indicator = known(cell)
    if indicator is None and cell:
        indicator = _text_cell(number, 2, cell, cells, state)
    cell = raw[at_disaggregation]
    disaggregation = known(cell)
    if disaggregation is None and cell:
        disaggregation = _text_cell(number, 3, cell, cells, state)
    cell = raw[at_note]
    note = known(cell)
    if note is None and cell:
        note = _text_cell(number, 4, cell, cells, state)
    cell = raw[at_value]
    value = (
        float(cell)
        if cell.isdigit() and cell.isascii() and len(cell) < _LONG
        else _number_cell(number, 5, cell, state)
        if cell
        else None
    )
    cell = raw[at_num]
    numerator = (
        float(cell)
        if cell.isdigit() and cell.isascii() and len(cell) < _LONG
        else _number_cell(number, 6, cell, state)
        if cell
        else None
    )
    cell = raw[at_den]
    denominator = (
        float(cell)
        if cell.isdigit() and cell.isascii() and len(cell) < _LONG
        else _number_cell(number, 7, cell, state)
        if cell
        else None
    )
    empty = note is None and value is None and numerator is None and denominator is None
    if empty and state.errors.count == errors:
        state.skipped += 1  # an unfilled line (of a template): nothing to import
        return None
    if not indicator:
        if (number, "indicator") not in state.bad_cells:
            state.errors.add(number, "indicator", gettext("is required"))
        return None
    row: Row = (
        number,
        indicator,
        _disaggregation(disaggregation),
        value,
        numerator,
        denominator,
        note,
    )
    return organisation, period, row


_TEXT_COLUMNS = len(TEXT_COLUMNS)  # READ_COLUMNS: the text columns, then the numbers
_LONG = 300  # digits: a whole number this long may be past a float's range (checked slowly)


def _text_cell(number: int, column: int, cell: str, cells: _Cells, state: ReadState) -> str | None:
    """A text cell that is not in the cache: None when blank; its text, or (recorded) its
    problem."""
    if cell.isspace():
        return None
    try:
        return cells.text(cell)
    except BadCell as exc:
        _bad_cell(number, column, exc, state)
        return None


def _number_cell(number: int, column: int, cell: str, state: ReadState) -> float | None:
    """A number cell that is not plain digits: None when blank; its number, or (recorded) its
    problem."""
    if cell.isspace():
        return None
    try:
        return _number_from_text(cell.strip())
    except BadCell as exc:
        _bad_cell(number, column, exc, state)
        return None


def _bad_cell(number: int, column: int, exc: BadCell, state: ReadState) -> None:
    name = READ_COLUMNS[column]
    state.errors.add(number, name, str(exc))
    state.bad_cells.add((number, name))


def _located(
    number: int, converted: list[Any], bad: bool, state: ReadState
) -> tuple[str | None, str | None, Row] | None:
    """(organisation, period, row) from a row's converted cells (in READ_COLUMNS order);
    None for an unfilled line (counted as skipped) or a row without an indicator."""
    organisation, period, indicator, disaggregation, note, *numbers = converted
    if not bad and note is None and numbers == [None, None, None]:
        state.skipped += 1  # an unfilled line (of a template): nothing to import
        return None
    if not indicator:
        if (number, "indicator") not in state.bad_cells:
            state.errors.add(number, "indicator", gettext("is required"))
        return None
    row: Row = (number, indicator, _disaggregation(disaggregation), *numbers, note)
    return organisation, period, row


@functools.lru_cache(maxsize=4096)
def _disaggregation(text: str | None) -> str:
    """``total`` or ``dimension=category`` without stray spaces (interned: few distinct)."""
    if not text or text.strip().lower() == TOTAL:
        return TOTAL
    if "=" in text:
        dimension, category = text.split("=", 1)
        return sys.intern(f"{dimension.strip()}={category.strip()}")
    return sys.intern(text.strip())


# --- planning and writing -------------------------------------------------------------------


@dataclass
class _Group:
    """One (organisation, period) of the file, resolved once for all its chunks."""

    number: int
    first_row: int
    result: SubmissionResult
    rows: int = 0
    error: DomainError | None = None
    ctx: WriteContext | None = None
    obligations: set[int] = field(default_factory=set)
    new: bool = False  # no submission yet: the import creates it
    chunks: int = 0  # the chunks holding its rows

    @property
    def resolved(self) -> WriteContext:
        """Where the group writes: every group resolved without an error has it."""
        assert self.ctx is not None, "a group without a context has an error"
        return self.ctx


class _Targets:
    """Resolves the file's (organisation, period) groups in bulk: members, periods and
    obligations are read once per import, submissions once per chunk, with the same rules and
    messages as a single write (:func:`models.reporting.submissions.check_writable`)."""

    def __init__(self, session: Session, actor: Actor, initiative: Initiative, today: date):
        self.session, self.actor, self.initiative, self.today = session, actor, initiative, today
        self.members = {
            org.slug: (member, org)
            for member, org in session.execute(
                select(Member, Organisation)
                .join(Organisation, Organisation.id == Member.organisation_id)
                .where(Member.initiative_id == initiative.id)
            )
        }
        self.periods = {
            p.key: p
            for p in session.scalars(select(Period).where(Period.initiative_id == initiative.id))
        }
        self.obligations: dict[int, set[int]] = {}
        for member_id, indicator_id in session.execute(
            select(Obligation.member_id, Obligation.indicator_id)
            .join(Member, Member.id == Obligation.member_id)
            .where(Member.initiative_id == initiative.id)
        ):
            self.obligations.setdefault(member_id, set()).add(indicator_id)
        self.groups: dict[tuple[str, str], _Group] = {}

    def resolve(self, keys: dict[tuple[str, str], int]) -> None:
        """Resolve the groups first seen in a chunk (key → its first row)."""
        fresh: list[_Group] = []
        for (org, period_key), first_row in keys.items():
            if (org, period_key) in self.groups:
                continue
            group = _Group(
                number=len(self.groups),
                first_row=first_row,
                result=SubmissionResult(organisation=org, period=period_key),
            )
            self.groups[(org, period_key)] = group
            found = self.members.get(org)
            if found is None or not (
                self.actor.is_backbone(self.initiative.id)
                or self.actor.reports_for(self.initiative.id, found[1].id)
            ):
                group.error = no_member(org)
            elif period_key not in self.periods:
                group.error = no_period(period_key)
            else:
                member, organisation = found
                group.ctx = WriteContext(
                    self.initiative, member, organisation, self.periods[period_key], None
                )
                group.obligations = self.obligations.get(member.id, set())
                fresh.append(group)
        if fresh:
            pairs = {(g.resolved.member.id, g.resolved.period.id): g for g in fresh}
            for sub in self.session.scalars(
                select(Submission).where(
                    Submission.member_id.in_({m for m, _ in pairs}),
                    Submission.period_id.in_({p for _, p in pairs}),
                )
            ):
                paired = pairs.get((sub.member_id, sub.period_id))
                if paired is not None:
                    paired.resolved.submission = sub
        for group in fresh:
            ctx = group.resolved
            group.new = ctx.submission is None
            try:
                check_writable(
                    session=self.session,
                    actor=self.actor,
                    initiative_id=self.initiative.id,
                    period=ctx.period,
                    member_id=ctx.member.id,
                    submission=ctx.submission,
                    today=self.today,
                )
            except DomainError as exc:
                group.error = exc


def _column_of(exc: DomainError) -> str:
    return {"org": "organisation", "period": "period"}.get(exc.field or "", "period")


def _import_file(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    stream: BinaryIO,
    filename: str | None = None,
    content_type: str | None = None,
    dry_run: bool = False,
    default_org: str | None = None,
    default_period: str | None = None,
    max_rows: int | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import a CSV/XLSX stream: every row valid and written, or nothing written.

    Returns the report (with ``errors`` when rejected); raises only for what is not an import at
    all: an initiative the actor cannot see (404), an actor who reports for no one (403), a file
    that is not a spreadsheet (:class:`UnsupportedFile`) or has too many rows
    (:class:`FileTooLarge`). Flushes, never commits.

    Rows are read and checked a chunk at a time and staged in a temporary table
    (:mod:`models.spreadsheets.staging`), so memory does not grow with the file; the write is one
    set-based merge once every row is known to be valid.
    """
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    if not actor.is_backbone(initiative.id) and not actor.reporter_orgs(initiative.id):
        raise PermissionDenied(gettext("only backbone staff and reporters import values"))
    state, chunks = read_chunks(
        stream,
        filename=filename,
        content_type=content_type,
        default_org=default_org,
        default_period=default_period,
        max_rows=max_rows,
        progress=progress,
        chunk_rows=chunk_rows,
    )
    session.flush()
    stage = Stage(session=session, memory=not dry_run)  # a dry run writes nothing: no gain
    try:
        with _cycles_uncollected():
            return _stage_and_merge(
                session=session,
                actor=actor,
                initiative=initiative,
                state=state,
                chunks=chunks,
                stage=stage,
                report=ImportReport(dry_run=dry_run, file=filename or "upload"),
                progress=progress,
                today=today or dates.today(),
            )
    finally:
        try:
            stage.drop()
        except DBAPIError:
            pass  # the transaction failed; its rollback takes the table with it


_NO_FLAGS = "[]"


@contextmanager
def _cycles_uncollected() -> Iterator[None]:
    """Python's cycle collector paused for an import, and resumed after it if it ran before.

    An import allocates a million small objects, which the collector examines again and
    again, and its full collections walk every row kept in memory: a sixth of a large
    import's time on SQLite, to find about a thousand objects in cycles among 200,000 rows
    (the rows, their numbers and texts make none). What a paused collector leaves is collected
    once it runs again (other threads' too: their cycles wait for the import's end)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _stage_and_merge(
    *,
    session: Session,
    actor: Actor,
    initiative: Initiative,
    state: ReadState,
    chunks: Iterator[Chunk],
    stage: Stage,
    report: ImportReport,
    progress: Progress | None,
    today: date,
) -> ImportReport:
    specs = indicator_specs(session=session, initiative_id=initiative.id)
    code_of = {spec.id: spec.code for spec in specs.values()}
    targets = _Targets(session, actor, initiative, today)
    approved = _History(session, specs)
    errors = state.errors
    known: dict[tuple[str, str], KnownCell] = {}  # the cells check_rows has resolved
    flag_json: dict[tuple[str, ...], str] = {}  # flag codes → their JSON
    for by_group in chunks:
        targets.resolve({key: rows[0][0] for key, rows in by_group.items()})
        # A dry run writes nothing, so it has no flags to store.
        history = None if report.dry_run else approved.for_chunk(targets, by_group)
        staged: list[tuple[Any, ...]] = []
        for key, rows in by_group.items():
            group = targets.groups[key]
            group.rows += len(rows)
            group.chunks += 1
            if group.error is not None:
                continue
            # Checked as a single write checks its values (a copy of the group's rows, which
            # lives while the group is checked).
            checked = check_rows(rows, specs=specs, obligations=group.obligations, known=known)
            refused = set()
            for problem in checked.problems:
                number = rows[problem.index][0]
                refused.add(problem.index)
                if (number, problem.column) not in state.bad_cells:
                    errors.add(number, problem.column, problem.reason)
            ctx = group.resolved
            # Where every row of the group goes, read once (ORM attributes, not per row).
            head = (
                group.number,
                ctx.submission.id if ctx.submission is not None else None,
                ctx.member.id,
                ctx.period.id,
            )
            for index in refused:
                cell = checked.cells.get(index)
                if cell is not None:  # staged without a value: only to find it given twice
                    staged.append(
                        (rows[index][0], *head, cell[0], None, None, cell[1])
                        + (None, None, None, None, None)
                    )
            flags = _first_flags(session, group, specs, checked.clean, history, approved.figures)
            accepted = [r for i, r in enumerate(rows) if i not in refused] if refused else rows
            # A staged row: the file's row, the group's place, the checked value (CleanValue's
            # fields in order), its flags (as text: none is "[]", which binds cheaper than NULL
            # and is what the insert makes of NULL).
            if flags:
                # The JSON of each set of flags made once for the import (there are few).
                flag_text = {
                    cell: flag_json.get(codes) or flag_json.setdefault(codes, json.dumps(codes))
                    for cell, codes in flags.items()
                    if codes
                }.get
                staged += [
                    (r[0], *head, *c, flag_text((c[0], c[3]), _NO_FLAGS))
                    for r, c in zip(accepted, checked.clean, strict=True)
                ]
            else:
                staged += [
                    (r[0], *head, *c, _NO_FLAGS)
                    for r, c in zip(accepted, checked.clean, strict=True)
                ]
        stage.add(staged)
        errors.close_chunk()
        if progress:
            progress("checking rows", state.rows, state.rows)
    report.rows, report.skipped = state.rows, state.skipped

    for group in targets.groups.values():
        if group.error is not None:
            exc, org, period = group.error, group.result.organisation, group.result.period
            count = ngettext("%(n)s row", "%(n)s rows", group.rows)
            errors.add(
                group.first_row,
                _column_of(exc),
                gettext(
                    "%(message)s (%(count)s for %(org)s %(period)s)",
                    message=exc.message,
                    count=count,
                    org=org,
                    period=period,
                ),
            )
    if not targets.groups and not errors:
        errors.add(1, "file", gettext("the file holds no values to import"))
    stage.prepare(match=any(not g.new for g in targets.groups.values() if g.error is None))
    # A cell given twice within one chunk is refused by check_values and never staged with
    # its cell, so only a group whose rows span chunks can repeat a staged cell.
    spread = [g.number for g in targets.groups.values() if g.chunks > 1]
    for number, indicator_id, disaggregation in stage.duplicates(spread) if spread else ():
        errors.add(
            number,
            "indicator",
            gettext(
                "%(value)s %(disaggregation)s given twice",
                value=code_of[indicator_id],
                disaggregation=disaggregation,
            ),
        )
    errors.close_chunk()

    counts = stage.counts()
    for group in targets.groups.values():
        if group.error is not None:
            continue
        result = group.result
        result.created, result.updated, result.unchanged = counts.get(group.number, (0, 0, 0))
        submission = group.resolved.submission
        if submission is not None:
            result.status = submission.status
            result.version = submission.version
        report.submissions.append(result)
    report.error_log = errors
    if errors or report.dry_run:
        return report

    to_write = [g for g in targets.groups.values() if g.result.created or g.result.updated]
    reason = f"import of {report.file}"
    if progress:
        progress("writing", 0, len(to_write))
    existing = [g for g in to_write if g.resolved.submission is not None]
    create_submissions(
        session=session,
        actor=actor,
        contexts=[g.resolved for g in to_write if g.resolved.submission is None],
        reason=reason,
    )
    for group in existing:
        claim_submission(
            session=session, actor=actor, ctx=group.resolved, expected_version=None, reason=reason
        )
    if to_write:
        stage.write(
            actor=actor,
            initiative_id=initiative.id,
            reason=reason,
            now=utcnow(),
            updates=any(g.result.updated for g in to_write),
            submissions={g.number: g.resolved.claimed.id for g in to_write},
        )
    # Flags were staged for the submissions the import creates from rows of one chunk; the
    # others (values already stored, or rows spread over chunks) are flagged from the table.
    later = [g.resolved for g in to_write if not g.new or g.chunks > 1]
    refresh_flags(
        session=session,
        contexts=later,
        specs=specs,
        history=approved.of(ctx.member.id for ctx in later),
    )
    for group in to_write:
        submission = group.resolved.claimed
        group.result.status, group.result.version = submission.status, submission.version
    report.written = bool(to_write)
    session.flush()
    return report


class _History:
    """The approved history of the members whose new submissions an import flags as it
    checks them: read once per member (one query per chunk that brings new members), kept for
    the import (members × indicators × periods of the initiative, whatever the file's size)."""

    def __init__(self, session: Session, specs: dict[str, IndicatorSpec]) -> None:
        self.session = session
        self.indicator_ids = {spec.id for spec in specs.values()}
        self.members: set[int] = set()
        self.totals: History = {}
        # What each member's totals give the history checks, computed once for the member's
        # reports of every new quarter (the totals of a member, once read, never change).
        self.figures: PastFigures = {}

    def for_chunk(self, targets: _Targets, by_group: Chunk) -> History:
        """(member, indicator) → approved totals, covering this chunk's new submissions."""
        return self.of(
            g.resolved.member.id
            for g in (targets.groups[key] for key in by_group)
            if g.error is None and g.new and g.chunks == 0
        )

    def of(self, member_ids: Iterable[int]) -> History:
        """(member, indicator) → approved totals, covering these members."""
        missing = set(member_ids) - self.members
        if missing:
            # Every approved period: each submission keeps those before its own.
            self.totals.update(
                approved_history(
                    session=self.session, member_ids=missing, indicator_ids=self.indicator_ids
                )
            )
            self.members |= missing
        return self.totals


def _first_flags(
    session: Session,
    group: _Group,
    specs: dict[str, IndicatorSpec],
    clean: list[CleanValue],
    history: History | None,
    figures: PastFigures,
) -> dict[tuple[int, str], tuple[str, ...]]:
    """The flags of a new submission's cells, computed from its rows as they are checked (no
    reading back after the write). Right when its rows are all in this chunk; when more come
    in a later chunk, the submission is flagged again from the table after the write."""
    if history is None or not group.new or group.chunks != 1 or not clean:
        return {}
    return flags_by_cell(
        session=session,
        ctx=group.resolved,
        specs=specs,
        values=clean,
        history=history,
        figures=figures,
    )


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
