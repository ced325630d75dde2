"""An initiative's settings: admin creates and deletes; its backbone changes them. HTTP only; the rules are in models/initiatives/initiatives.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, SessionDep
from api.links import (
    INITIATIVE,
    crud,
    link,
)
from api.responses import READ, WRITE, answer
from api.schemas.initiatives import (
    InitiativeCreate,
    InitiativeRead,
    InitiativeUpdate,
)
from models.initiatives import initiatives as initiative_rules

router = APIRouter(prefix="/initiatives", tags=["initiatives"])


@router.post(
    "",
    response_model=InitiativeRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201,
        "The new initiative.",
        crud("Initiative", INITIATIVE, slug="$response.body#/slug"),
        {
            f"Post{name}": link("POST", f"{INITIATIVE}/{collection}", slug="$response.body#/slug")
            for name, collection in [
                ("Member", "members"),
                ("Outcome", "outcomes"),
                ("Dimension", "dimensions"),
                ("Indicator", "indicators"),
                ("Period", "periods"),
            ]
        },
    ),
)
def create_initiative(body: InitiativeCreate, session: SessionDep, actor: LoggedInDep):
    """Create an initiative (admin only)."""
    return initiative_rules.create_initiative(session=session, actor=actor, **body.model_dump())


@router.get("/{slug}", response_model=InitiativeRead, responses=READ)
def get_initiative(slug: str, session: SessionDep, actor: LoggedInDep):
    """One initiative's settings: for its backbone, funders and reporters of its members."""
    return initiative_rules.get_initiative_settings(session=session, actor=actor, slug=slug)


@router.patch("/{slug}", response_model=InitiativeRead, responses=WRITE)
def update_initiative(slug: str, body: InitiativeUpdate, session: SessionDep, actor: LoggedInDep):
    """Change name, description, region or suppression threshold (backbone)."""
    return initiative_rules.update_initiative(
        session=session, actor=actor, slug=slug, changes=body.model_dump(exclude_unset=True)
    )


@router.delete("/{slug}", response_model=InitiativeRead, responses=WRITE)
def delete_initiative(slug: str, session: SessionDep, actor: LoggedInDep):
    """Delete an initiative and its configuration (admin only); refused with 409 once any
    member has reported. Answers the deleted initiative."""
    return initiative_rules.delete_initiative(session=session, actor=actor, slug=slug)
