"""The preview of a publication: exactly what publishing would freeze, for the backbone only;
publishing refuses a preview that no longer holds; each vintage with the figures it revised."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Publication
from models.access.permissions import actor_for_user
from models.core.actors import ANONYMOUS
from models.core.errors import Conflict, NotFound, PermissionDenied
from models.publishing.publish import preview, publication_history, publish
from models.reporting.submissions import transition
from models.reporting.validation import ValueInput

from .. import factories as f

KIDS = [
    ValueInput("KIDS", value=60),
    ValueInput("KIDS", "sex=f", value=30),
    ValueInput("KIDS", "sex=m", value=23),
    ValueInput("KIDS", "sex=x", value=7),
]


@pytest.fixture
def world(session):
    init = f.initiative(session, slug="pub", name="Published City")
    sex = f.dimension(session, init, "sex", ["f", "m", "x"])
    out = f.outcome(session, init, code="READY", name="Ready for school")
    kids = f.indicator(
        session, init, "count", code="KIDS", name="Children served", outcome_id=out.id
    )
    kids.dimensions = [sex]
    orgs = {}
    for slug in ("p1", "p2"):
        orgs[slug] = f.organisation(session, slug=slug, name=slug.upper())
        f.obligation(session, f.member(session, init, orgs[slug]), kids)
    f.period(session, init, "2025Q3")
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "reporter": f.user(session, "reporter", org=orgs["p1"]),
        "outsider": f.user(session, "backbone", init=f.initiative(session, slug="elsewhere")),
    }
    session.flush()
    return {role: actor_for_user(session=session, user=u) for role, u in users.items()}


def _approve(session, actor, org, inputs):
    f.approved_report(session, "pub", org, "2025Q3", inputs, actor)


def _preview(session, actor):
    return preview(session=session, actor=actor, initiative_slug="pub", period_key="2025Q3")


def _publish(session, actor, **kw):
    return publish(session=session, actor=actor, initiative_slug="pub", period_key="2025Q3", **kw)


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_preview_is_what_publishing_freezes(session, world) -> None:
    bb = world["backbone"]
    _approve(session, bb, "p1", KIDS)
    seen = _preview(session, bb)
    # What the 409 lists, the preview lists.
    with pytest.raises(Conflict) as refused:
        _publish(session, bb)
    assert refused.value.code == "incomplete_period"
    assert refused.value.extra["reports"] == [
        {"organisation": r.organisation, "status": r.status} for r in seen.pending
    ]
    assert refused.value.extra["indicators"] == seen.incomplete
    assert [(r.name, r.status) for r in seen.pending] == [("P2", "missing")]
    assert seen.incomplete == [{"indicator": "KIDS", "reported": 1, "expected": 2}]
    assert seen.needs_confirmation and not seen.nothing_to_publish
    # The small category is hidden with its marker, and so is its complement.
    [kids] = seen.figures["indicators"]
    cells = {c["key"]: c for c in kids["breakdowns"][0]["categories"]}
    assert cells["sex=x"]["value"] is None and cells["sex=x"]["marker"] == "<10"
    assert sum(c["value"] is None for c in cells.values()) >= 2

    _publish(session, bb, confirm_incomplete=True, previewed=seen.fingerprint)
    frozen = session.scalars(select(Publication)).one().snapshot
    assert frozen["indicators"] == seen.figures["indicators"]
    assert frozen["legend"] == seen.figures["legend"]
    assert frozen["coverage"] == seen.coverage
    assert "makers" not in seen.figures  # who made each figure is never served


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("funder", PermissionDenied),
        ("reporter", PermissionDenied),
        ("outsider", NotFound),
        (None, NotFound),
    ],
)
def test_only_the_backbone_previews_and_reads_the_vintages(session, world, role, error) -> None:
    _approve(session, world["backbone"], "p1", KIDS)
    actor = world[role] if role else ANONYMOUS
    with pytest.raises(error):
        _preview(session, actor)
    with pytest.raises(error):
        publication_history(
            session=session, actor=actor, initiative_slug="pub", period_key="2025Q3"
        )


def test_an_unknown_period_and_an_empty_one(session, world) -> None:
    with pytest.raises(NotFound):
        preview(
            session=session, actor=world["backbone"], initiative_slug="pub", period_key="1999Q1"
        )
    empty = _preview(session, world["backbone"])
    assert empty.nothing_to_publish and empty.vintages == 0 and empty.changes == []
    assert [r.status for r in empty.reports] == ["missing", "missing"]


@pytest.mark.usefixtures("few_partners_allowed")
def test_publishing_refuses_a_preview_the_figures_have_moved_on_from(session, world) -> None:
    bb = world["backbone"]
    _approve(session, bb, "p1", [ValueInput("KIDS", value=120)])
    before = _preview(session, bb)
    _approve(session, bb, "p2", [ValueInput("KIDS", value=80)])  # approved meanwhile
    with pytest.raises(Conflict) as refused:
        _publish(session, bb, previewed=before.fingerprint)
    assert refused.value.code == "preview_outdated"
    assert session.scalar(select(func.count()).select_from(Publication)) == 0
    now = _preview(session, bb)
    assert now.fingerprint != before.fingerprint and not now.needs_confirmation
    _publish(session, bb, previewed=now.fingerprint)
    assert session.scalar(select(func.count()).select_from(Publication)) == 1


@pytest.mark.usefixtures("few_partners_allowed")
def test_each_vintage_says_what_it_revised_and_who_published_it(session, world) -> None:
    bb = world["backbone"]
    _approve(session, bb, "p1", [ValueInput("KIDS", value=120)])
    _approve(session, bb, "p2", [ValueInput("KIDS", value=80)])
    _publish(session, bb, note="first")
    assert _preview(session, bb).changes == []  # nothing moved since
    transition(
        session=session,
        actor=bb,
        initiative_slug="pub",
        org_slug="p2",
        period_key="2025Q3",
        action="reopen",
        comment="late correction",
    )
    _approve(session, bb, "p2", [ValueInput("KIDS", value=100)])
    seen = _preview(session, bb)
    assert seen.vintages == 1
    [change] = seen.changes
    assert (change.key, change.indicator_name, change.group) == (
        "KIDS total",
        "Children served",
        "All",
    )
    assert (change.before["value"], change.after["value"]) == (200, 220)
    _publish(session, bb, note="corrected")

    first, second = publication_history(
        session=session, actor=bb, initiative_slug="pub", period_key="2025Q3"
    )
    assert (first.number, first.note, first.changes) == (1, "first", [])
    assert (second.number, second.note) == (2, "corrected")
    assert second.published_by == bb.label.removeprefix("user:")
    assert [(c.key, c.before["value"], c.after["value"]) for c in second.changes] == [
        ("KIDS total", 200, 220)
    ]
    assert second.coverage == {
        "approved": 2,
        "expected": 2,
        "indicators": [{"indicator": "KIDS", "complete": True}],
    }
