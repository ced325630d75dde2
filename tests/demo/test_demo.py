"""The demo loader: what it creates, that it is repeatable, honest and removable.

Loading takes a fraction of a second but is still the slowest thing here, so the demo is loaded
once per database (a module fixture inside a transaction that is rolled back at the end); tests
that change data do so inside a savepoint they roll back, so every test sees the same demo.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from time import perf_counter
from typing import Any

import pytest
from sqlalchemy import String, and_, cast, func, inspect, select, text
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    Base,
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Outcome,
    Period,
    Publication,
    RoleGrant,
    Submission,
    User,
    Value,
    indicator_dimensions,
)
from models.access.passwords import verify_password
from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.core.errors import Conflict
from models.demo.builder import DemoSummary, demo_loaded, load_demo, remove_demo
from models.demo.spec import DEMO_PASSWORD
from models.reporting.submissions import get_submission, save_values, transition, value_history
from models.reporting.validation import ValueInput
from models.reporting.versions import submission_changes
from models.tables.organisation import SECTORS, SLUG_PATTERN

C2C, HEAT = "cradle-to-career", "extreme-heat"
OUTCOMES = {
    "kindergarten_readiness",
    "early_grade_reading",
    "middle_grade_math",
    "high_school_graduation",
    "postsecondary_enrollment",
    "postsecondary_completion",
    "employment",
}
# The demo is dated around the day it is built: built on TODAY, 2026Q4 is open for reporting,
# 2026Q3 under review, three years of history end there and targets reach 2028Q4.
TODAY = date(2026, 11, 30)
QUARTERS = [f"{y}Q{q}" for y in range(2023, 2029) for q in (1, 2, 3, 4)]
PAST = QUARTERS[3:15]  # 2023Q4 … 2026Q3
KEYS = QUARTERS[3:]  # … 2026Q4 (open) … 2028Q4 (the end target)
STATUSES = {"draft", "submitted", "returned", "approved"}


@dataclass
class Demo:
    session: Session
    summary: DemoSummary
    steps: list[tuple[str, int, int]]
    counts_before: dict[str, int]
    seconds: float


@pytest.fixture(scope="module")
def demo(database) -> Iterator[Demo]:
    """The demo loaded once into the migrated test database, rolled back after the module."""
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        before = table_counts(session)
        steps: list[tuple[str, int, int]] = []
        started = perf_counter()
        summary = load_demo(session=session, today=TODAY, progress=lambda *step: steps.append(step))
        seconds = perf_counter() - started
        print(f"\n{database.backend}: demo loaded in {seconds:.2f} s: {summary}")
        yield Demo(session, summary, steps, before, seconds)
        session.close()
        outer.rollback()


@contextmanager
def scratch(session: Session) -> Iterator[None]:
    """Changes made inside are undone, so the next test sees the module's demo again."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        session.expire_all()


# The database's own revision counters and report stamps (models/tables/revisions.py) outlive
# what they count, as a sequence does (a removed report keeps its stamp, so its removal is
# seen): no content of the demo's.
BOOKKEEPING = {"data_revisions", "access_revisions", "figure_revisions", "report_stamps"}


def table_counts(session: Session) -> dict[str, int]:
    present = set(inspect(session.connection()).get_table_names())
    return {
        t.name: session.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
        if t.name in present and t.name not in BOOKKEEPING
    }


def initiative(session: Session, slug: str) -> Initiative:
    return session.scalars(select(Initiative).where(Initiative.slug == slug)).one()


def scalar_count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery()))


def checksum(session: Session) -> str:
    """Every demo value, submission, target and publication by natural key: ids may differ,
    data may not."""
    digest = hashlib.sha256()

    def feed(rows) -> None:
        for row in rows:
            plain = [_plain(x) for x in row]
            digest.update(json.dumps(plain, default=str, sort_keys=True).encode())

    feed(
        session.execute(
            select(
                Initiative.slug,
                Organisation.slug,
                Period.key,
                Indicator.code,
                Value.disaggregation,
                Value.measure_type,
                Value.value,
                Value.numerator,
                Value.denominator,
                Value.note,
                Value.flags,
            )
            .join(Initiative, Initiative.id == Value.initiative_id)
            .join(Submission, Submission.id == Value.submission_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Value.period_id)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(
                Initiative.slug, Organisation.slug, Period.key, Indicator.code, Value.disaggregation
            )
        )
    )
    feed(
        session.execute(
            select(
                Initiative.slug,
                Organisation.slug,
                Period.key,
                Submission.status,
                Submission.version,
                Submission.is_late,
                Submission.comment,
                Submission.submitted_at,
                Submission.approved_at,
            )
            .join(Initiative, Initiative.id == Submission.initiative_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(Initiative.slug, Organisation.slug, Period.key)
        )
    )
    feed(
        session.execute(
            select(
                Initiative.slug,
                Indicator.code,
                Indicator.baseline_value,
                Indicator.target_value,
                Period.key,
                IndicatorTarget.value,
            )
            .join(Initiative, Initiative.id == Indicator.initiative_id)
            .join(IndicatorTarget, IndicatorTarget.indicator_id == Indicator.id)
            .join(Period, Period.id == IndicatorTarget.period_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(Initiative.slug, Indicator.code, Period.key)
        )
    )
    feed(
        (slug, key, published_at, note, json.dumps(_public(snapshot), sort_keys=True))
        for slug, key, published_at, note, snapshot in session.execute(
            select(
                Initiative.slug,
                Period.key,
                Publication.published_at,
                Publication.note,
                Publication.snapshot,
            )
            .join(Initiative, Initiative.id == Publication.initiative_id)
            .join(Period, Period.id == Publication.period_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(Initiative.slug, Period.key, Publication.published_at)
        )
    )
    feed(  # the audit trail in the order it was written (event ids follow time)
        session.execute(
            select(
                Initiative.slug,
                AuditEvent.at,
                AuditEvent.actor_label,
                AuditEvent.entity_type,
                AuditEvent.action,
                AuditEvent.before,
                AuditEvent.after,
                AuditEvent.reason,
            )
            .join(Initiative, Initiative.id == AuditEvent.initiative_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(AuditEvent.id)
        )
    )
    return digest.hexdigest()


def _public(snapshot: dict) -> dict:
    """A snapshot without its makers, which name partners by id."""
    return {k: v for k, v in snapshot.items() if k != "makers"}


def utc_date(moment: datetime) -> date:
    """SQLite hands back naive UTC; PostgreSQL aware datetimes in the session's time zone."""
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def _plain(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 9)
    if isinstance(x, datetime):
        return (x.astimezone(UTC).replace(tzinfo=None) if x.tzinfo else x).isoformat()
    return x


# --- what a load creates ------------------------------------------------------------------------


def test_load_creates_both_initiatives_with_partners_outcomes_and_periods(demo: Demo) -> None:
    s = demo.session
    assert demo.summary.created is True
    assert demo.summary.initiatives == [C2C, HEAT]
    c2c, heat = initiative(s, C2C), initiative(s, HEAT)
    assert c2c.is_demo and heat.is_demo
    assert c2c.name == "Cradle to Career" and heat.name == "Phoenix Extreme Heat"
    assert c2c.suppression_threshold == 10

    def members(init: Initiative) -> dict[str, str]:
        return dict(
            s.execute(
                select(Organisation.slug, Organisation.sector)
                .join(Member, Member.organisation_id == Organisation.id)
                .where(Member.initiative_id == init.id)
            ).all()
        )

    c2c_members, heat_members = members(c2c), members(heat)
    assert 22 <= len(c2c_members) <= 28
    assert 5 <= len(heat_members) <= 8
    assert set(c2c_members) & set(heat_members), "one partner should take part in both"
    assert {
        "education",
        "early_childhood",
        "government",
        "nonprofit",
        "higher_education",
        "business",
        "health",
        "philanthropy",
    } <= set(c2c_members.values())
    for slug, sector in {**c2c_members, **heat_members}.items():
        assert re.fullmatch(SLUG_PATTERN, slug) and sector in SECTORS
    assert demo.summary.organisations == len(set(c2c_members) | set(heat_members))

    outcomes = set(s.scalars(select(Outcome.code).where(Outcome.initiative_id == c2c.id)))
    assert outcomes == OUTCOMES
    assert len(s.scalars(select(Outcome.code).where(Outcome.initiative_id == heat.id)).all()) >= 2

    for init in (c2c, heat):
        periods = s.scalars(
            select(Period).where(Period.initiative_id == init.id).order_by(Period.starts_on)
        ).all()
        assert [p.key for p in periods] == KEYS
        assert [p.locked for p in periods] == [True] * 11 + [False] * 10
        for p, following in pairwise(periods):
            assert p.kind == "quarter" and p.starts_on.day == 1
            assert p.opens_on == p.starts_on  # figures may be entered as the quarter goes
            assert (p.due_on - p.ends_on).days == 30
            assert p.closes_on == following.ends_on  # open for late reports a quarter more


def test_indicators_have_definitions_targets_and_dimensions(demo: Demo) -> None:
    s = demo.session
    c2c = initiative(s, C2C)
    dims = {
        d.code: {c.code for c in d.categories}
        for d in s.scalars(select(Dimension).where(Dimension.initiative_id == c2c.id))
    }
    assert set(dims) == {"race", "income", "gender", "race_x_income"}
    assert dims["income"] == {"low", "not_low"} and "nonbinary" in dims["gender"]
    # The cross-tab (README, "Cross-tabs"): a category per pair of race and income.
    assert dims["race_x_income"] == {f"{r}.{i}" for r in dims["race"] for i in dims["income"]}
    assert len(dims["race"]) >= 5
    for slug in (C2C, HEAT):
        init = initiative(s, slug)
        indicators = s.scalars(select(Indicator).where(Indicator.initiative_id == init.id)).all()
        assert indicators
        for ind in indicators:
            assert ind.code and ind.name and ind.definition and ind.unit and ind.data_source
            assert ind.outcome_id is not None
            assert ind.baseline_value is not None and ind.baseline_period_id is not None
            assert ind.target_value is not None
            assert s.get(Period, ind.target_period_id).key == "2028Q4"
            better = ind.target_value - ind.baseline_value
            assert better > 0 if ind.direction == "higher" else better < 0, ind.code
            if ind.measure_type == "rate":
                assert (ind.unit, ind.valid_min, ind.valid_max) == ("%", 0, 100)
        if slug == C2C:
            # Interim targets where the public is told the baseline (test_calendar.py).
            assert any(ind.targets for ind in indicators)
            types = {i.measure_type for i in indicators}
            assert {"rate", "count", "average"} <= types
            assert any(i.direction == "lower" and i.measure_type == "rate" for i in indicators)
            assert sum(1 for i in indicators if i.dimensions) >= len(indicators) // 2
            assert {d.code for i in indicators for d in i.dimensions} == set(dims)


def test_cradle_to_career_has_a_population_indicator_per_outcome_and_linked_measures(
    demo: Demo,
) -> None:
    """README, "Two kinds of measure": each outcome's curve, and the partners' performance
    measures typed and linked to the population indicators they contribute to."""
    s = demo.session
    c2c = initiative(s, C2C)
    indicators = s.scalars(select(Indicator).where(Indicator.initiative_id == c2c.id)).all()
    outcomes = s.scalars(select(Outcome).where(Outcome.initiative_id == c2c.id)).all()
    populations = {i.code for i in indicators if i.kind == "population"}
    for outcome in outcomes:
        assert any(i.kind == "population" for i in indicators if i.outcome_id == outcome.id), (
            outcome.code
        )
    measures = [i for i in indicators if i.kind == "performance"]
    assert {m.performance_type for m in measures} == {"how_much", "how_well", "better_off"}
    for m in measures:
        assert m.contributes_to, m.code
        assert {p.code for p in m.contributes_to} <= populations
        assert {p.initiative_id for p in m.contributes_to} == {c2c.id}
    assert all(
        i.performance_type is None and not i.contributes_to
        for i in indicators
        if i.kind == "population"
    )


def test_the_demo_overview_shows_each_curve_with_the_measures_under_it(demo: Demo) -> None:
    """The funder's overview of Cradle to Career: every outcome opens with its population
    indicator, and every performance measure sits under one it contributes to."""
    from dashboard.components.kinds import arrange
    from models.analytics.views import scorecard

    s = demo.session
    card = scorecard(session=s, actor=actor(s, "funder@demo.test"), initiative_slug=C2C)
    arranged = arrange(card.rows)
    assert len(arranged) == len({r.outcome for r in card.rows})
    under = None
    for _outcome, entries in arranged:
        assert entries[0][0] == "population"
        for role, item in entries:
            if role == "population":
                under = item.code
            elif role == "unlinked":
                raise AssertionError("every demo measure contributes to a population indicator")
            elif role == "performance":
                assert under in item.contributes_to, item.code


JUDGED = ("met", "on_track", "off_track")
GAP_STATUSES = (*JUDGED, "incomplete")


def card_period(s: Session) -> str:
    """The latest published quarter of Cradle to Career."""
    return s.scalars(
        select(Period.key)
        .join(Publication, Publication.period_id == Period.id)
        .where(Period.initiative_id == initiative(s, C2C).id)
        .order_by(Period.starts_on.desc())
    ).first()


def test_third_grade_reading_has_a_gap_target_by_race_with_a_status(demo: Demo) -> None:
    """Halve the reading gap between the best and worst race group by the end target: its
    baseline is the gap of the baseline quarter, and the backbone team's scorecard and
    equity view judge the latest quarter against it."""
    from models.analytics.views import equity, scorecard

    s = demo.session
    read = s.scalars(
        select(Indicator).where(
            Indicator.initiative_id == initiative(s, C2C).id, Indicator.code == "READ_G3"
        )
    ).one()
    [gap] = read.gap_targets
    assert gap.dimension.code == "race" and gap.baseline_period_id == read.baseline_period_id
    assert gap.target_value == pytest.approx(gap.baseline_value / 2, abs=0.1)
    assert s.get(Period, gap.target_period_id).key == "2028Q4"
    who = s.scalars(select(User).where(User.email == "backbone@demo.test")).one()
    backbone = actor_for_user(session=s, user=who)
    view = equity(
        session=s, actor=backbone, initiative_slug=C2C, indicator_code="READ_G3", dimension="race"
    )
    base = next(p for p in view.points if p.period == s.get(Period, gap.baseline_period_id).key)
    assert round(base.gap, 1) == gap.baseline_value
    # The quarter under review is judged once enough partners have reported; the last
    # published one is.
    for period, statuses in ((None, GAP_STATUSES), (card_period(s), JUDGED)):
        card = scorecard(session=s, actor=backbone, initiative_slug=C2C, period_key=period)
        [row] = [r for r in card.rows if r.code == "READ_G3"]
        [judged] = row.gap_targets
        assert judged.status in statuses, judged
    [event] = s.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "gap_target", AuditEvent.entity_id == read.id
        )
    ).all()
    assert event.after["dimension"] == "race"


def test_obligations_follow_what_each_partner_does(demo: Demo) -> None:
    s = demo.session
    rows = s.execute(
        select(Organisation.slug, Organisation.sector, Indicator.code)
        .join(Member, Member.organisation_id == Organisation.id)
        .join(Initiative, Initiative.id == Member.initiative_id)
        .outerjoin(Obligation, Obligation.member_id == Member.id)
        .outerjoin(Indicator, Indicator.id == Obligation.indicator_id)
        .where(Initiative.slug == C2C)
    ).all()
    by_sector: dict[str, set[str]] = {}
    for _, sector, code in rows:
        by_sector.setdefault(sector, set()).add(code)
    assert {"READ_G3", "MATH_G8", "GRAD_4YR", "CHRONIC_ABSENT"} <= by_sector["education"]
    assert "K_READY" in by_sector["early_childhood"]
    assert {"PS_COMPLETE", "PS_RETAIN"} <= by_sector["higher_education"]
    assert by_sector["philanthropy"] == {None}, "funders report nothing"
    assert "READ_G3" not in by_sector["business"]
    # Obligations never point at another initiative's indicator.
    stray = (
        select(Obligation.id)
        .join(Member, Member.id == Obligation.member_id)
        .join(Indicator, Indicator.id == Obligation.indicator_id)
        .where(Member.initiative_id != Indicator.initiative_id)
    )
    assert scalar_count(s, stray) == 0


def test_history_has_every_status_late_missing_and_outlier(demo: Demo) -> None:
    s = demo.session
    rows = s.execute(
        select(Initiative.slug, Period.key, Period.due_on, Submission)
        .join(Initiative, Initiative.id == Submission.initiative_id)
        .join(Period, Period.id == Submission.period_id)
    ).all()
    assert len(rows) == demo.summary.submissions
    latest = {sub.status for slug, key, _, sub in rows if slug == C2C and key == PAST[-1]}
    assert latest == STATUSES
    for slug, key, due_on, sub in rows:
        assert key in PAST
        if PAST.index(key) < len(PAST) - 1:
            assert sub.status == "approved", (slug, key)
        if sub.status == "draft":
            assert sub.submitted_at is None and sub.first_submitted_at is None
            assert not sub.is_late
            continue
        assert sub.submitted_at is not None and sub.submitted_by_id is not None
        # Lateness is the first submission's: a report returned and resubmitted keeps it.
        assert sub.created_at <= sub.first_submitted_at <= sub.submitted_at
        assert (utc_date(sub.first_submitted_at) > due_on) == sub.is_late
        if sub.status == "approved":
            assert sub.approved_at > sub.submitted_at and sub.approved_by_id is not None
        else:
            assert sub.approved_at is None
        if sub.status == "returned":
            assert sub.comment
    late = [sub for slug, _, _, sub in rows if slug == C2C and sub.is_late]
    assert 5 <= len(late) <= len(rows) // 4

    # Missing: a member with obligations and no submission for a past period it belonged in.
    expected = (
        select(Member.id, Period.id)
        .join(Period, Period.initiative_id == Member.initiative_id)
        .where(
            Period.key.in_(PAST),
            Period.starts_on >= Member.joined_on,
            Member.id.in_(select(Obligation.member_id)),
        )
    )
    reported = select(Submission.member_id, Submission.period_id)
    missing = scalar_count(s, expected.except_(reported))
    assert 0 < missing <= scalar_count(s, expected) // 5


def test_outliers_are_flagged_and_far_from_the_partners_history(demo: Demo) -> None:
    s = demo.session
    flagged = s.execute(
        select(Submission.member_id, Value.indicator_id, Value.period_id, Value.disaggregation)
        .join(Submission, Submission.id == Value.submission_id)
        .where(cast(Value.flags, String).like('%"outlier"%'))
    ).all()
    assert len(flagged) >= 6
    for member_id, indicator_id, period_id, disaggregation in flagged:
        assert disaggregation == "total"
        history = dict(
            s.execute(
                select(Value.period_id, Value.value)
                .join(Submission, Submission.id == Value.submission_id)
                .where(
                    Submission.member_id == member_id,
                    Value.indicator_id == indicator_id,
                    Value.disaggregation == "total",
                )
            ).all()
        )
        others = [v for p, v in history.items() if p != period_id]
        median = statistics.median(others)
        mad = statistics.median(abs(v - median) for v in others) or 1e-9
        assert abs(history[period_id] - median) / (1.4826 * mad) > 3


def test_demo_users_have_the_right_grants(demo: Demo) -> None:
    s = demo.session
    c2c, heat = initiative(s, C2C), initiative(s, HEAT)

    def grants(email: str) -> set[tuple[str, int | None, int | None]]:
        user = s.scalars(select(User).where(User.email == email)).one()
        return {(g.role, g.initiative_id, g.organisation_id) for g in user.grants}

    assert grants("admin@demo.test") == {("admin", None, None)}
    assert grants("backbone@demo.test") == {("backbone", c2c.id, None), ("backbone", heat.id, None)}
    assert grants("funder@demo.test") == {("funder", c2c.id, None)}
    memberships = s.execute(
        select(Organisation.id, Organisation.slug, Member.initiative_id)
        .join(Member, Member.organisation_id == Organisation.id)
        .where(Member.initiative_id.in_([c2c.id, heat.id]))
    ).all()
    orgs = {(org_id, slug) for org_id, slug, _ in memberships}
    for org_id, slug in orgs:
        # One reporter grant per membership: the rights work through the initiatives joined.
        assert grants(f"reporter@{slug}.demo.test") == {
            ("reporter", init_id, org_id) for o, _, init_id in memberships if o == org_id
        }
    emails = [email for email, _ in demo.summary.users]
    assert emails[:3] == ["admin@demo.test", "backbone@demo.test", "funder@demo.test"]
    assert len(emails) == 3 + len(orgs) == len(set(emails))
    assert dict(demo.summary.users)["funder@demo.test"] == f"funder: {C2C}"
    user = s.scalars(select(User).where(User.email == "reporter@math-bridges.demo.test")).one()
    assert verify_password(user.password_hash, DEMO_PASSWORD)
    assert not verify_password(user.password_hash, DEMO_PASSWORD + "!")


def test_progress_is_reported_per_step_up_to_its_total(demo: Demo) -> None:
    labels = list(dict.fromkeys(step for step, _, _ in demo.steps))
    assert labels == ["Organisations and logins", "Cradle to Career", "Phoenix Extreme Heat"]
    for label in labels:
        done = [(d, t) for step, d, t in demo.steps if step == label]
        assert [d for d, _ in done] == sorted(d for d, _ in done)
        assert done[-1][0] == done[-1][1] > 1


# --- the numbers obey the data rules -------------------------------------------------------------


def test_values_obey_the_data_rules(demo: Demo) -> None:
    s = demo.session
    v = Value.__table__.c
    demo_ids = select(Initiative.id).where(Initiative.is_demo.is_(True))
    mine = v.initiative_id.in_(demo_ids)
    total = s.scalar(select(func.count()).where(mine))
    assert total == demo.summary.values >= 5_000

    def bad(*conditions) -> int:
        return s.scalar(select(func.count()).where(mine, *conditions))

    rates = bad(v.measure_type == "rate")
    assert rates > 1_000
    assert bad(v.measure_type == "rate", v.numerator > v.denominator) == 0
    assert bad(v.measure_type == "rate", v.denominator <= 0) == 0
    assert (
        bad(
            v.measure_type == "rate", func.abs(v.value - 100.0 * v.numerator / v.denominator) > 1e-6
        )
        == 0
    )
    assert bad(v.measure_type == "count", v.value != func.round(v.value)) == 0
    assert bad(v.measure_type == "count", v.value < 0) == 0
    assert bad(v.measure_type == "count", v.numerator.is_not(None)) == 0
    assert bad(v.measure_type == "average", v.denominator <= 0) == 0
    i = Indicator.__table__.c
    out_of_range = (
        select(func.count())
        .select_from(Value.__table__.join(Indicator.__table__, i.id == v.indicator_id))
        .where(mine, (v.value < i.valid_min) | (v.value > i.valid_max))
    )
    assert s.scalar(out_of_range) == 0


BREAKDOWN_SQL = """
WITH totals AS (
    SELECT submission_id, indicator_id, measure_type, value, numerator, denominator
    FROM "values" WHERE category_id IS NULL AND initiative_id IN ({ids})
), parts AS (
    SELECT v.submission_id, v.indicator_id, d.id AS dimension_id,
           SUM(v.value) AS value_sum, SUM(v.numerator) AS num_sum,
           SUM(v.denominator) AS den_sum, SUM(v.value * v.denominator) AS weighted
    FROM "values" v
    JOIN categories c ON c.id = v.category_id
    JOIN dimensions d ON d.id = c.dimension_id
    WHERE v.initiative_id IN ({ids})
    GROUP BY v.submission_id, v.indicator_id, d.id
)
SELECT t.measure_type, COUNT(*) AS groups,
       SUM(CASE WHEN
           (t.measure_type = 'rate' AND (ABS(p.num_sum - t.numerator) > 1e-6
                                         OR ABS(p.den_sum - t.denominator) > 1e-6))
        OR (t.measure_type = 'count' AND ABS(p.value_sum - t.value) > 1e-6)
        OR (t.measure_type = 'average' AND (ABS(p.den_sum - t.denominator) > 1e-6
                                            OR ABS(p.weighted / p.den_sum - t.value) > 1e-6))
       THEN 1 ELSE 0 END) AS mismatches
FROM parts p JOIN totals t
  ON t.submission_id = p.submission_id AND t.indicator_id = p.indicator_id
GROUP BY t.measure_type
"""


def test_every_breakdown_adds_up_to_its_total(demo: Demo) -> None:
    s = demo.session
    demo_ids = s.scalars(select(Initiative.id).where(Initiative.is_demo.is_(True)))
    ids = ", ".join(str(i) for i in demo_ids)
    result = {row.measure_type: row for row in s.execute(text(BREAKDOWN_SQL.format(ids=ids)))}
    assert set(result) == {"rate", "count", "average"}
    for measure_type, row in result.items():
        assert row.groups > 50, measure_type
        assert row.mismatches == 0, measure_type

    # Breakdowns only by the indicator's allowed dimensions, and one for each of them.
    v, cat, allowed = Value.__table__.c, Category.__table__.c, indicator_dimensions
    stray = (
        select(v.id)
        .join_from(Value.__table__, Category.__table__, cat.id == v.category_id)
        .outerjoin(
            allowed,
            and_(
                allowed.c.indicator_id == v.indicator_id, allowed.c.dimension_id == cat.dimension_id
            ),
        )
        .where(allowed.c.indicator_id.is_(None))
    )
    assert scalar_count(s, stray) == 0
    wanted = (
        select(v.submission_id, v.indicator_id, allowed.c.dimension_id)
        .join_from(Value.__table__, allowed, allowed.c.indicator_id == v.indicator_id)
        .where(v.category_id.is_(None))
    )
    present = select(v.submission_id, v.indicator_id, cat.dimension_id).join_from(
        Value.__table__, Category.__table__, cat.id == v.category_id
    )
    assert scalar_count(s, wanted) > 1_000
    assert scalar_count(s, wanted.except_(present)) == 0


# --- repeatable and removable ---------------------------------------------------------------------


def test_second_load_is_idempotent(demo: Demo) -> None:
    s = demo.session
    with scratch(s):
        before = table_counts(s)
        assert demo_loaded(session=s)
        again = load_demo(session=s, seed=99, today=date(2027, 5, 1))
        assert again.created is False
        assert table_counts(s) == before
        first = demo.summary
        assert (again.initiatives, again.organisations, again.users) == (
            first.initiatives,
            first.organisations,
            first.users,
        )
        assert (again.values, again.submissions) == (first.values, first.submissions)


def test_same_seed_gives_the_same_data_and_another_seed_does_not(demo: Demo) -> None:
    s = demo.session
    first = checksum(s)
    with scratch(s):
        remove_demo(session=s)
        assert not demo_loaded(session=s)
        assert table_counts(s) == demo.counts_before
        assert load_demo(session=s, seed=2026, today=TODAY).created
        assert checksum(s) == first
        remove_demo(session=s)
        load_demo(session=s, seed=7, today=TODAY)
        assert checksum(s) != first


def test_remove_demo_removes_only_what_it_created(demo: Demo) -> None:
    s = demo.session
    with scratch(s):
        ours = Organisation(slug="acme-literacy", name="Acme Literacy", sector="nonprofit")
        mine = Initiative(slug="our-initiative", name="Our initiative")
        person = User(email="jo@example.org", password_hash="x")
        s.add_all([ours, mine, person])
        s.flush()
        shared = s.scalars(
            select(Organisation).where(Organisation.slug == "harbor-light-foundation")
        ).one()
        s.add_all(
            [
                Member(initiative_id=mine.id, organisation_id=ours.id),
                Member(initiative_id=mine.id, organisation_id=shared.id),
            ]
        )
        s.flush()  # the membership first: the reporter grant works through it
        s.add(
            RoleGrant(
                user_id=person.id, role="reporter", initiative_id=mine.id, organisation_id=ours.id
            )
        )
        s.flush()
        remove_demo(session=s)
        added = {"organisations": 2, "initiatives": 1, "members": 2, "users": 1, "role_grants": 1}
        expected = {t: n + added.get(t, 0) for t, n in demo.counts_before.items()}
        assert table_counts(s) == expected
        assert not demo_loaded(session=s)
        demo_users = select(User.id).where(User.email.like("%demo.test"))
        assert scalar_count(s, demo_users) == 0
        kept = set(s.scalars(select(Organisation.slug)))
        assert {"acme-literacy", "harbor-light-foundation"} <= kept
        assert s.scalars(select(Initiative.slug)).all() == ["our-initiative"]
        remove_demo(session=s)  # nothing left to remove: harmless
        assert table_counts(s) == expected

        # The kept demo partner is reused by the next load, not duplicated or refused.
        summary = load_demo(session=s, today=TODAY)
        assert summary.created and summary.organisations == demo.summary.organisations
        assert (
            s.scalar(
                select(func.count()).select_from(Member).where(Member.organisation_id == shared.id)
            )
            == 3
        )


def test_load_refuses_to_take_over_someone_elses_slug(demo: Demo) -> None:
    s = demo.session
    with scratch(s):
        remove_demo(session=s)
        s.add(Organisation(slug="math-bridges", name="Math Bridges (real)", sector="nonprofit"))
        s.flush()
        with pytest.raises(Conflict, match="math-bridges"):
            load_demo(session=s, today=TODAY)


# --- the audit trail: what the workflow would have written ---------------------------------------

BACKBONE_LABEL = "user:backbone@demo.test"
FIELDS = ("value", "numerator", "denominator", "note")


def demo_events(session: Session) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .join(Initiative, Initiative.id == AuditEvent.initiative_id)
            .where(Initiative.is_demo.is_(True))
            .order_by(AuditEvent.id)
        )
    )


def actor(session: Session, email: str) -> Actor:
    user = session.scalars(select(User).where(User.email == email)).one()
    return actor_for_user(session=session, user=user)


def resubmitted_under_review(session: Session, slug: str) -> list[tuple[str, Submission]]:
    """(organisation, report) of the reports under review that were returned and came back."""
    return list(
        session.execute(
            select(Organisation.slug, Submission)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Submission.initiative_id)
            .where(
                Initiative.slug == slug,
                Period.key == PAST[-1],
                Submission.status == "submitted",
                Submission.version > 2,
            )
        ).tuples()
    )


def stored(value: Value, code: str) -> dict[str, Any]:
    """A value as its latest audit event must show it."""
    return {
        "indicator": code,
        "disaggregation": value.disaggregation,
        **{f: getattr(value, f) for f in FIELDS},
    }


def test_every_report_has_the_trail_its_columns_tell(demo: Demo) -> None:
    """Each report's events replay to its status and version, at the moments its columns hold
    (created, first and latest submission, approval), by its partner's reporter and the
    backbone team; every value's events chain from its creation to the value as stored."""
    s = demo.session
    reports = {
        sub.id: (sub, org)
        for sub, org in s.execute(
            select(Submission, Organisation.slug)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
        ).tuples()
    }
    of_report: dict[int, list[AuditEvent]] = {}
    of_value: dict[int, list[AuditEvent]] = {}
    events = demo_events(s)
    assert [e.id for e in sorted(events, key=lambda e: (_plain(e.at), e.id))] == [
        e.id for e in events
    ], "event ids follow time"
    for e in events:
        if e.entity_type == "submission":
            of_report.setdefault(e.entity_id, []).append(e)
        elif e.entity_type == "value":
            of_value.setdefault(e.entity_id, []).append(e)
    assert set(of_report) == set(reports)
    cycles = set()
    for sub_id, (sub, org) in reports.items():
        trail = of_report[sub_id]
        reporter = f"user:reporter@{org}.demo.test"
        first, *moves = trail
        assert (first.action, first.before, first.after) == (
            "create",
            None,
            {"status": "draft", "version": 1},
        )
        assert first.actor_label == reporter and _plain(first.at) == _plain(sub.created_at)
        for was, event in pairwise(trail):
            assert event.before == {"status": was.after["status"]}
            assert event.after["version"] > was.after["version"]
            who = reporter if event.action == "submit" else BACKBONE_LABEL
            assert event.actor_label == who, (org, event.action)
            assert bool(event.reason) == (event.action in ("return", "reopen"))
        assert trail[-1].after == {"status": sub.status, "version": sub.version}
        submits = [e for e in moves if e.action == "submit"]
        if submits:
            assert _plain(submits[0].at) == _plain(sub.first_submitted_at)
            assert _plain(submits[-1].at) == _plain(sub.submitted_at)
        if sub.status == "approved":
            approval = [e for e in moves if e.action == "approve"][-1]
            assert _plain(approval.at) == _plain(sub.approved_at)
        cycles.add(tuple(e.action for e in moves))
    assert {
        ("submit", "approve"),
        ("submit", "return"),
        ("submit", "return", "submit"),
        ("submit", "return", "submit", "approve"),
        ("submit", "approve", "reopen", "submit", "approve"),
        (),
    } <= cycles

    codes = dict(s.execute(select(Indicator.id, Indicator.code)).tuples().all())
    values = s.scalars(select(Value)).all()
    assert set(of_value) == {v.id for v in values}
    for value in values:
        trail = of_value[value.id]
        assert trail[0].action == "create" and trail[0].before is None
        for was, event in pairwise(trail):
            assert event.action == "update" and event.before == was.after and event.reason
        assert trail[-1].after == stored(value, codes[value.indicator_id])


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_a_report_returned_and_resubmitted_shows_what_changed(demo: Demo, slug: str) -> None:
    """Under review, a report came back with one indicator recounted: its changes since the
    version first submitted are those values, from what the partner first sent to what they
    hold now, after the return that asked for them; each value's history tells the same."""
    s = demo.session
    backbone = actor(s, "backbone@demo.test")
    [(org, sub)] = resubmitted_under_review(s, slug)
    changes = submission_changes(
        session=s, actor=backbone, initiative_slug=slug, org_slug=org, period_key=PAST[-1]
    )
    assert changes.sent_back is not None and changes.sent_back.action == "return"
    assert changes.sent_back.comment == sub.comment and changes.sent_back.actor_label == (
        BACKBONE_LABEL
    )
    assert _plain(changes.previous_at) == _plain(sub.first_submitted_at)
    assert changes.previous_version == 2 and sub.version == 5
    assert len({c.indicator for c in changes.changes}) == 1
    assert {c.kind for c in changes.changes} == {"changed"}
    assert any(c.disaggregation == "total" for c in changes.changes)
    for change in changes.changes:
        value = s.get(Value, change.value_id)
        assert change.after == {f: getattr(value, f) for f in FIELDS}
        assert change.before != change.after
        history = value_history(
            session=s, actor=backbone, initiative_slug=slug, value_id=change.value_id
        )
        assert [h.action for h in history] == ["create", "update"]
        created, updated = history
        assert {f: created.after[f] for f in FIELDS} == change.before
        assert updated.before == created.after
        assert {f: updated.after[f] for f in FIELDS} == change.after
        assert updated.actor_label == f"user:reporter@{org}.demo.test" and updated.reason
        assert _plain(changes.sent_back.at) < _plain(updated.at) < _plain(sub.submitted_at)
        assert _plain(updated.at) == _plain(value.updated_at)


def test_the_corrected_report_and_the_checked_outliers_show_what_changed(demo: Demo) -> None:
    """The report corrected after publication: reopened, its graduation rate recounted and
    noted, approved again. An approved outlier: returned with a question, back with a note."""
    s = demo.session
    backbone = actor(s, "backbone@demo.test")
    org, key = "riverbend-public-schools", PAST[-3]
    changes = submission_changes(
        session=s, actor=backbone, initiative_slug=C2C, org_slug=org, period_key=key
    )
    assert changes.sent_back is not None and changes.sent_back.action == "reopen"
    assert changes.changes and {c.indicator for c in changes.changes} == {"GRAD_4YR"}
    [total] = [c for c in changes.changes if c.disaggregation == "total"]
    assert total.before["note"] is None and total.after["note"].startswith("Corrected")
    assert total.after["numerator"] > total.before["numerator"]
    assert total.after["denominator"] == total.before["denominator"]
    history = value_history(session=s, actor=backbone, initiative_slug=C2C, value_id=total.value_id)
    assert [h.action for h in history] == ["create", "update"]
    assert history[-1].reason and history[-1].at > history[0].at

    noted = s.execute(
        select(Organisation.slug, Period.key, Value.id)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Period, Period.id == Value.period_id)
        .join(Initiative, Initiative.id == Value.initiative_id)
        .where(Initiative.slug == C2C, Value.note.like("Checked: %"))
    ).all()
    assert noted
    for org, key, value_id in noted:
        changes = submission_changes(
            session=s, actor=backbone, initiative_slug=C2C, org_slug=org, period_key=key
        )
        assert changes.sent_back is not None and changes.sent_back.action == "return"
        [change] = [c for c in changes.changes if c.value_id == value_id]
        assert change.before["note"] is None and change.after["note"]
        assert {f: change.before[f] for f in FIELDS[:3]} == {f: change.after[f] for f in FIELDS[:3]}


def test_the_demo_trail_has_the_workflows_shape_and_the_workflow_carries_on(demo: Demo) -> None:
    """Events written by the workflow itself look like the demo's (same kinds, keys, actors),
    and a report under review returned and resubmitted once more shows only the new change."""
    s = demo.session

    def shape(e: AuditEvent) -> tuple:
        return (
            e.entity_type,
            e.action,
            tuple(sorted(e.before or ())),
            tuple(sorted(e.after or ())),
            e.actor_label.split("@")[0].split(":")[0],
        )

    with scratch(s):
        before = max(e.id for e in demo_events(s))
        backbone = actor(s, "backbone@demo.test")
        [(org, _)] = resubmitted_under_review(s, C2C)
        reporter = actor(s, f"reporter@{org}.demo.test")
        report = {"initiative_slug": C2C, "org_slug": org, "period_key": PAST[-1]}
        transition(
            session=s, actor=backbone, action="return", comment="Once more.", today=TODAY, **report
        )
        view = get_submission(session=s, actor=reporter, **report)
        total = next(v for v in view.values if v.disaggregation == "total")
        if total.numerator is not None:  # a rate: one person fewer with the outcome
            assert total.denominator is not None
            fewer = {"numerator": total.numerator - 1, "denominator": total.denominator}
        else:  # a count or an average: one more
            fewer = {"value": total.value + 1, "denominator": total.denominator}
        changed = ValueInput(total.indicator, "total", **fewer)
        save_values(
            session=s,
            actor=reporter,
            inputs=[changed],
            reason="one more",
            today=TODAY,
            **report,
        )
        transition(session=s, actor=reporter, action="submit", today=TODAY, **report)
        # A new report in today's quarter: created, its values created, submitted, approved.
        save_values(
            session=s,
            actor=reporter,
            inputs=[changed],
            initiative_slug=C2C,
            org_slug=org,
            period_key=KEYS[12],
            today=TODAY,
        )
        for action, who in (("submit", reporter), ("approve", backbone)):
            transition(
                session=s,
                actor=who,
                initiative_slug=C2C,
                org_slug=org,
                period_key=KEYS[12],
                action=action,
                today=TODAY,
            )
        events = demo_events(s)
        written = {shape(e) for e in events if e.id > before}
        assert len(written) >= 6
        assert written <= {shape(e) for e in events if e.id <= before}

        changes = submission_changes(session=s, actor=backbone, **report)
        assert changes.sent_back is not None and changes.sent_back.comment == "Once more."
        [change] = changes.changes
        assert (change.indicator, change.disaggregation) == (total.indicator, "total")
        assert change.before == {f: getattr(total, f) for f in FIELDS}
        assert {f: change.after[f] for f in fewer} == fewer


def test_cradle_to_career_has_two_strategies_its_partners_see_their_own(demo: Demo) -> None:
    """Two strategies with owners, aimed indicators and actions, some done within the demo's
    calendar (README: Strategies); a partner reads only those it owns, the funder all."""
    from models.strategies.strategies import list_strategies

    s = demo.session

    def read(email: str) -> list:
        user = s.scalar(select(User).where(User.email == email))
        actor = actor_for_user(session=s, user=user)
        return list_strategies(session=s, actor=actor, initiative="cradle-to-career").items

    strategies = read("backbone@demo.test")
    assert [st.code for st in strategies] == ["ready-by-five", "every-child-reading"]
    for st in strategies:
        assert len(st.owners) == 3 and len(st.indicators) == 2
        done = [a for a in st.actions if a.status == "done"]
        assert len(done) == 2 and st.actions_done == 2
        assert all(st.starts_on <= a.done_on < TODAY for a in done)
    assert strategies[1].ends_on is None and strategies[0].ends_on > TODAY
    assert [st.code for st in read("funder@demo.test")] == [st.code for st in strategies]
    library = read("reporter@riverbend-public-library.demo.test")
    assert [st.code for st in library] == ["every-child-reading"]
    assert read("reporter@math-bridges.demo.test") == []


def test_cradle_to_career_has_computed_indicators_shown_as_their_inputs_are(demo: Demo) -> None:
    """Students on the college path (graduation rate × enrolment rate, by race) and early-years
    visits (a sum of two partners' measures): the backbone team sees them computed from the
    inputs' figures, the funder wherever both inputs are shown to it, hidden elsewhere; no
    partner is obliged to report them; their baseline is computed from their inputs'."""
    from models.analytics.views import scorecard, series

    s = demo.session
    c2c = initiative(s, C2C)
    rows = {
        i.code: i for i in s.scalars(select(Indicator).where(Indicator.initiative_id == c2c.id))
    }
    assert rows["COLLEGE_PATH"].expression == "GRAD_4YR * PS_ENROLL / 100"
    assert rows["EARLY_VISITS"].expression == "WELL_CHILD + HOME_VISITS"
    computed_ids = [rows["COLLEGE_PATH"].id, rows["EARLY_VISITS"].id]
    assert not scalar_count(
        s, select(Obligation.id).where(Obligation.indicator_id.in_(computed_ids))
    )
    assert not scalar_count(s, select(Value.id).where(Value.indicator_id.in_(computed_ids)))
    path, grad, enrol = rows["COLLEGE_PATH"], rows["GRAD_4YR"], rows["PS_ENROLL"]
    assert path.baseline_value == pytest.approx(
        grad.baseline_value * enrol.baseline_value / 100, abs=0.06
    )
    shown = {"backbone": 0, "funder": 0}
    hidden = {"backbone": 0, "funder": 0}
    for who in ("backbone", "funder"):
        viewer = actor(s, f"{who}@demo.test")
        for code, inputs, by in (
            ("COLLEGE_PATH", ("GRAD_4YR", "PS_ENROLL"), "race"),
            ("EARLY_VISITS", ("WELL_CHILD", "HOME_VISITS"), None),
        ):
            answers = {
                c: series(session=s, actor=viewer, initiative_slug=C2C, indicator_code=c, by=by)
                for c in (code, *inputs)
            }
            figures = {
                c: {(p.period, p.key): p.figure for p in a.total + a.breakdown}
                for c, a in answers.items()
            }
            assert figures[code], code
            for point, figure in figures[code].items():
                given = [figures[c][point].value for c in inputs]
                if None in given:
                    assert figure.value is None, (who, code, point)
                    hidden[who] += 1
                    continue
                a, b = given
                expected = a * b / 100 if code == "COLLEGE_PATH" else a + b
                assert figure.value == pytest.approx(expected), (who, code, point)
                shown[who] += 1
        card = scorecard(session=s, actor=viewer, initiative_slug=C2C, period_key=card_period(s))
        [row] = [r for r in card.rows if r.code == "COLLEGE_PATH"]
        assert row.target is not None and row.status != "no_data"
        assert row.expression == "GRAD_4YR * PS_ENROLL / 100"
    assert hidden["backbone"] == 0 and shown["backbone"]
    # The funder sees the college path (many partners) and not the early-years visits (one
    # partner each, not all sharing with funders): both cases are met.
    assert shown["funder"] and hidden["funder"]


def test_cradle_to_career_reads_in_spanish_on_its_public_page(demo: Demo) -> None:
    """The backbone team's Spanish names (README, "Languages"): frozen by every publication, so
    the public summary in Spanish shows them; none needs review; English readers see English."""
    from models.core.i18n import use_locale
    from models.initiatives.translations import list_translations
    from models.publishing.publish import public_summary

    s = demo.session
    with use_locale("es"):
        spanish = public_summary(session=s, initiative_slug=C2C)
    assert spanish["initiative_name"] == "De la cuna a la carrera"
    shown = {i["indicator"]: i for p in spanish["periods"] for i in p["indicators"]}
    assert shown["K_READY"]["name"] == "Niñas y niños preparados para el kínder"
    assert shown["K_READY"]["outcome_name"] == "Preparación para el kínder"
    races = next(b for b in shown["K_READY"]["breakdowns"] if b["dimension"] == "race")
    assert races["dimension_name"] == "Raza/etnia"
    assert "Negra" in {c["label"] for c in races["categories"]}
    english = public_summary(session=s, initiative_slug=C2C)
    assert {i["name"] for p in english["periods"] for i in p["indicators"]} >= {
        "Kindergartners ready for school"
    }
    translated = [
        t
        for t in list_translations(
            session=s, actor=actor(s, "backbone@demo.test"), initiative_slug=C2C
        )
        if t.text is not None
    ]
    assert len(translated) >= 40 and not any(t.needs_review for t in translated)
