"""The demo is alive on any date: built on a day, its quarter takes reports that very day.

The demo is loaded once per database and day (a module fixture inside a transaction that is
rolled back), on the day a quarter's reports are due to close (2026-11-30, when a demo with fixed
dates had nothing open any more), on a quarter's first day (the quarter before has had no time
after its end: its reports must fit before it) and in the middle of a quarter. Each test checks
what a person would meet on that day: a reporter saving, submitting and importing into today's
quarter through the functions the portal and the API use; the quarter before under review with
reports in every state; older quarters approved, locked and published; the public page's
figures; nothing dated in the future; targets ahead; Phoenix's heat in summer.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.data import PeriodInfo, default_period
from models import (
    AuditEvent,
    Indicator,
    IndicatorTarget,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Period,
    Publication,
    Submission,
    User,
    Value,
)
from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.core.errors import Conflict
from models.demo.builder import demo_quarter, load_demo, remove_demo
from models.publishing.publish import public_summary, vintages
from models.reporting.submissions import plan_values, save_values, transition
from models.reporting.validation import ValueInput
from models.reporting.versions import submission_changes
from models.spreadsheets.imports import import_file
from models.spreadsheets.templates import build_template, template_csv
from models.tables.indicator import TOTAL

from .test_demo import checksum

C2C, HEAT = "cradle-to-career", "extreme-heat"
DAYS = [date(2026, 11, 30), date(2027, 1, 1), date(2027, 2, 15)]
STATUSES = {"draft", "submitted", "returned", "approved"}


def quarter(day: date, shift: int = 0) -> str:
    """The key of the quarter containing ``day``, moved by ``shift`` quarters."""
    index = day.year * 4 + (day.month - 1) // 3 + shift
    return f"{index // 4}Q{index % 4 + 1}"


@dataclass
class Built:
    session: Session
    today: date
    current: str  # the quarter of today: open for reporting
    review: str  # the quarter before: under review
    older: list[str]  # every quarter before that, oldest first: approved, locked, published


@pytest.fixture(scope="module", params=DAYS, ids=str)
def built(database, request) -> Iterator[Built]:
    today = request.param
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        load_demo(session=session, today=today)
        older = [quarter(today, shift) for shift in range(-12, -1)]
        yield Built(session, today, quarter(today), quarter(today, -1), older)
        session.close()
        outer.rollback()


@contextmanager
def scratch(session: Session) -> Iterator[None]:
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        session.expire_all()


def initiative(session: Session, slug: str) -> Initiative:
    return session.scalars(select(Initiative).where(Initiative.slug == slug)).one()


def periods(session: Session, slug: str) -> list[Period]:
    return list(
        session.scalars(
            select(Period)
            .where(Period.initiative_id == initiative(session, slug).id)
            .order_by(Period.starts_on)
        )
    )


def reporter(session: Session, org: str) -> Actor:
    user = session.scalars(select(User).where(User.email == f"reporter@{org}.demo.test")).one()
    return actor_for_user(session=session, user=user)


def backbone(session: Session) -> Actor:
    user = session.scalars(select(User).where(User.email == "backbone@demo.test")).one()
    return actor_for_user(session=session, user=user)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- today's quarter ------------------------------------------------------------------------------

# A partner of each initiative with a count indicator that has no breakdown.
REPORTERS = [
    (C2C, "family-connections-network", "HOME_VISITS"),
    (HEAT, "sonoran-power-and-water", "SHUTOFF_PROTECTED"),
]


@pytest.mark.parametrize(("slug", "org", "code"), REPORTERS)
def test_the_quarter_of_today_takes_a_reporters_figures_today(
    built: Built, slug: str, org: str, code: str
) -> None:
    s, today = built.session, built.today
    assert demo_quarter(session=s) == built.current
    rows = periods(s, slug)
    [period] = [p for p in rows if p.key == built.current]
    assert period.starts_on <= today <= period.closes_on
    assert period.opens_on <= today < period.due_on and not period.locked
    assert not s.scalar(select(func.count()).where(Submission.period_id == period.id))

    # The portal opens on it, and the template (for an import) is made for it.
    infos = [
        PeriodInfo(p.key, p.kind, p.starts_on, p.opens_on, p.due_on, p.closes_on, p.locked)
        for p in rows
    ]
    assert default_period(infos, today) == built.current
    actor = reporter(s, org)
    template = build_template(session=s, actor=actor, initiative_slug=slug, today=today)
    assert template.period == built.current

    # Save, then submit, on the day the demo was built: on time.
    with scratch(s):
        saved = save_values(
            session=s,
            actor=actor,
            initiative_slug=slug,
            org_slug=org,
            period_key=built.current,
            inputs=[ValueInput(code, TOTAL, value=412)],
            today=today,
        )
        assert (saved.submission.status, saved.created) == ("draft", 1)
        done = transition(
            session=s,
            actor=actor,
            initiative_slug=slug,
            org_slug=org,
            period_key=built.current,
            action="submit",
            today=today,
        )
        assert done.status == "submitted" and not done.is_late

    # Import the template, filled in.
    with scratch(s):
        template.rows[:] = [
            replace(row, value=377.0) if row.indicator == code else row for row in template.rows
        ]
        report = import_file(
            session=s,
            actor=actor,
            initiative_slug=slug,
            stream=io.BytesIO(template_csv(template).encode()),
            filename="template.csv",
            today=today,
        )
        assert report.ok and report.written, report.errors
        assert [(r.period, r.status) for r in report.submissions] == [(built.current, "draft")]


# --- the quarter before: under review -------------------------------------------------------------


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_the_quarter_before_is_under_review_with_every_status(built: Built, slug: str) -> None:
    s = built.session
    [period] = [p for p in periods(s, slug) if p.key == built.review]
    assert not period.locked
    subs = s.execute(
        select(Organisation.slug, Submission)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Submission.period_id == period.id)
    ).all()
    assert {sub.status for _, sub in subs} == STATUSES
    for _, sub in subs:
        # A return's comment stays until the report is approved (as the workflow leaves it).
        was_returned = sub.status == "returned" or (sub.status == "submitted" and sub.version > 2)
        assert bool(sub.comment) == was_returned
    # Some partners have not started.
    obliged = set(
        s.scalars(
            select(Member.id).where(
                Member.initiative_id == period.initiative_id,
                Member.active,
                Member.joined_on <= period.starts_on,
                Member.id.in_(select(Obligation.member_id)),
            )
        )
    )
    assert obliged - {sub.member_id for _, sub in subs}

    # A returned report can be put right today by its partner; an approved one cannot.
    def check(org: str) -> None:
        plan_values(
            session=s,
            actor=reporter(s, org),
            initiative_slug=slug,
            org_slug=org,
            period_key=built.review,
            inputs=[],
            today=built.today,
        )

    check(next(org for org, sub in subs if sub.status == "returned"))
    with pytest.raises(Conflict, match="approved"):
        check(next(org for org, sub in subs if sub.status == "approved"))


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_a_report_under_review_came_back_changed(built: Built, slug: str) -> None:
    """The review page opens on changes: a report under review was returned and resubmitted
    with values put right, on any day the demo is built, and its previous version is dated
    before its return, its return before today."""
    s = built.session
    [period] = [p for p in periods(s, slug) if p.key == built.review]
    resubmitted = s.scalars(
        select(Organisation.slug)
        .join(Member, Member.organisation_id == Organisation.id)
        .join(Submission, Submission.member_id == Member.id)
        .where(
            Submission.period_id == period.id,
            Submission.status == "submitted",
            Submission.version > 2,
        )
    ).all()
    assert resubmitted
    midnight = datetime.combine(built.today, datetime.min.time(), UTC)
    for org in resubmitted:
        changes = submission_changes(
            session=s,
            actor=backbone(s),
            initiative_slug=slug,
            org_slug=org,
            period_key=built.review,
        )
        assert changes.previous_at is not None and changes.sent_back is not None
        assert changes.sent_back.action == "return" and changes.sent_back.comment
        assert as_utc(changes.previous_at) < as_utc(changes.sent_back.at) < midnight
        assert changes.changes and {c.kind for c in changes.changes} == {"changed"}
        assert all(c.before != c.after for c in changes.changes)


# --- older quarters: approved, locked, published --------------------------------------------------


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_older_quarters_are_approved_locked_and_published(built: Built, slug: str) -> None:
    s = built.session
    older = [p for p in periods(s, slug) if p.key in built.older]
    assert [p.key for p in older] == built.older
    assert all(p.locked for p in older)
    statuses = s.scalars(
        select(Submission.status).where(Submission.period_id.in_([p.id for p in older]))
    ).all()
    assert statuses and set(statuses) == {"approved"}
    published = s.execute(
        select(Period.key, func.count())
        .join(Publication, Publication.period_id == Period.id)
        .where(Period.initiative_id == older[0].initiative_id)
        .group_by(Period.key)
    ).all()
    assert {key for key, _ in published} == set(built.older)
    twice = [key for key, count in published if count > 1]
    if slug == HEAT:
        assert twice == []  # its partners are too few for a correction to show: none is made
        return
    # One quarter was published again after a partner corrected a report: its two vintages
    # differ in the figures the correction changed, and the correction says so.
    assert twice == [built.older[-2]]
    first, second = vintages(
        session=s, actor=backbone(s), initiative_slug=slug, period_key=twice[0]
    )
    midnight = datetime.combine(built.today, datetime.min.time(), UTC)
    assert as_utc(first.published_at) < as_utc(second.published_at) < midnight
    assert "GRAD_4YR total" in second.revised and second.note and "Republished" in second.note
    note = s.scalar(
        select(Value.note)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .join(Period, Period.id == Value.period_id)
        .where(
            Indicator.code == "GRAD_4YR",
            Period.key == twice[0],
            Period.initiative_id == older[0].initiative_id,
            Value.disaggregation == TOTAL,
            Value.note.is_not(None),
        )
    )
    assert note and note.startswith("Corrected")


def test_the_public_page_opens_on_published_figures(built: Built) -> None:
    """The public page shows the latest published quarter first: it has figures to show."""
    s = built.session
    summary = public_summary(session=s, initiative_slug=C2C)
    assert [p["period"] for p in summary["periods"]] == built.older
    latest = summary["periods"][-1]
    shown = [i["indicator"] for i in latest["indicators"] if i["total"]["value"] is not None]
    assert len(shown) >= 4, shown
    assert [p["vintage"] for p in summary["periods"]].count(2) == 1
    heat = public_summary(session=s, initiative_slug=HEAT)
    assert [p["period"] for p in heat["periods"]] == built.older


def test_the_last_published_quarters_carry_the_backbones_stories(built: Built) -> None:
    """Cradle to Career's backbone team wrote the story behind three curves in each of the last
    two published quarters, before publishing them: the public page carries them, and each
    is in the audit trail, dated before its publication."""
    s = built.session
    summary = public_summary(session=s, initiative_slug=C2C)
    told = {p["period"]: {x["indicator"] for x in p["stories"]} for p in summary["periods"]}
    assert told[built.older[-1]] == told[built.older[-2]] == {"K_READY", "READ_G3", "GRAD_4YR"}
    assert not any(told[k] for k in built.older[:-2])
    latest = {x["indicator"]: x for x in summary["periods"][-1]["stories"]}
    assert "<li>home visits starting before age 3</li>" in latest["K_READY"]["html"]
    events = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "story")).all()
    assert len(events) == 6 and all(e.action == "create" for e in events)
    published = {p["period"]: p["published_at"] for p in summary["periods"]}
    for event in events:
        assert as_utc(event.at) < as_utc(published[event.after["period"]])
    assert all(not p["stories"] for p in public_summary(session=s, initiative_slug=HEAT)["periods"])


# --- the calendar -------------------------------------------------------------------------------


def test_nothing_is_dated_today_or_later(built: Built) -> None:
    s = built.session
    midnight = datetime.combine(built.today, datetime.min.time(), UTC)
    moments = [
        *s.execute(
            select(
                func.max(Submission.created_at),
                func.max(Submission.updated_at),
                func.max(Submission.submitted_at),
                func.max(Submission.approved_at),
            )
        ).one(),
        s.scalar(select(func.max(Value.updated_at))),
        s.scalar(select(func.max(Publication.published_at))),
        s.scalar(select(func.max(AuditEvent.at))),
        s.scalar(select(func.max(Member.created_at))),
        s.scalar(select(func.max(Initiative.created_at))),
    ]
    assert all(as_utc(m) < midnight for m in moments), moments
    # Late means first submitted after the due date, in the quarter under review too.
    for due_on, submitted_at, is_late in s.execute(
        select(Period.due_on, Submission.first_submitted_at, Submission.is_late)
        .join(Period, Period.id == Submission.period_id)
        .where(Submission.submitted_at.is_not(None))
    ):
        assert (as_utc(submitted_at).date() > due_on) == is_late


def test_targets_reach_two_years_past_today(built: Built) -> None:
    """Every end target two years past today; interim targets on the line from the baseline
    only where the public page shows the baseline quarter's figure: two points of the line and
    its end would draw it back to a baseline the public is not told."""
    s = built.session
    kinds = set()
    for slug in (C2C, HEAT):
        keys = {p.id: p.key for p in periods(s, slug)}
        by_key = list(keys.values())
        public = {
            (period["period"], figure["indicator"]): figure["total"]["value"]
            for period in public_summary(session=s, initiative_slug=slug)["periods"]
            for figure in period["indicators"]
        }
        for ind in s.scalars(
            select(Indicator).where(Indicator.initiative_id == initiative(s, slug).id)
        ):
            assert keys[ind.target_period_id] == quarter(built.today, 8), ind.code
            base = by_key.index(keys[ind.baseline_period_id])
            interim = sorted(
                by_key.index(keys[t.period_id])
                for t in s.scalars(
                    select(IndicatorTarget).where(IndicatorTarget.indicator_id == ind.id)
                )
            )
            shown = public.get((keys[ind.baseline_period_id], ind.code)) is not None
            kinds.add(shown)
            expected = [step for step in (4, 8, 12, 16) if step > base] if shown else []
            assert interim == expected, ind.code
    assert kinds == {True, False}  # both kinds of indicator are in the demo


def test_phoenix_heat_follows_the_seasons(built: Built) -> None:
    """Cooling-centre visits peak in summer (the third quarter) and trees are planted in the
    cooler months, whatever quarter the demo's history starts in."""
    s = built.session
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for code, key, value in s.execute(
        select(Indicator.code, Period.key, Value.value)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .join(Period, Period.id == Value.period_id)
        .join(Submission, Submission.id == Value.submission_id)
        .where(
            Indicator.code.in_(("COOLING_VISITS", "TREES_PLANTED")),
            Value.disaggregation == TOTAL,
            Submission.status == "approved",
            Period.key.in_(built.older),
        )
    ):
        totals[code][key] += value
    years = {key[:4] for key in built.older}
    compared = 0
    for year in years:
        q1, q3 = f"{year}Q1", f"{year}Q3"
        if q1 in totals["COOLING_VISITS"] and q3 in totals["COOLING_VISITS"]:
            assert totals["COOLING_VISITS"][q3] > 3 * totals["COOLING_VISITS"][q1], year
            assert totals["TREES_PLANTED"][q1] > 3 * totals["TREES_PLANTED"][q3], year
            compared += 1
    assert compared >= 2


def test_the_same_seed_and_day_give_the_same_rows(built: Built) -> None:
    s = built.session
    first = checksum(s)
    with scratch(s):
        remove_demo(session=s)
        load_demo(session=s, today=built.today)
        assert checksum(s) == first
