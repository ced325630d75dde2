"""Cross-tabs in templates and imports (README, "Cross-tabs"): a cross-tab's pairs are
categories like any other, so the template has a row per pair and the Excel drop-down lists
them, the import takes them all or nothing, and a row or column that does not add up to its
one-way figure is warned about on that figure."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from models import Indicator, Initiative, Value

from .. import factories as f
from .test_imports import BASE, _csv, _template_rows, _upload

CROSS = "race_x_income"
PAIRS = [f"{CROSS}={r}.{i}" for r in ("black", "white") for i in ("low", "high")]
# A rate's (numerator, denominator) per cell: each row and column adds up to its margin.
GOOD = {
    "total": (45, 90),
    "race=black": (20, 50),
    "race=white": (25, 40),
    "income=low": (15, 45),
    "income=high": (30, 45),
    f"{CROSS}=black.low": (10, 30),
    f"{CROSS}=black.high": (10, 20),
    f"{CROSS}=white.low": (5, 15),
    f"{CROSS}=white.high": (20, 25),
}


def _cross_tab_world(session) -> None:
    """The spreadsheets world's K_READY, broken down by race, income and race × income."""
    init = session.scalar(select(Initiative).where(Initiative.slug == "c2c"))
    ready = session.scalar(select(Indicator).where(Indicator.code == "K_READY"))
    race = next(d for d in ready.dimensions if d.code == "race")
    income = f.dimension(session, init, "income", ["low", "high"])
    cross = f.cross_tab(session, init, race, income)
    ready.dimensions = [race, income, cross]
    session.commit()


def _fill(rows: list[dict], cells: dict) -> list[dict]:
    out = []
    for row in rows:
        if row["indicator"] == "K_READY":
            num, den = cells[row["disaggregation"]]
            row = {**row, "numerator": str(num), "denominator": str(den)}
        elif row["indicator"] == "SERVED":
            row = {**row, "value": "120"}
        out.append(row)
    return out


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Value))


def test_the_template_lists_every_pair_and_the_import_takes_them(client, world, session) -> None:
    _cross_tab_world(session)
    rep = world["reporter"]
    rows = _template_rows(client, rep, org="eastside", period="2025Q3")
    keys = [r["disaggregation"] for r in rows if r["indicator"] == "K_READY"]
    assert keys[0] == "total"
    assert sorted(keys[1:]) == sorted(
        ["race=black", "race=white", "income=low", "income=high", *PAIRS]
    )

    r = client.get(f"{BASE}/template.xlsx", params={"org": "eastside"}, headers=rep)
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    listed = [c.value for c in book["Lists"]["A"]]
    assert listed[0] == "total" and set(PAIRS) <= set(listed)

    # One pair wrong (numerator above denominator): nothing of the file is written.
    bad = dict(GOOD, **{f"{CROSS}=white.high": (30, 25)})
    only_ready = [r for r in rows if r["indicator"] in ("K_READY", "SERVED")]
    refused = _upload(client, rep, _csv(_fill(only_ready, bad)))
    assert refused.status_code == 422, refused.text
    assert _count(session) == 0

    done = _upload(client, rep, _csv(_fill(only_ready, GOOD)))
    assert done.status_code == 200, done.text
    assert _count(session) == 10  # nine K_READY cells and SERVED
    report = client.get(f"{BASE}/submissions/eastside/2025Q3", headers=rep).json()
    assert report["warnings"] == []


def test_a_row_that_does_not_add_up_to_its_one_way_figure_is_warned(client, world, session) -> None:
    _cross_tab_world(session)
    rep = world["reporter"]
    rows = [
        r
        for r in _template_rows(client, rep, org="eastside", period="2025Q3")
        if r["indicator"] in ("K_READY", "SERVED")
    ]
    # Black × low moves 2 people to black × high: the black row and the total still add up,
    # the low and high columns do not.
    off = dict(GOOD, **{f"{CROSS}=black.low": (10, 28), f"{CROSS}=black.high": (10, 22)})
    done = _upload(client, rep, _csv(_fill(rows, off)))
    assert done.status_code == 200, done.text
    report = client.get(f"{BASE}/submissions/eastside/2025Q3", headers=rep).json()
    warned = {(w["disaggregation"], w["code"]) for w in report["warnings"]}
    assert warned == {("income=low", "sum_mismatch"), ("income=high", "sum_mismatch")}
    message = next(w["message"] for w in report["warnings"] if w["disaggregation"] == "income=low")
    assert message.startswith(f"{CROSS} by income=low: category denominators add up to 43")
