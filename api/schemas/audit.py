"""Bodies of the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.schemas.common import ReadModel


class AuditEventRead(ReadModel):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_label: str
    initiative: str | None
    entity_type: str
    entity_id: int | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
