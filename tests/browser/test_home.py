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
