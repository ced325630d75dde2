"""The turn-the-curve view of an indicator, as JSON or as a one-page PNG/PDF report. HTTP only:
the view is models/strategies/turn_the_curve.py, the report its _report module."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CredentialsDep, in_one_trip
from api.schemas.common import ErrorRead
from api.schemas.turn_the_curve import TurnTheCurveRead
from models.strategies.turn_the_curve import TurnTheCurve, turn_the_curve
from models.strategies.turn_the_curve_report import MEDIA_TYPES, render_report

router = APIRouter(prefix="/initiatives/{slug}/indicators/{code}", tags=["analytics"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 422)}
FILES = {
    200: {
        "content": {"application/json": {}, **{t: {} for t in MEDIA_TYPES.values()}},
        "description": "The view as JSON, or its one-page report as PNG or PDF.",
    }
}


def _read(view: TurnTheCurve) -> TurnTheCurveRead:
    f = view.forecast
    return TurnTheCurveRead.model_validate(
        {
            **{k: v for k, v in vars(view).items() if k not in ("strategies", "story", "marks")},
            "actual": [{**vars(p), "figure": vars(p.figure)} for p in view.actual],
            "targets": [{"period": p, "target": t} for p, t in view.targets],
            "breaks": [{"period": p, "note": n} for p, n in view.breaks],
            "strategies": [
                vars(s) | {"actions_done": s.actions_done, "actions_total": s.actions_total}
                for s in view.strategies
            ],
            "spans": [
                {"code": m.code, "title": m.title, "first": m.first, "last": m.last}
                for m in view.marks
            ],
            "story": vars(view.story) if view.story else None,
            "forecast": {
                **vars(f),
                "available": f.available,
                "used": [{"period": p, "value": v} for p, v in f.used],
                "points": [{"period": p, "value": v} for p, v in f.points],
            },
        }
    )


def _answer(view: TurnTheCurve, fmt: str) -> Response:
    if fmt == "json":
        return Response(_read(view).model_dump_json(), media_type="application/json")
    name = f"{view.initiative}-{view.indicator}-turn-the-curve.{fmt}"
    return Response(
        render_report(view, "png" if fmt == "png" else "pdf"),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


async def _turn_the_curve(request, credentials, slug: str, code: str, fmt: str) -> Response:
    return await in_one_trip(
        request,
        credentials,
        lambda session, actor: _answer(
            turn_the_curve(session=session, actor=actor, initiative_slug=slug, indicator_code=code),
            fmt,
        ),
    )


@router.get(
    "/turn-the-curve",
    response_model=TurnTheCurveRead,
    responses={**ERRORS, **FILES},
)
async def get_turn_the_curve(
    slug: str,
    code: str,
    request: Request,
    credentials: CredentialsDep,
    format: Annotated[
        Literal["json", "png", "pdf"], Query(description="`png` or `pdf` for the report.")
    ] = "json",
):
    """The indicator's actual curve (its series' total as the caller may see it), target line,
    the strategies aimed at it the caller may read, its latest story the caller may read, and
    the baseline forecast: where the curve was heading before the first strategy started (an
    ordinary least-squares trend over the figures the caller is shown, method stated). Who may
    read the indicator's series may read this."""
    return await _turn_the_curve(request, credentials, slug, code, format)


@router.get("/turn-the-curve.png", responses={**ERRORS, **FILES}, response_class=Response)
async def get_turn_the_curve_png(
    slug: str, code: str, request: Request, credentials: CredentialsDep
):
    """The turn-the-curve report as one PNG page (what `?format=png` answers)."""
    return await _turn_the_curve(request, credentials, slug, code, "png")


@router.get("/turn-the-curve.pdf", responses={**ERRORS, **FILES}, response_class=Response)
async def get_turn_the_curve_pdf(
    slug: str, code: str, request: Request, credentials: CredentialsDep
):
    """The turn-the-curve report as one PDF page (what `?format=pdf` answers)."""
    return await _turn_the_curve(request, credentials, slug, code, "pdf")
