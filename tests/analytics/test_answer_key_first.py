"""The figure views' answer key read in their first statement
(``models.analytics.views.read_version_first`` with ``models.analytics.fresh.first_columns``):
the key :func:`answer_key` reads on its own, taken only by the same transaction for the same
initiative, never by one that has written (README, "Scaling"). PostgreSQL reads it there;
SQLite's first statement leaves it out, and the same tests hold of answer_key alone."""

from __future__ import annotations

from sqlalchemy import event, insert, update

from models.analytics.fresh import answer_key
from models.analytics.views import read_version_first
from models.tables.initiative import Initiative
from models.tables.revisions import FigureRevision

from .. import factories as f


def _statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _world(session) -> dict[str, int]:
    mine = f.initiative(session, slug="mine")
    f.initiative(session, slug="bare")  # no period, no figure revision
    periods = [f.period(session, mine, k) for k in ("2025Q1", "2025Q2", "2025Q3")]
    session.commit()
    session.execute(
        insert(FigureRevision),
        [
            {"initiative_id": mine.id, "period_id": p.id, "revision": r}
            for p, r in zip(periods, (3, 12, 1), strict=True)
        ],
    )
    session.commit()
    return {"mine": mine.id, "period": periods[1].id}


def test_the_first_statement_reads_the_key_answer_key_reads(session) -> None:
    _world(session)
    for slug in ("mine", "bare"):
        alone = answer_key(session, slug)
        session.commit()
        read_version_first(session=session, initiative_slug=slug)
        seen = _statements(session)
        first = answer_key(session, slug)
        # Taken from the first statement on PostgreSQL (SQLite has no round trip to save:
        # the first statement leaves it out, and answer_key reads it as before).
        assert len(seen) == (0 if session.get_bind().dialect.name == "postgresql" else 1)
        assert first == alone and first is not None
        session.commit()
    assert dict(alone[1]) == {} and alone[2][1] == "bare"  # type: ignore[index]


def test_the_key_is_taken_by_the_same_transaction_and_initiative_only(session) -> None:
    ids = _world(session)
    read_version_first(session=session, initiative_slug="mine")
    seen = _statements(session)
    other = answer_key(session, "bare")  # another initiative: its own statement
    assert len(seen) == 1 and other is not None and other[2][1] == "bare"
    session.commit()
    # A later transaction after a change does not take the earlier transaction's row.
    session.execute(
        update(FigureRevision)
        .where(FigureRevision.period_id == ids["period"])
        .values(revision=FigureRevision.revision + 1)
    )
    session.execute(update(Initiative).where(Initiative.id == ids["mine"]).values(name="Renamed"))
    session.commit()
    key = answer_key(session, "mine")
    assert key is not None and dict(key[1])[ids["period"]] == 13 and "Renamed" in key[2]


def test_a_transaction_that_wrote_takes_no_key(session) -> None:
    ids = _world(session)
    read_version_first(session=session, initiative_slug="mine")
    session.execute(
        update(FigureRevision)
        .where(FigureRevision.period_id == ids["period"])
        .values(revision=FigureRevision.revision + 1)
    )
    assert answer_key(session, "mine") is None
