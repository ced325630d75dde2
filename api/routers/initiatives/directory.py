"""Initiatives: the directory of every initiative hosted here."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep
from api.links import crud, link, links
from api.schemas.common import InitiativeSummaryRead
from models.initiatives.directory import initiative_directory

router = APIRouter(prefix="/initiatives", tags=["initiatives"])


FIRST = "$response.body#/0/slug"  # the first initiative listed
DIRECTORY_LINKS = {
    **crud("Initiative", "/initiatives/{slug}", ("GET",), slug=FIRST),
    **{
        f"{method.title()}{name}": link(method, f"/initiatives/{{slug}}/{collection}", slug=FIRST)
        for name, collection in [
            ("Members", "members"),
            ("Outcomes", "outcomes"),
            ("Dimensions", "dimensions"),
            ("Indicators", "indicators"),
            ("Periods", "periods"),
        ]
        for method in ("GET", "POST")
    },
    "GetSubmissions": link("GET", "/initiatives/{slug}/submissions", slug=FIRST),
}


# Public: a bearer token is accepted but not required (an empty security requirement).
@router.get(
    "",
    response_model=list[InitiativeSummaryRead],
    openapi_extra={"security": [{}]},
    responses={200: links("The initiatives.", DIRECTORY_LINKS)},
)
def list_initiatives(session: SessionDep, actor: ActorDep) -> list[InitiativeSummaryRead]:
    """Every initiative with its member, outcome and indicator counts and its current period."""
    return [
        InitiativeSummaryRead.model_validate(s, from_attributes=True)
        for s in initiative_directory(session=session, actor=actor)
    ]
