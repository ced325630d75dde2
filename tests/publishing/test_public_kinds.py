"""The two kinds of measure in what the public reads (README, "Two kinds of measure"): the
published snapshot names each indicator's kind, the public page groups the partners' programme
measures under the population curve they bear on, and the open-data package carries the kind."""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile

import dash
import pytest

from models.publishing.publish import public_summary
from models.reporting.validation import ValueInput

from .. import factories as f


@pytest.fixture
def world(session, client):
    init = f.initiative(session, slug="kinds", name="Kinds City")
    ready = f.outcome(session, init, code="READY", name="Ready for school")
    kids = f.indicator(session, init, code="KIDS", name="Children ready", outcome_id=ready.id)
    visits = f.indicator(
        session,
        init,
        code="VISITS",
        name="Home visits made",
        outcome_id=ready.id,
        kind="performance",
        performance_type="how_much",
    )
    better = f.indicator(
        session,
        init,
        code="BETTER",
        name="Parents reading daily",
        outcome_id=ready.id,
        kind="performance",
        performance_type="better_off",
    )
    alone = f.indicator(
        session,
        init,
        code="ALONE",
        name="Workshops held",
        outcome_id=ready.id,
        kind="performance",
        performance_type="how_well",
    )
    visits.contributes_to = [kids]
    better.contributes_to = [kids]
    member = f.member(session, init, f.organisation(session, slug="p1"))
    for indicator in (kids, visits, better, alone):
        f.obligation(session, member, indicator)
    f.period(session, init, "2025Q3")
    backbone = f.user(session, "backbone", init=init)
    session.commit()
    f.approved_report(
        session,
        "kinds",
        "p1",
        "2025Q3",
        [
            ValueInput("KIDS", value=120),
            ValueInput("VISITS", value=340),
            ValueInput("BETTER", value=60),
            ValueInput("ALONE", value=12),
        ],
    )
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": backbone.email, "password": f.PASSWORD}
    ).json()["access_token"]
    r = client.post(
        "/api/v1/initiatives/kinds/periods/2025Q3/publish",
        json={"confirm_incomplete": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    return client.get("/api/v1/public/initiatives/kinds/summary").json()


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_published_snapshot_names_each_kind(world) -> None:
    [period] = world["periods"]
    kinds = {
        i["indicator"]: (i["kind"], i["performance_type"], i["contributes_to"])
        for i in period["indicators"]
    }
    assert kinds == {
        "KIDS": ("population", None, []),
        "VISITS": ("performance", "how_much", ["KIDS"]),
        "BETTER": ("performance", "better_off", ["KIDS"]),
        "ALONE": ("performance", "how_well", []),
    }


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_open_data_package_carries_the_kind(client, world, tmp_path) -> None:
    from frictionless import validate

    r = client.get("/api/v1/public/initiatives/kinds/datapackage.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
        descriptor = json.loads(z.read("datapackage.json"))
        rows = list(csv.DictReader(io.StringIO(z.read("indicators.csv").decode())))
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    fields = [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]]
    assert fields[3:7] == ["indicator_name", "kind", "performance_type", "contributes_to"]
    kinds = {(r["indicator"], r["kind"], r["performance_type"], r["contributes_to"]) for r in rows}
    assert kinds == {
        ("KIDS", "population", "", ""),
        ("VISITS", "performance", "how_much", "KIDS"),
        ("BETTER", "performance", "better_off", "KIDS"),
        ("ALONE", "performance", "how_well", ""),
    }


def _texts(node):
    if isinstance(node, str):
        yield node
        return
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, int | float):
            yield from _texts(child)


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_public_page_puts_the_programmes_under_their_curve(app, session, world) -> None:
    module = next(p["module"] for p in dash.page_registry.values() if "public" in p["module"])
    page = sys.modules[module]
    summary = public_summary(session=session, initiative_slug="kinds")
    [(outcome, sections)] = page.outcome_sections(summary["periods"][0])
    assert outcome == "Ready for school"
    assert [
        (role, label, [e["indicator"] for e in entries]) for role, label, entries in sections
    ] == [
        ("population", None, ["KIDS"]),
        ("contribution", "Children ready", []),
        ("type", "How much did we do?", ["VISITS"]),
        ("type", "Is anyone better off?", ["BETTER"]),
        ("unlinked", None, []),
        ("type", "How well did we do it?", ["ALONE"]),
    ]
    text = " | ".join(t for t in _texts(page.public_body(summary, "2025Q3")) if t.strip())
    order = [
        "Children ready",
        "Partners' programmes contributing to Children ready",
        "Contribution, not attribution",
        "How much did we do?",
        "Home visits made",
        "Partner programme measure: how much did we do?",
        "Is anyone better off?",
        "Parents reading daily",
        "Other partners' programme measures",
        "How well did we do it?",
        "Workshops held",
    ]
    positions = [text.index(t) for t in order]
    assert positions == sorted(positions), text


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_vintage_frozen_before_kinds_reads_as_population_indicators(app, world) -> None:
    module = next(p["module"] for p in dash.page_registry.values() if "public" in p["module"])
    page = sys.modules[module]
    period = world["periods"][0]
    old = {
        **period,
        "indicators": [
            {k: v for k, v in i.items() if k not in {"kind", "performance_type", "contributes_to"}}
            for i in period["indicators"]
        ],
    }
    [(_, sections)] = page.outcome_sections(old)
    assert [(role, [e["indicator"] for e in entries]) for role, _, entries in sections] == [
        ("population", [i["indicator"]]) for i in old["indicators"]
    ]
