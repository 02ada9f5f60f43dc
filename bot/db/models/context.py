"""The internal dashboard's tables: changes (deploys) that CI reports. Never public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
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
