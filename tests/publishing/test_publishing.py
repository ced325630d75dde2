"""Publication: nothing is public until published; vintages; the open-data package."""

from __future__ import annotations

import io
import json
import math
import zipfile

import pytest
from sqlalchemy import select, update

from models import Initiative, Member, Publication
from models.core.actors import SYSTEM
from models.reporting.submissions import transition
from models.reporting.validation import ValueInput
from models.tables.rollups import RollupRow

from .. import factories as f

INCOMPLETE = {"confirm_incomplete": True}  # p2 has not reported in most tests


def _correct(session, org, inputs, period="2025Q3"):
    """Reopen an approved report, correct it and approve it again."""
    _move(session, org, period, "reopen", comment="recount")
    _approve(session, org, inputs, period)


def _move(session, org, period, *actions, comment=None):
    for action in actions:
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug="pub",
            org_slug=org,
            period_key=period,
            action=action,
            comment=comment,
        )


def _approve(session, org, inputs, period="2025Q3"):
    f.approved_report(session, "pub", org, period, inputs)


@pytest.fixture
def world(session, client):
    init = f.initiative(session, slug="pub", name="Published City")
    sex = f.dimension(session, init, "sex", ["f", "m", "x"])
    out = f.outcome(session, init, code="READY", name="Ready for school")
    kids = f.indicator(
        session, init, "count", code="KIDS", name="Children served", outcome_id=out.id
    )
    kids.dimensions = [sex]
    for slug in ("p1", "p2"):
        m = f.member(session, init, f.organisation(session, slug=slug))
        f.obligation(session, m, kids)
    f.period(session, init, "2025Q3")
    backbone = f.user(session, "backbone", init=init)
    session.commit()
    r = client.post("/api/v1/auth/token", data={"username": backbone.email, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.usefixtures("few_partners_allowed")
def test_nothing_is_public_until_published(client, session, world) -> None:
    _approve(session, "p1", [ValueInput("KIDS", value=120)])
    session.commit()
    assert client.get("/api/v1/public/initiatives/pub/summary").status_code == 404
    r = client.post(
        "/api/v1/initiatives/pub/periods/2025Q3/publish",
        json={"note": "first", "confirm_incomplete": True},
        headers=world,
    )
    assert r.status_code == 201, r.text
    summary = client.get("/api/v1/public/initiatives/pub/summary")
    assert summary.status_code == 200
    [period] = summary.json()["periods"]
    assert period["indicators"][0]["total"]["value"] == 120


def _approve_a_small_category(session) -> None:
    """p1's 60 children, 7 of them in category x (below the threshold), approved."""
    _approve(
        session,
        "p1",
        [
            ValueInput("KIDS", value=60),
            ValueInput("KIDS", "sex=f", value=30),
            ValueInput("KIDS", "sex=m", value=23),
            ValueInput("KIDS", "sex=x", value=7),
        ],
    )
    session.commit()


def _publish_a_small_category(client, session, world) -> None:
    _approve_a_small_category(session)
    client.post("/api/v1/initiatives/pub/periods/2025Q3/publish", json=INCOMPLETE, headers=world)


@pytest.mark.usefixtures("few_partners_allowed")
def test_small_category_shows_marker_and_a_second_is_hidden(client, session, world) -> None:
    _publish_a_small_category(client, session, world)
    response = client.get("/api/v1/public/initiatives/pub/summary")
    cats = {
        c["key"]: c
        for c in response.json()["periods"][0]["indicators"][0]["breakdowns"][0]["categories"]
    }
    assert cats["sex=x"]["value"] is None and cats["sex=x"]["marker"] == "<10"
    hidden = [k for k, c in cats.items() if c["value"] is None]
    assert len(hidden) >= 2  # complementary: 7 = 60 − 30 − 23 must not be solvable
    assert '"value":7' not in response.text.replace(" ", "")
    assert ":7," not in response.text.replace(" ", "") and ":7}" not in response.text.replace(
        " ", ""
    )


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_public_legend_explains_the_markers_shown_and_no_other(client, session, world) -> None:
    """The legend is true for every marker on the page and lists none the public never sees
    ("not yet published"); a marker an older vintage carries is explained although today's
    settings no longer make it."""
    _publish_a_small_category(client, session, world)
    summary = client.get("/api/v1/public/initiatives/pub/summary").json()
    shown = {
        fig["marker"]
        for ind in summary["periods"][0]["indicators"]
        for fig in [ind["total"], *(c for b in ind["breakdowns"] for c in b["categories"])]
    } - {None}
    assert shown and set(summary["legend"]) == shown
    assert "not yet published" not in summary["legend"]
    assert "fewer than 10 people" in summary["legend"]["<10"]
    # An older vintage made under another setting: its marker is explained all the same.
    pub = session.scalars(select(Publication)).one()
    snapshot = json.loads(json.dumps(pub.snapshot))
    snapshot["indicators"][0]["total"]["marker"] = "<3 partners"
    session.execute(update(Publication).where(Publication.id == pub.id).values(snapshot=snapshot))
    session.commit()
    legend = client.get("/api/v1/public/initiatives/pub/summary").json()["legend"]
    assert "fewer than 3 partners" in legend["<3 partners"]


@pytest.mark.usefixtures("few_partners_allowed")
def test_corrections_stay_private_until_republished(client, session, world) -> None:
    _approve(session, "p1", [ValueInput("KIDS", value=120)])
    session.commit()
    client.post("/api/v1/initiatives/pub/periods/2025Q3/publish", json=INCOMPLETE, headers=world)
    _correct(session, "p1", [ValueInput("KIDS", value=150)])
    session.commit()
    public = client.get("/api/v1/public/initiatives/pub/summary").json()
    assert public["periods"][0]["indicators"][0]["total"]["value"] == 120
    r = client.post(
        "/api/v1/initiatives/pub/periods/2025Q3/publish",
        json={"note": "revised", "confirm_incomplete": True},
        headers=world,
    )
    assert r.json()["revised"] == ["KIDS total"]
    public = client.get("/api/v1/public/initiatives/pub/summary").json()
    assert public["periods"][0]["indicators"][0]["total"]["value"] == 150
    assert public["periods"][0]["vintage"] == 2
    vintages = client.get(
        "/api/v1/initiatives/pub/periods/2025Q3/publications", headers=world
    ).json()
    assert [v["note"] for v in vintages] == [None, "revised"]


@pytest.mark.usefixtures("few_partners_allowed")
def test_republishing_unchanged_figures_revises_nothing(client, session, world) -> None:
    """The database sums floats in no fixed order: the same data can come back one binary digit
    apart. Publishing it again must neither list a revision nor freeze other figures."""
    init = session.scalar(select(Initiative).where(Initiative.slug == "pub"))
    grants = f.indicator(session, init, "amount", code="GRANTS", unit="USD")
    f.obligation(
        session, session.scalar(select(Member).where(Member.initiative_id == init.id)), grants
    )
    _approve(session, "p1", [ValueInput("KIDS", value=120), ValueInput("GRANTS", value=1250.3)])
    session.commit()
    url = "/api/v1/initiatives/pub/periods/2025Q3/publish"
    assert client.post(url, json=INCOMPLETE, headers=world).status_code == 201
    # As if the amounts had been added up in another order.
    session.execute(
        update(RollupRow)
        .where(RollupRow.indicator_id == grants.id)
        .values(sum_value=math.nextafter(1250.3, 2000))
    )
    session.commit()
    again = client.post(url, json=INCOMPLETE, headers=world)
    assert again.status_code == 201, again.text
    assert again.json()["revised"] == []
    first, second = session.scalars(select(Publication.snapshot).order_by(Publication.id)).all()
    assert first["indicators"] == second["indicators"]
    assert {i["indicator"]: i["total"]["value"] for i in second["indicators"]} == {
        "KIDS": 120,
        "GRANTS": 1250.3,
    }


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_figure_kept_hidden_for_another_reason_is_not_a_revision(client, session, world) -> None:
    """v1 hides a complement so the small cell cannot be worked out; v2 of the same data keeps
    it hidden because v1 hid it (another marker): the public learns nothing new, so nothing is
    listed as revised."""
    _approve_a_small_category(session)
    url = "/api/v1/initiatives/pub/periods/2025Q3/publish"
    assert client.post(url, json=INCOMPLETE, headers=world).status_code == 201
    again = client.post(url, json=INCOMPLETE, headers=world)
    assert again.status_code == 201, again.text
    assert again.json()["revised"] == []
    first, second = session.scalars(select(Publication.snapshot).order_by(Publication.id)).all()
    markers = [
        {c["key"]: c["marker"] for c in snap["indicators"][0]["breakdowns"][0]["categories"]}
        for snap in (first, second)
    ]
    assert markers[0] != markers[1]  # the reason changed, the figures did not


def test_publishing_needs_backbone_and_data(client, session, world) -> None:
    assert client.post("/api/v1/initiatives/pub/periods/2025Q3/publish").status_code == 401
    r = client.post(
        "/api/v1/initiatives/pub/periods/2025Q3/publish", json=INCOMPLETE, headers=world
    )
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_publish"


def test_datapackage_is_valid_frictionless(client, session, world, tmp_path) -> None:
    from frictionless import Package, validate

    _publish_a_small_category(client, session, world)
    r = client.get("/api/v1/public/initiatives/pub/datapackage.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
        descriptor = json.loads(z.read("datapackage.json"))
        rows = z.read("indicators.csv").decode().splitlines()
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["sources"]
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert len(Package(str(tmp_path / "datapackage.json")).resources) == 3  # coverage, stories
    assert not any(",7," in row for row in rows)  # the small cell is not in the open data


def _republish_after_correction(client, session, world, corrected):
    _correct(session, "p1", corrected)
    session.commit()
    r = client.post(
        "/api/v1/initiatives/pub/periods/2025Q3/publish", json=INCOMPLETE, headers=world
    )
    assert r.status_code == 201, r.text
    return client.get("/api/v1/public/initiatives/pub/summary").json()


def _cells(summary) -> dict[str, dict]:
    indicator = summary["periods"][0]["indicators"][0]
    cells = {"total": indicator["total"]}
    cells.update({c["key"]: c for c in indicator["breakdowns"][0]["categories"]})
    return cells


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_republication_keeps_hidden_what_an_earlier_one_hid(client, session, world) -> None:
    """v1 hides f (small) and x (its complement); a correction moves the small cell to m. If
    v2 showed f or x, v1's total − m − v2's cells would give a small cell away."""
    first = [
        ValueInput("KIDS", value=156),
        ValueInput("KIDS", "sex=f", value=3),
        ValueInput("KIDS", "sex=m", value=83),
        ValueInput("KIDS", "sex=x", value=70),
    ]
    _approve(session, "p1", first)
    session.commit()
    client.post("/api/v1/initiatives/pub/periods/2025Q3/publish", json=INCOMPLETE, headers=world)
    v1 = _cells(client.get("/api/v1/public/initiatives/pub/summary").json())
    hidden_v1 = {k for k, c in v1.items() if c["value"] is None}
    assert "sex=f" in hidden_v1 and len(hidden_v1) >= 2
    corrected = [
        ValueInput("KIDS", value=143),
        ValueInput("KIDS", "sex=f", value=60),
        ValueInput("KIDS", "sex=m", value=8),
        ValueInput("KIDS", "sex=x", value=75),
    ]
    v2 = _cells(_republish_after_correction(client, session, world, corrected))
    hidden_v2 = {k for k, c in v2.items() if c["value"] is None}
    assert hidden_v1 <= hidden_v2, (hidden_v1, hidden_v2)
    assert v2["sex=m"]["marker"] == "<10"
    kept = [k for k in hidden_v1 if v2[k]["marker"] == "†"]
    assert kept, v2  # the marker says why: hidden in an earlier publication
    # And within v2 alone nothing is pinned: at least two cells hidden.
    assert len(hidden_v2 - {"total"}) >= 2


def test_an_incomplete_period_is_published_only_when_confirmed(client, session, world) -> None:
    """p2 has not reported: the first attempt lists it; confirmed, the vintage says 1 of 2."""
    _approve(session, "p1", [ValueInput("KIDS", value=120)])
    session.commit()
    url = "/api/v1/initiatives/pub/periods/2025Q3/publish"
    refused = client.post(url, json={"note": "q3"}, headers=world)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "incomplete_period" and body["field"] == "confirm_incomplete"
    assert body["reports"] == [{"organisation": "p2", "status": "missing"}]
    assert body["indicators"] == [{"indicator": "KIDS", "reported": 1, "expected": 2}]
    assert client.get("/api/v1/public/initiatives/pub/summary").status_code == 404
    assert client.post(url, json={"confirm_incomplete": True}, headers=world).status_code == 201
    [period] = client.get("/api/v1/public/initiatives/pub/summary").json()["periods"]
    assert period["coverage"] == {
        "approved": 1,
        "expected": 2,
        "indicators": [{"indicator": "KIDS", "complete": False}],
    }
    _approve(session, "p2", [ValueInput("KIDS", value=80)])
    session.commit()
    assert client.post(url, headers=world).status_code == 201  # complete: no confirmation
    [period] = client.get("/api/v1/public/initiatives/pub/summary").json()["periods"]
    assert period["coverage"] == {
        "approved": 2,
        "expected": 2,
        "indicators": [{"indicator": "KIDS", "complete": True}],
    }


def _incomplete_visits(session) -> None:
    """Both reports approved, but p2's has no VISITS: that figure is p1's alone."""
    from sqlalchemy import select

    from models import Indicator, Initiative, Member

    init = session.scalar(select(Initiative).where(Initiative.slug == "pub"))
    kids = session.scalar(select(Indicator).where(Indicator.code == "KIDS"))
    visits = f.indicator(
        session,
        init,
        "count",
        code="VISITS",
        name="Home visits",
        outcome_id=kids.outcome_id,
    )
    for m in session.scalars(select(Member).where(Member.initiative_id == init.id)):
        f.obligation(session, m, visits)
    _approve(session, "p1", [ValueInput("KIDS", value=120), ValueInput("VISITS", value=40)])
    _approve(session, "p2", [ValueInput("KIDS", value=80)])
    session.commit()


def test_approved_reports_with_incomplete_coverage_need_a_confirmation(
    client, session, world
) -> None:
    _incomplete_visits(session)
    url = "/api/v1/initiatives/pub/periods/2025Q3/publish"
    refused = client.post(url, json={"note": "q3"}, headers=world)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "incomplete_period" and body["field"] == "confirm_incomplete"
    assert body["reports"] == []  # every report is approved …
    assert body["indicators"] == [{"indicator": "VISITS", "reported": 1, "expected": 2}]
    assert "VISITS" in body["detail"] and "share" not in json.dumps(body)
    assert client.get("/api/v1/public/initiatives/pub/summary").status_code == 404
    assert client.post(url, json=INCOMPLETE, headers=world).status_code == 201
    [period] = client.get("/api/v1/public/initiatives/pub/summary").json()["periods"]
    assert period["coverage"] == {
        "approved": 2,
        "expected": 2,
        "indicators": [
            {"indicator": "KIDS", "complete": True},
            {"indicator": "VISITS", "complete": False},
        ],
    }


@pytest.mark.usefixtures("few_partners_allowed")
def test_public_page_and_open_data_show_coverage(client, session, world, tmp_path) -> None:
    import csv

    from frictionless import validate

    from ..dash_calls import call, text_of

    _incomplete_visits(session)
    url = "/api/v1/initiatives/pub/periods/2025Q3/publish"
    assert client.post(url, json=INCOMPLETE, headers=world).status_code == 201

    client.cookies.clear()
    answer = call(
        client,
        "public-body.children",
        [("public-initiative", "data", "pub"), ("public-period", "value", "2025Q3")],
    )
    text = text_of(answer)
    assert "Based on the approved reports of all 2 partners." in text
    assert "1 of the figures is marked incomplete" in text
    assert text.count("cm-incomplete") == 1  # VISITS' card, not KIDS'
    kids, visits = text.index("Children served"), text.index("Home visits")
    assert "cm-incomplete" in text[visits:] and "cm-incomplete" not in text[kids:visits]

    r = client.get("/api/v1/public/initiatives/pub/datapackage.zip")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
        descriptor = json.loads(z.read("datapackage.json"))
        indicators = list(csv.DictReader(io.StringIO(z.read("indicators.csv").decode())))
        coverage = list(csv.DictReader(io.StringIO(z.read("coverage.csv").decode())))
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    described = descriptor["description"]
    assert "2025Q3 approved reports of 2 of 2 partners, incomplete indicators VISITS" in described
    assert [r["name"] for r in descriptor["resources"]] == ["indicators", "coverage", "stories"]
    assert coverage == [
        {
            "period": "2025Q3",
            "published_at": coverage[0]["published_at"],
            "partners_approved": "2",
            "partners_expected": "2",
            "incomplete_indicators": "VISITS",
        }
    ]
    assert {(r["indicator"], r["complete"]) for r in indicators} == {
        ("KIDS", "true"),
        ("VISITS", "false"),
    }


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_public_summary_and_package_may_be_kept_and_revalidated(client, session, world) -> None:
    """Anyone may keep the published answers (a CDN, a browser) and ask again with their
    ETag: 304 until something is published again."""
    _publish_a_small_category(client, session, world)
    for path in ("summary", "datapackage.zip"):
        url = f"/api/v1/public/initiatives/pub/{path}"
        first, again = client.get(url), client.get(url)
        assert first.status_code == 200 and first.content == again.content, path
        assert first.headers["cache-control"] == "public, no-cache", path
        assert first.headers["etag"] == again.headers["etag"], path
        unchanged = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert unchanged.status_code == 304 and unchanged.content == b"", path
        assert unchanged.headers["etag"] == first.headers["etag"], path
    etag = client.get("/api/v1/public/initiatives/pub/summary").headers["etag"]
    _republish_after_correction(client, session, world, [ValueInput("KIDS", value=200)])
    answer = client.get("/api/v1/public/initiatives/pub/summary", headers={"If-None-Match": etag})
    assert answer.status_code == 200 and answer.headers["etag"] != etag
    assert client.get("/api/v1/public/initiatives/nowhere/summary").status_code == 404
