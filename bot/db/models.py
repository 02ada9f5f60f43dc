"""The incident domain's tables (SQLAlchemy 2 typed declarative)."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.text.status import (
    COMPONENT_RANK,
    ComponentStatus,
    EventKind,
    IncidentStatus,
    MaintenanceStatus,
    Severity,
)

__all__ = [
    "COMPONENT_RANK",
    "ComponentStatus",
    "EventKind",
    "IncidentStatus",
    "MaintenanceStatus",
    "Severity",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_public_id() -> str:
    """12 characters of lowercase base32, like Statuspage's ids."""
    return "".join(secrets.choice(_BASE32) for _ in range(12))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(
        cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=length,
        validate_strings=True,
        name=cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class ComponentGroup(Base):
    __tablename__ = "component_groups"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Component(Base):
    __tablename__ = "components"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_public_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("component_groups.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    showcase: Mapped[bool] = mapped_column(Boolean, default=True)
    only_show_if_degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The public level: computed by bot.incidents.levels from what holds it, never set directly.
    status: Mapped[ComponentStatus] = mapped_column(
        _enum(ComponentStatus), default=ComponentStatus.OPERATIONAL
    )
    # A level set by hand (`/incident component`), held until set back to operational.
    manual_status: Mapped[ComponentStatus | None] = mapped_column(_enum(ComponentStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    group: Mapped[ComponentGroup | None] = relationship(lazy="joined")


class ComponentStatusChange(Base):
    """Every public level a component has had (uptime bars, history), and every manual
    setting: who or what changed it, from what, and why."""

    __tablename__ = "component_status_changes"
    __table_args__ = (Index("ix_component_status_changes_component_at", "component_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id"))
    status: Mapped[ComponentStatus] = mapped_column(_enum(ComponentStatus))
    previous: Mapped[ComponentStatus | None] = mapped_column(_enum(ComponentStatus))
    at: Mapped[datetime]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    actor: Mapped[str | None] = mapped_column(String(64))
    cause: Mapped[str | None] = mapped_column(String(300))


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    title: Mapped[str] = mapped_column(String(200))
    public_title: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[Severity] = mapped_column(_enum(Severity))
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus), default=IncidentStatus.INVESTIGATING
    )
    internal_only: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_by: Mapped[str] = mapped_column(String(64))
    commander_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    declared_at: Mapped[datetime]
    impact_started_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    last_public_update_at: Mapped[datetime | None]
    identified_at: Mapped[datetime | None]
    monitoring_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # The promise customers have read (never moves later); None until the first public update.
    next_update_due: Mapped[datetime | None]
    # When reminders aim: the promise, or declared_at + cadence before going public.
    reminder_due: Mapped[datetime | None] = mapped_column(index=True)
    snoozed_until: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    @property
    def is_public(self) -> bool:
        return self.published_at is not None and not self.internal_only


class IncidentComponent(Base):
    """The level an incident currently gives a component (its impact on it)."""

    __tablename__ = "incident_components"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id"), primary_key=True)
    status: Mapped[ComponentStatus] = mapped_column(_enum(ComponentStatus))

    component: Mapped[Component] = relationship(lazy="joined")


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    body: Mapped[str | None] = mapped_column(Text)
    # For public updates: the incident status published with it.
    status: Mapped[IncidentStatus | None] = mapped_column(_enum(IncidentStatus))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def is_public(self) -> bool:
        return self.kind == EventKind.PUBLIC_UPDATE


class Promise(Base):
    """A published "next update by" time, and whether an update came by then."""

    __tablename__ = "promises"
    __table_args__ = (UniqueConstraint("incident_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    made_at: Mapped[datetime]
    due_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    kept: Mapped[bool | None] = mapped_column(Boolean)


class Maintenance(Base):
    __tablename__ = "maintenances"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MaintenanceStatus] = mapped_column(
        _enum(MaintenanceStatus), default=MaintenanceStatus.SCHEDULED
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    component_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Public updates of the maintenance: [{"id", "status", "body", "at"}], oldest first.
    updates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class OutboxMessage(Base):
    """A side effect to perform after commit (Slack, mail, webhook). `key` makes it idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Messages with the same ordering key are delivered strictly in id order.
    ordering_key: Mapped[str | None] = mapped_column(String(64), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    dead: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessedRequest(Base):
    """Slack invocations already handled (trigger ids, retried events, view submissions)."""

    __tablename__ = "processed_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    result: Mapped[str | None] = mapped_column(Text)


class KeyValue(Base):
    """Small named state: data version, board message, secret key, scheduler heartbeat."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    number: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime | None]


class Subscriber(Base):
    """A customer who gets public updates by email or webhook (`kind`), once confirmed.

    `component_keys` empty means every component. Unsubscribing deletes the row: Flare keeps
    no list of people who left.
    """

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(2000))
    component_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    confirmations_sent: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivered_at: Mapped[datetime | None]


class RateLimitHit(Base):
    """One counted request in a rate-limit bucket (per IP, per address); shared by processes."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(index=True)
