"""Turn the curve in a real browser, on the demo: from the indicator page to the turn-the-curve
page of third-grade reading (chart, method, strategy, story), the same forecast as the API for
the backbone team and for a funder (whose hidden figures are named, not drawn), the PDF report
downloaded from the page, and a partner's portal listing the strategy it owns."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy.orm import Session

from models.demo.builder import load_demo
from models.demo.spec import DEMO_PASSWORD

from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

INITIATIVE = "cradle-to-career"
CODE = "READ_G3"
STRATEGY = "every-child-reading"
PARTNER = "reporter@read-together-riverbend.demo.test"  # an owner of that strategy


def _api(url: str, email: str) -> dict:
    token = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD}
    ).json()["access_token"]
    r = httpx.get(
        f"{url}/api/v1/initiatives/{INITIATIVE}/indicators/{CODE}/turn-the-curve",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _method_shown(driver, expected: str) -> None:
    ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "ttc-method"), expected))
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#ttc-chart .main-svg")))


def _downloaded(folder: Path, suffix: str) -> bytes:
    deadline = time.monotonic() + ui.WAIT
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size]
        if done:
            return done[0].read_bytes()
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file was downloaded")


def test_turn_the_curve_page_on_the_demo(fresh_database, driver, tmp_path) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        load_demo(session=session)
        session.commit()
    backend = fresh_database.backend
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    with ui.live_server(fresh_database.engine) as url:
        # The backbone officer follows the link from the indicator page.
        ui.open_as(
            driver,
            url,
            f"/indicator?initiative={INITIATIVE}&code={CODE}",
            "backbone@demo.test",
            DEMO_PASSWORD,
        )
        ui.click(driver, ui.present(driver, "indicator-ttc-link"))
        ui.wait(driver, EC.url_contains("/turn-the-curve"))
        view = _api(url, "backbone@demo.test")
        forecast = view["forecast"]
        assert forecast["available"], forecast["method"]
        assert forecast["strategy"] == STRATEGY and len(forecast["used"]) >= 3
        assert forecast["slope"] < 0, "the demo's reading curve fell before its strategy"
        _method_shown(driver, forecast["method"])
        assert driver.find_element(By.ID, f"ttc-strategy-{STRATEGY}").is_displayed()
        assert view["story"] and view["story"]["period"] in ui.text_of("ttc-story-note")(driver)
        assert driver.find_element(By.ID, "ttc-story").text.strip()
        legend = driver.find_element(By.CSS_SELECTOR, "#ttc-chart .legend").text
        assert {"Actual", "Baseline forecast", "Target"} <= set(legend.split("\n"))
        assert driver.find_elements(By.ID, "nav-strategies")
        ui.fits(driver)
        ui.screenshot(driver, f"turn-the-curve-backbone-{backend}")
        ui.click(driver, driver.find_element(By.ID, "ttc-pdf"))
        assert _downloaded(tmp_path, ".pdf").startswith(b"%PDF-")
        ui.no_severe(driver)

        # A funder: the page states the funder's own forecast, and names what is hidden.
        ui.log_out(driver)
        ui.open_as(
            driver,
            url,
            f"/turn-the-curve?initiative={INITIATIVE}&code={CODE}",
            "funder@demo.test",
            DEMO_PASSWORD,
        )
        funder = _api(url, "funder@demo.test")
        _method_shown(driver, funder["forecast"]["method"])
        hidden = [p["period"] for p in funder["actual"] if p["figure"]["value"] is None]
        note = driver.find_element(By.ID, "ttc-hidden").text
        assert all(period in note for period in hidden)
        assert not set(funder["forecast"]["hidden"]) & {
            u["period"] for u in funder["forecast"]["used"]
        }
        ui.screenshot(driver, f"turn-the-curve-funder-{backend}")
        ui.no_severe(driver)

        # A partner that owns the strategy finds it in its portal, with the curve it aims at.
        ui.log_out(driver)
        ui.open_as(driver, url, f"/portal?initiative={INITIATIVE}", PARTNER, DEMO_PASSWORD)
        item = ui.present(driver, f"portal-strategy-{STRATEGY}")
        ui.scroll_to(driver, item)
        assert "Every child reading by third grade" in item.text
        assert driver.find_elements(By.ID, f"portal-strategy-curve-{STRATEGY}-{CODE}")
        assert driver.find_elements(By.ID, "nav-strategies")
        ui.screenshot(driver, f"portal-strategies-{backend}")
        ui.no_severe(driver)
