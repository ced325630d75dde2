"""Deadline extensions: one partner's report written after its period closed. HTTP only; the
rules are in models/reporting/deadlines.py (and the window itself in
models/reporting/submissions.py, ``check_writable``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import LoggedInDep, PageDep, SessionDep
from api.links import SLUG, link
from api.responses import READ, WRITE, answer, errors, listed
from api.routers.reporting import IfMatch, _parse_if_match
from api.schemas.common import ErrorRead, Page
from api.schemas.reporting import (
    ExtensionPut,
    ExtensionRead,
    NextDeadlineAnswer,
    NextDeadlineRead,
    ReturnedWithExtensionRead,
    ReturnWithExtensionIn,
    SubmissionRead,
)
from models.reporting import deadlines

router = APIRouter(prefix="/initiatives/{slug}", tags=["deadline extensions"])

EXTENSION = "/initiatives/{slug}/deadline-extensions/{org}/{period}"
HERE = {"slug": SLUG, "org": "$request.path.org", "period": "$request.path.period"}


def _extension_links(**where: str) -> dict[str, dict]:
    return {
        "GetExtension": link("GET", EXTENSION, **where),
        "PutExtension": link("PUT", EXTENSION, **where),
        "DeleteExtension": link("DELETE", EXTENSION, **where),
    }


def _read(view: deadlines.ExtensionView) -> ExtensionRead:
    return ExtensionRead.model_validate(view, from_attributes=True)


@router.get(
    "/deadline-extensions",
    response_model=Page[ExtensionRead],
    responses={
        **listed(
            "The extensions.",
            _extension_links(
                slug=SLUG,
                org="$response.body#/items/0/organisation",
                period="$response.body#/items/0/period",
            ),
        ),
        **errors(403),
    },
)
def list_extensions(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    page: PageDep,
    period: str | None = None,
    org: str | None = None,
):
    """The initiative's deadline extensions, latest period first (backbone: all; reporters:
    their organisation's; funders: 403)."""
    found = deadlines.list_extensions(
        session=session,
        actor=actor,
        initiative_slug=slug,
        period=period,
        org=org,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[ExtensionRead](
        items=[_read(v) for v in found.items],
        total=found.total,
        limit=found.limit,
        offset=found.offset,
    )


@router.get("/members/{org}/next-deadline", response_model=NextDeadlineAnswer, responses=READ)
def get_next_deadline(slug: str, org: str, session: SessionDep, actor: LoggedInDep):
    """The partner's next deadline and the days left (the portal shows it), taking its
    deadline extensions into account: the backbone team and the partner's reporters."""
    found = deadlines.next_deadline(
        session=session, actor=actor, initiative_slug=slug, org_slug=org
    )
    return NextDeadlineAnswer(
        next=None if found is None else NextDeadlineRead.model_validate(found)
    )


@router.get(
    "/deadline-extensions/{org}/{period}",
    response_model=ExtensionRead,
    responses=READ,
)
def get_extension(slug: str, org: str, period: str, session: SessionDep, actor: LoggedInDep):
    """One partner's extension for one period (404 when it has none): the backbone team and
    the partner's reporters."""
    return _read(
        deadlines.get_extension(
            session=session, actor=actor, initiative_slug=slug, org_slug=org, period_key=period
        )
    )


@router.put(
    "/deadline-extensions/{org}/{period}",
    response_model=ExtensionRead,
    responses=answer(200, "The extension as granted.", _extension_links(**HERE)),
)
def put_extension(
    slug: str, org: str, period: str, body: ExtensionPut, session: SessionDep, actor: LoggedInDep
):
    """Let one partner save, upload and submit its report for a closed period until `until`
    (inclusive), or move that day (backbone). The period stays closed for everyone else; a
    locked period answers 409. `until` must fall after the period closes and not in the past
    (422 naming `until`). Audited with the reason."""
    return _read(
        deadlines.grant_extension(
            session=session,
            actor=actor,
            initiative_slug=slug,
            org_slug=org,
            period_key=period,
            until=body.until,
            reason=body.reason,
        )
    )


@router.delete("/deadline-extensions/{org}/{period}", response_model=ExtensionRead, responses=WRITE)
def delete_extension(slug: str, org: str, period: str, session: SessionDep, actor: LoggedInDep):
    """End a partner's extension now (backbone); the period's own window applies again.
    Answers the extension as it was. Audited."""
    return _read(
        deadlines.revoke_extension(
            session=session, actor=actor, initiative_slug=slug, org_slug=org, period_key=period
        )
    )


@router.post(
    "/submissions/{org}/{period}/return-with-extension",
    response_model=ReturnedWithExtensionRead,
    responses={
        **answer(
            200,
            "The returned submission and the extension.",
            {
                "GetSubmission": link(
                    "GET", "/initiatives/{slug}/submissions/{org}/{period}", **HERE
                ),
                **_extension_links(**HERE),
            },
        ),
        412: {"model": ErrorRead, "description": "If-Match names a stale version."},
    },
)
def return_with_extension(
    slug: str,
    org: str,
    period: str,
    body: ReturnWithExtensionIn,
    session: SessionDep,
    actor: LoggedInDep,
    if_match: IfMatch = None,
):
    """Return a submitted report to its partner with a `comment` and extend the partner's
    deadline to `until` in one step (backbone), for a report whose period has closed: both
    happen or neither. The comment is the extension's reason."""
    view, extension = deadlines.return_with_extension(
        session=session,
        actor=actor,
        initiative_slug=slug,
        org_slug=org,
        period_key=period,
        comment=body.comment,
        until=body.until,
        expected_version=_parse_if_match(if_match),
    )
    read = ReturnedWithExtensionRead(
        submission=SubmissionRead.model_validate(view, from_attributes=True),
        extension=_read(extension),
    )
    return JSONResponse(jsonable_encoder(read), headers={"ETag": view.etag})
