"""The public summary with the browser set to Spanish: every UI text in Spanish, numbers and
dates written the Spanish way, the legend explained in Spanish (README, "Languages")."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from models import Initiative, Organisation

from ..dash_calls import call, find, render_page, response_of, text_of
from ..dashboard.test_analytics_pages import INIT, PERIOD, _publish, world  # noqa: F401
from .english import english_in, visible_strings

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}


def test_the_catalogue_check_finds_english() -> None:
    """The check itself: English UI text is found, Spanish and data are not."""
    found = english_in(["Download CSV", "Publicado el 1 de diciembre de 2026", "Children served"])
    assert [english for _text, english in found] == ["Download CSV"]
    assert english_in(["Published 1 Dec 2026"])  # a text with a placeholder is found too


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_public_page_in_spanish(client, world, session) -> None:  # noqa: F811
    _publish(session)
    client.cookies.clear()
    client.headers.update(SPANISH)
    shell = client.get("/_dash-layout").json()
    page = render_page(client, f"/public/{INIT}")
    answer = call(
        client,
        "public-body.children",
        [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
    )
    texts = [
        *visible_strings(shell),
        *visible_strings(response_of(page)),
        *visible_strings(response_of(answer)),
    ]
    assert not english_in(texts), english_in(texts)
    text = text_of(answer)
    assert "4.321" in text and "4,321" not in text  # the Spanish group separator
    assert "Publicado el " in text and " de 20" in text  # "Publicado el 1 de diciembre de 2026"
    assert "Iniciar sesión" in text_of(client.get("/_dash-layout"))
    legend = find(response_of(page), "public-legend")
    assert "menos de 10 personas" in text_of(page) and legend is not None
    store = find(response_of(answer), {"type": "cm-csv-data", "name": "public-all"})
    assert ["period", "Período"] in store["props"]["data"]["columns"]  # the CSV's headers
    assert response_of(answer)  # the page's figures are the same figures
    # The same page in English is unchanged.
    client.headers.pop("Accept-Language")
    english = text_of(
        call(
            client,
            "public-body.children",
            [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
        )
    )
    assert "4,321" in english and "Published " in english


def test_the_home_and_login_pages_in_spanish(client, world, session) -> None:  # noqa: F811
    # The factory names an initiative "Initiative 7" (slug "other") and organisations
    # "Organisation 33": data, not UI text, yet English words of the catalogue; so renamed.
    session.execute(
        update(Initiative).where(Initiative.slug == "other").values(name="Otra", slug="otra")
    )
    session.execute(update(Organisation).values(name=Organisation.slug))
    session.commit()
    client.headers.update(SPANISH)
    texts = []
    for path, search in (("/", ""), ("/login", "?error=1"), ("/login", "?logged_out=1")):
        texts += visible_strings(response_of(render_page(client, path, search)))
    assert not english_in(texts), english_in(texts)
    assert "Iniciativas" in texts and "Contraseña" in texts
    assert "Cerró sesión." in texts
    home = text_of(render_page(client, "/"))
    assert '"headerName": "Socios"' in home and '"field": "Partners"' in home
