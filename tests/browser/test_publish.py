"""Publishing in a real browser, on the demo: the backbone team previews the latest period
with approved data, is asked to confirm that it is incomplete, publishes it, and the public
page shows it with the figures the preview showed. A partner's value history is one click away
from the indicator page."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Initiative, Period, Publication, Submission
from models.demo.builder import load_demo
from models.demo.spec import DEMO_PASSWORD

from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

INITIATIVE = "cradle-to-career"


def _unpublished(db) -> str:
    """Load the demo; the latest period with approved data that has no publication yet."""
    db.migrate()
    with Session(db.engine) as session:
        load_demo(session=session)
        session.commit()
        init = session.scalar(select(Initiative.id).where(Initiative.slug == INITIATIVE))
        key = session.scalar(
            select(Period.key)
            .where(
                Period.initiative_id == init,
                Period.id.in_(select(Submission.period_id).where(Submission.status == "approved")),
                Period.id.not_in(select(Publication.period_id)),
            )
            .order_by(Period.starts_on.desc())
            .limit(1)
        )
    assert key is not None, "the demo left no period with approved data unpublished"
    return key


def _texts(driver, selector: str) -> list[str]:
    return [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def test_preview_confirm_publish_and_the_public_page_shows_it(fresh_database, driver) -> None:
    period = _unpublished(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(
            driver,
            url,
            f"/reporting/publish?initiative={INITIATIVE}&period={period}",
            "backbone@demo.test",
            DEMO_PASSWORD,
        )
        ui.wait(driver, EC.url_contains("/reporting/publish"))
        ui.wait(driver, EC.presence_of_element_located((By.ID, "publish-figures")))
        assert driver.find_elements(By.ID, "nav-publish")
        status = driver.find_element(By.ID, "publish-status").text
        assert "needs a confirmation" in status, status  # the demo has missing reports
        assert driver.find_elements(By.ID, "publish-pending")
        assert driver.find_element(By.ID, "publish-confirm-group").is_displayed()
        preview_totals = dict(
            driver.execute_script(
                "return [...document.querySelectorAll('#publish-figures tr')]"
                ".filter(r => r.querySelector('.cm-preview-total'))"
                ".map(r => [r.querySelector('.fw-semibold').textContent.trim(),"
                " r.querySelector('.cm-preview-total .cm-preview-value').textContent.trim()])"
            )
        )
        assert preview_totals and any(
            t.startswith("<") for t in _texts(driver, "#publish-figures .cm-preview-marker")
        ), "the demo's preview hides some figure"
        ui.screenshot(driver, f"publish-preview-{backend}")

        # Without the confirmation: refused, said next to the box, nothing published.
        submit = driver.find_element(By.ID, "publish-submit")
        assert submit.text == f"Publish {period}"
        driver.find_element(By.ID, "publish-note").send_keys("First release of the quarter.")
        submit.click()
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "publish-confirm-feedback"), "Tick"),
        )
        ui.screenshot(driver, f"publish-needs-confirmation-{backend}")
        assert "has not been published yet" in driver.find_element(By.ID, "publish-vintages").text

        driver.find_element(By.ID, "publish-confirm").click()
        driver.find_element(By.ID, "publish-submit").click()
        ui.wait(driver, EC.presence_of_element_located((By.ID, "publish-done")))
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "publish-vintages"), "First publication"),
        )
        assert (
            "First release of the quarter." in driver.find_element(By.ID, "publish-vintages").text
        )
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "publish-submit"), "again"))
        ui.screenshot(driver, f"publish-published-{backend}")
        ui.no_severe(driver)

        # The public page shows the period, with the figures the preview showed.
        driver.find_element(By.ID, "publish-public-link").click()
        ui.wait(driver, EC.url_contains(f"/public/{INITIATIVE}"))
        # A card per indicator; one whose figures are all hidden has no chart, only text.
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-public-card")))
        assert f"period={period}" in driver.current_url
        assert (
            "First release of the quarter."
            in driver.find_element(By.CSS_SELECTOR, ".cm-public").text
        )
        # Each indicator's total as the preview showed it (the page groups the programme
        # measures under the curves they bear on: one bearing on two is shown under both).
        cards = driver.execute_script(
            "return [...document.querySelectorAll('.cm-public-card')]"
            ".map(c => [c.querySelector('h3').childNodes[0].textContent.trim(),"
            " c.querySelector('.cm-stat').textContent.trim()])"
        )
        assert {name for name, _ in cards} == set(preview_totals)
        assert all(preview_totals[name] == total for name, total in cards), cards
        ui.screenshot(driver, f"publish-public-{backend}")
        ui.no_severe(driver)

        # A partner's value history, from the indicator page's partner comparison.
        driver.get(url + f"/indicator?initiative={INITIATIVE}&period={period}")
        for chart in ("trend", "partners", "equity"):  # the page's height has settled
            ui.wait(
                driver,
                EC.presence_of_element_located(
                    (By.CSS_SELECTOR, f"#indicator-{chart} .main-svg .trace")
                ),
            )
        link = ui.wait(
            driver,
            EC.element_to_be_clickable((By.CSS_SELECTOR, "a.cm-partner-history")),
        )
        # Clicked where it is (the charts above it still resize as they draw).
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link
        )
        ui.wait(driver, EC.url_contains("/history"))
        ui.wait(driver, EC.presence_of_element_located((By.ID, "history-table")))
        assert driver.find_elements(By.CSS_SELECTOR, ".cm-history-row")
        ui.screenshot(driver, f"history-page-{backend}")
        ui.no_severe(driver)
