"""Initiatives: the directory of every initiative hosted here."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep
from api.schemas import InitiativeSummaryRead
from models.directory import initiative_directory

router = APIRouter(prefix="/initiatives", tags=["initiatives"])


# Public: a bearer token is accepted but not required (an empty security requirement).
@router.get("", response_model=list[InitiativeSummaryRead], openapi_extra={"security": [{}]})
def list_initiatives(session: SessionDep, actor: ActorDep) -> list[InitiativeSummaryRead]:
    """Every initiative with its member, outcome and indicator counts and its current period."""
    return [
        InitiativeSummaryRead.model_validate(s, from_attributes=True)
        for s in initiative_directory(session=session, actor=actor)
    ]
