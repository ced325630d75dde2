"""Every role's job in a real browser, on the demo built for a fixed day (issue #13).

The demo is built as of ``TODAY`` and the app serves it as of that day (``CM_TODAY``), so its
open quarter is the same whenever the test runs. A partner enters the open quarter's figures in
the grid and submits; the backbone team returns the report with a comment, the partner corrects
it, the backbone team sees what changed, approves, previews and publishes the quarter; a funder
reads the overview and an indicator page; the public reads the published page on a phone. Each
step leaves a screenshot in var/screenshots/ (``journey-NN-…-<backend>.png``).

Before the browser starts, the four school districts report the quarter (their last approved
figures again, approved through the domain): with a single partner's report every figure of
the quarter is hidden below backbone level (a figure needs four partners), and the funder and
the public would read markers only.
"""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Indicator, Initiative, Member, Organisation, Period, Publication, Submission
from models.core.actors import SYSTEM
from models.core.settings import get_settings
from models.demo.builder import load_demo
from models.demo.calendar import quarter_of
from models.demo.spec import DEMO_PASSWORD
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput
from models.tables.reporting import Value

from ..conftest import BACKENDS
from . import support as ui
from .test_portal import _cell, _edit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

TODAY = date(2026, 11, 30)
PERIOD = quarter_of(TODAY)  # open for reporting in the demo built for TODAY
INITIATIVE = "cradle-to-career"
REPORTER_ORG = "college-path-advising"  # reports FAFSA_DONE and PS_ENROLL, shares with funders
REPORTER = f"reporter@{REPORTER_ORG}.demo.test"
BACKBONE = "backbone@demo.test"
FUNDER = "funder@demo.test"
# PS_ENROLL's other partners: with them the quarter's figure is shown to funders and the public.
DISTRICTS = (
    "riverbend-public-schools",
    "north-valley-unified",
    "east-hills-school-district",
    "cedar-grove-charter-network",
)
SHOWN = "PS_ENROLL"
COMMENT = "FAFSA completions look low against last quarter: please check the count."
NOTE = "Fourth quarter, first release: the school districts and College Path Advising."
PHONE = (390, 844)


@pytest.fixture
def calendar_today(monkeypatch):
    """The app reads today as ``TODAY`` (the live server runs in this process)."""
    monkeypatch.setenv("CM_TODAY", TODAY.isoformat())
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _latest_approved(session: Session, org: str) -> list[Value]:
    """The values of ``org``'s latest approved report in the initiative."""
    submission = session.scalar(
        select(Submission)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .join(Initiative, Initiative.id == Submission.initiative_id)
        .join(Period, Period.id == Submission.period_id)
        .where(
            Initiative.slug == INITIATIVE,
            Organisation.slug == org,
            Submission.status == "approved",
        )
        .order_by(Period.starts_on.desc())
        .limit(1)
    )
    assert submission is not None, f"{org} has no approved report in the demo"
    return list(session.scalars(select(Value).where(Value.submission_id == submission.id)))


def _codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Indicator.id, Indicator.code)).tuples().all())


def _demo(db) -> tuple[dict[str, dict[str, float]], str]:
    """Load the demo for TODAY, have the districts report PERIOD (approved); answer the totals
    the reporter types (its latest approved figures, indicator → column → number) and the name
    of the indicator whose figure the funder and the public read."""
    db.migrate()
    with Session(db.engine) as session:
        load_demo(session=session, today=TODAY)
        session.flush()
        codes = _codes(session)
        for org in DISTRICTS:
            inputs = [
                ValueInput(
                    indicator=codes[v.indicator_id],
                    disaggregation=v.disaggregation,
                    value=v.value,
                    numerator=v.numerator,
                    denominator=v.denominator,
                )
                for v in _latest_approved(session, org)
            ]
            where = {
                "session": session,
                "actor": SYSTEM,
                "initiative_slug": INITIATIVE,
                "org_slug": org,
                "period_key": PERIOD,
                "today": TODAY,
            }
            save_values(**where, inputs=inputs)
            transition(**where, action="submit")
            transition(**where, action="approve")
        totals = {
            codes[v.indicator_id]: {"numerator": v.numerator, "denominator": v.denominator}
            for v in _latest_approved(session, REPORTER_ORG)
            if v.disaggregation == "total"
        }
        name = session.scalar(select(Indicator.name).where(Indicator.code == SHOWN))
        session.commit()
    assert set(totals) == {"FAFSA_DONE", SHOWN}, totals
    assert name is not None
    return totals, name


def _shot(driver, step: int, name: str, backend: str) -> None:
    ui.screenshot(driver, f"journey-{step:02d}-{name}-{backend}")


def _choose(driver, ident: str, value: str) -> None:
    """Open the dropdown ``ident`` and click its option ``value``, unless it shows it already
    (its labels start with the value)."""
    dropdown = ui.wait(driver, EC.element_to_be_clickable((By.ID, ident)))
    if dropdown.text.startswith(value):
        return
    ui.click(driver, dropdown)
    option = ui.wait(
        driver,
        EC.element_to_be_clickable((By.XPATH, f"//*[@role='option'][.//input[@value='{value}']]")),
    )
    option.click()
    ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=listbox]"))


def _press(driver, button: str, said: str, where: str, text: str) -> None:
    """Press ``button`` once it can be pressed; wait for its message ``said`` and for
    ``text`` in ``where``."""
    ui.click(driver, ui.wait(driver, EC.element_to_be_clickable((By.ID, button))))
    ui.present(driver, said)
    ui.wait(driver, EC.text_to_be_present_in_element((By.ID, where), text))


def _done(driver, step: int, name: str, backend: str) -> None:
    """A step's end: its screenshot, and no error in the browser's console."""
    _shot(driver, step, name, backend)
    ui.no_severe(driver)


def _log_in_at(driver, url: str, email: str, nav: str) -> None:
    """Log in on the login page itself (no page to return to: it lands on the initiatives),
    then open the menu item ``nav``."""
    ui.open_as(driver, url, "/login", email, DEMO_PASSWORD)
    ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
    assert email in driver.find_element(By.ID, "nav-user").text
    ui.click(driver, driver.find_element(By.ID, nav))


def _hand_over(driver, url: str, email: str, nav: str) -> None:
    """The user logs out; the next logs in and opens the menu item ``nav``."""
    ui.log_out(driver)
    _log_in_at(driver, url, email, nav)


def _open_review(driver, key: str) -> None:
    """Pick the report ``org|period`` in the review queue and wait for its values."""
    item = f'#review-queue input[value="{key}"]'
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, item)))
    label = driver.find_element(By.CSS_SELECTOR, item).find_element(By.XPATH, "./ancestor::label")
    ui.click(driver, label)
    shown = f'#review-detail-body[data-report="{key}"]'
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, shown)))
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#review-values .ag-row")))


def _decided(driver, key: str, status: str) -> None:
    """Wait until the decision is said and the report has left the queue and the detail."""
    done = ui.wait(driver, EC.presence_of_element_located((By.ID, "review-done")))
    assert status in done.text, done.text
    ui.wait(
        driver,
        lambda d: not d.find_elements(By.CSS_SELECTOR, f'#review-queue input[value="{key}"]'),
    )
    ui.wait(
        driver,
        lambda d: not d.find_elements(By.CSS_SELECTOR, f'#review-detail-body[data-report="{key}"]'),
    )


def _status(db, org: str) -> tuple[str, int, str | None]:
    with Session(db.engine) as session:
        submission = session.scalar(
            select(Submission)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Period.initiative_id)
            .where(Initiative.slug == INITIATIVE, Organisation.slug == org, Period.key == PERIOD)
        )
        assert submission is not None
        return submission.status, submission.version, submission.comment


def test_every_role_does_its_job(fresh_database, calendar_today, driver) -> None:
    totals, name = _demo(fresh_database)
    db, backend = fresh_database, fresh_database.backend
    fafsa = totals["FAFSA_DONE"]
    enroll = totals[SHOWN]
    typo = int(fafsa["numerator"]) // 10  # a digit dropped: the backbone team notices
    try:
        with ui.live_server(db.engine) as url:
            # 1. The reporter logs in, opens the portal on the open quarter, types the totals.
            _log_in_at(driver, url, REPORTER, "nav-portal")
            ui.wait(driver, EC.url_contains("/portal"))
            ui.wait(
                driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#portal-grid .ag-row"))
            )
            ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "portal-status"), PERIOD))
            assert "open" in driver.find_element(By.ID, "portal-status").text
            _edit(driver, "FAFSA_DONE|total", "numerator", str(typo))
            _edit(driver, "FAFSA_DONE|total", "denominator", str(int(fafsa["denominator"])))
            _edit(driver, f"{SHOWN}|total", "numerator", str(int(enroll["numerator"])))
            _edit(driver, f"{SHOWN}|total", "denominator", str(int(enroll["denominator"])))
            _shot(driver, 1, "reporter-entered", backend)
            _press(driver, "portal-save", "portal-saved", "portal-status-badge", "DRAFT")
            _done(driver, 2, "reporter-saved", backend)
            _press(driver, "portal-submit", "portal-submitted", "portal-status-badge", "SUBMITTED")
            _done(driver, 3, "reporter-submitted", backend)
            assert _status(db, REPORTER_ORG)[0] == "submitted"

            # 2. The backbone team finds the report in the queue and returns it with a comment.
            key = f"{REPORTER_ORG}|{PERIOD}"
            _hand_over(driver, url, BACKBONE, "nav-review")
            ui.wait(driver, EC.url_contains("/reporting/review"))
            _open_review(driver, key)
            assert "SUBMITTED" in driver.find_element(By.ID, "review-detail-status").text
            driver.find_element(By.ID, "review-comment").send_keys(COMMENT)
            _shot(driver, 4, "backbone-reviewing", backend)
            ui.click(driver, driver.find_element(By.ID, "review-return"))
            _decided(driver, key, "RETURNED")
            _done(driver, 5, "backbone-returned", backend)
            assert _status(db, REPORTER_ORG)[::2] == ("returned", COMMENT)

            # 3. The reporter reads the comment, corrects the count and submits again.
            _hand_over(driver, url, REPORTER, "nav-portal")
            comment = ui.wait(
                driver, EC.presence_of_element_located((By.ID, "portal-return-comment"))
            )
            assert COMMENT in comment.text
            ui.wait(
                driver,
                EC.text_to_be_present_in_element((By.ID, "portal-status-badge"), "RETURNED"),
            )
            assert _cell(driver, "FAFSA_DONE|total", "numerator").text.replace(",", "") == str(typo)
            _edit(driver, "FAFSA_DONE|total", "numerator", str(int(fafsa["numerator"])))
            _shot(driver, 6, "reporter-corrected", backend)
            _press(driver, "portal-submit", "portal-submitted", "portal-status-badge", "SUBMITTED")
            _done(driver, 7, "reporter-resubmitted", backend)

            # 4. The backbone team sees what changed since it returned the report; approves.
            _hand_over(driver, url, BACKBONE, "nav-review")
            _open_review(driver, key)
            changes = driver.find_element(By.ID, "review-changes").text
            assert "1 changed" in changes, changes
            assert COMMENT in changes, changes
            changed = "#review-values .ag-row.cm-changed-row"
            assert [
                row.get_attribute("row-id")
                for row in driver.find_elements(By.CSS_SELECTOR, changed)
            ] == ["FAFSA_DONE|total"]
            _shot(driver, 8, "backbone-changes", backend)
            ui.click(driver, driver.find_element(By.ID, "review-approve"))
            _decided(driver, key, "APPROVED")
            _done(driver, 9, "backbone-approved", backend)
            assert _status(db, REPORTER_ORG)[0] == "approved"

            # 5. The backbone team previews the quarter, confirms it is incomplete, publishes.
            ui.click(driver, driver.find_element(By.ID, "nav-publish"))
            ui.wait(driver, EC.url_contains("/reporting/publish"))
            # The page opens on the latest closed period: the quarter is chosen in the picker.
            _choose(driver, "publish-period", PERIOD)
            ui.wait(driver, EC.presence_of_element_located((By.ID, "publish-figures")))
            figure = (
                f"//tr[.//code[text()='{SHOWN}']]"
                "//*[contains(@class, 'cm-preview-total')]//*[contains(@class, 'cm-preview-value')]"
            )
            # The preview is re-rendered for the chosen quarter: read it once it says so.
            ui.wait(driver, lambda d: PERIOD in d.find_element(By.ID, "publish-status").text)
            preview = ui.wait(driver, lambda d: d.find_element(By.XPATH, figure).text)
            assert preview[0].isdigit(), preview  # shown to the public, not a marker
            figure_value = float(preview.replace(",", ""))
            assert "needs a confirmation" in driver.find_element(By.ID, "publish-status").text
            _shot(driver, 10, "backbone-preview", backend)
            driver.find_element(By.ID, "publish-note").send_keys(NOTE)
            ui.click(driver, driver.find_element(By.ID, "publish-confirm"))
            _press(
                driver, "publish-submit", "publish-done", "publish-vintages", "First publication"
            )
            _done(driver, 11, "backbone-published", backend)

            # 6. The funder reads the quarter's overview and the indicator's page.
            _hand_over(driver, url, FUNDER, "nav-overview")
            ui.wait(driver, EC.url_contains("/overview"))
            _choose(driver, "overview-period", PERIOD)
            current = f"#ov-row-{SHOWN} .cm-current"
            ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, current)))
            shown_now = driver.find_element(By.CSS_SELECTOR, current)
            assert shown_now.text == preview
            ui.scroll_to(driver, shown_now)
            _done(driver, 12, "funder-overview", backend)
            # The indicator's own page, from its name on the overview.
            ui.click(driver, driver.find_element(By.CSS_SELECTOR, f"#ov-row-{SHOWN} a"))
            ui.wait(driver, EC.url_contains("/indicator"))
            ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "indicator-title"), name))
            row = f"//*[@id='indicator-trend-table']//tr[td[1][text()='{PERIOD}']]/td"
            cells = ui.wait(driver, EC.presence_of_all_elements_located((By.XPATH, row)))
            assert abs(float(cells[1].text) - figure_value) < 0.05, (cells[1].text, preview)
            ui.wait(
                driver,
                EC.presence_of_element_located(
                    (By.CSS_SELECTOR, "#indicator-trend .main-svg .trace")
                ),
            )
            _done(driver, 13, "funder-indicator", backend)
            ui.log_out(driver)

            # 7. The public reads the published quarter on a phone: no sideways scrolling.
            driver.set_window_size(*PHONE)
            driver.get(url + f"/public/{INITIATIVE}")
            ui.wait(
                driver,
                EC.presence_of_element_located((By.CSS_SELECTOR, ".cm-public-card .main-svg")),
            )
            assert NOTE in driver.find_element(By.CSS_SELECTOR, ".cm-public").text
            card = f"//*[contains(@class, 'cm-public-card')][.//h3[contains(., '{name}')]]"
            stat = driver.find_element(By.XPATH, card + "//*[contains(@class, 'cm-stat')]")
            assert stat.text == preview
            _shot(driver, 14, "public-phone", backend)
            ui.scroll_to(driver, stat)
            _shot(driver, 15, "public-phone-figure", backend)
            inner, client, scrolled = driver.execute_script(
                "const d = document.documentElement;"
                "return [window.innerWidth, d.clientWidth, d.scrollWidth];"
            )
            assert inner == PHONE[0], inner  # the page is laid out for the phone's width
            assert scrolled <= client + 1, (scrolled, client)  # nothing sticks out sideways
            ui.no_severe(driver)
    except Exception:
        ui.screenshot(driver, f"journey-failed-{backend}")  # where it stopped, for the artefacts
        raise

    with Session(db.engine) as session:
        publication = session.scalar(
            select(Publication)
            .join(Period, Period.id == Publication.period_id)
            .join(Initiative, Initiative.id == Period.initiative_id)
            .where(Initiative.slug == INITIATIVE, Period.key == PERIOD)
        )
        assert publication is not None and publication.note == NOTE
        (frozen,) = [i for i in publication.snapshot["indicators"] if i["indicator"] == SHOWN]
        assert abs(frozen["total"]["value"] - figure_value) < 0.05, (frozen["total"], preview)
        corrected = session.scalar(
            select(Value.numerator)
            .join(Submission, Submission.id == Value.submission_id)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(
                Organisation.slug == REPORTER_ORG,
                Period.key == PERIOD,
                Indicator.code == "FAFSA_DONE",
                Value.disaggregation == "total",
            )
        )
        assert corrected == int(fafsa["numerator"])
