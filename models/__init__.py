"""The domain of Common Measure: tables and the rules over them.

Imports neither FastAPI nor Dash: the API and the dashboard both call these functions with the
acting user, so every rule (validation, workflow, rollups, suppression, permissions) lives once.
"""

from models.tables.access import ApiKey, RoleGrant, User
from models.tables.audit import AuditEvent
from models.tables.base import Base
from models.tables.counters import SharedCounter
from models.tables.idempotency import IdempotencyRecord
from models.tables.indicator import (
    Category,
    Dimension,
    GapTarget,
    Indicator,
    IndicatorTarget,
    Obligation,
    Outcome,
    SeriesBreak,
    indicator_contributions,
    indicator_dimensions,
)
from models.tables.initiative import Initiative, Member, Period
from models.tables.notifications import (
    MailBounce,
    MailboxMessage,
    NotificationPreference,
    OutboxMessage,
    ReminderSchedule,
)
from models.tables.organisation import Organisation
from models.tables.publication import Publication
from models.tables.reporting import DeadlineExtension, Submission, Value
from models.tables.revisions import (
    AccessRevision,
    DataRevision,
    FigureRevision,
    ReportStamp,
)
from models.tables.rollups import PartnerTotals, RollupRow
from models.tables.story import StoryVersion
from models.tables.strategy import (
    Strategy,
    StrategyAction,
    strategy_indicators,
    strategy_owners,
)
from models.tables.translation import ContentTranslation
from models.tables.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccessRevision",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Category",
    "ContentTranslation",
    "DataRevision",
    "DeadlineExtension",
    "Dimension",
    "FigureRevision",
    "GapTarget",
    "IdempotencyRecord",
    "Indicator",
    "IndicatorTarget",
    "Initiative",
    "MailBounce",
    "MailboxMessage",
    "Member",
    "NotificationPreference",
    "Obligation",
    "Organisation",
    "OutboxMessage",
    "Outcome",
    "PartnerTotals",
    "Period",
    "Publication",
    "ReminderSchedule",
    "ReportStamp",
    "RoleGrant",
    "RollupRow",
    "SeriesBreak",
    "SharedCounter",
    "StoryVersion",
    "Strategy",
    "StrategyAction",
    "Submission",
    "User",
    "Value",
    "WebhookDelivery",
    "WebhookEndpoint",
    "indicator_contributions",
    "indicator_dimensions",
    "strategy_indicators",
    "strategy_owners",
]
