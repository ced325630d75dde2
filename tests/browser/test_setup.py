"""The setup page in a real browser: the backbone team creates an indicator (after a refusal
shown next to its field), a period with a due date of its own, and extends one partner's
deadline; it adds a new partner organisation as a member (its slug suggested from its name)
and marks a series break. Screenshots of each step go to var/screenshots/."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    DeadlineExtension,
    Indicator,
    Member,
    Obligation,
    Period,
    SeriesBreak,
)

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

EMAIL = "backbone@river-city.test"


def _choose(driver, ident: str, value: str) -> None:
    """Open the dropdown and click the option whose value is ``value``."""
    ui.click(driver, ident)
    option = ui.wait(
        driver,
        EC.element_to_be_clickable((By.XPATH, f"//*[@role='option'][.//input[@value='{value}']]")),
    )
    option.click()
    if driver.find_elements(By.CSS_SELECTOR, "[role=listbox]"):  # a multiple choice stays open
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=listbox]"))


def _date(driver, ident: str, day: date) -> None:
    ui.click(driver, ident)
    field = driver.find_element(By.ID, ident)
    field.send_keys(day.isoformat())
    field.send_keys(Keys.ENTER)
    ui.wait(
        driver, lambda d: d.find_element(By.ID, ident).get_attribute("value") == day.isoformat()
    )
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def _tab(driver, label: str) -> None:
    """Click a tab, scrolled into view first: after a save at the foot of a long form (the
    indicator's, with its gap targets) the tabs are above the window, under the header."""
    tab = driver.find_element(By.XPATH, f"//ul[contains(@class,'nav-tabs')]//a[text()='{label}']")
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", tab
    )
    tab.click()


def test_backbone_creates_an_indicator_and_a_period(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.outcome(session, init, code="reading", name="Early reading")
        f.dimension(session, init, "race", ["black", "white"])
        f.indicator(session, init, "rate", code="K_READY", name="Kindergarten ready")
        f.member(session, init, f.organisation(session, slug="eastside", name="Eastside Library"))
        f.period(session, init, "2025Q3")  # its window closed long ago
        f.user(session, "backbone", init=init, email=EMAIL)
        session.commit()
    backend = fresh_database.backend
    until = date.today() + timedelta(days=14)

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/setup", EMAIL)
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, "#setup-indicator-grid .ag-row")),
        )
        ui.wait(driver, lambda d: "higher" in ui.text_of("setup-indicator-direction")(d))
        ui.wait(driver, lambda d: "River City" in ui.text_of("setup-initiative")(d))
        ui.screenshot(driver, f"setup-indicators-{backend}")
        ui.fits(driver)

        # An indicator without its unit: refused, the message under the unit.
        ui.type_in(driver, "setup-indicator-code", "READ_3RD")
        ui.type_in(driver, "setup-indicator-name", "Third graders reading on grade level")
        _choose(driver, "setup-indicator-measure_type", "rate")
        _choose(driver, "setup-indicator-outcome", "reading")
        _choose(driver, "setup-indicator-dimensions", "race")
        ui.type_in(driver, "setup-indicator-valid_min", "0")
        ui.type_in(driver, "setup-indicator-valid_max", "100")
        ui.type_in(driver, "setup-indicator-baseline_value", "41.5")
        _choose(driver, "setup-indicator-baseline_period", "2025Q3")
        ui.click(driver, "setup-indicator-save")
        ui.wait(driver, lambda d: ui.text_of("setup-indicator-unit-error")(d) == "is required")
        assert "see the message under “Unit”" in ui.text_of("setup-indicator-feedback")(driver)
        ui.screenshot(driver, f"setup-indicator-refused-{backend}")

        ui.type_in(driver, "setup-indicator-unit", "%")
        ui.click(driver, "setup-indicator-save")
        ui.wait(driver, lambda d: "saved" in ui.text_of("setup-indicator-feedback")(d))
        ui.wait(driver, lambda d: "READ_3RD" in ui.text_of("setup-indicator-grid")(d))
        assert ui.text_of("setup-indicator-unit-error")(driver) == ""
        assert ui.text_of("setup-indicator-heading")(driver) == "Edit indicator READ_3RD"
        ui.wait(driver, lambda d: "created" in ui.text_of("setup-indicator-changes")(d))
        ui.screenshot(driver, f"setup-indicator-saved-{backend}")

        # A period with its own due date (the others take the defaults).
        _tab(driver, "Periods")
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "setup-period-key")))
        ui.wait(driver, EC.url_contains("tab=period"))  # the open tab can be bookmarked
        ui.type_in(driver, "setup-period-key", "2025Q4")
        _date(driver, "setup-period-due_on", date(2026, 1, 20))
        ui.click(driver, "setup-period-save")
        ui.wait(driver, lambda d: "saved" in ui.text_of("setup-period-feedback")(d))
        ui.wait(driver, lambda d: "2025Q4" in ui.text_of("setup-period-grid")(d))
        time.sleep(0.5)  # the changes card follows the save
        ui.screenshot(driver, f"setup-period-saved-{backend}")

        # One partner's deadline for the closed 2025Q3.
        _tab(driver, "Deadlines")
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "setup-extension-org")))
        _choose(driver, "setup-extension-org", "eastside")
        _choose(driver, "setup-extension-period", "2025Q3")
        _date(driver, "setup-extension-until", until)
        ui.type_in(driver, "setup-extension-reason", "Library closed by the flood")
        ui.click(driver, "setup-extension-save")
        ui.wait(driver, lambda d: "may write" in ui.text_of("setup-extension-feedback")(d))
        ui.wait(driver, lambda d: "Eastside Library" in ui.text_of("setup-extension-grid")(d))
        time.sleep(0.5)
        ui.screenshot(driver, f"setup-deadlines-{backend}")
        ui.no_severe(driver)

    with Session(fresh_database.engine) as session:
        indicator = session.scalar(select(Indicator).where(Indicator.code == "READ_3RD"))
        assert (indicator.unit, indicator.measure_type, indicator.baseline_value) == (
            "%",
            "rate",
            41.5,
        )
        assert [d.code for d in indicator.dimensions] == ["race"]
        q4 = session.scalar(select(Period).where(Period.key == "2025Q4"))
        assert (q4.opens_on, q4.due_on, q4.closes_on) == (
            date(2026, 1, 1),
            date(2026, 1, 20),
            date(2026, 3, 1),
        )
        extension = session.scalar(select(DeadlineExtension))
        assert (extension.until, extension.reason) == (until, "Library closed by the flood")


def test_backbone_adds_a_new_partner_and_a_series_break(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.indicator(session, init, "rate", code="K_READY", name="Kindergarten ready")
        f.indicator(session, init, "count", code="SERVED", name="Children served")
        f.member(session, init, f.organisation(session, slug="eastside", name="Eastside Library"))
        f.period(session, init, "2025Q2")
        f.period(session, init, "2025Q3")
        f.user(session, "backbone", init=init, email=EMAIL)
        session.commit()
    backend = fresh_database.backend

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/setup?tab=member", EMAIL)
        ui.wait(driver, lambda d: "Eastside Library" in ui.text_of("setup-member-grid")(d))
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "setup-member-joins")))
        assert not driver.find_element(By.ID, "setup-member-org_name").is_displayed()

        # A partner not in the directory yet: its fields, the slug following the name.
        driver.find_element(
            By.XPATH, "//*[@id='setup-member-joins']//label[contains(., 'is new')]"
        ).click()
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "setup-member-org_name")))
        assert not driver.find_element(By.ID, "setup-member-organisation").is_displayed()
        ui.type_in(driver, "setup-member-org_name", "Riverside Health Clinic")
        ui.wait(
            driver,
            lambda d: (
                d.find_element(By.ID, "setup-member-org_slug").get_attribute("value")
                == "riverside-health-clinic"
            ),
        )
        _choose(driver, "setup-member-obligations", "K_READY")
        ui.click(driver, "setup-member-save")  # no sector yet: refused, under the sector
        ui.wait(driver, lambda d: ui.text_of("setup-member-org_sector-error")(d) == "is required")
        assert "see the message under “Sector”" in ui.text_of("setup-member-feedback")(driver)
        ui.screenshot(driver, f"setup-member-new-refused-{backend}")

        _choose(driver, "setup-member-org_sector", "health")
        ui.type_in(driver, "setup-member-org_website", "https://riverside.example.org")
        ui.click(driver, "setup-member-save")
        ui.wait(driver, lambda d: "saved" in ui.text_of("setup-member-feedback")(d))
        ui.wait(driver, lambda d: "Riverside Health Clinic" in ui.text_of("setup-member-grid")(d))
        ui.wait(
            driver,
            lambda d: "Riverside Health Clinic" in ui.text_of("setup-member-organisation")(d),
        )
        assert ui.text_of("setup-member-org_sector-error")(driver) == ""
        assert not driver.find_element(By.ID, "setup-member-org_name").is_displayed()
        ui.wait(
            driver, lambda d: "riverside-health-clinic" in ui.text_of("setup-member-changes")(d)
        )
        ui.screenshot(driver, f"setup-member-new-saved-{backend}")

        # A series break: K_READY is measured differently from 2025Q3 on.
        _tab(driver, "Series breaks")
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "setup-break-note")))
        ui.wait(driver, EC.url_contains("tab=break"))
        _choose(driver, "setup-break-indicator", "K_READY")
        _choose(driver, "setup-break-period", "2025Q3")
        ui.click(driver, "setup-break-save")  # no note yet
        ui.wait(driver, lambda d: ui.text_of("setup-break-note-error")(d) == "is required")
        ui.type_in(driver, "setup-break-note", "The state replaced its readiness assessment")
        ui.click(driver, "setup-break-save")
        ui.wait(driver, lambda d: "charts mark the break" in ui.text_of("setup-break-feedback")(d))
        ui.wait(driver, lambda d: "K_READY" in ui.text_of("setup-break-grid")(d))
        ui.wait(driver, lambda d: "K_READY · 2025Q3" in ui.text_of("setup-break-changes")(d))
        ui.screenshot(driver, f"setup-series-break-{backend}")
        ui.fits(driver)
        ui.no_severe(driver)

    with Session(fresh_database.engine) as session:
        member = session.scalar(
            select(Member).where(Member.organisation.has(slug="riverside-health-clinic"))
        )
        assert (member.organisation.name, member.organisation.sector) == (
            "Riverside Health Clinic",
            "health",
        )
        obliged = select(Indicator.code).join(Obligation).where(Obligation.member_id == member.id)
        assert session.scalars(obliged).all() == ["K_READY"]
        created = session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "organisation"))
        assert created.initiative_id == member.initiative_id
        [marked] = session.execute(
            select(Period.key, SeriesBreak.note).join(
                SeriesBreak, SeriesBreak.period_id == Period.id
            )
        ).all()
        assert tuple(marked) == ("2025Q3", "The state replaced its readiness assessment")
