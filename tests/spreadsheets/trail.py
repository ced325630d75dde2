"""A reporting story of imports, saves and reviews, and every answer the trail gives about it.

Used by the import trail's tests and by the migration that compacts import trails: whatever
form the trail has, the answers (each value's history, each report's changes since its
previous version) must be the same.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access.permissions import actor_for_user
from models.core.actors import Actor
from models.reporting.submissions import save_values, transition, value_history
from models.reporting.validation import ValueInput
from models.reporting.versions import submission_changes
from models.spreadsheets.imports import import_file
from models.tables.audit import AuditEvent
from models.tables.reporting import Value

from .. import factories as f
from .conftest import build_world

COLUMNS = ("organisation", "period", "indicator", "disaggregation", "value", "numerator")
COLUMNS += ("denominator", "note")


def csv_of(*rows: tuple[Any, ...]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue().encode()


FIRST = csv_of(
    ("eastside", "2025Q3", "K_READY", "total", None, 45, 90, None),
    ("eastside", "2025Q3", "K_READY", "race=black", None, 20, 50, None),
    ("eastside", "2025Q3", "K_READY", "race=white", None, 25, 40, None),
    ("eastside", "2025Q3", "SERVED", "total", 120, None, None, "first count"),
    ("eastside", "2025Q3", "SCORE", "total", 231.5, None, 88, None),
    ("westside", "2025Q3", "SERVED", "total", 80, None, None, None),
)
# After the return: SERVED and SCORE's note change, the rest is as it was.
SECOND = csv_of(
    ("eastside", "2025Q3", "K_READY", "total", None, 45, 90, None),
    ("eastside", "2025Q3", "SERVED", "total", 125, None, None, "recounted"),
    ("eastside", "2025Q3", "SCORE", "total", 231.5, None, 88, "moved up"),
)
THIRD = csv_of(("westside", "2025Q3", "SERVED", "total", 81, None, None, None))


def tell(session: Session) -> dict[str, Actor]:
    """Build the spreadsheets' world and play the story on it; commits."""
    world = build_world(session)
    users = {
        "reporter": f.user(session, "reporter", org=world["east"].organisation),
        "backbone": f.user(session, "backbone", init=world["init"]),
    }
    session.commit()
    actors = {name: actor_for_user(session=session, user=u) for name, u in users.items()}
    reporter, backbone = actors["reporter"], actors["backbone"]
    report = {"initiative_slug": "c2c", "org_slug": "eastside", "period_key": "2025Q3"}

    def imported(actor: Actor, body: bytes, name: str) -> None:
        result = import_file(
            session=session,
            actor=actor,
            initiative_slug="c2c",
            stream=io.BytesIO(body),
            filename=name,
            content_type="text/csv",
        )
        assert result.ok and result.written, result.as_dict()
        session.commit()

    imported(backbone, FIRST, "first.csv")
    transition(session=session, actor=reporter, action="submit", **report)
    transition(session=session, actor=backbone, action="return", comment="check SERVED", **report)
    session.commit()
    imported(reporter, SECOND, "second.csv")
    save_values(
        session=session,
        actor=reporter,
        inputs=[
            ValueInput("SERVED", value=126, note="recounted"),
            ValueInput("SCORE", remove=True),
        ],
        reason="a typo",
        **report,
    )
    transition(session=session, actor=reporter, action="submit", **report)
    session.commit()
    imported(backbone, THIRD, "third.csv")
    return actors


def answers(session: Session, backbone: Actor) -> dict[str, Any]:
    """Every value's history (removed ones too) and each report's changes since its previous
    version, as the backbone team reads them."""
    session.expire_all()
    ids = set(session.scalars(select(Value.id)))
    ids |= {
        e.entity_id
        for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "delete"))
        if e.entity_type == "value" and e.entity_id is not None
    }
    histories = {
        value_id: value_history(
            session=session, actor=backbone, initiative_slug="c2c", value_id=value_id
        )
        for value_id in sorted(ids)
    }
    changes = {
        org: submission_changes(
            session=session,
            actor=backbone,
            initiative_slug="c2c",
            org_slug=org,
            period_key="2025Q3",
        )
        for org in ("eastside", "westside")
    }
    return {"histories": histories, "changes": changes}
