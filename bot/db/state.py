"""Small named state in the `state` table: the data version, the scheduler's heartbeat and
the rows other features keep there (board message, secret key, leases)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import KeyValue
from bot.db.upsert import insert_ignore

VERSION_KEY = "data_version"
HEARTBEAT_KEY = "scheduler_heartbeat"


def get_state(session: Session, key: str) -> KeyValue:
    """The named row, created empty on first use (by whichever process gets there first)."""
    row = session.get(KeyValue, key)
    if row is None:
        insert_ignore(session, KeyValue, {"key": key, "number": 0}, conflict=["key"])
        row = session.get(KeyValue, key)
    assert row is not None
    return row


def bump_version(session: Session, now: datetime) -> None:
    """Public data changed: every process's snapshot and the board notice within a second."""
    get_state(session, VERSION_KEY)
    session.execute(
        update(KeyValue)
        .where(KeyValue.key == VERSION_KEY)
        .values(number=KeyValue.number + 1, at=now)
        .execution_options(synchronize_session=False)
    )


def current_version(session: Session) -> int:
    return int(session.scalar(select(KeyValue.number).where(KeyValue.key == VERSION_KEY)) or 0)


def heartbeat(session: Session, now: datetime) -> None:
    """Record that a scheduler swept; the board and /healthz warn after three missed ticks."""
    get_state(session, HEARTBEAT_KEY)
    session.execute(
        update(KeyValue)
        .where(KeyValue.key == HEARTBEAT_KEY)
        .values(at=now, number=KeyValue.number + 1)
        .execution_options(synchronize_session=False)
    )


def last_sweep(session: Session) -> datetime | None:
    row = session.get(KeyValue, HEARTBEAT_KEY)
    return row.at if row else None
