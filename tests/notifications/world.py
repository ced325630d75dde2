"""A small world for the notification tests: one initiative, two partners with reporters, a
funder and a backbone officer, one indicator; 2025Q3 open, due on a fixed day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from models.access.permissions import actor_for_user
from models.core.actors import SYSTEM
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f

DUE = date(2027, 1, 30)


def build(session: Session) -> dict:
    init = f.initiative(session, slug="c2c", name="Cradle <to> Career")
    served = f.indicator(session, init, "count", code="SERVED", valid_max=100_000)
    east = f.member(session, init, f.organisation(session, slug="eastside", name="Eastside"))
    west = f.member(session, init, f.organisation(session, slug="westside", name="Westside"))
    for m in (east, west):
        f.obligation(session, m, served)
    f.period(
        session,
        init,
        "2025Q3",
        opens_on=date(2025, 10, 1),
        due_on=DUE,
        closes_on=date(2027, 3, 1),
    )
    people = {
        "east1": f.user(session, "reporter", init=init, org=east.organisation, email="e1@x.org"),
        "east2": f.user(session, "reporter", init=init, org=east.organisation, email="e2@x.org"),
        "west": f.user(session, "reporter", init=init, org=west.organisation, email="w@x.org"),
        "funder": f.user(session, "funder", init=init, email="funder@x.org"),
        "backbone": f.user(session, "backbone", init=init, email="bb@x.org"),
        "admin": f.user(session, "admin", email="admin@x.org"),
    }
    session.flush()
    return {"init": init, "east": east, "west": west, **people}


def backbone(session: Session, world: dict | None = None):
    """The backbone officer as an actor, read in ``session`` (the world's objects may belong
    to a session that has ended)."""
    user = session.scalar(select(User).where(User.email == "bb@x.org"))
    return actor_for_user(session=session, user=user)


def submit(session: Session, org: str, value: int = 5) -> None:
    common = {"initiative_slug": "c2c", "org_slug": org, "period_key": "2025Q3"}
    save_values(session=session, actor=SYSTEM, inputs=[ValueInput("SERVED", value=value)], **common)
    transition(session=session, actor=SYSTEM, action="submit", today=date(2026, 12, 1), **common)


def decide(session: Session, world: dict, org: str, action: str, comment: str | None = None):
    return transition(
        session=session,
        actor=backbone(session, world),
        initiative_slug="c2c",
        org_slug=org,
        period_key="2025Q3",
        action=action,
        comment=comment,
        today=date(2026, 12, 1),
    )
