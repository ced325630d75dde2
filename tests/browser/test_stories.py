"""The story behind the curve in a real browser: the backbone officer writes the story of the
selected period on the indicator page, the preview shows injected markup as text (it never
runs), saving makes a version; after publication a later edit stays off the public page, which
shows the story the vintage carries."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy.orm import Session

from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.reporting.validation import ValueInput

from .. import factories as f
from ..conftest import BACKENDS
from . import support as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True),
]

EMAIL = "story-backbone@example.org"
INJECTED = (
    "Reading **rose** in every school. <script>window.injected = 1</script> "
    '<img src=x onerror="window.injected = 2"> [bad](javascript:window.injected=3)'
)


def _world(db) -> None:
    """Initiative "tales": KIDS reported and approved by three partners in 2025Q3."""
    db.migrate()
    with Session(db.engine) as session:
        init = f.initiative(session, slug="tales", name="Tales City")
        kids = f.indicator(session, init, "count", code="KIDS", name="Children served")
        f.period(session, init, "2025Q3")
        for n, slug in enumerate(("p1", "p2", "p3")):
            f.obligation(session, f.member(session, init, f.organisation(session, slug=slug)), kids)
            f.approved_report(session, "tales", slug, "2025Q3", [ValueInput("KIDS", value=100 + n)])
        f.user(session, "backbone", init=init, email=EMAIL)
        session.commit()


def _publish(db) -> None:
    with Session(db.engine) as session:
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug="tales",
            period_key="2025Q3",
            confirm_incomplete=True,
            notify=False,
        )
        session.commit()


def _write(driver, text: str) -> None:
    box = ui.wait(driver, EC.visibility_of_element_located((By.ID, "indicator-story-text")))
    box.clear()
    box.send_keys(text)


def _save(driver, version: int) -> None:
    button = driver.find_element(By.ID, "indicator-story-save")
    ui.scroll_to(driver, button)
    ui.wait(driver, EC.element_to_be_clickable((By.ID, "indicator-story-save"))).click()
    ui.wait(
        driver,
        EC.text_to_be_present_in_element(
            (By.ID, "indicator-story-status"), f"Saved as version {version}."
        ),
    )


def test_the_backbone_writes_previews_and_publishes_a_story(fresh_database, driver) -> None:
    _world(fresh_database)
    backend = fresh_database.backend
    with ui.live_server(fresh_database.engine) as url:
        ui.open_as(driver, url, "/indicator?initiative=tales&code=KIDS&period=2025Q3", EMAIL)
        ui.wait(driver, EC.url_contains("/indicator"))
        ui.wait(
            driver,
            EC.text_to_be_present_in_element(
                (By.ID, "indicator-story-note"), "No story for 2025Q3 yet"
            ),
        )
        _write(driver, INJECTED)
        ui.wait(
            driver,
            EC.presence_of_element_located((By.CSS_SELECTOR, "#indicator-story-preview strong")),
        )
        preview = driver.find_element(By.ID, "indicator-story-preview")
        assert preview.find_element(By.TAG_NAME, "strong").text == "rose"
        # The markup is text on the page, not elements: nothing ran, nothing links out.
        assert "<script>window.injected = 1</script>" in preview.text
        for tag in ("script", "img", "a"):
            assert preview.find_elements(By.TAG_NAME, tag) == [], tag
        assert driver.execute_script("return window.injected === undefined")
        ui.scroll_to(driver, preview)
        ui.screenshot(driver, f"story-preview-{backend}")

        _save(driver, 1)
        ui.wait(
            driver,
            EC.text_to_be_present_in_element(
                (By.ID, "indicator-story-note"), "Version 1, not yet published"
            ),
        )
        _publish(fresh_database)

        # After publication: a second look, saved, is not what the public reads.
        driver.refresh()
        ui.wait(
            driver,
            EC.text_to_be_present_in_element(
                (By.ID, "indicator-story-note"), "Version 1, as published"
            ),
        )
        _write(driver, "A second look: the summer programme helped.")
        _save(driver, 2)
        ui.wait(
            driver,
            EC.text_to_be_present_in_element((By.ID, "indicator-story-note"), "carries version 1"),
        )
        ui.screenshot(driver, f"story-saved-{backend}")
        ui.no_severe(driver)

        driver.get(url + "/public/tales?period=2025Q3")
        story = ui.wait(driver, EC.presence_of_element_located((By.ID, "public-story-KIDS")))
        assert "Reading rose in every school." in story.text
        assert "second look" not in story.text
        assert story.find_elements(By.TAG_NAME, "script") == []
        assert story.find_elements(By.TAG_NAME, "img") == []
        assert driver.execute_script("return window.injected === undefined")
        ui.scroll_to(driver, story)
        ui.screenshot(driver, f"story-public-{backend}")
