"""The backbone team's analysis and workflow pages with the browser set to Spanish: the
overview, the indicator page, the reporting progress, the publish page and turn the curve,
each page and its main callbacks with no English UI text, numbers written the Spanish way;
the same pages in English unchanged; and the user's own setting beats the browser
(README, "Languages")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from models import Initiative, User
from models.analytics.suppression import legend

from ..dash_calls import call, log_in, render_page, response_of, text_of
from ..dashboard.test_analytics_pages import INIT, PERIOD, world  # noqa: F401
from .english import english_in, visible_strings

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def backbone(client, world, session):  # noqa: F811
    """The backbone team's user logged in; the factory's "Initiative 7" (data, not UI text)
    renamed."""
    session.execute(update(Initiative).where(Initiative.slug == "other").values(name="Otra"))
    session.commit()
    log_in(client, world["backbone"])
    return world["backbone"]


def _spanish(client) -> None:
    client.headers.update(SPANISH)


# The markers of hidden figures are codes, the same in every language (README, "Languages").
MARKERS = set(legend())


def _english_found(*answers) -> list[tuple[str, str]]:
    texts: list[str] = []
    for answer in answers:
        texts += visible_strings(response_of(answer))
    return [(text, english) for text, english in english_in(texts) if text not in MARKERS]


def _overview(client):
    return call(
        client,
        "..overview-body.children",
        [
            ("overview-initiative", "value", INIT),
            ("overview-period", "value", PERIOD),
            ("overview-outcome", "value", None),
        ],
    )


def test_the_overview_in_spanish(client, backbone) -> None:
    _spanish(client)
    page = render_page(client, "/overview", f"?initiative={INIT}")
    body = _overview(client)
    assert not _english_found(page, body), _english_found(page, body)
    text = text_of(body)
    assert "4.321" in text and "4,321" not in text  # the Spanish group separator
    assert "Cómo leer la tabla" in text and "Socios que informaron" in text
    assert "Resultado" in text_of(page)
    # The same page in English is unchanged.
    client.headers.update(ENGLISH)
    english = text_of(_overview(client))
    assert "4,321" in english and "How to read the table" in english
    assert "Partners reported" in english


def _indicator(client, output: str, *inputs):
    return call(
        client,
        output,
        [("indicator-initiative", "value", INIT), ("indicator-code", "value", "KIDS"), *inputs],
    )


def _indicator_answers(client) -> list:
    period = ("indicator-period", "value", PERIOD)
    return [
        render_page(client, "/indicator", f"?initiative={INIT}&code=KIDS"),
        _indicator(client, "..indicator-trend.figure"),
        _indicator(client, "..indicator-partners.figure", period),
        _indicator(client, "..indicator-equity.figure", ("indicator-by", "value", "sex")),
        _indicator(client, "..indicator-story-editor.hidden", period),
    ]


def test_the_indicator_page_in_spanish(client, backbone) -> None:
    _spanish(client)
    answers = _indicator_answers(client)
    assert not _english_found(*answers), _english_found(*answers)
    page, trend, partners, equity, story = (text_of(a) for a in answers)
    assert "Comparación entre socios" in page and "Equidad" in page
    assert "Children served a lo largo del tiempo" in trend  # the chart's title
    assert "Todos los socios 4.321" in partners  # the rollup's line, written the Spanish way
    assert "Equidad por " in equity and "Equity by" not in equity
    assert "Todavía no hay historia para 2025Q3" in story
    assert '"separators": ",."' in trend  # the chart's own numbers too
    client.headers.update(ENGLISH)
    english = [text_of(a) for a in _indicator_answers(client)]
    assert "Partner comparison" in english[0] and "Children served over time" in english[1]
    assert "All partners 4321" in english[2] and "separators" not in english[1]


def _reporting_answers(client) -> list:
    chosen = [("reporting-initiative", "value", INIT), ("reporting-period", "value", PERIOD)]
    return [
        render_page(client, "/reporting", f"?initiative={INIT}&period={PERIOD}"),
        call(client, "..reporting-heatmap.figure", chosen),
        call(client, "..reporting-notices.rowData", chosen),
        call(
            client,
            "reporting-heatmap-table.children",
            [("reporting-heatmap-summary", "n_clicks", 1), *chosen],
        ),
    ]


def test_the_reporting_page_in_spanish(client, backbone) -> None:
    _spanish(client)
    answers = _reporting_answers(client)
    assert not _english_found(*answers), _english_found(*answers)
    page, view, notices, table = (text_of(a) for a in answers)
    assert "Recordatorios y mensajes" in page and "Atrasados y faltantes" in view
    assert re.search(r"aprobado: \d", view)  # the counts by state
    assert "Informes de 2025Q3" in view  # the heat map's title
    assert re.search(r"\d+ mensajes? sobre 2025Q3", notices)
    assert '"state": "aprobado"' in table
    client.headers.update(ENGLISH)
    english = [text_of(a) for a in _reporting_answers(client)]
    assert "Late and missing" in english[1] and re.search(r"approved: \d", english[1])
    assert re.search(r"\d+ messages? about 2025Q3", english[2])


def _publish_answers(client) -> list:
    return [
        render_page(client, "/reporting/publish", f"?initiative={INIT}&period={PERIOD}"),
        call(
            client,
            "..publish-readiness.children",
            [
                ("publish-initiative", "value", INIT),
                ("publish-period", "value", PERIOD),
                ("publish-refresh", "data", 0),
            ],
        ),
    ]


def test_the_publish_page_in_spanish(client, backbone) -> None:
    _spanish(client)
    answers = _publish_answers(client)
    assert not _english_found(*answers), _english_found(*answers)
    preview = text_of(answers[1])
    assert "Lo que verá el público de 2025Q3" in preview
    assert "Basado en los informes aprobados de los 2 socios" in preview
    assert "Publicar 2025Q3" in preview  # the button
    client.headers.update(ENGLISH)
    english = text_of(_publish_answers(client)[1])
    assert "What the public will see for 2025Q3" in english
    assert "Based on the approved reports of all 2 partners" in english


def _ttc_answers(client) -> list:
    return [
        render_page(client, "/turn-the-curve", f"?initiative={INIT}&code=KIDS"),
        call(
            client,
            "..ttc-chart.figure",
            [("ttc-initiative", "value", INIT), ("ttc-code", "value", "KIDS")],
        ),
    ]


def test_turn_the_curve_in_spanish(client, backbone) -> None:
    _spanish(client)
    answers = _ttc_answers(client)
    assert not _english_found(*answers), _english_found(*answers)
    view = text_of(answers[1])
    assert "Sin pronóstico: ninguna estrategia" in view  # the domain's method, in Spanish
    assert "Ninguna estrategia que usted pueda ver" in view
    client.headers.update(ENGLISH)
    english = text_of(_ttc_answers(client)[1])
    assert "No forecast: no strategy you may see aims at this indicator." in english


def test_the_users_own_setting_beats_the_browser(client, backbone, session) -> None:
    session.execute(update(User).where(User.id == backbone.id).values(locale="es"))
    session.commit()
    log_in(client, backbone)
    client.headers.update(ENGLISH)
    body = _overview(client)
    assert "Cómo leer la tabla" in text_of(body) and "4.321" in text_of(body)
    assert not _english_found(body), _english_found(body)
