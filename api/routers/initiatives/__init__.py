"""Setting up initiatives: the directory, organisations, settings, members, outcomes,
dimensions, indicators, periods, series breaks, gap targets and translations. HTTP only; the
rules are in models/initiatives/."""

from fastapi import APIRouter

from api.routers.initiatives import (
    dimensions,
    directory,
    gap_targets,
    indicators,
    initiatives,
    members,
    organisations,
    outcomes,
    periods,
    series_breaks,
    translations,
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
    gap_targets,
    periods,
    translations,
):
    router.include_router(_module.router)
