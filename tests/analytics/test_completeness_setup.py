"""Completeness after a setup write (``models.analytics.views._Setup``) and after a report
changed (``_Reports``' made totals and key parts): a setup read again that equals the one read
last keeps its token, so the grid and its JSON are kept; when only organisations changed, only
the members' organisations are read again; what was made of a period's reports follows each
change committed behind the app's back exactly as if made afresh."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ..access.test_kept_actors import _raw, two_engines, world  # noqa: F401
from .test_completeness_attacks import (
    RAW_CHANGES,
    _answer,
    _forget_all,
    _fresh,
    _ids,
    _kept_twice,
    _report,
)


def _made(world) -> tuple:  # noqa: F811
    """What the process made of the quarter's reports: (totals, key parts in order)."""
    from models.analytics import views

    (reports,) = views._REPORTS._kept.values()
    assert reports.made is not None
    return reports.made.totals, reports.made.in_order


def _spy(monkeypatch, module, name: str) -> list:
    calls: list = []
    real = getattr(module, name)

    def spied(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spied)
    return calls


# Setup writes completeness does not read: they move a setup revision, not what it shows.
UNREAD_SETUP = {
    "another organisation renamed": (
        "INSERT INTO organisations (slug, name, sector) VALUES ('west', 'West', 'education')",
        "UPDATE organisations SET name = 'West side' WHERE slug = 'west'",
    ),
    "the partner's organisation written as it is": (
        "UPDATE organisations SET name = name WHERE id = :east",
    ),
    "an outcome added": (
        (
            "INSERT INTO outcomes (initiative_id, code, name, position) "
            "VALUES (:mine, 'O1', 'Ready', 1)"
        ),
    ),
}


@pytest.mark.parametrize("write", sorted(UNREAD_SETUP))
def test_a_setup_write_it_does_not_read_keeps_the_grid(world, write, monkeypatch) -> None:  # noqa: F811
    from api.routers import analytics as router
    from models.analytics import views

    _report(world, "draft")
    before = _kept_twice(world)
    made = _spy(monkeypatch, views, "_grid")
    rendered = _spy(monkeypatch, router, "_grid_json")
    world["seen"].clear()
    for sql in UNREAD_SETUP[write]:
        _raw(world, sql)
    after = _answer(world)
    assert after == before
    assert made == [] and rendered == [], write
    read = " ".join(world["seen"])
    # Only organisations moved: the members' organisations are read again, not the setup.
    assert ("obligations" in read) is (write == "an outcome added"), read
    assert after == _fresh(world)


def test_an_organisation_renamed_and_back_is_shown_each_time(world) -> None:  # noqa: F811
    _report(world, "draft")
    first = _kept_twice(world)
    names = []
    for name in ("East side", "East"):
        _raw(world, "UPDATE organisations SET name = :name WHERE id = :east", name=name)
        answer = _answer(world)
        names.append([m["name"] for m in answer["members"]])
        assert answer == _fresh(world)
    assert names == [["East side"], ["East"]]
    assert _answer(world) == first


def test_a_rename_with_an_obligation_dropped_reads_the_whole_setup(world) -> None:  # noqa: F811
    """The initiative's revision moved too: the members' organisations alone (the same
    names) would miss the obligation."""
    _report(world, "draft")
    before = _kept_twice(world)
    ids = _ids(world)
    _raw(world, "UPDATE organisations SET name = name WHERE id = :east")
    _raw(world, "DELETE FROM obligations WHERE member_id = :member", **ids)
    after = _answer(world)
    assert after["cells"] == [] and before["cells"] != []
    assert after == _fresh(world)


@pytest.mark.parametrize("change", sorted(RAW_CHANGES))
def test_the_made_totals_follow_each_report_change_as_made_afresh(world, change) -> None:  # noqa: F811
    sid = _report(world, "draft")
    _answer(world)
    _forget_all(world)  # this test's reports only
    _kept_twice(world)
    ids = _ids(world)
    for sql in RAW_CHANGES[change].split("; "):
        _raw(world, sql, sid=sid, **ids, later=date.today() + timedelta(days=30))
    after = _answer(world)
    kept = _made(world)
    assert after == _fresh(world), change
    assert kept == _made(world), change
