"""Bodies of templates, imports and exports."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import ReadModel

# --- imports --------------------------------------------------------------------------------


class ImportSubmissionRead(ReadModel):
    organisation: str
    period: str
    created: int
    updated: int
    unchanged: int
    removed: int
    status: str
    version: int


class RowErrorRead(ReadModel):
    row: int = Field(description="The file's row number; the header is row 1.")
    column: str
    reason: str


class ImportRead(ReadModel):
    dry_run: bool
    file: str
    rows: int = Field(description="Non-blank data rows read.")
    skipped: int = Field(description="Rows without any number or note (left empty).")
    submissions: list[ImportSubmissionRead]
    created: int
    updated: int
    unchanged: int
    errors: list[RowErrorRead]
    error_count: int = Field(description="All problems; `errors` lists the first 1000.")
    message: str


class ImportRejectedRead(ImportRead):
    detail: str
    code: str
