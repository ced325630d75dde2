"""Configuration: organisations, initiatives, members and obligations, outcomes, dimensions,
indicators (with baseline and targets) and periods. HTTP only; the rules live in
models/configuration.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import Field

from api.config_schemas import (
    DimensionCreate,
    DimensionRead,
    DimensionUpdate,
    IndicatorCreate,
    IndicatorRead,
    IndicatorUpdate,
    InitiativeCreate,
    InitiativeRead,
    InitiativeUpdate,
    MeasureType,
    MemberCreate,
    MemberRead,
    MemberUpdate,
    ObligationsRead,
    ObligationsUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    OutcomeCreate,
    OutcomeRead,
    OutcomeUpdate,
    Page,
    PeriodCreate,
    PeriodKind,
    PeriodRead,
    PeriodUpdate,
    Sector,
)
from api.deps import ActorDep, SessionDep
from api.links import SLUG, crud, link, links
from api.schemas import ErrorRead, ReadModel, WriteModel
from models.core.actors import Actor
from models.core.errors import AuthenticationFailed
from models.core.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from models.initiatives import dimensions as dimension_rules
from models.initiatives import indicators as indicator_rules
from models.initiatives import initiatives as initiative_rules
from models.initiatives import members as member_rules
from models.initiatives import organisations as organisation_rules
from models.initiatives import outcomes as outcome_rules
from models.initiatives import periods as period_rules
from models.initiatives import series_breaks as series_break_rules


def logged_in_actor(actor: ActorDep) -> Actor:
    """The actor, who must be logged in; checked before the body, so anonymous callers get 401
    whatever they send (the domain checks again)."""
    if actor.is_anonymous:
        raise AuthenticationFailed("log in first")
    return actor


UserDep = Annotated[Actor, Depends(logged_in_actor)]
router = APIRouter()


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageDep = Annotated[Pagination, Depends(pagination)]
Search = Annotated[str | None, Query(max_length=200, description="Name or code contains.")]


def _errors(*codes: int) -> dict[int | str, dict]:
    text = {
        401: "Not logged in.",
        403: "Visible, but the caller may not change it.",
        404: "Missing, or not visible to the caller.",
        409: "Conflicts with existing data (the field says which).",
        422: "Invalid input (the field says which).",
    }
    return {code: {"model": ErrorRead, "description": text[code]} for code in codes}


READ = _errors(401, 404, 422)
WRITE = _errors(401, 403, 404, 409, 422)

# Where each kind of object lives, for the links from one answer to the next request.
ORGANISATION = "/organisations/{slug}"
INITIATIVE = "/initiatives/{slug}"
MEMBER = "/initiatives/{slug}/members/{org}"
OUTCOME = "/initiatives/{slug}/outcomes/{code}"
DIMENSION = "/initiatives/{slug}/dimensions/{code}"
INDICATOR = "/initiatives/{slug}/indicators/{code}"
PERIOD = "/initiatives/{slug}/periods/{key}"


def _answer(status_code: int, description: str, *groups: dict[str, dict]) -> dict[int | str, dict]:
    """WRITE's errors plus a success answer carrying links."""
    return {**WRITE, status_code: links(description, *groups)}


def _listed(description: str, *groups: dict[str, dict]) -> dict[int | str, dict]:
    """READ's errors plus a list answer carrying links (to its first item)."""
    return {**READ, 200: links(description, *groups)}


def _member_links(org: str) -> dict[str, dict]:
    return {
        **crud("Member", MEMBER, slug=SLUG, org=org),
        **crud("Obligations", MEMBER + "/obligations", ("GET", "PUT"), slug=SLUG, org=org),
    }


def _indicator_links(code: str) -> dict[str, dict]:
    return {
        **crud("Indicator", INDICATOR, slug=SLUG, code=code),
        **crud("Breaks", INDICATOR + "/breaks", ("GET", "POST"), slug=SLUG, code=code),
    }


def _period_links(key: str) -> dict[str, dict]:
    return {
        **crud("Period", PERIOD, slug=SLUG, key=key),
        "LockPeriod": link("POST", PERIOD + "/lock", slug=SLUG, key=key),
        "UnlockPeriod": link("POST", PERIOD + "/unlock", slug=SLUG, key=key),
        "PublishPeriod": link("POST", PERIOD + "/publish", slug=SLUG, key=key),
        "GetPublications": link("GET", PERIOD + "/publications", slug=SLUG, key=key),
    }


# --- organisations ----------------------------------------------------------------------------

organisations = APIRouter(prefix="/organisations", tags=["organisations"])


@organisations.get("", response_model=Page[OrganisationRead], responses=_errors(401, 422))
def list_organisations(
    session: SessionDep,
    actor: UserDep,
    page: PageDep,
    sector: Sector | None = None,
    q: Search = None,
):
    """Every partner organisation, by name; any logged-in user may list them."""
    return Page[OrganisationRead].model_validate(
        organisation_rules.list_organisations(
            session=session, actor=actor, sector=sector, q=q, limit=page.limit, offset=page.offset
        )
    )


@organisations.post(
    "",
    response_model=OrganisationRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(
        201,
        "The new organisation.",
        crud("Organisation", ORGANISATION, slug="$response.body#/slug"),
    ),
)
def create_organisation(body: OrganisationCreate, session: SessionDep, actor: UserDep):
    """Add a partner organisation (admin or any initiative's backbone staff)."""
    return organisation_rules.create_organisation(session=session, actor=actor, **body.model_dump())


@organisations.get("/{slug}", response_model=OrganisationRead, responses=READ)
def get_organisation(slug: str, session: SessionDep, actor: UserDep):
    """One organisation."""
    return organisation_rules.get_organisation(session=session, actor=actor, slug=slug)


@organisations.patch("/{slug}", response_model=OrganisationRead, responses=WRITE)
def update_organisation(slug: str, body: OrganisationUpdate, session: SessionDep, actor: UserDep):
    """Change an organisation's name, sector, website or description (admin only)."""
    return organisation_rules.update_organisation(
        session=session, actor=actor, slug=slug, changes=body.model_dump(exclude_unset=True)
    )


@organisations.delete("/{slug}", response_model=OrganisationRead, responses=WRITE)
def delete_organisation(slug: str, session: SessionDep, actor: UserDep):
    """Delete an organisation (admin only); refused with 409 while it is a member anywhere.
    Answers the deleted organisation."""
    return organisation_rules.delete_organisation(session=session, actor=actor, slug=slug)


# --- initiatives ------------------------------------------------------------------------------

initiatives = APIRouter(prefix="/initiatives", tags=["initiatives"])


@initiatives.post(
    "",
    response_model=InitiativeRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(
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
def create_initiative(body: InitiativeCreate, session: SessionDep, actor: UserDep):
    """Create an initiative (admin only)."""
    return initiative_rules.create_initiative(session=session, actor=actor, **body.model_dump())


@initiatives.get("/{slug}", response_model=InitiativeRead, responses=READ)
def get_initiative(slug: str, session: SessionDep, actor: UserDep):
    """One initiative's settings: for its backbone, funders and reporters of its members."""
    return initiative_rules.get_initiative_settings(session=session, actor=actor, slug=slug)


@initiatives.patch("/{slug}", response_model=InitiativeRead, responses=WRITE)
def update_initiative(slug: str, body: InitiativeUpdate, session: SessionDep, actor: UserDep):
    """Change name, description, region or suppression threshold (backbone)."""
    return initiative_rules.update_initiative(
        session=session, actor=actor, slug=slug, changes=body.model_dump(exclude_unset=True)
    )


@initiatives.delete("/{slug}", response_model=InitiativeRead, responses=WRITE)
def delete_initiative(slug: str, session: SessionDep, actor: UserDep):
    """Delete an initiative and its configuration (admin only); refused with 409 once any
    member has reported. Answers the deleted initiative."""
    return initiative_rules.delete_initiative(session=session, actor=actor, slug=slug)


# --- members and obligations ------------------------------------------------------------------

members = APIRouter(prefix="/initiatives/{slug}/members", tags=["members"])


@members.get(
    "",
    response_model=Page[MemberRead],
    responses=_listed("The members.", _member_links("$response.body#/items/0/organisation")),
)
def list_members(
    slug: str,
    session: SessionDep,
    actor: UserDep,
    page: PageDep,
    active: bool | None = None,
    q: Search = None,
):
    """The initiative's member organisations, by name."""
    return Page[MemberRead].model_validate(
        member_rules.list_members(
            session=session,
            actor=actor,
            initiative=slug,
            active=active,
            q=q,
            limit=page.limit,
            offset=page.offset,
        )
    )


@members.post(
    "",
    response_model=MemberRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(201, "The new member.", _member_links("$response.body#/organisation")),
)
def add_member(slug: str, body: MemberCreate, session: SessionDep, actor: UserDep):
    """Make an organisation a member (backbone)."""
    return member_rules.add_member(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@members.get("/{org}", response_model=MemberRead, responses=READ)
def get_member(slug: str, org: str, session: SessionDep, actor: UserDep):
    """One member, by its organisation's slug."""
    return member_rules.get_member(session=session, actor=actor, initiative=slug, organisation=org)


@members.patch("/{org}", response_model=MemberRead, responses=WRITE)
def update_member(slug: str, org: str, body: MemberUpdate, session: SessionDep, actor: UserDep):
    """Change ``active``, ``shares_with_funders`` or ``joined_on`` (backbone)."""
    return member_rules.update_member(
        session=session,
        actor=actor,
        initiative=slug,
        organisation=org,
        changes=body.model_dump(exclude_unset=True),
    )


@members.delete("/{org}", response_model=MemberRead, responses=WRITE)
def remove_member(slug: str, org: str, session: SessionDep, actor: UserDep):
    """Remove a member (backbone); refused with 409 once it has reported (deactivate it
    instead). Answers the removed member."""
    return member_rules.remove_member(
        session=session, actor=actor, initiative=slug, organisation=org
    )


@members.get("/{org}/obligations", response_model=ObligationsRead, responses=READ)
def get_obligations(slug: str, org: str, session: SessionDep, actor: UserDep):
    """The indicator codes the member is expected to report."""
    codes = member_rules.get_obligations(
        session=session, actor=actor, initiative=slug, organisation=org
    )
    return ObligationsRead(organisation=org, indicators=codes)


@members.put("/{org}/obligations", response_model=ObligationsRead, responses=WRITE)
def set_obligations(
    slug: str, org: str, body: ObligationsUpdate, session: SessionDep, actor: UserDep
):
    """Replace the member's obligations (backbone); an unknown code answers 422 naming it."""
    codes = member_rules.set_obligations(
        session=session, actor=actor, initiative=slug, organisation=org, indicators=body.indicators
    )
    return ObligationsRead(organisation=org, indicators=codes)


# --- outcomes ---------------------------------------------------------------------------------

outcomes = APIRouter(prefix="/initiatives/{slug}/outcomes", tags=["outcomes"])


@outcomes.get(
    "",
    response_model=Page[OutcomeRead],
    responses=_listed(
        "The outcomes.", crud("Outcome", OUTCOME, slug=SLUG, code="$response.body#/items/0/code")
    ),
)
def list_outcomes(slug: str, session: SessionDep, actor: UserDep, page: PageDep, q: Search = None):
    """The initiative's outcomes, in order."""
    return Page[OutcomeRead].model_validate(
        outcome_rules.list_outcomes(
            session=session, actor=actor, initiative=slug, q=q, limit=page.limit, offset=page.offset
        )
    )


@outcomes.post(
    "",
    response_model=OutcomeRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(
        201, "The new outcome.", crud("Outcome", OUTCOME, slug=SLUG, code="$response.body#/code")
    ),
)
def create_outcome(slug: str, body: OutcomeCreate, session: SessionDep, actor: UserDep):
    """Add an outcome (backbone)."""
    return outcome_rules.create_outcome(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@outcomes.get("/{code}", response_model=OutcomeRead, responses=READ)
def get_outcome(slug: str, code: str, session: SessionDep, actor: UserDep):
    """One outcome."""
    return outcome_rules.get_outcome(session=session, actor=actor, initiative=slug, code=code)


@outcomes.patch("/{code}", response_model=OutcomeRead, responses=WRITE)
def update_outcome(slug: str, code: str, body: OutcomeUpdate, session: SessionDep, actor: UserDep):
    """Change an outcome's name, description or position (backbone)."""
    return outcome_rules.update_outcome(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@outcomes.delete("/{code}", response_model=OutcomeRead, responses=WRITE)
def delete_outcome(slug: str, code: str, session: SessionDep, actor: UserDep):
    """Delete an outcome (backbone); refused with 409 while it has indicators."""
    return outcome_rules.delete_outcome(session=session, actor=actor, initiative=slug, code=code)


# --- dimensions -------------------------------------------------------------------------------

dimensions = APIRouter(prefix="/initiatives/{slug}/dimensions", tags=["dimensions"])


@dimensions.get(
    "",
    response_model=Page[DimensionRead],
    responses=_listed(
        "The dimensions.",
        crud("Dimension", DIMENSION, slug=SLUG, code="$response.body#/items/0/code"),
    ),
)
def list_dimensions(slug: str, session: SessionDep, actor: UserDep, page: PageDep):
    """The initiative's disaggregation dimensions with their categories."""
    return Page[DimensionRead].model_validate(
        dimension_rules.list_dimensions(
            session=session, actor=actor, initiative=slug, limit=page.limit, offset=page.offset
        )
    )


@dimensions.post(
    "",
    response_model=DimensionRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(
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
def create_dimension(slug: str, body: DimensionCreate, session: SessionDep, actor: UserDep):
    """Add a dimension with its categories (backbone)."""
    return dimension_rules.create_dimension(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@dimensions.get("/{code}", response_model=DimensionRead, responses=READ)
def get_dimension(slug: str, code: str, session: SessionDep, actor: UserDep):
    """One dimension with its categories."""
    return dimension_rules.get_dimension(session=session, actor=actor, initiative=slug, code=code)


@dimensions.patch("/{code}", response_model=DimensionRead, responses=WRITE)
def update_dimension(
    slug: str, code: str, body: DimensionUpdate, session: SessionDep, actor: UserDep
):
    """Rename or move a dimension; add categories (new code) or rename them (existing code)."""
    return dimension_rules.update_dimension(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@dimensions.delete("/{code}", response_model=DimensionRead, responses=WRITE)
def delete_dimension(slug: str, code: str, session: SessionDep, actor: UserDep):
    """Delete a dimension (backbone); refused with 409 while values use its categories."""
    return dimension_rules.delete_dimension(
        session=session, actor=actor, initiative=slug, code=code
    )


@dimensions.delete("/{code}/categories/{category}", response_model=DimensionRead, responses=WRITE)
def delete_category(slug: str, code: str, category: str, session: SessionDep, actor: UserDep):
    """Delete one category (backbone); refused with 409 while values use it. Answers the
    dimension as it is now."""
    return dimension_rules.delete_category(
        session=session, actor=actor, initiative=slug, code=code, category=category
    )


# --- indicators -------------------------------------------------------------------------------

indicators = APIRouter(prefix="/initiatives/{slug}/indicators", tags=["indicators"])


@indicators.get(
    "",
    response_model=Page[IndicatorRead],
    responses=_listed("The indicators.", _indicator_links("$response.body#/items/0/code")),
)
def list_indicators(
    slug: str,
    session: SessionDep,
    actor: UserDep,
    page: PageDep,
    outcome: Annotated[str | None, Query(description="Outcome code.")] = None,
    measure_type: MeasureType | None = None,
    q: Search = None,
):
    """The initiative's indicators with baseline and targets, in order."""
    return Page[IndicatorRead].model_validate(
        indicator_rules.list_indicators(
            session=session,
            actor=actor,
            initiative=slug,
            outcome=outcome,
            measure_type=measure_type,
            q=q,
            limit=page.limit,
            offset=page.offset,
        )
    )


@indicators.post(
    "",
    response_model=IndicatorRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(201, "The new indicator.", _indicator_links("$response.body#/code")),
)
def create_indicator(slug: str, body: IndicatorCreate, session: SessionDep, actor: UserDep):
    """Add an indicator (backbone), with its dimensions, baseline, end and interim targets."""
    return indicator_rules.create_indicator(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@indicators.get("/{code}", response_model=IndicatorRead, responses=READ)
def get_indicator(slug: str, code: str, session: SessionDep, actor: UserDep):
    """One indicator with its baseline and targets."""
    return indicator_rules.get_indicator(session=session, actor=actor, initiative=slug, code=code)


@indicators.patch("/{code}", response_model=IndicatorRead, responses=WRITE)
def update_indicator(
    slug: str, code: str, body: IndicatorUpdate, session: SessionDep, actor: UserDep
):
    """Change an indicator (backbone). ``dimensions`` and ``targets`` replace their lists;
    ``measure_type`` cannot change once values are reported (409)."""
    return indicator_rules.update_indicator(
        session=session,
        actor=actor,
        initiative=slug,
        code=code,
        changes=body.model_dump(exclude_unset=True),
    )


@indicators.delete("/{code}", response_model=IndicatorRead, responses=WRITE)
def delete_indicator(slug: str, code: str, session: SessionDep, actor: UserDep):
    """Delete an indicator (backbone); refused with 409 once values are reported for it."""
    return indicator_rules.delete_indicator(
        session=session, actor=actor, initiative=slug, code=code
    )


# --- periods ----------------------------------------------------------------------------------

periods = APIRouter(prefix="/initiatives/{slug}/periods", tags=["periods"])


@periods.get(
    "",
    response_model=Page[PeriodRead],
    responses=_listed("The periods.", _period_links("$response.body#/items/0/key")),
)
def list_periods(
    slug: str, session: SessionDep, actor: UserDep, page: PageDep, kind: PeriodKind | None = None
):
    """The initiative's reporting periods, earliest first."""
    return Page[PeriodRead].model_validate(
        period_rules.list_periods(
            session=session,
            actor=actor,
            initiative=slug,
            kind=kind,
            limit=page.limit,
            offset=page.offset,
        )
    )


@periods.post(
    "",
    response_model=PeriodRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(201, "The new period.", _period_links("$response.body#/key")),
)
def create_period(slug: str, body: PeriodCreate, session: SessionDep, actor: UserDep):
    """Add a period from its key (``2025Q3`` or ``2025``); the dates of the reporting window
    default to opening the day after it ends, due 30 and closing 60 days after its end."""
    return period_rules.create_period(
        session=session, actor=actor, initiative=slug, **body.model_dump()
    )


@periods.get("/{key}", response_model=PeriodRead, responses=READ)
def get_period(slug: str, key: str, session: SessionDep, actor: UserDep):
    """One period."""
    return period_rules.get_period(session=session, actor=actor, initiative=slug, key=key)


@periods.patch("/{key}", response_model=PeriodRead, responses=WRITE)
def update_period(slug: str, key: str, body: PeriodUpdate, session: SessionDep, actor: UserDep):
    """Move the reporting window (backbone); opens ≤ due ≤ closes."""
    return period_rules.update_period(
        session=session,
        actor=actor,
        initiative=slug,
        key=key,
        changes=body.model_dump(exclude_unset=True),
    )


@periods.delete("/{key}", response_model=PeriodRead, responses=WRITE)
def delete_period(slug: str, key: str, session: SessionDep, actor: UserDep):
    """Delete a period (backbone); refused with 409 once it has submissions, a publication,
    or holds an indicator's baseline or target."""
    return period_rules.delete_period(session=session, actor=actor, initiative=slug, key=key)


@periods.post(
    "/{key}/lock",
    response_model=PeriodRead,
    responses=_answer(
        200,
        "The locked period.",
        {"UnlockPeriod": link("POST", PERIOD + "/unlock", slug=SLUG, key="$request.path.key")},
    ),
)
def lock_period(slug: str, key: str, session: SessionDep, actor: UserDep):
    """Lock a period: its submissions accept no more writes (backbone)."""
    return period_rules.set_period_locked(
        session=session, actor=actor, initiative=slug, key=key, locked=True
    )


@periods.post("/{key}/unlock", response_model=PeriodRead, responses=WRITE)
def unlock_period(slug: str, key: str, session: SessionDep, actor: UserDep):
    """Unlock a period again (backbone)."""
    return period_rules.set_period_locked(
        session=session, actor=actor, initiative=slug, key=key, locked=False
    )


# --- series breaks ----------------------------------------------------------------------------


class SeriesBreakIn(WriteModel):
    period: str = Field(max_length=16, examples=["2025Q3"])
    note: str = Field(min_length=1, max_length=2000, examples=["New state reading test"])


class SeriesBreakRead(ReadModel):
    period: str
    note: str


@indicators.get("/{code}/breaks", response_model=list[SeriesBreakRead], responses=READ)
def list_breaks(slug: str, code: str, session: SessionDep, actor: UserDep):
    """Periods from which the indicator is measured differently (charts mark them)."""
    return [
        SeriesBreakRead(period=p, note=n)
        for p, n in series_break_rules.list_series_breaks(
            session=session, actor=actor, initiative=slug, code=code
        )
    ]


@indicators.post(
    "/{code}/breaks",
    response_model=SeriesBreakRead,
    status_code=status.HTTP_201_CREATED,
    responses=_answer(
        201,
        "The new break.",
        {
            "DeleteBreak": link(
                "DELETE",
                INDICATOR + "/breaks/{period}",
                slug=SLUG,
                code="$request.path.code",
                period="$response.body#/period",
            ),
            "GetBreaks": link("GET", INDICATOR + "/breaks", slug=SLUG, code="$request.path.code"),
        },
    ),
)
def add_break(slug: str, code: str, body: SeriesBreakIn, session: SessionDep, actor: UserDep):
    """Mark a series break: the definition changed from this period on (backbone)."""
    p, n = series_break_rules.add_series_break(
        session=session, actor=actor, initiative=slug, code=code, period=body.period, note=body.note
    )
    return SeriesBreakRead(period=p, note=n)


@indicators.delete("/{code}/breaks/{period}", response_model=SeriesBreakRead, responses=WRITE)
def remove_break(slug: str, code: str, period: str, session: SessionDep, actor: UserDep):
    """Remove a series break (backbone)."""
    p, n = series_break_rules.remove_series_break(
        session=session, actor=actor, initiative=slug, code=code, period=period
    )
    return SeriesBreakRead(period=p, note=n)


for _sub in (organisations, initiatives, members, outcomes, dimensions, indicators, periods):
    router.include_router(_sub)
