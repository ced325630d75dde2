"""API keys for machine submission. HTTP only; the rules are in models/access/api_keys.py."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import LoggedInDep, SessionDep
from api.links import link, links
from api.schemas.access import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from api.schemas.common import ErrorRead, RowId
from models.access.api_keys import create_scoped_api_key, list_api_keys, revoke_api_key

router = APIRouter(tags=["auth"])
LOGIN_FIRST = {401: {"model": ErrorRead, "description": "Not logged in."}}
NOT_FOUND = {404: {"model": ErrorRead, "description": "Missing, or not yours to manage."}}
FORBIDDEN = {403: {"model": ErrorRead, "description": "Visible to you, but not yours to manage."}}


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses={
        **LOGIN_FIRST,
        **FORBIDDEN,
        **NOT_FOUND,
        201: links(
            "The new key, with its secret.",
            {"DeleteApiKey": link("DELETE", "/api-keys/{key_id}", key_id="$response.body#/id")},
        ),
    },
)
def create_key(body: ApiKeyCreate, session: SessionDep, actor: LoggedInDep) -> ApiKeyCreated:
    """Create an API key for an organisation (reporter rights) or an initiative (backbone)."""
    key, plaintext = create_scoped_api_key(
        session=session,
        actor=actor,
        name=body.name,
        organisation=body.organisation,
        initiative=body.initiative,
        expires_at=body.expires_at,
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=plaintext)


@router.get(
    "/api-keys",
    response_model=list[ApiKeyRead],
    responses={**LOGIN_FIRST, 403: {"model": ErrorRead, "description": "Keys manage no keys."}},
)
def list_keys(session: SessionDep, actor: LoggedInDep) -> list[ApiKeyRead]:
    """The keys the current user may manage (never their secrets)."""
    return [ApiKeyRead.model_validate(k) for k in list_api_keys(session=session, actor=actor)]


@router.delete(
    "/api-keys/{key_id}",
    response_model=ApiKeyRead,
    responses={**LOGIN_FIRST, **NOT_FOUND, **FORBIDDEN},
)
def revoke_key(key_id: RowId, session: SessionDep, actor: LoggedInDep) -> ApiKeyRead:
    """Revoke a key; it stops working with the very next request."""
    return ApiKeyRead.model_validate(revoke_api_key(session=session, actor=actor, key_id=key_id))
