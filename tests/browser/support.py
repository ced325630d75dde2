"""Browser-test plumbing: the real app on a local port, headless Debian Chromium, and the
steps every browser test takes (waiting, clicking, typing, logging in and out).

In CI (``CI=true``) a missing browser fails the run instead of skipping it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import sessionmaker

from ..conftest import IN_CI, listening_socket
from ..factories import PASSWORD

SCREENSHOTS = Path("var/screenshots")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 20  # seconds a step may take before the test fails


@contextmanager
def live_server(engine) -> Iterator[str]:
    """Serve create_app() on 127.0.0.1 in a thread, bound to ``engine``; yield its base URL."""
    from api.app import create_app

    app = create_app(sessionmaker(engine, expire_on_commit=False))
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def chrome(*, network_log: bool = False):
    """A headless Chromium driven by chromedriver, or skip (fail in CI) when missing. With
    ``network_log`` it keeps DevTools' network events (``driver.get_log("performance")``)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = "chromium and chromium-driver are not installed (apt-get install them)"
        if IN_CI:
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    logs = {"browser": "ALL", **({"performance": "ALL"} if network_log else {})}
    options.set_capability("goog:loggingPrefs", logs)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def no_severe(driver) -> None:
    """The page logged no error to the browser's console."""
    errors = console_errors(driver)
    assert errors == [], "\n".join(errors)


def fits(driver) -> None:
    """The page is no wider than the window: nothing to scroll sideways."""
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    ), "the page is wider than the window"


# --- steps ----------------------------------------------------------------------------------


def wait(driver, condition, timeout: float = WAIT):
    """Wait for ``condition``; a check cut short by a navigation (a redirect) or by a
    re-render (Dash replaced the element it was reading) is retried."""

    def check(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
        except WebDriverException as exc:
            if "navigat" in str(exc).lower():
                return False
            raise

    return WebDriverWait(driver, timeout).until(check)


def present(driver, ident: str):
    """The element with id ``ident``, once the page has it."""
    return wait(driver, EC.presence_of_element_located((By.ID, ident)))


def text_of(ident: str):
    """A condition's reading: the text of the element with id ``ident``."""
    return lambda d: d.find_element(By.ID, ident).text


def scroll_to(driver, element, block: str = "center") -> None:
    """Scroll the element into the window at once (the theme scrolls smoothly, and a click
    during the scroll lands on whatever passes by)."""
    driver.execute_script(
        f"arguments[0].scrollIntoView({{block: '{block}', behavior: 'instant'}});", element
    )


def click(driver, target) -> None:
    """Scroll the element (or the one with id ``target``) to the middle of the window and
    click it."""
    element = driver.find_element(By.ID, target) if isinstance(target, str) else target
    scroll_to(driver, element)
    element.click()


def type_in(driver, ident: str, text: str) -> None:
    """Replace the text of the field with id ``ident``."""
    field = present(driver, ident)
    scroll_to(driver, field)
    field.clear()
    field.send_keys(text)


def log_in(driver, email: str, password: str = PASSWORD) -> None:
    """Log in through the form that a protected page redirected to (it returns there)."""
    wait(driver, EC.url_contains("/login"))
    present(driver, "login-email").send_keys(email)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()


def open_as(driver, url: str, path: str, email: str, password: str = PASSWORD) -> None:
    """Open ``path`` as ``email``: the page sends to the login form, which sends back."""
    driver.get(url + path)
    log_in(driver, email, password)


def log_out(driver) -> None:
    """Log out from the menu at the page's top (scrolled away above on a long page)."""
    logout = driver.find_element(By.ID, "nav-logout")
    scroll_to(driver, logout, block="start")
    logout.click()
    present(driver, "login-logged-out")
