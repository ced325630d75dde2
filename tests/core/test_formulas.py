"""Formula neutralisation: one function, used by every CSV and Excel writer in the code."""

from __future__ import annotations

import ast
import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dashboard.components.tables import to_csv
from models.core.actors import SYSTEM
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f

ROOT = Path(__file__).resolve().parents[2]
# What writes a CSV or an Excel file: the csv module's writers, openpyxl (or any) workbooks,
# pandas and xlsxwriter.
WRITER = re.compile(r"csv\.writer\(|DictWriter\(|\bWorkbook\(|\.to_csv\(|\.to_excel\(|xlsxwriter")
KNOWN_WRITERS = {
    "models/spreadsheets/exports.py",  # exports, CSV and Excel
    "models/spreadsheets/templates.py",  # import templates, CSV and Excel
    "models/publishing/publish.py",  # the public data package
    "dashboard/components/tables.py",  # the dashboard's "Download CSV"
}
NAME = '=HYPERLINK("http://x","y")'
# Where the one function may be imported from: its module, or the dashboard's one door to the
# domain, which passes it on (checked below to be the same function).
ONE_NEUTRALISE = ("models.core.formulas", "dashboard.data")


def _sources() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for folder in ("models", "api", "dashboard")
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def _uses_the_one_neutralise(source: str) -> bool:
    tree = ast.parse(source)
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module in ONE_NEUTRALISE
        and any(alias.name == "neutralise" and alias.asname is None for alias in node.names)
        for node in ast.walk(tree)
    )
    called = any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "neutralise"
        for node in ast.walk(tree)
    )
    return imported and called


def test_every_spreadsheet_writer_calls_the_one_neutralise() -> None:
    sources = _sources()
    writers = {name for name, source in sources.items() if WRITER.search(source)}
    assert writers >= KNOWN_WRITERS  # the scan finds what it must (it cannot pass on nothing)
    assert sorted(name for name in writers if not _uses_the_one_neutralise(sources[name])) == []


def test_the_dashboard_passes_on_the_same_neutralise() -> None:
    from dashboard import data
    from models.core import formulas

    assert data.neutralise is formulas.neutralise


def test_no_module_keeps_a_formula_rule_of_its_own() -> None:
    """A second list of formula characters or a second neutralising function would drift."""
    own = re.compile(r"""["']=["'],\s*["']\+["'],\s*["']-["'],\s*["']@["']|def _?neutrali[sz]e""")
    found = [name for name, source in _sources().items() if own.search(source)]
    assert found == ["models/core/formulas.py"]


def _login(client, user) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": user.email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.usefixtures("few_partners_allowed")  # one partner; the rule has its own tests
def test_an_indicator_named_as_a_formula_is_shown_never_run_in_every_file(client, session):
    init = f.initiative(session, slug="pub", name="Published City")
    kids = f.indicator(session, init, "count", code="KIDS", name=NAME)
    f.obligation(session, f.member(session, init, f.organisation(session, slug="p1")), kids)
    f.period(session, init, "2025Q3")
    headers = _login(client, f.user(session, "backbone", init=init))
    session.commit()
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="pub",
        org_slug="p1",
        period_key="2025Q3",
        inputs=[ValueInput("KIDS", value=120, note=NAME)],
    )
    session.commit()
    base, query = "/api/v1/initiatives/pub", {"org": "p1", "period": "2025Q3"}

    template = client.get(f"{base}/template.csv", params=query, headers=headers)
    assert template.status_code == 200, template.text
    [row] = csv.DictReader(io.StringIO(template.content.decode("utf-8-sig")))
    assert row["indicator_name"] == "'" + NAME and row["note"] == "'" + NAME

    book = client.get(f"{base}/template.xlsx", params=query, headers=headers)
    assert book.status_code == 200, book.text
    sheet = openpyxl.load_workbook(io.BytesIO(book.content))["Values"]
    names = [c.value for c in sheet[1]]
    cells = dict(zip(names, [c.value for c in sheet[2]], strict=True))
    assert cells["indicator_name"] == "'" + NAME and cells["note"] == "'" + NAME
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)

    for fmt in ("csv", "xlsx"):
        export = client.get(f"{base}/export", params={"format": fmt}, headers=headers)
        assert export.status_code == 200, export.text
        if fmt == "csv":
            [row] = csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))
            note = row["note"]
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(export.content))["Values"]
            note = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]]))["note"]
        assert note == "'" + NAME

    for action in ("submit", "approve"):
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug="pub",
            org_slug="p1",
            period_key="2025Q3",
            action=action,
        )
    session.commit()
    published = client.post(
        f"{base}/periods/2025Q3/publish", json={"confirm_incomplete": True}, headers=headers
    )
    assert published.status_code == 201, published.text
    package = client.get("/api/v1/public/initiatives/pub/datapackage.zip")
    assert package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.content)) as z:
        rows = list(csv.DictReader(io.StringIO(z.read("indicators.csv").decode())))
    assert rows and {r["indicator_name"] for r in rows} == {"'" + NAME}
    assert rows[0]["value"] == "120"


def test_the_dashboard_csv_download_neutralises_text_and_keeps_numbers() -> None:
    text = to_csv([("name", "Name"), ("value", "Value")], [{"name": NAME, "value": -3}])
    assert list(csv.reader(io.StringIO(text))) == [["Name", "Value"], ["'" + NAME, "-3"]]
