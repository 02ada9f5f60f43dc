"""Scheduler jobs: each is one sweep over our own tables, safe in any number of processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import KeyValue
from bot.incidents import maintenance, reminders
from bot.incidents.services import expire_promises
from bot.outbox import queue as outbox

HEARTBEAT_KEY = "scheduler_heartbeat"


def heartbeat(session: Session, now: datetime) -> None:
    """Record that a scheduler swept; the board and /healthz warn after three missed ticks."""
    outbox.get_state(session, HEARTBEAT_KEY)
    session.execute(
        update(KeyValue)
        .where(KeyValue.key == HEARTBEAT_KEY)
        .values(at=now, number=KeyValue.number + 1)
        .execution_options(synchronize_session=False)
    )


def last_sweep(session: Session) -> datetime | None:
    row = session.get(KeyValue, HEARTBEAT_KEY)
    return row.at if row else None


def sweep(session: Session, settings: Settings, now: datetime) -> None:
    """One tick: maintenance windows, broken promises, reminders. Caller owns the transaction."""
    maintenance.advance(session, now)
    if expire_promises(session, now):
        outbox.bump_version(session, now)
    reminders.enqueue_due(session, settings, now)
    heartbeat(session, now)
