"""Small builders for test data: a minimal initiative with what a test needs, nothing more."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from models import (
    Category,
    Dimension,
    Indicator,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Outcome,
    Period,
    Submission,
)

_seq = itertools.count(1)


def initiative(session: Session, slug: str | None = None, **kw) -> Initiative:
    n = next(_seq)
    obj = Initiative(slug=slug or f"initiative-{n}", name=kw.pop("name", f"Initiative {n}"), **kw)
    session.add(obj)
    session.flush()
    return obj


def organisation(session: Session, slug: str | None = None, **kw) -> Organisation:
    n = next(_seq)
    obj = Organisation(
        slug=slug or f"org-{n}",
        name=kw.pop("name", f"Organisation {n}"),
        sector=kw.pop("sector", "nonprofit"),
        **kw,
    )
    session.add(obj)
    session.flush()
    return obj


def member(session: Session, init: Initiative, org: Organisation | None = None, **kw) -> Member:
    obj = Member(initiative=init, organisation=org or organisation(session), **kw)
    session.add(obj)
    session.flush()
    return obj


def outcome(session: Session, init: Initiative, **kw) -> Outcome:
    n = next(_seq)
    obj = Outcome(
        initiative_id=init.id, code=kw.pop("code", f"O{n}"), name=kw.pop("name", f"Outcome {n}")
    )
    session.add(obj)
    session.flush()
    return obj


def indicator(session: Session, init: Initiative, measure_type: str = "count", **kw) -> Indicator:
    n = next(_seq)
    obj = Indicator(
        initiative_id=init.id,
        code=kw.pop("code", f"IND{n}"),
        name=kw.pop("name", f"Indicator {n}"),
        unit=kw.pop("unit", "%" if measure_type == "rate" else "people"),
        measure_type=measure_type,
        direction=kw.pop("direction", "higher"),
        frequency=kw.pop("frequency", "quarterly"),
        **kw,
    )
    session.add(obj)
    session.flush()
    return obj


def dimension(session: Session, init: Initiative, code: str, categories: list[str]) -> Dimension:
    obj = Dimension(initiative_id=init.id, code=code, name=code.title())
    obj.categories = [
        Category(code=c, name=c.title(), position=i) for i, c in enumerate(categories)
    ]
    session.add(obj)
    session.flush()
    return obj


def cross_tab(
    session: Session, init: Initiative, rows: Dimension, columns: Dimension, code: str = ""
) -> Dimension:
    """A cross-tab of two dimensions: a category per pair, coded "row.column"."""
    obj = Dimension(
        initiative_id=init.id,
        code=code or f"{rows.code}_x_{columns.code}",
        name=f"{rows.name} × {columns.name}",
        row_dimension=rows,
        column_dimension=columns,
    )
    obj.categories = [
        Category(code=f"{r.code}.{c.code}", name=f"{r.name} · {c.name}", position=i)
        for i, (r, c) in enumerate((r, c) for r in rows.categories for c in columns.categories)
    ]
    session.add(obj)
    session.flush()
    return obj


def period(session: Session, init: Initiative, key: str = "2025Q3", **kw) -> Period:
    year, quarter = int(key[:4]), int(key[-1])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    obj = Period(
        initiative_id=init.id,
        key=key,
        kind="quarter",
        starts_on=start,
        ends_on=date.fromordinal(end.toordinal() - 1),
        opens_on=kw.pop("opens_on", end),
        due_on=kw.pop("due_on", date.fromordinal(end.toordinal() + 30)),
        closes_on=kw.pop("closes_on", date.fromordinal(end.toordinal() + 60)),
        **kw,
    )
    session.add(obj)
    session.flush()
    return obj


def open_period(
    session: Session,
    init: Initiative,
    key: str,
    *,
    opened: int = 10,
    due: int = 20,
    closes: int = 40,
) -> Period:
    """A period whose reporting window is open today: opened ``opened`` days ago, due and
    closing in ``due`` and ``closes`` days (tests run on any day)."""
    today = date.today()
    return period(
        session,
        init,
        key,
        opens_on=today - timedelta(days=opened),
        due_on=today + timedelta(days=due),
        closes_on=today + timedelta(days=closes),
    )


def closed_period(session: Session, init: Initiative, key: str) -> Period:
    """A period whose reporting window closed yesterday (due 70 days ago)."""
    today = date.today()
    return period(
        session,
        init,
        key,
        opens_on=today - timedelta(days=100),
        due_on=today - timedelta(days=70),
        closes_on=today - timedelta(days=1),
    )


def two_partner_world(session: Session, *, ready_name: str | None = None) -> dict:
    """One initiative, two partners, a rate with a race breakdown (K_READY), a count (SERVED)
    and an average (SCORE); eastside reports all three, westside SERVED; 2025Q3 open today,
    2025Q2 closed. The world of the reporting and spreadsheet tests."""
    init = initiative(session, slug="c2c")
    race = dimension(session, init, "race", ["black", "white"])
    named = {"name": ready_name} if ready_name else {}
    ready = indicator(session, init, "rate", code="K_READY", valid_min=0, valid_max=100, **named)
    ready.dimensions = [race]
    served = indicator(session, init, "count", code="SERVED", valid_max=100_000)
    score = indicator(session, init, "average", code="SCORE", valid_min=0, valid_max=500)
    east = member(session, init, organisation(session, slug="eastside"))
    west = member(session, init, organisation(session, slug="westside"))
    for ind in (ready, served, score):
        obligation(session, east, ind)
    obligation(session, west, served)
    open_period(session, init, "2025Q3")
    closed_period(session, init, "2025Q2")
    return {"init": init, "east": east, "west": west}


def children_served(session: Session) -> dict:
    """Initiative c2c ("Cradle to Career"): outcome READY with KIDS (children served, by sex
    f/m/x), which partners p1 and p2 report; no period yet. The world of the overview,
    indicator and publish page tests."""
    init = initiative(session, slug="c2c", name="Cradle to Career")
    sex = dimension(session, init, "sex", ["f", "m", "x"])
    out = outcome(session, init, code="READY", name="Ready for school")
    kids = indicator(session, init, "count", code="KIDS", name="Children served", outcome_id=out.id)
    kids.dimensions = [sex]
    members = {}
    for slug in ("p1", "p2"):
        members[slug] = member(session, init, organisation(session, slug=slug, name=slug.upper()))
        obligation(session, members[slug], kids)
    return {"init": init, "outcome": out, "kids": kids, "members": members}


ROLES = ("backbone", "reporter", "other", "funder", "outsider")


def two_partner_users(session: Session, built: dict, roles=ROLES) -> dict:
    """A user per role of ``roles`` in the two-partner world, made in that order: the
    initiative's ``backbone`` and ``funder``, ``reporter`` for eastside, ``other`` for
    westside, ``outsider`` the backbone team of another initiative."""
    init, east, west = built["init"], built["east"], built["west"]
    make = {
        "backbone": lambda: user(session, "backbone", init=init),
        "reporter": lambda: user(session, "reporter", org=east.organisation),
        "other": lambda: user(session, "reporter", org=west.organisation),
        "funder": lambda: user(session, "funder", init=init),
        "outsider": lambda: user(session, "backbone", init=initiative(session, slug="other")),
    }
    return {role: make[role]() for role in roles}


def bearer_headers(client, users: dict) -> dict[str, dict[str, str]]:
    """Each committed user's API headers, role by role, from the token route."""
    headers = {}
    for role, u in users.items():
        r = client.post("/api/v1/auth/token", data={"username": u.email, "password": PASSWORD})
        headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers


def _report(session: Session, actor, org: str, period: str) -> dict:
    """The keywords naming a partner's report of the two-partner world, and who acts on it."""
    return {
        "session": session,
        "actor": actor,
        "initiative_slug": "c2c",
        "org_slug": org,
        "period_key": period,
    }


def save_report(session: Session, actor, inputs, reason=None, *, org="eastside", period="2025Q3"):
    """``actor`` saves ``inputs`` into a partner's report of the two-partner world."""
    from models.reporting.submissions import save_values

    return save_values(inputs=inputs, reason=reason, **_report(session, actor, org, period))


def move_report(session: Session, actor, action, comment=None, *, org="eastside", period="2025Q3"):
    """``actor`` takes a workflow ``action`` on a partner's report of the two-partner world."""
    from models.reporting.submissions import transition

    return transition(action=action, comment=comment, **_report(session, actor, org, period))


def obligation(session: Session, mem: Member, ind: Indicator) -> Obligation:
    obj = Obligation(member_id=mem.id, indicator_id=ind.id)
    session.add(obj)
    session.flush()
    return obj


def submission(session: Session, mem: Member, per: Period, status: str = "draft") -> Submission:
    obj = Submission(
        initiative_id=mem.initiative_id, member_id=mem.id, period_id=per.id, status=status
    )
    session.add(obj)
    session.flush()
    return obj


PASSWORD = "a-test-password-1"


def user(session: Session, role: str = "admin", *, init=None, org=None, email=None):
    from models.access.users import create_user

    return create_user(
        session=session,
        email=email or f"user{next(_seq)}@example.org",
        password=PASSWORD,
        role=role,
        initiative_slug=init.slug if init is not None else None,
        organisation_slug=org.slug if org is not None else None,
    )


def reported_value(session: Session, sub: Submission, ind: Indicator, category=None, **kw):
    """One value in a submission: the total, or the category's share when ``category`` is given."""
    from models import Value

    obj = Value(
        submission_id=sub.id,
        initiative_id=sub.initiative_id,
        period_id=sub.period_id,
        indicator_id=ind.id,
        measure_type=ind.measure_type,
        category_id=category.id if category is not None else None,
        disaggregation=category.key if category is not None else "total",
        value=kw.pop("value", 1),
        flags=[],
        **kw,
    )
    session.add(obj)
    session.flush()
    return obj


def approved_report(
    session: Session, initiative: str, org: str, period: str, inputs, actor=None
) -> None:
    """A partner's report saved, submitted and approved through the real workflow (as
    ``actor``, the system by default), so its rollups and audit trail are the real ones."""
    from models.core.actors import SYSTEM
    from models.reporting.submissions import save_values, transition

    who = actor or SYSTEM
    common = {"initiative_slug": initiative, "org_slug": org, "period_key": period}
    save_values(session=session, actor=who, inputs=inputs, **common)
    for action in ("submit", "approve"):
        transition(session=session, actor=who, action=action, **common)


def webhook_delivery(session: Session, endpoint_id: int, outcome: str, **kw):
    """One attempt in an endpoint's delivery log: the first, of a report_approved event on
    5 January 2026 at 9:30 UTC, unless ``kw`` says otherwise."""
    from models.tables.webhooks import WebhookDelivery

    fields = {"event_id": "evt_1", "event": "report_approved", "attempt": 1}
    fields["at"] = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    obj = WebhookDelivery(endpoint_id=endpoint_id, outcome=outcome, **(fields | kw))
    session.add(obj)
    return obj
