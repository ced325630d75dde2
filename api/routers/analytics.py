"""Scorecard, series, equity and completeness: what the dashboards and funders read.

Figures below backbone level arrive suppressed (`marker` says why a value is missing). They are
read from the read replica when one is configured, the data version with them in one snapshot
(architecture: Scale).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from api.compression import COMPRESS_FROM, VARY, accepts_gzip, gzipped
from api.deps import CredentialsDep, acting, in_one_trip
from api.figure_json import cross_tab, equity_json, scorecard_json, series_json
from api.response_cache import ResponseCache
from api.schemas.analytics import (
    CompletenessRead,
    EquityRead,
    ScorecardRead,
    ScorecardRowRead,
    SeriesRead,
)
from api.schemas.common import ErrorRead
from models.access.api_keys import kept_key_actor
from models.analytics.fresh import answer_key, answer_key_alone
from models.analytics.views import (
    CompletenessCell,
    DataVersion,
    RowKey,
    VersionRead,
    check_completeness_viewer,
    completeness,
    data_version,
    equity,
    read_revisions_first,
    read_version_first,
    revisions,
    revisions_alone,
    scorecard,
    series,
    version_alone,
)
from models.core import dates, i18n
from models.core.errors import PermissionDenied
from models.core.i18n import current_locale

router = APIRouter(prefix="/initiatives/{slug}", tags=["analytics"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}
PeriodKey = Annotated[str | None, Query(max_length=16, examples=["2026Q3"])]


def _conditional(
    request: Request, session, actor, slug: str, build, *, figures_only: bool = True, version=None
) -> Response | None:
    """Answer 304 when the client's validators still describe the answer; else the answer,
    from the response cache when the same viewer asked the same question of the same data
    on the same day.

    An answer depends on the data's version, the viewer's grants, the view's own query
    parameters and the day (lateness, default periods); the ETag and the cache key are made of
    exactly those. ``Last-Modified`` is the data's time, or the start of the day when that is
    later. A dashboard polling a view that has not changed costs three indexed queries and no
    body. A 304 is only ever given for an answer this viewer received: an ETag cannot match
    otherwise, and If-Modified-Since is honoured only when this process has the viewer's answer
    cached (so a 403 or 404 is never turned into a 304).

    The figure views (``figures_only``) are versioned by the events that can move an approved
    figure, so a draft saved elsewhere keeps their answers. A view may bring its own
    ``version`` read in this snapshot (completeness: the database's revisions of what it reads).
    Without ``build`` (and with its ``version``), the answer is only what is kept: None when
    neither a 304 nor the response cache answers.
    """
    if version is None:
        version = data_version(
            session=session, actor=actor, initiative_slug=slug, figures_only=figures_only
        )
    if version.busy:  # too many recent writes to tell a late commit: answer afresh
        return Response(
            _rendered(build()),
            media_type="application/json",
            headers={"Cache-Control": "no-cache", "Vary": VARY},
        )
    today = dates.today()
    # The path as the server received it (building the request's URL cost more than the key).
    key = (version.stamp, _viewer(actor), request.scope["path"], _view_query(request), today)
    etag = f'W/"{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}"'
    modified = _last_modified(version, today)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "private, no-cache",
        "Vary": VARY,
    }
    cache = _response_cache(request.app)
    if _not_modified(request, etag, modified, version, cached=key in cache):
        return Response(status_code=304, headers=headers)
    if build is None:  # only from what is kept
        kept = cache.kept(key)
        if kept is None:
            return None
        body = kept
    else:
        body = cache.get_or_render(key, lambda: _rendered(build()))
    if len(body) >= COMPRESS_FROM and accepts_gzip(request.headers):
        # Kept compressed beside the plain answer: a repeated answer is sent as it was
        # compressed the first time (the compression middleware leaves an encoded body alone).
        plain = body
        body = cache.encoded(
            key, "gzip", lambda: cache.by_content(plain, "gzip", lambda: gzipped(plain))
        )
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def _kept(request: Request, session, actor, slug: str, build, *, keep: bool = True) -> bytes:
    """A figure view's answer, kept under what it is made of (``models.analytics.fresh``: the
    setup and every period's figure revision, read in this snapshot), the viewer, the
    question, the day and the language: an audit event that moved no figure (a new data
    version) finds it here; a change to any period's figures, the setup or the initiative's
    row makes a new key. Nothing is kept for a transaction that has written."""
    # The viewer may see the initiative: its data version was read first (a 404 otherwise).
    key = answer_key(session, slug) if keep else None
    if key is None:
        return _rendered(build())
    full = (
        key,
        _viewer(actor),
        request.scope["path"],
        _view_query(request),
        dates.today(),
        current_locale(),
    )
    return _figures_cache(request.app).get_or_render(full, lambda: _rendered(build()))


class _Alone:
    """What a figure view's request read without a session (``version_alone``), for the
    session that answers it when nothing kept does to take instead of reading it again."""

    read: VersionRead | None = None


def _figures_alone(
    request: Request, engine, token: str, slug: str, alone: _Alone, *, keep: bool = True
) -> Response | None:
    """A figure view answered without a session (PostgreSQL's primary): its data version,
    the access revision and its answer key in one statement outside any transaction
    (``models.analytics.views.version_alone``), the key's actor this process kept under that
    access revision, then a 304, the response cache, or (``keep``) the answer kept under its
    answer key. None (answered with a session, as any other request, taking the row read
    here) when the actor is not kept, the initiative not visible to it, its data busy, or
    nothing kept answers."""
    read = version_alone(engine, lambda access: kept_key_actor(engine, token, access), slug)
    if read is None:
        return None
    alone.read, found = read
    if found is None:
        return None
    actor, version = found
    if version.busy:
        return None
    response = _conditional(request, None, actor, slug, None, version=version)
    if response is None and keep:
        key = answer_key_alone(engine, alone.read.row)
        if key is None:
            return None
        i18n.prefer(actor.locale)  # as acting() does: the language is in the key
        full = (
            key,
            _viewer(actor),
            request.scope["path"],
            _view_query(request),
            dates.today(),
            current_locale(),
        )
        body = _figures_cache(request.app).kept(full)
        if body is None:
            return None
        response = _conditional(request, None, actor, slug, lambda: body, version=version)
    if response is not None:
        acting(request, actor)
    return response


def _figures_cache(app) -> ResponseCache:
    """The application's figure answers kept under their figures' revisions (one per app)."""
    cache = getattr(app.state, "figures_cache", None)
    if cache is None:
        cache = app.state.figures_cache = ResponseCache()
    return cache


def _viewer(actor) -> tuple:
    """Who asks, written the same way by every worker, so that each takes the others' ETags:
    the actor's ``repr`` lists its grants in the order its sets hold them, which can follow
    the order the grants were loaded in."""
    return (
        actor.user_id,
        actor.label,
        actor.is_admin,
        tuple(sorted(actor.backbone_of)),
        tuple(sorted(actor.funder_of)),
        tuple(sorted(actor.reporter_in)),
        actor.api_key_id,
    )


def _rendered(answer: BaseModel | bytes) -> bytes:
    """An answer's JSON: a read model's, or the bytes a view rendered itself."""
    return answer if isinstance(answer, bytes) else answer.model_dump_json().encode()


def _view_query(request: Request) -> tuple[tuple[str, str], ...]:
    """The query parameters the view declares, in a fixed order: others change nothing in the
    answer, so they must not make new cache entries."""
    route = request.scope.get("route")
    names = {p.alias for p in route.dependant.query_params} if route is not None else set()
    # Ordered by name only: a name given twice keeps its values' order, as the view reads
    # the last one (sorted by value too, ?period=A&period=B would be ?period=B&period=A).
    given = [(k, v) for k, v in request.query_params.multi_items() if k in names]
    return tuple(sorted(given, key=lambda item: item[0]))


def _last_modified(version: DataVersion, today: date) -> datetime:
    """The data's time, or the start of today (local) when later: an answer can change with
    the day alone (lateness), so a copy from yesterday must never look current."""
    start_of_day = datetime.combine(today, time.min).astimezone(UTC)
    newest = version.newest
    if newest is None or newest < start_of_day:
        return start_of_day
    return newest.astimezone(UTC)


def _response_cache(app) -> ResponseCache:
    """The application's cache of rendered answers (one per app, made on first use)."""
    cache = getattr(app.state, "response_cache", None)
    if cache is None:
        cache = app.state.response_cache = ResponseCache()
    return cache


def _not_modified(
    request: Request, etag: str, modified: datetime, version: DataVersion, *, cached: bool
) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since — which
    has one-second resolution and cannot see a late commit stamped in the past, so it is only
    trusted when the data is quiet, and (as it does not name the viewer) only when this
    viewer's answer is in the cache."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in {t.strip() for t in if_none_match.split(",")}
    since = request.headers.get("if-modified-since")
    if since is None or not version.quiet or not cached:
        return False
    try:
        client = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as the RFC says
    if client.tzinfo is None:
        return False
    return modified.replace(microsecond=0) <= client


@router.get("/scorecard", response_model=ScorecardRead, responses=ERRORS)
async def get_scorecard(
    slug: str,
    request: Request,
    credentials: CredentialsDep,
    period: PeriodKey = None,
    outcome: Annotated[str | None, Query(max_length=60)] = None,
):
    """Per indicator: rollup, baseline, target, progress, direction-aware status, trend,
    sparkline and how many partners reported. Default period: the latest with approved data."""
    alone = _Alone()
    return await in_one_trip(
        request,
        credentials,
        first=lambda session: read_version_first(
            session=session, initiative_slug=slug, read=alone.read
        ),
        kept=lambda engine, token: _figures_alone(request, engine, token, slug, alone, keep=True),
        answer=lambda session, actor: _conditional(
            request,
            session,
            actor,
            slug,
            lambda: _kept(
                request,
                session,
                actor,
                slug,
                lambda: scorecard_json(
                    scorecard(
                        session=session,
                        actor=actor,
                        initiative_slug=slug,
                        period_key=period,
                        outcome=outcome,
                    )
                ),
            ),
        ),
    )


def _scorecard_read(card) -> ScorecardRead:
    """The scorecard's read model, validated: what ``api.figure_json.scorecard_json`` writes
    without validating (the routes send that; tests compare both)."""
    return ScorecardRead(
        **{
            k: getattr(card, k)
            for k in (
                "initiative",
                "initiative_name",
                "period",
                "periods",
                "suppressed",
                "threshold",
            )
        },
        rows=[
            ScorecardRowRead.model_validate(
                {
                    **vars(r),
                    "sparkline": [{"period": p, "value": v} for p, v in r.sparkline],
                    "current": vars(r.current),
                    "previous": vars(r.previous) if r.previous else None,
                    "gap_targets": [vars(g) for g in r.gap_targets],
                }
            )
            for r in card.rows
        ],
    )


def _series_read(s) -> SeriesRead:
    """The series' read model, validated (``api.figure_json.series_json``: the same bytes)."""
    return SeriesRead.model_validate(
        {
            **vars(s),
            "total": [{**vars(p), "figure": vars(p.figure)} for p in s.total],
            "breakdown": [{**vars(p), "figure": vars(p.figure)} for p in s.breakdown],
            "targets": [{"period": p, "target": t} for p, t in s.targets],
            "breaks": [{"period": p, "note": n} for p, n in s.breaks],
        }
    )


@router.get("/indicators/{code}/series", response_model=SeriesRead, responses=ERRORS)
async def get_series(
    slug: str,
    code: str,
    request: Request,
    credentials: CredentialsDep,
    by: Annotated[
        str | None, Query(max_length=40, description="A dimension code or `partner`.")
    ] = None,
    org: Annotated[str | None, Query(max_length=80)] = None,
):
    """The indicator's rollup per period, per category of `by` or per partner, with the target
    line, baseline and series breaks."""
    alone = _Alone()
    return await in_one_trip(
        request,
        credentials,
        first=lambda session: read_version_first(
            session=session, initiative_slug=slug, read=alone.read
        ),
        kept=lambda engine, token: _figures_alone(
            request, engine, token, slug, alone, keep=by != "partner" and not org
        ),
        answer=lambda session, actor: _conditional(
            request,
            session,
            actor,
            slug,
            lambda: _kept(
                request,
                session,
                actor,
                slug,
                lambda: series_json(
                    series(
                        session=session,
                        actor=actor,
                        initiative_slug=slug,
                        indicator_code=code,
                        by=by,
                        org=org,
                    )
                ),
                # The partners' own figures are read from the values, which no figure
                # revision counts: computed on every request.
                keep=by != "partner" and not org,
            ),
        ),
    )


@router.get("/indicators/{code}/equity", response_model=EquityRead, responses=ERRORS)
async def get_equity(
    slug: str,
    code: str,
    request: Request,
    credentials: CredentialsDep,
    dimension: Annotated[str, Query(max_length=40, examples=["race"])],
):
    """Each category's value over time with the gap and disparity ratio between best and worst
    and, with a gap target on the dimension, each period's gap against it."""
    alone = _Alone()
    return await in_one_trip(
        request,
        credentials,
        first=lambda session: read_version_first(
            session=session, initiative_slug=slug, read=alone.read
        ),
        kept=lambda engine, token: _figures_alone(
            request, engine, token, slug, alone, keep=dimension != "partner"
        ),
        answer=lambda session, actor: _conditional(
            request,
            session,
            actor,
            slug,
            lambda: _kept(
                request,
                session,
                actor,
                slug,
                lambda: equity_json(
                    equity(
                        session=session,
                        actor=actor,
                        initiative_slug=slug,
                        indicator_code=code,
                        dimension=dimension,
                    )
                ),
                # By partner it is the series by partner: the partners' own figures, read
                # from the values, which no figure revision counts.
                keep=dimension != "partner",
            ),
        ),
    )


def _equity_read(e) -> EquityRead:
    """Equity's read model, validated (``api.figure_json.equity_json``: the same bytes)."""
    return EquityRead.model_validate(
        {
            **vars(e),
            "points": [
                {
                    **vars(p),
                    "categories": [
                        {"key": k, "label": label, "figure": vars(f)}
                        for k, label, f in p.categories
                    ],
                    **(
                        {
                            "expected_gap": p.target.expected,
                            "gap_status": p.target.status,
                            "gap_progress": p.target.progress,
                        }
                        if p.target
                        else {}
                    ),
                }
                for p in e.points
            ],
            "gap_target": vars(e.gap_target) if e.gap_target else None,
            "cross_tab": cross_tab(e.cross_tab),
        }
    )


@router.get("/completeness", response_model=CompletenessRead, responses=ERRORS)
async def get_completeness(
    slug: str,
    request: Request,
    credentials: CredentialsDep,
    period: PeriodKey = None,
):
    """Member × indicator for a period: approved, submitted, draft, returned, missing, late
    (backbone)."""
    return await in_one_trip(
        request,
        credentials,
        lambda session, actor: _completeness_answer(request, session, actor, slug, period),
        first=lambda session: read_revisions_first(session=session, initiative_slug=slug),
        kept=lambda engine, token: _completeness_kept(request, engine, token, slug),
    )


def _completeness_kept(request: Request, engine, token: str, slug: str) -> Response | None:
    """Completeness asked again, answered without a session: the revisions and the access
    revision in one statement outside any transaction, the key's actor this process kept under
    that access revision, then a 304 or the response cache. None (answered with a session, as
    any other request) when the actor is not kept, the initiative not visible to it, or the
    answer not kept."""
    read = revisions_alone(engine, lambda access: kept_key_actor(engine, token, access), slug)
    if read is None:
        return None
    actor, version = read
    try:
        check_completeness_viewer(actor, version)
    except PermissionDenied:
        return None  # refused with a session, as any other request
    response = _conditional(request, None, actor, slug, None, version=version)
    if response is not None:
        acting(request, actor)
    return response


def _completeness_answer(request: Request, session, actor, slug: str, period: str | None):
    """Versioned by the database's revisions of the setup and the reports (drafts,
    submissions and extensions are what it shows), not by the audit trail: an event that
    touches neither keeps the answer, and with it its ETag."""
    version = revisions(session=session, actor=actor, initiative_slug=slug)
    check_completeness_viewer(actor, version)  # before the validators: a 403, never a 304
    return _conditional(
        request,
        session,
        actor,
        slug,
        lambda: _completeness_json(
            completeness(
                session=session,
                actor=actor,
                initiative_slug=slug,
                period_key=period,
                version=version,
            )
        ),
        version=version,
    )


def _completeness_read(c, cells: bool = True) -> CompletenessRead:
    return CompletenessRead.model_validate(
        {
            **vars(c),
            "members": [{"key": k, "name": n} for k, n in c.members],
            "indicators": [{"key": k, "name": n} for k, n in c.indicators],
            "cells": [vars(x) for x in c.cells] if cells else [],
        }
    )


_CELLS = TypeAdapter(list[CompletenessCell])
_NO_CELLS = b',"cells":[],"counts":'


class _RowJson:
    """Each member's row of cells as JSON, kept across requests by the key that decides the row
    (bounded): after one report changes, one row is rendered again, not the whole grid."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._json: dict[RowKey, bytes] = {}
        self._lock = threading.Lock()

    def of(self, key: RowKey, cells: tuple[CompletenessCell, ...]) -> bytes:
        body = self._json.get(key)
        if body is None:
            body = _CELLS.dump_json(list(cells))[1:-1]  # without the brackets
            with self._lock:
                if len(self._json) >= self.LIMIT:
                    self._json.clear()
                self._json[key] = body
        return body


_ROW_JSON = _RowJson()


class _GridJson:
    """Whole answers kept by what decides them (bounded): the grid's header, counts and each
    row's key (a row's cells are made from its key). Completeness is computed again after
    every write to the initiative, and most writes leave the grid as it was."""

    LIMIT = 32

    def __init__(self) -> None:
        self._json: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def of(self, c, render) -> bytes:
        # The key the view kept the grid by names all it is made of; else its content.
        key = (
            ("made of", c.key)
            if c.key is not None
            else (
                c.initiative,
                c.period,
                c.due_on,
                tuple(c.members),
                tuple(c.indicators),
                tuple(c.counts.items()),
                tuple(row_key for row_key, _ in c.rows),
            )
        )
        body = self._json.get(key)
        if body is None:
            body = render(c)
            with self._lock:
                if len(self._json) >= self.LIMIT:
                    self._json.clear()
                self._json[key] = body
        return body


_GRID_JSON = _GridJson()


def _completeness_json(c) -> bytes:
    """:func:`_completeness_read`'s JSON, byte for byte (kept whole while the grid is the same,
    :class:`_GridJson`)."""
    if not c.rows and c.cells:  # made without rows: nothing to key the answer by
        return _completeness_read(c).model_dump_json().encode()
    return _GRID_JSON.of(c, _grid_json)


def _grid_json(c) -> bytes:
    """Without a model per cell: a region's grid has thousands. The cells (the domain's
    dataclass has the read model's fields, in its order) are rendered a member's row at a time,
    each row kept until it changes, and put in place of the empty list."""
    head = _completeness_read(c, cells=False).model_dump_json().encode()
    if head.count(_NO_CELLS) != 1:  # never, as JSON strings escape their quotes
        return _completeness_read(c).model_dump_json().encode()
    before, after = head.split(_NO_CELLS)
    rows = b",".join(body for key, cells in c.rows if (body := _ROW_JSON.of(key, cells)))
    return b"".join((before, b',"cells":[', rows, b'],"counts":', after))
