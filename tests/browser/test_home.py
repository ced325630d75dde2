"""The home page in a real browser: the initiatives, read through the domain layer."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy.orm import Session

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]


def test_home_lists_initiatives(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(
            session, slug="river-city", name="River City Reads", region="River City"
        )
        for name in ("Eastside Library", "River City Schools"):
            f.member(session, init, f.organisation(session, name=name))
        f.indicator(session, init)
        f.period(session, init, "2025Q3")
        session.commit()

    with ui.live_server(fresh_database.engine) as url:
        driver.get(url + "/")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "initiative-river-city")))
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "River City Reads" in body
        assert "2025Q3" in body
        ui.wait(
            driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#initiative-table .ag-row"))
        )
        ui.screenshot(driver, f"home-{fresh_database.backend}")
        ui.no_severe(driver)


NAV_ITEMS = ("nav-overview", "nav-portal", "nav-review", "nav-public", "nav-logout")


def _nav_middles(driver, items=NAV_ITEMS) -> dict[str, float]:
    """Each menu item's vertical middle: on one line, they line up."""
    rects = {ident: driver.find_element(By.ID, ident).rect for ident in ("nav-home", *items)}
    return {ident: r["y"] + r["height"] / 2 for ident, r in rects.items()}


def test_the_menu_fits_one_line_and_collapses_on_a_phone(fresh_database, driver) -> None:
    """The backbone team's menu (every page) is one line at 1280 px; on a phone it folds behind
    a toggler instead of taking the top of the screen."""
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.period(session, init, "2025Q3")
        f.user(session, "backbone", init=init, email="backbone.team@river-city.example.org")
        f.user(session, "admin", email="admin@river-city.example.org")
        session.commit()

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/login", "backbone.team@river-city.example.org")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
        ui.screenshot(driver, f"menu-desktop-{fresh_database.backend}")
        middles = _nav_middles(driver)
        assert max(middles.values()) - min(middles.values()) < 10, middles  # one line
        heights = {i: driver.find_element(By.ID, i).rect["height"] for i in NAV_ITEMS}
        assert max(heights.values()) < 45, heights  # no item wraps its label
        assert driver.find_element(By.CSS_SELECTOR, "nav.navbar").rect["height"] < 80
        assert not driver.find_element(By.ID, "nav-toggler").is_displayed()
        # An administrator's menu, the longest (every page and the mailbox), fits too.
        ui.log_out(driver)
        ui.open_as(driver, url, "/login", "admin@river-city.example.org")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-mailbox")))
        middles = _nav_middles(driver)
        middles["nav-mailbox"] = _nav_middles(driver, ("nav-mailbox",))["nav-mailbox"]
        assert max(middles.values()) - min(middles.values()) < 10, middles
        assert driver.find_element(By.CSS_SELECTOR, "nav.navbar").rect["height"] < 80
        ui.screenshot(driver, f"menu-admin-{fresh_database.backend}")

        driver.set_window_size(390, 844)
        driver.get(url + "/public")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-toggler")))
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "nav-toggler")))
        assert driver.find_element(By.CSS_SELECTOR, "nav.navbar").rect["height"] < 80
        assert not driver.find_element(By.ID, "nav-public").is_displayed()
        ui.screenshot(driver, f"menu-phone-{fresh_database.backend}")
        driver.find_element(By.ID, "nav-toggler").click()
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "nav-public")))
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "nav-logout")))
        ui.screenshot(driver, f"menu-phone-open-{fresh_database.backend}")
        ui.no_severe(driver)
