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

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy.orm import Session

from models.core.settings import get_settings
from models.demo.builder import load_demo
from models.demo.calendar import quarter_of
from models.demo.spec import DEMO_PASSWORD
from models.publishing.publish import public_summary

from .. import conftest
from ..conftest import BACKENDS
from . import axe
from . import support as ui

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
                yield Site(url, request.param, summary["periods"][-1]["period"])
        finally:
            db.drop()
    get_settings.cache_clear()


def _pages(site: Site, role: str) -> list[str]:
    """The dashboard pages ``role`` opens (the menu's, and those its pages link to)."""
    at = f"initiative={INITIATIVE}"
    everyone = ["/", f"/public?{at}", f"/public/{INITIATIVE}"]
    if role == "public":
        return [*everyone, "/login", "/invite"]
    member = [
        f"/overview?{at}&period={site.published}",
        f"/indicator?{at}&code={CODE}",
        f"/strategies?{at}",
        f"/turn-the-curve?{at}&code={CODE}",
        "/preferences",
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
        "admin": [*everyone, *member, *reviewer, "/admin/mailbox"],
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
