"""Every table, one module per feature; importing this package registers them all on
`Base.metadata` (what Alembic and the tests compare against)."""

from bot.db.models.base import Base, UTCDateTime, enum_column, new_public_id
from bot.db.models.context import Change, Provider
from bot.db.models.incidents import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    IncidentComponent,
    Maintenance,
    Promise,
    TimelineEvent,
)
from bot.db.models.monitoring import CheckResult, Episode, Signal
from bot.db.models.queue import KeyValue, OutboxMessage, ProcessedRequest
from bot.db.models.subscribers import RateLimitHit, Subscriber

__all__ = [
    "Base",
    "Change",
    "CheckResult",
    "Component",
    "Episode",
    "ComponentGroup",
    "ComponentStatusChange",
    "Incident",
    "IncidentComponent",
    "KeyValue",
    "Maintenance",
    "OutboxMessage",
    "ProcessedRequest",
    "Promise",
    "Provider",
    "RateLimitHit",
    "Signal",
    "Subscriber",
    "TimelineEvent",
    "UTCDateTime",
    "enum_column",
    "new_public_id",
]
