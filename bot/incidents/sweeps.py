"""The incidents' scheduler tick: one sweep over our own tables, safe in any number of
processes (every claim is a unique key or a row lock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.state import bump_version, heartbeat
from bot.incidents import maintenance, reminders
from bot.incidents.promises import expire_promises


@dataclass(frozen=True)
class Swept:
    queued: int  # reminders and escalations queued by this sweep
    wake: datetime | None  # when the next nag falls due, if before the next tick


def sweep(session: Session, settings: Settings, now: datetime) -> Swept:
    """One tick: maintenance windows, broken promises, reminders. Caller owns the transaction."""
    maintenance.advance(session, now)
    if expire_promises(session, now):
        bump_version(session, now)
    queued = reminders.enqueue_due(session, settings, now)
    heartbeat(session, now)
    return Swept(queued, reminders.next_due(session, settings, now, settings.tick))
