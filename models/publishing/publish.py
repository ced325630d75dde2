"""Publication: the backbone makes a period's suppressed rollups public.

A publication is a vintage: the suppressed figures are frozen into its snapshot, so a later
correction changes nothing public until the period is published again, and each vintage stays
readable ("as published on …") with what the next one revised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.orm import Session

from models.access.permissions import get_initiative
from models.analytics.coverage import indicator_coverage
from models.analytics.disclosure import (
    PUBLIC,
    decide,
    figure_makers,
    flatten,
    rules_for,
    told_baselines,
)
from models.analytics.figures import Figure
from models.analytics.rollups import expected_reporters
from models.analytics.suppression import explain
from models.analytics.views import contribution_links
from models.core.actors import Actor
from models.core.errors import Conflict, NotFound
from models.core.formulas import neutralise
from models.core.i18n import gettext
from models.initiatives.translations import (
    ENGLISH,
    Localizer,
    frozen_translations,
    localizer,
    story_key,
    thawed,
)
from models.outbox.messages import enqueue, funders_and_backbone
from models.outbox.webhooks import announce
from models.stories.render import render_markdown
from models.stories.stories import stories_to_publish
from models.tables.access import User
from models.tables.audit import AuditEvent
from models.tables.base import utcnow
from models.tables.indicator import Dimension, Indicator, Obligation, Outcome, indicator_dimensions
from models.tables.initiative import Initiative, Member, Period
from models.tables.organisation import Organisation
from models.tables.publication import Publication
from models.tables.reporting import Submission

LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}


def public_figures(*, session: Session, initiative: Initiative, period: Period) -> dict[str, Any]:
    """The period's figures as the public may see them (``models.analytics.disclosure``, which keeps
    hidden whatever an earlier publication of the period hid): every indicator's total and its
    breakdowns. JSON-ready."""
    indicators = session.execute(
        select(Indicator, Outcome)
        .outerjoin(Outcome, Outcome.id == Indicator.outcome_id)
        .where(Indicator.initiative_id == initiative.id)
        .order_by(  # indicators with no outcome last, on every database
            Outcome.position.asc().nulls_last(), Outcome.code, Indicator.position, Indicator.code
        )
    ).all()
    dims: dict[int, list[Dimension]] = defaultdict(list)
    for indicator_id, dim in session.execute(
        select(indicator_dimensions.c.indicator_id, Dimension)
        .join(Dimension, Dimension.id == indicator_dimensions.c.dimension_id)
        .where(Dimension.initiative_id == initiative.id)
        .order_by(Dimension.position)
    ):
        dims[indicator_id].append(dim)
    views = decide(
        session=session,
        initiative=initiative,
        audience=PUBLIC,
        indicators=[i for i, _ in indicators],
        period_ids=[period.id],
        live=True,  # what this publication freezes
    )
    expected = expected_reporters(session=session, initiative_id=initiative.id)
    # A baseline goes public only where its period's figure does (README, Disclosure).
    told, _ = told_baselines(
        session=session,
        initiative=initiative,
        audience=PUBLIC,
        indicators=[i for i, _ in indicators],
        decided=views,
        gap_targets=False,
    )
    links = contribution_links(session, [i.id for i, _ in indicators])
    out = []
    for indicator, outcome in indicators:
        view = views.get((indicator.id, period.id))
        if view is None:
            continue
        breakdowns = []
        for d in dims[indicator.id]:
            categories = [
                {"key": key, "label": c.name, **_shown_json(view.cells[key])}
                for c in d.categories
                if (key := f"{d.code}={c.code}") in view.cells
            ]
            if categories:
                breakdowns.append(
                    {"dimension": d.code, "dimension_name": d.name, "categories": categories}
                )
        out.append(
            {
                "outcome": outcome.code if outcome else None,
                "outcome_name": outcome.name if outcome else None,
                "indicator": indicator.code,
                "name": indicator.name,
                "definition": indicator.definition,
                # Population indicator or partner performance measure (README, "Two kinds of
                # measure"): the public page groups them as the overview does.
                "kind": indicator.kind,
                "performance_type": indicator.performance_type,
                "contributes_to": links.get(indicator.id, []),
                "unit": indicator.unit,
                "measure_type": indicator.measure_type,
                "direction": indicator.direction,
                "decimals": indicator.decimals,
                "target": indicator.target_value,
                "baseline": indicator.baseline_value if indicator.id in told else None,
                # Too few partners to tell: the count would say whose figure it is.
                "contributors": view.contributors,
                "expected": expected[indicator.id],
                "total": _shown_json(view.total),
                "breakdowns": breakdowns,
            }
        )
    return {
        "initiative": initiative.slug,
        "initiative_name": initiative.name,
        "period": period.key,
        "threshold": initiative.suppression_threshold,
        "legend": rules_for(initiative).legend(),
        "indicators": out,
    }


# The database sums floating-point values in no fixed order, so two readings of the same data
# can differ in the last binary digit of an average. A vintage freezes figures to this many
# significant digits (far beyond any indicator's decimals), so that publishing unchanged data
# again revises nothing and the same data always freezes the same snapshot.
SIGNIFICANT_DIGITS = 10


def settled(value: float | None) -> float | None:
    """A figure as a vintage freezes it: see :data:`SIGNIFICANT_DIGITS`."""
    if value is None or isinstance(value, int):
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _shown_json(s: Figure) -> dict[str, Any]:
    return {"value": settled(s.value), "n": s.n, "marker": s.marker, "reason": s.reason}


@dataclass(frozen=True)
class Vintage:
    id: int
    period: str
    published_at: datetime
    note: str | None
    revised: list[str]  # indicator keys whose public figures differ from the previous vintage


@dataclass(frozen=True)
class ReportState:
    """A partner expected to report the period, and where its report stands."""

    organisation: str  # slug
    name: str
    status: str  # a submission status, or ``missing``


def _reports(session: Session, initiative: Initiative, period: Period) -> list[ReportState]:
    """Every active member obliged to report, with its report's status for the period
    (``missing`` when it has none): what a publication of the period is made of."""
    obliged = exists(select(Obligation.id).where(Obligation.member_id == Member.id))
    rows = session.execute(
        select(Organisation.slug, Organisation.name, Submission.status)
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(
            Submission,
            and_(Submission.member_id == Member.id, Submission.period_id == period.id),
        )
        .where(Member.initiative_id == initiative.id, Member.active, obliged)
        .order_by(Organisation.slug)
    ).all()
    return [ReportState(slug, name, status or "missing") for slug, name, status in rows]


@dataclass(frozen=True)
class _Assessment:
    """What publishing a period now would freeze, and what it would need confirmed."""

    snapshot: dict[str, Any]  # public_figures: the figures the public would see
    reports: list[ReportState]
    incomplete: list[dict[str, Any]]  # {"indicator", "reported", "expected"}
    complete: dict[str, bool]  # indicator code → its coverage is complete
    stories: dict[str, dict[str, Any]]  # indicator code → the story a vintage would carry

    @property
    def pending(self) -> list[ReportState]:
        return [r for r in self.reports if r.status != "approved"]

    @property
    def fingerprint(self) -> str:
        """Names what a preview of this moment showed (figures, coverage and the stories'
        versions), so that publishing can check it is still what the publisher saw."""
        versions = {code: story["version"] for code, story in self.stories.items()}
        body = json.dumps([self.snapshot, self.coverage, versions], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def coverage(self) -> dict[str, Any]:
        """The coverage a vintage records: never the share (with the total, it would give a
        missing partner's size away)."""
        return {
            "approved": len(self.reports) - len(self.pending),
            "expected": len(self.reports),
            "indicators": [
                {"indicator": code, "complete": done} for code, done in self.complete.items()
            ],
        }


def _assess(session: Session, initiative: Initiative, period: Period) -> _Assessment:
    """The one reading of a period that both :func:`publish` and :func:`preview` make, so the
    preview shows exactly the decision the publication would freeze."""
    snapshot = public_figures(session=session, initiative=initiative, period=period)
    published = [i["indicator"] for i in snapshot["indicators"]]
    ids = dict(
        session.execute(
            select(Indicator.code, Indicator.id).where(
                Indicator.initiative_id == initiative.id, Indicator.code.in_(published)
            )
        ).all()
    )
    coverage = indicator_coverage(
        session=session, initiative=initiative, period=period, indicator_ids=list(ids.values())
    )
    incomplete = [
        {
            "indicator": code,
            "reported": coverage[ids[code]].reported,
            "expected": coverage[ids[code]].expected,
        }
        for code in published
        if not coverage[ids[code]].complete
    ]
    return _Assessment(
        snapshot=snapshot,
        reports=_reports(session, initiative, period),
        incomplete=incomplete,
        complete={code: coverage[ids[code]].complete for code in published},
        stories=stories_to_publish(
            session=session, initiative_id=initiative.id, period_id=period.id
        ),
    )


def _period(session: Session, initiative: Initiative, period_key: str) -> Period:
    period = session.scalar(
        select(Period).where(Period.initiative_id == initiative.id, Period.key == period_key)
    )
    if period is None:
        raise NotFound(gettext("no period %(period_key)r", period_key=period_key), field="period")
    return period


def publish(
    *,
    session: Session,
    actor: Actor,
    initiative_slug: str,
    period_key: str,
    note: str | None = None,
    confirm_incomplete: bool = False,
    previewed: str | None = None,
    notify: bool = True,
) -> Vintage:
    """Freeze the period's public figures into a new vintage (backbone).

    A period whose reports are not all approved, or one of whose published indicators has
    incomplete coverage (``models.analytics.coverage``: fewer partners than expected, standing for less
    than ``CM_COVERAGE_MIN_SHARE`` of their usual size), is published only with
    ``confirm_incomplete``: otherwise the answer (409) lists the reports still missing or under
    way and the incomplete indicators, so nobody publishes half a quarter by accident. The
    vintage records its coverage either way: the partners' reports approved of those expected,
    and per indicator whether it is complete (never the share, which with the total would give
    a missing partner's size away).

    ``previewed`` is the :attr:`Preview.fingerprint` of the preview the publisher checked: when
    the figures have moved since (a report approved or corrected meanwhile), the answer is 409
    ``preview_outdated`` and nothing is published, so what is published is what was seen.

    With ``notify`` (the default) the initiative's funders and backbone staff are told, in the
    same transaction; the demo's history is published without telling anyone.
    """
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    period = _period(session, initiative, period_key)
    assessed = _assess(session, initiative, period)
    if previewed is not None and previewed != assessed.fingerprint:
        raise Conflict(
            gettext(
                "the figures or stories of %(period_key)s changed since the preview was "
                "shown (a report was approved or corrected, or a story edited, "
                "meanwhile); check the preview again, then publish",
                period_key=period_key,
            ),
            code="preview_outdated",
            field="previewed",
        )
    snapshot = assessed.snapshot
    # Who made each figure shown (never served): a later moment hides a figure that the
    # partners reporting since would be the difference of (models.analytics.disclosure).
    snapshot["makers"] = figure_makers(
        session=session,
        initiative=initiative,
        period=period,
        shown=[k for k, f in flatten(snapshot).items() if f.get("value") is not None],
    )
    if not snapshot["indicators"]:
        raise Conflict(
            gettext("%(period_key)s has no approved data to publish", period_key=period_key),
            code="nothing_to_publish",
        )
    pending = [{"organisation": r.organisation, "status": r.status} for r in assessed.pending]
    incomplete = assessed.incomplete
    if (pending or incomplete) and not confirm_incomplete:
        reasons = []
        if pending:
            reasons.append(
                gettext(
                    "%(pending)s of %(reports)s partners' reports for %(period)s are not approved",
                    pending=len(pending),
                    reports=len(assessed.reports),
                    period=period_key,
                )
            )
        if incomplete:
            codes = ", ".join(i["indicator"] for i in incomplete)
            reasons.append(
                gettext(
                    "the coverage of %(codes)s in %(period)s is incomplete (too few of the "
                    "expected partners reported)",
                    codes=codes,
                    period=period_key,
                )
            )
        raise Conflict(
            gettext(
                "%(reasons)s; send confirm_incomplete: true to publish what is approved",
                reasons="; ".join(reasons),
            ),
            code="incomplete_period",
            field="confirm_incomplete",
            extra={"reports": pending, "indicators": incomplete},
        )
    snapshot["coverage"] = assessed.coverage
    # The stories behind the curves as they stand now: the vintage carries them, so a later
    # edit stays unpublished until the period is published again (models/stories).
    snapshot["stories"] = assessed.stories
    # And the translations of the names, definitions and stories it shows, as they stand now:
    # the public reads them in its language until the period is published again (README,
    # "Languages").
    snapshot["translations"] = frozen_translations(
        session=session, initiative_id=initiative.id, snapshot=snapshot
    )
    previous = _latest(session, initiative.id, period.id)
    publication = Publication(
        initiative_id=initiative.id,
        period_id=period.id,
        published_by_id=actor.user_id,
        note=(note or "").strip() or None,
        snapshot=snapshot,
        published_at=utcnow(),
    )
    session.add(publication)
    session.flush()
    revised = _revised(previous.snapshot if previous else None, snapshot)
    session.execute(
        insert(AuditEvent),
        [
            {
                "actor_user_id": actor.user_id,
                "actor_label": actor.label,
                "initiative_id": initiative.id,
                "entity_type": "publication",
                "entity_id": publication.id,
                "action": "publish",
                "after": {
                    "period": period.key,
                    "revised": revised,
                    "coverage": snapshot["coverage"],
                    "not_approved": pending,
                    "incomplete": incomplete,
                    "stories": {c: s["version"] for c, s in snapshot["stories"].items()},
                },
                "reason": publication.note,
            }
        ],
    )
    if notify:
        # Funders and the backbone team hear of it, in this transaction (models/outbox).
        enqueue(
            session=session,
            kind="period_published",
            event=f"period_published:{publication.id}",
            recipients=funders_and_backbone(session=session, initiative_id=initiative.id),
            payload={
                "initiative": initiative.slug,
                "initiative_name": initiative.name,
                "period": period.key,
                "note": publication.note,
                "revised": len(revised),
                "coverage": {k: snapshot["coverage"].get(k) for k in ("approved", "expected")},
                "by": actor.shown,
            },
            initiative_id=initiative.id,
            exclude=[actor.user_id],
        )
        # And the initiative's webhooks: which vintage, and where to read it (README, "Webhooks").
        announce(
            session=session,
            kind="period_published",
            event=f"period_published:{publication.id}",
            initiative_id=initiative.id,
            data={
                "initiative": initiative.slug,
                "initiative_name": initiative.name,
                "period": period.key,
                "publication": publication.id,
                "vintage": _vintage_number(session, publication),
                "published_at": publication.published_at.isoformat(),
                "note": publication.note,
            },
        )
    return Vintage(publication.id, period.key, publication.published_at, publication.note, revised)


def _vintage_number(session: Session, publication: Publication) -> int:
    """The publication's place among its period's vintages: 1 for the first."""
    return int(
        session.scalar(
            select(func.count()).where(
                Publication.initiative_id == publication.initiative_id,
                Publication.period_id == publication.period_id,
                Publication.id <= publication.id,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class FigureChange:
    """One public figure that differs between two moments (two vintages, or the latest vintage
    and what publishing now would freeze): as the public saw it before, and sees it after."""

    key: str  # "CODE total", "CODE sex=f"
    indicator: str
    indicator_name: str
    group: str  # "All", or "Sex: Female"
    before: dict[str, Any] | None  # {value, n, marker}; None: the figure was not published
    after: dict[str, Any] | None  # None: no longer published


def _labels(snapshot: dict[str, Any] | None) -> dict[str, tuple[str, str, str]]:
    """Figure key → (indicator code, indicator name, group label), as a snapshot names them."""
    out: dict[str, tuple[str, str, str]] = {}
    for ind in (snapshot or {}).get("indicators") or []:
        code, name = ind["indicator"], ind.get("name") or ind["indicator"]
        out[f"{code} total"] = (code, name, "All")
        for b in ind.get("breakdowns") or []:
            for c in b["categories"]:
                group = f"{b.get('dimension_name') or b['dimension']}: {c.get('label') or c['key']}"
                out[f"{code} {c['key']}"] = (code, name, group)
    return out


def _changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FigureChange]:
    """The figures :func:`_revised` names, with what the public saw of each, in the order the
    snapshots list them."""
    a, b = flatten(before), flatten(after)
    labels = {**_labels(before), **_labels(after)}
    order = {key: n for n, key in enumerate(labels)}
    keys = sorted(_revised(before, after), key=lambda k: order.get(k, len(order)))
    out = []
    for key in keys:
        code, name, group = labels.get(key, (key.split(" ", 1)[0], key, key))
        out.append(FigureChange(key, code, name, group, a.get(key), b.get(key)))
    return out


@dataclass(frozen=True)
class Preview:
    """What publishing a period now would do, for the backbone team to check first."""

    initiative: str
    period: str
    figures: dict[str, Any]  # exactly what the public would see (public_figures)
    reports: list[ReportState]  # every partner expected to report, with its report's status
    incomplete: list[dict[str, Any]]  # as the 409 lists them: indicator, reported, expected
    coverage: dict[str, Any]  # as the vintage would record it
    changes: list[FigureChange]  # public figures that differ from the latest vintage
    vintages: int  # the period's publications so far
    fingerprint: str  # what this preview showed: pass it to publish(previewed=…)
    stories: dict[str, int]  # indicator code → the version of its story the vintage would carry

    @property
    def pending(self) -> list[ReportState]:
        """Reports missing or not yet approved: what the 409 ``incomplete_period`` lists."""
        return [r for r in self.reports if r.status != "approved"]

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.pending or self.incomplete)

    @property
    def nothing_to_publish(self) -> bool:
        return not self.figures["indicators"]


def preview(*, session: Session, actor: Actor, initiative_slug: str, period_key: str) -> Preview:
    """What :func:`publish` would freeze for the period now, and what it would ask to confirm
    (backbone only: these are the live figures decided for the public, which nobody below
    the backbone team may see before they are published)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    period = _period(session, initiative, period_key)
    assessed = _assess(session, initiative, period)
    previous = _latest(session, initiative.id, period.id)
    count = session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.initiative_id == initiative.id, Publication.period_id == period.id)
    )
    return Preview(
        initiative=initiative.slug,
        period=period.key,
        figures=assessed.snapshot,
        reports=assessed.reports,
        incomplete=assessed.incomplete,
        coverage=assessed.coverage,
        changes=_changes(previous.snapshot, assessed.snapshot) if previous else [],
        vintages=count or 0,
        fingerprint=assessed.fingerprint,
        stories={code: story["version"] for code, story in assessed.stories.items()},
    )


@dataclass(frozen=True)
class VintageDetail:
    """One publication of a period as the backbone team reads it back."""

    id: int
    number: int  # 1 for the first publication of the period
    published_at: datetime
    published_by: str | None  # the e-mail of who published it; None when unknown
    note: str | None
    coverage: dict[str, Any] | None  # as recorded (older vintages did not)
    changes: list[FigureChange]  # since the previous vintage; empty for the first


def publication_history(
    *, session: Session, actor: Actor, initiative_slug: str, period_key: str
) -> list[VintageDetail]:
    """Every publication of a period, oldest first, with who published it and each public
    figure it revised (backbone: it names the staff who published)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug, manage=True)
    period = _period(session, initiative, period_key)
    rows = session.execute(
        select(Publication, User.email)
        .outerjoin(User, User.id == Publication.published_by_id)
        .where(Publication.initiative_id == initiative.id, Publication.period_id == period.id)
        .order_by(Publication.published_at, Publication.id)
    ).all()
    out: list[VintageDetail] = []
    previous: dict[str, Any] | None = None
    for number, (pub, email) in enumerate(rows, start=1):
        out.append(
            VintageDetail(
                id=pub.id,
                number=number,
                published_at=pub.published_at,
                published_by=email,
                note=pub.note,
                coverage=pub.snapshot.get("coverage"),
                changes=_changes(previous, pub.snapshot) if previous is not None else [],
            )
        )
        previous = pub.snapshot
    return out


def _latest(session: Session, initiative_id: int, period_id: int) -> Publication | None:
    return session.scalar(
        select(Publication)
        .where(Publication.initiative_id == initiative_id, Publication.period_id == period_id)
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .limit(1)
    )


def _revised(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    a, b = _settled_flat(before), _settled_flat(after)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def _settled_flat(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the public learns of each figure, keyed as in ``flatten``: its settled value (a
    vintage frozen before values were settled equals its settled self) and count, or that it is
    hidden. Why a hidden figure is hidden may change between vintages (first hidden so that it
    cannot be worked out, then kept hidden because an earlier vintage hid it) without revising
    anything the public can read."""
    out = {}
    for key, f in flatten(snapshot).items():
        value = settled(f.get("value"))
        out[key] = (value, f.get("n"), f.get("marker") if value is not None else "hidden")
    return out


def _public_initiative(session: Session, slug: str) -> Initiative:
    """Any initiative with at least one publication; others do not exist for the public."""
    initiative = session.scalar(select(Initiative).where(Initiative.slug == slug))
    if initiative is None or not session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.initiative_id == initiative.id)
    ):
        raise NotFound(gettext("no published initiative %(slug)r", slug=slug), field="slug")
    return initiative


def _legend_of(snapshots: list[dict[str, Any]], current: dict[str, str]) -> dict[str, str]:
    """The markers the published figures carry, each explained: a legend true for every
    marker shown and listing none that is not (the public never sees "not yet published"; an
    older vintage may carry a marker today's settings no longer make, such as "<3 partners")."""
    used: set[str] = set()
    for snapshot in snapshots:
        for ind in snapshot["indicators"]:
            used.add(ind["total"]["marker"])
            for b in ind["breakdowns"]:
                used.update(c["marker"] for c in b["categories"])
    used.discard(None)
    ordered = [m for m in current if m in used] + sorted(used - current.keys())
    return {m: current.get(m) or explain(m) for m in ordered}


def public_summary(
    *, session: Session, initiative_slug: str, locale: str | None = None
) -> dict[str, Any]:
    """The latest vintage of every published period, oldest period first. No login needed.

    In ``locale`` (the reader's, by default): the names, definitions and stories as each
    vintage froze their translations (an older vintage, which froze none, shows the English),
    the initiative's own name and description as translated now (README, "Languages")."""
    initiative = _public_initiative(session, initiative_slug)
    rows = session.execute(
        select(Publication, Period)
        .join(Period, Period.id == Publication.period_id)
        .where(Publication.initiative_id == initiative.id)
        .order_by(Period.starts_on, Publication.published_at, Publication.id)
    ).all()
    latest: dict[int, tuple[Publication, Period, int]] = {}
    for pub, period in rows:
        count = latest[period.id][2] + 1 if period.id in latest else 1
        latest[period.id] = (pub, period, count)
    live = localizer(session=session, initiative_id=initiative.id, locale=locale)
    return {
        "initiative": initiative.slug,
        "initiative_name": live.name("initiative", initiative.slug, initiative.name),
        "description": live.text(
            "initiative", initiative.slug, "description", initiative.description or ""
        )
        or None,
        "region": initiative.region,
        "threshold": initiative.suppression_threshold,
        "legend": _legend_of(
            [pub.snapshot for pub, _, _ in latest.values()], rules_for(initiative).legend()
        ),
        "periods": [
            {
                "period": period.key,
                "published_at": pub.published_at,
                "note": pub.note,
                "vintage": count,
                "coverage": pub.snapshot.get("coverage"),
                "indicators": _localized_indicators(
                    pub.snapshot["indicators"], thawed(pub.snapshot, live.locale)
                ),
                "stories": _carried_stories(pub.snapshot, thawed(pub.snapshot, live.locale)),
            }
            for pub, period, count in latest.values()
        ],
    }


def _localized_indicators(
    indicators: list[dict[str, Any]], frozen: Localizer
) -> list[dict[str, Any]]:
    """A vintage's indicators with the names, definitions and units it froze in the reader's
    language (the snapshot itself is left as it is)."""
    if not frozen.texts:
        return indicators
    out = []
    for ind in indicators:
        code = ind["indicator"]
        out.append(
            {
                **ind,
                "name": frozen.name("indicator", code, ind["name"]),
                "definition": frozen.text("indicator", code, "definition", ind["definition"] or "")
                or ind["definition"],
                "unit": frozen.text("indicator", code, "unit", ind["unit"]),
                "outcome_name": frozen.name("outcome", ind["outcome"], ind["outcome_name"] or "")
                or ind["outcome_name"],
                "breakdowns": [
                    {
                        **b,
                        "dimension_name": frozen.name(
                            "dimension", b["dimension"], b["dimension_name"]
                        ),
                        "categories": [
                            {**c, "label": frozen.name("category", c["key"], c["label"])}
                            for c in b["categories"]
                        ],
                    }
                    for b in ind["breakdowns"]
                ],
            }
        )
    return out


def _carried_stories(snapshot: dict[str, Any], frozen: Localizer = ENGLISH) -> list[dict[str, Any]]:
    """The stories a vintage carries, by indicator code, with their safe HTML (older vintages
    carried none), in the language of ``frozen`` where the vintage froze a translation."""
    period = snapshot.get("period")
    out = []
    for code, story in sorted((snapshot.get("stories") or {}).items()):
        text = frozen.text("story", story_key(code, str(period)), "text", story["text"])
        out.append(
            {
                "indicator": code,
                "version": story["version"],
                "text": text,
                "html": render_markdown(text),
            }
        )
    return out


def vintages(
    *, session: Session, actor: Actor, initiative_slug: str, period_key: str
) -> list[Vintage]:
    """Every publication of a period, oldest first, with what each revised (backbone, funder)."""
    initiative = get_initiative(session=session, actor=actor, slug=initiative_slug)
    pubs = session.scalars(
        select(Publication)
        .join(Period, Period.id == Publication.period_id)
        .where(Publication.initiative_id == initiative.id, Period.key == period_key)
        .order_by(Publication.published_at, Publication.id)
    ).all()
    out, previous = [], None
    for p in pubs:
        out.append(
            Vintage(p.id, period_key, p.published_at, p.note, _revised(previous, p.snapshot))
        )
        previous = p.snapshot
    return out


# --- open data ------------------------------------------------------------------------------

FIELDS = [
    ("period", "string", "Reporting period, e.g. 2025Q3"),
    ("outcome", "string", "Outcome area code"),
    ("indicator", "string", "Indicator code"),
    ("indicator_name", "string", "Indicator name"),
    (
        "kind",
        "string",
        (
            "population (how the whole community is doing) or performance (a partner "
            "programme's measure)"
        ),
    ),
    (
        "performance_type",
        "string",
        (
            "For a performance measure: how_much (did we do), how_well (did we do it) or "
            "better_off (is anyone); empty for a population indicator"
        ),
    ),
    (
        "contributes_to",
        "string",
        (
            "For a performance measure: the population indicators it contributes to "
            "(contribution, not attribution), separated by spaces"
        ),
    ),
    ("unit", "string", "Unit of the value"),
    ("dimension", "string", "Disaggregation dimension, or 'total'"),
    ("category", "string", "Category of the dimension, or 'total'"),
    ("value", "number", "The published value; empty when suppressed"),
    ("n", "number", "People (or cases) the value is based on; empty when suppressed"),
    ("marker", "string", "Why a value is missing: see the legend in the package description"),
    ("published_at", "datetime", "When this period was published"),
    (
        "complete",
        "boolean",
        (
            "Whether the indicator's figure was complete when published: every expected "
            "partner reported, or those that did stood for enough of the partners' usual size; "
            "empty when the publication did not record it"
        ),
    ),
]
COVERAGE_FIELDS = [
    ("period", "string", "Reporting period, e.g. 2025Q3"),
    ("published_at", "datetime", "When this period was published"),
    ("partners_approved", "integer", "Partners whose reports for the period were approved"),
    ("partners_expected", "integer", "Active partners obliged to report in the period"),
    (
        "incomplete_indicators",
        "string",
        "Indicators whose figure was incomplete when published, separated by spaces",
    ),
]
STORY_FIELDS = [
    ("period", "string", "Reporting period, e.g. 2025Q3"),
    ("indicator", "string", "Indicator code"),
    ("version", "integer", "The story's version, as published"),
    ("published_at", "datetime", "When this period was published"),
    ("story", "string", "The story behind the curve, in Markdown, as published"),
]


def datapackage(*, session: Session, initiative_slug: str) -> bytes:
    """The published, suppressed rollups as a Frictionless Data Package (a zip); its CSV's text
    cells are neutralised like every export's, as open data is opened in spreadsheets."""
    # Open data keeps the English the figures were defined in, whoever downloads it.
    summary = public_summary(session=session, initiative_slug=initiative_slug, locale="en")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _, _ in FIELDS])
    coverage = io.StringIO()
    coverage_writer = csv.writer(coverage, lineterminator="\n")
    coverage_writer.writerow([name for name, _, _ in COVERAGE_FIELDS])
    stories = io.StringIO()
    stories_writer = csv.writer(stories, lineterminator="\n")
    stories_writer.writerow([name for name, _, _ in STORY_FIELDS])
    covered = []
    for p in summary["periods"]:
        published = p["published_at"].isoformat().replace("+00:00", "Z")
        for story in p["stories"]:
            stories_writer.writerow(
                [
                    neutralise(p["period"]),
                    neutralise(story["indicator"]),
                    story["version"],
                    published,
                    neutralise(story["text"]),
                ]
            )
        recorded = p.get("coverage") or {}
        complete = {c["indicator"]: c["complete"] for c in recorded.get("indicators") or []}
        incomplete = [code for code, ok in complete.items() if not ok]
        if recorded:
            coverage_writer.writerow(
                [
                    neutralise(p["period"]),
                    published,
                    recorded["approved"],
                    recorded["expected"],
                    neutralise(" ".join(incomplete)) or "",
                ]
            )
            covered.append(_coverage_sentence(p["period"], recorded, incomplete))
        for ind in p["indicators"]:
            common = [
                neutralise(text) or ""
                for text in (
                    p["period"],
                    ind["outcome"],
                    ind["indicator"],
                    ind["name"],
                    # Vintages frozen before kinds existed hold population indicators only.
                    ind.get("kind") or "population",
                    ind.get("performance_type"),
                    " ".join(ind.get("contributes_to") or []),
                    ind["unit"],
                )
            ]
            flag = complete.get(ind["indicator"])
            done = "" if flag is None else str(flag).lower()
            t = ind["total"]
            writer.writerow(
                [
                    *common,
                    "total",
                    "total",
                    _num(t["value"]),
                    _num(t["n"]),
                    neutralise(t["marker"]) or "",
                    published,
                    done,
                ]
            )
            for b in ind["breakdowns"]:
                for c in b["categories"]:
                    writer.writerow(
                        [
                            *common,
                            neutralise(b["dimension"]),
                            neutralise(c["key"].split("=", 1)[1]),
                            _num(c["value"]),
                            _num(c["n"]),
                            neutralise(c["marker"]) or "",
                            published,
                            done,
                        ]
                    )
    markers = "; ".join(f"{k}: {v}" for k, v in summary["legend"].items())
    made = max((p["published_at"] for p in summary["periods"]), default=None)
    descriptor = {
        "name": f"common-measure-{summary['initiative']}",
        "title": f"{summary['initiative_name']}: published indicators",
        "description": (
            f"Published, privacy-protected figures of {summary['initiative_name']}. Numbers "
            f"based on fewer than {summary['threshold']} people are suppressed. Markers: {markers}. "
            "Coverage (what each period is made of, also in coverage.csv): "
            + ("; ".join(covered) if covered else "not recorded")
            + "."
        ),
        "licenses": [LICENCE],
        "sources": [{"title": f"{summary['initiative_name']} partners, via Common Measure"}],
        **({"created": _stamp(made).isoformat().replace("+00:00", "Z")} if made else {}),
        "resources": [
            {
                "name": "indicators",
                "path": "indicators.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "licenses": [LICENCE],
                "sources": [{"title": f"{summary['initiative_name']} partners"}],
                "schema": {
                    "fields": [{"name": n, "type": t, "description": d} for n, t, d in FIELDS],
                    "missingValues": [""],
                    "primaryKey": ["period", "indicator", "dimension", "category"],
                },
            },
            {
                "name": "coverage",
                "path": "coverage.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": "Each published period's coverage: how many of the partners "
                "expected to report had their reports approved, and which indicators were "
                "incomplete when published.",
                "licenses": [LICENCE],
                "sources": [{"title": f"{summary['initiative_name']} partners"}],
                "schema": {
                    "fields": [
                        {"name": n, "type": t, "description": d} for n, t, d in COVERAGE_FIELDS
                    ],
                    "missingValues": [""],
                    "primaryKey": ["period"],
                },
            },
            {
                "name": "stories",
                "path": "stories.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": "The story behind each curve, as each period's latest "
                "publication carried it: the backbone team's narrative of what is happening, "
                "why, and the partners with a role to play (Markdown).",
                "licenses": [LICENCE],
                "sources": [{"title": f"{summary['initiative_name']} backbone team"}],
                "schema": {
                    "fields": [
                        {"name": n, "type": t, "description": d} for n, t, d in STORY_FIELDS
                    ],
                    "missingValues": [""],
                    "primaryKey": ["period", "indicator"],
                },
            },
        ],
    }
    # Dated by its newest publication, not by the request: the same publications make the
    # same bytes, so the package's ETag holds until something is published again.
    moment = (_stamp(made) if made else datetime(1980, 1, 1, tzinfo=UTC)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (
            ("datapackage.json", json.dumps(descriptor, indent=2)),
            ("indicators.csv", buffer.getvalue()),
            ("coverage.csv", coverage.getvalue()),
            ("stories.csv", stories.getvalue()),
        ):
            z.writestr(zipfile.ZipInfo(name, date_time=moment), text, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _stamp(moment: datetime) -> datetime:
    """A publication's time in UTC, to the second (a database may hand it back naive)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _coverage_sentence(period: str, coverage: dict[str, Any], incomplete: list[str]) -> str:
    text = f"{period} approved reports of {coverage['approved']} of {coverage['expected']} partners"
    if incomplete:
        text += f", incomplete indicators {', '.join(incomplete)}"
    return text


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else repr(round(float(v), 6))
