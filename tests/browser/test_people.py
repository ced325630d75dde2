"""People in a real browser: the backbone team invites a partner's reporter, who follows the
link, chooses a password and logs in; the same page makes (and shows once) an API key."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from models.access.passwords import is_usable

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

BACKBONE = "backbone@river.test"
INVITEE = "maria@eastside.test"
CHOSEN = "maria-chooses-this-1"


def _click(driver, ident: str) -> None:
    """Click a button below the fold once it can be clicked, scrolled into view first."""
    ui.scroll_to(driver, ui.present(driver, ident))
    ui.wait(driver, EC.element_to_be_clickable((By.ID, ident))).click()


def test_backbone_invites_a_reporter_who_accepts_and_logs_in(fresh_database, driver) -> None:
    fresh_database.migrate()
    with Session(fresh_database.engine) as session:
        init = f.initiative(session, slug="river-city", name="River City Reads")
        for slug, name in (("eastside", "Eastside Library"), ("schools", "River City Schools")):
            member = f.member(session, init, f.organisation(session, slug=slug, name=name))
        f.user(session, "backbone", init=init, email=BACKBONE)
        f.user(session, "reporter", org=member.organisation, email="ops@schools.test")
        session.commit()
    backend = fresh_database.backend

    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/people", BACKBONE)
        ui.wait(driver, EC.url_contains("/people"))
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#people-users .ag-row")))
        assert "ops@schools.test" in driver.find_element(By.ID, "people-users").text
        assert ui.present(driver, "nav-people")
        ui.screenshot(driver, f"people-{backend}")

        # Invite: a mistake first, shown next to the field; then the real address.
        ui.type_in(driver, "people-invite-email", "maria-at-eastside")
        _click(driver, "people-invite-send")
        error = ui.present(driver, "people-invite-email-error")
        ui.wait(driver, lambda d: error.text.strip() != "")
        assert "is-invalid" in driver.find_element(By.ID, "people-invite-email").get_attribute(
            "class"
        )
        ui.screenshot(driver, f"people-invite-error-{backend}")
        ui.type_in(driver, "people-invite-email", INVITEE)
        ui.type_in(driver, "people-invite-name", "Maria Lopez")
        driver.find_element(By.ID, "people-invite-organisation").send_keys("Eastside")
        _click(driver, "people-invite-send")
        link = ui.present(driver, "people-invitation-link").get_attribute("value")
        assert urlsplit(link).path == "/invite" and "token=" in link
        assert ui.present(driver, "people-invitation-link-copy")
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "people-users"), "invitation pending"),
        )
        ui.screenshot(driver, f"people-invited-{backend}")

        # The invitee in the list: the detail shows the grant and a new-link button.
        rows = driver.find_elements(By.CSS_SELECTOR, "#people-users .ag-row")
        [row] = [r for r in rows if INVITEE in r.text]
        row.find_element(By.CSS_SELECTOR, '.ag-cell[col-id="email"]').click()
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "people-detail"), INVITEE))
        detail = driver.find_element(By.ID, "people-detail").text
        assert "reporter for eastside in river-city" in detail
        assert ui.present(driver, "people-renew")
        ui.screenshot(driver, f"people-detail-{backend}")

        # An API key for the initiative: its secret appears once, with a copy button.
        ui.type_in(driver, "people-key-name", "library-sync")
        _click(driver, "people-key-create")
        secret = ui.present(driver, "people-key-secret").get_attribute("value")
        assert secret.startswith("cm_")
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "people-keys"), "library-sync"))
        assert secret not in driver.find_element(By.ID, "people-keys").text
        ui.screenshot(driver, f"people-key-{backend}")
        ui.no_severe(driver)

        ui.log_out(driver)

        # The invitee opens the link, as nobody: a weak password first, then theirs.
        driver.get(link)
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "invite-email"), INVITEE))
        ui.screenshot(driver, f"invite-{backend}")
        ui.type_in(driver, "invite-password", "too-short")
        ui.type_in(driver, "invite-repeat", "too-short")
        _click(driver, "invite-accept")
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "invite-password-error"), "at least 12"),
        )
        ui.screenshot(driver, f"invite-weak-{backend}")
        ui.type_in(driver, "invite-password", CHOSEN)
        ui.type_in(driver, "invite-repeat", CHOSEN)
        _click(driver, "invite-accept")
        ui.present(driver, "invite-done")
        ui.screenshot(driver, f"invite-done-{backend}")

        _click(driver, "invite-login")
        ui.log_in(driver, INVITEE, CHOSEN)
        ui.wait(driver, EC.text_to_be_present_in_element((By.ID, "nav-user"), INVITEE))
        assert "reporter" in driver.find_element(By.ID, "nav-user").text
        ui.screenshot(driver, f"invite-logged-in-{backend}")

        # The link worked once.
        driver.get(link)
        ui.present(driver, "invite-dead")
        ui.screenshot(driver, f"invite-used-{backend}")
        ui.no_severe(driver)

    with Session(fresh_database.engine) as session:
        maria = session.scalar(select(User).where(User.email == INVITEE))
        assert maria.name == "Maria Lopez" and is_usable(maria.password_hash)
