"""What ``models.analytics.setup_rows`` keeps across requests: bounded by what the figure views
read of an indicator. Its definition and data source are free text the backbone team writes (no
length but the request's), read by no figure view: every setup revision would keep them again
until the kept values fill (``models.analytics.kept``), holding a process's memory."""

from __future__ import annotations

from dataclasses import astuple

from models.analytics.fresh import answer_key
from models.analytics.kept import KEPT
from models.analytics.setup_rows import indicators_with_outcomes
from models.analytics.views import read_version_first, scorecard, series
from models.core.actors import Actor

from .. import factories as f

LONG = 1_000_000


def test_the_kept_rows_hold_no_free_text_the_views_do_not_read(session) -> None:
    init = f.initiative(session, slug="long")
    f.period(session, init, "2025Q3")
    for n in range(3):
        f.indicator(session, init, code=f"K{n}", definition="d" * LONG, data_source="s" * LONG)
    session.commit()
    KEPT.clear()
    listed = indicators_with_outcomes(session, init.id)
    assert [i.code for i, _ in listed] == ["K0", "K1", "K2"]
    assert listed is indicators_with_outcomes(session, init.id)  # kept
    held = max(len(v) for i, _ in listed for v in astuple(i) if isinstance(v, str))
    assert held < 1000, held


def _longest(value: object) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, tuple | list):
        return max((_longest(v) for v in value), default=0)
    return 0


def test_the_answer_key_holds_no_free_text_the_views_do_not_read(session) -> None:
    """The answer key names every figure answer kept (``api.routers.analytics._kept``: up to
    the response cache's entries, each key read by its own request): the initiative's
    description, free text no figure view shows, would be held once per entry."""
    init = f.initiative(session, slug="described", description="d" * LONG)
    f.period(session, init, "2025Q3")
    session.commit()
    alone = answer_key(session, "described")
    session.commit()
    read_version_first(session=session, initiative_slug="described")
    first = answer_key(session, "described")  # PostgreSQL: from the first statement
    assert alone == first and alone is not None
    assert alone[2][1] == "described"
    assert _longest(alone) < 1000 and _longest(first) < 1000


def test_a_sessions_own_pending_change_shows_in_its_views_and_is_kept_for_no_one(
    session,
) -> None:
    """The ORM query the kept rows replace flushed the session's pending changes first
    (autoflush): a view computed in a transaction that changed an indicator shows the change,
    and what that transaction read is kept for no other (``models.analytics.kept``)."""
    init = f.initiative(session, slug="pending")
    f.period(session, init, "2025Q3")
    kids = f.indicator(session, init, code="K", name="Before")
    session.commit()
    actor = Actor(user_id=1, label="b", backbone_of=frozenset({init.id}))
    common = {"session": session, "actor": actor, "initiative_slug": "pending"}
    assert series(**common, indicator_code="K").name == "Before"  # kept
    kids.name = "After"  # not flushed yet
    assert series(**common, indicator_code="K").name == "After"
    assert scorecard(**common).rows[0].name == "After"
    session.rollback()
    assert series(**common, indicator_code="K").name == "Before"
