"""The reporting page's lists and the review queue, now read from plain rows and sent as
prebuilt JSON, still show a period's partners to its backbone team only: another initiative's
backbone, a funder or a reporter learns no partner's name, status or flag from them, and an
initiative with no partner and no period answers without an error."""

from __future__ import annotations

import pytest

from models.access.permissions import actor_for_user
from models.reporting.validation import ValueInput

from .. import factories as f
from ..dash_calls import call, call_declared, log_in, response_of, text_of


def _reporting(client, initiative: str, period: str | None):
    return call(
        client,
        "..reporting-heatmap.figure",
        [("reporting-initiative", "value", initiative), ("reporting-period", "value", period)],
    )


def _queue(client, initiative: str, period: str | None):
    return call_declared(
        client,
        "..review-queue.options",
        {"review-initiative.value": initiative, "review-period.value": period},
        "review-initiative.value",
    )


@pytest.fixture
def flagged(session, world):
    """Eastside's 2025Q3 report submitted, its K_READY breakdown not adding up (a flag)."""
    world["east"].organisation.name = "Eastside Clinic"
    world["west"].organisation.name = "Westside Library"
    reporter = actor_for_user(session=session, user=world["users"]["reporter"])
    f.save_report(
        session,
        reporter,
        [
            ValueInput("SERVED", value=100),
            ValueInput("K_READY", numerator=45, denominator=90),
            ValueInput("K_READY", "race=black", numerator=20, denominator=50),
            ValueInput("K_READY", "race=white", numerator=20, denominator=40),
        ],
    )
    f.move_report(session, reporter, "submit")
    session.commit()
    return world


def test_the_backbone_sees_its_partners_in_the_lists_and_queue(client, flagged) -> None:
    log_in(client, flagged["users"]["backbone"])
    lists = response_of(_reporting(client, "c2c", "2025Q3"))["reporting-lists"]["children"]
    shown = str(lists)
    assert "Eastside Clinic" in shown and "sum_mismatch" in shown
    assert "Westside Library" in shown  # nothing reported: late or missing
    queue = response_of(_queue(client, "c2c", "2025Q3"))["review-queue"]["options"]
    assert "Eastside Clinic" in str(queue)


@pytest.mark.parametrize("role", ["outsider", "funder", "reporter"])
def test_others_learn_no_partner_from_the_lists_or_queue(client, flagged, role) -> None:
    log_in(client, flagged["users"][role])
    for answer in (_reporting(client, "c2c", "2025Q3"), _queue(client, "c2c", "2025Q3")):
        assert answer.status_code == 200, answer.text
        shown = text_of(answer)
        for leaked in ("Eastside Clinic", "Westside Library", "westside", "sum_mismatch"):
            assert leaked not in shown, (role, leaked)


def test_an_initiative_without_partners_or_periods_answers(client, world) -> None:
    """``outsider`` is the backbone team of ``other``: no member, no period, no report."""
    log_in(client, world["users"]["outsider"])
    for period in (None, "2025Q3"):
        for answer in (_reporting(client, "other", period), _queue(client, "other", period)):
            assert answer.status_code == 200, answer.text
            assert "Eastside" not in text_of(answer)
