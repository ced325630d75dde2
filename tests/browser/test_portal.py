"""Reporting in a real browser: a partner enters and submits, the backbone team reviews.

The demo initiatives are loaded into a fresh database; the reporting window of the period under
test is moved around today, so the test does not depend on the date it runs.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Indicator, Initiative, Member, Organisation, Period, Submission
from models.demo.builder import load_demo
from models.demo.spec import DEMO_PASSWORD
from models.notifications.email import template_path
from models.tables.reporting import Value

from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

INITIATIVE = "cradle-to-career"


def _demo_draft(db) -> dict:
    """Load the demo; pick a draft of the latest reported period with a rate or count total."""
    db.migrate()
    today = date.today()
    with Session(db.engine) as session:
        load_demo(session=session)
        session.flush()
        rows = session.execute(
            select(Organisation.slug, Period.key, Period.id, Submission.id)
            .join(Member, Member.organisation_id == Organisation.id)
            .join(Submission, Submission.member_id == Member.id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Submission.initiative_id)
            .where(Initiative.slug == INITIATIVE, Submission.status == "draft")
            .order_by(Period.starts_on.desc(), Organisation.slug)
        ).all()
        for org, period_key, period_id, submission_id in rows:
            total = session.execute(
                select(Indicator.code, Indicator.measure_type, Value.numerator, Value.value)
                .join(Value, Value.indicator_id == Indicator.id)
                .where(
                    Value.submission_id == submission_id,
                    Value.disaggregation == "total",
                    Indicator.measure_type.in_(("rate", "count")),
                )
                .order_by(Indicator.position)
            ).first()
            if total is not None:
                break
        else:
            pytest.fail("the demo has no draft with a rate or count total")
        session.execute(
            update(Period)
            .where(Period.id == period_id)
            .values(
                opens_on=today - timedelta(days=30),
                due_on=today + timedelta(days=10),
                closes_on=today + timedelta(days=40),
                locked=False,
            )
        )
        session.commit()
    code, measure_type, numerator, value = total
    column = "numerator" if measure_type == "rate" else "value"
    return {
        "org": org,
        "period": period_key,
        "code": code,
        "column": column,
        "old": numerator if measure_type == "rate" else value,
        "submission_id": submission_id,
    }


def _cell(driver, row_id: str, column: str):
    selector = f'#portal-grid .ag-row[row-id="{row_id}"] .ag-cell[col-id="{column}"]'
    return ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, selector)))


def _edit(driver, row_id: str, column: str, text: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    cell = _cell(driver, row_id, column)
    ActionChains(driver).double_click(cell).perform()
    editor = ui.wait(
        driver,
        EC.presence_of_element_located(
            (By.CSS_SELECTOR, f'#portal-grid .ag-row[row-id="{row_id}"] input')
        ),
    )
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(text)
    editor.send_keys(Keys.ENTER)
    ui.wait(driver, lambda d: _cell(d, row_id, column).text.replace(",", "") == text)


def _text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_partner_reports_and_backbone_returns(fresh_database, driver) -> None:
    pick = _demo_draft(fresh_database)
    row_id = f"{pick['code']}|total"
    portal = f"/portal?initiative={INITIATIVE}&org={pick['org']}&period={pick['period']}"
    backend = fresh_database.backend

    with ui.live_server(fresh_database.engine) as url:
        # Anonymous: the portal sends the browser to the login page, and back after it.
        driver.get(url + portal)
        ui.wait(driver, EC.url_contains("/login"))
        assert parse_qs(urlsplit(driver.current_url).query)["next"] == [portal]
        ui.screenshot(driver, f"login-{backend}")
        ui.log_in(driver, f"reporter@{pick['org']}.demo.test", DEMO_PASSWORD)
        ui.wait(driver, EC.url_contains("/portal"))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#portal-grid .ag-row")))
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "portal-status-badge"), "DRAFT"))
        assert "1" in _text(driver, "portal-version-text")
        assert f"reporter@{pick['org']}.demo.test" in _text(driver, "nav-user")
        ui.screenshot(driver, f"portal-{backend}")

        # A numerator above its denominator (or a fractional count) is refused, row by row.
        bad = "1000000.5" if pick["column"] == "value" else "99999999"
        _edit(driver, row_id, pick["column"], bad)
        driver.find_element(By.ID, "portal-save").click()
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-problems")))
        problem = ui.wait(
            driver,
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, f'#portal-grid .ag-row[row-id="{row_id}"] .cm-problem')
            ),
        )
        assert pick["column"] in problem.text
        assert "cm-cell-error" in _cell(driver, row_id, pick["column"]).get_attribute("class")
        assert "1" in _text(driver, "portal-version-text")
        ui.screenshot(driver, f"portal-problems-{backend}")

        # A valid figure saves a new version; the breakdown no longer adds up: flagged.
        new = str(int(pick["old"]) - 1)
        _edit(driver, row_id, pick["column"], new)
        driver.find_element(By.ID, "portal-save").click()
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-saved")))
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "portal-version-text"), "2"))
        ui.wait(
            driver,
            EC.presence_of_element_located(
                (By.CSS_SELECTOR, f'#portal-grid .ag-row[row-id="{row_id}"] .cm-flag')
            ),
        )
        assert not driver.find_elements(By.CSS_SELECTOR, "#portal-grid .cm-problem")
        ui.screenshot(driver, f"portal-saved-{backend}")

        driver.find_element(By.ID, "portal-submit").click()
        ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-submitted")))
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "portal-status-badge"), "SUBMITTED"),
        )
        assert driver.find_element(By.ID, "portal-save").get_attribute("disabled")
        # Submitted: nothing more to upload, so no template to download.
        assert not driver.find_elements(By.ID, "portal-template")
        ui.screenshot(driver, f"portal-submitted-{backend}")
        ui.no_severe(driver)

        # Log out: the cookie is gone, the portal asks for a login again.
        ui.log_out(driver)
        assert driver.get_cookie("cm_session") is None
        ui.screenshot(driver, f"logged-out-{backend}")

        # The backbone team finds the report in the queue and returns it with a comment.
        review = f"/reporting/review?initiative={INITIATIVE}&period={pick['period']}"
        ui.open_as(driver, url, review, "backbone@demo.test", DEMO_PASSWORD)
        ui.wait(driver, EC.url_contains("/reporting/review"))
        key = f"{pick['org']}|{pick['period']}"
        item = f'#review-queue input[value="{key}"]'
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, item)))
        driver.find_element(By.CSS_SELECTOR, item).find_element(
            By.XPATH, "./ancestor::label"
        ).click()
        shown = f'#review-detail-body[data-report="{key}"]'
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, shown)))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#review-values .ag-row")))
        assert "SUBMITTED" in _text(driver, "review-detail-status")
        flagged = f'#review-values .ag-row[row-id="{row_id}"] .cm-flag'
        assert driver.find_elements(By.CSS_SELECTOR, flagged)
        # The action bar stays in the window, however long the report.
        bar = driver.find_element(By.ID, "review-actions").rect
        height = driver.execute_script("return window.innerHeight")
        assert bar["y"] + bar["height"] <= height + 1, (bar, height)
        ui.screenshot(driver, f"review-{backend}")

        # The changed value's history, in a dialog.
        driver.find_element(
            By.CSS_SELECTOR, f'#review-values .ag-row[row-id="{row_id}"] .cm-history-link'
        ).click()
        ui.wait(driver, EC.visibility_of_element_located((By.ID, "history-table")))
        assert "changed" in _text(driver, "history-table")
        ui.screenshot(driver, f"review-history-{backend}")
        driver.find_element(By.CSS_SELECTOR, "#review-history .btn-close").click()
        ui.wait(driver, EC.invisibility_of_element_located((By.ID, "history-table")))

        driver.find_element(By.ID, "review-comment").send_keys("Please check the total.")
        # Below a long report the button is far down, and the page scrolls smoothly: a
        # click while the page is still moving lands elsewhere, so scroll there at once.
        ui.click(driver, "review-return")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "review-done")))
        assert "RETURNED" in _text(driver, "review-done")
        ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, item))
        # The next report waiting opens (or none is left); the returned one is gone.
        ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, shown))
        ui.screenshot(driver, f"review-returned-{backend}")

        # Every period's reports, oldest first; j and k move through them.
        driver.get(url + f"/reporting/review?initiative={INITIATIVE}")
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "review-position"), "1 of "))
        waiting = int(_text(driver, "review-position").split(" of ")[1])
        assert waiting >= 2, "the demo has more than one report waiting"
        ui.wait(driver, EC.presence_of_element_located((By.ID, "review-detail-body")))
        driver.find_element(By.TAG_NAME, "body").send_keys("j")
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "review-position"), f"2 of {waiting}"),
        )
        ui.screenshot(driver, f"review-all-periods-{backend}")
        driver.find_element(By.TAG_NAME, "body").send_keys("k")
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "review-position"), f"1 of {waiting}"),
        )
        ui.no_severe(driver)

    with Session(fresh_database.engine) as session:
        submission = session.get(Submission, pick["submission_id"])
        assert (submission.status, submission.comment) == ("returned", "Please check the total.")
        assert submission.version == 4  # saved, submitted, returned
        stored = session.scalar(
            select(getattr(Value, pick["column"]))
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(
                Value.submission_id == submission.id,
                Indicator.code == pick["code"],
                Value.disaggregation == "total",
            )
        )
        assert stored == int(pick["old"]) - 1


def test_reporter_is_not_allowed_in_the_review_queue(fresh_database, driver) -> None:
    pick = _demo_draft(fresh_database)
    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(
            driver, url, "/reporting/review", f"reporter@{pick['org']}.demo.test", DEMO_PASSWORD
        )
        alert = ui.wait(driver, EC.presence_of_element_located((By.ID, "review-not-allowed")))
        assert "not allowed" in alert.text
        assert not driver.find_elements(By.ID, "review-queue")
        assert not driver.find_elements(By.ID, "nav-review")
        ui.screenshot(driver, f"review-not-allowed-{fresh_database.backend}")
        ui.no_severe(driver)


def test_the_portal_offers_the_pre_filled_template_of_an_open_period(
    fresh_database, tmp_path, driver
) -> None:
    """A mail's template link opened without a login leads to the login form, and from it to
    the download; the open period's report in the portal has the same link, which the browser
    fetches with its cookie alone."""
    pick = _demo_draft(fresh_database)
    portal = f"/portal?initiative={INITIATIVE}&org={pick['org']}&period={pick['period']}"
    download = template_path(INITIATIVE, pick["org"], pick["period"])
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    with ui.live_server(fresh_database.engine) as url:
        driver.get(url + download)
        ui.wait(driver, EC.url_contains("/login"))
        assert parse_qs(urlsplit(driver.current_url).query)["next"] == [download]
        ui.log_in(driver, f"reporter@{pick['org']}.demo.test", DEMO_PASSWORD)
        name = f"{INITIATIVE}-{pick['org']}-{pick['period']}-template.xlsx"
        ui.wait(driver, lambda _d: (tmp_path / name).exists())
        assert (tmp_path / name).read_bytes().startswith(b"PK")

        driver.get(url + portal)
        link = ui.wait(driver, EC.presence_of_element_located((By.ID, "portal-template")))
        assert link.text == "Download the pre-filled template"
        assert link.get_attribute("href") == url + download
        ui.screenshot(driver, f"portal-template-{fresh_database.backend}")
        answer = driver.execute_async_script(
            """const done = arguments[arguments.length - 1];
            fetch(arguments[0], {redirect: "manual"}).then(async (r) => done({
                status: r.status,
                type: r.headers.get("content-type"),
                disposition: r.headers.get("content-disposition"),
                zip: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 2)),
            }));""",
            link.get_attribute("href"),
        )
        assert answer["status"] == 200, answer
        assert answer["type"].startswith("application/vnd.openxmlformats"), answer
        assert answer["disposition"].startswith("attachment;"), answer
        assert answer["zip"] == "PK"
        assert not ui.console_errors(driver)
