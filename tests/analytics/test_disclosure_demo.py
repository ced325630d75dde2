"""The attacks of issue #11 against the demo, and that every view reads the one decision.

On both demo initiatives, as the funder, as every partner and as the public: no figure shown
exactly comes from too few partners, none gives a partner another's figure once it takes its
own share away, no partner figure is shown to someone it was not shared with, and a
republication (or a live view) shows nothing an earlier publication hid. The property test
with a solver is tests/analytics/test_disclosure_attack.py; this one holds the product's own data to it.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import models.analytics.disclosure
from models.analytics.disclosure import hidden_figures
from models.analytics.figures import Figure, GroupView
from models.analytics.rollups import partner_figures, rollups
from models.analytics.suppression import INPUTS_MARKER
from models.analytics.views import equity, scorecard, series
from models.core.actors import SYSTEM, Actor
from models.core.expressions import parse
from models.core.settings import get_settings
from models.demo.builder import load_demo
from models.publishing.publish import public_summary, publish
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.tables.indicator import TOTAL, Indicator
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.publication import Publication
from models.tables.reporting import Submission, Value

C2C, HEAT = "cradle-to-career", "extreme-heat"
# The demo is dated around the day it is built: on this day 2026Q3 is under review and the
# quarters up to 2026Q2 are published (tests/demo/test_calendar.py).
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo(database) -> Iterator[Session]:
    """The demo loaded once per database, rolled back after the module."""
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        load_demo(session=session, today=TODAY)
        yield session
        session.close()
        outer.rollback()


@pytest.fixture
def scratch(demo: Session) -> Iterator[Session]:
    savepoint = demo.begin_nested()
    yield demo
    savepoint.rollback()


@dataclass(frozen=True)
class Viewer:
    name: str
    actor: Actor
    own: frozenset[int]  # member ids


def _initiative(session: Session, slug: str) -> Initiative:
    return session.scalar(select(Initiative).where(Initiative.slug == slug))


def _viewers(session: Session, init: Initiative) -> list[Viewer]:
    out = [
        Viewer(
            "funder", Actor(user_id=1, label="funder", funder_of=frozenset({init.id})), frozenset()
        )
    ]
    for member_id, org_id, slug in session.execute(
        select(Member.id, Organisation.id, Organisation.slug)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.initiative_id == init.id)
    ):
        actor = Actor(user_id=2, label=slug, reporter_in=frozenset({(init.id, org_id)}))
        out.append(Viewer(slug, actor, frozenset({member_id})))
    return out


def _shown(
    session: Session, init: Initiative, viewer: Viewer
) -> Iterator[tuple[str, str, str, Figure]]:
    """(indicator, period, key, figure) of every figure the viewer can fetch: the scorecard
    (current, previous, sparkline), series without and with every breakdown, by partner, and
    equity. A partner's view differs from the funder's only in the indicators it reports, so
    for a partner those are the ones read."""
    card = scorecard(session=session, actor=viewer.actor, initiative_slug=init.slug)
    before = card.periods[card.periods.index(card.period) - 1]
    for row in card.rows:
        yield row.code, card.period, TOTAL, row.current
        if row.previous is not None:
            yield row.code, before, TOTAL, row.previous
        for period, value in row.sparkline:
            yield row.code, period, TOTAL, Figure(value, None)
    query = select(Indicator).where(Indicator.initiative_id == init.id)
    if viewer.own:
        reported = (
            select(Value.indicator_id).join(Submission).where(Submission.member_id.in_(viewer.own))
        )
        query = query.where(Indicator.id.in_(reported))
    for indicator in session.scalars(query):
        bys = [None, "partner", *(d.code for d in indicator.dimensions)]
        for by in bys:
            s = series(
                session=session,
                actor=viewer.actor,
                initiative_slug=init.slug,
                indicator_code=indicator.code,
                by=by,
            )
            for p in s.total:
                yield indicator.code, p.period, TOTAL, p.figure
            for p in s.breakdown:
                key = p.key if by != "partner" else f"partner:{p.key}"
                yield indicator.code, p.period, key, p.figure
        for d in indicator.dimensions if not viewer.own else ():  # equity reads series
            e = equity(
                session=session,
                actor=viewer.actor,
                initiative_slug=init.slug,
                indicator_code=indicator.code,
                dimension=d.code,
            )
            for point in e.points:
                for key, _label, fig in point.categories:
                    yield indicator.code, point.period, key, fig


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_no_viewer_recovers_a_partner_figure(demo: Session, slug: str) -> None:
    """Every exact initiative figure comes from enough partners, still does once the viewer
    takes its own share away, leaves at least the threshold of people then, and partner
    figures are shown only to those they were shared with."""
    init = _initiative(demo, slug)
    needed = get_settings().min_contributors  # partners left after any one takes its share
    threshold = init.suppression_threshold
    indicators = {
        i.code: i for i in demo.scalars(select(Indicator).where(Indicator.initiative_id == init.id))
    }
    periods = {
        p.key: p.id for p in demo.scalars(select(Period).where(Period.initiative_id == init.id))
    }
    members = dict(
        demo.execute(
            select(Organisation.slug, Member.id)
            .join(Member, Member.organisation_id == Organisation.id)
            .where(Member.initiative_id == init.id)
        ).all()
    )
    sharing = set(
        demo.scalars(
            select(Member.id).where(Member.initiative_id == init.id, Member.shares_with_funders)
        )
    )
    shares: dict[tuple[int, int, str], dict[int, float]] = defaultdict(dict)
    for pf in partner_figures(session=demo, initiative_id=init.id):
        size = pf.denominator if pf.measure_type in ("rate", "average") else pf.value
        shares[(pf.indicator_id, pf.period_id, pf.disaggregation)][pf.member_id] = size or 0.0
    checked = 0
    for viewer in _viewers(demo, init):
        seen = list(_shown(demo, init, viewer))
        values = {(code, period, key): fig.value for code, period, key, fig in seen}
        for code, period, key, fig in seen:
            if fig.value is None:
                continue
            checked += 1
            ind = indicators[code]
            where = f"{viewer.name} sees {code} {period} {key} = {fig.value}"
            if ind.expression is not None:
                # A computed figure is shown only where every input is: it tells nothing the
                # viewer is not shown (the inputs themselves are checked here too).
                for code_in in parse(ind.expression).codes:
                    assert values.get((code_in, period, key)) is not None, where + f" ({code_in})"
                continue
            if key.startswith("partner:"):
                member = members[key.removeprefix("partner:")]
                assert member in viewer.own or (viewer.name == "funder" and member in sharing), (
                    where
                )
                continue
            parts = shares[(ind.id, periods[period], key)]
            assert len(parts) > needed, where + f" from {len(parts)} partners"
            for own in viewer.own & set(parts) or {None}:
                rest = {m: v for m, v in parts.items() if m != own}
                assert len(rest) >= needed, where
                if ind.measure_type != "amount":
                    assert sum(rest.values()) >= threshold, where
    assert checked or slug == HEAT  # the demo's heat partners are too few for anything to show


def test_the_reproductions_of_the_issue_recover_nothing(demo: Session) -> None:
    """Riverbend Children's Health (does not share, sole reporter of WELL_CHILD) and the
    bank's subtraction of its own interns, as filed."""
    init = _initiative(demo, C2C)
    funder = _viewers(demo, init)[0].actor
    # The latest published quarter: every partner reported in it, the health system too.
    card = scorecard(session=demo, actor=funder, initiative_slug=C2C, period_key="2026Q2")
    well = next(r for r in card.rows if r.code == "WELL_CHILD")
    assert well.current.value is None and well.contributors is None
    for by in (None, "race", "partner"):
        s = series(
            session=demo, actor=funder, initiative_slug=C2C, indicator_code="WELL_CHILD", by=by
        )
        assert all(p.figure.value is None for p in s.total + s.breakdown)
        assert "riverbend-childrens-health" not in {p.key for p in s.breakdown}
    bank = next(v for v in _viewers(demo, init) if v.name == "first-riverbend-bank")
    s = series(
        session=demo, actor=bank.actor, initiative_slug=C2C, indicator_code="INTERNSHIPS", by="race"
    )
    hispanic = next(p for p in s.breakdown if p.period == "2025Q3" and p.key == "race=hispanic")
    assert hispanic.figure.value is None
    own = series(
        session=demo,
        actor=bank.actor,
        initiative_slug=C2C,
        indicator_code="INTERNSHIPS",
        org="first-riverbend-bank",
    )
    backbone = series(
        session=demo,
        actor=SYSTEM,
        initiative_slug=C2C,
        indicator_code="INTERNSHIPS",
        org="first-riverbend-bank",
    )
    assert [p.figure.value for p in own.breakdown] == [p.figure.value for p in backbone.breakdown]
    assert any(p.figure.value is not None for p in own.breakdown)  # its own, exactly


def _correct_one(session: Session, init: Initiative, period_key: str) -> None:
    """Reopen an approved count report of the period, change one category and the total by
    the same amount, and approve it again."""
    row = session.execute(
        select(Organisation.slug, Indicator.code, Value.disaggregation, Value.value, Submission.id)
        .join(Submission, Submission.id == Value.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .join(Period, Period.id == Submission.period_id)
        .where(
            Submission.initiative_id == init.id,
            Period.key == period_key,
            Submission.status == "approved",
            Indicator.measure_type == "count",
            Value.disaggregation != TOTAL,
            Value.value > 3,
        )
        .order_by(Value.value)
        .limit(1)
    ).one()
    org, code, key, value, sub_id = row
    total = session.scalar(
        select(Value.value).where(
            Value.submission_id == sub_id,
            Value.disaggregation == TOTAL,
            Value.indicator_id
            == select(Indicator.id)
            .where(Indicator.initiative_id == init.id, Indicator.code == code)
            .scalar_subquery(),
        )
    )

    def move(action: str) -> None:
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug=init.slug,
            org_slug=org,
            period_key=period_key,
            action=action,
            comment="recount" if action == "reopen" else None,
        )

    move("reopen")
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug=init.slug,
        org_slug=org,
        period_key=period_key,
        inputs=[ValueInput(code, key, value=value - 3), ValueInput(code, TOTAL, value=total - 3)],
    )
    move("submit")
    move("approve")


@pytest.mark.parametrize("slug", [C2C, HEAT])
def test_vintages_and_live_views_keep_hidden_what_a_publication_hid(
    scratch: Session, slug: str
) -> None:
    init = _initiative(scratch, slug)
    period = scratch.scalar(  # the latest open period with an approved count to correct
        select(Period.key)
        .join(Submission, Submission.period_id == Period.id)
        .join(Value, Value.submission_id == Submission.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(
            Period.initiative_id == init.id,
            Period.locked.is_(False),
            Submission.status == "approved",
            Indicator.measure_type == "count",
            Value.disaggregation != TOTAL,
            Value.value > 3,
        )
        .order_by(Period.starts_on.desc())
        .limit(1)
    )
    publish(
        session=scratch,
        actor=SYSTEM,
        initiative_slug=slug,
        period_key=period,
        confirm_incomplete=True,
    )
    _correct_one(scratch, init, period)
    publish(
        session=scratch,
        actor=SYSTEM,
        initiative_slug=slug,
        period_key=period,
        confirm_incomplete=True,
    )
    snapshots = scratch.scalars(
        select(Publication.snapshot)
        .join(Period, Period.id == Publication.period_id)
        .where(Publication.initiative_id == init.id, Period.key == period)
        .order_by(Publication.id)
    ).all()
    first, second = (hidden_figures(s) for s in snapshots[-2:])  # the demo may have one
    assert first and first <= second
    published = public_summary(session=scratch, initiative_slug=slug)["periods"]
    [latest] = [p for p in published if p["period"] == period]
    assert latest["indicators"] == snapshots[-1]["indicators"]
    for viewer in _viewers(scratch, init)[:5]:  # the funder and four partners
        for code, p, key, fig in _shown(scratch, init, viewer):
            if p == period and f"{code} {key}" in first:
                assert fig.value is None, (
                    f"{viewer.name} sees {code} {key}, hidden by the first vintage"
                )


# --- one door -------------------------------------------------------------------------------


def test_only_the_disclosure_module_calls_the_engine() -> None:
    """No module but models/analytics/disclosure.py calls suppress_group (and the cross-tab
    covering around it, which only it calls): a view deciding on its own would hide a figure
    one way while another view shows it."""
    root = pathlib.Path(__file__).resolve().parents[2]
    callers: dict[str, set[str]] = {"suppress_group": set(), "suppress_with_cross_tabs": set()}
    for folder in ("models", "api", "dashboard"):
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Name | ast.Attribute):
                    name = node.id if isinstance(node, ast.Name) else node.attr
                    if name in callers:
                        callers[name].add(path.relative_to(root).as_posix())
    assert callers["suppress_group"] == {
        "models/analytics/disclosure.py",
        "models/analytics/cross_tabs.py",
    }
    assert callers["suppress_with_cross_tabs"] == {"models/analytics/disclosure.py"}


SENTINEL = Figure(value=None, n=None, marker="§", reason="sentinel")


def test_every_view_and_download_takes_its_figures_from_the_one_decision(
    scratch: Session, monkeypatch
) -> None:
    """With the decision replaced by a sentinel, every figure below backbone carries it: a view
    that computed or suppressed a figure of its own would show something else."""
    init = _initiative(scratch, C2C)

    def sentinel(
        indicator, figures, exact, dims, tables, memory, audience, rules, live
    ) -> GroupView:
        cells = {k: SENTINEL for keys in (keys for _, keys in dims) for k in keys if k in figures}
        partners = {m: SENTINEL for m in figures[TOTAL] if m in audience.visible}
        return GroupView(SENTINEL, cells, partners, None)

    monkeypatch.setattr(models.analytics.disclosure, "_decide_group", sentinel)
    publish(
        session=scratch,
        actor=SYSTEM,
        initiative_slug=C2C,
        period_key="2025Q3",
        confirm_incomplete=True,
    )
    summary = public_summary(session=scratch, initiative_slug=C2C)
    [republished] = [p for p in summary["periods"] if p["period"] == "2025Q3"]
    # A computed indicator's figures are made in the decision from its inputs' (here the
    # sentinel, hidden): hidden in turn, with the computed marker.
    computed = set(
        scratch.scalars(
            select(Indicator.code).where(
                Indicator.initiative_id == init.id, Indicator.expression.is_not(None)
            )
        )
    )
    assert computed
    published = [
        (ind["indicator"], fig)
        for ind in republished["indicators"]
        for fig in [ind["total"], *(c for b in ind["breakdowns"] for c in b["categories"])]
    ]
    assert published and all(
        f["marker"] == (INPUTS_MARKER if code in computed else "§") for code, f in published
    )
    for viewer in _viewers(scratch, init)[:4]:
        for code, *_, f in _shown(scratch, init, viewer):  # sparklines carry the value only
            if code in computed:
                assert f.value is None and f.marker in (INPUTS_MARKER, None), viewer.name
            else:
                assert f in (SENTINEL, Figure(None, None)), viewer.name
    # The backbone team's figures are exact, not the sentinel's.
    card = scorecard(session=scratch, actor=SYSTEM, initiative_slug=C2C, period_key="2025Q3")
    assert any(r.current.value is not None for r in card.rows)
    assert rollups(session=scratch, initiative_id=init.id)
