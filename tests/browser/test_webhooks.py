"""The webhooks page in a real browser: the backbone team adds an endpoint (after a refusal
shown under the URL), reads its secret once in a copyable box, and after a reload sees the
endpoint listed without it. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables.webhooks import WebhookEndpoint

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

EMAIL = "backbone@river-city.test"
URL = "https://hooks.river-city.test/common-measure"
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")


def test_backbone_adds_an_endpoint_and_sees_its_secret_once(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.user(session, "backbone", init=init, email=EMAIL)
        session.commit()
    backend = fresh_database.backend

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/webhooks", EMAIL)
        ui.wait(driver, EC.presence_of_element_located((By.ID, "webhooks-url")))
        ui.wait(driver, lambda d: "0 endpoints" in ui.text_of("webhooks-count")(d))

        # Plain http to another host: refused, the message under the URL.
        ui.type_in(driver, "webhooks-url", "http://hooks.river-city.test/x")
        ui.type_in(driver, "webhooks-description", "Our data warehouse")
        ui.click(driver, "webhooks-save")
        ui.wait(driver, lambda d: "https://" in ui.text_of("webhooks-url-error")(d))
        assert "is-invalid" in driver.find_element(By.ID, "webhooks-url").get_attribute("class")
        assert not driver.find_elements(By.ID, "webhooks-secret-value")
        ui.screenshot(driver, f"webhooks-refused-{backend}")

        ui.type_in(driver, "webhooks-url", URL)
        ui.click(driver, "webhooks-save")
        box = ui.wait(driver, EC.visibility_of_element_located((By.ID, "webhooks-secret-value")))
        secret = box.get_attribute("value")
        assert SECRET.fullmatch(secret), secret
        assert "You will not see it again" in ui.text_of("webhooks-secret")(driver)
        assert driver.find_elements(By.ID, "webhooks-secret-value-copy")
        ui.wait(driver, lambda d: URL in ui.text_of("webhooks-grid")(d))
        assert ui.text_of("webhooks-url-error")(driver) == ""
        with Session(fresh_database.engine) as session:
            saved = session.scalar(select(WebhookEndpoint))
            assert saved is not None and saved.secret == secret
        ui.screenshot(driver, f"webhooks-secret-shown-{backend}")

        # Reloaded: the endpoint is listed, its secret appears nowhere.
        driver.refresh()
        ui.wait(driver, lambda d: URL in ui.text_of("webhooks-grid")(d))
        ui.wait(driver, lambda d: "Our data warehouse" in ui.text_of("webhooks-grid")(d))
        assert secret not in driver.page_source
        assert not driver.find_elements(By.ID, "webhooks-secret-value")

        # Picking the endpoint fills the form and shows its delivery log.
        with Session(fresh_database.engine) as session:
            f.webhook_delivery(session, saved.id, "delivered", status_code=204, duration_ms=87)
            session.commit()
        driver.find_element(By.CSS_SELECTOR, "#webhooks-grid .ag-row .ag-cell").click()
        ui.wait(driver, lambda d: "delivered" in ui.text_of("webhooks-deliveries")(d))
        assert "204" in ui.text_of("webhooks-deliveries")(driver)
        assert driver.find_element(By.ID, "webhooks-url").get_attribute("value") == URL
        assert driver.find_element(By.ID, "webhooks-rotate").is_enabled()
        ui.screenshot(driver, f"webhooks-listed-{backend}")
        ui.no_severe(driver)
