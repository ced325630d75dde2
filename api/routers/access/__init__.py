"""Access: login and tokens, API keys, users and grants. HTTP only; the rules are in
models/access/."""

from fastapi import APIRouter

from api.routers.access import api_keys, invitations, login, users

router = APIRouter()
for _module in (login, api_keys, users, invitations):
    router.include_router(_module.router)
