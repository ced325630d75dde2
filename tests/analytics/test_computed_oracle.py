"""An oracle for computed indicators: their figures, worked out here on their own from the
stored approved values (plain Python, none of models.analytics), compared with what the API
answers to the backbone team (exact figures), a funder, a partner and the public (a computed
figure is shown only where every input figure it uses is shown to that viewer: a sum or a
difference shown beside one hidden input would give that input away).

Worlds are drawn at random (fixed seeds): four partners, three groups, four quarters, two
reported counts (seniors, FAFSA completions) with small groups now and then, and three
computed indicators: a rate, a sum and a difference.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections import defaultdict

import pytest
from sqlalchemy import select

from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.reporting.validation import ValueInput
from models.tables.initiative import Period
from models.tables.reporting import Submission, Value

from .. import factories as f

P = "/api/v1"
SLUG = "computed"
GROUPS = ("a", "b", "c")
PARTNERS = ("p1", "p2", "p3", "p4")
QUARTERS = ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
KEYS = ("total", *(f"race={g}" for g in GROUPS))
COMPUTED = {
    # code: (expression, the oracle's own formula, broken down by race)
    "FAFSA_RATE": ("100 * DONE / SENIORS", lambda d, s: 100 * d / s if s else None, True),
    "BOTH": ("DONE + SENIORS", lambda d, s: d + s, False),
    "NOT_DONE": ("SENIORS - DONE", lambda d, s: s - d, True),
}


def _build(session, seed: int) -> dict:
    rng = random.Random(seed)
    init = f.initiative(session, slug=SLUG, suppression_threshold=10)
    race = f.dimension(session, init, "race", list(GROUPS))
    seniors = f.indicator(session, init, "count", code="SENIORS")
    done = f.indicator(session, init, "count", code="DONE")
    seniors.dimensions, done.dimensions = [race], [race]
    for code, (expression, _, by_race) in COMPUTED.items():
        measure = "rate" if code == "FAFSA_RATE" else "count"
        computed = f.indicator(session, init, measure, code=code, expression=expression)
        computed.dimensions = [race] if by_race else []
    for key in QUARTERS:
        f.period(session, init, key)
    reporter = None
    for slug in PARTNERS:
        member = f.member(session, init, f.organisation(session, slug=slug))
        f.obligation(session, member, seniors)
        f.obligation(session, member, done)
        if slug == "p1":
            reporter = f.user(session, "reporter", org=member.organisation)
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "partner": reporter,
    }
    session.flush()
    for q, key in enumerate(QUARTERS):
        for p, slug in enumerate(PARTNERS):
            inputs, s_total, d_total = [], 0, 0
            for g in GROUPS:
                s = rng.randint(20, 60)
                d = round(s * rng.uniform(0.3, 0.9))
                # Now and then a group with few completions: hidden below backbone.
                if g == "c" and (q + p + seed) % 3 == 0:
                    s, d = rng.randint(1, 3), rng.randint(0, 1)
                inputs += [
                    ValueInput("SENIORS", f"race={g}", value=s),
                    ValueInput("DONE", f"race={g}", value=d),
                ]
                s_total, d_total = s_total + s, d_total + d
            inputs += [ValueInput("SENIORS", value=s_total), ValueInput("DONE", value=d_total)]
            f.approved_report(session, SLUG, slug, key, inputs)
    for key in QUARTERS:
        publish(session=session, actor=SYSTEM, initiative_slug=SLUG, period_key=key)
    session.commit()
    return {"init": init, "users": users}


def _raw(session, initiative_id: int) -> dict[tuple[str, str, str], float]:
    """(indicator, period, cell) → Σ approved values, straight from the tables."""
    out: dict = defaultdict(float)
    for code_id, key, cell, value in session.execute(
        select(Value.indicator_id, Period.key, Value.disaggregation, Value.value)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Period, Period.id == Submission.period_id)
        .where(Submission.initiative_id == initiative_id, Submission.status == "approved")
    ):
        out[(code_id, key, cell)] += value
    return out


def _oracle(session, init) -> dict[tuple[str, str, str], float | None]:
    """(computed code, period, cell) → its exact figure, by the oracle's own formulas."""
    from models.tables.indicator import Indicator

    ids = dict(session.execute(select(Indicator.code, Indicator.id)).all())
    raw = _raw(session, init.id)
    out = {}
    for code, (_, formula, by_race) in COMPUTED.items():
        for key in QUARTERS:
            for cell in KEYS if by_race else ("total",):
                out[(code, key, cell)] = formula(
                    raw[(ids["DONE"], key, cell)], raw[(ids["SENIORS"], key, cell)]
                )
    return out


def _series(client, headers, code: str, by_race: bool) -> dict[tuple[str, str], dict]:
    """(period, cell) → the figure the API shows the viewer."""
    r = client.get(
        f"{P}/initiatives/{SLUG}/indicators/{code}/series",
        params={"by": "race"} if by_race else {},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return {(p["period"], p["key"]): p["figure"] for p in body["total"] + body["breakdown"]}


def _public(client) -> dict[tuple[str, str, str], dict]:
    """(indicator, period, cell) → the figure on the public summary."""
    r = client.get(f"{P}/public/initiatives/{SLUG}/summary")
    assert r.status_code == 200, r.text
    out = {}
    for period in r.json()["periods"]:
        for ind in period["indicators"]:
            out[(ind["indicator"], period["period"], "total")] = ind["total"]
            for b in ind["breakdowns"]:
                for c in b["categories"]:
                    out[(ind["indicator"], period["period"], c["key"])] = c
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_computed_figures_agree_with_an_independent_computation(client, session, seed):
    world = _build(session, seed)
    oracle = _oracle(session, world["init"])
    headers = f.bearer_headers(client, world["users"])
    outcomes: dict[str, set[str]] = defaultdict(set)
    for role in ("backbone", "funder", "partner", "public"):
        if role == "public":
            public = _public(client)
            shown = {
                code: {(p, c): fig for (i, p, c), fig in public.items() if i == code}
                for code in ("DONE", "SENIORS", *COMPUTED)
            }
        else:
            shown = {
                code: _series(client, headers[role], code, by_race)
                for code, by_race in (("DONE", True), ("SENIORS", True))
                + tuple((c, b) for c, (_, _, b) in COMPUTED.items())
            }
        for code, (_, formula, by_race) in COMPUTED.items():
            for key in QUARTERS:
                for cell in KEYS if by_race else ("total",):
                    figure = shown[code][(key, cell)]
                    exact = oracle[(code, key, cell)]
                    done, seniors = shown["DONE"][(key, cell)], shown["SENIORS"][(key, cell)]
                    if role == "backbone":
                        assert figure["value"] == pytest.approx(exact), (code, key, cell)
                        outcomes[role].add("shown")
                        continue
                    inputs_shown = done["value"] is not None and seniors["value"] is not None
                    if inputs_shown:
                        # Shown, and the same whether computed from the raw values or from
                        # the inputs the viewer sees.
                        assert figure["value"] == pytest.approx(exact), (role, code, key, cell)
                        assert figure["value"] == pytest.approx(
                            formula(done["value"], seniors["value"])
                        )
                        outcomes[role].add("shown")
                    else:
                        assert figure["value"] is None, (role, code, key, cell)
                        assert figure["marker"] == "◊"
                        assert figure.get("reason", "inputs_hidden") == "inputs_hidden"
                        outcomes[role].add("hidden")
    # Every viewer below backbone meets both cases: the test is about something.
    for role in ("funder", "partner", "public"):
        assert outcomes[role] == {"shown", "hidden"}, role


def test_the_data_package_carries_computed_figures_as_published(client, session):
    """The data package is made of the publications: a computed figure is in it as the public
    summary shows it, hidden where an input is."""
    _build(session, 1)
    public = _public(client)
    r = client.get(f"{P}/public/initiatives/{SLUG}/datapackage.zip")
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        data = {n: z.read(n).decode() for n in z.namelist()}
    assert json.loads(data["datapackage.json"])["resources"]
    rows = list(csv.DictReader(io.StringIO(data["indicators.csv"])))
    hidden_cells = {
        (p, c) for (i, p, c), fig in public.items() if i == "NOT_DONE" and fig["value"] is None
    }
    assert hidden_cells
    mine = [r for r in rows if r["indicator"] == "NOT_DONE"]
    assert len(mine) == len([k for k in public if k[0] == "NOT_DONE"])
    for record in mine:
        cell = (
            "total"
            if record["dimension"] == "total"
            else (f"{record['dimension']}={record['category']}")
        )
        figure = public[("NOT_DONE", record["period"], cell)]
        if (record["period"], cell) in hidden_cells:
            assert record["value"] == "" and record["marker"] == "◊"
        else:
            assert float(record["value"]) == pytest.approx(figure["value"])
