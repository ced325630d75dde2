"""WCAG 2.2 AA in a real browser (issue #17): axe-core on every dashboard page for every role
that opens it, and the checks axe cannot make.

The demo is built once per backend for a fixed day and served as of that day, so the partner
portal has an open quarter. Each role's pages are read in one browser session (a session per
page would cost a minute a role).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Initiative, Member, Organisation, Period, Submission
from models.core.settings import get_settings
from models.demo.builder import load_demo
from models.demo.calendar import quarter_of
from models.demo.spec import DEMO_PASSWORD
from models.publishing.publish import public_summary

from .. import conftest
from ..conftest import BACKENDS
from . import axe
from . import support as ui

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 30)
OPEN = quarter_of(TODAY)
INITIATIVE = "cradle-to-career"
ORG = "college-path-advising"
CODE = "PS_ENROLL"
USERS = {
    "admin": "admin@demo.test",
    "backbone": "backbone@demo.test",
    "reporter": f"reporter@{ORG}.demo.test",
    "funder": "funder@demo.test",
}


@dataclass(frozen=True)
class Site:
    url: str
    backend: str
    published: str  # the latest published quarter
    engine: Engine


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory) -> Iterator[Site]:
    """The demo for TODAY on a live server, shared by the module's tests on one backend."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CM_TODAY", TODAY.isoformat())
        get_settings.cache_clear()
        db = conftest.TestDatabase(request.param, tmp_path_factory.mktemp(f"a11y-{request.param}"))
        try:
            db.migrate()
            with Session(db.engine) as session:
                load_demo(session=session, today=TODAY)
                session.flush()
                summary = public_summary(session=session, initiative_slug=INITIATIVE)
                session.commit()
            with ui.live_server(db.engine) as url:
                yield Site(url, request.param, summary["periods"][-1]["period"], db.engine)
        finally:
            db.drop()
    get_settings.cache_clear()


def _pages(site: Site, role: str) -> list[str]:
    """The dashboard pages ``role`` opens (the menu's, and those its pages link to). The public
    pages show everyone the same published figures: they are read as the public, and the menu
    each role sees over them is read on its other pages."""
    at = f"initiative={INITIATIVE}"
    if role == "public":
        return ["/", f"/public?{at}", f"/public/{INITIATIVE}", "/login", "/invite"]
    everyone = ["/"]
    member = [
        f"/overview?{at}&period={site.published}",
        f"/indicator?{at}&code={CODE}",
        f"/strategies?{at}",
        f"/turn-the-curve?{at}&code={CODE}",
        "/preferences",
    ]
    setup_tabs = [
        f"/setup?{at}&tab={tab}"
        for tab in ("outcome", "dimension", "member", "period", "break", "extension")
    ]
    history = f"/history?{at}&org={ORG}&period={site.published}&indicator={CODE}"
    reviewer = [
        f"/reporting?{at}&period={site.published}",
        f"/reporting/review?{at}&period={OPEN}",
        f"/reporting/publish?{at}",
        "/people",
        f"/setup?{at}",
        f"/webhooks?{at}",
        history,
    ]
    return {
        # The administrator also reads every tab of Setup (each its own address).
        "admin": [*everyone, *member, *reviewer, *setup_tabs, "/admin/mailbox"],
        "backbone": [*everyone, *member, *reviewer],
        "reporter": [*everyone, *member, f"/portal?{at}&period={OPEN}", history],
        "funder": [*everyone, *member],
    }[role]


def _open(driver, url: str) -> None:
    driver.get(url)
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#_pages_content h1")))
    axe.settled(driver)


# Each chart on the page: its figure's caption, and whether its data is in a table (in the
# figure, or the page's own table of it in the <details> right after the figure).
_CHARTS = """
return [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const figure = gd.closest('figure');
  const caption = figure && figure.querySelector(':scope > figcaption');
  const table = figure && (figure.querySelector('table') ||
      (figure.nextElementSibling && figure.nextElementSibling.matches('details') ?
        figure.nextElementSibling : null) ||
      (figure.closest('.card') && figure.closest('.card').querySelector('table')));
  return {id: gd.id || (gd.parentElement && gd.parentElement.id) || '?',
          caption: caption ? caption.textContent.trim() : null, table: !!table};
});
"""


def _undescribed_charts(driver) -> list[str]:
    """The charts without a text alternative or without their data as a table."""
    return [
        f"{c['id']}: caption {c['caption']!r}, table {c['table']}"
        for c in driver.execute_script(_CHARTS)
        if not c["caption"] or len(c["caption"]) < 8 or not c["table"]
    ]


def _check(driver, where: str, failures: list[str]) -> None:
    found = axe.violations(driver)
    if found:
        failures.append(axe.report(where, found))
    charts = _undescribed_charts(driver)
    if charts:
        failures.append(
            f"{where}: charts without a text alternative or table:\n  " + "\n  ".join(charts)
        )


@pytest.mark.parametrize("role", ["admin", "backbone", "reporter", "funder", "public"])
def test_every_page_meets_wcag_aa(site: Site, role: str, driver) -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on any page ``role`` opens, and every chart
    has a text alternative and its data as a table; the public also reads the public page on
    a phone (390 px wide)."""
    if role != "public":
        ui.open_as(driver, site.url, "/login", USERS[role], DEMO_PASSWORD)
        ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
    failures: list[str] = []
    for path in _pages(site, role):
        _open(driver, site.url + path)
        _check(driver, f"{role} {path}", failures)
    if role == "public":
        driver.set_window_size(390, 844)
        _open(driver, site.url + f"/public/{INITIATIVE}")
        _check(driver, f"{role} /public/{INITIATIVE} at 390 px", failures)
    assert not failures, "\n\n".join(failures)


# --- the keyboard alone (WCAG 2.1.1, 2.4.7) ---------------------------------------------------

# Whether the focused element shows it: an outline or a box shadow on it or, for a control
# drawn hidden (the review queue's radio buttons), on the option that holds it.
_FOCUS_SHOWN = """
let el = arguments[0];
const box = el.getBoundingClientRect();
if (box.width <= 2 || box.height <= 2) {
  el = el.closest('label, [role=option], .dash-options-list-option') || el;
}
const s = getComputedStyle(el);
const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
return outline || (s.boxShadow && s.boxShadow !== 'none') ? '' : el.outerHTML.slice(0, 160);
"""


def _press(driver, key: str, *, shift: bool = False) -> None:
    """One key, sent to whatever has the focus (no element is clicked)."""
    chain = ActionChains(driver)
    if shift:
        chain.key_down(Keys.SHIFT).send_keys(key).key_up(Keys.SHIFT)
    else:
        chain.send_keys(key)
    chain.perform()


def _focused(driver):
    return driver.switch_to.active_element


def _tab_to(driver, css: str, *, backwards: bool = False, limit: int = 120):
    """Press Tab (Shift+Tab) until the focus is on an element matching ``css``; every element
    the focus lands on on the way must show it."""
    for _ in range(limit):
        _press(driver, Keys.TAB, shift=backwards)
        element = _focused(driver)
        if element.tag_name == "body":
            continue
        hidden = driver.execute_script(_FOCUS_SHOWN, element)
        assert not hidden, f"the focus is not visible on {hidden}"
        if driver.execute_script("return arguments[0].matches(arguments[1])", element, css):
            return element
    where = driver.execute_script("return document.activeElement.outerHTML.slice(0, 200)")
    pytest.fail(f"{limit} presses of Tab never reached {css}; the focus is on {where}")


_CELL = """
const cell = document.activeElement.closest('.ag-cell, .ag-header-cell');
const row = cell && cell.closest('.ag-row');
return cell ? [row ? row.getAttribute('row-id') : null, cell.getAttribute('col-id')] : null;
"""


def _arrow_to(driver, row_id: str, column: str, limit: int = 60) -> None:
    """Move the grid's focused cell with the arrow keys to ``row_id`` × ``column``."""
    order = None
    for _ in range(limit):
        at = driver.execute_script(_CELL)
        assert at is not None, "the focus left the grid"
        row, col = at
        if row == row_id and col == column:
            return
        if row != row_id:
            order = order or driver.execute_script(
                "return [...document.querySelectorAll('#portal-grid .ag-center-cols-container "
                ".ag-row')].sort((a, b) => a.getAttribute('row-index') - b.getAttribute("
                "'row-index')).map(r => r.getAttribute('row-id'))"
            )
            below = row is None or order.index(row) < order.index(row_id)
            _press(driver, Keys.ARROW_DOWN if below else Keys.ARROW_UP)
        else:
            cols = driver.execute_script(
                "return [...document.querySelectorAll('#portal-grid .ag-header-cell')]"
                ".map(c => c.getAttribute('col-id'))"
            )
            right = cols.index(col) < cols.index(column)
            _press(driver, Keys.ARROW_RIGHT if right else Keys.ARROW_LEFT)
    pytest.fail(f"the arrows never reached {row_id} × {column}")


def _log_in_by_keyboard(driver, url: str, email: str) -> None:
    driver.get(url + "/login")
    ui.present(driver, "login-email")
    _tab_to(driver, "#login-email")
    _focused(driver).send_keys(email)
    _tab_to(driver, "#login-password")
    _focused(driver).send_keys(DEMO_PASSWORD)
    _press(driver, Keys.ENTER)
    ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
    axe.settled(driver)


def _status(site: Site, org: str) -> str:
    with Session(site.engine) as session:
        status = session.scalar(
            select(Submission.status)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Period.initiative_id)
            .where(Initiative.slug == INITIATIVE, Organisation.slug == org, Period.key == OPEN)
        )
    return status or "missing"


def test_a_partner_reports_with_the_keyboard_alone(site: Site, driver) -> None:
    """Log in, open the portal from the menu, type a figure into the grid, save, submit: Tab,
    Shift+Tab, Enter, the arrows and the figures typed, and nothing clicked; the focus shows
    wherever it lands. The grid the partner works in meets WCAG AA too."""
    _log_in_by_keyboard(driver, site.url, USERS["reporter"])
    _tab_to(driver, "#nav-portal")
    _press(driver, Keys.ENTER)
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#portal-grid .ag-row")))
    ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "portal-status"), OPEN))
    axe.settled(driver)
    found = axe.violations(driver)
    assert not found, axe.report("the portal's grid", found)

    _tab_to(driver, "#portal-grid .ag-header-cell, #portal-grid .ag-cell")
    for column, figure in (("numerator", "57"), ("denominator", "120")):
        _arrow_to(driver, "FAFSA_DONE|total", column)
        _focused(driver).send_keys(figure)  # typing on a cell edits it, as in a spreadsheet
        _press(driver, Keys.ENTER)
        cell = f'#portal-grid .ag-row[row-id="FAFSA_DONE|total"] .ag-cell[col-id="{column}"]'
        ui.wait(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, cell), figure))

    ui.wait(driver, EC.element_to_be_clickable((By.ID, "portal-save")))
    _tab_to(driver, "#portal-save")
    _press(driver, Keys.ENTER)
    ui.present(driver, "portal-saved")
    assert _status(site, ORG) == "draft"
    ui.wait(driver, EC.element_to_be_clickable((By.ID, "portal-submit")))
    if _focused(driver).get_attribute("id") != "portal-submit":
        _tab_to(driver, "#portal-submit")
    _press(driver, Keys.SPACE)
    ui.present(driver, "portal-submitted")
    ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "portal-status-badge"), "SUBMITTED"))
    assert _status(site, ORG) == "submitted"
    ui.screenshot(driver, f"a11y-portal-keyboard-{site.backend}")
    ui.no_severe(driver)


def test_a_reviewer_approves_with_the_keyboard_alone(site: Site, driver) -> None:
    """Log in, open Review from the menu, pick a report in the queue, approve it: keys only,
    the focus visible throughout; the open report meets WCAG AA."""
    _log_in_by_keyboard(driver, site.url, USERS["backbone"])
    _tab_to(driver, "#nav-review")
    _press(driver, Keys.ENTER)
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#review-queue input")))
    axe.settled(driver)
    radio = _tab_to(driver, "#review-queue input")
    _press(driver, Keys.SPACE)
    key = _focused(driver).get_attribute("value") or radio.get_attribute("value")
    shown = f'#review-detail-body[data-report="{key}"]'
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, shown)))
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#review-values .ag-row")))
    axe.settled(driver)
    found = axe.violations(driver)
    assert not found, axe.report(f"the review of {key}", found)

    ui.wait(driver, EC.element_to_be_clickable((By.ID, "review-approve")))
    # Past the report's values and their history links, to the decision bar under them.
    _tab_to(driver, "#review-approve", limit=400)
    _press(driver, Keys.ENTER)
    done = ui.wait(driver, EC.presence_of_element_located((By.ID, "review-done")))
    ui.wait(driver, lambda d: "APPROVED" in d.find_element(By.ID, "review-done").text)
    assert "APPROVED" in done.text
    org, _period = key.split("|")
    with Session(site.engine) as session:
        status = session.scalar(
            select(Submission.status)
            .join(Member, Member.id == Submission.member_id)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .join(Period, Period.id == Submission.period_id)
            .join(Initiative, Initiative.id == Period.initiative_id)
            .where(
                Initiative.slug == INITIATIVE,
                Organisation.slug == org,
                Period.key == key.split("|")[1],
            )
        )
    assert status == "approved"
    ui.screenshot(driver, f"a11y-review-keyboard-{site.backend}")
    ui.no_severe(driver)


# --- colour is never the only signal (WCAG 1.4.1) ----------------------------------------------

_HEATMAP = """
const outer = document.getElementById('reporting-heatmap');
const gd = outer.data ? outer : outer.querySelector('.js-plotly-plot');
const heat = gd.data.find(t => t.type === 'heatmap');
const cells = [];
heat.z.forEach((row, i) => row.forEach((z, j) => {
  if (z !== null) cells.push({text: heat.customdata[i][j], mark: heat.text[i][j]});
}));
const drawn = [...gd.querySelectorAll('text')].map(t => t.textContent);
return {cells: cells, drawn: drawn};
"""


def test_colour_is_never_the_only_signal(site: Site, driver) -> None:
    """Statuses are words, the heat map's cells carry their state's symbol and late cells a
    dot (explained in the legend), and every progress bar its number."""
    from dashboard.figures import LATE_DOT, LATE_MARK, STATE_SYMBOLS

    ui.open_as(driver, site.url, "/login", USERS["backbone"], DEMO_PASSWORD)
    ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
    _open(driver, site.url + f"/reporting?initiative={INITIATIVE}&period={site.published}")
    ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#reporting-heatmap text")))
    ui.screenshot(driver, f"a11y-reporting-{site.backend}")
    heat = driver.execute_script(_HEATMAP)
    assert heat["cells"], "the heat map shows no report"
    late = 0
    for cell in heat["cells"]:
        state = cell["text"].split(" · ")[0]
        assert cell["mark"].startswith(STATE_SYMBOLS[state]), cell
        assert cell["mark"].endswith(LATE_MARK) == ("late" in cell["text"]), cell
        late += "late" in cell["text"]
    assert late, "the demo's quarter has no late report to mark"
    drawn = "".join(heat["drawn"])
    assert all(symbol in drawn for symbol in {c["mark"][0] for c in heat["cells"]}), drawn
    assert (
        LATE_MARK in drawn and str(LATE_DOT) in drawn
    )  # the dot, and the legend saying what it is
    statuses = driver.find_elements(By.CSS_SELECTOR, ".cm-status, .badge")
    assert statuses and all(s.text.strip() for s in statuses)

    _open(driver, site.url + f"/overview?initiative={INITIATIVE}&period={site.published}")
    ui.screenshot(driver, f"a11y-overview-{site.backend}")
    statuses = driver.find_elements(By.CSS_SELECTOR, "#overview-scorecard .cm-status")
    assert statuses and all(s.text.strip() for s in statuses)
    bars = driver.find_elements(By.CSS_SELECTOR, "#overview-scorecard .cm-progress")
    labels = driver.find_elements(By.CSS_SELECTOR, "#overview-scorecard .cm-progress-label")
    assert bars and len(labels) == len(bars) and all("%" in x.text for x in labels)
    ui.no_severe(driver)


# --- what a filter changed is said (WCAG 4.1.3) ------------------------------------------------


def _pick(driver, ident: str, nth: int) -> None:
    """Choose the ``nth`` option of the dropdown ``ident``."""
    ui.click(driver, ui.wait(driver, EC.element_to_be_clickable((By.ID, ident))))
    options = ui.wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=option]"))
    options[nth].click()
    ui.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=listbox]"))


def _said(driver, ident: str) -> str:
    region = driver.find_element(By.ID, ident)
    assert region.get_attribute("role") == "status" or region.get_attribute("aria-live")
    return region.get_attribute("textContent").strip()


def test_a_filter_change_is_announced(site: Site, driver) -> None:
    """The live region that stays on the page says the new results when a filter changes:
    the overview's outcome, the reporting page's period."""
    ui.open_as(driver, site.url, "/login", USERS["backbone"], DEMO_PASSWORD)
    ui.wait(driver, EC.presence_of_element_located((By.ID, "nav-logout")))
    _open(driver, site.url + f"/overview?initiative={INITIATIVE}&period={site.published}")
    before = ui.wait(driver, lambda d: _said(d, "overview-status"))
    _pick(driver, "overview-outcome", 1)
    after = ui.wait(driver, lambda d: (t := _said(d, "overview-status")) != before and t)
    assert site.published in after and "indicators" in after, after

    _open(driver, site.url + f"/reporting?initiative={INITIATIVE}&period={site.published}")
    before = ui.wait(driver, lambda d: _said(d, "reporting-counts"))
    _pick(driver, "reporting-period", 0)
    after = ui.wait(driver, lambda d: (t := _said(d, "reporting-counts")) != before and t)
    assert "approved" in after, after
    ui.no_severe(driver)
