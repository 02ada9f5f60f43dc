"""The outbox: side effects written in the same transaction as the change they report.

A drainer (Slack sender, mailer) claims due rows with a lease, performs them after the
transaction, and marks them sent. The unique `key` makes every enqueue idempotent: the same
event, reminder or delivery can never be queued twice, whatever number of processes try.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Interval, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.db.models import OutboxMessage
from bot.db.upsert import insert_ignore
from bot.runtime import DATABASE_LEASES

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
# A claim holds a row this long unless renewed (LeaseKeeper renews every third of it while a
# send is in flight). Short, so a killed worker's rows are taken over within seconds: a row
# is free again at most LEASE after its holder's last renewal (docs/benchmarks.md, Takeover).
LEASE = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=5)
# Workers on several hosts share one PostgreSQL but not one clock: a lease written and tested
# with each process's own clock lets a worker whose clock runs ahead take rows still being
# sent. So on PostgreSQL leases are measured by the database's clock (Runtime.create sets
# DATABASE_LEASES in Session.info), and `now` serves only for when a row is due.


def _lease_now(session: Session, now: datetime) -> Any:
    """What a lease is measured by: PostgreSQL's clock when the session asks for it (every
    process then agrees), else the caller's `now` (SQLite is one host; tests move clocks)."""
    if session.info.get(DATABASE_LEASES) and session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp(type_=DateTime(timezone=True))
    return now


def _lease_end(lease_now: Any, lease: timedelta) -> Any:
    if isinstance(lease_now, datetime):
        return lease_now + lease
    return lease_now + literal(lease, Interval())


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    incident_id: int | None = None,
    ordering_key: str | None = None,
    available_at: datetime | None = None,
) -> bool:
    """Queue a side effect; returns False if one with this key was already queued."""
    message = {
        "key": key,
        "kind": kind,
        "payload": payload,
        "incident_id": incident_id,
        "ordering_key": ordering_key,
        "available_at": available_at,
    }
    return enqueue_many(session, now=now, messages=[message]) == 1


def enqueue_many(
    session: Session, *, now: datetime, messages: Sequence[dict[str, Any]], chunk: int = 200
) -> int:
    """Queue many side effects in multi-row INSERTs (same rules as `enqueue`).

    Each message gives key, kind and optionally payload, incident_id, ordering_key and
    available_at. Returns how many were new; existing keys are skipped without error.
    """
    added = 0
    for start in range(0, len(messages), chunk):
        rows = [_row(m, now) for m in messages[start : start + chunk]]
        inserted = insert_ignore(
            session, OutboxMessage, rows, conflict=["key"], returning=[OutboxMessage.id]
        )
        added += len(inserted)
    return added


def _row(message: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "key": message["key"],
        "kind": message["kind"],
        "payload": message.get("payload") or {},
        "incident_id": message.get("incident_id"),
        "ordering_key": message.get("ordering_key"),
        "created_at": now,
        "available_at": message.get("available_at") or now,
        "attempts": 0,
        "dead": False,
    }


def claim(
    session: Session,
    *,
    now: datetime,
    kinds: Sequence[str],
    limit: int = 20,
    lease: timedelta = LEASE,
    worker: str = WORKER_ID,
) -> list[OutboxMessage]:
    """Lease up to `limit` due messages of `kinds`, oldest first.

    A message waits while an older unsent message shares its ordering key, so each
    incident's thread stays in order. The lease is taken with a conditional UPDATE, so two
    processes never claim the same row; a lease that expires (the holder died) frees it.
    """
    older = aliased(OutboxMessage)
    blocked = exists().where(
        older.ordering_key == OutboxMessage.ordering_key,
        older.id < OutboxMessage.id,
        older.sent_at.is_(None),
        older.dead.is_(False),
    )
    lease_now = _lease_now(session, now)
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < lease_now)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): a worker passes over the rows
    # another is claiming right now instead of queueing behind its transaction for rows it
    # would then lose, so several workers claim disjoint batches side by side.
    candidates = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dead.is_(False),
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.available_at <= now,
            free,
            or_(OutboxMessage.ordering_key.is_(None), ~blocked),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    ).all()
    if not candidates:
        return []
    # One conditional UPDATE for the batch: a row someone else claimed meanwhile no longer
    # matches `free`, so two processes never claim the same row.
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), OutboxMessage.sent_at.is_(None), free)
        .values(claimed_by=worker, claimed_until=_lease_end(lease_now, lease))
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    return sorted(claimed, key=lambda message: message.id)


def renew(
    session: Session,
    message_id: int,
    *,
    now: datetime,
    worker: str,
    lease: timedelta = LEASE,
) -> bool:
    """Extend our lease right before sending; False if it lapsed and another worker took
    the row (then we must not send it). Keeps a slow batch from being sent twice."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.sent_at.is_(None),
        )
        .values(claimed_until=_lease_end(_lease_now(session, now), lease))
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def release(session: Session, message_id: int, *, worker: str, note: str | None = None) -> None:
    """Give a claimed row back without counting an attempt (it is due again at once);
    `note`, if given, is kept as its last error (e.g. "ambiguous:unrecorded": it may have
    been sent, so the retry looks for it first)."""
    values: dict[str, Any] = {"claimed_until": None}
    if note is not None:
        values["last_error"] = note[:2000]
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.sent_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, message_id: int, *, now: datetime, worker: str) -> bool:
    """Record the row sent, if `worker` still holds it; False if another worker took it
    (its lease lapsed): then that worker's outcome is the one that counts."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(sent_at=now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def mark_failed(
    session: Session,
    message_id: int,
    *,
    now: datetime,
    worker: str,
    error: str,
    retry_after: timedelta | None = None,
    give_up: bool = False,
    max_backoff: timedelta = MAX_BACKOFF,
) -> bool:
    """Record a failed attempt and schedule the retry (Retry-After wins over backoff), if
    `worker` still holds the row; False (nothing changed) if another worker took it."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None or message.claimed_by != worker or message.sent_at is not None:
        return False
    attempts = message.attempts + 1
    backoff = retry_after or min(timedelta(seconds=2 ** min(attempts, 12)), max_backoff)
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(
            attempts=attempts,
            last_error=error[:2000],
            available_at=now + backoff,
            claimed_until=None,
            dead=give_up,
        )
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def backlog(session: Session, *, kinds: Sequence[str] | None = None, dead: bool = False) -> int:
    """Rows still to send (or, with `dead`, rows given up on), of `kinds` if given."""
    query = select(func.count()).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(dead)
    )
    if kinds:
        query = query.where(OutboxMessage.kind.in_(kinds))
    return int(session.scalar(query) or 0)


def prune_sent(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` rows sent before `before` (never unsent or dead ones)."""
    ids = session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < before)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if ids:
        session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
