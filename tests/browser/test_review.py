"""The review page in a real browser: the backbone team returns a report whose period has
closed, with an extension picked in the action bar (a day the domain refuses first, its message
beside the field), and the partner then corrects the report in its portal, which says until
when. Screenshots of each step go to var/screenshots/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import DeadlineExtension, Indicator, Submission, Value
from models.core.dates import day

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

BACKBONE = "backbone@river-city.test"
PARTNER = "reporter@westside.test"
KEY = "westside|2025Q2"


def _date(driver, ident: str, day_: date) -> None:
    """Type a day into the date picker over the day it holds."""
    ui.click(driver, ident)
    field = driver.find_element(By.ID, ident)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(day_.isoformat())
    field.send_keys(Keys.ENTER)
    ui.wait(
        driver, lambda d: d.find_element(By.ID, ident).get_attribute("value") == day_.isoformat()
    )
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def _world(db) -> int:
    """River City: Westside's 2025Q2 report waits for review, and 2025Q2 closed yesterday."""
    db.migrate()
    with Session(db.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        served = f.indicator(session, init, "count", code="SERVED", name="Children served")
        west = f.member(
            session, init, f.organisation(session, slug="westside", name="Westside Library")
        )
        f.obligation(session, west, served)
        q2 = f.closed_period(session, init, "2025Q2")
        sub = f.submission(session, west, q2, "submitted")
        f.reported_value(session, sub, served, value=120)
        f.user(session, "backbone", init=init, email=BACKBONE)
        f.user(session, "reporter", org=west.organisation, email=PARTNER)
        session.commit()
        return sub.id


def test_backbone_returns_with_an_extension_and_the_partner_corrects(
    fresh_database, driver
) -> None:
    submission_id = _world(fresh_database)
    backend = fresh_database.backend
    today = date.today()
    until = today + timedelta(days=10)

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/reporting/review?initiative=river-city", BACKBONE)
        ui.wait(driver, EC.url_contains("/reporting/review"))
        shown = f'#review-detail-body[data-report="{KEY}"]'
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, shown)))  # the first

        # A plain return is refused and says why; the extension is offered beside Return.
        offer = ui.text_of("review-cannot-return")(driver)
        assert "A plain return is refused" in offer and "closed on" in offer
        assert "Return with an extension instead" in offer
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "review-until")))
        field = driver.find_element(By.ID, "review-until")
        assert field.get_attribute("value") == (today + timedelta(days=7)).isoformat()
        button = driver.find_element(By.ID, "review-return")
        assert button.text == "Return with an extension" and button.is_enabled()
        bar = driver.find_element(By.ID, "review-actions").rect
        height = driver.execute_script("return window.innerHeight")
        assert bar["y"] + bar["height"] <= height + 1, (bar, height)  # the bar stays in view
        ui.screenshot(driver, f"review-extension-offer-{backend}")

        # A day before the period closed: refused, its message beside the field.
        driver.find_element(By.ID, "review-comment").send_keys("Please recount SERVED.")
        _date(driver, "review-until", today - timedelta(days=1))
        ui.click(driver, "review-return")
        ui.wait(driver, lambda d: "after the period closes" in ui.text_of("review-until-error")(d))
        assert not driver.find_elements(By.ID, "review-done")
        ui.screenshot(driver, f"review-extension-refused-{backend}")

        _date(driver, "review-until", until)
        ui.click(driver, "review-return")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "review-done")))
        done = ui.text_of("review-done")(driver)
        assert "RETURNED" in done and f"may correct it until {day(until)}" in done
        assert ui.text_of("review-until-error")(driver) == ""
        # The queue is read again: nothing waits any more.
        ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, shown))
        ui.wait(driver, lambda d: "0 reports waiting" in ui.text_of("review-queue-count")(d))
        ui.screenshot(driver, f"review-extension-returned-{backend}")
        ui.no_severe(driver)

        # Who has reported: the extension next to Westside's status, and in the list.
        driver.get(url + "/reporting?initiative=river-city&period=2025Q2")
        badge = ui.wait(
            driver, EC.presence_of_element_located((By.ID, "reporting-extended-westside"))
        )
        assert badge.text == f"extended to {day(until)}"
        assert "Please recount SERVED." in ui.text_of("reporting-extensions")(driver)
        ui.scroll_to(driver, driver.find_element(By.ID, "reporting-extensions"))
        ui.screenshot(driver, f"reporting-extensions-{backend}")

        # The partner: its portal opens on the extended period, editable, and says so.
        ui.log_out(driver)
        ui.open_as(driver, url, "/portal?initiative=river-city", PARTNER)
        ui.wait(driver, EC.url_contains("/portal"))
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-extension-note")))
        note = ui.text_of("portal-extension-note")(driver)
        assert f"You may still write 2025Q2 until {day(until)}" in note
        assert "Please recount SERVED." in ui.text_of("portal-return-comment")(driver)
        cell = '#portal-grid .ag-row[row-id="SERVED|total"] .ag-cell[col-id="value"]'
        target = ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, cell)))
        ActionChains(driver).double_click(target).perform()
        editor = ui.wait(
            driver,
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, '#portal-grid .ag-row[row-id="SERVED|total"] input')
            ),
        )
        editor.send_keys(Keys.CONTROL, "a")
        editor.send_keys("135")
        editor.send_keys(Keys.ENTER)
        ui.click(driver, "portal-save")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-saved")))
        ui.screenshot(driver, f"portal-extended-saved-{backend}")
        ui.click(driver, "portal-submit")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-submitted")))
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "portal-status-badge"), "SUBMITTED"),
        )
        ui.no_severe(driver)

    with Session(fresh_database.engine) as session:
        submission = session.get(Submission, submission_id)
        assert submission.status == "submitted"
        stored = session.scalar(
            select(Value.value)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(Value.submission_id == submission_id, Indicator.code == "SERVED")
        )
        assert stored == 135
        extension = session.scalar(select(DeadlineExtension))
        assert (extension.until, extension.reason) == (until, "Please recount SERVED.")
