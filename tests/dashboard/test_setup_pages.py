"""The setup page over HTTP: what its callbacks answer to the backbone team (create, edit,
delete; a refusal shown next to the field it names; the audit of each change), to anyone else
(nothing), and the portal once a partner's deadline is extended."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dashboard import data
from models import (
    AuditEvent,
    DeadlineExtension,
    Indicator,
    Member,
    Organisation,
    Outcome,
    Period,
    SeriesBreak,
    Submission,
)
from models.core.dates import day

from .. import factories as f
from ..dash_calls import call, call_declared, log_in, render_page, response_of, text_of

TODAY = date.today()


@pytest.fixture
def world(session, client):
    """The two-partner world (2025Q3 open, 2025Q2 closed yesterday); eastside has reported
    SERVED in 2025Q3 (a draft); a free organisation; a user per role."""
    built = f.two_partner_world(session)
    init = built["init"]
    f.organisation(session, slug="northside", name="Northside Clinic")
    q3 = session.scalar(select(Period).where(Period.key == "2025Q3"))
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    draft = f.submission(session, built["east"], q3, "draft")
    f.reported_value(session, draft, served, value=12)
    f.outcome(session, init, code="reach", name="Reach")
    users = f.two_partner_users(session, built, ("backbone", "reporter", "funder", "outsider"))
    session.commit()
    return {**built, "users": users}


def _as(client, world, role: str | None) -> None:
    log_in(client, role and world["users"][role])


def _edit(client, kind: str, trigger: str, values: dict | None = None, **extra):
    """Fire the form callback of a tab (``trigger``: save, new, delete, grid, initiative)."""
    given = {"setup-initiative.value": "c2c", f"setup-{kind}-editing.data": None}
    given |= {f"setup-{kind}-{name}.{_prop(name)}": v for name, v in (values or {}).items()}
    given |= extra
    prop = {
        "save": "n_clicks",
        "new": "n_clicks",
        "delete": "submit_n_clicks",
        "grid": "selectedRows",
    }[trigger]
    ident = f"setup-{kind}-{trigger}"
    given[f"{ident}.{prop}"] = given.get(f"{ident}.{prop}", 1)
    first = FIRST_FIELD[kind]
    return call_declared(client, f"..setup-{kind}-{first}.value...", given, f"{ident}.{prop}")


# The first output of each tab's form callback names it.
FIRST_FIELD = {
    "indicator": "code",
    "outcome": "code",
    "dimension": "code",
    "member": "joins",
    "period": "key",
    "break": "indicator",
    "extension": "org",
}


DATES = {"joined_on", "opens_on", "due_on", "closes_on", "until"}
GRIDS = {"targets", "categories", "gap_targets"}


def _prop(name: str) -> str:
    return "date" if name in DATES else "rowData" if name in GRIDS else "value"


def _form_answer(client, kind, trigger, values=None, **extra) -> dict:
    out = response_of(_edit(client, kind, trigger, values, **extra))
    return out


def _error(out: dict, kind: str, name: str) -> str | None:
    return out[f"setup-{kind}-{name}-error"]["children"]


def _listed_indicator(client, code: str) -> dict:
    """The indicator's row in the tab's list, as the list callback answers it."""
    listed = response_of(
        call(
            client,
            "..setup-indicator-grid.rowData",
            [("setup-initiative", "value", "c2c"), ("setup-indicator-refresh", "data", 1)],
        )
    )["setup-indicator-grid"]["rowData"]
    return next(r for r in listed if r["code"] == code)


def _events(session, entity_type: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
        )
    )


NEW_INDICATOR = {
    "code": "KIDS_READ",
    "name": "Third graders reading on grade level",
    "outcome": "reach",
    "measure_type": "rate",
    "unit": "%",
    "definition": "Share of third graders at or above grade level on the state test.",
    "direction": "higher",
    "decimals": 1,
    "frequency": "annual",
    "valid_min": 0,
    "valid_max": 100,
    "data_source": "State reading assessment",
    "dimensions": ["race"],
    "baseline_value": 41.5,
    "baseline_period": "2025Q2",
    "target_value": 60,
    "target_period": "2025Q3",
    "targets": [{"period": "2025Q3", "value": 45, "note": "first step"}],
}


# --- who gets the page --------------------------------------------------------------------------


def test_the_page_is_for_the_backbone_team(client, world) -> None:
    _as(client, world, "backbone")
    page = text_of(render_page(client, "/setup"))
    for ident in (
        "setup-tabs",
        "setup-indicator-code",
        "setup-period-key",
        "setup-extension-until",
        "setup-member-org_slug",
        "setup-break-note",
    ):
        assert ident in page
    # Every element has an id of its own: a form's block named like a button would click it.
    ids = Counter(_ids(response_of(render_page(client, "/setup"))))
    assert [ident for ident, n in ids.items() if n > 1] == []
    for role in ("reporter", "funder"):
        _as(client, world, role)
        assert "setup-not-allowed" in text_of(render_page(client, "/setup")), role
    _as(client, world, None)
    assert "cm-please-log-in" in text_of(render_page(client, "/setup"))


def _ids(node) -> list[str]:
    """The ids of a rendered layout (a tree of ``{"props": {"id": …, "children": …}}``)."""
    if isinstance(node, list):
        return [i for child in node for i in _ids(child)]
    if not isinstance(node, dict):
        return []
    found = [node["props"]["id"]] if isinstance(node.get("props", {}).get("id"), str) else []
    return found + [i for value in node.get("props", node).values() for i in _ids(value)]


def test_a_forged_save_by_others_writes_nothing(client, world, session) -> None:
    for role in (None, "reporter", "funder", "outsider"):
        _as(client, world, role)
        answer = _edit(client, "indicator", "save", NEW_INDICATOR)
        assert answer.status_code == 200
        assert "cm-error" in text_of(answer) or "cm-setup-refused" in text_of(answer), role
        assert "saved" not in text_of(answer)
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "KIDS_READ")) is None

    # The lists hold what the API shows them (a reporter sees the members, as GET /members
    # answers it); another initiative's backbone nothing, and the audit is the backbone's.
    def members(role):
        _as(client, world, role)
        return call(
            client,
            "..setup-member-grid.rowData",
            [("setup-initiative", "value", "c2c"), ("setup-member-refresh", "data", 0)],
        )

    assert response_of(members("outsider"))["setup-member-grid"]["rowData"] == []
    assert "cm-error" in text_of(members("outsider"))
    for role in ("reporter", "funder"):
        _as(client, world, role)
        changes = call(
            client,
            "..setup-member-changes-title.children",
            [
                ("setup-member-editing", "data", None),
                ("setup-member-refresh", "data", 0),
                ("setup-initiative", "value", "c2c"),
            ],
        )
        assert "cm-error" in text_of(changes) and "eastside" not in text_of(changes), role


# --- indicators ---------------------------------------------------------------------------------


def test_create_an_indicator_with_its_targets_then_edit_it(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", NEW_INDICATOR)
    assert out["setup-indicator-editing"]["data"] == "KIDS_READ"
    assert out["setup-indicator-heading"]["children"] == "Edit indicator KIDS_READ"
    assert "saved" in str(out["setup-indicator-feedback"]["children"])
    assert out["setup-indicator-code"]["disabled"] is True
    assert out["setup-indicator-delete-button"]["disabled"] is False
    session.expire_all()
    ind = session.scalar(select(Indicator).where(Indicator.code == "KIDS_READ"))
    assert (ind.measure_type, ind.unit, ind.valid_max, ind.baseline_value) == (
        "rate",
        "%",
        100,
        41.5,
    )
    assert [t.value for t in ind.targets] == [45]
    [created] = _events(session, "indicator")
    assert created.action == "create"

    # The list shows it; selecting it fills the form.
    row = _listed_indicator(client, "KIDS_READ")
    assert row["baseline_text"] == "41.5 (2025Q2)" and row["range"] == "0 – 100"
    filled = _form_answer(
        client, "indicator", "grid", **{"setup-indicator-grid.selectedRows": [row]}
    )
    assert filled["setup-indicator-unit"]["value"] == "%"
    assert filled["setup-indicator-target_period"]["value"] == "2025Q3"
    assert filled["setup-indicator-targets"]["rowData"] == [
        {"period": "2025Q3", "value": 45.0, "note": "first step"}
    ]

    changed = {**NEW_INDICATOR, "unit": "percent", "targets": []}
    out = _form_answer(
        client, "indicator", "save", changed, **{"setup-indicator-editing.data": "KIDS_READ"}
    )
    assert "saved" in str(out["setup-indicator-feedback"]["children"])
    session.expire_all()
    assert ind.unit == "percent" and ind.targets == []

    # Its changes: the update, with what changed.
    changes = call(
        client,
        "..setup-indicator-changes-title.children",
        [
            ("setup-indicator-editing", "data", "KIDS_READ"),
            ("setup-indicator-refresh", "data", 2),
            ("setup-initiative", "value", "c2c"),
        ],
    )
    text = text_of(changes)
    assert "Changes to indicator KIDS_READ" in text
    assert "unit: % → percent" in text
    assert world["users"]["backbone"].email in text


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"code": "kids read"}, "code", "not a valid indicator code"),
        ({"unit": ""}, "unit", "is required"),
        ({"measure_type": None}, "measure_type", "must be one of"),
        ({"valid_min": 100, "valid_max": 0}, "valid_min", "must not be above"),
        ({"decimals": 9}, "decimals", "at most 6"),
        ({"baseline_value": None}, "baseline_value", "is required"),
        ({"targets": [{"period": "1999Q1", "value": 3}]}, "targets", "row 1, period: no period"),
        ({"targets": [{"period": "2025Q3", "value": None}]}, "targets", "row 1, value"),
        ({"code": "SERVED"}, "code", "exists already"),
    ],
)
def test_a_refused_indicator_shows_the_message_next_to_its_field(
    client, world, session, changes, field, says
) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", {**NEW_INDICATOR, **changes})
    message = _error(out, "indicator", field)
    assert message and says in message, out
    assert out[f"setup-indicator-{field}-field"]["className"] == "cm-field cm-field-invalid"
    others = [
        name
        for name in NEW_INDICATOR
        if name != field and _error(out, "indicator", name) is not None
    ]
    assert others == []
    assert "Not saved" in str(out["setup-indicator-feedback"]["children"])
    # The form keeps what was typed (no value is sent back) and nothing is stored.
    assert "setup-indicator-name" not in out
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "KIDS_READ")) is None


GAP_ROW = {
    "dimension": "race",
    "baseline": 20,
    "baseline_period": "2025Q2",
    "target": 10,
    "target_period": "2025Q3",
    "note": "halve it",
}


def test_the_indicator_form_edits_its_gap_targets(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "indicator", "save", {**NEW_INDICATOR, "gap_targets": [GAP_ROW]})
    assert "saved" in str(out["setup-indicator-feedback"]["children"])
    session.expire_all()
    ind = session.scalar(select(Indicator).where(Indicator.code == "KIDS_READ"))
    [gap] = ind.gap_targets
    assert (gap.dimension.code, gap.baseline_value, gap.target_value, gap.note) == (
        "race",
        20,
        10,
        "halve it",
    )
    [made] = _events(session, "gap_target")
    assert (made.action, made.entity_id) == ("create", ind.id)
    row = _listed_indicator(client, "KIDS_READ")
    filled = _form_answer(
        client, "indicator", "grid", **{"setup-indicator-grid.selectedRows": [row]}
    )
    assert filled["setup-indicator-gap_targets"]["rowData"] == [
        {**GAP_ROW, "baseline": 20.0, "target": 10.0}
    ]
    # A refused gap target is shown under the grid, and nothing of the save is kept.
    changed = {
        **NEW_INDICATOR,
        "unit": "percent",
        "gap_targets": [{**GAP_ROW, "target_period": "2025Q2"}],
    }
    out = _form_answer(
        client, "indicator", "save", changed, **{"setup-indicator-editing.data": "KIDS_READ"}
    )
    message = _error(out, "indicator", "gap_targets")
    assert message == "row 1, target.period: must be after the baseline period", out
    session.expire_all()
    assert ind.unit == "%" and [g.target_period_id for g in ind.gap_targets] == [
        gap.target_period_id
    ]
    # An empty grid removes it.
    out = _form_answer(
        client,
        "indicator",
        "save",
        {**NEW_INDICATOR, "gap_targets": []},
        **{"setup-indicator-editing.data": "KIDS_READ"},
    )
    assert "saved" in str(out["setup-indicator-feedback"]["children"])
    session.expire_all()
    assert ind.gap_targets == []
    assert [e.action for e in _events(session, "gap_target")] == ["create", "delete"]
    changes = text_of(
        call(
            client,
            "..setup-indicator-changes-title.children",
            [
                ("setup-indicator-editing", "data", "KIDS_READ"),
                ("setup-indicator-refresh", "data", 3),
                ("setup-initiative", "value", "c2c"),
            ],
        )
    )
    assert "KIDS_READ · gap target by race" in changes


def test_a_gap_target_on_a_breakdown_the_indicator_lacks_is_refused(client, world) -> None:
    _as(client, world, "backbone")
    bad = {**NEW_INDICATOR, "dimensions": [], "gap_targets": [GAP_ROW]}
    out = _form_answer(client, "indicator", "save", bad)
    message = _error(out, "indicator", "gap_targets")
    assert message and message.startswith("row 1, dimension:"), out


def test_conflicts_with_reported_values_are_shown_next_to_the_field(client, world, session) -> None:
    _as(client, world, "backbone")
    served = {
        "code": "SERVED",
        "name": "Served",
        "measure_type": "amount",
        "unit": "people",
        "direction": "higher",
        "decimals": 0,
        "frequency": "quarterly",
    }
    out = _form_answer(
        client, "indicator", "save", served, **{"setup-indicator-editing.data": "SERVED"}
    )
    assert "measure_type cannot change" in _error(out, "indicator", "measure_type")
    out = _form_answer(client, "indicator", "delete", **{"setup-indicator-editing.data": "SERVED"})
    assert "cannot be deleted" in _error(out, "indicator", "code")
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "SERVED")) is not None

    out = _form_answer(client, "indicator", "delete", **{"setup-indicator-editing.data": "SCORE"})
    assert "removed" in str(out["setup-indicator-feedback"]["children"])
    assert out["setup-indicator-editing"]["data"] is None
    assert out["setup-indicator-code"]["value"] is None
    session.expire_all()
    assert session.scalar(select(Indicator).where(Indicator.code == "SCORE")) is None
    assert _events(session, "indicator")[-1].action == "delete"


def test_new_clears_the_form_and_its_messages(client, world) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "indicator", "new", **{"setup-indicator-editing.data": "SERVED"})
    assert out["setup-indicator-editing"]["data"] is None
    assert out["setup-indicator-heading"]["children"] == "New indicator"
    assert out["setup-indicator-direction"]["value"] == "higher"  # the defaults
    assert out["setup-indicator-decimals"]["value"] == 1
    assert out["setup-indicator-code"]["disabled"] is False
    assert out["setup-indicator-delete-button"]["disabled"] is True
    assert all(out[f"setup-indicator-{name}-error"]["children"] is None for name in NEW_INDICATOR)


def test_indicator_choices_come_from_the_other_tabs(client, world) -> None:
    _as(client, world, "backbone")
    out = response_of(
        call(
            client,
            "..setup-indicator-outcome.options",
            [
                ("setup-initiative", "value", "c2c"),
                ("setup-outcome-refresh", "data", 0),
                ("setup-dimension-refresh", "data", 0),
                ("setup-period-refresh", "data", 0),
                ("setup-indicator-refresh", "data", 0),
            ],
        )
    )
    assert out["setup-indicator-outcome"]["options"] == [
        {"value": "reach", "label": "Reach (reach)"}
    ]
    # A measure contributes to population indicators only (README, "Two kinds of measure").
    options = out["setup-indicator-contributes_to"]["options"]
    assert sorted(o["value"] for o in options) == ["K_READY", "SCORE", "SERVED"]
    assert [o["value"] for o in out["setup-indicator-baseline_period"]["options"]] == [
        "2025Q3",
        "2025Q2",
    ]
    editor = out["setup-indicator-targets"]["columnDefs"][0]["cellEditorParams"]
    assert editor == {"values": ["2025Q2", "2025Q3"]}
    gap = {
        c["field"]: c.get("cellEditorParams")
        for c in out["setup-indicator-gap_targets"]["columnDefs"]
    }
    assert gap["dimension"] == {"values": ["race"]}
    assert gap["baseline_period"] == gap["target_period"] == {"values": ["2025Q2", "2025Q3"]}


# --- outcomes, dimensions -----------------------------------------------------------------------


def test_outcomes_create_and_refuse_deleting_one_in_use(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(
        client, "outcome", "save", {"code": "jobs", "name": "Employment", "description": "Work"}
    )
    assert out["setup-outcome-editing"]["data"] == "jobs"
    out = _form_answer(client, "outcome", "save", {"code": "jobs", "name": "Again"})
    assert "exists already" in _error(out, "outcome", "code")
    session.expire_all()
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    served.outcome_id = session.scalar(select(Outcome.id).where(Outcome.code == "jobs"))
    session.commit()
    out = _form_answer(client, "outcome", "delete", **{"setup-outcome-editing.data": "jobs"})
    assert "move or delete them first" in _error(out, "outcome", "code")


def test_dimensions_with_categories(client, world, session) -> None:
    _as(client, world, "backbone")
    categories = [
        {"code": "low", "name": "Low income", "saved": False},
        {"code": None, "name": None, "saved": False},  # a row left blank is no row
    ]
    out = _form_answer(
        client, "dimension", "save", {"code": "income", "name": "Income", "categories": categories}
    )
    assert out["setup-dimension-editing"]["data"] == "income"
    assert out["setup-dimension-categories"]["rowData"] == [
        {"code": "low", "name": "Low income", "position": 0, "saved": True}
    ]
    bad = [{"code": "low", "name": "Low"}, {"code": "hi gh", "name": "High"}]
    out = _form_answer(
        client,
        "dimension",
        "save",
        {"code": "income", "name": "Income", "categories": bad},
        **{"setup-dimension-editing.data": "income"},
    )
    assert _error(out, "dimension", "categories").startswith("row 2, code:")

    # Deleting a saved category: at once; refused while values are reported in it.
    rows = [{"code": "low", "name": "Low income", "position": 0, "saved": True}]
    state = {
        "setup-dimension-categories.rowData": rows,
        "setup-dimension-categories.selectedRows": rows,
        "setup-initiative.value": "c2c",
        "setup-dimension-editing.data": "income",
        "setup-dimension-refresh.data": 3,
        "setup-dimension-remove-row.n_clicks": 1,
    }
    out = response_of(
        call_declared(
            client,
            "..setup-dimension-categories.rowData",
            state,
            "setup-dimension-remove-row.n_clicks",
        )
    )
    assert [r["code"] for r in out["setup-dimension-categories"]["rowData"]] == []
    assert [e.action for e in _events(session, "category")] == ["delete"]


# --- members, periods ---------------------------------------------------------------------------


def test_members_and_their_obligations(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(
        client,
        "member",
        "save",
        {
            "organisation": "northside",
            "joined_on": "2025-07-01",
            "shares_with_funders": False,
            "active": True,
            "obligations": ["SERVED", "K_READY"],
        },
    )
    assert out["setup-member-editing"]["data"] == "northside"
    assert out["setup-member-obligations"]["value"] == ["K_READY", "SERVED"]
    session.expire_all()
    member = session.scalar(
        select(Member).join(Member.organisation).where(Member.organisation.has(slug="northside"))
    )
    assert (member.joined_on, member.shares_with_funders) == (date(2025, 7, 1), False)
    assert [e.entity_type for e in _events(session, "member")] == ["member"]
    assert [e.action for e in _events(session, "obligations")] == ["update"]

    out = _form_answer(
        client,
        "member",
        "save",
        {"organisation": "northside", "joined_on": "1st July", "active": True},
        **{"setup-member-editing.data": "northside"},
    )
    assert "must be a date" in _error(out, "member", "joined_on")
    out = _form_answer(client, "member", "delete", **{"setup-member-editing.data": "eastside"})
    assert "set active to false instead" in _error(out, "member", "organisation")


NEW_PARTNER = {
    "joins": "new",
    "org_name": "Riverside Health Clinic",
    "org_slug": "riverside-health-clinic",
    "org_sector": "health",
    "org_website": "https://riverside.example.org",
    "joined_on": "2025-07-01",
    "shares_with_funders": True,
    "active": True,
    "obligations": ["SERVED"],
}


def _member(session, slug: str) -> Member | None:
    session.expire_all()
    return session.scalar(
        select(Member).join(Member.organisation).where(Member.organisation.has(slug=slug))
    )


def test_a_new_organisation_joins_as_a_member_in_one_step(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "member", "save", NEW_PARTNER)
    assert "Member Riverside Health Clinic saved." in str(out["setup-member-feedback"]), out
    assert out["setup-member-editing"]["data"] == "riverside-health-clinic"
    assert out["setup-member-organisation"]["value"] == "riverside-health-clinic"
    assert out["setup-member-org_name"]["value"] is None  # the new block is emptied
    member = _member(session, "riverside-health-clinic")
    org = member.organisation
    assert (org.name, org.sector, org.website) == (
        "Riverside Health Clinic",
        "health",
        "https://riverside.example.org",
    )
    assert member.joined_on == date(2025, 7, 1)
    [created] = _events(session, "organisation")
    assert (created.action, created.initiative_id) == ("create", world["init"].id)
    assert [e.action for e in _events(session, "member")] == ["create"]
    assert [e.after["indicators"] for e in _events(session, "obligations")] == [["SERVED"]]

    # The latest changes of the tab show the organisation, the member and its obligations.
    changes = text_of(
        call(
            client,
            "..setup-member-changes-title.children",
            [
                ("setup-member-editing", "data", None),
                ("setup-member-refresh", "data", 1),
                ("setup-initiative", "value", "c2c"),
            ],
        )
    )
    assert changes.count("riverside-health-clinic") == 3, changes
    # It is a member now: the directory's choice says so.
    options = response_of(
        call(
            client,
            "..setup-member-organisation.options",
            [
                ("setup-initiative", "value", "c2c"),
                ("setup-indicator-refresh", "data", 0),
                ("setup-member-refresh", "data", 1),
            ],
        )
    )["setup-member-organisation"]["options"]
    [listed] = [o for o in options if o["value"] == "riverside-health-clinic"]
    assert listed == {
        "value": "riverside-health-clinic",
        "label": "Riverside Health Clinic (a member)",
        "disabled": True,
    }


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"org_slug": "westside"}, "org_slug", "exists already"),
        ({"org_slug": "River Side"}, "org_slug", "not a valid slug"),
        ({"org_slug": None}, "org_slug", "is required"),
        ({"org_name": None}, "org_name", "is required"),
        ({"org_sector": None}, "org_sector", "is required"),
        ({"org_sector": "space"}, "org_sector", "must be one of"),
        ({"org_website": "w" * 301}, "org_website", "at most 300"),
        ({"joined_on": "1st July"}, "joined_on", "must be a date"),
        ({"obligations": ["SERVED", "NOPE"]}, "obligations", "no indicator"),
    ],
)
def test_a_refused_new_organisation_is_shown_next_to_its_field(
    client, world, session, changes, field, says
) -> None:
    _as(client, world, "backbone")
    out = _form_answer(client, "member", "save", {**NEW_PARTNER, **changes})
    message = _error(out, "member", field)
    assert message and says in message, out
    assert out[f"setup-member-{field}-field"]["className"] == "cm-field cm-field-invalid"
    assert "Not saved" in str(out["setup-member-feedback"]["children"])
    # All or nothing: no organisation, membership or event is left behind.
    session.expire_all()
    assert session.scalar(select(Organisation).where(Organisation.slug.like("riv%"))) is None
    assert _events(session, "organisation") == [] and _events(session, "member") == []


def test_only_the_backbone_team_adds_a_new_organisation(client, world, session) -> None:
    for role in (None, "reporter", "funder", "outsider"):
        _as(client, world, role)
        answer = _edit(client, "member", "save", NEW_PARTNER)
        assert "cm-error" in text_of(answer) and "saved" not in text_of(answer), role
    session.expire_all()
    assert session.scalar(select(Organisation).where(Organisation.slug.like("riv%"))) is None


def test_the_member_form_shows_the_directory_or_the_new_organisation(client) -> None:
    def shown(joins, editing):
        out = response_of(
            call(
                client,
                "..setup-member-choose-group.style",
                [("setup-member-joins", "value", joins), ("setup-member-editing", "data", editing)],
            )
        )
        return tuple(
            out[ident]["style"] is None
            for ident in (
                "setup-member-choose-group",
                "setup-member-existing-group",
                "setup-member-new-group",
            )
        )

    assert shown("existing", None) == (True, True, False)
    assert shown("new", None) == (True, False, True)
    assert shown("new", "eastside") == (False, True, False)  # editing: its organisation only


UNCHANGED = object()


def test_the_slug_follows_the_name_until_one_is_typed(client) -> None:
    def typed(name, slug, suggested):
        out = call(
            client,
            "..setup-member-org_slug.value",
            [("setup-member-org_name", "value", name)],
            [
                ("setup-member-org_slug", "value", slug),
                ("setup-member-slug-suggested", "data", suggested),
            ],
        )
        if out.status_code == 204:
            return UNCHANGED
        return response_of(out).get("setup-member-org_slug", {}).get("value", UNCHANGED)

    assert typed("Riverside Clinic", None, None) == "riverside-clinic"
    assert typed("Riverside Clinic #2", "riverside-clinic", "riverside-clinic") == (
        "riverside-clinic-2"
    )
    assert typed("Riverside Clinic #2", "rs-clinic", "riverside-clinic") is UNCHANGED  # theirs
    assert typed("", "riverside-clinic", "riverside-clinic") is None  # no name, no slug


def test_a_member_is_retired_and_reactivated(client, world, session) -> None:
    """Eastside has reported: it cannot be removed, but it can stop being expected (its
    figures stay) and be expected again; both are in its trail."""
    _as(client, world, "backbone")
    kept = {"organisation": "eastside", "obligations": ["K_READY", "SERVED", "SCORE"]}
    editing = {"setup-member-editing.data": "eastside"}
    out = _form_answer(
        client, "member", "save", {**kept, "active": False, "shares_with_funders": True}, **editing
    )
    assert out["setup-member-active"]["value"] is False
    assert _member(session, "eastside").active is False
    out = _form_answer(
        client, "member", "save", {**kept, "active": True, "shares_with_funders": True}, **editing
    )
    assert _member(session, "eastside").active is True
    updates = [e for e in _events(session, "member") if e.action == "update"]
    assert [(e.before["active"], e.after["active"]) for e in updates] == [
        (True, False),
        (False, True),
    ]
    changes = text_of(
        call(
            client,
            "..setup-member-changes-title.children",
            [
                ("setup-member-editing", "data", "eastside"),
                ("setup-member-refresh", "data", 2),
                ("setup-initiative", "value", "c2c"),
            ],
        )
    )
    assert "active: False → True" in changes and "active: True → False" in changes


# --- series breaks ------------------------------------------------------------------------------


def test_series_breaks_are_marked_corrected_and_removed(client, world, session) -> None:
    _as(client, world, "backbone")
    asked = {"indicator": "SERVED", "period": "2025Q3", "note": "New intake form"}
    out = _form_answer(client, "break", "save", {**asked, "note": None})
    assert _error(out, "break", "note") == "is required"
    out = _form_answer(client, "break", "save", {**asked, "indicator": None})
    assert _error(out, "break", "indicator") == "is required"
    out = _form_answer(client, "break", "save", {**asked, "period": "1999Q1"})
    assert "no period" in _error(out, "break", "period")
    assert session.scalar(select(SeriesBreak)) is None

    out = _form_answer(client, "break", "save", asked)
    assert out["setup-break-editing"]["data"] == "SERVED|2025Q3"
    assert out["setup-break-heading"]["children"] == "Edit series break SERVED · 2025Q3"
    assert "charts mark the break" in str(out["setup-break-feedback"]["children"])
    assert out["setup-break-indicator"]["disabled"] is True
    out = _form_answer(client, "break", "save", asked)
    assert "already has a series break" in _error(out, "break", "period")

    listed = response_of(
        call(
            client,
            "..setup-break-grid.rowData",
            [("setup-initiative", "value", "c2c"), ("setup-break-refresh", "data", 1)],
        )
    )["setup-break-grid"]["rowData"]
    assert [(r["key"], r["indicator_name"], r["note"]) for r in listed] == [
        (
            "SERVED|2025Q3",
            session.scalar(select(Indicator.name).where(Indicator.code == "SERVED")),
            "New intake form",
        )
    ]

    editing = {"setup-break-editing.data": "SERVED|2025Q3"}
    out = _form_answer(
        client, "break", "save", {**asked, "note": "New intake form, counts families"}, **editing
    )
    assert out["setup-break-note"]["value"] == "New intake form, counts families"
    changes = text_of(
        call(
            client,
            "..setup-break-changes-title.children",
            [
                ("setup-break-editing", "data", "SERVED|2025Q3"),
                ("setup-break-refresh", "data", 2),
                ("setup-initiative", "value", "c2c"),
            ],
        )
    )
    assert "SERVED · 2025Q3" in changes and "counts families" in changes

    out = _form_answer(client, "break", "delete", **editing)
    assert "removed" in str(out["setup-break-feedback"]["children"])
    assert out["setup-break-editing"]["data"] is None
    session.expire_all()
    assert session.scalar(select(SeriesBreak)) is None
    assert [e.action for e in _events(session, "series_break")] == ["create", "update", "delete"]


def test_series_break_choices_and_forged_breaks(client, world, session) -> None:
    _as(client, world, "backbone")
    out = response_of(
        call(
            client,
            "..setup-break-indicator.options",
            [
                ("setup-initiative", "value", "c2c"),
                ("setup-indicator-refresh", "data", 0),
                ("setup-period-refresh", "data", 0),
            ],
        )
    )
    assert {o["value"] for o in out["setup-break-indicator"]["options"]} == {
        "K_READY",
        "SERVED",
        "SCORE",
    }
    assert [o["value"] for o in out["setup-break-period"]["options"]] == ["2025Q3", "2025Q2"]
    for role in (None, "reporter", "funder", "outsider"):
        _as(client, world, role)
        answer = _edit(
            client, "break", "save", {"indicator": "SERVED", "period": "2025Q3", "note": "x"}
        )
        assert "cm-error" in text_of(answer) and "saved" not in text_of(answer), role
    session.expire_all()
    assert session.scalar(select(SeriesBreak)) is None


def test_periods_window_lock_and_delete(client, world, session) -> None:
    _as(client, world, "backbone")
    out = _form_answer(
        client,
        "period",
        "save",
        {"key": "2025Q4", "opens_on": "2026-01-10", "due_on": "2026-01-05", "closes_on": None},
    )
    assert "need opens ≤ due ≤ closes" in _error(out, "period", "due_on")
    out = _form_answer(client, "period", "save", {"key": "2025Q5"})
    assert "not a period key" in _error(out, "period", "key")

    out = _form_answer(client, "period", "save", {"key": "2025q4", "locked": True})
    assert out["setup-period-editing"]["data"] == "2025Q4"
    assert out["setup-period-closes_on"]["date"] == "2026-03-01"  # 60 days after it ends
    assert out["setup-period-locked"]["value"] is True
    assert [e.action for e in _events(session, "period")] == ["create", "lock"]

    out = _form_answer(
        client,
        "period",
        "save",
        {
            "key": "2025Q4",
            "opens_on": "2026-01-01",
            "due_on": "2026-01-31",
            "closes_on": "2026-02-28",
        },
        **{"setup-period-editing.data": "2025Q4"},
    )
    assert out["setup-period-locked"]["value"] is False
    session.expire_all()
    q4 = session.scalar(select(Period).where(Period.key == "2025Q4"))
    assert (q4.due_on, q4.locked) == (date(2026, 1, 31), False)

    out = _form_answer(client, "period", "delete", **{"setup-period-editing.data": "2025Q3"})
    assert "has submissions" in _error(out, "period", "key")
    out = _form_answer(client, "period", "delete", **{"setup-period-editing.data": "2025Q4"})
    assert "removed" in str(out["setup-period-feedback"]["children"])


# --- deadline extensions ------------------------------------------------------------------------


def test_grant_move_and_revoke_an_extension(client, world, session) -> None:
    _as(client, world, "backbone")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    asked = {"org": "eastside", "period": "2025Q2", "until": yesterday, "reason": "Flood"}
    out = _form_answer(client, "extension", "save", asked)
    assert "after the period closes" in _error(out, "extension", "until")
    out = _form_answer(client, "extension", "save", {**asked, "org": None})
    assert "no member" in _error(out, "extension", "org")
    until = (TODAY + timedelta(days=5)).isoformat()
    out = _form_answer(
        client, "extension", "save", {"org": "eastside", "period": "2025Q2", "until": until}
    )
    assert _error(out, "extension", "reason") == "is required"
    out = _form_answer(
        client,
        "extension",
        "save",
        {"org": "eastside", "period": "2025Q2", "until": until, "reason": "Flooded office"},
    )
    assert out["setup-extension-editing"]["data"] == "eastside|2025Q2"
    assert out["setup-extension-org"]["disabled"] is True
    listed = response_of(
        call(
            client,
            "..setup-extension-grid.rowData",
            [("setup-initiative", "value", "c2c"), ("setup-extension-refresh", "data", 1)],
        )
    )["setup-extension-grid"]["rowData"]
    assert [(r["org"], r["until"], r["running"]) for r in listed] == [
        ("eastside", until, "running")
    ]
    changes = text_of(
        call(
            client,
            "..setup-extension-changes-title.children",
            [
                ("setup-extension-editing", "data", "eastside|2025Q2"),
                ("setup-extension-refresh", "data", 1),
                ("setup-initiative", "value", "c2c"),
            ],
        )
    )
    assert "eastside · 2025Q2" in changes and "Flooded office" in changes

    out = _form_answer(
        client, "extension", "delete", **{"setup-extension-editing.data": "eastside|2025Q2"}
    )
    assert "removed" in str(out["setup-extension-feedback"]["children"])
    session.expire_all()
    assert session.scalar(select(DeadlineExtension)) is None


def test_the_portal_opens_for_a_partner_with_an_extension(client, world, session) -> None:
    _as(client, world, "reporter")

    def grid():
        return call(
            client,
            "..portal-grid.rowData",
            [
                ("portal-initiative", "value", "c2c"),
                ("portal-org", "value", "eastside"),
                ("portal-period", "value", "2025Q2"),
                ("portal-save", "n_clicks", None),
                ("portal-submit", "n_clicks", None),
            ],
            [("portal-grid", "rowData", []), ("portal-version", "data", None)],
            changed=["portal-period.value"],
        )

    closed = grid()
    assert response_of(closed)["portal-save"]["disabled"] is True
    assert "ask the backbone team to extend your deadline" in text_of(closed)
    assert "portal-extension" not in text_of(closed)

    session.add(
        DeadlineExtension(
            initiative_id=world["init"].id,
            member_id=world["east"].id,
            period_id=session.scalar(select(Period.id).where(Period.key == "2025Q2")),
            until=TODAY + timedelta(days=3),
            reason="Flooded office",
        )
    )
    session.commit()
    extended = grid()
    out = response_of(extended)
    assert out["portal-save"]["disabled"] is False
    assert any(row["edit_value"] for row in out["portal-grid"]["rowData"])
    assert f"deadline extended to {day(TODAY + timedelta(days=3))}" in text_of(extended)


def test_the_review_doors_return_with_an_extension(client, world, session) -> None:
    """The doors the review page calls: is the period closed for the partner, and return its
    report with an extension in one step."""
    q2 = session.scalar(select(Period).where(Period.key == "2025Q2"))
    served = session.scalar(select(Indicator).where(Indicator.code == "SERVED"))
    sub = f.submission(session, world["west"], q2, "submitted")
    f.reported_value(session, sub, served, value=5)
    session.commit()
    from models.access.permissions import actor_for_user

    backbone = actor_for_user(session=session, user=world["users"]["backbone"])
    with data.acting_as(backbone):
        deadline = data.report_deadline("c2c", "westside", "2025Q2")
        assert (deadline.partner_may_write, deadline.extended_until) == (False, None)
        with pytest.raises(data.InvalidInput) as bad:
            data.return_with_extension("c2c", "westside", "2025Q2", "Recount", "soon", None)
        assert bad.value.field == "until"
        until = TODAY + timedelta(days=7)
        view, extension = data.return_with_extension(
            "c2c", "westside", "2025Q2", "Recount", until.isoformat(), 1
        )
        assert (view.status, extension.until) == ("returned", until)
        assert data.report_deadline("c2c", "westside", "2025Q2").partner_may_write is True
    session.expire_all()
    assert session.get(Submission, sub.id).status == "returned"


# --- the form machinery -------------------------------------------------------------------------


def test_a_domain_error_lands_on_the_field_it_names() -> None:
    from dashboard.components.forms import Field, Form

    form = Form(
        "t",
        [
            Field("code", "Code"),
            Field("baseline_value", "Baseline", "number"),
            Field("targets", "Targets", "grid"),
            Field("obligations", "Obligations", "multi"),
        ],
        aliases={"indicators": "obligations"},
        grids={"targets": None},
    )

    def place(field, message="bad", kind=data.InvalidInput):
        return form.place(kind(message, field=field))

    assert place("code") == ({"code": "bad"}, None)
    assert place("baseline.value") == ({"baseline_value": "bad"}, None)
    assert place("targets[2].period") == ({"targets": "row 3, period: bad"}, None)
    assert place("indicators[1]") == ({"obligations": "bad"}, None)
    assert place("reason") == ({}, "reason: bad")  # no such field: shown above the form
    assert place(None, kind=data.PermissionDenied) == ({}, None)  # the alert says it


def test_changes_are_summarised_as_a_person_reads_them() -> None:
    from dashboard.components.forms import summarise_change

    assert summarise_change(
        {
            "action": "update",
            "before": {"code": "race", "categories": [{"code": "black", "name": "Black"}]},
            "after": {
                "code": "race",
                "categories": [
                    {"code": "black", "name": "Black people"},
                    {"code": "other", "name": "Other"},
                ],
            },
        }
    ) == ("race", "categories: + other (Other), black: name Black → name Black people")
    assert summarise_change(
        {
            "action": "update",
            "before": {"code": "K", "baseline": {"value": 41.5, "period": "2025Q2"}},
            "after": {"code": "K", "baseline": None},
        }
    ) == ("K", "baseline: 41.5 (2025Q2) → —")
    assert summarise_change({"action": "lock", "after": {"key": "2025Q3"}}) == ("2025Q3", "locked")
    assert summarise_change(
        {"action": "delete", "before": {"organisation": "east", "period": "2025Q2"}}
    ) == ("east · 2025Q2", "deleted")
    assert summarise_change(
        {
            "action": "update",
            "before": {"indicator": "K", "period": "2025Q3", "note": "new test"},
            "after": {"indicator": "K", "period": "2025Q3", "note": "new state test"},
        }
    ) == ("K · 2025Q3", "note: new test → new state test")
    assert summarise_change(
        {"action": "create", "after": {"slug": "riverside", "name": "Riverside"}}
    ) == ("riverside", "created")
