"""The home page in a real browser: the initiatives, read through the domain layer."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session

from .. import factories as f
from ..conftest import BACKENDS
from .support import chrome, console_errors, live_server, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]


def test_home_lists_initiatives(fresh_database) -> None:
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

    driver = chrome()
    try:
        with live_server(fresh_database.engine) as url:
            driver.get(url + "/")
            WebDriverWait(driver, 20).until(
                EC.presence_of_element_located((By.ID, "initiative-river-city"))
            )
            body = driver.find_element(By.TAG_NAME, "body").text
            assert "River City Reads" in body
            assert "2025Q3" in body
            WebDriverWait(driver, 20).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, "#initiative-table .ag-row"))
            )
            screenshot(driver, f"home-{fresh_database.backend}")
            assert console_errors(driver) == []
    finally:
        driver.quit()


NAV_ITEMS = ("nav-overview", "nav-portal", "nav-review", "nav-public", "nav-logout")


def _nav_middles(driver) -> dict[str, float]:
    """Each menu item's vertical middle: on one line, they line up."""
    rects = {ident: driver.find_element(By.ID, ident).rect for ident in ("nav-home", *NAV_ITEMS)}
    return {ident: r["y"] + r["height"] / 2 for ident, r in rects.items()}


def test_the_menu_fits_one_line_and_collapses_on_a_phone(fresh_database) -> None:
    """The backbone team's menu (every page) is one line at 1280 px; on a phone it folds behind
    a toggler instead of taking the top of the screen."""
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.period(session, init, "2025Q3")
        f.user(session, "backbone", init=init, email="backbone.team@river-city.example.org")
        session.commit()

    driver = chrome()
    wait = WebDriverWait(driver, 20)
    try:
        with live_server(fresh_database.engine) as url:
            driver.get(url + "/login")
            wait.until(EC.presence_of_element_located((By.ID, "login-email")))
            driver.find_element(By.ID, "login-email").send_keys(
                "backbone.team@river-city.example.org"
            )
            driver.find_element(By.ID, "login-password").send_keys(f.PASSWORD)
            driver.find_element(By.ID, "login-submit").click()
            wait.until(EC.presence_of_element_located((By.ID, "nav-logout")))
            screenshot(driver, f"menu-desktop-{fresh_database.backend}")
            middles = _nav_middles(driver)
            assert max(middles.values()) - min(middles.values()) < 10, middles  # one line
            heights = {i: driver.find_element(By.ID, i).rect["height"] for i in NAV_ITEMS}
            assert max(heights.values()) < 45, heights  # no item wraps its label
            assert driver.find_element(By.CSS_SELECTOR, "nav.navbar").rect["height"] < 80
            assert not driver.find_element(By.ID, "nav-toggler").is_displayed()

            driver.set_window_size(390, 844)
            driver.get(url + "/public")
            wait.until(EC.presence_of_element_located((By.ID, "nav-toggler")))
            wait.until(EC.visibility_of_element_located((By.ID, "nav-toggler")))
            assert driver.find_element(By.CSS_SELECTOR, "nav.navbar").rect["height"] < 80
            assert not driver.find_element(By.ID, "nav-public").is_displayed()
            screenshot(driver, f"menu-phone-{fresh_database.backend}")
            driver.find_element(By.ID, "nav-toggler").click()
            wait.until(EC.visibility_of_element_located((By.ID, "nav-public")))
            wait.until(EC.visibility_of_element_located((By.ID, "nav-logout")))
            screenshot(driver, f"menu-phone-open-{fresh_database.backend}")
            assert console_errors(driver) == []
    finally:
        driver.quit()
