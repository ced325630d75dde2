"""The portal and the review queue over HTTP: what each user's callbacks answer, and what a
forged callback request gets (nothing it may not see)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from dashboard import data
from dashboard.components.entry_grid import changed_inputs, mark_problems
from models import Submission
from models.core.errors import InvalidInput
from models.notifications.email import template_path

from .. import factories as f
from ..dash_calls import CALLBACK_URL, call, log_in, render_page, response_of, text_of

PERIOD = "2025Q3"
EAST_SERVED, WEST_SERVED = 1234, 4321  # numbers no layout would print by chance


@pytest.fixture
def world(session, client):
    """One initiative, two partners with a value each (east: draft, west: submitted)."""
    init = f.initiative(session, slug="c2c", name="Cradle to Career")
    race = f.dimension(session, init, "race", ["black", "white"])
    ready = f.indicator(session, init, "rate", code="K_READY", valid_min=0, valid_max=100)
    ready.dimensions = [race]
    served = f.indicator(session, init, "count", code="SERVED", valid_max=100_000)
    east = f.member(session, init, f.organisation(session, slug="eastside", name="Eastside"))
    west = f.member(session, init, f.organisation(session, slug="westside", name="Westside"))
    for ind in (ready, served):
        f.obligation(session, east, ind)
    f.obligation(session, west, served)
    today = date.today()
    period = f.period(
        session,
        init,
        PERIOD,
        opens_on=today - timedelta(days=10),
        due_on=today + timedelta(days=20),
        closes_on=today + timedelta(days=40),
    )
    east_sub = f.submission(session, east, period, "draft")
    f.reported_value(session, east_sub, served, value=EAST_SERVED)
    west_sub = f.submission(session, west, period, "submitted")
    f.reported_value(session, west_sub, served, value=WEST_SERVED)
    users = {
        "backbone": f.user(session, "backbone", init=init),
        "reporter": f.user(session, "reporter", org=east.organisation),
        "funder": f.user(session, "funder", init=init),
        "outsider": f.user(session, "backbone", init=f.initiative(session, slug="other")),
    }
    session.commit()
    return {"users": users, "east": east_sub.id, "west": west_sub.id}


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _grid(client, org: str, *, trigger="portal-period", rows=None, version=None):
    return call(
        client,
        "..portal-grid.rowData",
        [
            ("portal-initiative", "value", "c2c"),
            ("portal-org", "value", org),
            ("portal-period", "value", PERIOD),
            ("portal-save", "n_clicks", 1 if trigger == "portal-save" else None),
            ("portal-submit", "n_clicks", 1 if trigger == "portal-submit" else None),
        ],
        [("portal-grid", "rowData", rows or []), ("portal-version", "data", version)],
        changed=[f"{trigger}.{'value' if trigger == 'portal-period' else 'n_clicks'}"],
    )


# --- forged requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("cookie", [None, "garbage", "eyJhbGciOiJub25lIn0.e30."])
def test_anonymous_forged_portal_callback_gets_no_values(client, world, cookie) -> None:
    _as(client, world, None)
    if cookie:
        client.cookies.set("cm_session", cookie)
    for org in ("eastside", "westside"):
        answer = _grid(client, org)
        out = response_of(answer)
        assert out["portal-grid"]["rowData"] == []
        assert out["portal-version"]["data"] is None
        assert str(EAST_SERVED) not in text_of(answer) and str(WEST_SERVED) not in text_of(answer)
        assert "cm-error" in text_of(answer)


def test_anonymous_forged_save_writes_nothing(client, world, session) -> None:
    _as(client, world, None)
    rows = [
        {
            "id": "SERVED|total",
            "indicator": "SERVED",
            "disaggregation": "total",
            "type": "count",
            "value": 1,
            "o_value": EAST_SERVED,
        }
    ]
    answer = _grid(client, "eastside", trigger="portal-save", rows=rows, version=1)
    assert "cm-error" in text_of(answer)
    session.expire_all()
    assert session.get(Submission, world["east"]).version == 1


@pytest.mark.parametrize("role", ["reporter", "funder", "outsider"])
def test_no_one_reads_another_organisations_grid(client, world, role) -> None:
    _as(client, world, role)
    answer = _grid(client, "westside")
    assert response_of(answer)["portal-grid"]["rowData"] == []
    assert str(WEST_SERVED) not in text_of(answer)


@pytest.mark.parametrize("role", [None, "reporter", "funder", "outsider"])
def test_review_callbacks_refuse_all_but_the_backbone(client, world, session, role) -> None:
    _as(client, world, role)
    queue = call(
        client,
        "..review-queue.options",
        [
            ("review-initiative", "value", "c2c"),
            ("review-period", "value", PERIOD),
            ("review-refresh", "data", 0),
        ],
        [("review-queue", "options", []), ("review-queue", "value", None)],
    )
    assert response_of(queue)["review-queue"]["options"] == []
    assert "westside" not in text_of(queue).lower()
    chosen = f"westside|{PERIOD}"
    detail = call(
        client,
        "..review-detail.children",
        [
            ("review-queue", "value", chosen),
            ("review-queue", "options", [{"label": "Westside", "value": chosen}]),
        ],
        [("review-initiative", "value", "c2c")],
    )
    assert str(WEST_SERVED) not in text_of(detail)
    assert response_of(detail)["review-selected"]["data"] is None
    chosen = {"initiative": "c2c", "organisation": "westside", "period": PERIOD, "version": 1}
    decide = call(
        client,
        "..review-feedback.children...review-refresh",
        [("review-approve", "n_clicks", 1), ("review-return", "n_clicks", None)],
        [
            ("review-selected", "data", chosen),
            ("review-comment", "value", None),
            ("review-refresh", "data", 0),
            ("review-until", "date", None),
        ],
        changed=["review-approve.n_clicks"],
    )
    assert "cm-error" in text_of(decide)
    session.expire_all()
    assert session.get(Submission, world["west"]).status == "submitted"


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/portal", "/reporting/review"])
def test_pages_send_anonymous_visitors_to_login(client, world, path) -> None:
    _as(client, world, None)
    answer = render_page(client, path, "?initiative=c2c")
    assert "cm-login-redirect" in text_of(answer)
    assert "/login?next=" in text_of(answer)
    assert "Westside" not in text_of(answer)


def test_home_needs_no_login(client, world) -> None:
    _as(client, world, None)
    answer = render_page(client, "/")
    assert "cm-login-redirect" not in text_of(answer)
    assert "Cradle to Career" in text_of(answer)


@pytest.mark.parametrize("role", ["reporter", "funder"])
def test_review_page_tells_reporters_and_funders_they_are_not_allowed(client, world, role) -> None:
    _as(client, world, role)
    answer = render_page(client, "/reporting/review")
    assert "review-not-allowed" in text_of(answer)
    assert "review-queue" not in text_of(answer)


def test_funder_has_no_portal(client, world) -> None:
    _as(client, world, "funder")
    assert "portal-not-allowed" in text_of(render_page(client, "/portal"))
    assert "nav-portal" not in text_of(client.get("/_dash-layout"))


def test_navigation_follows_the_role(client, world) -> None:
    _as(client, world, "backbone")
    layout = text_of(client.get("/_dash-layout"))
    assert "/reporting/review" in layout and "/portal" in layout
    _as(client, world, "reporter")
    layout = text_of(client.get("/_dash-layout"))
    assert "/reporting/review" not in layout and "/portal" in layout


def test_portal_layout_takes_its_selection_from_the_url(client, world) -> None:
    _as(client, world, "backbone")
    answer = render_page(client, "/portal", f"?initiative=c2c&org=westside&period={PERIOD}")
    assert '"value":"westside"' in text_of(answer).replace(" ", "")
    assert f'"value":"{PERIOD}"' in text_of(answer).replace(" ", "")


# --- the portal's own work ----------------------------------------------------------------------


def test_reporter_loads_saves_and_submits(client, world, session) -> None:
    _as(client, world, "reporter")
    loaded = response_of(_grid(client, "eastside"))
    rows = loaded["portal-grid"]["rowData"]
    by_id = {r["id"]: r for r in rows}
    # Rates: total + each race; counts: total only. Editable only where the measure uses it.
    assert list(by_id) == [
        "K_READY|total",
        "K_READY|race=black",
        "K_READY|race=white",
        "SERVED|total",
    ]
    assert by_id["SERVED|total"]["value"] == EAST_SERVED
    assert (by_id["SERVED|total"]["edit_value"], by_id["SERVED|total"]["edit_numerator"]) == (
        True,
        False,
    )
    assert by_id["K_READY|total"]["edit_value"] is False
    assert by_id["K_READY|total"]["edit_numerator"] is True
    assert loaded["portal-version"]["data"] == 1
    assert loaded["portal-save"]["disabled"] is False

    # A problem comes back on its row, and nothing is written.
    by_id["K_READY|total"].update(numerator=95, denominator=90)
    answer = _grid(client, "eastside", trigger="portal-save", rows=rows, version=1)
    out = response_of(answer)
    marked = {r["id"]: r for r in out["portal-grid"]["rowData"]}
    assert marked["K_READY|total"]["err_numerator"] is True
    assert marked["K_READY|total"]["checks"][0]["kind"] == "error"
    assert "greater than the denominator" in marked["K_READY|total"]["checks"][0]["label"]
    assert "portal-problems" in text_of(answer)
    session.expire_all()
    assert session.get(Submission, world["east"]).version == 1

    # Fixed, it saves a new version.
    marked["K_READY|total"].update(numerator=45)
    answer = _grid(client, "eastside", trigger="portal-save", rows=list(marked.values()), version=1)
    out = response_of(answer)
    assert out["portal-version"]["data"] == 2
    assert "portal-saved" in text_of(answer)
    saved = {r["id"]: r for r in out["portal-grid"]["rowData"]}
    assert saved["K_READY|total"]["value"] == pytest.approx(50.0)

    # A stale version is refused (someone else saved in between).
    saved["SERVED|total"]["value"] = 99
    answer = _grid(client, "eastside", trigger="portal-save", rows=list(saved.values()), version=1)
    assert "cm-error" in text_of(answer) and "version" in text_of(answer)

    answer = _grid(
        client, "eastside", trigger="portal-submit", rows=list(saved.values()), version=2
    )
    out = response_of(answer)
    assert "portal-submitted" in text_of(answer)
    assert out["portal-save"]["disabled"] is True
    session.expire_all()
    sub = session.get(Submission, world["east"])
    assert (sub.status, sub.version) == ("submitted", 4)  # saved 99, then submitted
    # Reloaded, the read-only grid says when it was submitted and who can give it back.
    reloaded = text_of(_grid(client, "eastside"))
    assert (
        f"This report was submitted on {data.day(sub.submitted_at)}; it can no longer be "
        "edited unless the backbone team returns it." in reloaded
    )


def test_returned_report_shows_the_comment_and_an_approved_one_is_read_only(
    client, world, session
) -> None:
    sub = session.get(Submission, world["east"])
    sub.status, sub.comment = "returned", "Please recount the breakdown."
    session.commit()
    _as(client, world, "reporter")
    answer = _grid(client, "eastside")
    out = response_of(answer)
    assert "Please recount the breakdown." in text_of(answer)
    assert "portal-return-comment" in text_of(answer)
    assert out["portal-save"]["disabled"] is False

    sub.status, sub.comment = "approved", None
    session.commit()
    answer = _grid(client, "eastside")
    out = response_of(answer)
    assert out["portal-save"]["disabled"] is True and out["portal-submit"]["disabled"] is True
    assert not any(
        row[f"edit_{field}"]
        for row in out["portal-grid"]["rowData"]
        for field in ("value", "numerator", "denominator", "note")
    )
    assert "can no longer be edited unless the backbone team reopens it" in text_of(answer)


def test_backbone_approves_from_the_queue(client, world, session) -> None:
    _as(client, world, "backbone")
    queue = response_of(
        call(
            client,
            "..review-queue.options",
            [
                ("review-initiative", "value", "c2c"),
                ("review-period", "value", PERIOD),
                ("review-refresh", "data", 0),
            ],
            [("review-queue", "options", []), ("review-queue", "value", None)],
        )
    )
    [option] = queue["review-queue"]["options"]
    assert option["value"] == f"westside|{PERIOD}" and "Westside" in json.dumps(option)
    assert queue["review-queue"]["value"] == option["value"]  # the first is opened
    detail = call(
        client,
        "..review-detail.children",
        [("review-queue", "value", option["value"]), ("review-queue", "options", [option])],
        [("review-initiative", "value", "c2c")],
    )
    assert str(WEST_SERVED) in text_of(detail)
    chosen = response_of(detail)["review-selected"]["data"]
    for action, comment in (("review-return", None), ("review-approve", None)):
        decide = call(
            client,
            "..review-feedback.children...review-refresh",
            [
                ("review-approve", "n_clicks", 1 if action == "review-approve" else None),
                ("review-return", "n_clicks", 1 if action == "review-return" else None),
            ],
            [
                ("review-selected", "data", chosen),
                ("review-comment", "value", comment),
                ("review-refresh", "data", 0),
                ("review-until", "date", None),
            ],
            changed=[f"{action}.n_clicks"],
        )
        if action == "review-return":  # a return needs a comment
            assert "comment" in text_of(decide) and "cm-error" in text_of(decide)
    assert "review-done" in text_of(decide)
    session.expire_all()
    assert session.get(Submission, world["west"]).status == "approved"


def test_workspaces_follow_the_actor(app, world, session) -> None:
    from models.access.permissions import actor_for_user

    def spaces(role: str):
        actor = actor_for_user(session=session, user=world["users"][role])
        with data.acting_as(actor):
            return [(w.slug, w.backbone, w.organisations) for w in data.workspaces()]

    assert spaces("reporter") == [("c2c", False, (("eastside", "Eastside"),))]
    assert spaces("backbone") == [
        ("c2c", True, (("eastside", "Eastside"), ("westside", "Westside")))
    ]
    assert spaces("funder") == []
    assert spaces("outsider") == []  # backbone elsewhere, with no members to report for
    assert data.workspaces() == []  # no request, no override: anonymous


# --- pure pieces --------------------------------------------------------------------------------


def _row(kind="count", **values) -> dict:
    row = {"id": f"X|{kind}", "indicator": "X", "disaggregation": "total", "type": kind}
    for field in ("value", "numerator", "denominator", "note"):
        row[field] = values.get(field)
        row[f"o_{field}"] = values.get(f"o_{field}")
    return row


def test_changed_inputs_send_only_edits_and_the_fields_a_measure_uses() -> None:
    rows = [
        _row("count", value=5, o_value=5),  # unchanged
        _row("count", value="7", o_value=5),  # typed text
        _row("rate", value=50, numerator=4, denominator=8, o_numerator=3, o_denominator=8),
        _row("count", o_value=5),  # cleared: removed
        _row("count"),  # empty, never reported: nothing
        _row("average", value=3.5, denominator=20, numerator=9),
    ]
    inputs, ids = changed_inputs(rows)
    assert ids == ["X|count", "X|rate", "X|count", "X|average"]
    assert (inputs[0].value, inputs[0].numerator) == (7.0, None)
    assert (inputs[1].value, inputs[1].numerator, inputs[1].denominator) == (None, 4, 8)
    assert inputs[2].remove is True
    assert (inputs[3].value, inputs[3].numerator, inputs[3].denominator) == (3.5, None, 20)


def test_problems_land_on_their_rows() -> None:
    rows = [_row("count", value=1), _row("rate", numerator=9, denominator=8)]
    rows[1]["id"] = "Y|total"
    error = InvalidInput(
        "bad",
        extra={
            "errors": [
                {"field": "values[1].numerator", "reason": "is greater than the denominator"},
                {"field": "values[7].value", "reason": "out of range: ignored"},
            ]
        },
    )
    marked, placed = mark_problems(rows, ["X|count", "Y|total"], error)
    assert placed == 1
    assert marked[1]["err_numerator"] is True and marked[0]["err_value"] is False
    assert marked[1]["checks"][0]["label"] == "numerator: is greater than the denominator"


def _period(key: str, opens: date, closes: date, locked=False) -> data.PeriodInfo:
    return data.PeriodInfo(key, "quarter", opens - timedelta(days=90), opens, opens, closes, locked)


def test_default_period_is_the_latest_open_else_the_latest_opened() -> None:
    today = date(2026, 11, 24)
    periods = [
        _period("2026Q2", date(2026, 7, 1), date(2026, 8, 29)),
        _period("2026Q3", date(2026, 10, 1), date(2026, 11, 29)),
        _period("2026Q4", date(2027, 1, 1), date(2027, 3, 1)),
    ]
    assert data.default_period(periods, today) == "2026Q3"
    assert data.default_period(periods, date(2026, 12, 15)) == "2026Q3"  # closed, latest opened
    periods[1] = _period("2026Q3", date(2026, 10, 1), date(2026, 11, 29), locked=True)
    assert data.default_period(periods, today) == "2026Q3"
    assert data.default_period(periods, date(2026, 1, 1)) == "2026Q2"  # none opened yet
    assert data.default_period([], today) is None


# --- the app as the browser first meets it ------------------------------------------------------


def test_a_bookmarked_page_as_first_request_gets_a_complete_index(app) -> None:
    """The index for a page URL carries every clientside function its callbacks call."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    create_app(app.state.session_factory)  # another app in the process must not interfere
    with TestClient(app) as first_visit:
        index = first_visit.get("/portal?initiative=c2c").text
        assert "document.title" in index  # the page router's title script
        assert "window.history.replaceState" in index  # the pages' URL sync
        # Clientside functions are named by a hash of their code: one name, one definition.
        names = re.findall(r'ns\["([0-9a-f]{64})"\] =\s*(.*?)\n\s*;\n\}\)\(\);', index, re.DOTALL)
        assert names and len({n for n, _ in names}) == len(set(names))
        outputs = [d["output"] for d in first_visit.get("/_dash-dependencies").json()]
        assert len(outputs) == len(set(outputs))


def test_missing_and_warnings_show_what_a_submission_lacks_and_why_it_is_flagged() -> None:
    import json
    from types import SimpleNamespace

    from plotly.utils import PlotlyJSONEncoder

    from dashboard.components.common import missing_and_warnings
    from models.reporting.validation import FLAG_SUM, Warning

    sub = SimpleNamespace(
        missing=["SERVED", "SCORE"],
        warnings=[Warning("K_READY", "total", FLAG_SUM, "race: categories add up to 40")],
    )
    parts = missing_and_warnings(sub, missing_label="Not yet reported: ", warnings_id="w")
    text = json.dumps(parts, cls=PlotlyJSONEncoder)
    assert "Not yet reported: " in text and "SERVED, SCORE" in text
    assert '"id": "w"' in text and "K_READY" in text and "categories add up to 40" in text
    nothing = SimpleNamespace(missing=[], warnings=[])
    assert missing_and_warnings(nothing, missing_label="Not reported: ") == []


SAME_SITE = {"Origin": "http://testserver"}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (b"{not json", "body", "not valid JSON"),
        (b"[1, 2]", "body", "must be a JSON object"),
        (b'"text"', "body", "must be a JSON object"),
        (b"{}", "output", "required"),
        (b'{"output": "x.children"}', "outputs", "required"),
        (
            b'{"output": "nope.children", "outputs": {"id": "nope", "property": "children"}}',
            "output",
            "no callback has the output 'nope.children'",
        ),
        (b'{"output": "PAGE", "outputs": {}, "inputs": [1]}', "inputs", "must be a list"),
    ],
)
def test_malformed_callback_requests_answer_400_saying_what_is_wrong(
    client, body, field, reason
) -> None:
    """Dash answered each of these with a bare 500, as if the server had failed."""
    deps = client.get("/_dash-dependencies").json()
    page = next(d["output"] for d in deps if d["output"].startswith(".._pages_content."))
    body = body.replace(b"PAGE", page.encode())
    response = client.post(
        CALLBACK_URL, content=body, headers={**SAME_SITE, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == "invalid_callback_request" and answer["field"] == field
    assert reason in answer["detail"]


def test_a_callback_request_that_is_not_json_answers_400(client) -> None:
    response = client.post(CALLBACK_URL, data={"output": "x"}, headers=SAME_SITE)
    assert response.status_code == 400 and response.json()["field"] == "body"


def test_a_failing_callback_is_logged_with_the_request_id_and_leaks_nothing(
    client, monkeypatch
) -> None:
    """A callback's error was answered 500 by Dash and logged nowhere."""
    import logging

    from api.observability import JsonFormatter

    def broken() -> None:
        raise RuntimeError("secret internals")

    class Lines(logging.Handler):
        """Formats as production does, while the request runs (the request id is set then)."""

        lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(JsonFormatter().format(record))

    monkeypatch.setattr(data, "directory", broken)  # the home page's layout reads it
    handler = Lines()
    logging.getLogger("cm").addHandler(handler)
    try:
        response = render_page(client, "/")
    finally:
        logging.getLogger("cm").removeHandler(handler)
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    rid = response.headers["X-Request-ID"]
    assert response.json() == {
        "detail": "the dashboard could not answer; the error is logged under this request id",
        "code": "internal_error",
        "request_id": rid,
    }
    [line] = [json.loads(x) for x in handler.lines if "callback_error" in x]
    assert line["logger"] == "cm.dashboard" and line["request_id"] == rid
    assert line["output"].startswith(".._pages_content.children")
    assert "RuntimeError: secret internals" in line["error"]
    assert render_page(client, "/portal").status_code == 200  # the next call is served


def test_an_open_report_links_its_pre_filled_template(client, world) -> None:
    """The status panel of a report still open for writing links the template download (the
    mails' link), which the same login cookie fetches; a submitted report has no link."""
    _as(client, world, "reporter")
    answer = text_of(_grid(client, "eastside"))
    link = template_path("c2c", "eastside", PERIOD)
    assert "portal-template" in answer and link in answer
    download = client.get(link, follow_redirects=False)
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"].endswith('-eastside-2025Q3-template.xlsx"')
    _as(client, world, "backbone")
    assert "portal-template" in text_of(_grid(client, "eastside"))
    assert "portal-template" not in text_of(_grid(client, "westside"))  # submitted
