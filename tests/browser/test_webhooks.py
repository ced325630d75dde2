"""The webhooks page in a real browser: the backbone team adds an endpoint (after a refusal
shown under the URL), reads its secret once in a copyable box, and after a reload sees the
endpoint listed without it. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables.webhooks import WebhookDelivery, WebhookEndpoint

from .. import factories as f
from ..conftest import BACKENDS
from .support import chrome, console_errors, live_server, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

WAIT = 20
EMAIL = "backbone@river-city.test"
URL = "https://hooks.river-city.test/common-measure"
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")


def _wait(driver, condition, timeout: float = WAIT):
    """Wait for ``condition``; a check cut short by a navigation (a redirect) is retried."""

    def check(d):
        try:
            return condition(d)
        except WebDriverException as exc:
            if "navigat" in str(exc).lower():
                return False
            raise

    return WebDriverWait(driver, timeout).until(check)


def _text_of(ident: str):
    return lambda d: d.find_element(By.ID, ident).text


def _type(driver, ident: str, text: str) -> None:
    field = driver.find_element(By.ID, ident)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", field
    )
    field.clear()
    field.send_keys(text)


def _click(driver, ident: str) -> None:
    element = driver.find_element(By.ID, ident)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def test_backbone_adds_an_endpoint_and_sees_its_secret_once(fresh_database) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        f.user(session, "backbone", init=init, email=EMAIL)
        session.commit()
    backend = fresh_database.backend

    driver = chrome()
    try:
        with live_server(fresh_database.engine) as url:
            driver.get(url + "/webhooks")
            _wait(driver, EC.url_contains("/login"))
            _wait(driver, EC.presence_of_element_located((By.ID, "login-email")))
            driver.find_element(By.ID, "login-email").send_keys(EMAIL)
            driver.find_element(By.ID, "login-password").send_keys(f.PASSWORD)
            driver.find_element(By.ID, "login-submit").click()
            _wait(driver, EC.presence_of_element_located((By.ID, "webhooks-url")))
            _wait(driver, lambda d: "0 endpoints" in _text_of("webhooks-count")(d))

            # Plain http to another host: refused, the message under the URL.
            _type(driver, "webhooks-url", "http://hooks.river-city.test/x")
            _type(driver, "webhooks-description", "Our data warehouse")
            _click(driver, "webhooks-save")
            _wait(driver, lambda d: "https://" in _text_of("webhooks-url-error")(d))
            assert "is-invalid" in driver.find_element(By.ID, "webhooks-url").get_attribute("class")
            assert not driver.find_elements(By.ID, "webhooks-secret-value")
            screenshot(driver, f"webhooks-refused-{backend}")

            _type(driver, "webhooks-url", URL)
            _click(driver, "webhooks-save")
            box = _wait(driver, EC.visibility_of_element_located((By.ID, "webhooks-secret-value")))
            secret = box.get_attribute("value")
            assert SECRET.fullmatch(secret), secret
            assert "You will not see it again" in _text_of("webhooks-secret")(driver)
            assert driver.find_elements(By.ID, "webhooks-secret-value-copy")
            _wait(driver, lambda d: URL in _text_of("webhooks-grid")(d))
            assert _text_of("webhooks-url-error")(driver) == ""
            with Session(fresh_database.engine) as session:
                saved = session.scalar(select(WebhookEndpoint))
                assert saved is not None and saved.secret == secret
            screenshot(driver, f"webhooks-secret-shown-{backend}")

            # Reloaded: the endpoint is listed, its secret appears nowhere.
            driver.refresh()
            _wait(driver, lambda d: URL in _text_of("webhooks-grid")(d))
            _wait(driver, lambda d: "Our data warehouse" in _text_of("webhooks-grid")(d))
            assert secret not in driver.page_source
            assert not driver.find_elements(By.ID, "webhooks-secret-value")

            # Picking the endpoint fills the form and shows its delivery log.
            with Session(fresh_database.engine) as session:
                session.add(
                    WebhookDelivery(
                        endpoint_id=saved.id,
                        event_id="evt_1",
                        event="report_approved",
                        attempt=1,
                        at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
                        status_code=204,
                        duration_ms=87,
                        outcome="delivered",
                    )
                )
                session.commit()
            driver.find_element(By.CSS_SELECTOR, "#webhooks-grid .ag-row .ag-cell").click()
            _wait(driver, lambda d: "delivered" in _text_of("webhooks-deliveries")(d))
            assert "204" in _text_of("webhooks-deliveries")(driver)
            assert driver.find_element(By.ID, "webhooks-url").get_attribute("value") == URL
            assert driver.find_element(By.ID, "webhooks-rotate").is_enabled()
            screenshot(driver, f"webhooks-listed-{backend}")
            assert console_errors(driver) == []
    finally:
        driver.quit()
