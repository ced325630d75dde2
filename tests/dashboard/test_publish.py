"""The publish page over HTTP: the backbone team previews exactly what the public will see,
confirms an incomplete period and publishes; nobody else gets the preview, even by a forged
callback request."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Publication
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, log_in, render_page, response_of, text_of

INIT = "c2c"
PERIOD = "2025Q3"
KIDS = 4321  # p1's children served: a number no layout prints by chance


def _approve(session, org, inputs):
    f.approved_report(session, INIT, org, PERIOD, inputs)


@pytest.fixture
def world(session, client):
    """p1 approved (with a category under the threshold), p2 not reported: incomplete."""
    built = f.children_served(session)
    init, members = built["init"], built["members"]
    f.closed_period(session, init, PERIOD)
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "reporter": f.user(session, "reporter", org=members["p1"].organisation),
        "outsider": f.user(session, "backbone", init=f.initiative(session, slug="other")),
    }
    session.commit()
    _approve(
        session,
        "p1",
        [
            ValueInput("KIDS", value=KIDS),
            ValueInput("KIDS", "sex=f", value=2200),
            ValueInput("KIDS", "sex=m", value=2114),
            ValueInput("KIDS", "sex=x", value=7),
        ],
    )
    session.commit()
    return users


def _as(client, users, role: str | None) -> None:
    log_in(client, role and users[role])


def _preview(client, period=PERIOD, refresh=0):
    return call(
        client,
        "..publish-readiness.children",
        [
            ("publish-initiative", "value", INIT),
            ("publish-period", "value", period),
            ("publish-refresh", "data", refresh),
        ],
    )


def _publish(client, *, confirm, previewed, note="First release"):
    return call(
        client,
        "..publish-feedback.children",
        [("publish-submit", "n_clicks", 1)],
        [
            ("publish-initiative", "value", INIT),
            ("publish-period", "value", PERIOD),
            ("publish-note", "value", note),
            ("publish-confirm", "value", confirm),
            ("publish-previewed", "data", previewed),
            ("publish-refresh", "data", 0),
        ],
    )


def _publications(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Publication))


@pytest.mark.usefixtures("few_partners_allowed")
def test_backbone_previews_confirms_and_publishes(client, world, session) -> None:
    _as(client, world, "backbone")
    page = text_of(render_page(client, "/reporting/publish", f"?initiative={INIT}"))
    assert "publish-preview" in page and "publish-confirm" in page
    assert f'"value":"{PERIOD}"' in page.replace(" ", "")  # the closed period by default

    answer = _preview(client)
    out = response_of(answer)
    text = text_of(answer)
    # Exactly what the public would see: the total, the small category hidden with its marker.
    assert "4,321" in text and "<10" in text and ">7<" not in text and '"7"' not in text
    assert "1 of 2 partners' reports approved" in text
    assert "publish-pending" in text and "P2" in text and "missing" in text
    assert "publish-incomplete" in text and "1 of 2 partners reported" in text
    assert out["publish-confirm-group"]["hidden"] is False  # the confirmation is asked for
    assert out["publish-submit"]["disabled"] is False
    assert out["publish-submit"]["children"] == f"Publish {PERIOD}"
    assert f"{PERIOD} has not been published yet" in text
    previewed = out["publish-previewed"]["data"]

    # Without the box ticked: said next to the box, nothing published.
    refused = _publish(client, confirm=False, previewed=previewed)
    said = response_of(refused)["publish-confirm-feedback"]["children"]
    assert "Tick the box" in said and "not approved" in said
    assert _publications(session) == 0

    done = _publish(client, confirm=True, previewed=previewed)
    assert "publish-done" in text_of(done) and f"/public/{INIT}?period={PERIOD}" in text_of(done)
    assert response_of(done)["publish-note"]["value"] == ""
    assert _publications(session) == 1

    # The vintages list it, and the public page shows the period.
    text = text_of(_preview(client, refresh=1))
    assert "First publication" in text and "First release" in text
    assert f"Publish {PERIOD} again" in text
    client.cookies.clear()
    public = text_of(
        call(
            client,
            "public-body.children",
            [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
        )
    )
    assert "4,321" in public and "First release" in public


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_preview_the_figures_moved_on_from_is_not_published(client, world, session) -> None:
    _as(client, world, "backbone")
    previewed = response_of(_preview(client))["publish-previewed"]["data"]
    _approve(session, "p2", [ValueInput("KIDS", value=1000)])
    session.commit()
    answer = _publish(client, confirm=True, previewed=previewed)
    assert "changed since the preview was shown" in text_of(answer)
    assert response_of(answer)["publish-refresh"]["data"] == 1  # the preview is read again
    assert _publications(session) == 0
    fresh = response_of(_preview(client, refresh=1))
    assert fresh["publish-previewed"]["data"] != previewed
    assert fresh["publish-confirm-group"]["hidden"] is True  # complete now: nothing to confirm


@pytest.mark.parametrize("role", [None, "funder", "reporter", "outsider"])
def test_nobody_below_the_backbone_gets_the_preview(client, world, session, role) -> None:
    _as(client, world, role)
    page = text_of(render_page(client, "/reporting/publish", f"?initiative={INIT}"))
    assert str(KIDS) not in page and "4,321" not in page
    if role is None:
        assert "cm-login-redirect" in page
    elif role == "outsider":  # backbone elsewhere: its own initiative, never this one
        assert "Cradle to Career" not in page and '"value":"other"' in page.replace(" ", "")
    else:
        assert "publish-not-allowed" in page
    answer = _preview(client)
    assert "4,321" not in text_of(answer) and str(KIDS) not in text_of(answer)
    assert "cm-error" in text_of(answer)
    assert response_of(answer)["publish-previewed"]["data"] is None
    published = _publish(client, confirm=True, previewed=None)
    assert "cm-error" in text_of(published)
    assert _publications(session) == 0


def test_navigation_offers_publishing_to_the_backbone_only(client, world) -> None:
    _as(client, world, "backbone")
    assert "/reporting/publish" in text_of(client.get("/_dash-layout"))
    for role in ("funder", "reporter"):
        _as(client, world, role)
        assert "/reporting/publish" not in text_of(client.get("/_dash-layout"))


def test_a_period_with_nothing_approved_cannot_be_published(client, world, session) -> None:
    from models import Initiative

    init = session.scalar(select(Initiative).where(Initiative.slug == INIT))
    f.period(session, init, "2025Q4")
    session.commit()
    _as(client, world, "backbone")
    out = response_of(_preview(client, period="2025Q4"))
    assert "Nothing to publish" in str(out["publish-readiness"]["children"])
    assert out["publish-submit"]["disabled"] is True
    assert out["publish-preview"]["children"] is None
