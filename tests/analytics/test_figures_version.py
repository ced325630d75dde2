"""The figure views' data version: partners' work in progress does not move it, and every write
that changes a figure does (README: Scaling)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from models.analytics.views import data_version, equity, scorecard, series
from models.audit.trail import record
from models.core import dates
from models.core.actors import SYSTEM, Actor
from models.initiatives.gap_targets import remove_gap_target, set_gap_target
from models.initiatives.indicators import update_indicator
from models.reporting.deadlines import grant_extension
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.spreadsheets.imports import import_file
from models.stories.stories import write_story

from .test_analytics import (
    _login,
    _publish,
    _report,
)


def _answers(session, world, actors) -> dict:
    """Every figure view each actor can read, computed afresh (no cache is involved)."""
    out = {}
    for name, actor in actors.items():
        out[name, "scorecard"] = scorecard(
            session=session, actor=actor, initiative_slug="math", period_key="2025Q3"
        )
        for by in (None, "race", "partner"):
            out[name, "series", by] = series(
                session=session, actor=actor, initiative_slug="math", indicator_code="RATE", by=by
            )
        out[name, "equity"] = equity(
            session=session,
            actor=actor,
            initiative_slug="math",
            indicator_code="RATE",
            dimension="race",
        )
    return {k: repr(v) for k, v in out.items()}


def _stamp(session) -> str:
    return data_version(
        session=session, actor=SYSTEM, initiative_slug="math", figures_only=True
    ).stamp


def _move(session, org: str, action: str, **kw) -> None:
    transition(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug=org,
        period_key="2025Q3",
        action=action,
        **kw,
    )


def _extend(session, org: str) -> None:
    """The world's quarters are closed: a returned report is corrected under an extension."""
    grant_extension(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug=org,
        period_key="2025Q3",
        until=dates.today() + timedelta(days=7),
        reason="recount",
    )


def _import(session, org: str) -> None:
    """A draft written by import (one audit event for the report, not one per value)."""
    report = import_file(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        stream=io.BytesIO(
            f"organisation,period,indicator,value\r\n{org},2025Q3,KIDS,9\r\n".encode()
        ),
        filename="kids.csv",
        content_type="text/csv",
    )
    assert report.ok and report.written, report.as_dict()


def _story(session) -> None:
    """No figure view shows a story: the public reads it as a publication carries it."""
    write_story(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        indicator_code="RATE",
        period_key="2025Q3",
        text="Rates rose where the **tutoring** partners worked.",
    )


def _save(session, org: str, inputs) -> None:
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug="math",
        org_slug=org,
        period_key="2025Q3",
        inputs=inputs,
    )


@pytest.mark.usefixtures("few_partners_allowed")
def test_every_write_that_changes_a_figure_moves_the_figure_version(session, world) -> None:
    """A season of writes, each followed by every figure view for backbone, funder and a
    partner: whenever an answer changed, the figures' version changed with it; the partners'
    own steps (drafts, submitting, a return) leave both alone."""
    one = next(m for m in world.members if m.organisation.slug == "one")
    actors = {
        "backbone": Actor(label="backbone", backbone_of=frozenset({world.id})),
        "funder": Actor(label="funder", funder_of=frozenset({world.id})),
        "partner": Actor(
            label="partner",
            reporter_in=frozenset({(world.id, one.organisation_id)}),
        ),
    }
    rate = [ValueInput("RATE", numerator=12, denominator=30)]
    race = [
        ValueInput("RATE", numerator=5, denominator=14, disaggregation="race=a"),
        ValueInput("RATE", numerator=7, denominator=16, disaggregation="race=b"),
    ]
    steps = [
        ("partner one saves a draft", False, lambda: _save(session, "one", rate)),
        ("partner one adds a breakdown", False, lambda: _save(session, "one", race)),
        ("partner one submits", False, lambda: _move(session, "one", "submit")),
        ("backbone extends partner one's deadline", False, lambda: _extend(session, "one")),
        ("backbone returns it", False, lambda: _move(session, "one", "return", comment="why?")),
        (
            "partner one corrects",
            False,
            lambda: _save(session, "one", [rate[0]._replace(numerator=13)]),
        ),
        ("partner one resubmits", False, lambda: _move(session, "one", "submit")),
        ("backbone approves", True, lambda: _move(session, "one", "approve")),
        (
            "partner two reports",
            True,
            lambda: _report(
                session, "two", "2025Q3", [ValueInput("RATE", numerator=20, denominator=25)]
            ),
        ),
        ("partner three drafts", False, lambda: _save(session, "three", rate)),
        ("partner three imports a file", False, lambda: _import(session, "three")),
        ("backbone writes the story behind the curve", False, lambda: _story(session)),
        ("the quarter is published", True, lambda: _publish(session)),
        (
            "backbone reopens partner one",
            True,
            lambda: _move(session, "one", "reopen", comment="recount"),
        ),
        (
            "partner one corrects again",
            False,
            lambda: _save(session, "one", [rate[0]._replace(numerator=11)]),
        ),
        ("partner one submits again", False, lambda: _move(session, "one", "submit")),
        ("backbone approves again", True, lambda: _move(session, "one", "approve")),
        (
            "backbone changes a target",
            True,
            lambda: update_indicator(
                session=session,
                actor=SYSTEM,
                initiative="math",
                code="RATE",
                changes={"target": {"value": 70, "period": "2025Q3"}},
            ),
        ),
        (
            "backbone sets a gap target",
            True,
            lambda: set_gap_target(
                session=session,
                actor=SYSTEM,
                initiative="math",
                code="RATE",
                dimension="race",
                baseline={"value": 20, "period": "2025Q1"},
                target={"value": 5, "period": "2025Q3"},
            ),
        ),
        (
            "backbone removes it",
            True,
            lambda: remove_gap_target(
                session=session, actor=SYSTEM, initiative="math", code="RATE", dimension="race"
            ),
        ),
    ]
    session.commit()
    before, stamp = _answers(session, world, actors), _stamp(session)
    for what, moves, step in steps:
        step()
        session.commit()
        after, new_stamp = _answers(session, world, actors), _stamp(session)
        if after != before:
            assert new_stamp != stamp, f"{what}: a figure changed, its version did not"
        assert (new_stamp != stamp) == moves, what
        before, stamp = after, new_stamp


def test_a_draft_saved_keeps_the_figure_views_cached_and_refreshes_completeness(
    client, session, world
) -> None:
    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "figures@example.org")
    paths = {
        "scorecard": "/api/v1/initiatives/math/scorecard?period=2025Q3",
        "series": "/api/v1/initiatives/math/indicators/KIDS/series",
        "equity": "/api/v1/initiatives/math/indicators/RATE/equity?dimension=race",
        "completeness": "/api/v1/initiatives/math/completeness?period=2025Q3",
    }
    etags = {
        name: client.get(path, headers=headers).headers["ETag"] for name, path in paths.items()
    }
    _save(session, "two", [ValueInput("KIDS", value=50)])  # a draft: no approved figure moves
    session.commit()
    for name, path in paths.items():
        again = client.get(path, headers={**headers, "If-None-Match": etags[name]})
        if name == "completeness":
            assert again.status_code == 200, name  # it shows the draft
            cells = {(c["organisation"], c["indicator"]): c["state"] for c in again.json()["cells"]}
            assert cells["two", "KIDS"] == "draft"
        else:
            assert again.status_code == 304, name
    _move(session, "two", "submit")
    _move(session, "two", "approve")
    session.commit()
    fresh = client.get(paths["scorecard"], headers={**headers, "If-None-Match": etags["scorecard"]})
    assert fresh.status_code == 200
    assert next(r for r in fresh.json()["rows"] if r["code"] == "KIDS")["current"]["value"] == 150


def test_access_changes_move_no_answer_and_the_index_matches_its_migration(
    client, session, world
) -> None:
    """A new user with a grant in the initiative (access events, in the initiative and
    deployment-wide), a message sent and a webhook endpoint changed change no answer's data:
    the cached answers stay, validators too."""
    import importlib

    from models.tables.audit import MOVES_FIGURES

    _report(session, "one", "2025Q3", [ValueInput("KIDS", value=100)])
    headers = _login(client, session, world, "backbone", "access@example.org")
    paths = (
        "/api/v1/initiatives/math/scorecard?period=2025Q3",
        "/api/v1/initiatives/math/completeness?period=2025Q3",
    )
    etags = [client.get(path, headers=headers).headers["ETag"] for path in paths]
    _login(client, session, world, "funder", "another@example.org")  # a user, a grant, a login
    record(  # a message sent, as the delivery worker records it
        session=session,
        actor=SYSTEM,
        initiative_id=world.id,
        entity_type="notification",
        entity_id=1,
        action="sent",
    )
    record(  # a webhook endpoint registered, as models/webhooks records it
        session=session,
        actor=SYSTEM,
        initiative_id=world.id,
        entity_type="webhook",
        entity_id=1,
        action="create",
    )
    session.commit()
    for path, etag in zip(paths, etags, strict=True):
        again = client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304, path
    # The newest revision that set the index's filter (0010, 0014 for webhooks, 0015 for
    # stories, 0017 for strategies) keeps its predicate.
    migration = importlib.import_module("migrations.versions.20261130_0018_strategies")
    assert migration.MOVES_FIGURES == MOVES_FIGURES  # else a new revision must change the index
