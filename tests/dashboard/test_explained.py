"""What the pages show is explained and agrees with itself.

The overview's Target column is the target progress is measured toward, and each status says
what it compared; a figure worse than its baseline shows a negative progress, in words; the
trend arrows and the heat map's late dot are explained where they appear; a partner's
indicator page opens on an indicator it reports; the equity chart has one axis, the gap a
chart of its own, and no legend entry without a line; one date format everywhere; the
portal's editing hint only where a cell can be edited; the review page says why a report
cannot be returned; an unknown public address is not found.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard import data
from models import IndicatorTarget, Period
from models.core.actors import SYSTEM
from models.reporting.submissions import save_values, transition
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, find, log_in, render_page, response_of, text_of

INIT = "c2c"
PERIOD = "2025Q3"  # closed: its window ended in 2025
TODAY = date.today()
CURRENT = f"{TODAY.year}Q{(TODAY.month - 1) // 3 + 1}"  # under way; its window opens later


def _report(session, org, inputs, *actions, period=PERIOD):
    save_values(
        session=session,
        actor=SYSTEM,
        initiative_slug=INIT,
        org_slug=org,
        period_key=period,
        inputs=inputs,
    )
    for action in actions:
        transition(
            session=session,
            actor=SYSTEM,
            initiative_slug=INIT,
            org_slug=org,
            period_key=period,
            action=action,
        )


@pytest.fixture
def world(session, client):
    """MATH: baseline 30 (2024Q1), target 40 by 2027Q4, interim 34.8 for 2025Q3, and 36.2
    reported (on track, 62 % of the way). DROP: baseline 100, target 150, and 88 reported
    (−24 %). SERVED: p2's only obligation (p3 has not reported it, so it is late; p4's report
    waits for review)."""
    init = f.initiative(session, slug=INIT, name="Cradle to Career")
    sex = f.dimension(session, init, "sex", ["f", "m", "x"])
    start = f.period(session, init, "2024Q1")
    f.period(session, init, PERIOD)
    end = f.period(session, init, "2027Q4")
    f.period(session, init, CURRENT)
    out = f.outcome(session, init, code="LEARN", name="Learning")
    common = {"baseline_period_id": start.id, "target_period_id": end.id, "outcome_id": out.id}
    math = f.indicator(
        session,
        init,
        "average",
        code="MATH",
        name="Grade 8 math",
        unit="points",
        decimals=1,
        baseline_value=30,
        target_value=40,
        **common,
    )
    math.dimensions = [sex]
    drop = f.indicator(
        session, init, "count", code="DROP", name="Drop-in visits", baseline_value=100,
        target_value=150, **common,
    )  # fmt: skip
    served = f.indicator(session, init, "count", code="SERVED", name="People served")
    period = session.scalar(select(Period).where(Period.key == PERIOD))
    session.add(IndicatorTarget(indicator_id=math.id, period_id=period.id, value=34.8))
    members = {}
    for slug, indicators in (
        ("p1", (math, drop)),
        ("p2", (served,)),
        ("p3", (served,)),
        ("p4", (served,)),
    ):
        m = f.member(session, init, f.organisation(session, slug=slug, name=slug.upper()))
        for ind in indicators:
            f.obligation(session, m, ind)
        members[slug] = m
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "reporter": f.user(session, "reporter", org=members["p2"].organisation),
    }
    session.commit()
    _report(
        session,
        "p1",
        [
            ValueInput("MATH", value=36.2, denominator=100),
            ValueInput("MATH", "sex=f", value=38.0, denominator=50),
            ValueInput("MATH", "sex=m", value=34.4, denominator=50),
            ValueInput("DROP", value=88),
        ],
        "submit",
        "approve",
    )
    _report(session, "p2", [ValueInput("SERVED", value=40)], "submit", "approve")
    _report(session, "p4", [ValueInput("SERVED", value=12)], "submit")
    session.commit()
    return users


def _as(client, users, role: str | None) -> None:
    log_in(client, role and users[role])


def _all(node, key: str):
    """Every value of the prop ``key`` anywhere under ``node``."""
    if isinstance(node, dict):
        if key in node.get("props", {}):
            yield node["props"][key]
        for value in node.values():
            yield from _all(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _all(value, key)


def _overview(client) -> dict:
    return response_of(
        call(
            client,
            "..overview-body.children",
            [
                ("overview-initiative", "value", INIT),
                ("overview-period", "value", PERIOD),
                ("overview-outcome", "value", None),
            ],
        )
    )


def _text(node) -> str:
    return json.dumps(node, ensure_ascii=False)


# --- overview: target, progress, status and the legend ------------------------------------------


def test_the_target_column_is_the_target_progress_is_measured_toward(client, world) -> None:
    _as(client, world, "backbone")
    row = find(_overview(client), "ov-row-MATH")
    cells = row["props"]["children"]
    target = _text(cells[2])
    # The end target, the period it is set for, and the figure expected by now under it.
    assert re.search(r'"40\.0".*"by 2027Q4".*"now 34\.8"', target), target
    progress = _text(cells[3])
    assert '"62\u00a0%"' in progress
    titles = list(_all(cells[3], "title"))
    assert any(
        "62\u00a0% of the way from the baseline 30.0 (2024Q1) to the target 40.0 (2027Q4)" in t
        for t in titles
    ), titles
    status = list(_all(cells[4], "title"))
    assert any(
        "On track: at or better than the 34.8 expected by 2025Q3 "
        "(its interim target for the period)" in t
        for t in status
        if t
    ), status


def test_negative_progress_is_shown_the_other_way_and_said(client, world) -> None:
    _as(client, world, "backbone")
    row = find(_overview(client), "ov-row-DROP")
    progress = row["props"]["children"][3]
    text = _text(progress)
    assert '"\u221224\u00a0%"' in text  # a real minus sign, kept with its "%"
    assert "worse than baseline" in text
    [bar] = [
        node
        for node in _walk(progress)
        if "cm-progress-negative" in (node.get("props", {}).get("className") or "")
    ]
    assert bar["props"]["value"] == pytest.approx(24)
    assert bar["props"]["style"]["flexDirection"] == "row-reverse"
    assert any("moved away from the target" in t for t in _all(progress, "title"))


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_overview_explains_its_arrows_progress_and_statuses(client, world) -> None:
    _as(client, world, "backbone")
    legend = _text(find(_overview(client), "overview-legend"))
    for words in ("▲ better", "▼ worse", "▶ steady", "1 %", "0 % at the", "100 % at the target"):
        assert words in legend, words
    assert "where lower is better, a fall is ▲" in legend
    assert "on track: at or better than the figure expected by now" in legend


def test_the_late_dot_is_in_the_heat_maps_legend(client, world) -> None:
    _as(client, world, "backbone")
    figure = response_of(
        call(
            client,
            "..reporting-heatmap.figure",
            [("reporting-initiative", "value", INIT), ("reporting-period", "value", PERIOD)],
        )
    )["reporting-heatmap"]["figure"]
    [dots] = [t for t in figure["data"] if t["type"] == "scatter"]
    assert dots["showlegend"] is True
    assert dots["name"].startswith("late: first submitted after the due date")
    assert "due 31 Oct 2025" in figure["layout"]["title"]["text"]


# --- indicator page -------------------------------------------------------------------------------


def _indicator_page(client) -> dict:
    return response_of(render_page(client, "/indicator", f"?initiative={INIT}"))


def test_a_partners_indicator_page_opens_on_an_indicator_it_reports(client, world) -> None:
    _as(client, world, "backbone")
    backbone = find(_indicator_page(client), "indicator-code")["props"]
    assert backbone["value"] == backbone["options"][0]["value"] == "DROP"
    _as(client, world, "reporter")
    picker = find(_indicator_page(client), "indicator-code")["props"]
    assert picker["value"] == "SERVED"
    assert picker["options"][0] == {
        "label": "People served (SERVED) · you report it",
        "value": "SERVED",
    }
    # Choosing the initiative again (the picker's callback) keeps the partner's own default.
    out = response_of(
        call(
            client,
            "..indicator-code.options",
            [("indicator-initiative", "value", INIT)],
            state=[("indicator-code", "value", None)],
        )
    )
    assert out["indicator-code"]["value"] == "SERVED"
    # … and its comparison is not empty: its own bar is there.
    bars = response_of(
        call(
            client,
            "..indicator-partners.figure",
            [
                ("indicator-initiative", "value", INIT),
                ("indicator-code", "value", "SERVED"),
                ("indicator-period", "value", PERIOD),
            ],
        )
    )["indicator-partners"]["figure"]["data"][0]
    assert bars["x"] == ["P2"] and bars["y"] == [40]


def test_the_equity_chart_has_one_axis_and_the_gap_its_own_chart(client, world) -> None:
    _as(client, world, "backbone")
    out = response_of(
        call(
            client,
            "..indicator-equity.figure",
            [
                ("indicator-initiative", "value", INIT),
                ("indicator-code", "value", "MATH"),
                ("indicator-by", "value", "sex"),
            ],
        )
    )
    lines = out["indicator-equity"]["figure"]
    assert [t["name"] for t in lines["data"]] == ["F", "M"]  # X has no figure: no entry
    assert "yaxis2" not in lines["layout"]
    assert all(t.get("yaxis") in (None, "y") for t in lines["data"])
    gap = out["indicator-equity-gap"]["figure"]
    [bars] = gap["data"]
    assert bars["type"] == "bar" and bars["y"] == [pytest.approx(3.6)]
    note = _text(find(out["indicator-equity-table"], "indicator-equity-left-out"))
    assert "Not drawn" in note and "X" in note


# --- dates ------------------------------------------------------------------------------------------


def test_one_date_format() -> None:
    from datetime import UTC, datetime

    assert data.day(date(2026, 11, 30)) == "30 Nov 2026"
    assert data.day(date(2026, 3, 1)) == "1 Mar 2026"
    assert data.moment(datetime(2026, 3, 1, 9, 5, tzinfo=UTC)) == "1 Mar 2026, 09:05 UTC"
    assert data.moment(datetime(2026, 3, 1, 9, 5)) == "1 Mar 2026, 09:05 UTC"  # naive: UTC


def test_no_dashboard_module_formats_a_date_of_its_own() -> None:
    """Every date a page shows goes through data.day / data.moment. (ISO text is for machines
    only: a date picker's value, an address; it is not matched here.)"""
    root = Path(__file__).resolve().parents[2] / "dashboard"
    own = re.compile(r"strftime|:%[dbBYmHM]|%Y-%m|%d %b")
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if own.search(line)
    ]
    assert found == []


def test_the_review_queue_writes_times_in_the_one_format(client, world) -> None:
    _as(client, world, "backbone")
    queue = response_of(
        call(
            client,
            "..review-queue.options",
            [
                ("review-initiative", "value", INIT),
                ("review-period", "value", PERIOD),
                ("review-refresh", "data", 0),
            ],
            [("review-queue", "options", []), ("review-queue", "value", None)],
        )
    )["review-queue"]["options"]
    assert queue
    stamps = re.findall(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC", json.dumps(queue))
    assert len(stamps) >= len(queue)  # every waiting report says when, in the one format
    assert not re.search(r"\d{4}-\d\d-\d\dT", json.dumps(queue))


# --- portal and review: say what can be done ---------------------------------------------------------


def _portal(client, org: str, period: str) -> dict:
    return response_of(
        call(
            client,
            "..portal-grid.rowData",
            [
                ("portal-initiative", "value", INIT),
                ("portal-org", "value", org),
                ("portal-period", "value", period),
                ("portal-save", "n_clicks", None),
                ("portal-submit", "n_clicks", None),
            ],
            [("portal-grid", "rowData", []), ("portal-version", "data", None)],
            changed=["portal-period.value"],
        )
    )


def test_the_editing_hint_shows_only_where_a_cell_can_be_edited(client, world) -> None:
    _as(client, world, "reporter")
    approved = _portal(client, "p2", PERIOD)  # approved, in a closed period: read-only
    assert not any(r[k] for r in approved["portal-grid"]["rowData"] for k in r if "edit_" in k)
    assert find(approved["portal-status"], "portal-edit-hint") is None
    assert "Yellow cells" not in _text(approved)
    assert find(approved["portal-status"], "portal-readonly") is not None

    current = _portal(client, "p2", CURRENT)  # under way: drafts yes, submitting not yet
    assert "Yellow cells are editable" in _text(find(current["portal-status"], "portal-edit-hint"))
    assert current["portal-save"]["disabled"] is False
    assert current["portal-submit"]["disabled"] is True
    not_yet = _text(find(current["portal-status"], "portal-not-yet"))
    assert f"Reporting for {CURRENT} opens on" in not_yet


def test_the_review_page_says_why_a_report_cannot_be_returned(client, world) -> None:
    _as(client, world, "backbone")
    chosen = f"p4|{PERIOD}"
    out = response_of(
        call(
            client,
            "..review-detail.children",
            [
                ("review-queue", "value", chosen),
                ("review-queue", "options", [{"label": "p4", "value": chosen}]),
            ],
            [("review-initiative", "value", INIT)],
        )
    )
    assert out["review-approve"]["disabled"] is False
    # A plain return is refused, saying why; the return with an extension is offered instead.
    assert out["review-return"]["disabled"] is False
    assert out["review-return"]["children"] == "Return with an extension"
    assert out["review-extension"]["hidden"] is False
    why = _text(find(out["review-detail"], "review-cannot-return"))
    assert "A plain return is refused" in why
    assert "extend the partner's deadline or reopen the period first" in why


# --- public page: not found is not "nothing published" ----------------------------------------------


def test_an_unknown_public_address_is_not_found(client, world) -> None:
    client.cookies.clear()
    missing = text_of(render_page(client, "/public/does-not-exist"))
    assert "public-not-found" in missing and "Page not found" in missing
    assert "Nothing published yet" not in missing
    known = text_of(render_page(client, f"/public/{INIT}"))  # exists, published nothing
    assert "public-nothing" in known and "public-not-found" not in known
    for path in ("summary", "datapackage.zip"):
        r = client.get(f"/api/v1/public/initiatives/does-not-exist/{path}")
        assert r.status_code == 404 and r.json()["field"] == "slug", r.text


def test_the_period_picker_offers_the_quarter_under_way_for_drafts() -> None:
    from dashboard.components.periods import period_options

    def quarter(key, starts, opens, due, closes):
        return data.PeriodInfo(key, "quarter", starts, opens, due, closes, False)

    today = date(2026, 11, 30)
    periods = [
        quarter(
            "2026Q3", date(2026, 7, 1), date(2026, 10, 1), date(2026, 10, 31), date(2027, 1, 9)
        ),
        quarter("2026Q4", date(2026, 10, 1), date(2027, 1, 1), date(2027, 1, 31), date(2027, 3, 1)),
        quarter("2027Q1", date(2027, 1, 1), date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)),
    ]
    assert period_options(periods, today) == [
        {"label": "2026Q4 · under way · drafts, submit from 1 Jan 2027", "value": "2026Q4"},
        {"label": "2026Q3 · open until 9 Jan 2027", "value": "2026Q3"},
    ]  # 2027Q1 has not started: nothing can be reported for it
    assert data.default_period(periods, today) == "2026Q3"  # the open one stays the default
