"""The public API's answers follow the switcher's cookie before Accept-Language, so they vary on
both: a shared cache keyed as told never hands one reader's language to another."""

from __future__ import annotations

import pytest

from models.core import i18n

from ..dashboard.test_analytics_pages import INIT, _publish, world  # noqa: F401

SUMMARY = f"/api/v1/public/initiatives/{INIT}/summary"


@pytest.mark.usefixtures("few_partners_allowed")
def test_public_summary_language_follows_cookie_but_vary_omits_it(client, world, session):  # noqa: F811
    _publish(session)
    client.cookies.clear()
    english = client.get(SUMMARY, headers={"Accept-Language": "en"})
    client.cookies.set(i18n.LOCALE_COOKIE, "es")
    spanish = client.get(SUMMARY, headers={"Accept-Language": "en"})
    assert english.status_code == spanish.status_code == 200
    assert spanish.headers["content-language"] == "es"
    assert english.text != spanish.text  # the legend is in the cookie's language
    # Same URL, same Accept-Language, different bodies: the answer must name what it varies on.
    vary = {v.strip().lower() for v in spanish.headers.get("vary", "").split(",")}
    assert "cookie" in vary, spanish.headers.get("vary")


@pytest.mark.usefixtures("few_partners_allowed")
def test_datapackage_language_vary(client, world, session):  # noqa: F811
    _publish(session)
    client.cookies.clear()
    path = f"/api/v1/public/initiatives/{INIT}/datapackage.zip"
    english = client.get(path, headers={"Accept-Language": "en"})
    client.cookies.set(i18n.LOCALE_COOKIE, "es")
    spanish = client.get(path, headers={"Accept-Language": "en"})
    assert english.status_code == spanish.status_code == 200
    if english.content != spanish.content:
        vary = {v.strip().lower() for v in spanish.headers.get("vary", "").split(",")}
        assert "cookie" in vary, spanish.headers.get("vary")
