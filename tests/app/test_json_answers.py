"""A report's answer is dumped by its model alone (api/idempotency.py ``as_json``): the same
data, and so the same bytes, as FastAPI's ``jsonable_encoder`` gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.idempotency import as_json
from api.schemas.reporting import SaveRead, SubmissionRead


def _report(**changes) -> SubmissionRead:
    fields = {
        "initiative": "north",
        "organisation": "café-ñandú",
        "period": "2026Q1",
        "status": "submitted",
        "version": 4,
        "is_late": True,
        "comment": "«revisar» — 100 %",
        "submitted_at": datetime(2026, 4, 2, 9, 30, 0, 123456, tzinfo=UTC),
        "first_submitted_at": datetime(2026, 4, 1, tzinfo=timezone(timedelta(hours=-5))),
        "approved_at": None,
        "updated_at": datetime(2026, 4, 2, 9, 30),
        "values": [
            {
                "id": 7,
                "indicator": "READY",
                "disaggregation": "gender=female",
                "value": 0.1 + 0.2,
                "numerator": 1e16,
                "denominator": 3,
                "note": None,
                "flags": ["sum_mismatch", "outlier"],
            }
        ],
        "warnings": [
            {
                "indicator": "READY",
                "disaggregation": "total",
                "code": "outlier",
                "message": "far from history",
            }
        ],
        "missing": ["SERVED"],
    }
    return SubmissionRead.model_validate(fields | changes)


def test_a_report_dumps_as_jsonable_encoder_encodes_it() -> None:
    for report in (_report(), _report(values=[], warnings=[], submitted_at=None)):
        assert as_json(report) == jsonable_encoder(report)
        assert JSONResponse(as_json(report)).body == JSONResponse(jsonable_encoder(report)).body
    saved = SaveRead(submission=_report(), created=1, updated=2, unchanged=0, removed=0)
    assert JSONResponse(as_json(saved)).body == JSONResponse(jsonable_encoder(saved)).body


def test_what_is_not_a_model_is_encoded_as_before() -> None:
    body = {"at": datetime(2026, 1, 1, tzinfo=UTC), "ids": (1, 2)}
    assert (
        as_json(body)
        == jsonable_encoder(body)
        == {
            "at": "2026-01-01T00:00:00+00:00",
            "ids": [1, 2],
        }
    )
