"""The review detail names its indicators from plain rows (models: indicator_names): a Spanish
reader still reads the backbone team's Spanish names, an English reader the English ones."""

from __future__ import annotations

import pytest

from models.access.permissions import actor_for_user
from models.initiatives.translations import set_translation

from ..dash_calls import log_in
from .test_review_history import (
    EAST,
    _detail,
    _grid,
    _queue,
    world,  # noqa: F401 (the review world, as a fixture)
)

SPANISH = {"Accept-Language": "es-419,es;q=0.9"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_detail_names_indicators_in_the_readers_language(
    client,
    session,
    world,  # noqa: F811
    language,
) -> None:
    backbone = world["users"]["backbone"]
    set_translation(
        session=session,
        actor=actor_for_user(session=session, user=backbone),
        initiative_slug="c2c",
        locale="es",
        entity_type="indicator",
        entity="SERVED",
        field="name",
        text="Niños atendidos",
    )
    session.commit()
    log_in(client, backbone)
    if language == "es":
        client.headers.update(SPANISH)
    options = _queue(client).json()["response"]["review-queue"]["options"]
    label = {r["id"]: r["label"] for r in _grid(_detail(client, EAST, options))}["SERVED|total"]
    assert ("Niños atendidos" in label) is (language == "es"), label
    assert label.endswith("(SERVED)")
