"""What the scorecard and series keep of an initiative's setup under its setup revision
(``models.analytics.kept``): a change made by another engine through raw SQL shows in the
next answer, and nothing a writing transaction reads is kept for anyone else."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.analytics.views import scorecard, series
from models.core.actors import Actor

from .test_revisions import _world, two_engines  # noqa: F401 (a fixture)


def _kids(session: Session, actor: Actor):
    card = scorecard(session=session, actor=actor, initiative_slug="mine", period_key="2025Q3")
    return next(row for row in card.rows if row.code == "KIDS")


def test_a_setup_change_by_another_engine_shows_in_the_next_answer(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        kids = _kids(s, actor)
        assert (kids.target, kids.target_kind, kids.series_break, kids.expected) == (
            10,
            "interim",
            True,
            1,
        )
        assert kids.contributes_to == []
        assert series(session=s, actor=actor, initiative_slug="mine", indicator_code="KIDS").breaks
    with Session(reader) as s:  # asked again: the same (kept)
        assert _kids(s, actor).target == 10
    with writer.begin() as conn:
        conn.execute(text("UPDATE indicator_targets SET value = 12"))
        conn.execute(text("DELETE FROM series_breaks"))
        conn.execute(text("UPDATE members SET active = false WHERE initiative_id = :mine"), ids)
    with Session(reader) as s:
        kids = _kids(s, actor)
        assert (kids.target, kids.series_break, kids.expected) == (12, False, 0)
        got = series(session=s, actor=actor, initiative_slug="mine", indicator_code="KIDS")
        assert got.breaks == []
        rate = series(
            session=s, actor=actor, initiative_slug="mine", indicator_code="RATE", by="race"
        )
        assert rate.by == "race"


def test_what_a_writing_transaction_reads_is_never_kept(two_engines) -> None:  # noqa: F811
    writer, reader = two_engines
    with Session(writer) as s:
        ids = _world(s)
        s.commit()
    actor = Actor(label="t", backbone_of=frozenset({ids["mine"]}))
    with Session(reader) as s:
        s.execute(text("UPDATE indicator_targets SET value = 99"))
        assert _kids(s, actor).target == 99  # its own write, not kept
        s.rollback()
    with Session(reader) as s:
        assert _kids(s, actor).target == 10
    with writer.begin() as conn:
        conn.execute(text("UPDATE indicator_targets SET value = 11"))
    with Session(reader) as s:
        s.execute(text("UPDATE indicator_targets SET value = 98"))
        s.rollback()
    with Session(reader) as s:
        assert _kids(s, actor).target == 11
