"""Strategies and their actions. HTTP only; the rules are in models/strategies/strategies.py."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from api.deps import LoggedInDep, PageDep, SessionDep
from api.links import SLUG, link
from api.responses import READ, WRITE, answer, listed
from api.schemas.common import Page, RowId
from api.schemas.strategies import (
    ActionCreate,
    ActionRead,
    ActionUpdate,
    StrategyCreate,
    StrategyRead,
    StrategyUpdate,
)
from models.strategies import strategies as rules

router = APIRouter(prefix="/initiatives/{slug}/strategies", tags=["strategies"])
STRATEGY = "/initiatives/{slug}/strategies/{code}"


def _strategy_links(code: str) -> dict[str, dict]:
    return {
        f"{method.title()}Strategy": link(method, STRATEGY, slug=SLUG, code=code)
        for method in ("GET", "PATCH", "DELETE")
    } | {"AddAction": link("POST", STRATEGY + "/actions", slug=SLUG, code=code)}


def _read(view: rules.StrategyView) -> StrategyRead:
    return StrategyRead.model_validate(view, from_attributes=True)


@router.get(
    "",
    response_model=Page[StrategyRead],
    responses=listed("The strategies.", _strategy_links("$response.body#/items/0/code")),
)
def list_strategies(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    indicator: str | None = Query(None, max_length=60, description="Only those aimed at it."),
):
    """The strategies the caller may read: all for the backbone team and funders, those its
    organisation owns for a partner."""
    found = rules.list_strategies(
        session=session,
        actor=actor,
        initiative=slug,
        indicator=indicator,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[StrategyRead](
        items=[_read(s) for s in found.items],
        total=found.total,
        limit=found.limit,
        offset=found.offset,
    )


@router.post(
    "",
    response_model=StrategyRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(201, "The new strategy.", _strategy_links("$response.body#/code")),
)
def create_strategy(slug: str, body: StrategyCreate, session: SessionDep, actor: LoggedInDep):
    """A new strategy with its owners and the indicators it aims at (backbone)."""
    return _read(
        rules.create_strategy(session=session, actor=actor, initiative=slug, **body.model_dump())
    )


@router.get("/{code}", response_model=StrategyRead, responses=READ)
def get_strategy(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """One strategy with its actions (404 for a partner whose organisation does not own it)."""
    return _read(rules.get_strategy(session=session, actor=actor, initiative=slug, code=code))


@router.patch("/{code}", response_model=StrategyRead, responses=WRITE)
def update_strategy(
    slug: str, code: str, body: StrategyUpdate, session: SessionDep, actor: LoggedInDep
):
    """Change the fields given (backbone); ``ends_on: null`` makes it open-ended."""
    return _read(
        rules.update_strategy(
            session=session,
            actor=actor,
            initiative=slug,
            code=code,
            changes=body.model_dump(exclude_unset=True),
        )
    )


@router.delete("/{code}", response_model=StrategyRead, responses=WRITE)
def delete_strategy(slug: str, code: str, session: SessionDep, actor: LoggedInDep):
    """Remove a strategy and its actions (backbone); the audit trail keeps them."""
    return _read(rules.delete_strategy(session=session, actor=actor, initiative=slug, code=code))


@router.post(
    "/{code}/actions",
    response_model=ActionRead,
    status_code=status.HTTP_201_CREATED,
    responses=answer(
        201,
        "The new action.",
        {
            f"{method.title()}Action": link(
                method,
                STRATEGY + "/actions/{action_id}",
                slug=SLUG,
                code="$request.path.code",
                action_id="$response.body#/id",
            )
            for method in ("PATCH", "DELETE")
        },
    ),
)
def add_action(slug: str, code: str, body: ActionCreate, session: SessionDep, actor: LoggedInDep):
    """A new action of the strategy (backbone)."""
    view = rules.add_action(
        session=session, actor=actor, initiative=slug, code=code, **body.model_dump()
    )
    return ActionRead.model_validate(view, from_attributes=True)


@router.patch("/{code}/actions/{action_id}", response_model=ActionRead, responses=WRITE)
def update_action(
    slug: str,
    code: str,
    action_id: RowId,
    body: ActionUpdate,
    session: SessionDep,
    actor: LoggedInDep,
):
    """Change an action (backbone): done without a date is done today."""
    view = rules.update_action(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        action_id=action_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return ActionRead.model_validate(view, from_attributes=True)


@router.delete("/{code}/actions/{action_id}", response_model=ActionRead, responses=WRITE)
def delete_action(slug: str, code: str, action_id: RowId, session: SessionDep, actor: LoggedInDep):
    """Remove an action added by mistake (backbone)."""
    view = rules.delete_action(
        session=session, actor=actor, initiative=slug, code=code, action_id=action_id
    )
    return ActionRead.model_validate(view, from_attributes=True)
