"""Spreadsheets: import templates, imports (CSV/XLSX) and exports. HTTP only; the rules live in
models/spreadsheets/ (templates, imports, exports).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Iterator
from tempfile import SpooledTemporaryFile
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute

from api.deps import LoggedInDep, SessionDep
from api.errors import error_body
from api.idempotency import run_once
from api.schemas.common import ErrorRead
from api.schemas.spreadsheets import (
    ImportRead,
    ImportRejectedRead,
)
from models.core.i18n import gettext
from models.core.settings import get_settings
from models.spreadsheets.exports import (
    MEDIA_TYPES,
    ExportFilters,
    csv_chunks,
    json_chunks,
    prepare_export,
    write_xlsx,
)
from models.spreadsheets.imports import FileTooLarge, UnsupportedFile, import_file
from models.spreadsheets.templates import Template, build_template, template_csv, template_xlsx

# Multipart framing around the file (boundaries, part headers, the query-less form fields).
MULTIPART_SLACK = 64 * 1024
_CHUNK = 1024 * 1024


class _BodyTooLarge(HTTPException):
    """Raised from the counting receive; an HTTPException so FastAPI passes it through as is."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        error_body(
            gettext(
                "the file is larger than the limit of %(limit)s; split it into smaller files",
                limit=_megabytes(limit),
            ),
            "file_too_large",
            "file",
            limit=limit,
        ),
        status_code=413,
    )


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


class UploadLimitRoute(APIRoute):
    """Refuse an upload past ``CM_IMPORT_MAX_BYTES`` while it arrives, not after spooling it all:
    by ``Content-Length`` up front, and by counting the body for chunked uploads."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method != "POST":
                return await handler(request)
            limit = get_settings().import_max_bytes
            allowed = limit + MULTIPART_SLACK
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > allowed:
                return _too_large(limit)
            received = 0
            receive = request.receive

            async def counting_receive():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > allowed:
                        raise _BodyTooLarge
                return message

            try:
                return await handler(Request(request.scope, counting_receive))
            except _BodyTooLarge:
                return _too_large(limit)

        return limited


router = APIRouter(
    prefix="/initiatives/{slug}", tags=["spreadsheets"], route_class=UploadLimitRoute
)
ERRORS = {
    401: {"model": ErrorRead},
    403: {"model": ErrorRead},
    404: {"model": ErrorRead},
    422: {"model": ErrorRead},
}
IdemKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Replays answer the same.",
    ),
]


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _private_attachment(filename: str) -> dict[str, str]:
    """A member's obligations and draft values: kept by no shared cache, nor stored."""
    return {**_attachment(filename), "Cache-Control": "private, no-store"}


# --- templates ------------------------------------------------------------------------------

OrgQuery = Annotated[
    str | None,
    Query(max_length=80, description="Organisation slug; default: every one you report for."),
]
PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        description="Period key; default: the latest period the members' reporters may write "
        "today (open, or closed with their deadline extended).",
    ),
]


@router.get(
    "/template.csv",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
)
def csv_template(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    org: OrgQuery = None,
    period: PeriodQuery = None,
):
    """A CSV import template pre-filled with the member's obligations and draft values."""
    template = build_template(
        session=session, actor=actor, initiative_slug=slug, org_slug=org, period_key=period
    )
    return Response(
        template_csv(template),
        media_type=MEDIA_TYPES["csv"],
        headers=_private_attachment(template.filename("csv")),
    )


@router.get(
    "/template.xlsx",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {MEDIA_TYPES["xlsx"]: {}}}},
)
def xlsx_template(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    org: OrgQuery = None,
    period: PeriodQuery = None,
):
    """An Excel import template: drop-downs of allowed disaggregations, whole-number checks,
    and an Instructions sheet."""
    template = build_template(
        session=session, actor=actor, initiative_slug=slug, org_slug=org, period_key=period
    )
    return xlsx_template_response(template)


def xlsx_template_response(template: Template) -> Response:
    """The Excel template as an attachment; also the browser download's answer
    (api.web_downloads), so both send the same file with the same headers."""
    return Response(
        template_xlsx(template),
        media_type=MEDIA_TYPES["xlsx"],
        headers=_private_attachment(template.filename("xlsx")),
    )


def _digest(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of the spooled upload, read in chunks, then rewound."""
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


@router.post(
    "/imports",
    response_model=ImportRead,
    responses={
        **ERRORS,
        413: {"model": ErrorRead, "description": "File or row count over the limit."},
        415: {"model": ErrorRead, "description": "Not a CSV or Excel workbook."},
        422: {
            "model": ImportRejectedRead | ErrorRead,
            "description": "Rows with problems (nothing written), or a malformed request.",
        },
    },
)
def import_values(
    slug: str,
    request: Request,
    session: SessionDep,
    actor: LoggedInDep,
    file: Annotated[UploadFile, File(description="A CSV or Excel (.xlsx) file.")],
    dry_run: Annotated[bool, Query(description="Check everything, write nothing.")] = False,
    org: Annotated[
        str | None, Query(max_length=80, description="Organisation for rows without one.")
    ] = None,
    period: Annotated[
        str | None, Query(max_length=16, description="Period for rows without one.")
    ] = None,
    idempotency_key: IdemKey = None,
):
    """Import values from a spreadsheet: every row valid and written, or nothing written.

    Answers 200 with per-submission counts, or 422 listing each bad row with its column and
    reason. Uploading the same file again changes nothing. The file's SHA-256 is the
    `Idempotency-Key` fingerprint.
    """
    limit = get_settings().import_max_bytes
    digest, size = _digest(file.file)
    if size > limit:
        return _too_large(limit)
    filename = file.filename or "upload"

    def handler():
        file.file.seek(0)
        try:
            report = import_file(
                session=session,
                actor=actor,
                initiative_slug=slug,
                stream=file.file,
                filename=file.filename or None,
                content_type=file.content_type,
                dry_run=dry_run,
                default_org=org,
                default_period=period,
            )
        except FileTooLarge as exc:
            return 413, error_body(exc.message, exc.code, "file", **exc.extra), {}
        except UnsupportedFile as exc:
            return 415, error_body(exc.message, exc.code, "file"), {}
        body = report.as_dict()
        if report.ok:
            return 200, body, {}
        return 422, {**body, "detail": report.message, "code": "invalid_file"}, {}

    return run_once(
        session=session,
        actor=actor,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        fingerprint_body=f"{digest}|{filename}|{dry_run}|{org}|{period}".encode(),
        handler=handler,
    )


# --- exports --------------------------------------------------------------------------------


def _file_chunks(spooled: SpooledTemporaryFile) -> Iterator[bytes]:
    try:
        spooled.seek(0)
        while chunk := spooled.read(_CHUNK):
            yield chunk
    finally:
        spooled.close()


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        **ERRORS,
        200: {"content": {MEDIA_TYPES["csv"]: {}, MEDIA_TYPES["xlsx"]: {}, "application/json": {}}},
    },
)
def export_values(
    slug: str,
    session: SessionDep,
    actor: LoggedInDep,
    fmt: Annotated[Literal["csv", "xlsx", "json"], Query(alias="format")] = "csv",
    period_from: Annotated[str | None, Query(max_length=16)] = None,
    period_to: Annotated[str | None, Query(max_length=16)] = None,
    outcome: Annotated[str | None, Query(max_length=60)] = None,
    indicator: Annotated[str | None, Query(max_length=60)] = None,
    org: Annotated[str | None, Query(max_length=80)] = None,
    status: Annotated[str | None, Query(max_length=12)] = None,
):
    """Every value you may see, one row each (backbone: all; reporters: their organisation's).

    CSV and Excel text cells that could run as formulas are prefixed with `'`.
    """
    export = prepare_export(
        session=session,
        actor=actor,
        initiative_slug=slug,
        filters=ExportFilters(period_from, period_to, outcome, indicator, org, status),
    )
    headers = _attachment(export.filename(fmt))
    if fmt == "csv":
        return StreamingResponse(csv_chunks(export), media_type=MEDIA_TYPES["csv"], headers=headers)
    if fmt == "json":
        return StreamingResponse(
            json_chunks(export), media_type=MEDIA_TYPES["json"], headers=headers
        )
    spooled = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by _file_chunks
    write_xlsx(export, spooled)
    return StreamingResponse(_file_chunks(spooled), media_type=MEDIA_TYPES["xlsx"], headers=headers)
