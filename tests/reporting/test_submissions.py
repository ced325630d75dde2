"""Reporting through the API: drafts, validation, warnings, workflow, versions, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Submission, Value
from models.core.dates import day

from .. import factories as f

URL = "/api/v1/initiatives/c2c/submissions/eastside/{period}"


GOOD = {
    "values": [
        {"indicator": "K_READY", "numerator": 45, "denominator": 90},
        {
            "indicator": "K_READY",
            "disaggregation": "race=black",
            "numerator": 20,
            "denominator": 50,
        },
        {
            "indicator": "K_READY",
            "disaggregation": "race=white",
            "numerator": 25,
            "denominator": 40,
        },
        {"indicator": "SERVED", "value": 120},
        {"indicator": "SCORE", "value": 231.5, "denominator": 88},
    ]
}


def _put(client, headers, body=GOOD, period="2025Q3", **extra):
    return client.put(URL.format(period=period), json=body, headers={**headers, **extra})


def _post(client, headers, action, period="2025Q3", **kw):
    return client.post(URL.format(period=period) + f"/{action}", headers=headers, **kw)


def test_not_started_submission_reads_as_version_zero(client, world) -> None:
    r = client.get(URL.format(period="2025Q3"), headers=world["h"]["reporter"])
    assert r.status_code == 200
    assert r.json()["status"] == "not_started"
    assert r.headers["ETag"] == '"0"'
    assert r.json()["missing"] == ["K_READY", "SCORE", "SERVED"]


def test_put_creates_a_draft_with_values(client, world) -> None:
    r = _put(client, world["h"]["reporter"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 5
    sub = body["submission"]
    assert sub["status"] == "draft"
    assert sub["missing"] == []
    assert sub["warnings"] == []
    total = next(
        v for v in sub["values"] if v["indicator"] == "K_READY" and v["disaggregation"] == "total"
    )
    assert total["value"] == pytest.approx(50.0)
    assert r.headers["ETag"] == f'"{sub["version"]}"'


def test_same_put_twice_changes_nothing(client, world) -> None:
    _put(client, world["h"]["reporter"])
    r = _put(client, world["h"]["reporter"])
    assert r.json()["unchanged"] == 5
    assert r.json()["created"] == r.json()["updated"] == 0


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ({"indicator": "SERVED", "value": -1}, "values[0].value", "negative"),
        ({"indicator": "SERVED", "value": 2.5}, "values[0].value", "whole"),
        ({"indicator": "SERVED", "value": "12"}, "values[0].value", ""),
        ({"indicator": "SERVED", "value": 200_000}, "values[0].value", "maximum"),
        (
            {"indicator": "K_READY", "numerator": 91, "denominator": 90},
            "values[0].numerator",
            "greater",
        ),
        ({"indicator": "K_READY", "numerator": 9}, "values[0].denominator", "required"),
        ({"indicator": "SCORE", "value": 3}, "values[0].denominator", "required"),
        ({"indicator": "NOPE", "value": 3}, "values[0].indicator", "unknown indicator"),
        (
            {
                "indicator": "K_READY",
                "disaggregation": "race=martian",
                "numerator": 1,
                "denominator": 2,
            },
            "values[0].disaggregation",
            "unknown disaggregation",
        ),
        (
            {"indicator": "SERVED", "disaggregation": "race=black", "value": 1},
            "values[0].disaggregation",
            "total only",
        ),
        ({"indicator": "SERVED", "value": 1, "status": "approved"}, "values[0].status", ""),
    ],
)
def test_invalid_values_are_refused_with_field_and_reason(
    client, world, session, value, field, reason
):
    r = _put(client, world["h"]["reporter"], {"values": [value]})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"].startswith(field)
    assert reason in body["detail"]
    assert session.scalar(select(func.count()).select_from(Value)) == 0


def test_nan_and_infinity_are_refused(client, world) -> None:
    for bad in ("NaN", "Infinity", "-Infinity"):
        raw = '{"values": [{"indicator": "SERVED", "value": ' + bad + "}]}"
        r = client.put(
            URL.format(period="2025Q3"),
            content=raw,
            headers={**world["h"]["reporter"], "Content-Type": "application/json"},
        )
        assert r.status_code == 422, bad


def test_one_bad_value_writes_nothing_and_lists_every_problem(client, world, session) -> None:
    body = {
        "values": [
            *GOOD["values"],
            {"indicator": "SERVED", "value": -5},
            {"indicator": "NOPE", "value": 1},
        ]
    }
    r = _put(client, world["h"]["reporter"], body)
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert "values[5].indicator" in fields and "values[6].indicator" in fields
    assert session.scalar(select(func.count()).select_from(Value)) == 0


def test_indicator_outside_obligations_is_refused(client, world) -> None:
    r = client.put(
        "/api/v1/initiatives/c2c/submissions/westside/2025Q3",
        json={"values": [{"indicator": "K_READY", "numerator": 1, "denominator": 2}]},
        headers=world["h"]["other"],
    )
    assert r.status_code == 422
    assert "obligations" in r.json()["detail"]


def test_breakdown_that_does_not_add_up_is_flagged_not_refused(client, world) -> None:
    body = {
        "values": [
            {"indicator": "K_READY", "numerator": 45, "denominator": 90},
            {
                "indicator": "K_READY",
                "disaggregation": "race=black",
                "numerator": 20,
                "denominator": 50,
            },
            {
                "indicator": "K_READY",
                "disaggregation": "race=white",
                "numerator": 20,
                "denominator": 40,
            },
        ]
    }
    r = _put(client, world["h"]["reporter"], body)
    assert r.status_code == 200
    sub = r.json()["submission"]
    assert [w["code"] for w in sub["warnings"]] == ["sum_mismatch"]
    total = next(v for v in sub["values"] if v["disaggregation"] == "total")
    assert total["flags"] == ["sum_mismatch"]


def test_stale_if_match_answers_412_and_changes_nothing(client, world) -> None:
    first = _put(client, world["h"]["reporter"])
    etag = first.headers["ETag"]
    body = {"values": [{"indicator": "SERVED", "value": 121}]}
    assert _put(client, world["h"]["reporter"], body, **{"If-Match": etag}).status_code == 200
    stale = _put(
        client,
        world["h"]["reporter"],
        {"values": [{"indicator": "SERVED", "value": 999}]},
        **{"If-Match": etag},
    )
    assert stale.status_code == 412
    current = client.get(URL.format(period="2025Q3"), headers=world["h"]["reporter"]).json()
    assert next(v["value"] for v in current["values"] if v["indicator"] == "SERVED") == 121


def test_full_workflow_with_history(client, world, session) -> None:
    rep, bb = world["h"]["reporter"], world["h"]["backbone"]
    _put(client, rep)
    assert _post(client, rep, "approve").status_code == 403  # reporters don't approve
    r = _post(client, rep, "submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert r.json()["is_late"] is False
    refused = _put(client, rep)  # submitted: read-only until returned
    assert refused.status_code == 409 and refused.json()["code"] == "not_editable"
    submitted_at = session.scalar(select(Submission.submitted_at))
    assert refused.json()["detail"] == (
        f"this report was submitted on {day(submitted_at)}; it can no longer be edited unless "
        "the backbone team returns it"
    )

    assert _post(client, bb, "return").status_code == 422  # a comment is required
    r = _post(client, bb, "return", json={"comment": "SERVED looks low"})
    assert r.json()["status"] == "returned" and r.json()["comment"] == "SERVED looks low"

    r = _put(client, rep, {"values": [{"indicator": "SERVED", "value": 140}], "reason": "recount"})
    assert r.status_code == 200
    assert _post(client, rep, "submit").json()["status"] == "submitted"
    r = _post(client, bb, "approve")
    assert r.json()["status"] == "approved"
    refused = _put(client, rep)  # approved values are locked
    assert refused.status_code == 409 and refused.json()["code"] == "not_editable"
    approved_at = session.scalar(select(Submission.approved_at))
    assert refused.json()["detail"] == (
        f"this report was approved on {day(approved_at)}; it can no longer be edited unless "
        "the backbone team reopens it"
    )

    again = _post(client, bb, "approve")
    assert again.status_code == 409
    assert again.json()["status"] == "approved"

    r = _post(client, bb, "reopen", json={"comment": "correction from the district"})
    assert r.json()["status"] == "draft"

    served = next(v for v in r.json()["values"] if v["indicator"] == "SERVED")
    history = client.get(f"/api/v1/initiatives/c2c/values/{served['id']}/history", headers=rep)
    assert history.status_code == 200
    events = history.json()
    assert [e["action"] for e in events] == ["create", "update"]
    assert events[1]["before"]["value"] == 120 and events[1]["after"]["value"] == 140
    assert events[1]["reason"] == "recount"
    assert events[1]["actor"].startswith("user:")
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "submission")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "submit", "return", "submit", "approve", "reopen"]


def test_history_of_a_value_loaded_without_audit_is_its_creation(client, world, session) -> None:
    """Values loaded in bulk (the demo) have no audit rows; their history answered 404."""
    from models import Indicator, Member, Organisation, Period
    from models.tables.access import User

    east = session.scalar(select(Member).join(Organisation).where(Organisation.slug == "eastside"))
    sub = f.submission(session, east, session.scalar(select(Period).where(Period.key == "2025Q3")))
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    value = f.reported_value(session, sub, served, value=42, note="loaded")
    session.commit()
    url = f"/api/v1/initiatives/c2c/values/{value.id}/history"

    draft = client.get(url, headers=world["h"]["backbone"])
    assert draft.status_code == 200, draft.text
    assert draft.json() == [
        {
            "at": None,
            "actor": None,
            "action": "create",
            "before": None,
            "after": {
                "indicator": "SERVED",
                "disaggregation": "total",
                "value": 42,
                "numerator": None,
                "denominator": None,
                "note": "loaded",
            },
            "reason": None,
        }
    ]

    email = client.get("/api/v1/me", headers=world["h"]["reporter"]).json()["email"]
    sub.status = "submitted"
    sub.submitted_by_id = session.scalar(select(User.id).where(User.email == email))
    sub.submitted_at = datetime(2025, 10, 3, 9, 30, tzinfo=UTC)
    session.commit()
    [created] = client.get(url, headers=world["h"]["reporter"]).json()
    assert created["actor"] == f"user:{email}"
    assert created["at"].startswith("2025-10-03T09:30")
    assert created["after"]["value"] == 42

    # Not for other partners, nor under another initiative, nor for a value that is not there.
    assert client.get(url, headers=world["h"]["other"]).status_code == 404
    assert client.get(url, headers=world["h"]["outsider"]).status_code == 404
    other = url.replace("/c2c/", "/other/")
    assert client.get(other, headers=world["h"]["outsider"]).status_code == 404
    missing = url.replace(f"/{value.id}/", f"/{value.id + 1000}/")
    answer = client.get(missing, headers=world["h"]["backbone"])
    assert answer.status_code == 404 and answer.json()["detail"] == f"no value {value.id + 1000}"


def test_submitting_after_the_due_date_is_late(client, world, session) -> None:
    from models import Period

    period = session.scalar(select(Period).where(Period.key == "2025Q3"))
    period.due_on = date.today() - timedelta(days=1)
    session.commit()
    _put(client, world["h"]["reporter"])
    assert _post(client, world["h"]["reporter"], "submit").json()["is_late"] is True


def test_closed_and_locked_periods_refuse_writes(client, world, session) -> None:
    r = _put(client, world["h"]["reporter"], period="2025Q2")  # closed yesterday
    assert r.status_code == 409 and r.json()["code"] == "period_closed"
    assert _put(client, world["h"]["backbone"], period="2025Q2").status_code == 200  # backbone may
    from models import Period

    session.scalar(select(Period).where(Period.key == "2025Q2")).locked = True
    session.commit()
    r = _put(client, world["h"]["backbone"], period="2025Q2")
    assert r.status_code == 409 and r.json()["code"] == "period_locked"


def test_other_tenants_get_404(client, world) -> None:
    _put(client, world["h"]["reporter"])
    for who in ("other", "outsider", "funder"):
        r = client.get(URL.format(period="2025Q3"), headers=world["h"][who])
        assert r.status_code == 404, who
        assert _put(client, world["h"][who]).status_code == 404, who
    assert client.get(URL.format(period="2025Q3")).status_code == 401


def test_reporters_list_only_their_submissions(client, world) -> None:
    _put(client, world["h"]["reporter"])
    client.put(
        "/api/v1/initiatives/c2c/submissions/westside/2025Q3",
        json={"values": [{"indicator": "SERVED", "value": 3}]},
        headers=world["h"]["other"],
    )
    mine = client.get("/api/v1/initiatives/c2c/submissions", headers=world["h"]["reporter"]).json()
    assert [s["organisation"] for s in mine["items"]] == ["eastside"]
    everyone = client.get(
        "/api/v1/initiatives/c2c/submissions?period=2025Q3", headers=world["h"]["backbone"]
    )
    assert everyone.json()["total"] == 2
    assert (
        client.get(
            "/api/v1/initiatives/c2c/submissions?limit=0", headers=world["h"]["backbone"]
        ).status_code
        == 422
    )


def test_idempotency_key_replays_the_first_answer(client, world, session) -> None:
    key = {"Idempotency-Key": "put-1"}
    first = _put(client, world["h"]["reporter"], **key)
    second = _put(client, world["h"]["reporter"], **key)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "value")
        )
        == 5
    )
    different = _put(
        client, world["h"]["reporter"], {"values": [{"indicator": "SERVED", "value": 1}]}, **key
    )
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"


def test_removing_a_value_is_audited(client, world) -> None:
    _put(client, world["h"]["reporter"])
    r = _put(client, world["h"]["reporter"], {"values": [{"indicator": "SCORE", "remove": True}]})
    assert r.json()["removed"] == 1
    assert "SCORE" in r.json()["submission"]["missing"]
