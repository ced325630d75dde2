"""The notification pages in a real browser, per role: the admin reads a mail of the local
mailbox (its HTML sandboxed) and the failed messages; the backbone team sees who was reminded
and what failed for a period on the reporting page and edits the reminder days (a refusal
beside the field first); a partner reads its next deadline in the portal and turns reminders
off on its preferences page, and is kept out of the admin's and the backbone's pages.
Screenshots of each page go to var/screenshots/."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import OutboxMessage, Period, User
from models.notifications.reminders import schedule_reminders
from models.tables.notifications import MailboxMessage, NotificationPreference, ReminderSchedule

from ..conftest import BACKENDS
from ..notifications import world as w
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

ERROR = "PermanentFailure: 550 5.1.1 no such mailbox"
SUBJECT = "Reminder: Eastside's report for 2025Q3"


def _world(db) -> None:
    """The notification world with 2025Q3 due in 10 days; eastside's reporters reminded 14
    days before (e1's reminder failed); one mail in the local mailbox."""
    db.migrate()
    today = date.today()
    with Session(db.engine) as session:
        w.build(session)
        session.execute(
            update(Period).values(
                opens_on=today - timedelta(days=20),
                due_on=today + timedelta(days=10),
                closes_on=today + timedelta(days=40),
            )
        )
        w.submit(session, "westside")
        assert schedule_reminders(session=session, today=today - timedelta(days=4)) == 2
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.address == "e1@x.org")
            .values(status="failed", attempts=1, last_error=ERROR)
        )
        session.add(
            MailboxMessage(
                to_address="e2@x.org",
                subject=SUBJECT,
                text_body="Eastside's report for 2025Q3 is due in 14 days.\n<b>not bold</b>",
                html_body="<p id='inside'>Due in <b>14 days</b>.</p>"
                "<script>parent.document.title='owned'</script>",
                headers={},
            )
        )
        session.commit()


def _log_in(driver, url: str, path: str, email: str) -> None:
    """Log in afresh as ``email`` at ``path``."""
    driver.delete_all_cookies()
    ui.open_as(driver, url, path, email)
    ui.wait(driver, EC.url_contains(path))


def test_the_admin_reads_the_mailbox_and_the_failed_messages(fresh_database, driver) -> None:
    _world(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        _log_in(driver, url, "/admin/mailbox", "admin@x.org")
        ui.wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#mailbox-grid .ag-row")))
        assert driver.find_element(By.ID, "nav-mailbox").is_displayed()
        rects = {i: driver.find_element(By.ID, i).rect for i in ("nav-home", "nav-public")}
        middles = [r["y"] + r["height"] / 2 for r in rects.values()]
        assert abs(middles[0] - middles[1]) < 10, rects  # the admin's menu is one line
        assert "1 mail" in ui.text_of("mailbox-count")(driver)
        ui.wait(driver, lambda d: ERROR in ui.text_of("mailbox-outbox")(d))
        assert "e1@x.org" in ui.text_of("mailbox-outbox")(driver)
        ui.click(driver, driver.find_element(By.CSS_SELECTOR, "#mailbox-grid .ag-row .ag-cell"))
        ui.wait(driver, lambda d: ui.text_of("mailbox-subject")(d) == SUBJECT)
        assert "<b>not bold</b>" in ui.text_of("mailbox-text")(driver)  # text stays text
        ui.fits(driver)
        ui.screenshot(driver, f"mailbox-text-{backend}")

        driver.find_element(By.XPATH, "//a[text()='HTML']").click()
        frame = ui.wait(driver, EC.visibility_of_element_located((By.ID, "mailbox-html")))
        assert frame.get_attribute("sandbox") == ""
        driver.switch_to.frame(frame)
        assert driver.find_element(By.ID, "inside").text == "Due in 14 days."
        driver.switch_to.default_content()
        assert driver.title != "owned"  # the mail's script did not run
        ui.screenshot(driver, f"mailbox-html-{backend}")
        errors = [e for e in ui.console_errors(driver) if "sandboxed" not in e]
        assert errors == [], errors


def test_the_backbone_sees_the_periods_messages_and_edits_the_reminder_days(
    fresh_database, driver
) -> None:
    _world(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        _log_in(driver, url, "/reporting", "bb@x.org")
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, "#reporting-notices .ag-row")),
        )
        grid = ui.text_of("reporting-notices")(driver)
        assert "e1@x.org" in grid and "e2@x.org" in grid and ERROR in grid
        assert "reminder (14 days before)" in grid
        assert "1 failed" in ui.text_of("reporting-notices-count")(driver)
        ui.wait(
            driver,
            lambda d: (
                d.find_element(By.ID, "reporting-schedule").get_attribute("value")
                == "-14, -3, 1, 7"
            ),
        )
        assert not driver.find_elements(By.ID, "nav-mailbox")

        field = driver.find_element(By.ID, "reporting-schedule")
        ui.click(driver, field)
        field.clear()
        field.send_keys("-7, -7")
        ui.click(driver, driver.find_element(By.ID, "reporting-schedule-save"))
        ui.wait(driver, lambda d: "once" in ui.text_of("reporting-schedule-error")(d))
        assert "is-invalid" in field.get_attribute("class")
        ui.screenshot(driver, f"reporting-reminders-refused-{backend}")

        field.clear()
        field.send_keys("-7, 0, 3")
        ui.click(driver, driver.find_element(By.ID, "reporting-schedule-save"))
        ui.wait(driver, lambda d: "Saved" in ui.text_of("reporting-schedule-feedback")(d))
        assert "is-invalid" not in field.get_attribute("class")
        ui.fits(driver)
        ui.screenshot(driver, f"reporting-reminders-{backend}")

        driver.get(url + "/admin/mailbox")
        ui.wait(driver, EC.presence_of_element_located((By.ID, "mailbox-not-allowed")))
        ui.no_severe(driver)
    with Session(fresh_database.engine) as session:
        assert session.scalars(select(ReminderSchedule.offsets)).one() == [-7, 0, 3]


def test_a_partner_reads_its_next_deadline_and_turns_reminders_off(fresh_database, driver) -> None:
    _world(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        _log_in(driver, url, "/portal", "e1@x.org")
        note = ui.wait(driver, EC.visibility_of_element_located((By.ID, "portal-deadline")))
        ui.wait(driver, lambda d: "10 days left" in ui.text_of("portal-deadline")(d))
        assert "2025Q3" in note.text
        ui.screenshot(driver, f"portal-next-deadline-{backend}")

        ui.click(driver, driver.find_element(By.ID, "nav-preferences"))
        ui.wait(driver, EC.presence_of_element_located((By.ID, "prefs-table")))
        daily = driver.find_element(
            By.CSS_SELECTOR,
            "#prefs-row-invitation input[value='daily']",
        )
        assert not daily.is_enabled()  # an invitation is never held for a digest
        off = driver.find_element(By.CSS_SELECTOR, "#prefs-row-reminder input[value='off']")
        ui.click(
            driver,
            driver.find_element(By.CSS_SELECTOR, f"label[for='{off.get_attribute('id')}']"),
        )
        ui.click(driver, driver.find_element(By.ID, "prefs-save"))
        ui.wait(driver, lambda d: "Saved" in ui.text_of("prefs-feedback")(d))
        ui.fits(driver)
        ui.screenshot(driver, f"preferences-{backend}")

        for path, refused in (
            ("/admin/mailbox", "mailbox-not-allowed"),
            ("/reporting", "reporting-not-allowed"),
        ):
            driver.get(url + path)
            ui.wait(driver, EC.presence_of_element_located((By.ID, refused)))
        assert not driver.find_elements(By.ID, "reporting-notices")
        ui.no_severe(driver)
    with Session(fresh_database.engine) as session:
        user_id = session.scalar(select(User.id).where(User.email == "e1@x.org"))
        assert session.get(NotificationPreference, (user_id, "reminder")).mode == "off"
