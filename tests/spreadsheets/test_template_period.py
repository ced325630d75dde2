"""A template's default period follows the rule saves obey: the latest period the members'
reporters may write today, so a partner whose deadline was extended past a closed period gets
that period's template when no period is open, and nobody else does."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from models import DeadlineExtension, Period
from models.access.permissions import actor_for_user
from models.core.errors import InvalidInput, NotFound
from models.reporting import deadlines
from models.reporting.submissions import reporting_period
from models.spreadsheets.templates import build_template

from .. import factories as f
from .conftest import build_world, headers_by_role

BASE = "/api/v1/initiatives/c2c"
TODAY = date.today()


@pytest.fixture
def world(session, client):
    """The spreadsheets world (2025Q3 open, 2025Q2 closed yesterday, 2025Q1 locked) with a
    user per role; ``close_q3`` closes 2025Q3 too, so that no period is open."""
    built = build_world(session)
    users = {
        "backbone": f.user(session, "backbone", init=built["init"]),
        "east": f.user(session, "reporter", org=built["east"].organisation),
        "west": f.user(session, "reporter", org=built["west"].organisation),
    }
    headers = headers_by_role(session, client, built)
    return {**built, "users": users, "h": headers}


def _actor(session, world, who: str):
    return actor_for_user(session=session, user=world["users"][who])


def _close_q3(session) -> None:
    session.execute(
        update(Period)
        .where(Period.key == "2025Q3")
        .values(due_on=TODAY - timedelta(days=5), closes_on=TODAY - timedelta(days=2))
    )
    session.commit()


def _extend(session, world, org: str, period: str, until=TODAY + timedelta(days=7)) -> None:
    deadlines.grant_extension(
        session=session,
        actor=_actor(session, world, "backbone"),
        initiative_slug="c2c",
        org_slug=org,
        period_key=period,
        until=until,
        reason="flooded office",
    )
    session.commit()


def _default(session, world, who: str, org: str | None = None) -> str:
    return build_template(
        session=session, actor=_actor(session, world, who), initiative_slug="c2c", org_slug=org
    ).period


def _rows(client, headers, **params) -> list[dict]:
    r = client.get(f"{BASE}/template.csv", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_open_period_is_the_default_while_there_is_one(world, session) -> None:
    _extend(session, world, "eastside", "2025Q2")  # an older period extended: the open one wins
    assert _default(session, world, "east") == "2025Q3"
    assert _default(session, world, "west") == "2025Q3"
    assert _default(session, world, "backbone") == "2025Q3"


def test_with_no_period_open_an_extended_partner_gets_its_period(client, world, session) -> None:
    _close_q3(session)
    for who in ("east", "west"):
        with pytest.raises(InvalidInput) as refused:
            _default(session, world, who)
        assert refused.value.field == "period"
        assert "nor extended for" in refused.value.message

    _extend(session, world, "eastside", "2025Q2")
    assert _default(session, world, "east") == "2025Q2"
    assert _default(session, world, "backbone", org="eastside") == "2025Q2"
    with pytest.raises(InvalidInput):  # Westside's deadline was not extended
        _default(session, world, "west")
    with pytest.raises(InvalidInput):
        _default(session, world, "backbone", org="westside")

    # Over HTTP: the reporter's template is the extended period's, pre-filled for it.
    rows = _rows(client, world["h"]["reporter"])
    assert {(r["organisation"], r["period"]) for r in rows} == {("eastside", "2025Q2")}
    r = client.get(f"{BASE}/template.xlsx", headers=world["h"]["reporter"])
    assert r.status_code == 200 and "eastside-2025Q2-template" in r.headers["content-disposition"]
    refused = client.get(f"{BASE}/template.csv", headers=world["h"]["other"])
    assert refused.status_code == 422 and refused.json()["field"] == "period"


def test_the_default_follows_the_save_rule_not_the_extension_row(world, session) -> None:
    """An extension that has ended, or one in a period locked since, opens nothing: the
    template does not default to a period the partner may not write."""
    _close_q3(session)
    _extend(session, world, "eastside", "2025Q2")
    session.execute(
        update(DeadlineExtension).values(until=TODAY - timedelta(days=1))  # ended yesterday
    )
    session.commit()
    with pytest.raises(InvalidInput):
        _default(session, world, "east")
    _extend(session, world, "eastside", "2025Q2")  # granted again
    assert _default(session, world, "east") == "2025Q2"
    session.execute(update(Period).where(Period.key == "2025Q2").values(locked=True))
    session.commit()
    with pytest.raises(InvalidInput):
        _default(session, world, "east")


def test_the_latest_writable_period_wins(world, session) -> None:
    """Two closed periods extended for the partner: the latest; an extension of the newer
    period for another member does not move this one's default."""
    _close_q3(session)
    _extend(session, world, "eastside", "2025Q2")
    _extend(session, world, "westside", "2025Q3")
    assert _default(session, world, "east") == "2025Q2"
    assert _default(session, world, "west") == "2025Q3"
    _extend(session, world, "eastside", "2025Q3")
    assert _default(session, world, "east") == "2025Q3"
    # Every active member (the backbone's template): a period any of them may write.
    assert _default(session, world, "backbone") == "2025Q3"


def test_an_invisible_member_is_missing_before_any_period_is_read(world, session) -> None:
    """With no period open, asking for another organisation's template still answers 404
    (like an unknown one), not which periods it may write."""
    _close_q3(session)
    for org in ("westside", "nowhere"):
        with pytest.raises(NotFound) as missing:
            _default(session, world, "east", org=org)
        assert missing.value.field == "org"


def test_reporting_period_is_the_portal_s_default(world, session) -> None:
    def default(who: str, org: str) -> str | None:
        return reporting_period(
            session=session,
            actor=_actor(session, world, who),
            initiative_slug="c2c",
            org_slug=org,
        )

    assert default("east", "eastside") == "2025Q3"
    _close_q3(session)
    assert default("east", "eastside") is None
    _extend(session, world, "eastside", "2025Q2")
    assert (default("east", "eastside"), default("backbone", "eastside")) == ("2025Q2", "2025Q2")
    assert default("backbone", "westside") is None
    with pytest.raises(NotFound):
        default("west", "eastside")
