"""The internal dashboard's tables: changes (deploys) that CI reports, and the providers we
depend on as last polled. Never public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models.base import Base


class Change(Base):
    """One deploy or other change, as CI or a person reported it (README "The board")."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    environment: Mapped[str] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # "hook" or "cli"


class Provider(Base):
    """A `[[dependencies]]` entry as last polled: its state, and who polls it in which slot."""

    __tablename__ = "providers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # operational, degraded, major, unknown; None until the first read (or 3 failures).
    state: Mapped[str | None] = mapped_column(String(16))
    indicator: Mapped[str | None] = mapped_column(String(16))
    incident_name: Mapped[str | None] = mapped_column(String(300))
    incident_url: Mapped[str | None] = mapped_column(String(500))
    etag: Mapped[str | None] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The poll slot last claimed (time // poll interval): one poll per slot across workers.
    slot: Mapped[int] = mapped_column(BigInteger, default=-1)
    next_poll_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]
    changed_at: Mapped[datetime | None]
    changes: Mapped[int] = mapped_column(Integer, default=0)  # numbers each change's post
