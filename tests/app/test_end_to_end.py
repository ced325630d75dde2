"""The whole reporting cycle through the API, as a partner and the backbone team live it.

A reporter logs in, downloads the template, fills it, uploads it (dry run, then for real),
fixes a rejected row, submits; the backbone returns it with a comment; the reporter corrects
and resubmits; the backbone approves; the value history shows every change.
"""

from __future__ import annotations

import csv
import io

from .. import factories as f

BASE = "/api/v1/initiatives/river"


def _login(client, email):
    r = client.post("/api/v1/auth/token", data={"username": email, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _upload(client, headers, text, dry_run=False):
    return client.post(
        f"{BASE}/imports" + ("?dry_run=true" if dry_run else ""),
        files={"file": ("q3.csv", text.encode(), "text/csv")},
        headers=headers,
    )


def test_reporting_cycle(client, session) -> None:
    init = f.initiative(session, slug="river", name="River City Reads")
    race = f.dimension(session, init, "race", ["black", "white"])
    ready = f.indicator(
        session, init, "rate", code="K_READY", name="Kindergarten ready", valid_min=0, valid_max=100
    )
    ready.dimensions = [race]
    served = f.indicator(session, init, "count", code="SERVED", name="Children served")
    east = f.member(session, init, f.organisation(session, slug="eastside"))
    f.obligation(session, east, ready)
    f.obligation(session, east, served)
    f.open_period(session, init, "2026Q3", opened=5, due=25, closes=55)
    reporter = f.user(session, "reporter", org=east.organisation, email="rep@eastside.org")
    backbone = f.user(session, "backbone", init=init, email="bb@river.org")
    session.commit()

    rep = _login(client, reporter.email)
    template = client.get(f"{BASE}/template.csv?org=eastside&period=2026Q3", headers=rep)
    assert template.status_code == 200, template.text
    rows = list(csv.DictReader(io.StringIO(template.text.lstrip("\ufeff"))))
    keys = {(r["indicator"], r["disaggregation"]) for r in rows}
    assert keys == {
        ("K_READY", "total"),
        ("K_READY", "race=black"),
        ("K_READY", "race=white"),
        ("SERVED", "total"),
    }

    filled = {
        ("K_READY", "total"): {"numerator": "45", "denominator": "90"},
        ("K_READY", "race=black"): {"numerator": "60", "denominator": "50"},  # num > den: wrong
        ("K_READY", "race=white"): {"numerator": "25", "denominator": "40"},
        ("SERVED", "total"): {"value": "120"},
    }

    def as_csv(cells) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, **cells[(r["indicator"], r["disaggregation"])]})
        return out.getvalue()

    dry = _upload(client, rep, as_csv(filled), dry_run=True)
    assert dry.status_code == 422
    [error] = dry.json()["errors"]
    assert error["column"] == "numerator" and "greater" in error["reason"]
    assert (
        client.get(f"{BASE}/submissions/eastside/2026Q3", headers=rep).json()["status"]
        == "not_started"
    )

    filled[("K_READY", "race=black")] = {"numerator": "20", "denominator": "50"}
    assert _upload(client, rep, as_csv(filled), dry_run=True).status_code == 200
    real = _upload(client, rep, as_csv(filled))
    assert real.status_code == 200, real.text
    assert real.json()["created"] == 4
    again = _upload(client, rep, as_csv(filled))
    assert again.json()["created"] == 0 and again.json()["unchanged"] == 4

    url = f"{BASE}/submissions/eastside/2026Q3"
    etag = client.get(url, headers=rep).headers["ETag"]
    submitted = client.post(f"{url}/submit", headers={**rep, "If-Match": etag})
    assert submitted.json()["status"] == "submitted"

    bb = _login(client, backbone.email)
    queue = client.get(f"{BASE}/submissions?status=submitted", headers=bb).json()
    assert [s["organisation"] for s in queue["items"]] == ["eastside"]
    returned = client.post(f"{url}/return", json={"comment": "SERVED looks low for Q3"}, headers=bb)
    assert returned.json()["status"] == "returned"

    mine = client.get(url, headers=rep).json()
    assert mine["comment"] == "SERVED looks low for Q3"
    fixed = client.put(
        url,
        json={
            "values": [{"indicator": "SERVED", "value": 180}],
            "reason": "added the summer programme",
        },
        headers={**rep, "If-Match": client.get(url, headers=rep).headers["ETag"]},
    )
    assert fixed.status_code == 200
    assert client.post(f"{url}/submit", headers=rep).json()["status"] == "submitted"
    approved = client.post(f"{url}/approve", headers=bb)
    assert approved.json()["status"] == "approved"

    served_id = next(v["id"] for v in approved.json()["values"] if v["indicator"] == "SERVED")
    history = client.get(f"{BASE}/values/{served_id}/history", headers=bb).json()
    assert [(e["action"], e["after"]["value"]) for e in history] == [
        ("create", 120),
        ("update", 180),
    ]
    assert history[1]["before"]["value"] == 120
    assert history[1]["reason"] == "added the summer programme"
    assert history[0]["actor"] == "user:rep@eastside.org"

    card = client.get(f"{BASE}/scorecard?period=2026Q3", headers=bb).json()
    figures = {r["code"]: r["current"]["value"] for r in card["rows"]}
    assert figures == {"K_READY": 50.0, "SERVED": 180}
