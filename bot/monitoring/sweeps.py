"""The monitoring tick: episodes move on with time (confirm, recover) even when no alert
arrives, and drift is looked for. Safe in any number of processes (row locks, unique keys)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.monitoring import drift
from bot.monitoring.episodes import evaluate


def sweep(session: Session, settings: Settings, now: datetime) -> None:
    """One tick. Caller owns the transaction."""
    evaluate(session, settings, now, skip_locked=True)
    drift.nag_due(session, settings, now)
