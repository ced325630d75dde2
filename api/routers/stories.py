"""The stories behind the curve of an indicator, per period (README: Stories)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import LoggedInDep, SessionDep
from api.schemas.common import ErrorRead
from api.schemas.stories import StoryIn, StoryRead
from models.stories.stories import list_stories, story_versions, write_story

router = APIRouter(tags=["stories"])
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}
STORIES = "/initiatives/{slug}/indicators/{code}/stories"


@router.get(STORIES, response_model=list[StoryRead], responses=ERRORS)
def get_stories(
    slug: str,
    code: str,
    session: SessionDep,
    actor: LoggedInDep,
    period: str | None = Query(None, description="Only this period's story."),
):
    """The indicator's story of each period: the current version for the backbone team; for
    partners and funders the version each period's latest publication carries."""
    return [
        StoryRead.model_validate(s, from_attributes=True)
        for s in list_stories(
            session=session,
            actor=actor,
            initiative_slug=slug,
            indicator_code=code,
            period_key=period,
        )
    ]


@router.put(f"{STORIES}/{{period}}", response_model=StoryRead, responses=ERRORS)
def put_story(
    slug: str, code: str, period: str, body: StoryIn, session: SessionDep, actor: LoggedInDep
):
    """Set the period's story (backbone): a new version when the text changes, audited. The
    public sees it once the period is published (again)."""
    story = write_story(
        session=session,
        actor=actor,
        initiative_slug=slug,
        indicator_code=code,
        period_key=period,
        text=body.text,
        expected_version=body.version,
    )
    return StoryRead.model_validate(story, from_attributes=True)


@router.get(f"{STORIES}/{{period}}/versions", response_model=list[StoryRead], responses=ERRORS)
def get_story_versions(slug: str, code: str, period: str, session: SessionDep, actor: LoggedInDep):
    """Every version of the period's story, oldest first (backbone); partners and funders
    read the versions the period's publications carried."""
    return [
        StoryRead.model_validate(s, from_attributes=True)
        for s in story_versions(
            session=session,
            actor=actor,
            initiative_slug=slug,
            indicator_code=code,
            period_key=period,
        )
    ]
