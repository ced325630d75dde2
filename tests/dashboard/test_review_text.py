"""The review page's sentences read as written: a report of one value says so, and a partner's
comment quoted with its own full stop gets no second one (seen in the journey test's
screenshots)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import dash
import pytest

from dashboard import data
from models.reporting.submissions import SubmissionView, ValueView
from models.reporting.versions import SentBack, VersionChanges

AT = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)


@pytest.fixture
def review(app):
    """The review page's module, as Dash registered it once its app exists."""
    [name] = [p["module"] for p in dash.page_registry.values() if p["path"] == "/reporting/review"]
    return sys.modules[name]


def _text(component) -> str:
    """What a reader reads: the strings of the component tree, in order."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(_text(c) for c in component)
    text = _text(getattr(component, "children", None))
    return f"“{text}”" if type(component).__name__ == "Q" else text  # as browsers quote it


def _returned(comment: str) -> VersionChanges:
    return VersionChanges(
        previous_at=AT,
        previous_version=2,
        sent_back=SentBack("return", AT, "user:backbone@demo.test", comment),
    )


@pytest.mark.parametrize(
    ("comment", "after"),
    [
        ("Please check the count.", "“Please check the count.” Since version 2"),
        ("Is this right?", "“Is this right?” Since version 2"),
        ("Please check the count", "“Please check the count”. Since version 2"),
    ],
)
def test_a_quoted_comment_keeps_its_own_full_stop(review, comment: str, after: str) -> None:
    assert after in _text(review.changes_summary(_returned(comment)))


def _submission(values: int) -> SubmissionView:
    return SubmissionView(
        initiative="c2c",
        organisation="westside",
        period="2026Q4",
        status="submitted",
        version=2,
        is_late=False,
        comment=None,
        submitted_at=AT,
        approved_at=None,
        updated_at=AT,
        values=[ValueView(n, f"IND{n}", "total", 5.0, None, None, None, []) for n in range(values)],
    )


@pytest.mark.parametrize(
    ("values", "said"), [(1, "1 value, 0 flagged"), (2, "2 values, 0 flagged")]
)
def test_the_report_header_counts_its_values(review, values: int, said: str) -> None:
    detail = data.ReviewDetail(submission=_submission(values), organisation_name="Westside")
    assert said in _text(review._detail(detail))
