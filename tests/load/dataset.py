"""The load test's initiative: partners with API keys, a year of approved history, and backbone
staff who log in to the dashboard.

One open quarter takes the partners' writes. The four quarters before it hold approved totals
broken down by gender, with baselines and targets, so the dashboard pages have a trend, a
partner comparison, an equity view and outlier checks to compute, as in a reporting season.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from models import (
    ApiKey,
    Category,
    Dimension,
    Indicator,
    Initiative,
    Member,
    Obligation,
    Organisation,
    Outcome,
    Period,
    RoleGrant,
    Submission,
    User,
    Value,
    indicator_dimensions,
)
from models.access.api_keys import _hash_key
from models.access.users import create_user
from models.analytics.rollups import rebuild
from models.core.dates import today

SLUG = "load"
# (code, measure type, outcome): what the partners report each quarter.
INDICATORS = (
    ("SERVED", "count", "REACH"),
    ("SESSIONS", "count", "REACH"),
    ("READY", "rate", "READINESS"),
)
OUTCOMES = {"REACH": "People reached", "READINESS": "Ready for school"}
PERIOD = "2020Q1"  # the open quarter the partners write
HISTORY = ("2019Q1", "2019Q2", "2019Q3", "2019Q4")  # approved before the season
GENDERS = ("female", "male", "nonbinary")
DASH_PASSWORD = "load-dashboard-password-1"


@dataclass(frozen=True)
class LoadInitiative:
    keys: list[tuple[str, str]]  # (partner slug, API key) per reporter
    backbone_key: str
    dashboard_users: list[str]  # e-mails of backbone staff, all with DASH_PASSWORD


def build(engine: Engine, reporters: int, dashboard_users: int) -> LoadInitiative:
    rng = random.Random(14)
    keys = []
    with Session(engine) as s:
        init = Initiative(slug=SLUG, name="Load test")
        s.add(init)
        s.flush()
        periods = _periods(s, init.id)
        indicators = _indicators(s, init.id, periods)
        gender = Dimension(initiative_id=init.id, code="gender", name="Gender")
        gender.categories = [
            Category(code=c, name=c.title(), position=i) for i, c in enumerate(GENDERS)
        ]
        s.add(gender)
        s.flush()
        s.execute(
            insert(indicator_dimensions),
            [{"indicator_id": ind.id, "dimension_id": gender.id} for ind in indicators],
        )
        members = []
        for i in range(reporters):
            org = _partner(s, init.id, i, indicators)
            members.append(org[0])
            keys.append((org[1], _reporter_key(s, init.id, i, org[2])))
        _history(s, init.id, members, periods, indicators, gender, rng)
        backbone = _backbone_key(s, init.id)
        s.commit()
        emails = [f"dashboard-{i:02d}@load.test" for i in range(dashboard_users)]
        for email in emails:
            create_user(
                session=s,
                email=email,
                password=DASH_PASSWORD,
                role="backbone",
                initiative_slug=SLUG,
            )
        s.commit()
        rebuild(session=s, initiative_id=init.id)
        s.commit()
    return LoadInitiative(keys, backbone, emails)


def _periods(s: Session, init_id: int) -> dict[str, Period]:
    now = today()
    periods = {}
    for n, key in enumerate(HISTORY):
        starts = date(2019, 3 * n + 1, 1)
        ends = (date(2019, 3 * n + 4, 1) if n < 3 else date(2020, 1, 1)) - timedelta(days=1)
        periods[key] = Period(
            initiative_id=init_id,
            key=key,
            kind="quarter",
            starts_on=starts,
            ends_on=ends,
            opens_on=ends + timedelta(days=1),
            due_on=ends + timedelta(days=30),
            closes_on=ends + timedelta(days=60),
        )
    periods[PERIOD] = Period(
        initiative_id=init_id,
        key=PERIOD,
        kind="quarter",
        starts_on=date(2020, 1, 1),
        ends_on=date(2020, 3, 31),
        opens_on=now - timedelta(days=1),
        due_on=now + timedelta(days=30),
        closes_on=now + timedelta(days=60),
    )
    s.add_all(periods.values())
    s.flush()
    return periods


def _indicators(s: Session, init_id: int, periods: dict[str, Period]) -> list[Indicator]:
    outcomes = {}
    for position, (code, name) in enumerate(OUTCOMES.items()):
        outcomes[code] = Outcome(initiative_id=init_id, code=code, name=name, position=position)
    s.add_all(outcomes.values())
    s.flush()
    indicators = [
        Indicator(
            initiative_id=init_id,
            outcome_id=outcomes[outcome].id,
            code=code,
            name=code.title(),
            unit="%" if kind == "rate" else "people",
            measure_type=kind,
            frequency="quarterly",
            direction="higher",
            position=position,
            baseline_value=45.0 if kind == "rate" else 200 * (250 if code == "SERVED" else 1200),
            baseline_period_id=periods[HISTORY[0]].id,
            target_value=70.0 if kind == "rate" else 200 * (600 if code == "SERVED" else 3000),
            target_period_id=periods[PERIOD].id,
        )
        for position, (code, kind, outcome) in enumerate(INDICATORS)
    ]
    s.add_all(indicators)
    s.flush()
    return indicators


def _partner(s: Session, init_id: int, i: int, indicators: list[Indicator]):
    org = Organisation(slug=f"partner-{i:03d}", name=f"Partner {i}", sector="nonprofit")
    s.add(org)
    s.flush()
    member = Member(initiative_id=init_id, organisation_id=org.id)
    s.add(member)
    s.flush()
    s.execute(
        insert(Obligation),
        [{"member_id": member.id, "indicator_id": ind.id} for ind in indicators],
    )
    return member.id, org.slug, org.id


def _reporter_key(s: Session, init_id: int, i: int, org_id: int) -> str:
    """An API key acting for a living reporter of the partner (a login nobody can use)."""
    secret = f"cm_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}{uuid.uuid4().hex}"
    owner = User(email=f"load-{i:03d}@load.test", password_hash="!")
    owner.grants.append(RoleGrant(role="reporter", initiative_id=init_id, organisation_id=org_id))
    s.add(owner)
    s.flush()
    s.add(
        ApiKey(
            prefix=secret.split("_")[1],
            key_hash=_hash_key(secret),
            name="load",
            organisation_id=org_id,
            created_by_id=owner.id,
        )
    )
    return secret


def _backbone_key(s: Session, init_id: int) -> str:
    secret = f"cm_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}{uuid.uuid4().hex}"
    officer = User(email="backbone@load.test", password_hash="!")
    officer.grants.append(RoleGrant(role="backbone", initiative_id=init_id))
    s.add(officer)
    s.flush()
    s.add(
        ApiKey(
            prefix=secret.split("_")[1],
            key_hash=_hash_key(secret),
            name="load",
            initiative_id=init_id,
            created_by_id=officer.id,
        )
    )
    return secret


def _history(s, init_id, members, periods, indicators, gender, rng) -> None:
    """Approved reports for the quarters before the season: totals and their gender split."""
    history = [periods[k] for k in HISTORY]
    s.execute(
        insert(Submission),
        [
            {
                "initiative_id": init_id,
                "member_id": m,
                "period_id": p.id,
                "status": "approved",
                "version": 2,
            }
            for m in members
            for p in history
        ],
    )
    ids = {
        (m, p): sid
        for sid, m, p in s.execute(
            select(Submission.id, Submission.member_id, Submission.period_id).where(
                Submission.initiative_id == init_id
            )
        )
    }
    categories = [(f"gender={c.code}", c.id) for c in gender.categories]
    rows = []
    for m in members:
        size = rng.uniform(0.5, 1.5)  # a partner's size stays about the same over the year
        for n, p in enumerate(history):
            for ind in indicators:
                base = {
                    "submission_id": ids[(m, p.id)],
                    "initiative_id": init_id,
                    "period_id": p.id,
                    "indicator_id": ind.id,
                    "measure_type": ind.measure_type,
                }
                rows += _cells(base, ind, size * (1 + 0.05 * n), categories, rng)
    s.execute(insert(Value), rows)


def _cells(base: dict, ind: Indicator, size: float, categories, rng) -> list[dict]:
    """A total and gender categories that add up to it."""
    weights = [rng.uniform(0.2, 1.0) for _ in categories]
    shares = [w / sum(weights) for w in weights]
    if ind.measure_type == "rate":
        den = max(len(categories), round(100 * size))
        dens = [max(1, round(den * sh)) for sh in shares]
        nums = [round(d * rng.uniform(0.35, 0.7)) for d in dens]
        cells = [("total", None, sum(nums), sum(dens))] + [
            (key, cid, n, d) for (key, cid), n, d in zip(categories, nums, dens, strict=True)
        ]
        return [
            {
                **base,
                "disaggregation": key,
                "category_id": cid,
                "value": 100.0 * n / d,
                "numerator": n,
                "denominator": d,
            }
            for key, cid, n, d in cells
        ]
    scale = 250 if ind.code == "SERVED" else 1200
    parts = [round(scale * size * sh) for sh in shares]
    cells = [("total", None, sum(parts))] + [
        (key, cid, v) for (key, cid), v in zip(categories, parts, strict=True)
    ]
    return [
        {**base, "disaggregation": key, "category_id": cid, "value": float(v)}
        for key, cid, v in cells
    ]
