"""Attack review of the Translations tab: a crafted callback (any JSON in place of what the
form sends) is answered with a refusal under the form, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import ContentTranslation

from ..dash_calls import call, call_declared, log_in, text_of
from .test_analytics_pages import INIT, world  # noqa: F401


def _save(client, initiative, chosen, text, refresh=0):
    return call_declared(
        client,
        "..setup-translation-feedback.children",
        {
            "setup-translation-save.n_clicks": 1,
            "setup-initiative.value": initiative,
            "setup-translation-selected.data": chosen,
            "setup-translation-text.value": text,
            "setup-translation-refresh.data": refresh,
        },
        "setup-translation-save.n_clicks",
    )


KIDS = {"entity_type": "indicator", "entity": "KIDS", "field": "name"}


@pytest.mark.parametrize(
    ("initiative", "chosen", "text", "refresh"),
    [
        (INIT, KIDS, 5, 0),
        (INIT, KIDS, ["Niñez"], 0),
        (INIT, KIDS, {"text": "Niñez"}, 0),
        (INIT, KIDS, "Niñez", "x"),
        ([INIT], KIDS, "Niñez", 0),
        (INIT, {"entity_type": ["indicator"], "entity": {}, "field": 3}, "Niñez", 0),
    ],
)
def test_a_crafted_save_is_refused_not_a_500(
    client,
    world,  # noqa: F811
    session,
    initiative,
    chosen,
    text,
    refresh,
) -> None:
    log_in(client, world["backbone"])
    answer = _save(client, initiative, chosen, text, refresh)
    assert answer.status_code in (200, 204), answer.text
    session.expire_all()
    saved = session.scalars(select(ContentTranslation.text)).all()
    assert saved in ([], ["Niñez"]), saved


@pytest.mark.parametrize("initiative", [[INIT], {"slug": INIT}, 5])
def test_a_crafted_listing_is_refused_not_a_500(client, world, initiative) -> None:  # noqa: F811
    log_in(client, world["backbone"])
    answer = call(
        client,
        "..setup-translation-grid.rowData",
        [("setup-initiative", "value", initiative), ("setup-translation-refresh", "data", 0)],
    )
    assert answer.status_code in (200, 204), answer.text
    assert "Traceback" not in text_of(answer)
