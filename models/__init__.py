"""The domain of Common Measure: tables and the rules over them.

Imports neither FastAPI nor Dash: the API and the dashboard both call these functions with the
acting user, so every rule (validation, workflow, rollups, suppression, permissions) lives once.
"""

from models.audit import AuditEvent
from models.auth import ApiKey, RoleGrant, User
from models.base import Base
from models.idempotency import IdempotencyRecord
from models.indicator import (
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    Obligation,
    Outcome,
    SeriesBreak,
    indicator_dimensions,
)
from models.initiative import Initiative, Member, Period
from models.organisation import Organisation
from models.publication import Publication
from models.reporting import Submission, Value
from models.rollup_table import RollupRow

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Category",
    "Dimension",
    "IdempotencyRecord",
    "Indicator",
    "IndicatorTarget",
    "Initiative",
    "Member",
    "Obligation",
    "Organisation",
    "Outcome",
    "Period",
    "Publication",
    "RoleGrant",
    "RollupRow",
    "SeriesBreak",
    "Submission",
    "User",
    "Value",
    "indicator_dimensions",
]
