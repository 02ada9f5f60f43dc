"""Monitoring: signals (alerts and failing checks), component episodes, check results."""

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
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, enum_column
from bot.text.status import ComponentStatus


class Signal(Base):
    """What one monitor says (an alert by its fingerprint, or a built-in check). Internal:
    shown on the board, in #incidents and the CLI; public only through an `auto` policy."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_component_firing", "component_key", "firing"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # "alert:<source>:<component or ->:<fingerprint>" or "check:<name>"
    key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(32))  # alertmanager | grafana | check
    name: Mapped[str] = mapped_column(String(200))
    # A configured component key, or None: unmapped (shown, never acted on).
    component_key: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[ComponentStatus] = mapped_column(enum_column(ComponentStatus))
    summary: Mapped[str | None] = mapped_column(String(500))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    firing: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flare's own clock: when it first heard this firing (not the alert's startsAt).
    since: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Alerts only: the alert's own `endsAt` while firing (the tick ends it once passed), and
    # when a payload last said it fires (the tick ends it after ALERT_SILENCE without one).
    ends_at: Mapped[datetime | None]
    heard_at: Mapped[datetime | None]
    # When the worker's tick first saw it firing (its clock measures FLARE_SIGNAL_CONFIRM).
    seen_at: Mapped[datetime | None]


class Episode(Base):
    """A component's run of trouble: from a signal holding FLARE_SIGNAL_CONFIRM until all its
    signals were quiet for FLARE_SIGNAL_RECOVER. Carries its triage message and, under `auto`,
    the level monitoring holds on the page."""

    __tablename__ = "episodes"
    __table_args__ = (Index("ix_episodes_component_open", "component_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id"))
    policy: Mapped[str] = mapped_column(String(16))  # suggest | auto | off
    level: Mapped[ComponentStatus] = mapped_column(enum_column(ComponentStatus))
    started_at: Mapped[datetime]
    quiet_since: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # `auto` only: the level monitoring holds (bot.incidents.levels reads it).
    holding: Mapped[ComponentStatus | None] = mapped_column(enum_column(ComponentStatus))
    # `suggest`: the triage message, edited in place; `shown` is what it last said.
    triage: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    shown: Mapped[str | None] = mapped_column(String(64))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    dismissed_by: Mapped[str | None] = mapped_column(String(64))
    dismissed_until: Mapped[datetime | None]
    marked_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class CheckResult(Base):
    """One run of a `[[checks]]` HTTP check in one interval slot; (check, slot) is the claim
    that makes each slot run once whatever number of workers."""

    __tablename__ = "check_results"
    __table_args__ = (UniqueConstraint("check_name", "slot"), Index("ix_check_results_at", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    check_name: Mapped[str] = mapped_column(String(200))
    slot: Mapped[datetime]
    at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    millis: Mapped[int | None] = mapped_column(Integer)
