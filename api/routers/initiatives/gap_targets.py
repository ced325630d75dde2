"""Gap targets: a target on the gap between an indicator's best and worst category. HTTP
only; the rules are in models/initiatives/gap_targets.py."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LoggedInDep, SessionDep
from api.responses import WRITE
from api.schemas.initiatives import GapTargetIn, GapTargetRead
from models.initiatives import gap_targets as gap_target_rules

router = APIRouter(prefix="/initiatives/{slug}/indicators", tags=["indicators"])


@router.put("/{code}/gap-targets/{dimension}", response_model=GapTargetRead, responses=WRITE)
def set_gap_target(
    slug: str,
    code: str,
    dimension: str,
    body: GapTargetIn,
    session: SessionDep,
    actor: LoggedInDep,
):
    """Set or replace the gap target on one of the indicator's dimensions (backbone): the
    baseline gap and the target gap due by a later period."""
    return gap_target_rules.set_gap_target(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        dimension=dimension,
        **body.model_dump(),
    )


@router.delete("/{code}/gap-targets/{dimension}", response_model=GapTargetRead, responses=WRITE)
def remove_gap_target(
    slug: str, code: str, dimension: str, session: SessionDep, actor: LoggedInDep
):
    """Remove the gap target on one of the indicator's dimensions (backbone)."""
    return gap_target_rules.remove_gap_target(
        session=session, actor=actor, initiative=slug, code=code, dimension=dimension
    )
