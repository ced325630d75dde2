"""Reporting progress of a period, for the backbone team: who has reported what, who is late or
missing, and which values are flagged for a second look.

One call answers the whole reporting page in a fixed number of queries, however many partners
and indicators the initiative has: the completeness grid (``models.analytics.views``) and every
submission of the period read together (``period_submissions``), never one member at a time;
each report's flags are kept under the initiative's revisions (``models.reporting.flagged``), so
after a partner's write only that report is read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.analytics.views import Completeness, CompletenessCell, completeness, revisions
from models.core.actors import Actor
from models.reporting.flagged import period_flags
from models.reporting.submissions import NOT_STARTED

UNFINISHED = (NOT_STARTED, "draft", "returned")


@dataclass
class ReportingProgress:
    completeness: Completeness
    # organisation, name, status, late ("late" or ""), missing (indicator codes, comma-separated)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    # organisation, name, indicator, disaggregation, flags (sorted), status
    flagged: list[dict[str, Any]] = field(default_factory=list)


def reporting_progress(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period_key: str | None = None,
    today: date | None = None,
) -> ReportingProgress:
    """The period's completeness (its latest with submissions when ``period_key`` is None),
    the members that are late, missing something or not finished, and every value that is
    flagged: stored flags and the warnings its submission has now. Backbone only (others get
    PermissionDenied, or NotFound for an initiative they may not see)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    # Read first, in this snapshot: what completeness and the kept reports are versioned by.
    version = revisions(session=session, actor=actor, initiative_slug=initiative_slug)
    grid = completeness(
        session=session,
        actor=actor,
        initiative_slug=initiative_slug,
        period_key=period_key,
        today=today,
        version=version,
    )
    views = period_flags(
        session=session, actor=actor, initiative=initiative, period_key=grid.period, version=version
    )
    cells_of: dict[str, list[CompletenessCell]] = {}
    for cell in grid.cells:
        cells_of.setdefault(cell.organisation, []).append(cell)
    progress = ReportingProgress(grid)
    for slug, name in grid.members:
        cells = cells_of.get(slug)
        if not cells:
            continue  # a member with nothing to report (e.g. a funder)
        view = views.get(slug)
        missing = [c.indicator for c in cells if not c.reported]
        late = any(c.late for c in cells)
        status = view.status if view else NOT_STARTED
        if late or missing or status in UNFINISHED:
            progress.submissions.append(
                {
                    "organisation": slug,
                    "name": name,
                    "status": status,
                    "late": "late" if late else "",
                    "missing": ", ".join(missing),
                }
            )
        if view is None:
            continue
        progress.flagged.extend(
            {
                "organisation": slug,
                "name": name,
                "indicator": indicator,
                "disaggregation": disaggregation,
                "flags": list(flags),
                "status": view.status,
            }
            for indicator, disaggregation, flags in view.flagged
        )
    return progress
