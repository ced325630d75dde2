"""The indicator page's story panel through Dash's callback door: the backbone team edits,
a forged save from anyone else writes nothing, and partners and funders read the published
story only (README: Stories)."""

from __future__ import annotations

import pytest

from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.stories.stories import list_stories

from ..dash_calls import call, response_of, text_of
from .test_analytics_pages import INIT, PERIOD, _as, world  # noqa: F401 - the fixture

MARKUP = "Rose **fast** <script>alert(1)</script> [x](javascript:alert(1))"


def _load(client):
    return call(
        client,
        "..indicator-story-editor.hidden",
        [
            ("indicator-initiative", "value", INIT),
            ("indicator-code", "value", "KIDS"),
            ("indicator-period", "value", PERIOD),
        ],
    )


def _save(client, text: str, version: int | None):
    return call(
        client,
        "..indicator-story-status.children",
        [("indicator-story-save", "n_clicks", 1)],
        state=[
            ("indicator-initiative", "value", INIT),
            ("indicator-code", "value", "KIDS"),
            ("indicator-period", "value", PERIOD),
            ("indicator-story-text", "value", text),
            ("indicator-story-version", "data", version),
        ],
    )


def _stories(session):
    session.expire_all()
    return list_stories(session=session, actor=SYSTEM, initiative_slug=INIT, indicator_code="KIDS")


def test_the_preview_escapes_markup(client, world) -> None:  # noqa: F811
    _as(client, world, "backbone")
    answer = call(
        client,
        "..indicator-story-preview.children",
        [("indicator-story-text", "value", MARKUP)],
    )
    html = response_of(answer)["indicator-story-preview"]["children"]
    assert "<strong>fast</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "href" not in html


@pytest.mark.usefixtures("few_partners_allowed")
def test_backbone_edits_others_read_the_published_story(client, world, session) -> None:  # noqa: F811
    _as(client, world, "backbone")
    loaded = response_of(_load(client))
    assert loaded["indicator-story-editor"]["hidden"] is False
    assert loaded["indicator-story-version"]["data"] == 0
    saved = response_of(_save(client, MARKUP, 0))
    assert saved["indicator-story-version"]["data"] == 1
    assert "Saved as version 1." in text_of(_save(client, MARKUP, 1))  # the same text: no new one

    for role in ("reporter", "funder"):
        _as(client, world, role)
        shown = response_of(_load(client))
        assert shown["indicator-story-editor"]["hidden"] is True
        assert shown["indicator-story-text"]["value"] == ""
        assert "Rose" not in text_of(_load(client)), "unpublished: not theirs to read"
        assert shown["indicator-story-note"]["children"] == f"No story published for {PERIOD}."

    publish(
        session=session,
        actor=SYSTEM,
        initiative_slug=INIT,
        period_key=PERIOD,
        confirm_incomplete=True,
        notify=False,
    )
    session.commit()
    _as(client, world, "backbone")
    assert response_of(_save(client, "A second look.", 1))["indicator-story-version"]["data"] == 2
    for role in ("reporter", "funder"):
        _as(client, world, role)
        shown = response_of(_load(client))
        published = shown["indicator-story-published"]["children"]
        assert "<strong>fast</strong>" in published and "<script" not in published
        assert "second look" not in text_of(_load(client))


@pytest.mark.parametrize("who", ["reporter", "funder", "outsider", None])
def test_a_forged_save_writes_nothing(client, world, session, who) -> None:  # noqa: F811
    _as(client, world, who)
    answer = _save(client, "Forged story", 0)
    assert "cm-error" in text_of(answer)
    assert _stories(session) == []
    if who in ("outsider", None):
        assert "Forged" not in text_of(_load(client))
        assert "cm-error" in text_of(_load(client))
