"""The story behind the curve: safe rendering, versions, audit, access, and the vintage a
publication carries to the public page and the data package (README: Stories)."""

from __future__ import annotations

import csv
import io
import zipfile
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from models import AuditEvent
from models.analytics.views import data_version
from models.core.actors import SYSTEM
from models.reporting.validation import ValueInput
from models.stories.render import render_markdown
from models.stories.stories import MAX_LENGTH, write_story

from .. import factories as f

P = "/api/v1"
STORIES = f"{P}/initiatives/tales/indicators/KIDS/stories"

# --- rendering ------------------------------------------------------------------------------------

ATTACKS = [
    "<script>alert(1)</script>",
    "Before <script src=https://evil.example/x.js></script> after",
    "<img src=x onerror=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">click</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    '![x](https://evil.example/pixel.png "t")',
    "<iframe src=https://evil.example></iframe>",
    "<svg><script>alert(1)</script></svg>",
    '[ok](https://a.example/"onmouseover="alert(1))',
]
ALLOWED_TAGS = {"p", "a", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "br"}
ALLOWED_TAGS |= {"h1", "h2", "h3", "h4", "h5", "h6", "hr"}
ALLOWED_ATTRIBUTES = {"href", "title", "rel", "start"}


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def _parsed(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


@pytest.mark.parametrize("text", ATTACKS)
def test_markup_in_a_story_is_shown_as_text_never_run(text: str) -> None:
    html = render_markdown(text)
    for tag, attrs in _parsed(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRIBUTES, (attrs, html)
        assert not any(name.startswith("on") for name in attrs), html
        if tag == "a":
            assert (attrs["href"] or "").startswith(("https://", "http://", "mailto:")), html
            assert attrs["rel"] == "nofollow noopener noreferrer"
    assert "javascript:" not in "".join(str(a.get("href")) for _, a in _parsed(html))
    assert "<script" not in html and "<img" not in html and "<iframe" not in html


def test_markdown_keeps_its_meaning() -> None:
    html = render_markdown(
        "## Why\n\nReading rose in **every** school, see [the report](https://example.org/r).\n\n"
        "- the library\n- <b>summer</b> camps"
    )
    assert "<h2>Why</h2>" in html
    assert "<strong>every</strong>" in html
    assert '<a href="https://example.org/r" rel="nofollow noopener noreferrer">' in html
    assert "<li>&lt;b&gt;summer&lt;/b&gt; camps</li>" in html


# --- the world ------------------------------------------------------------------------------------


def _token(client, user) -> dict[str, str]:
    r = client.post(f"{P}/auth/token", data={"username": user.email, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def world(session, client) -> dict[str, dict[str, str]]:
    """Initiative "tales" (KIDS, reported by p1 and p2, in 2025Q3 and 2025Q4) with a backbone
    officer, a funder and p1's reporter; initiative "other" with its own backbone officer."""
    init = f.initiative(session, slug="tales", name="Tales City")
    kids = f.indicator(session, init, "count", code="KIDS", name="Children served")
    f.indicator(session, init, "count", code="MEALS", name="Meals")
    p1 = f.organisation(session, slug="p1")
    for org in (p1, f.organisation(session, slug="p2")):
        f.obligation(session, f.member(session, init, org), kids)
    f.period(session, init, "2025Q3")
    f.period(session, init, "2025Q4")
    other = f.initiative(session, slug="other", name="Other City")
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "reporter": f.user(session, "reporter", org=p1),
        "other": f.user(session, "backbone", init=other),
    }
    session.commit()
    return {role: _token(client, u) for role, u in users.items()}


def _put(client, headers, text, period="2025Q3", **body):
    return client.put(f"{STORIES}/{period}", json={"text": text, **body}, headers=headers)


def _publish(client, headers, period="2025Q3"):
    r = client.post(
        f"{P}/initiatives/tales/periods/{period}/publish",
        json={"confirm_incomplete": True},
        headers=headers,
    )
    assert r.status_code == 201, r.text


def _approve(session, period="2025Q3"):
    f.approved_report(session, "tales", "p1", period, [ValueInput("KIDS", value=120)])
    f.approved_report(session, "tales", "p2", period, [ValueInput("KIDS", value=80)])
    session.commit()


# --- versions and audit ---------------------------------------------------------------------------


def test_each_edit_is_a_version_with_an_audit_event(client, session, world) -> None:
    bb = world["backbone"]
    first = _put(client, bb, "Enrolment **rose**.")
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    assert first.json()["html"] == "<p>Enrolment <strong>rose</strong>.</p>\n"
    second = _put(client, bb, "Enrolment rose, thanks to p1's outreach.", version=1)
    assert second.json()["version"] == 2
    again = _put(client, bb, "  Enrolment rose, thanks to p1's outreach.\n", version=2)
    assert again.json()["version"] == 2, "the same text again writes no version"

    versions = client.get(f"{STORIES}/2025Q3/versions", headers=bb).json()
    assert [(v["version"], v["text"]) for v in versions] == [
        (1, "Enrolment **rose**."),
        (2, "Enrolment rose, thanks to p1's outreach."),
    ]
    assert all(v["written_by"] and v["written_at"] for v in versions)
    [current] = client.get(STORIES, headers=bb).json()
    assert (current["period"], current["version"], current["published_version"]) == (
        "2025Q3",
        2,
        None,
    )

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "story").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update"]
    assert events[0].before is None
    assert events[0].after == {
        "indicator": "KIDS",
        "period": "2025Q3",
        "version": 1,
        "text": "Enrolment **rose**.",
    }
    assert events[1].before == {"version": 1, "text": "Enrolment **rose**."}
    assert events[1].after["version"] == 2
    assert all(e.actor_label.startswith("user:") for e in events)


def test_a_stale_edit_is_refused_and_nothing_is_written(client, world) -> None:
    bb = world["backbone"]
    assert _put(client, bb, "One.", version=0).status_code == 200
    assert _put(client, bb, "Two.", version=1).status_code == 200
    stale = _put(client, bb, "Three, from an old page.", version=1)
    assert stale.status_code == 409
    assert (stale.json()["code"], stale.json()["field"]) == ("stale_version", "version")
    assert [v["version"] for v in client.get(f"{STORIES}/2025Q3/versions", headers=bb).json()] == [
        1,
        2,
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "x" * (MAX_LENGTH + 1)}, "text"),
        ({"text": 42}, "text"),
        ({"text": ""}, "text"),  # nothing to withdraw yet
        ({"text": "fine", "version": -1}, "version"),
        ({"text": "fine", "colour": "red"}, "colour"),
        ({}, "text"),
    ],
)
def test_validation_errors_name_the_field(client, world, body, field) -> None:
    r = client.put(f"{STORIES}/2025Q3", json=body, headers=world["backbone"])
    assert r.status_code == 422, r.text
    assert field in (r.json().get("field") or ""), r.json()


def test_the_length_cap_is_the_domains_too(session, world) -> None:
    from models.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        write_story(
            session=session,
            actor=SYSTEM,
            initiative_slug="tales",
            indicator_code="KIDS",
            period_key="2025Q3",
            text="y" * (MAX_LENGTH + 1),
        )
    assert caught.value.field == "text"


# --- access ---------------------------------------------------------------------------------------


def test_only_the_backbone_writes_and_other_tenants_see_nothing(client, world) -> None:
    assert _put(client, world["backbone"], "Draft for the team.").status_code == 200
    for role in ("reporter", "funder"):
        r = _put(client, world[role], "Partner's own story")
        assert r.status_code == 403, (role, r.text)
        # Unpublished: below the backbone team the story does not exist yet.
        assert client.get(STORIES, headers=world[role]).json() == []
        assert client.get(f"{STORIES}/2025Q3/versions", headers=world[role]).json() == []
    for url in (STORIES, f"{STORIES}/2025Q3/versions"):
        r = client.get(url, headers=world["other"])
        assert (r.status_code, r.json()["field"]) == (404, "slug")
    r = _put(client, world["other"], "Not yours")
    assert r.status_code == 404 and "Draft" not in r.text
    assert client.get(STORIES).status_code == 401
    r = client.get(f"{P}/initiatives/tales/indicators/NOPE/stories", headers=world["backbone"])
    assert (r.status_code, r.json()["field"]) == (404, "code")
    r = _put(client, world["backbone"], "Later", period="2030Q1")
    assert (r.status_code, r.json()["field"]) == (404, "period")


# --- publication carries the vintage --------------------------------------------------------------


def _public_story(client, period="2025Q3"):
    summary = client.get(f"{P}/public/initiatives/tales/summary").json()
    [p] = [p for p in summary["periods"] if p["period"] == period]
    return {s["indicator"]: s for s in p["stories"]}


def _packaged_stories(client) -> list[dict[str, str]]:
    r = client.get(f"{P}/public/initiatives/tales/datapackage.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        return list(csv.DictReader(io.StringIO(z.read("stories.csv").decode())))


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_publication_carries_the_story_of_its_vintage(client, session, world) -> None:
    bb = world["backbone"]
    _approve(session)
    written = "Enrolment rose <script>alert(1)</script> [see](javascript:alert(1))"
    assert _put(client, bb, written).status_code == 200
    _publish(client, bb)

    public = _public_story(client)["KIDS"]
    assert public["version"] == 1 and public["text"] == written
    assert "<script" not in public["html"] and "&lt;script&gt;" in public["html"]
    assert 'href="javascript' not in public["html"]
    [row] = _packaged_stories(client)
    assert (row["period"], row["indicator"], row["version"], row["story"]) == (
        "2025Q3",
        "KIDS",
        "1",
        written,
    )

    # An edit after publication stays with the backbone team until the period is republished.
    assert _put(client, bb, "Enrolment rose: the second look.", version=1).status_code == 200
    assert _public_story(client)["KIDS"]["version"] == 1
    assert [r["version"] for r in _packaged_stories(client)] == ["1"]
    for role in ("reporter", "funder"):
        [seen] = client.get(STORIES, headers=world[role]).json()
        assert (seen["version"], seen["text"], seen["written_by"]) == (1, written, None)
        versions = client.get(f"{STORIES}/2025Q3/versions", headers=world[role]).json()
        assert [v["version"] for v in versions] == [1]
    [mine] = client.get(STORIES, headers=bb).json()
    assert (mine["version"], mine["published_version"]) == (2, 1)

    _publish(client, bb)
    assert _public_story(client)["KIDS"]["text"] == "Enrolment rose: the second look."
    assert [r["version"] for r in _packaged_stories(client)] == ["2"]
    versions = client.get(f"{STORIES}/2025Q3/versions", headers=world["funder"]).json()
    assert [v["version"] for v in versions] == [1, 2]


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_withdrawn_story_leaves_the_next_vintage(client, session, world) -> None:
    bb = world["backbone"]
    _approve(session)
    _put(client, bb, "A first story.")
    _publish(client, bb)
    assert _put(client, bb, "", version=1).json()["version"] == 2
    _publish(client, bb)
    assert _public_story(client) == {}
    assert client.get(STORIES, headers=world["reporter"]).json() == []


@pytest.mark.usefixtures("few_partners_allowed")
def test_a_story_edit_moves_no_figure_view_but_publishing_it_does(client, session, world) -> None:
    """No figure view (scorecard, series, equity) shows a story: an edit leaves their data
    version alone, so their cached answers stay good; the public sees a story only through a
    publication, which moves it."""

    def stamp(figures_only: bool) -> str:
        session.expire_all()
        return data_version(
            session=session, actor=SYSTEM, initiative_slug="tales", figures_only=figures_only
        ).stamp

    _approve(session)
    before, everything = stamp(True), stamp(False)
    assert _put(client, world["backbone"], "A story.").status_code == 200
    assert stamp(True) == before
    assert stamp(False) != everything, "the rest of the trail still sees the edit"
    _publish(client, world["backbone"])
    assert stamp(True) != before


def test_an_indicator_deleted_takes_its_stories_with_it(client, session, world) -> None:
    from models import StoryVersion

    bb = world["backbone"]
    url = f"{P}/initiatives/tales/indicators/MEALS"
    assert (
        client.put(f"{url}/stories/2025Q3", json={"text": "Meals"}, headers=bb).status_code == 200
    )
    assert client.delete(url, headers=bb).status_code == 200
    session.expire_all()
    assert session.scalars(select(StoryVersion)).all() == []


@pytest.mark.usefixtures("few_partners_allowed")
def test_the_preview_names_the_stories_the_vintage_would_carry(client, session, world) -> None:
    from models.publishing.publish import preview

    def carried() -> dict[str, int]:
        session.expire_all()
        return preview(
            session=session, actor=SYSTEM, initiative_slug="tales", period_key="2025Q3"
        ).stories

    _approve(session)
    assert carried() == {}
    _put(client, world["backbone"], "First.")
    _put(client, world["backbone"], "Second.", version=1)
    assert carried() == {"KIDS": 2}
    _put(client, world["backbone"], "", version=2)
    assert carried() == {}, "an emptied story is not carried"


@pytest.mark.usefixtures("few_partners_allowed")
def test_publishing_refuses_a_preview_a_story_has_moved_on_from(session, world) -> None:
    """The preview names the stories' versions too: a story edited after the publisher looked
    is not published unseen."""
    from models.core.errors import Conflict
    from models.publishing.publish import preview, publish

    _approve(session)

    def story(text: str) -> None:
        write_story(
            session=session,
            actor=SYSTEM,
            initiative_slug="tales",
            indicator_code="KIDS",
            period_key="2025Q3",
            text=text,
        )

    def looked() -> str:
        return preview(
            session=session, actor=SYSTEM, initiative_slug="tales", period_key="2025Q3"
        ).fingerprint

    story("First look.")
    seen = looked()
    assert looked() == seen  # nothing moved: the same preview
    story("Second look, written after the preview.")
    with pytest.raises(Conflict) as refused:
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug="tales",
            period_key="2025Q3",
            confirm_incomplete=True,
            previewed=seen,
            notify=False,
        )
    assert refused.value.code == "preview_outdated"
    vintage = publish(
        session=session,
        actor=SYSTEM,
        initiative_slug="tales",
        period_key="2025Q3",
        confirm_incomplete=True,
        previewed=looked(),
        notify=False,
    )
    from models.tables.publication import Publication

    frozen = session.get(Publication, vintage.id)
    assert frozen is not None and frozen.snapshot["stories"]["KIDS"]["version"] == 2
