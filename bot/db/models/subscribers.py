"""Subscribers and the rate-limit hits that keep subscribing fair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base, new_public_id


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
