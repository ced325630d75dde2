"""Dimensions and categories (the disaggregations). HTTP only; the rules are in models/initiatives/dimensions.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, PageDep, SessionDep
from api.links import (
    DIMENSION,
    SLUG,
    crud,
    link,
)
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page
from api.schemas.initiatives import (
    DimensionCreate,
    DimensionRead,
    DimensionUpdate,
)
from models.initiatives import dimensions as dimension_rules

router = APIRouter(prefix="/initiatives/{slug}/dimensions", tags=["dimensions"])


@router.get(
    "",
    response_model=Page[DimensionRead],
    responses=listed(
        "The dimensions.",
        crud("Dimension", DIMENSION, slug=SLUG, code="$response.body#/items/0/code"),
    ),
)
def list_dimensions(slug: str, session: SessionDep, actor: LoggedInDep, page: PageDep):
    """The initiative's disaggregation dimensions with their categories."""
    return Page[DimensionRead].model_validate(
        dimension_rules.list_dimensions(
            session=session, actor=actor, initiative=slug, limit=page.limit, offset=page.offset
        )
    )


@router.post(
    "",
    response_model=DimensionRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201,
        "The new dimension.",
        crud("Dimension", DIMENSION, slug=SLUG, code="$response.body#/code"),
        {
            "DeleteCategory": link(
                "DELETE",
                DIMENSION + "/categories/{category}",
                slug=SLUG,
                code="$response.body#/code",
                category="$response.body#/categories/0/code",
            )
        },
    ),
)
def create_dimension(slug: str, body: DimensionCreate, session: SessionDep, actor: LoggedInDep):
    """Add a dimension with its categories (backbone)."""
    return dimension_rules.create_dimension(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@router.get("/{code}", response_model=DimensionRead, responses=READ)
def get_dimension(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """One dimension with its categories."""
    return dimension_rules.get_dimension(session=session, actor=actor, initiative=slug, code=code)


@router.patch("/{code}", response_model=DimensionRead, responses=WRITE)
def update_dimension(
    slug: str, code: str, body: DimensionUpdate, session: SessionDep, actor: LoggedInDep
):
    """Rename or move a dimension; add categories (new code) or rename them (existing code)."""
    return dimension_rules.update_dimension(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete("/{code}", response_model=DimensionRead, responses=WRITE)
def delete_dimension(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """Delete a dimension (backbone); refused with 409 while values use its categories."""
    return dimension_rules.delete_dimension(
        session=session, actor=actor, initiative=slug, code=code
    )


@router.delete("/{code}/categories/{category}", response_model=DimensionRead, responses=WRITE)
def delete_category(slug: str, code: str, category: str, session: SessionDep, actor: LoggedInDep):
    """Delete one category (backbone); refused with 409 while values use it. Answers the
    dimension as it is now."""
    return dimension_rules.delete_category(
        session=session, actor=actor, initiative=slug, code=code, category=category
    )
