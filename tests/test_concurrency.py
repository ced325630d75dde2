"""Two writers with the same version: exactly one wins, the other gets 412, nothing is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Submission, Value
from models.errors import PreconditionFailed
from models.permissions import SYSTEM
from models.submissions import save_values
from models.validation import ValueInput

from . import factories as f
from .conftest import BACKENDS

pytestmark = pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)


def _save(session: Session, value: int, expected: int | None):
    return save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="race",
        org_slug="racer",
        period_key="2030Q1",
        inputs=[ValueInput("N", value=value)],
        expected_version=expected,
    )


def test_two_writers_with_the_same_version(fresh_database) -> None:
    fresh_database.migrate()
    engine = fresh_database.engine
    with Session(engine) as s:
        init = f.initiative(s, slug="race")
        mem = f.member(s, init, f.organisation(s, slug="racer"))
        f.obligation(s, mem, f.indicator(s, init, "count", code="N"))
        f.period(s, init, "2030Q1")
        version = _save(s, 1, None).submission.version
        s.commit()

    # Hold both writers at their version UPDATE until both have read the same version.
    barrier = threading.Barrier(2, timeout=10)

    @event.listens_for(engine, "before_cursor_execute")
    def _meet(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SUBMISSIONS SET VERSION"):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    outcomes: dict[int, str] = {}

    def writer(value: int) -> None:
        with Session(engine) as s:
            try:
                _save(s, value, version)
                s.commit()
                outcomes[value] = "won"
            except PreconditionFailed:
                s.rollback()
                outcomes[value] = "412"

    threads = [threading.Thread(target=writer, args=(v,)) for v in (100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    event.remove(engine, "before_cursor_execute", _meet)

    assert sorted(outcomes.values()) == ["412", "won"], outcomes
    winner = next(v for v, o in outcomes.items() if o == "won")
    with Session(engine) as s:
        assert s.scalar(select(Value.value)) == winner
        assert s.scalar(select(Submission.version)) == version + 1
