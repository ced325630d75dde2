"""What the reporting page lists of each report of a period, its state and its flagged values
(stored flags and the warnings it has now), kept across requests per period under the
initiative's revisions (README, "Scale"; migrations 0023_setup_revision, 0027_report_stamps).

Every write of a report stamps it (``ReportStamp``) with the reports revision the write makes,
in its transaction. Under a newer reports revision only the period's reports stamped since are
read again and checked: after a partner's draft, one report, not two hundred. A report's history
warnings compare its totals with its partner's approved totals of earlier periods, so a report of
an earlier period stamped since (approved, reopened, corrected, moved or deleted) has the whole
period checked again, and so does a setup change (indicators and their rules, obligations,
periods, organisations: the setup revisions). The revisions are read before the rows, in the same
snapshot, so what is kept under them is never older than they name. Nothing read by a transaction
that has written is kept or taken. Kept for the backbone team's view only (every report of the
period); nothing in it depends on who asks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from models.analytics.views import Revisions
from models.core.actors import Actor
from models.core.settings import get_settings
from models.reporting.submissions import SubmissionView, period_submissions
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.reporting import Submission
from models.tables.revisions import ReportStamp

# (indicator, disaggregation, its flags sorted) of each flagged value, in the report's order.
Flagged = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ReportFlags:
    """One report as the reporting page lists it: its state and its flagged values."""

    status: str
    flagged: Flagged


def report_flags(view: SubmissionView) -> ReportFlags:
    """A report's stored flags and the warnings it has now, by value."""
    warned: dict[tuple[str, str], set[str]] = {}
    for w in view.warnings:
        warned.setdefault((w.indicator, w.disaggregation), set()).add(w.code)
    flagged = []
    for v in view.values:
        flags = set(v.flags) | warned.pop((v.indicator, v.disaggregation), set())
        if flags:
            flagged.append((v.indicator, v.disaggregation, tuple(sorted(flags))))
    return ReportFlags(view.status, tuple(flagged))


@dataclass(frozen=True)
class _Period:
    """A period's reports as of a reports revision and setup revisions (set whole)."""

    reports_revision: int
    setup: tuple[int, int]
    reports: Mapping[str, ReportFlags]  # by organisation slug
    # Whose each kept report was (submission id → organisation slug): a report stamped since
    # is taken out under the slug it was kept by, though it may be another partner's now.
    owners: Mapping[int, str]


class _Kept:
    """Each period's reports by (database, initiative, its creation time, period, the outlier
    settings), bounded: cleared when full."""

    LIMIT = 256

    def __init__(self) -> None:
        self._periods: dict[tuple[Any, ...], _Period] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Period | None:
        return self._periods.get(key)

    def keep(self, key: tuple[Any, ...], period: _Period) -> None:
        with self._lock:
            kept = self._periods.get(key)
            if kept is not None and kept.reports_revision > period.reports_revision:
                return  # a newer snapshot's, kept by a request that read after this one
            if len(self._periods) >= self.LIMIT and key not in self._periods:
                self._periods.clear()
            self._periods[key] = period

    def clear(self) -> None:
        with self._lock:
            self._periods.clear()


KEPT = _Kept()


@cache
def _statements() -> dict[str, Executable]:
    """Built once (bound parameters: ``initiative_id``, ``key``, ``starts_on``, ``since``)."""
    initiative_id: Any = bindparam("initiative_id")
    return {
        "period": select(Period.id, Period.starts_on).where(
            Period.initiative_id == initiative_id, Period.key == bindparam("key")
        ),
        # Whose each of the period's reports is (read with the whole period's reports).
        "owners": select(Submission.id, Organisation.slug)
        .join(Member, Member.id == Submission.member_id)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(
            Submission.initiative_id == initiative_id,
            Submission.period_id == bindparam("period_id"),
        ),
        # The reports stamped after a reports revision in the period or one starting earlier
        # (each period's stamps along their index), with where each report is now and whose
        # it is (NULL: deleted since).
        "stamped": select(
            ReportStamp.period_id,
            Period.starts_on,
            Submission.id.label("submission_id"),
            Submission.period_id.label("now_in"),
            Organisation.slug,
        )
        .select_from(ReportStamp)
        .join(
            Period,
            (Period.id == ReportStamp.period_id) & (Period.initiative_id == initiative_id),
        )
        .outerjoin(Submission, Submission.id == ReportStamp.submission_id)
        .outerjoin(Member, Member.id == Submission.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(
            ReportStamp.initiative_id == initiative_id,
            Period.starts_on <= bindparam("starts_on"),
            ReportStamp.stamp > bindparam("since"),
        ),
    }


def period_flags(
    *,
    session: Session,
    actor: Actor,
    initiative: Initiative,
    period_key: str,
    version: Revisions,
) -> Mapping[str, ReportFlags]:
    """Organisation slug → its report of the period as ``actor`` sees it (members without a
    report are left out; see ``period_submissions``). ``version``: the initiative's revisions,
    read in this snapshot before anything else (``models.analytics.views.revisions``). Kept
    and taken for the backbone team only, who see every report. The mapping may be shared:
    read it, never change it."""

    def read(submission_ids: list[int] | None = None) -> dict[str, ReportFlags]:
        return {
            view.organisation: report_flags(view)
            for view in period_submissions(
                session=session,
                actor=actor,
                initiative_slug=initiative.slug,
                period_key=period_key,
                messages=False,  # the page lists the flags' codes, not their sentences
                submission_ids=submission_ids,
            )
        }

    if version.busy or not actor.is_backbone(initiative.id):
        return read()
    statements = _statements()
    connection = session.connection()
    period = connection.execute(
        statements["period"], {"initiative_id": initiative.id, "key": period_key}
    ).one_or_none()
    if period is None:
        return read()  # raises NotFound, as period_submissions says it
    settings = get_settings()
    key = (
        str(session.get_bind().engine.url),
        initiative.id,
        version.created,
        period.id,
        (settings.outlier_z, settings.outlier_jump_pct, settings.outlier_min_history),
    )
    kept = KEPT.get(key)
    if kept is not None and kept.setup == version.setup:
        if kept.reports_revision == version.reports:
            return kept.reports
        if kept.reports_revision < version.reports:
            changed = _changed(connection, statements, initiative.id, period, kept)
            if changed is not None:
                slugs, now = changed
                reports = {s: r for s, r in kept.reports.items() if s not in slugs}
                reports.update(read(list(now)) if now else {})
                owners = {i: s for i, s in kept.owners.items() if s not in slugs} | now
                KEPT.keep(key, _Period(version.reports, version.setup, reports, owners))
                return reports
    # Whose each report is, read before the reports: a report handed over in between is
    # stamped after ``version``, so the next request takes it out under both slugs.
    owners = dict(
        connection.execute(
            statements["owners"], {"initiative_id": initiative.id, "period_id": period.id}
        ).all()
    )
    reports = read()
    KEPT.keep(key, _Period(version.reports, version.setup, reports, owners))
    return reports


def _changed(
    connection: Any,
    statements: dict[str, Executable],
    initiative_id: int,
    period: Any,
    kept: _Period,
) -> tuple[set[str], dict[int, str]] | None:
    """The organisations whose kept report of the period is stale: each report stamped since
    ``kept`` under the slug it was kept by and, for one still in the period, its partner's now;
    and those still in the period (id → its partner's slug now, to be read again). None when
    the whole period must be read again (an earlier period's report stamped since, or a report
    deleted since)."""
    rows = connection.execute(
        statements["stamped"],
        {
            "initiative_id": initiative_id,
            "starts_on": period.starts_on,
            "since": kept.reports_revision,
        },
    )
    slugs: set[str] = set()
    now: dict[int, str] = {}
    for row in rows:
        if row.period_id != period.id:
            if row.starts_on < period.starts_on:
                return None  # its partner's approved history may have changed
            continue  # a period starting the same day: no history of this one
        if row.submission_id is None:
            return None  # deleted: whose it was is not known here
        was = kept.owners.get(row.submission_id)
        if was is not None:
            slugs.add(was)  # handed to another partner since, or moved away: not its now
        if row.now_in == period.id:
            # Its partner now has no other report of the period (one report per member and
            # period), so whatever was kept under its slug goes too.
            slugs.add(row.slug)
            now[row.submission_id] = row.slug
    return slugs, now
