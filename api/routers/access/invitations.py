"""Invitations: a one-time link with which an invited person chooses a password. HTTP only; the
rules are in models/access/invitations.py (who may invite is who may create the user)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api.deps import LoggedInDep, SessionDep
from api.schemas.access import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationRead,
    UserRead,
)
from api.schemas.common import ErrorRead, RowId
from models.access.invitations import (
    Invitation,
    accept_invitation,
    invite_user,
    renew_invitation,
)
from models.access.users import describe_users, get_user

router = APIRouter()
ERRORS = {c: {"model": ErrorRead} for c in (401, 403, 404, 409, 422)}


def _site(request: Request) -> str:
    """The site's address as the caller reached it: the link points at its invitation page."""
    return str(request.base_url)


def _read(session, actor, invitation: Invitation) -> InvitationRead:
    [user] = describe_users(session=session, actor=actor, users=[invitation.user])
    return InvitationRead(
        user=UserRead.model_validate(user),
        link=invitation.link,
        expires_at=invitation.expires_at,
    )


@router.post(
    "/invitations",
    response_model=InvitationRead,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    tags=["users"],
)
def invite(
    body: InvitationCreate, request: Request, session: SessionDep, actor: LoggedInDep
) -> InvitationRead:
    """Invite a person: creates the account with the grant (the rules of `POST /users`) and
    answers the link with which they choose their password, answered this once; they are also
    mailed a link of their own (README, "Notifications")."""
    invitation = invite_user(
        session=session,
        actor=actor,
        email=body.email,
        role=body.role,
        initiative_slug=body.initiative,
        organisation_slug=body.organisation,
        name=body.name,
        base_url=_site(request),
    )
    return _read(session, actor, invitation)


@router.post(
    "/users/{user_id}/invitation",
    response_model=InvitationRead,
    responses=ERRORS,
    tags=["users"],
)
def renew(
    user_id: RowId, request: Request, session: SessionDep, actor: LoggedInDep
) -> InvitationRead:
    """A new link for a person who has not chosen a password yet; earlier links stop working
    (409 once they have chosen one: reset the password instead)."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    invitation = renew_invitation(session=session, actor=actor, user=user, base_url=_site(request))
    return _read(session, actor, invitation)


@router.post(
    "/auth/invitations/accept",
    response_model=InvitationAccepted,
    responses={422: {"model": ErrorRead, "description": "A weak password, or a dead link."}},
    tags=["auth"],
)
def accept(body: InvitationAccept, session: SessionDep) -> InvitationAccepted:
    """Choose your password with the invitation's token (no login needed: the token is the
    proof); then log in with your e-mail and that password. The link works once."""
    user = accept_invitation(session=session, token=body.token, password=body.password)
    return InvitationAccepted(email=user.email)
