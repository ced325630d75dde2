"""The language switcher in a real browser: the public summary switched to Spanish shows no
English UI text, and the choice stays for the next page (README, "Languages")."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy.orm import Session

from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.reporting.validation import ValueInput

from .. import factories as f
from ..conftest import BACKENDS
from ..i18n.english import english_in
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_public_summary_switched_to_spanish(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        built = f.children_served(session)
        f.period(session, built["init"], "2025Q3")
        session.commit()
        f.approved_report(
            session,
            "c2c",
            "p1",
            "2025Q3",
            [
                ValueInput("KIDS", value=4300),
                ValueInput("KIDS", "sex=f", value=2200),
                ValueInput("KIDS", "sex=m", value=2093),
                ValueInput("KIDS", "sex=x", value=7),
            ],
        )
        f.approved_report(session, "c2c", "p2", "2025Q3", [ValueInput("KIDS", value=21)])
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug="c2c",
            period_key="2025Q3",
            confirm_incomplete=True,
        )
        session.commit()

    with ui.live_server(fresh_database.engine) as url:
        driver.get(url + "/public/c2c")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "public-legend")))
        assert "How to read the figures" in driver.find_element(By.TAG_NAME, "body").text
        ui.click(driver, driver.find_element(By.ID, "language-es"))
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "public-legend"), "Cómo leer"))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-public-card")))
        ui.wait(
            driver, EC.text_to_be_present_in_element((By.ID, "public-download"), "Todas las cifras")
        )
        body = driver.find_element(By.TAG_NAME, "body").text
        lines = [line for line in body.splitlines() if line.strip()]
        assert not english_in(lines), english_in(lines)
        assert "4.321" in body and "Publicado el " in body
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
        ui.screenshot(driver, f"public-es-{fresh_database.backend}")
        # The choice stays: the next page opens in Spanish too.
        driver.get(url + "/public")
        ui.wait(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Resumen público"))
        ui.no_severe(driver)
