"""The browser tests' browser: one headless Chromium per test, quit after it."""

from __future__ import annotations

import pytest

from .support import chrome


@pytest.fixture
def driver():
    """Skipped (failed in CI) when Chromium is not installed."""
    browser = chrome()
    yield browser
    browser.quit()
