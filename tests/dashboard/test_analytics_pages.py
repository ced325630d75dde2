"""The analytics pages over HTTP: overview, indicator, reporting and the public summary.

Forged callback requests get what the cookie's user may see (anonymous and outsiders: nothing);
funders and reporters see suppressed figures where the backbone team sees exact ones; the public
page shows published, suppressed figures only — never a small count.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from models import Initiative
from models.core.actors import SYSTEM
from models.publishing.publish import publish
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, find, log_in, render_page, response_of, text_of

INIT = "c2c"
PERIOD = "2025Q3"
KIDS_TOTAL = 4321  # p1 4300 + p2 21: a number no layout prints by chance
SMALL = 6  # under the threshold of 10: hidden from everyone but the backbone team


def _approve(session, org, inputs, period=PERIOD):
    f.approved_report(session, INIT, org, period, inputs)


@pytest.fixture
def world(session, client):
    built = f.children_served(session)
    init, members = built["init"], built["members"]
    small = f.indicator(
        session, init, "count", code="SMALL", name="Rare cases", outcome_id=built["outcome"].id
    )
    for m in members.values():
        f.obligation(session, m, small)
    f.period(session, init, PERIOD)
    other = f.initiative(session, slug="other")
    stranger = f.member(session, other, f.organisation(session, slug="stranger"))
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "funder": f.user(session, "funder", init=init),
        "reporter": f.user(session, "reporter", org=members["p1"].organisation),
        "outsider": f.user(session, "reporter", org=stranger.organisation),
    }
    session.commit()
    _approve(
        session,
        "p1",
        [
            ValueInput("KIDS", value=4300),
            ValueInput("KIDS", "sex=f", value=2200),
            ValueInput("KIDS", "sex=m", value=2093),
            ValueInput("KIDS", "sex=x", value=7),
            ValueInput("SMALL", value=SMALL),
        ],
    )
    _approve(session, "p2", [ValueInput("KIDS", value=21)])
    session.commit()
    return users


def _as(client, users, role: str | None) -> None:
    log_in(client, role and users[role])


def _overview(client, outcome=None):
    return call(
        client,
        "..overview-body.children",
        [
            ("overview-initiative", "value", INIT),
            ("overview-period", "value", PERIOD),
            ("overview-outcome", "value", outcome),
        ],
    )


def _trend(client):
    return call(
        client,
        "..indicator-trend.figure",
        [("indicator-initiative", "value", INIT), ("indicator-code", "value", "KIDS")],
    )


def _partners(client):
    return call(
        client,
        "..indicator-partners.figure",
        [
            ("indicator-initiative", "value", INIT),
            ("indicator-code", "value", "KIDS"),
            ("indicator-period", "value", PERIOD),
        ],
    )


def _equity(client):
    return call(
        client,
        "..indicator-equity.figure",
        [
            ("indicator-initiative", "value", INIT),
            ("indicator-code", "value", "KIDS"),
            ("indicator-by", "value", "sex"),
        ],
    )


def _reporting(client):
    return call(
        client,
        "..reporting-heatmap.figure",
        [("reporting-initiative", "value", INIT), ("reporting-period", "value", PERIOD)],
    )


def _no_figures(answer) -> None:
    text = text_of(answer)
    assert str(KIDS_TOTAL) not in text and "4,321" not in text and "4300" not in text
    out = response_of(answer)
    for component in out.values():
        for prop, value in component.items():
            if prop == "figure":
                assert not value.get("data"), value
    assert "cm-error" in text


# --- forged requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "outsider"])
def test_forged_analytics_callbacks_get_no_figures(client, world, who) -> None:
    _as(client, world, who)
    for request in (_overview, _trend, _partners, _equity, _reporting):
        _no_figures(request(client))


@pytest.mark.parametrize("who", [None, "outsider"])
def test_analytics_pages_render_nothing_for_strangers(client, world, who) -> None:
    _as(client, world, who)
    for path in ("/overview", "/indicator", "/reporting"):
        text = text_of(render_page(client, path, f"?initiative={INIT}"))
        assert str(KIDS_TOTAL) not in text
        if who is None:
            assert "cm-please-log-in" in text
        else:  # the page falls back to the outsider's own initiative, never this one
            assert "Cradle to Career" not in text and '"value": "c2c"' not in text


@pytest.mark.parametrize("who", ["funder", "reporter"])
def test_reporting_is_for_the_backbone_only(client, world, who) -> None:
    _as(client, world, who)
    _no_figures(_reporting(client))
    assert "reporting-not-allowed" in text_of(render_page(client, "/reporting", ""))


def test_backbone_sees_reporting(client, world) -> None:
    _as(client, world, "backbone")
    out = response_of(_reporting(client))
    assert out["reporting-heatmap"]["figure"]["data"][0]["type"] == "heatmap"
    counts = json.dumps(out["reporting-counts"])
    assert "approved: 3" in counts and "missing: 1" in counts  # p2 did not report SMALL
    late = json.dumps(find(out["reporting-lists"], "reporting-late"))
    assert "P2" in late and "SMALL" in late


def _heatmap_table(client, opened):
    return call(
        client,
        "reporting-heatmap-table.children",
        [
            ("reporting-heatmap-summary", "n_clicks", opened),
            ("reporting-initiative", "value", INIT),
            ("reporting-period", "value", PERIOD),
        ],
    )


def test_the_heat_map_table_is_made_when_it_is_opened(client, world) -> None:
    """Folded, the table of every cell is neither built nor sent; opened, it holds each
    partner's state for each indicator, with its CSV."""
    _as(client, world, "backbone")
    assert response_of(_heatmap_table(client, None))["reporting-heatmap-table"]["children"] is None
    table = json.dumps(response_of(_heatmap_table(client, 1))["reporting-heatmap-table"])
    assert "cm-data-table" in table and "c2c-2025Q3-completeness.csv" in table
    assert "P2" in table and "SMALL" in table and "missing" in table


@pytest.mark.parametrize("who", [None, "outsider", "funder"])
def test_the_heat_map_table_is_for_the_backbone_only(client, world, who) -> None:
    _as(client, world, who)
    out = response_of(_heatmap_table(client, 1))
    assert out["reporting-heatmap-table"]["children"] is None


# --- suppression: backbone exact, others suppressed ---------------------------------------------


def _publish(session) -> None:
    """Below backbone, initiative figures are those of the period's publication."""
    publish(
        session=session,
        actor=SYSTEM,
        initiative_slug=INIT,
        period_key=PERIOD,
        confirm_incomplete=True,
    )
    session.commit()


@pytest.mark.usefixtures("few_partners_allowed")
def test_overview_exact_for_backbone_suppressed_for_others(client, world, session) -> None:
    _publish(session)
    _as(client, world, "backbone")
    answer = _overview(client)
    row = json.dumps(find(response_of(answer), "ov-row-SMALL"), ensure_ascii=False)
    assert f"{SMALL}" in row and "<10" not in row
    assert "4,321" in json.dumps(find(response_of(answer), "ov-row-KIDS"))
    for who in ("reporter", "funder"):
        _as(client, world, who)
        answer = _overview(client)
        row = json.dumps(find(response_of(answer), "ov-row-SMALL"), ensure_ascii=False)
        assert "<10" in row
        assert not re.search(rf"(?<![\w.<]){SMALL}(?![\w.])", row.replace("<10", "")), row
        assert "4,321" in json.dumps(find(response_of(answer), "ov-row-KIDS"))


def _choices(client, initiative, period, outcome):
    return call(
        client,
        "..overview-period.options",
        [("overview-initiative", "value", initiative)],
        state=[("overview-period", "value", period), ("overview-outcome", "value", outcome)],
    )


def test_overview_offers_the_chosen_initiatives_own_periods_and_outcomes(
    client, world, session
) -> None:
    other = session.scalar(select(Initiative).where(Initiative.slug == "other"))
    f.period(session, other, "2024Q4")
    safe = f.outcome(session, other, code="SAFE", name="Safe streets")
    f.indicator(session, other, "count", code="CALLS", outcome_id=safe.id)
    admin = f.user(session, "admin")
    session.commit()
    world["admin"] = admin
    _as(client, world, "admin")

    out = response_of(_choices(client, "other", PERIOD, "READY"))
    assert [o["value"] for o in out["overview-period"]["options"]] == ["2024Q4"]
    assert out["overview-period"]["value"] == "2024Q4"  # 2025Q3 is not one of its periods
    assert out["overview-outcome"]["options"] == [{"label": "Safe streets", "value": "SAFE"}]
    assert out["overview-outcome"]["value"] is None
    back = response_of(_choices(client, INIT, PERIOD, "READY"))
    assert (back["overview-period"]["value"], back["overview-outcome"]["value"]) == (
        PERIOD,
        "READY",
    )

    _as(client, world, "outsider")  # may not see c2c: offered nothing from it
    hidden = response_of(_choices(client, INIT, PERIOD, None))
    assert hidden["overview-period"]["options"] == [] and hidden["overview-outcome"] == {
        "options": [],
        "value": None,
    }


def test_overview_offers_only_periods_that_have_opened(client, world, session) -> None:
    """A future quarter has no figures: it is not offered, unless a shared URL asks for it."""
    init = session.scalar(select(Initiative).where(Initiative.slug == INIT))
    f.period(session, init, "2099Q4")
    session.commit()
    _as(client, world, "backbone")

    page = response_of(render_page(client, "/overview"))
    picker = find(page, "overview-period")["props"]
    assert [o["value"] for o in picker["options"]] == [PERIOD]
    assert picker["value"] == PERIOD
    out = response_of(_choices(client, INIT, PERIOD, None))
    assert [o["value"] for o in out["overview-period"]["options"]] == [PERIOD]

    wanted = response_of(render_page(client, "/overview", "?period=2099Q4"))
    picker = find(wanted, "overview-period")["props"]
    assert picker["value"] == "2099Q4"
    assert [o["value"] for o in picker["options"]] == ["2099Q4", PERIOD]
    kept = response_of(_choices(client, INIT, "2099Q4", None))
    assert kept["overview-period"]["value"] == "2099Q4"
    assert [o["value"] for o in kept["overview-period"]["options"]] == ["2099Q4", PERIOD]


def test_equity_hides_the_small_category_from_the_funder(client, world) -> None:
    _as(client, world, "funder")
    out = response_of(_equity(client))
    ys = [y for trace in out["indicator-equity"]["figure"]["data"] for y in trace.get("y") or []]
    assert 7 not in ys and 7.0 not in ys
    _as(client, world, "backbone")
    out = response_of(_equity(client))
    ys = [y for trace in out["indicator-equity"]["figure"]["data"] for y in trace.get("y") or []]
    assert 7 in ys


# --- public summary -----------------------------------------------------------------------------


def _leaves(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield node


def _assert_no_seven(answer) -> None:
    for leaf in _leaves(answer.json()):
        if isinstance(leaf, bool):
            continue
        if isinstance(leaf, int | float):
            assert leaf != 7, "a raw small count is in the answer"
        elif isinstance(leaf, str):
            assert not re.search(r"(?<![\w.#<-])7(?![\w.%])", leaf), leaf


@pytest.mark.usefixtures("few_partners_allowed")
def test_public_page_shows_markers_never_small_counts(client, world, session) -> None:
    _publish(session)
    client.cookies.clear()
    page = render_page(client, f"/public/{INIT}")
    assert "public-legend" in text_of(page)
    _assert_no_seven(page)
    answer = call(
        client,
        "public-body.children",
        [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
    )
    text = text_of(answer)
    assert "<10" in text
    assert "Children served" in text and "4,321" in text
    _assert_no_seven(answer)
    # The CSV the page offers carries the marker, not the number.
    store = find(response_of(answer), {"type": "cm-csv-data", "name": "public-all"})
    rows = store["props"]["data"]["rows"]
    x = [r for r in rows if r["group"].endswith(": X")]
    assert x and x[0]["value"] is None and x[0]["marker"] == "<10"
    # SMALL's only figure is hidden: no empty chart, a sentence saying why instead.
    assert find(response_of(answer), "public-no-chart-KIDS") is None
    why = find(response_of(answer), "public-no-chart-SMALL")["props"]["children"]
    assert why.startswith("No chart: every figure for this period is hidden") and "<10" in why
    assert text.count('"type": "Graph"') == 1, "only KIDS draws a chart"


def test_public_page_answers_404_for_an_address_naming_no_initiative(client, world, session):
    """The page's HTTP status says what it shows: a summary, or an initiative that has
    published nothing yet (200); an address naming no initiative is not found (404), still the
    app's page (navigation, "Page not found")."""
    client.cookies.clear()
    assert client.get(f"/public/{INIT}").status_code == 200  # nothing published yet
    _publish(session)
    for path in (f"/public/{INIT}", f"/public/{INIT}/", "/public"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
    for path in ("/public/does-not-exist", "/public/does-not-exist/", "/public/C2C"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "react-entry-point" in answer.text  # the app, which draws the page
    text = text_of(render_page(client, "/public/does-not-exist"))
    assert "public-not-found" in text and "Page not found" in text
    # Other pages and the API's public answers are unchanged.
    assert client.get("/overview").status_code == 200
    assert client.get("/api/v1/public/initiatives/does-not-exist/summary").status_code == 404


def test_public_page_without_publication_is_friendly(client, world) -> None:
    client.cookies.clear()
    text = text_of(render_page(client, f"/public/{INIT}"))
    assert "public-nothing" in text and str(KIDS_TOTAL) not in text
    answer = call(
        client,
        "public-body.children",
        [("public-initiative", "data", INIT), ("public-period", "value", PERIOD)],
    )
    assert str(KIDS_TOTAL) not in text_of(answer) and "public-nothing" in text_of(answer)
    assert "public-index" in text_of(render_page(client, "/public"))


# --- partner portal: spreadsheet upload -------------------------------------------------------


def _upload(client, csv_text: str, *, trigger="portal-upload"):
    import base64

    contents = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    return call(
        client,
        "..portal-upload-report.children",
        [("portal-upload", "contents", contents), ("portal-import", "n_clicks", 1)],
        [
            ("portal-upload", "filename", "values.csv"),
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", "p1"),
            ("portal-period", "value", "2025Q4"),
        ],
        changed=[f"{trigger}.{'contents' if trigger == 'portal-upload' else 'n_clicks'}"],
    )


def test_portal_upload_dry_run_then_import(client, world, session) -> None:

    from models import Initiative, Submission, Value

    init = session.query(Initiative).filter_by(slug=INIT).one()
    f.open_period(session, init, "2025Q4", opened=5, due=5, closes=30)
    session.commit()
    _as(client, world, "reporter")
    bad = response_of(_upload(client, "indicator,value\nKIDS,12x\nNOPE,3\n"))
    report = json.dumps(bad["portal-upload-report"])
    assert "portal-upload-errors" in report and "value" in report and "NOPE" in report
    assert bad["portal-import"]["disabled"] is True

    good = response_of(_upload(client, "indicator,value\nKIDS,55\n"))
    assert "portal-upload-ok" in json.dumps(good["portal-upload-report"])
    assert good["portal-import"]["disabled"] is False
    assert session.query(Value).join(Submission).filter(Value.value == 55).count() == 0

    done = response_of(_upload(client, "indicator,value\nKIDS,55\n", trigger="portal-import"))
    assert "portal-upload-done" in json.dumps(done["portal-upload-report"])
    session.expire_all()
    assert session.query(Value).filter(Value.value == 55).count() == 1

    # Anonymous: nothing is read or written.
    _as(client, world, None)
    answer = _upload(client, "indicator,value\nKIDS,66\n", trigger="portal-import")
    assert "cm-error" in text_of(answer)
    assert session.query(Value).filter(Value.value == 66).count() == 0


def _portal_trend(client, org: str, code: str):
    return call(
        client,
        "portal-trend.figure",
        [
            ("portal-initiative", "value", INIT),
            ("portal-org", "value", org),
            ("portal-trend-code", "value", code),
        ],
    )


def test_portal_trend_offers_the_partners_own_indicators(client, world, session) -> None:
    init = session.scalar(select(Initiative).where(Initiative.slug == INIT))
    f.indicator(session, init, "count", code="OTHERS", name="Reported by others")
    session.commit()
    _as(client, world, "reporter")

    def choices(org):
        return response_of(
            call(
                client,
                "..portal-trend-code.options",
                [("portal-initiative", "value", INIT), ("portal-org", "value", org)],
                state=[("portal-trend-code", "value", None)],
            )
        )["portal-trend-code"]

    mine = choices("p1")
    assert [o["value"] for o in mine["options"]] == ["KIDS", "SMALL"]  # not OTHERS
    assert mine["value"] == "KIDS"
    answer = _portal_trend(client, "p1", "OTHERS")
    [note] = response_of(answer)["portal-trend"]["figure"]["layout"]["annotations"]
    assert "No approved figures of this partner" in note["text"]


def test_portal_trend_against_the_initiative(client, world) -> None:
    _as(client, world, "reporter")
    answer = _portal_trend(client, "p1", "KIDS")
    traces = response_of(answer)["portal-trend"]["figure"]["data"]
    assert [t["name"] for t in traces] == ["Initiative (all partners)", "P1"]
    # A partner always sees its own figure; with two partners the initiative's total would
    # then give away p2's (total − p1), so the total is what nobody below backbone sees.
    assert traces[0]["y"] == [None] and traces[1]["y"] == [4300]
    # … and the chart says so, rather than drawing an empty line.
    [note] = response_of(answer)["portal-trend"]["figure"]["layout"]["annotations"]
    assert "The figure of all partners is hidden in every period" in note["text"]
    _as(client, world, "backbone")
    figure = response_of(_portal_trend(client, "p1", "KIDS"))["portal-trend"]["figure"]
    assert figure["data"][1]["y"] == [4300]
    assert not figure["layout"].get("annotations")  # nothing hidden from the backbone team
    _as(client, world, "reporter")
    # Another organisation's trend: nothing.
    answer = _portal_trend(client, "p2", "KIDS")
    assert not response_of(answer)["portal-trend"]["figure"]["data"]


def test_a_hidden_figure_is_described_without_a_unit(app) -> None:
    import sys

    import dash

    # The page module as Dash registered it with the app (importing it again would clash).
    module = next(p["module"] for p in dash.page_registry.values() if "public" in p["module"])
    describe = sys.modules[module].describe

    entry = {
        "name": "Home visits completed",
        "unit": "visits",
        "decimals": 0,
        "total": {"value": None, "n": None, "marker": "<3 partners"},
        "breakdowns": [],
    }
    assert describe(entry, "2026Q2", []) == "Home visits completed in 2026Q2: <3 partners."
    entry["total"] = {"value": 120, "n": 120, "marker": None}
    assert describe(entry, "2026Q2", []) == "Home visits completed in 2026Q2: 120 visits."


# --- gap targets ----------------------------------------------------------------------------------


def _gap_target(session) -> None:
    """KIDS by sex: a gap of 3000 at 2025Q3 to 1000 by 2026Q4 (the x group is too small to
    show below backbone)."""
    from models.initiatives.gap_targets import set_gap_target

    init = session.scalar(select(Initiative).where(Initiative.slug == INIT))
    f.period(session, init, "2026Q4")
    set_gap_target(
        session=session,
        actor=SYSTEM,
        initiative=INIT,
        code="KIDS",
        dimension="sex",
        baseline={"value": 3000, "period": PERIOD},
        target={"value": 1000, "period": "2026Q4"},
    )
    session.commit()


def _gap_of(out: dict) -> tuple[list, list]:
    """The gap chart's bars (gap, status) and its target line."""
    bars, *line = out["indicator-equity-gap"]["figure"]["data"]
    return list(zip(bars["y"], bars["text"], strict=True)), line


def test_the_equity_chart_draws_the_gap_against_its_target(client, world, session) -> None:
    _gap_target(session)
    _publish(session)
    _as(client, world, "backbone")
    out = response_of(_equity(client))
    bars, [line] = _gap_of(out)
    assert bars == [(2200 - 7, "on track")]  # under the 3000 expected by 2025Q3
    assert line["y"] == [3000] and "1000 by 2026Q4" in line["name"]
    title = out["indicator-equity-gap"]["figure"]["layout"]["title"]
    assert "2025Q3: " in json.dumps(title)
    # The funder does not see the x group: the gap is not known to it, and no bar is drawn.
    _as(client, world, "funder")
    out = response_of(_equity(client))
    bars, [line] = _gap_of(out)
    assert bars == [(None, "hidden")]
    assert "2193" not in text_of(_equity(client))


def test_the_overview_shows_a_gap_target_status_badge(client, world, session) -> None:
    _gap_target(session)
    _as(client, world, "backbone")
    answer = _overview(client)
    badge = find(response_of(answer), "ov-gap-KIDS-sex")
    assert badge is not None
    assert "gap by Sex: on track" in json.dumps(badge)
    assert find(response_of(answer), "ov-gap-SMALL-sex") is None
    # The funder: the period is not published, no group's figure is shown, the gap is hidden.
    _as(client, world, "funder")
    badge = find(response_of(_overview(client)), "ov-gap-KIDS-sex")
    assert "gap by Sex: hidden" in json.dumps(badge)


def test_the_bench_calls_the_overview_as_the_page_declares_it(client, world):
    """`make bench` times the overview's callback from the app's declared dependencies: the
    call it builds is accepted and answers the scorecard (it broke once when the callback
    gained an output)."""
    from bench.__main__ import overview_call

    _as(client, world, "backbone")
    body = overview_call(client.get("/_dash-dependencies").json(), INIT)
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.text[:300]
    assert "overview-scorecard" in answer.text
