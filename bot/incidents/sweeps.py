"""The incidents' scheduler tick: one sweep over our own tables, safe in any number of
processes (every claim is a unique key or a row lock)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.state import bump_version, heartbeat
from bot.incidents import maintenance, reminders
from bot.incidents.promises import expire_promises


def sweep(session: Session, settings: Settings, now: datetime) -> None:
    """One tick: maintenance windows, broken promises, reminders. Caller owns the transaction."""
    maintenance.advance(session, now)
    if expire_promises(session, now):
        bump_version(session, now)
    reminders.enqueue_due(session, settings, now)
    heartbeat(session, now)
