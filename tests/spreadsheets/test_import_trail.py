"""An import's audit trail: one event per report it writes into, read back value by value.

Who changed a value, when, from what, to what and why stays answerable for every imported value
(the value history API, a report's changes since its previous version), while an import of
thousands of values records a handful of events.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import String, cast, func, select

from models import AuditEvent, Submission, Value
from models.audit.values import BATCH, COLUMNS, batch_changes
from models.spreadsheets.staging import Stage

from .trail import FIRST, SECOND, answers, csv_of, tell

IMPORTS = "/api/v1/initiatives/c2c/imports"


def _upload(client, headers, content: bytes, name: str):
    return client.post(IMPORTS, files={"file": (name, content, "text/csv")}, headers=headers)


def _events(session, **where) -> list[AuditEvent]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(session.scalars(query))


def _value_id(session, code: str, disaggregation: str = "total") -> int:
    from models import Indicator

    return session.scalar(
        select(Value.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Indicator.code == code, Value.disaggregation == disaggregation)
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _label(headers_by_role, client, role: str) -> str:
    return client.get("/api/v1/me", headers=headers_by_role[role]).json()["label"]


def test_the_history_api_answers_who_when_from_what_to_what_and_why_for_imported_values(
    client, world, session
) -> None:
    rep = world["reporter"]
    first = csv_of(*(r for r in _rows(FIRST) if r[0] == "eastside"))
    r = _upload(client, rep, first, "first.csv")
    assert r.status_code == 200, r.text
    served = _value_id(session, "SERVED")
    who = _label(world, client, "reporter")
    assert who.startswith("user:")

    (batch,) = _events(session, entity_type=BATCH)
    submission = session.scalar(select(Submission.id))
    assert (batch.entity_id, batch.action, batch.actor_label) == (submission, "import", who)
    assert batch.reason == "import of first.csv" and batch.before is None
    assert batch.after["columns"] == list(COLUMNS) and len(batch.after["rows"]) == 5
    assert not _events(session, entity_type="value")  # no event per value

    url = f"/api/v1/initiatives/c2c/values/{served}/history"
    created = {
        "indicator": "SERVED",
        "disaggregation": "total",
        "value": 120,
        "numerator": None,
        "denominator": None,
        "note": "first count",
    }
    history = client.get(url, headers=world["backbone"])
    assert history.status_code == 200, history.text
    assert history.json() == [
        {
            "at": history.json()[0]["at"],
            "actor": who,
            "action": "create",
            "before": None,
            "after": created,
            "reason": "import of first.csv",
        }
    ]
    assert _moment(history.json()[0]["at"]) == batch.at

    r = _upload(client, rep, SECOND, "second.csv")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 2, 1)
    latest = _events(session, entity_type=BATCH)[-1]
    assert len(latest.after["rows"]) == len(latest.before["rows"]) == 2  # the unchanged: none
    history = client.get(url, headers=rep)  # the partner reads its own values' history
    assert history.status_code == 200, history.text
    assert [(e["action"], e["reason"]) for e in history.json()] == [
        ("create", "import of first.csv"),
        ("update", "import of second.csv"),
    ]
    update = history.json()[1]
    assert update["actor"] == who
    assert update["before"] == created
    assert update["after"] == {**created, "value": 125, "note": "recounted"}
    assert _moment(update["at"]) == latest.at
    other = client.get(url, headers=world["other"])  # another partner's reporter
    assert other.status_code == 404

    # The trail lists the import as one event per report, with its rows.
    listed = client.get(
        "/api/v1/audit",
        params={"initiative": "c2c", "entity_type": BATCH},
        headers=world["backbone"],
    ).json()
    assert [e["action"] for e in listed["items"]] == ["import", "import"]
    assert listed["items"][0]["before"]["rows"] == latest.before["rows"]


def _rows(body: bytes) -> list[list[str | None]]:
    rows = list(csv.reader(io.StringIO(body.decode())))[1:]
    return [[cell or None for cell in row] for row in rows]


def test_a_rejected_or_failed_import_leaves_no_trail(client, world, session, monkeypatch) -> None:
    rep = world["reporter"]
    trail = len(_events(session))  # the world's users and grants
    rows = [r for r in _rows(FIRST) if r[0] == "eastside"]
    bad = [list(r) for r in rows]
    bad[3][4] = "-3"  # a negative count
    r = _upload(client, rep, csv_of(*bad), "bad.csv")
    assert r.status_code == 422, r.text
    assert len(_events(session)) == trail
    assert not session.scalar(select(func.count()).select_from(Value))

    # A failure after the merge's statements ran (here: right after them) undoes them all.
    write = Stage.write

    def write_then_fail(self, **kw):
        write(self, **kw)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Stage, "write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk is full"):
        _upload(client, rep, csv_of(*rows), "first.csv")
    assert len(_events(session)) == trail
    assert not session.scalar(select(func.count()).select_from(Value))
    monkeypatch.setattr(Stage, "write", write)
    r = _upload(client, rep, csv_of(*rows), "first.csv")
    assert r.status_code == 200, r.text
    assert [e.entity_type for e in _events(session)[trail:]] == ["submission", BATCH]


def test_every_answer_of_the_trail_about_a_story_of_imports_saves_and_reviews(session) -> None:
    actors = tell(session)
    told = answers(session, actors["backbone"])
    backbone, reporter = actors["backbone"].label, actors["reporter"].label
    by_value = told["histories"]
    (score,) = [v for v in by_value if by_value[v][-1].action == "delete"]
    served_values = [v for v in by_value if by_value[v][0].after["indicator"] == "SERVED"]
    (west,) = [v for v in served_values if by_value[v][0].after["value"] == 80]
    (served,) = [v for v in served_values if v != west]

    def story(value_id):
        return [
            (e.actor_label, e.action, _figure(e.before), _figure(e.after), e.reason)
            for e in by_value[value_id]
        ]

    assert story(served) == [
        (backbone, "create", None, (120, "first count"), "import of first.csv"),
        (reporter, "update", (120, "first count"), (125, "recounted"), "import of second.csv"),
        (reporter, "update", (125, "recounted"), (126, "recounted"), "a typo"),
    ]
    assert story(score) == [
        (backbone, "create", None, (231.5, None), "import of first.csv"),
        (reporter, "update", (231.5, None), (231.5, "moved up"), "import of second.csv"),
        (reporter, "delete", (231.5, "moved up"), None, "a typo"),
    ]
    assert story(west) == [
        (backbone, "create", None, (80, None), "import of first.csv"),
        (backbone, "update", (80, None), (81, None), "import of third.csv"),
    ]
    times = [e.at for e in by_value[served]]
    assert times == sorted(times) and len(set(times)) == 3

    since = told["changes"]["eastside"]
    assert since.sent_back is not None and since.sent_back.comment == "check SERVED"
    assert [(c.indicator, c.kind) for c in since.changes] == [
        ("SCORE", "removed"),
        ("SERVED", "changed"),
    ]
    assert since.changes[1].before["value"] == 120 and since.changes[1].after["value"] == 126

    # Four imports' reports, four events; no import wrote an event per value.
    batches = _events(session, entity_type=BATCH)
    assert [(e.reason, len(list(batch_changes(e)))) for e in batches] == [
        ("import of first.csv", 5),
        ("import of first.csv", 1),
        ("import of second.csv", 2),
        ("import of third.csv", 1),
    ]
    singles = _events(session, entity_type="value")
    assert [(e.action, e.reason) for e in singles] == [("update", "a typo"), ("delete", "a typo")]


def _figure(fields):
    return None if fields is None else (fields["value"], fields["note"])


def test_an_import_event_holds_the_json_the_database_writes(client, world, session) -> None:
    """On SQLite an import event's JSON is put together from its rows' texts
    (``models.spreadsheets.staging._table``), not built by ``json_object``: it must be the
    database's own minified JSON byte for byte, with notes that need escaping, for new and for
    replaced values. On PostgreSQL (``jsonb``) the same events read back as the same rows."""
    rep = world["reporter"]
    note = 'said "twice" \\ é\nnext line\ttab'
    first = csv_of(
        ("eastside", "2025Q3", "SERVED", "total", 120, None, None, note),
        ("eastside", "2025Q3", "SCORE", "total", 231.25, None, 88, None),
    )
    second = csv_of(
        ("eastside", "2025Q3", "SERVED", "total", 125, None, None, note + " (recounted)"),
        ("eastside", "2025Q3", "SCORE", "total", 231.25, None, 88, None),
    )
    for body, name in ((first, "first.csv"), (second, "second.csv")):
        r = _upload(client, rep, body, name)
        assert r.status_code == 200, r.text
    created, updated = _events(session, entity_type=BATCH)
    assert [row[2:] for row in created.after["rows"]] == [
        ["total", 120.0, None, None, note],
        ["total", 231.25, None, 88.0, None],
    ]
    assert created.before is None
    assert [row[2:] for row in updated.before["rows"]] == [["total", 120.0, None, None, note]]
    assert [row[3:] for row in updated.after["rows"]] == [
        [125.0, None, None, note + " (recounted)"]
    ]
    if session.get_bind().dialect.name == "sqlite":
        stored = session.execute(
            select(cast(AuditEvent.before, String), cast(AuditEvent.after, String))
            .where(AuditEvent.entity_type == BATCH)
            .order_by(AuditEvent.id)
        ).all()
        texts = [t for pair in stored for t in pair if t is not None]
        assert len(texts) == 3
        for t in texts:
            assert session.scalar(select(func.json(t))) == t
