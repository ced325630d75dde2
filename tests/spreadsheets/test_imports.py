"""Spreadsheet templates and imports: CSV and Excel, all rows or none, row-level problems."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    Indicator,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Period,
    Submission,
    Value,
    indicator_dimensions,
)
from models.core.settings import get_settings
from models.spreadsheets.imports import parse_spreadsheet
from models.spreadsheets.templates import TEMPLATE_COLUMNS

from .. import factories as f
from ..conftest import BACKENDS
from .conftest import build_world

BASE = "/api/v1/initiatives/c2c"
IMPORTS = f"{BASE}/imports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _count(session, model=Value) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _upload(client, headers, content: bytes, name="values.csv", ctype="text/csv", **params):
    return client.post(
        IMPORTS, files={"file": (name, content, ctype)}, params=params, headers=headers
    )


def _csv(rows: list[dict], columns=TEMPLATE_COLUMNS, delimiter=",", bom=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


FILL = {
    ("K_READY", "total"): {"numerator": "45", "denominator": "90"},
    ("K_READY", "race=black"): {"numerator": "20", "denominator": "50"},
    ("K_READY", "race=white"): {"numerator": "25", "denominator": "40"},
    ("SCORE", "total"): {"value": "231.5", "denominator": "88", "note": "=HYPERLINK(1)"},
    ("SERVED", "total"): {"value": "120"},
}


def _template_rows(client, headers, **params) -> list[dict]:
    r = client.get(f"{BASE}/template.csv", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def _filled(rows: list[dict], **changes) -> list[dict]:
    out = []
    for row in rows:
        key = (row["indicator"], row["disaggregation"])
        out.append({**row, **FILL.get(key, {}), **changes.get(key[0], {})})
    return out


# --- the reporter's round trip --------------------------------------------------------------


def test_template_fill_dry_run_import_reupload_and_fix(client, world, session) -> None:
    rep = world["reporter"]
    r = client.get(f"{BASE}/template.csv?org=eastside&period=2025Q3", headers=rep)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="c2c-eastside-2025Q3-template.csv"'
    )
    rows = _template_rows(client, rep, org="eastside", period="2025Q3")
    assert list(rows[0]) == list(TEMPLATE_COLUMNS)
    assert [(r["indicator"], r["disaggregation"]) for r in rows] == [
        ("K_READY", "total"),
        ("K_READY", "race=black"),
        ("K_READY", "race=white"),
        ("SCORE", "total"),
        ("SERVED", "total"),
    ]
    assert rows[0]["indicator_name"] == "Kindergarten ready"
    assert rows[0]["measure_type"] == "rate"
    assert {r["organisation"] for r in rows} == {"eastside"}
    assert all(r["value"] == r["numerator"] == "" for r in rows)

    # A negative count on the last row (row 6: the header is row 1) rejects the whole file.
    bad = _upload(client, rep, _csv(_filled(rows, SERVED={"value": "-3"})))
    assert bad.status_code == 422, bad.text
    body = bad.json()
    assert body["code"] == "invalid_file"
    assert body["errors"] == [{"row": 6, "column": "value", "reason": "a count cannot be negative"}]
    assert body["detail"] == body["message"] and "nothing was written" in body["message"]
    assert _count(session) == 0

    fixed = _csv(_filled(rows))
    dry = _upload(client, rep, fixed, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["created"] == 5 and dry.json()["errors"] == []
    assert dry.json()["submissions"][0]["status"] == "not_started"
    assert _count(session) == 0 and _count(session, Submission) == 0

    done = _upload(client, rep, fixed)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["dry_run"] is False
    assert (body["created"], body["updated"], body["unchanged"]) == (5, 0, 0)
    assert body["rows"] == 5 and body["skipped"] == 0
    assert body["submissions"] == [
        {
            "organisation": "eastside",
            "period": "2025Q3",
            "created": 5,
            "updated": 0,
            "unchanged": 0,
            "removed": 0,
            "status": "draft",
            "version": 1,
        }
    ]
    assert _count(session) == 5
    note = session.scalar(select(Value.note).where(Value.note.is_not(None)))
    assert note == "=HYPERLINK(1)"
    events = _count(session, AuditEvent)

    again = _upload(client, rep, fixed)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (
        0,
        0,
        5,
    )
    assert again.json()["message"].startswith("nothing changed")
    assert again.json()["submissions"][0]["version"] == 1  # untouched: no version bump
    assert _count(session, AuditEvent) == events

    # The template now carries the draft values (rates as numerator/denominator only), and a
    # note that would run as a formula comes back neutralised.
    rows = _template_rows(client, rep, org="eastside", period="2025Q3")
    by_key = {(r["indicator"], r["disaggregation"]): r for r in rows}
    assert by_key["SERVED", "total"]["value"] == "120"
    assert by_key["K_READY", "total"]["numerator"] == "45"
    assert by_key["K_READY", "total"]["value"] == ""
    assert by_key["SCORE", "total"]["note"] == "'=HYPERLINK(1)"
    changed = _upload(client, rep, _csv(_filled(rows, SERVED={"value": "121"})))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["updated"], changed.json()["unchanged"]) == (1, 4)
    assert changed.json()["submissions"][0]["version"] == 2
    assert session.scalar(select(Value.note).where(Value.note.is_not(None))) == "=HYPERLINK(1)"


def test_unfilled_template_rows_are_skipped(client, world, session) -> None:
    rows = _template_rows(client, world["reporter"], org="eastside", period="2025Q3")
    only_served = [
        {**r, **FILL[("SERVED", "total")]} if r["indicator"] == "SERVED" else r for r in rows
    ]
    r = _upload(client, world["reporter"], _csv(only_served))
    assert r.status_code == 200, r.text
    assert (r.json()["rows"], r.json()["skipped"], r.json()["created"]) == (5, 4, 1)
    empty = _upload(client, world["reporter"], _csv(rows))
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["reason"] == "the file holds no values to import"


def test_xlsx_template_and_import(client, world, session) -> None:
    rep = world["reporter"]
    r = client.get(f"{BASE}/template.xlsx", params={"org": "eastside"}, headers=rep)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert "eastside-2025Q3-template.xlsx" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Values", "Instructions", "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    sheet = book["Values"]
    assert [c.value for c in sheet[1]] == list(TEMPLATE_COLUMNS)
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width > 20
    lists = {
        str(dv.sqref): dv.formula1
        for dv in sheet.data_validations.dataValidation
        if dv.type == "list"
    }
    assert lists == {"G2:G4": "Lists!$A$1:$A$3", "G5:G6": "Lists!$B$1:$B$1"}
    assert [c.value for c in book["Lists"]["A"]] == ["total", "race=black", "race=white"]
    assert book["Lists"]["B1"].value == "total"
    (whole,) = [dv for dv in sheet.data_validations.dataValidation if dv.type == "whole"]
    assert "I2:J1000" in str(whole.sqref)  # numerator, denominator
    assert "H6" in str(whole.sqref)  # SERVED is a count
    instructions = " ".join(
        str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value
    )
    assert "numerator" in instructions and "thousands separators" in instructions

    columns = {name: i + 1 for i, name in enumerate(TEMPLATE_COLUMNS)}
    for row in range(2, sheet.max_row + 1):
        key = (sheet.cell(row, columns["indicator"]).value, sheet.cell(row, 7).value)
        for name, text in FILL[key].items():
            # A note typed as "=…" would be a formula in Excel; the quoted form is text.
            value = "'" + text if name == "note" else float(text)
            sheet.cell(row, columns[name]).value = value
    buffer = io.BytesIO()
    book.save(buffer)
    done = _upload(client, rep, buffer.getvalue(), name="filled.xlsx", ctype=XLSX)
    assert done.status_code == 200, done.text
    assert done.json()["created"] == 5 and done.json()["file"] == "filled.xlsx"
    assert _count(session) == 5
    assert session.scalar(select(Value.note).where(Value.note.is_not(None))) == "=HYPERLINK(1)"

    # The template's neutralised note ("'=HYPERLINK(1)") imports back as the same note.
    again = client.get(f"{BASE}/template.xlsx", params={"org": "eastside"}, headers=rep)
    book = openpyxl.load_workbook(io.BytesIO(again.content))
    assert book["Values"].cell(5, columns["note"]).value == "'=HYPERLINK(1)"
    same = _upload(client, rep, again.content, name="again.xlsx", ctype=XLSX)
    assert same.json()["unchanged"] == 5, same.text


def test_xlsx_formulas_dates_and_text_numbers_are_row_errors(client, world, session) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["organisation", "period", "indicator", "value", "numerator", "denominator"])
    sheet.append(["eastside", "2025Q3", "SERVED", "=40+80", None, None])
    sheet.append(["eastside", "2025Q3", "SCORE", datetime(2025, 1, 5), None, 10])
    sheet.append(["eastside", "2025Q3", "K_READY", None, "1,234", 2000])
    sheet.append([None] * 6)  # blank rows are skipped, row numbers keep counting
    sheet.append(["eastside", "2025Q3", "NOPE", 3, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    r = _upload(client, world["reporter"], buffer.getvalue(), name="v.xlsx", ctype=XLSX)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "value"),
        (3, "value"),
        (4, "numerator"),
        (6, "indicator"),
    ]
    assert "formulas are not read" in errors[0]["reason"]
    assert "date" in errors[1]["reason"]
    assert errors[2]["reason"].startswith("not a number")
    assert "unknown indicator 'NOPE'" in errors[3]["reason"]
    assert _count(session) == 0


def test_xlsx_with_merged_cells_names_the_rows_the_merge_left_empty(client, world, session) -> None:
    """Merging the organisation down a block looks filled in Excel, but only the first cell
    holds the text: the other rows are refused by row and column, and nothing is written."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["organisation", "period", "indicator", "value", "numerator", "denominator"])
    sheet.append(["eastside", "2025Q3", "SERVED", 120, None, None])
    sheet.append([None, "2025Q3", "K_READY", None, 45, 90])
    sheet.append([None, "2025Q3", "SCORE", 231.5, None, 88])
    sheet.merge_cells("A2:A4")
    buffer = io.BytesIO()
    book.save(buffer)
    r = _upload(client, world["reporter"], buffer.getvalue(), name="m.xlsx", ctype=XLSX)
    assert r.status_code == 422, r.text
    assert [(e["row"], e["column"], e["reason"]) for e in r.json()["errors"]] == [
        (3, "organisation", "is required"),
        (4, "organisation", "is required"),
    ]
    assert _count(session) == 0 and _count(session, Submission) == 0


def test_xlsx_claiming_a_huge_sheet_is_read_without_expanding_it(client, world, session) -> None:
    """A tiny workbook whose sheet says it spans A1:XFD1048576 (one far cell) must not be
    expanded into a million rows of 16,384 cells: only the columns the header uses are read."""
    import time

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["organisation", "period", "indicator", "value"])
    sheet.append(["eastside", "2025Q3", "SERVED", 120])
    sheet.cell(row=1_048_576, column=16_384, value="far away")
    buffer = io.BytesIO()
    book.save(buffer)
    assert len(buffer.getvalue()) < 20_000
    started = time.perf_counter()
    r = _upload(client, world["reporter"], buffer.getvalue(), name="far.xlsx", ctype=XLSX)
    assert time.perf_counter() - started < 30
    assert r.status_code == 200, r.text
    # The far cell lies past the columns that are read, so its row is blank.
    assert r.json()["created"] == 1 and r.json()["rows"] == 1


def test_xlsx_with_more_rows_than_allowed_is_refused_and_writes_nothing(
    client, world, session, monkeypatch
) -> None:
    from models.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "import_max_rows", 50)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["organisation", "period", "indicator", "value"])
    for _ in range(60):
        sheet.append(["eastside", "2025Q3", "SERVED", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    r = _upload(client, world["reporter"], buffer.getvalue(), name="big.xlsx", ctype=XLSX)
    assert r.status_code == 413 and r.json()["code"] == "too_many_rows", r.text
    assert _count(session) == 0 and _count(session, Submission) == 0


# --- CSV dialects ---------------------------------------------------------------------------


def test_csv_with_bom_and_semicolons(client, world, session) -> None:
    content = (
        "\ufefforganisation;period;indicator;disaggregation;value;numerator;denominator;note\r\n"
        "eastside;2025Q3;SERVED;Total;120;;;\r\n"
        'eastside;2025Q3;K_READY;race = black;;20;50;"a note; with a semicolon"\r\n'
        ";;;;;;;\r\n"
    ).encode()
    r = _upload(client, world["reporter"], content)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2 and r.json()["rows"] == 2
    assert session.scalar(select(Value.note).where(Value.note.is_not(None))) == (
        "a note; with a semicolon"
    )
    assert set(session.scalars(select(Value.disaggregation))) == {"total", "race=black"}


def test_windows_1252_csv_and_defaults_from_the_query(client, world, session) -> None:
    content = "indicator,value,note\r\nSERVED,120,Café du coin\r\n".encode("cp1252")
    r = _upload(client, world["reporter"], content, org="eastside", period="2025Q3")
    assert r.status_code == 200, r.text
    assert session.scalar(select(Value.note)) == "Café du coin"
    missing = _upload(client, world["reporter"], content)
    assert missing.status_code == 422
    assert [(e["row"], e["column"]) for e in missing.json()["errors"]] == [
        (1, "organisation"),
        (1, "period"),
    ]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1,234", "not a number"),
        ("1 234", "not a number"),
        ("12abc", "not a number"),
        ("nan", "not a number"),
        ("1e999", "too large"),
        ("2.5", "a count must be a whole number"),
    ],
)
def test_a_bad_cell_names_row_column_and_reason(client, world, session, cell, reason) -> None:
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SCORE", "value": "3"},
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": cell},
    ]
    rows[0]["denominator"] = "10"
    r = _upload(client, world["reporter"], _csv(rows))
    assert r.status_code == 422, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "value")]
    assert reason in r.json()["errors"][0]["reason"]
    assert _count(session) == 0


def test_parse_keeps_rows_compact_and_grouped() -> None:
    content = _csv(
        [
            {"organisation": "a", "period": "P", "indicator": "X", "value": "1"},
            {"organisation": "b", "period": "P", "indicator": "X", "value": "-2.5e1"},
            {"organisation": "a", "period": "P", "indicator": "Y", "value": "+3"},
        ]
    )
    parsed = parse_spreadsheet(io.BytesIO(content), filename="x.csv")
    assert parsed.errors == []
    assert parsed.groups == {
        ("a", "P"): [
            (2, "X", "total", 1.0, None, None, None),
            (4, "Y", "total", 3.0, None, None, None),
        ],
        ("b", "P"): [(3, "X", "total", -25.0, None, None, None)],
    }


# --- malformed CSV: refused with row and column, never read loosely --------------------------

STRICT_HEADER = "organisation,period,indicator,value,numerator,denominator,note\r\n"


def _four_rows(note_cell: str = "fine", score_row: str | None = None) -> bytes:
    """Four data rows; the second (row 3) carries ``note_cell`` as written, or is replaced."""
    score = score_row if score_row is not None else f"eastside,2025Q3,SCORE,231.5,,88,{note_cell}"
    return (
        STRICT_HEADER
        + "eastside,2025Q3,SERVED,120,,,fine\r\n"
        + score
        + "\r\n"
        + "westside,2025Q3,SERVED,7,,,fine\r\n"
        + "eastside,2025Q3,K_READY,,45,90,fine\r\n"
    ).encode()


def test_the_four_rows_import_when_well_formed(client, world, session) -> None:
    """The control for the malformed variants below: only their one cell makes them fail."""
    r = _upload(client, world["backbone"], _four_rows('"say ""hi"", then\r\nleave"'))
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 4 and r.json()["created"] == 4
    assert session.scalar(select(Value.note).where(Value.note.like("say%"))) == (
        'say "hi", then\r\nleave'
    )


@pytest.mark.parametrize(
    ("content", "column", "reason"),
    [
        (_four_rows('"oops unclosed'), "note", "never closed"),
        # Past the csv module's cell size limit before the end of the file.
        (_four_rows('"oops unclosed') + b"x" * 140_000, "note", "never closed"),
        (_four_rows('ab"c'), "note", "does not start with one"),
        (_four_rows('"ab"c'), "note", "after its closing quote"),
        (_four_rows("a note, with a comma"), "column H", "8 cells but the header has 7"),
        (_four_rows(score_row="eastside,2025Q3,SCORE,231.5,,88"), "note", "6 cells"),
        (_four_rows("bad \x00 note"), "note", "NUL"),
        (_four_rows(score_row="eastside,2025Q3,SC\x00ORE,231.5,,88,"), "indicator", "NUL"),
    ],
    ids=["unclosed", "unclosed-long", "stray", "after-quote", "more", "fewer", "nul", "nul-code"],
)
def test_a_malformed_csv_row_is_refused_with_its_row_and_column(
    client, world, session, content, column, reason
) -> None:
    for dry_run in ("true", "false"):
        r = _upload(client, world["backbone"], content, dry_run=dry_run)
        assert r.status_code == 422, r.text
        assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, column)]
        assert reason in r.json()["errors"][0]["reason"]
    assert _count(session) == 0 and _count(session, Submission) == 0


def test_a_nul_in_a_column_the_importer_ignores_is_still_refused(client, world, session) -> None:
    content = (
        b"organisation,period,indicator,indicator_name,value\r\n"
        b"eastside,2025Q3,SERVED,People \x00served,120\r\n"
    )
    r = _upload(client, world["reporter"], content)
    assert r.status_code == 422, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "indicator_name")]
    assert _count(session) == 0


def test_every_malformed_row_is_listed() -> None:
    content = (
        STRICT_HEADER
        + 'a,P,X,1,,,ab"c\r\n'
        + "a,P,X,2,,,fine\r\n"
        + 'a,P,Y,3,,,"ab"c\r\n'
        + "a,P,Z,4,,\r\n"
        + "\r\n"
        + ",,,,,,\r\n"
    ).encode()
    parsed = parse_spreadsheet(io.BytesIO(content), filename="x.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "note"), (4, "note"), (5, "note")]
    assert parsed.rows == 1  # row 3; blank lines (6, 7) are skipped, not ragged


def test_a_malformed_header_is_the_only_problem_named() -> None:
    content = b'organisation,"period,indicator,value\r\na,P,X,1\r\n'
    parsed = parse_spreadsheet(io.BytesIO(content), filename="x.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "column B")]
    assert "never closed" in parsed.errors[0].reason


# --- whose rows, which periods --------------------------------------------------------------


def test_rows_of_another_organisation_are_row_errors(client, world, session) -> None:
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "5"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "6"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "7"},
        {"organisation": "nowhere", "period": "2025Q3", "indicator": "SERVED", "value": "8"},
        {"organisation": "eastside", "period": "1999Q1", "indicator": "SERVED", "value": "9"},
    ]
    r = _upload(client, world["reporter"], _csv(rows))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (3, "organisation"),
        (5, "organisation"),
        (6, "period"),
    ]
    assert errors[0]["reason"].startswith("no member 'westside' in this initiative (2 rows")
    assert errors[1]["reason"].startswith("no member 'nowhere'")
    assert errors[2]["reason"].startswith("no period '1999Q1'")
    assert _count(session) == 0
    # The backbone may write for westside: its rows are checked (one is given twice).
    errors = _upload(client, world["backbone"], _csv(rows)).json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (4, "indicator"),
        (5, "organisation"),
        (6, "period"),
    ]
    assert errors[0]["reason"] == "SERVED total given twice"


def test_locked_closed_and_submitted_are_row_errors(client, world, session) -> None:
    def row(period, value="5"):
        return {"organisation": "eastside", "period": period, "indicator": "SERVED", "value": value}

    r = _upload(client, world["reporter"], _csv([row("2025Q3"), row("2025Q1"), row("2025Q2")]))
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "period"), (4, "period")]
    assert "period 2025Q1 is locked" in errors[0]["reason"]
    assert "closed on" in errors[1]["reason"]

    backbone = _upload(client, world["backbone"], _csv([row("2025Q2"), row("2025Q1")]))
    assert [e["row"] for e in backbone.json()["errors"]] == [3]  # the backbone may write Q2

    assert _upload(client, world["reporter"], _csv([row("2025Q3")])).status_code == 200
    submit = client.post(f"{BASE}/submissions/eastside/2025Q3/submit", headers=world["reporter"])
    assert submit.status_code == 200
    r = _upload(client, world["reporter"], _csv([row("2025Q3", "6")]))
    assert r.status_code == 422
    assert "this report was submitted on" in r.json()["errors"][0]["reason"]
    assert session.scalar(select(Value.value)) == 5


def test_who_may_import_and_download_templates(client, world) -> None:
    content = _csv([{"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED"}])
    assert _upload(client, {}, content).status_code == 401
    assert _upload(client, world["funder"], content).status_code == 403
    assert _upload(client, world["outsider"], content).status_code == 404
    params = {"org": "eastside", "period": "2025Q3"}
    for who, status in (("other", 404), ("funder", 404), ("outsider", 404), ("backbone", 200)):
        r = client.get(f"{BASE}/template.csv", params=params, headers=world[who])
        assert r.status_code == status, who
    assert client.get(f"{BASE}/template.xlsx", params=params).status_code == 401
    everyone = _template_rows(client, world["backbone"], period="2025Q3")
    assert {r["organisation"] for r in everyone} == {"eastside", "westside"}
    mine = _template_rows(client, world["other"])  # default: its organisation, the open period
    assert [(r["organisation"], r["period"], r["indicator"]) for r in mine] == [
        ("westside", "2025Q3", "SERVED")
    ]


# --- limits, file types, replays ------------------------------------------------------------


def test_a_file_over_the_byte_limit_answers_413(client, world, monkeypatch, session) -> None:
    monkeypatch.setattr(get_settings(), "import_max_bytes", 1000)
    row = {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "1"}
    big = _csv([row] + [{**row, "note": "x" * 100}] * 20)
    assert len(big) > 1000
    r = _upload(client, world["reporter"], big)
    assert r.status_code == 413
    assert r.json()["code"] == "file_too_large" and r.json()["limit"] == 1000
    # Past the multipart allowance, the upload is refused by its Content-Length up front.
    huge = _upload(client, world["reporter"], b"x" * 200_000)
    assert huge.status_code == 413 and huge.json()["code"] == "file_too_large"
    assert _upload(client, world["reporter"], _csv([row])).status_code == 200


def test_a_chunked_upload_is_refused_while_it_arrives(app, world, monkeypatch) -> None:
    """Without Content-Length, the body is counted as it arrives and refused past the limit,
    before the rest is read (driven through ASGI: the test client reads bodies eagerly)."""
    import anyio

    monkeypatch.setattr(get_settings(), "import_max_bytes", 1000)
    boundary = "cm-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode(),
        *[b"x" * 1000] * 100,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    read = 0
    answer: list[dict] = []

    async def receive():
        nonlocal read
        if read < len(parts):
            read += 1
            return {"type": "http.request", "body": parts[read - 1], "more_body": read < len(parts)}
        return {"type": "http.disconnect"}

    async def send(message):
        answer.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": IMPORTS,
        "raw_path": IMPORTS.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"authorization", world["reporter"]["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    assert answer[0]["status"] == 413
    body = b"".join(m.get("body", b"") for m in answer[1:])
    assert b'"code":"file_too_large"' in body
    assert read < 70 < len(parts)  # refused past limit + multipart allowance (64 KB)


def test_too_many_rows_answers_413(client, world, monkeypatch, session) -> None:
    monkeypatch.setattr(get_settings(), "import_max_rows", 2)
    row = {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "1"}
    r = _upload(client, world["reporter"], _csv([row] * 3))
    assert r.status_code == 413 and r.json()["code"] == "too_many_rows"
    assert _count(session) == 0


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("name", "ctype", "content"),
    [
        ("chart.png", "image/png", PNG),
        ("chart.csv", "text/csv", PNG),  # a binary under a spreadsheet's name
        ("old.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512),
        ("fake.xlsx", XLSX, b"PK\x03\x04" + b"garbage" * 50),
        ("letter.bin", "application/octet-stream", b"Dear partner, hello."),
    ],
)
def test_non_spreadsheets_answer_415(client, world, name, ctype, content) -> None:
    r = _upload(client, world["reporter"], content, name=name, ctype=ctype)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "unsupported_file"


def _workbook_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["organisation", "period", "indicator", "value"])
    book.active.append(["eastside", "2025Q3", "SERVED", 120])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_CSV = b"organisation,period,indicator,value\r\neastside,2025Q3,SERVED,120\r\n"


@pytest.mark.parametrize(
    ("name", "ctype", "content", "says"),
    [
        ("x.exe", "text/csv", GOOD_CSV, "not a file type that is imported"),
        ("values", "text/csv", GOOD_CSV, "not a file type that is imported"),
        ("values.csv.pdf", "text/csv", GOOD_CSV, "not a file type that is imported"),
        ("values.xlsx", XLSX, GOOD_CSV, "named as an Excel workbook but holds text"),
        ("values.csv", "text/csv", _workbook_bytes(), "named as a CSV file but holds an Excel"),
        ("values.txt", "text/plain", _workbook_bytes(), "named as a CSV file but holds an Excel"),
    ],
    ids=["exe", "no-extension", "pdf", "text-as-xlsx", "workbook-as-csv", "workbook-as-txt"],
)
def test_the_file_type_comes_from_its_name_and_content_together(
    client, world, session, name, ctype, content, says
) -> None:
    r = _upload(client, world["reporter"], content, name=name, ctype=ctype)
    assert r.status_code == 415, r.text
    body = r.json()
    assert body["code"] == "unsupported_file" and body["field"] == "file"
    assert body["detail"].startswith(name) and says in body["detail"]
    assert ".csv" in body["detail"] and ".xlsx" in body["detail"]
    assert _count(session) == 0 and _count(session, Submission) == 0


@pytest.mark.parametrize(
    ("name", "ctype", "content"),
    [
        ("VALUES.CSV", "text/csv", GOOD_CSV),
        ("values.tsv", "text/tab-separated-values", GOOD_CSV.replace(b",", b"\t")),
        ("values.txt", "text/plain", GOOD_CSV),
        ("values.xlsx", XLSX, _workbook_bytes()),
        ("values.xlsm", "application/octet-stream", _workbook_bytes()),
    ],
    ids=["upper-case", "tsv", "txt", "xlsx", "xlsm"],
)
def test_spreadsheets_named_for_what_they_hold_import(client, world, name, ctype, content) -> None:
    r = _upload(client, world["reporter"], content, name=name, ctype=ctype, dry_run="true")
    assert r.status_code == 200, r.text
    assert r.json()["file"] == name and r.json()["created"] == 1


def test_without_a_name_the_content_decides() -> None:
    for content, kind in ((GOOD_CSV, "csv"), (_workbook_bytes(), "xlsx")):
        parsed = parse_spreadsheet(io.BytesIO(content))
        assert parsed.kind == kind and parsed.errors == [] and parsed.rows == 1


def test_text_that_is_not_our_layout_is_a_422(client, world) -> None:
    r = _upload(client, world["reporter"], b"name,age\r\nada,36\r\n", name="people.csv")
    assert r.status_code == 422
    assert r.json()["errors"][0]["row"] == 1
    assert "header" in r.json()["errors"][0]["reason"]


def test_idempotency_key_replays_the_first_answer(client, world, session) -> None:
    content = _csv(
        [{"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "4"}]
    )
    key = {**world["reporter"], "Idempotency-Key": "upload-1"}
    first = _upload(client, key, content)
    events = _count(session, AuditEvent)
    second = _upload(client, key, content)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert first.json()["created"] == 1 and _count(session, AuditEvent) == events
    other = _upload(client, key, content.replace(b",4", b",5"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


# --- scale ----------------------------------------------------------------------------------


def test_ten_thousand_rows_with_one_bad_row_write_nothing(client, session) -> None:
    """50 partners × 50 indicators × (total + 3 categories) = 10,000 rows from the backbone."""
    init = f.initiative(session, slug="c2c")
    income = f.dimension(session, init, "income", ["low", "middle", "high"])
    indicators = [f.indicator(session, init, "count", code=f"I{i:02d}") for i in range(50)]
    session.execute(
        insert(indicator_dimensions),
        [{"indicator_id": i.id, "dimension_id": income.id} for i in indicators],
    )
    session.execute(
        insert(Organisation),
        [{"slug": f"p{n:02d}", "name": f"Partner {n}", "sector": "nonprofit"} for n in range(50)],
    )
    orgs = session.execute(select(Organisation.id, Organisation.slug)).all()
    session.execute(
        insert(Member), [{"initiative_id": init.id, "organisation_id": o.id} for o in orgs]
    )
    members = session.scalars(select(Member.id).where(Member.initiative_id == init.id)).all()
    session.execute(
        insert(Obligation),
        [{"member_id": m, "indicator_id": i.id} for m in members for i in indicators],
    )
    today = date.today()
    f.period(session, init, "2025Q3", opens_on=today, due_on=today, closes_on=today)
    admin = f.user(session, "backbone", init=init)
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": admin.email, "password": f.PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    rows = []
    for _, slug in sorted(orgs, key=lambda o: o.slug):
        for ind in indicators:
            rows.append(
                {"organisation": slug, "period": "2025Q3", "indicator": ind.code, "value": "30"}
            )
            for cat in ("low", "middle", "high"):
                rows.append(
                    {
                        "organisation": slug,
                        "period": "2025Q3",
                        "indicator": ind.code,
                        "disaggregation": f"income={cat}",
                        "value": "10",
                    }
                )
    assert len(rows) == 10_000
    bad = [dict(r) for r in rows]
    bad[7_321]["value"] = "ten"
    r = _upload(client, headers, _csv(bad), name="big.csv")
    assert r.status_code == 422, r.text[:500]
    assert r.json()["errors"] == [
        {
            "row": 7_323,
            "column": "value",
            "reason": "not a number: 'ten' (write plain digits with '.' for decimals and no "
            "thousands separators)",
        }
    ]
    assert r.json()["rows"] == 10_000
    assert _count(session) == 0

    done = _upload(client, headers, _csv(rows), name="big.csv")
    assert done.status_code == 200, done.text[:500]
    assert done.json()["created"] == 10_000 and len(done.json()["submissions"]) == 50
    assert _count(session) == 10_000
    flagged = session.scalar(
        select(func.count()).select_from(Value).where(Value.flags != [])  # type: ignore[arg-type]
    )
    assert not flagged  # the breakdowns add up
    assert session.scalar(select(func.count()).select_from(Indicator)) == 50


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_cm_import(cm, fresh_database, tmp_path) -> None:
    assert cm("db", "upgrade").exit_code == 0
    with Session(fresh_database.engine) as session:
        build_world(session)
        session.commit()
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "7"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "x"},
    ]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(rows))
    result = cm("import", bad, "--initiative", "c2c")
    assert result.exit_code == 1, result.output
    assert "Problems" in result.output and "not a number" in result.output
    assert "rejected" in result.output

    rows[1]["value"] = "8"
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(rows))
    dry = cm("import", good, "--initiative", "c2c", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    with Session(fresh_database.engine) as session:
        assert session.scalar(select(func.count()).select_from(Value)) == 0
    done = cm("import", good, "--initiative", "c2c")
    assert done.exit_code == 0, done.output
    assert "imported: 2 created" in done.output
    with Session(fresh_database.engine) as session:
        assert sorted(session.scalars(select(Value.value))) == [7, 8]
    assert "nothing changed" in cm("import", good, "--initiative", "c2c").output
    assert cm("import", good, "--initiative", "nope").exit_code == 2
    with Session(fresh_database.engine) as session:
        assert session.scalar(select(func.count()).select_from(Period)) == 3


def test_an_xlsx_zip_bomb_is_refused_before_unpacking(client, session) -> None:
    """A workbook whose sheet inflates to far more than any real one answers 413, quickly."""
    import io
    import time
    import zipfile

    init = f.initiative(session, slug="bomb")
    user = f.user(session, "backbone", init=init, email="bomb@example.org")
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD}
    ).json()["access_token"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 40_000_000)  # 240 MB of nothing
    started = time.perf_counter()
    r = client.post(
        "/api/v1/initiatives/bomb/imports",
        files={
            "file": (
                "bomb.xlsx",
                buffer.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "file_too_large"
    assert time.perf_counter() - started < 10


# --- the chunked, set-based path ----------------------------------------------------------------


def _import_direct(session, content: bytes, *, chunk_rows: int, actor=None, dry_run=False):
    from models.core.actors import Actor
    from models.spreadsheets.imports import import_file

    init_id = session.scalar(select(Initiative.id).where(Initiative.slug == "c2c"))
    actor = actor or Actor(user_id=None, label="test", backbone_of=frozenset({init_id}))
    return import_file(
        session=session,
        actor=actor,
        initiative_slug="c2c",
        stream=io.BytesIO(content),
        filename="chunks.csv",
        dry_run=dry_run,
        chunk_rows=chunk_rows,
    )


def test_a_cell_repeated_in_a_later_chunk_is_refused_on_its_row(session) -> None:
    build_world(session)
    session.commit()
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "1"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "2"},
        {
            "organisation": "eastside",
            "period": "2025Q3",
            "indicator": "SCORE",
            "value": "3",
            "denominator": "4",
        },
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "5"},
    ]
    report = _import_direct(session, _csv(rows), chunk_rows=2)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (5, "indicator", "SERVED total given twice")
    ]
    session.rollback()
    assert _count(session) == 0 and _count(session, Submission) == 0


# Eastside's K_READY rate with a race breakdown whose numerators add up to 40 against the
# total's 45: a sum_mismatch flag on the total.
SUM_MISMATCH = [
    {
        "organisation": "eastside",
        "period": "2025Q3",
        "indicator": "K_READY",
        "numerator": "45",
        "denominator": "90",
    },
    {
        "organisation": "eastside",
        "period": "2025Q3",
        "indicator": "K_READY",
        "disaggregation": "race=black",
        "numerator": "20",
        "denominator": "50",
    },
    {
        "organisation": "eastside",
        "period": "2025Q3",
        "indicator": "K_READY",
        "disaggregation": "race=white",
        "numerator": "20",
        "denominator": "40",
    },
]


def test_chunked_imports_write_what_single_writes_write(session) -> None:
    """Values, flags, versions and the audit trail of an import are the same whatever the
    chunk size, and an update records the value it replaced."""
    build_world(session)
    session.commit()
    rows = [
        *SUM_MISMATCH,
        {
            "organisation": "westside",
            "period": "2025Q3",
            "indicator": "SERVED",
            "value": "7",
            "note": "a note",
        },
        {
            "organisation": "eastside",
            "period": "2025Q3",
            "indicator": "SCORE",
            "value": "231.5",
            "denominator": "88",
        },
    ]

    def snapshot():
        session.expire_all()
        values = session.execute(
            select(
                Organisation.slug,
                Value.disaggregation,
                Value.value,
                Value.numerator,
                Value.denominator,
                Value.note,
                Value.flags,
                Submission.version,
            )
            .join(Submission, Submission.id == Value.submission_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .order_by(Organisation.slug, Value.indicator_id, Value.disaggregation)
        ).all()
        events = sorted(
            (
                entity_type,
                action,
                json.dumps(before, sort_keys=True),
                json.dumps(after, sort_keys=True),
            )
            for entity_type, action, before, after in _changes(session)
        )
        return values, events

    results = []
    for chunk_rows in (1, 2, 5000):
        report = _import_direct(session, _csv(rows), chunk_rows=chunk_rows)
        assert report.ok, report.errors
        assert (report.created, report.updated) == (5, 0)
        changed = [dict(r) for r in rows]
        changed[3]["value"] = "8"
        again = _import_direct(session, _csv(changed), chunk_rows=chunk_rows)
        assert (again.created, again.updated, again.unchanged) == (0, 1, 4)
        results.append(snapshot())
        session.rollback()
    assert results[0] == results[1] == results[2]
    values, events = results[0]
    sums = [v for v in values if v.disaggregation == "total" and v.numerator == 45]
    assert sums[0].flags == ["sum_mismatch"]
    assert {v.version for v in values if v.slug == "westside"} == {2}
    (update,) = [e for e in events if e[1] == "update"]
    assert json.loads(update[2]) == {
        "indicator": "SERVED",
        "disaggregation": "total",
        "value": 7.0,
        "numerator": None,
        "denominator": None,
        "note": "a note",
    }
    assert json.loads(update[3])["value"] == 8.0
    assert sum(e[1] == "create" and e[0] == "value" for e in events) == 5
    assert sum(e[1] == "create" and e[0] == "submission" for e in events) == 2


def _changes(session):
    """(entity type, action, before, after) of every change the trail records: an import's
    event for a report counts as the value changes it holds, as the history reads them."""
    from models.audit.values import BATCH, batch_changes

    for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if e.entity_type == BATCH:
            for c in batch_changes(e):
                yield "value", c.action, c.before, c.after
        else:
            yield e.entity_type, e.action, e.before, e.after


def test_flags_staged_by_an_import_are_those_read_back_from_the_table(session) -> None:
    """A new submission whose rows sit in one chunk is flagged as its rows are checked; the
    flags must be exactly those computed from the stored values (sum checks and the partner's
    approved history), as they are for rows spread over chunks."""
    from models.reporting.submissions import WriteContext, refresh_flags
    from models.reporting.validation import indicator_specs

    built = build_world(session)
    init, east, west = built["init"], built["east"], built["west"]
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    # Approved totals of SERVED (eastside, westside): steady for one, scattered for the other.
    history = {
        "2024Q1": (10, 20),
        "2024Q2": (11, 30),
        "2024Q3": (9, 14),
        "2024Q4": (10, 26),
        "2025Q2": (12, 20),
    }
    for key, values in history.items():
        period = session.scalar(select(Period).where(Period.key == key)) or f.period(
            session, init, key
        )
        for member, value in zip((east, west), values, strict=True):
            sub = f.submission(session, member, period, status="approved")
            f.reported_value(session, sub, served, value=value)
    session.commit()
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "100"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "31"},
        *SUM_MISMATCH,
    ]

    def flags() -> dict[tuple[str, str, str], list[str]]:
        session.expire_all()
        return {
            (org, code, dis): stored
            for org, code, dis, stored in session.execute(
                select(Organisation.slug, Indicator.code, Value.disaggregation, Value.flags)
                .join(Submission, Submission.id == Value.submission_id)
                .join(Member, Member.id == Submission.member_id)
                .join(Organisation, Organisation.id == Member.organisation_id)
                .join(Indicator, Indicator.id == Value.indicator_id)
                .where(Submission.status == "draft")
            )
        }

    seen = []
    for chunk_rows in (5000, 1):
        report = _import_direct(session, _csv(rows), chunk_rows=chunk_rows)
        assert report.ok, report.errors
        staged = flags()
        contexts = [
            WriteContext(init, sub_member, sub_member.organisation, sub.period, sub)
            for sub in session.scalars(select(Submission).where(Submission.status == "draft"))
            for sub_member in [sub.member]
        ]
        refresh_flags(
            session=session,
            contexts=contexts,
            specs=indicator_specs(session=session, initiative_id=init.id),
        )
        assert flags() == staged
        seen.append(staged)
        session.rollback()
    assert seen[0] == seen[1]
    assert seen[0][("eastside", "SERVED", "total")] == ["outlier"]
    assert seen[0][("westside", "SERVED", "total")] == ["jump"]
    assert seen[0][("eastside", "K_READY", "total")] == ["sum_mismatch"]
    assert seen[0][("eastside", "K_READY", "race=black")] == []


def test_a_row_with_two_problems_is_counted_once(session) -> None:
    """Row 3 has a bad value and repeats row 2's cell. Read in chunks of one row, the repeat
    is found after every chunk is read and must not count the row again (in one chunk, the
    repeat is the only problem reported)."""
    build_world(session)
    session.commit()
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "5"},
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "-1"},
    ]
    for chunk_rows, problems in ((1, [(3, "indicator"), (3, "value")]), (5000, [(3, "indicator")])):
        report = _import_direct(session, _csv(rows), chunk_rows=chunk_rows)
        assert [(e.row, e.column) for e in report.errors] == problems
        count = f"{len(problems)} problem{'s' * (len(problems) > 1)}"
        assert report.message.startswith(f"rejected: {count} in 1 row;"), report.message
        session.rollback()


def test_a_repeat_of_a_refused_cell_in_a_later_chunk_is_still_reported(session) -> None:
    build_world(session)
    session.commit()
    rows = [
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "-1"},
        {"organisation": "westside", "period": "2025Q3", "indicator": "SERVED", "value": "2"},
        {"organisation": "eastside", "period": "2025Q3", "indicator": "SERVED", "value": "5"},
    ]
    for chunk_rows in (1, 5000):
        report = _import_direct(session, _csv(rows), chunk_rows=chunk_rows)
        assert [(e.row, e.column) for e in report.errors] == [(2, "value"), (4, "indicator")]
        assert report.error_count == 2
        session.rollback()


def test_a_nul_character_in_a_cell_is_a_row_error_on_every_database(client, world, session) -> None:
    """PostgreSQL cannot store NUL in text: it must be a clear row error, not a 500."""
    content = (
        b"organisation,period,indicator,value,note\r\n" + b"x" * 9000 + b",2025Q3,SERVED,1,\r\n"
        b"eastside,2025Q3,SERVED,1,bad \x00 note\r\n"
    )
    for dry_run in ("true", "false"):
        r = _upload(client, world["reporter"], content, dry_run=dry_run)
        assert r.status_code == 422, r.text
        assert (3, "note") in [(e["row"], e["column"]) for e in r.json()["errors"]]
        assert "NUL" in next(e["reason"] for e in r.json()["errors"] if e["column"] == "note")
    assert _count(session) == 0 and _count(session, Submission) == 0


def test_a_number_too_large_for_a_float_is_refused_where_it_is_read() -> None:
    content = _csv([{"organisation": "a", "period": "P", "indicator": "X", "value": "9" * 400}])
    parsed = parse_spreadsheet(io.BytesIO(content), filename="x.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "value")]
    assert "too large" in parsed.errors[0].reason
