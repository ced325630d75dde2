"""The figure views' data version read before who is asks, in one statement with the access
revision (``models.analytics.views.read_version_first``; on PostgreSQL with its counts of
recent events): the same version :func:`data_version` reads on its own, for that initiative
only, taken only by the same transaction (README, "Scaling")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from models.analytics import views
from models.analytics.views import data_version, read_version_first
from models.core.actors import SYSTEM
from models.tables.audit import AuditEvent
from models.tables.base import utcnow

from .. import factories as f


@pytest.fixture
def two(session) -> dict[str, int]:
    """Initiatives ``mine`` and ``other``, with events of both scopes in and out of the window
    of recent events: some that move figures, some partners' drafts that do not."""
    ids = {slug: f.initiative(session, slug=slug).id for slug in ("mine", "other")}
    session.commit()
    now = utcnow()
    rows = [
        (ids["mine"], "indicator", now - timedelta(minutes=10)),  # before the window
        *((ids["mine"], "indicator", now - timedelta(seconds=s)) for s in (90, 30, 20, 5)),
        *((ids["mine"], "value", now - timedelta(seconds=s)) for s in (40, 3)),  # drafts
        (ids["other"], "indicator", now - timedelta(seconds=1)),
        *((None, "organisation", now - timedelta(seconds=s)) for s in (50, 10)),
    ]
    session.execute(
        insert(AuditEvent),
        [
            {
                "initiative_id": i,
                "entity_type": kind,
                "action": "update",
                "at": at,
                "actor_label": "t",
            }
            for i, kind, at in rows
        ],
    )
    session.commit()
    return ids


def _statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@pytest.mark.parametrize("figures_only", [True, False])
def test_read_first_is_the_version_data_version_reads(session, two, figures_only) -> None:
    alone = data_version(
        session=session, actor=SYSTEM, initiative_slug="mine", figures_only=figures_only
    )
    assert not alone.quiet and (alone.initiative.behind, alone.deployment.behind) == (
        (4, 2) if figures_only else (6, 2)
    )
    read_version_first(session=session, initiative_slug="mine", figures_only=figures_only)
    seen = _statements(session)
    first = data_version(
        session=session, actor=SYSTEM, initiative_slug="mine", figures_only=figures_only
    )
    assert first == alone
    # PostgreSQL counted in the first statement; SQLite counts after, as data_version does.
    assert len(seen) == (0 if session.get_bind().dialect.name == "postgresql" else 1)


def test_a_late_commit_behind_the_newest_event_moves_the_version(session, two) -> None:
    read_version_first(session=session, initiative_slug="mine")
    before = data_version(session=session, actor=SYSTEM, initiative_slug="mine", figures_only=True)
    session.execute(
        insert(AuditEvent).values(
            initiative_id=two["mine"],
            entity_type="indicator",
            actor_label="t",
            action="update",
            at=before.initiative.newest - timedelta(seconds=60),
        )
    )
    session.commit()
    read_version_first(session=session, initiative_slug="mine")
    after = data_version(session=session, actor=SYSTEM, initiative_slug="mine", figures_only=True)
    assert after.initiative.newest == before.initiative.newest
    assert after.initiative.behind == before.initiative.behind + 1
    assert after.stamp != before.stamp


def test_a_quiet_scope_counts_nothing(session, two, monkeypatch) -> None:
    monkeypatch.setattr(views, "RECENT_SECONDS", 0)  # as if minutes had passed
    read_version_first(session=session, initiative_slug="mine")
    version = data_version(session=session, actor=SYSTEM, initiative_slug="mine", figures_only=True)
    assert version.quiet and (version.initiative.behind, version.deployment.behind) == (0, 0)


def test_what_was_read_for_one_initiative_is_never_taken_for_another(session, two) -> None:
    alone = data_version(session=session, actor=SYSTEM, initiative_slug="other", figures_only=True)
    read_version_first(session=session, initiative_slug="mine")
    other = data_version(session=session, actor=SYSTEM, initiative_slug="other", figures_only=True)
    assert other == alone and other.initiative_id == two["other"]


def test_what_was_read_in_another_transaction_is_not_taken(session, two) -> None:
    read_version_first(session=session, initiative_slug="mine")
    stale = data_version(session=session, actor=SYSTEM, initiative_slug="mine", figures_only=True)
    read_version_first(session=session, initiative_slug="mine")
    session.commit()  # a new transaction: what was read before it describes an older snapshot
    session.execute(
        insert(AuditEvent).values(
            initiative_id=two["mine"],
            entity_type="indicator",
            actor_label="t",
            action="update",
            at=utcnow(),
        )
    )
    session.commit()
    seen = _statements(session)
    fresh = data_version(session=session, actor=SYSTEM, initiative_slug="mine", figures_only=True)
    assert seen and fresh.stamp != stale.stamp
