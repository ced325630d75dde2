"""Setting up initiatives: the directory, organisations, settings, members, outcomes,
dimensions, indicators, periods and series breaks. HTTP only; the rules are in
models/initiatives/."""

from fastapi import APIRouter

from api.routers.initiatives import (
    dimensions,
    directory,
    indicators,
    initiatives,
    members,
    organisations,
    outcomes,
    periods,
    series_breaks,
)

router = APIRouter()
for _module in (
    directory,
    organisations,
    initiatives,
    members,
    outcomes,
    dimensions,
    indicators,
    series_breaks,
    periods,
):
    router.include_router(_module.router)
