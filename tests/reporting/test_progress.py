"""The reporting page's progress: its flagged values are the report's own flags and warnings.

The page reads a whole period's reports at once and skips formatting the warnings' sentences
(it lists their codes); what it lists must be what each report says of itself."""

from __future__ import annotations

import pytest

from models.access.permissions import actor_for_user, get_initiative
from models.core import i18n
from models.core.errors import NotFound
from models.core.paging import MAX_LIMIT
from models.initiatives.directory import initiative_directory, visible_initiatives
from models.initiatives.indicators import indicator_names, list_indicators
from models.initiatives.members import list_members, member_names
from models.reporting.progress import reporting_progress
from models.reporting.submissions import get_submission
from models.reporting.validation import ValueInput

from .. import factories as f


def test_flagged_values_are_the_reports_own_flags_and_warnings(session, world) -> None:
    f.approved_report(session, "c2c", "eastside", "2025Q2", [ValueInput("SERVED", value=100)])
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    f.save_report(
        session,
        reporter,
        [
            ValueInput("SERVED", value=1000),  # a jump from 100: a warning, not stored
            ValueInput("K_READY", numerator=45, denominator=90),
            ValueInput("K_READY", "race=black", numerator=20, denominator=50),
            ValueInput("K_READY", "race=white", numerator=20, denominator=40),
        ],
    )
    session.commit()

    progress = reporting_progress(
        session=session, actor=backbone, initiative_slug="c2c", period_key="2025Q3"
    )
    view = get_submission(
        session=session,
        actor=backbone,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
    )
    said: dict[tuple[str, str], set[str]] = {}
    for v in view.values:
        said.setdefault((v.indicator, v.disaggregation), set()).update(v.flags)
    for w in view.warnings:
        said.setdefault((w.indicator, w.disaggregation), set()).add(w.code)
    expected = sorted((i, d, sorted(codes)) for (i, d), codes in said.items() if codes)
    listed = sorted(
        (row["indicator"], row["disaggregation"], row["flags"])
        for row in progress.flagged
        if row["organisation"] == "eastside"
    )
    assert listed == expected
    assert ("SERVED", "total", ["jump"]) in listed
    assert any(flags == ["sum_mismatch"] for _, _, flags in listed)


def test_a_reports_values_read_their_stored_flags_or_none(session, world) -> None:
    """Flags are read as text and decoded only where a value has some: the others read an
    empty list, as a decoded empty list did."""
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    f.save_report(
        session,
        reporter,
        [
            ValueInput("SERVED", value=100),
            ValueInput("K_READY", numerator=45, denominator=90),
            ValueInput("K_READY", "race=black", numerator=20, denominator=50),
            ValueInput("K_READY", "race=white", numerator=20, denominator=40),
        ],
    )
    session.commit()
    view = get_submission(
        session=session,
        actor=reporter,
        initiative_slug="c2c",
        org_slug="eastside",
        period_key="2025Q3",
    )
    flags = {(v.indicator, v.disaggregation): v.flags for v in view.values}
    assert flags == {
        ("SERVED", "total"): [],
        ("K_READY", "total"): ["sum_mismatch"],
        ("K_READY", "race=black"): [],
        ("K_READY", "race=white"): [],
    }


def test_numbers_follow_the_language_of_each_request() -> None:
    """Locales and patterns are parsed once per process: each request still gets its own."""
    for locale, expected in (("es", "1.234,50"), ("en", "1,234.50"), ("es", "1.234,50")):
        token = i18n.begin_request(locale)
        try:
            assert i18n.format_number(1234.5, digits=2) == expected
            assert i18n.format_number(1234.5) == expected.rstrip("0")
        finally:
            i18n.end_request(token)


def test_names_read_as_plain_rows_are_those_the_lists_give(session, world) -> None:
    """The review page names partners and indicators from plain rows: the same names, in the
    same order, as the full lists, and nothing for someone who may not see the initiative."""
    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    outsider = actor_for_user(session=session, user=world["users"]["outsider"])
    members = list_members(session=session, actor=backbone, initiative="c2c", limit=MAX_LIMIT)
    assert member_names(session=session, actor=backbone, initiative="c2c") == {
        m.organisation.slug: m.organisation.name for m in members.items
    }
    described = list_indicators(session=session, actor=backbone, initiative="c2c", limit=MAX_LIMIT)
    names = indicator_names(session=session, actor=backbone, initiative="c2c")
    assert list(names.items()) == [(i["code"], i["name"]) for i in described.items]
    assert len(names) > 1
    for read in (member_names, indicator_names):
        with pytest.raises(NotFound):
            read(session=session, actor=outsider, initiative="c2c")


def test_visible_initiatives_are_those_the_directory_shows_each_actor(session, world) -> None:
    """The pages' initiative pickers list, for each actor, exactly the directory's initiatives
    that ``get_initiative`` lets the actor see, in the directory's order."""
    f.initiative(session, slug="zeta", name="Zeta")
    f.initiative(session, slug="alpha", name="Alpha")
    admin = f.user(session, "admin")
    session.commit()
    seen_counts = set()
    for user in [*world["users"].values(), admin]:
        actor = actor_for_user(session=session, user=user)
        expected = []
        for summary in initiative_directory(session=session, actor=actor):
            try:
                found = get_initiative(session=session, actor=actor, slug=summary.slug)
            except NotFound:
                continue
            expected.append((summary.slug, summary.name, found.id))
        assert visible_initiatives(session=session, actor=actor) == expected
        seen_counts.add(len(expected))
    assert len(seen_counts) > 1  # some actors see more initiatives than others
