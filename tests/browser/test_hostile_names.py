"""A partner's name is text wherever a page shows it, also where a page sends its rows as
prebuilt JSON rather than Dash components (dashboard.components.tables.html_element): a name
written as markup or script shows as those characters and never runs."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy.orm import Session

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

BACKBONE = "backbone@river-city.test"
HOSTILE = '<img src=x onerror="window.cmPwned=1">Eve\'s "Co" &amp; <b>bold</b>'


def _world(db) -> None:
    """River City's closed 2025Q2: the hostile partner's draft is late and has a flagged
    value, and its submitted 2025Q2 report of a second indicator waits in the queue."""
    db.migrate()
    with Session(db.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        served = f.indicator(session, init, "count", code="SERVED", name="Children served")
        eve = f.member(session, init, f.organisation(session, slug="eve", name=HOSTILE))
        f.obligation(session, eve, served)
        q2 = f.closed_period(session, init, "2025Q2")
        sub = f.submission(session, eve, q2, "draft")
        value = f.reported_value(session, sub, served, value=120)
        value.flags = ["outlier"]
        f.user(session, "backbone", init=init, email=BACKBONE)
        session.commit()


def test_a_partner_named_in_markup_shows_as_text(fresh_database, driver) -> None:
    _world(fresh_database)
    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/reporting?initiative=river-city&period=2025Q2", BACKBONE)
        ui.wait(driver, lambda d: HOSTILE in ui.text_of("reporting-late")(d))
        ui.wait(driver, lambda d: HOSTILE in ui.text_of("reporting-flagged")(d))
        for ident in ("reporting-late", "reporting-flagged"):
            shown = driver.find_element(By.ID, ident)
            assert shown.find_elements(By.TAG_NAME, "img") == []
            assert shown.find_elements(By.TAG_NAME, "b") == []
        assert driver.execute_script("return window.cmPwned") is None
        ui.no_severe(driver)
