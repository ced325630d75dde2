"""People in a real browser: the backbone team invites a partner's reporter, who follows the
link, chooses a password and logs in; the same page makes (and shows once) an API key."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from models.access.passwords import is_usable

from .. import factories as f
from ..conftest import BACKENDS
from .support import chrome, console_errors, live_server, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

WAIT = 15
BACKBONE = "backbone@river.test"
INVITEE = "maria@eastside.test"
CHOSEN = "maria-chooses-this-1"


def _wait(driver, condition, timeout: float = WAIT):
    def check(d):
        try:
            return condition(d)
        except WebDriverException as exc:
            if "navigat" in str(exc).lower():
                return False
            raise

    return WebDriverWait(driver, timeout).until(check)


def _present(driver, ident: str):
    return _wait(driver, EC.presence_of_element_located((By.ID, ident)))


def _log_in(driver, email: str, password: str) -> None:
    _wait(driver, EC.url_contains("/login"))
    _present(driver, "login-email").send_keys(email)
    driver.find_element(By.ID, "login-password").send_keys(password)
    _click(driver, "login-submit")


def _click(driver, ident: str) -> None:
    """Click a button below the fold: scrolled to the middle of the window at once first (the
    theme scrolls smoothly, and a click during the scroll lands on whatever passes by)."""
    button = _present(driver, ident)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button
    )
    _wait(driver, EC.element_to_be_clickable((By.ID, ident))).click()


def _type(driver, ident: str, text: str) -> None:
    box = _present(driver, ident)
    box.clear()
    box.send_keys(text)


def test_backbone_invites_a_reporter_who_accepts_and_logs_in(fresh_database) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        for slug, name in (("eastside", "Eastside Library"), ("schools", "River City Schools")):
            member = f.member(session, init, f.organisation(session, slug=slug, name=name))
        f.user(session, "backbone", init=init, email=BACKBONE)
        f.user(session, "reporter", org=member.organisation, email="ops@schools.test")
        session.commit()
    backend = fresh_database.backend

    driver = chrome()
    try:
        with live_server(fresh_database.engine) as url:
            driver.get(url + "/people")
            _log_in(driver, BACKBONE, f.PASSWORD)
            _wait(driver, EC.url_contains("/people"))
            _wait(
                driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#people-users .ag-row"))
            )
            assert "ops@schools.test" in driver.find_element(By.ID, "people-users").text
            assert _present(driver, "nav-people")
            screenshot(driver, f"people-{backend}")

            # Invite: a mistake first, shown next to the field; then the real address.
            _type(driver, "people-invite-email", "maria-at-eastside")
            _click(driver, "people-invite-send")
            error = _present(driver, "people-invite-email-error")
            _wait(driver, lambda d: error.text.strip() != "")
            assert "is-invalid" in driver.find_element(By.ID, "people-invite-email").get_attribute(
                "class"
            )
            screenshot(driver, f"people-invite-error-{backend}")
            _type(driver, "people-invite-email", INVITEE)
            _type(driver, "people-invite-name", "Maria Lopez")
            driver.find_element(By.ID, "people-invite-organisation").send_keys("Eastside")
            _click(driver, "people-invite-send")
            link = _present(driver, "people-invitation-link").get_attribute("value")
            assert urlsplit(link).path == "/invite" and "token=" in link
            assert _present(driver, "people-invitation-link-copy")
            _wait(
                driver,
                EC.text_to_be_present_in_element((By.ID, "people-users"), "invitation pending"),
            )
            screenshot(driver, f"people-invited-{backend}")

            # The invitee in the list: the detail shows the grant and a new-link button.
            rows = driver.find_elements(By.CSS_SELECTOR, "#people-users .ag-row")
            [row] = [r for r in rows if INVITEE in r.text]
            row.find_element(By.CSS_SELECTOR, '.ag-cell[col-id="email"]').click()
            _wait(driver, EC.text_to_be_present_in_element((By.ID, "people-detail"), INVITEE))
            detail = driver.find_element(By.ID, "people-detail").text
            assert "reporter for eastside in river-city" in detail
            assert _present(driver, "people-renew")
            screenshot(driver, f"people-detail-{backend}")

            # An API key for the initiative: its secret appears once, with a copy button.
            _type(driver, "people-key-name", "library-sync")
            _click(driver, "people-key-create")
            secret = _present(driver, "people-key-secret").get_attribute("value")
            assert secret.startswith("cm_")
            _wait(driver, EC.text_to_be_present_in_element((By.ID, "people-keys"), "library-sync"))
            assert secret not in driver.find_element(By.ID, "people-keys").text
            screenshot(driver, f"people-key-{backend}")
            errors = console_errors(driver)
            assert errors == [], "\n".join(errors)

            _click(driver, "nav-logout")
            _present(driver, "login-logged-out")

            # The invitee opens the link, as nobody: a weak password first, then theirs.
            driver.get(link)
            _wait(driver, EC.text_to_be_present_in_element((By.ID, "invite-email"), INVITEE))
            screenshot(driver, f"invite-{backend}")
            _type(driver, "invite-password", "too-short")
            _type(driver, "invite-repeat", "too-short")
            _click(driver, "invite-accept")
            _wait(
                driver,
                EC.text_to_be_present_in_element((By.ID, "invite-password-error"), "at least 12"),
            )
            screenshot(driver, f"invite-weak-{backend}")
            _type(driver, "invite-password", CHOSEN)
            _type(driver, "invite-repeat", CHOSEN)
            _click(driver, "invite-accept")
            _present(driver, "invite-done")
            screenshot(driver, f"invite-done-{backend}")

            _click(driver, "invite-login")
            _log_in(driver, INVITEE, CHOSEN)
            _wait(driver, EC.text_to_be_present_in_element((By.ID, "nav-user"), INVITEE))
            assert "reporter" in driver.find_element(By.ID, "nav-user").text
            screenshot(driver, f"invite-logged-in-{backend}")

            # The link worked once.
            driver.get(link)
            _present(driver, "invite-dead")
            screenshot(driver, f"invite-used-{backend}")
            errors = console_errors(driver)
            assert errors == [], "\n".join(errors)
    finally:
        driver.quit()

    with Session(fresh_database.engine) as session:
        maria = session.scalar(select(User).where(User.email == INVITEE))
        assert maria.name == "Maria Lopez" and is_usable(maria.password_hash)
