"""The analytics pages in a real browser, on the demo: overview, indicator, reporting, public.

The demo is loaded into a fresh database (it publishes its older quarters itself); the backbone
team's overview must agree with the scorecard API, approving a submitted report must change it,
and the public page must open on the latest published quarter's figures, as on a first run.
"""

from __future__ import annotations

import re

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Initiative, Member, Organisation, Period, Submission
from models.demo.builder import load_demo
from models.demo.spec import DEMO_PASSWORD
from models.publishing.publish import public_summary

from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

INITIATIVE = "cradle-to-career"


def _demo(db) -> dict:
    """Load the demo, find its latest published quarter, pick a submitted report."""
    db.migrate()
    with Session(db.engine) as session:
        load_demo(session=session)
        session.flush()
        published = public_summary(session=session, initiative_slug=INITIATIVE)["periods"][-1]
        submitted = session.execute(
            select(Organisation.slug, Period.key)
            .join(Member, Member.organisation_id == Organisation.id)
            .join(Submission, Submission.member_id == Member.id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Submission.initiative_id)
            .where(Initiative.slug == INITIATIVE, Submission.status == "submitted")
            .order_by(Period.starts_on.desc(), Organisation.slug)
        ).first()
        session.commit()
    assert submitted is not None, "the demo has no submitted report"
    return {"published": published["period"], "org": submitted[0], "period": submitted[1]}


def _api_scorecard(url: str, token: str, period: str) -> dict:
    r = httpx.get(
        f"{url}/api/v1/initiatives/{INITIATIVE}/scorecard",
        params={"period": period},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return {row["code"]: row for row in r.json()["rows"]}


def _shown(row: dict) -> str:
    value = row["current"]["value"]
    if value is None:
        return row["current"]["marker"] or "—"
    return f"{value:,.{row['decimals']}f}"


def _current(driver, code: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f"#ov-row-{code} td:nth-child(2)").text


def test_dashboards_agree_with_the_api(fresh_database, driver) -> None:
    demo = _demo(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        token = httpx.post(
            f"{url}/api/v1/auth/token",
            data={"username": "backbone@demo.test", "password": DEMO_PASSWORD},
        ).json()["access_token"]

        # Overview: the same current numbers as the scorecard API.
        overview = f"/overview?initiative={INITIATIVE}&period={demo['period']}"
        ui.open_as(driver, url, overview, "backbone@demo.test", DEMO_PASSWORD)
        ui.wait(driver, EC.url_contains("/overview"))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-scorecard-row")))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-sparkline svg")))
        assert driver.find_elements(By.ID, "nav-reporting")
        rows = _api_scorecard(url, token, demo["period"])
        checked = 0
        for code, row in list(rows.items())[:4]:
            assert _current(driver, code).startswith(_shown(row)), code
            checked += 1
        assert checked
        ui.screenshot(driver, f"overview-{backend}")
        ui.no_severe(driver)

        # Approving the submitted report changes the overview's figures.
        before = {code: _current(driver, code) for code in rows}
        r = httpx.post(
            f"{url}/api/v1/initiatives/{INITIATIVE}/submissions/"
            f"{demo['org']}/{demo['period']}/approve",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        after_api = _api_scorecard(url, token, demo["period"])
        driver.get(url + overview)
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-scorecard-row")))
        after = {code: _current(driver, code) for code in rows}
        assert after != before
        for code, row in after_api.items():
            assert after[code].startswith(_shown(row)), code

        # Indicator: three charts, each with its table.
        code = next(iter(rows))
        driver.get(url + f"/indicator?initiative={INITIATIVE}&code={code}")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "indicator-title")))
        ui.screenshot(driver, f"indicator-{backend}")
        # The pickers' defaults are written back into the address bar (bookmarkable).
        ui.wait(driver, EC.url_contains("period="))
        assert f"code={code}" in driver.current_url
        for chart in ("trend", "partners", "equity"):
            ui.wait(
                driver,
                EC.presence_of_element_located(
                    (By.CSS_SELECTOR, f"#indicator-{chart} .main-svg .trace")
                ),
            )
        ui.wait(
            driver,
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, "#indicator-trend .scatterlayer .trace")
            ),
        )
        assert len(driver.find_elements(By.CSS_SELECTOR, ".cm-data-table")) >= 2
        ui.screenshot(driver, f"indicator-{backend}")
        # Equity: the categories on one axis, the gap in a chart of its own under them.
        ui.wait(
            driver,
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, "#indicator-equity-gap .barlayer .trace")
            ),
        )
        assert not driver.find_elements(By.CSS_SELECTOR, "#indicator-equity g.y2tick")
        driver.set_window_size(1280, 4000)  # the whole page, equity at the bottom
        ui.screenshot(driver, f"indicator-whole-{backend}")
        driver.set_window_size(1280, 1600)
        ui.no_severe(driver)

        # Reporting: the heat map.
        driver.get(url + f"/reporting?initiative={INITIATIVE}&period={demo['period']}")
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, "#reporting-heatmap .heatmaplayer")),
        )
        ui.wait(driver, EC.presence_of_element_located((By.ID, "reporting-late")))
        ui.screenshot(driver, f"reporting-{backend}")
        ui.no_severe(driver)

        # Public: no login, desktop and phone.
        driver.delete_all_cookies()
        driver.get(url + f"/public/{INITIATIVE}")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "public-legend")))
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-public-card .main-svg")),
        )
        # The legend explains every marker the published figures carry (and lists no other).
        legend = httpx.get(f"{url}/api/v1/public/initiatives/{INITIATIVE}/summary").json()["legend"]
        shown = driver.find_element(By.ID, "public-legend").text
        assert legend and all(f"{marker} — {text}" in shown for marker, text in legend.items())
        assert not driver.find_elements(By.ID, "nav-user")
        # It opens on the latest published quarter, and shows figures of it.
        assert demo["published"] in driver.find_element(By.ID, "public-period").text
        stats = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".cm-public-card .cm-stat")]
        assert any(re.match(r"\d", text) for text in stats), stats
        ui.screenshot(driver, f"public-desktop-{backend}")
        driver.set_window_size(375, 812)
        driver.get(url + f"/public/{INITIATIVE}")
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-public-card .main-svg")),
        )
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 380, f"the page is {width}px wide on a 375px phone"
        ui.screenshot(driver, f"public-phone-{backend}")
        driver.execute_script(
            "var el = document.querySelector('.cm-public-card');"
            "window.scrollTo({top: el.getBoundingClientRect().top + window.scrollY - 10,"
            " behavior: 'instant'});"
        )
        ui.screenshot(driver, f"public-phone-chart-{backend}")
        ui.no_severe(driver)
