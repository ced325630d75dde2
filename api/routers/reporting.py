"""Submissions: partners' reports per period, their values, the review workflow, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from api.deps import CredentialsDep, LoggedInDep, SessionDep, in_one_trip
from api.idempotency import as_json, run_once
from api.links import ETAG, SLUG, link, links
from api.schemas.common import ErrorRead, Page, RowId
from api.schemas.reporting import (
    CommentIn,
    HistoryEvent,
    SaveRead,
    SubmissionRead,
    SubmissionSummary,
    ValuesPut,
)
from models.core.errors import InvalidInput
from models.core.i18n import gettext
from models.reporting.submissions import (
    SubmissionView,
    get_submission,
    list_submissions,
    save_values,
    transition,
    value_history,
)
from models.reporting.validation import ValueInput

router = APIRouter(prefix="/initiatives/{slug}", tags=["submissions"])

ERRORS = {
    401: {"model": ErrorRead},
    403: {"model": ErrorRead},
    404: {"model": ErrorRead},
    409: {"model": ErrorRead},
    412: {"model": ErrorRead},
    422: {"model": ErrorRead},
}

SUBMISSION = "/initiatives/{slug}/submissions/{org}/{period}"


def _next(*steps: str, body: str | None = None) -> dict[str, dict]:
    """Links from an answer about the submission in the request path to its next ``steps``
    ("get", "put" or a transition), with its ETag as ``If-Match``; ``body`` points at the
    submission's values for a link to a value's history."""
    here = {"slug": SLUG, "org": "$request.path.org", "period": "$request.path.period"}
    found = {}
    for step in steps:
        if step == "get":
            found["GetSubmission"] = link("GET", SUBMISSION, **here)
        elif step == "put":
            found["PutValues"] = link("PUT", SUBMISSION, **here, **{"header.If-Match": ETAG})
        else:
            target = f"{SUBMISSION}/{step}"
            found[f"{step.title()}Submission"] = link(
                "POST", target, **here, **{"header.If-Match": ETAG}
            )
    if body is not None:
        found["GetValueHistory"] = link(
            "GET", "/initiatives/{slug}/values/{value_id}/history", slug=SLUG, value_id=body
        )
    return found


# What may follow each answer about a submission.
NEXT_STEPS = {
    "get": ("put", "submit", "approve", "return", "reopen"),
    "put": ("get", "submit"),
    "submit": ("get", "approve", "return"),
    "approve": ("get", "reopen"),
    "return": ("get", "put", "submit"),
    "reopen": ("get", "put", "submit"),
}


def _responses(description: str, *steps: str, body: str | None = None) -> dict[int | str, dict]:
    return {**ERRORS, 200: links(description, _next(*steps, body=body))}


def _parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is true, but int("²") fails
        raise InvalidInput(
            gettext('If-Match must be the submission\'s ETag, e.g. "3"'), field="If-Match"
        )
    return int(raw)


def _read(view: SubmissionView) -> SubmissionRead:
    return SubmissionRead.model_validate(view, from_attributes=True)


IfMatch = Annotated[str | None, Header(alias="If-Match", description='ETag, e.g. "3"')]
IdemKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Replays answer the same.",
    ),
]


@router.get(
    "/submissions",
    response_model=Page[SubmissionSummary],
    responses={
        **ERRORS,
        200: links(
            "The submissions.",
            {
                "GetSubmission": link(
                    "GET",
                    SUBMISSION,
                    slug=SLUG,
                    org="$response.body#/items/0/organisation",
                    period="$response.body#/items/0/period",
                )
            },
        ),
    },
)
def submissions(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    period: str | None = None,
    org: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Submissions of the initiative (backbone: all; reporters: their organisation's)."""
    rows, total = list_submissions(
        session=session,
        actor=actor,
        initiative_slug=slug,
        period=period,
        org=org,
        status=status,
        limit=limit,
        offset=offset,
    )
    return Page[SubmissionSummary](items=rows, total=total, limit=limit, offset=offset)


@router.get(
    "/submissions/{org}/{period}",
    response_model=SubmissionRead,
    responses=_responses("The submission.", *NEXT_STEPS["get"], body="$response.body#/values/0/id"),
)
async def read_submission(
    slug: str, org: str, period: str, request: Request, credentials: CredentialsDep
):
    """One member's report for one period, with its values, warnings and missing obligations.

    A submission not started yet answers status `not_started` and version 0.
    """

    # Partners read their report before each save: half the requests of a deadline. One trip
    # to the thread pool (who is asking, the report, the end of the transaction), on the
    # primary: the ETag goes back with the next write.
    def answer(session, actor) -> JSONResponse:
        view = get_submission(
            session=session, actor=actor, initiative_slug=slug, org_slug=org, period_key=period
        )
        return JSONResponse(as_json(_read(view)), headers={"ETag": view.etag})

    return await in_one_trip(request, credentials, answer, on_primary=True)


@router.put(
    "/submissions/{org}/{period}",
    response_model=SaveRead,
    responses=_responses(
        "The saved draft and what changed.",
        *NEXT_STEPS["put"],
        body="$response.body#/submission/values/0/id",
    ),
)
def put_values(
    slug: str,
    org: str,
    period: str,
    body: ValuesPut,
    request: Request,
    session: SessionDep,
    actor: LoggedInDep,
    if_match: IfMatch = None,
    idempotency_key: IdemKey = None,
):
    """Upsert the draft's values in one request: all valid and written, or nothing written.

    Send `If-Match` with the ETag you read to refuse (412) a write over someone else's.
    Warnings (breakdowns that don't add up, values far from history) come back as flags.
    """
    expected = _parse_if_match(if_match)

    def handler():
        result = save_values(
            session=session,
            actor=actor,
            initiative_slug=slug,
            org_slug=org,
            period_key=period,
            inputs=[ValueInput(**v.model_dump()) for v in body.values],
            expected_version=expected,
            reason=body.reason,
        )
        read = SaveRead.model_validate(result, from_attributes=True)
        return 200, read, {"ETag": result.submission.etag}

    return run_once(
        session=session,
        actor=actor,
        key=idempotency_key,
        method="PUT",
        path=request.url.path,
        fingerprint_body=(body.model_dump_json() + f"|{if_match}").encode(),
        handler=handler,
    )


def _transition_route(action: str):
    def route(
        slug: str,
        org: str,
        period: str,
        request: Request,
        session: SessionDep,
        actor: LoggedInDep,
        if_match: IfMatch = None,
        idempotency_key: IdemKey = None,
        body: CommentIn | None = None,
    ):
        expected = _parse_if_match(if_match)

        def handler():
            view = transition(
                session=session,
                actor=actor,
                initiative_slug=slug,
                org_slug=org,
                period_key=period,
                action=action,
                comment=body.comment if body else None,
                expected_version=expected,
            )
            return 200, _read(view), {"ETag": view.etag}

        return run_once(
            session=session,
            actor=actor,
            key=idempotency_key,
            method="POST",
            path=request.url.path,
            fingerprint_body=((body.model_dump_json() if body else "") + f"|{if_match}").encode(),
            handler=handler,
        )

    return route


_DOCS = {
    "submit": "Submit a draft (or a returned submission) for review; late if past the due date.",
    "approve": "Approve a submitted report (backbone). Approved values are locked.",
    "return": "Return a submitted report to its partner with a required `comment` (backbone).",
    "reopen": "Reopen an approved report for a correction, with a required `comment` (backbone).",
}
for _action, _doc in _DOCS.items():
    _route = _transition_route(_action)
    _route.__doc__ = _doc
    router.add_api_route(
        f"/submissions/{{org}}/{{period}}/{_action}",
        _route,
        methods=["POST"],
        response_model=SubmissionRead,
        responses=_responses("The submission after the step.", *NEXT_STEPS[_action]),
        name=f"{_action}_submission",
        summary=f"{_action.title()} a submission",
    )


@router.get("/values/{value_id}/history", response_model=list[HistoryEvent], responses=ERRORS)
def history(slug: str, value_id: RowId, session: SessionDep, actor: LoggedInDep):
    """Every change of one value, oldest first: who, when, before, after, why.

    A value loaded without recorded changes answers one `create` with its stored figures; who
    and when are then its submission's submitter and submission time (null if not submitted).
    """
    return [
        HistoryEvent.model_validate(e)
        for e in value_history(
            session=session, actor=actor, initiative_slug=slug, value_id=value_id
        )
    ]
