"""Incidents, their timeline and promises; components, their levels and history;
maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.models.base import Base, enum_column, new_public_id
from bot.text.status import (
    ComponentStatus,
    EventKind,
    IncidentStatus,
    MaintenanceStatus,
    Severity,
)


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
        enum_column(ComponentStatus), default=ComponentStatus.OPERATIONAL
    )
    # A level set by hand (`/incident component`), held until set back to operational.
    manual_status: Mapped[ComponentStatus | None] = mapped_column(enum_column(ComponentStatus))
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
    status: Mapped[ComponentStatus] = mapped_column(enum_column(ComponentStatus))
    previous: Mapped[ComponentStatus | None] = mapped_column(enum_column(ComponentStatus))
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
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    status: Mapped[IncidentStatus] = mapped_column(
        enum_column(IncidentStatus), default=IncidentStatus.INVESTIGATING
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
    status: Mapped[ComponentStatus] = mapped_column(enum_column(ComponentStatus))

    component: Mapped[Component] = relationship(lazy="joined")


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    body: Mapped[str | None] = mapped_column(Text)
    # For public updates: the incident status published with it.
    status: Mapped[IncidentStatus | None] = mapped_column(enum_column(IncidentStatus))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def is_public(self) -> bool:
        return self.kind == EventKind.PUBLIC_UPDATE


class Promise(Base):
    """A published "next update by" time, and whether an update came by then. One per
    publishing instant: two updates may promise the same time, and each is counted."""

    __tablename__ = "promises"
    __table_args__ = (UniqueConstraint("incident_id", "made_at"),)

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
        enum_column(MaintenanceStatus), default=MaintenanceStatus.SCHEDULED
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Set when the window was called off: it ended (completed) without doing its work.
    cancelled_at: Mapped[datetime | None]
    component_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Public updates of the maintenance: [{"id", "status", "body", "at"}], oldest first.
    updates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    @property
    def ref(self) -> str:
        """`MNT-<n>`: the window's number, as people name it in commands."""
        return f"MNT-{self.id}"
