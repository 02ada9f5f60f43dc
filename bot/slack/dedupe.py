"""The same Slack invocation never acts twice: a row per trigger id or submitted view.

The claim is an INSERT … ON CONFLICT DO NOTHING in the caller's transaction, so a twin that
arrives while the first is still running waits for it (PostgreSQL) or for the write lock
(SQLite) and then finds the stored answer.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import ProcessedRequest
from bot.db.upsert import insert_ignore

PENDING_PREFIX = "pending:"
# A blocked update's "Publish anyway" / "Edit" buttons work this long; after that the click
# answers "already published or has expired" (the words the buttons' answer uses).
PENDING_TTL = timedelta(hours=1)


def first_time(session: Session, key: str, now: datetime) -> tuple[bool, str | None]:
    """(True, None) if this invocation is new; (False, earlier answer) if it was seen."""
    values = {"key": key[:200], "created_at": now, "result": None}
    if insert_ignore(
        session, ProcessedRequest, values, conflict=["key"], returning=[ProcessedRequest.key]
    ):
        return True, None
    row = session.get(ProcessedRequest, key[:200], populate_existing=True)
    return False, (row.result if row else None)


def remember(session: Session, key: str, answer: str) -> None:
    session.execute(
        update(ProcessedRequest)
        .where(ProcessedRequest.key == key[:200])
        .values(result=answer)
        .execution_options(synchronize_session=False)
    )


def store_pending(session: Session, data: dict[str, Any], now: datetime) -> str:
    """Keep a blocked public update for "Publish anyway" / "Edit"; the button carries the token."""
    token = secrets.token_urlsafe(12)
    session.add(
        ProcessedRequest(key=PENDING_PREFIX + token, created_at=now, result=json.dumps(data))
    )
    return token


def _now(session: Session, now: datetime | None) -> datetime:
    """`now`, else the runtime's clock (Runtime puts it in every session's info)."""
    if now is not None:
        return now
    clock = session.info.get("clock")
    return clock() if callable(clock) else datetime.now(UTC)


def load_pending(
    session: Session, token: str, *, consume: bool, now: datetime | None = None
) -> dict[str, Any] | None:
    """The blocked update behind a button, or None if it was used or is older than
    PENDING_TTL (an expired one is deleted when consumed)."""
    row = session.get(ProcessedRequest, PENDING_PREFIX + token, with_for_update=consume)
    if row is None or not row.result:
        return None
    expired = row.created_at <= _now(session, now) - PENDING_TTL
    if consume:
        session.delete(row)
    if expired:
        return None
    data: dict[str, Any] = json.loads(row.result)
    return data


def prune(session: Session, *, before: datetime, now: datetime, limit: int) -> int:
    """Delete up to `limit` processed requests older than `before`, and pending updates
    past PENDING_TTL; the worker's retention job calls it in committed batches."""
    old = or_(
        ProcessedRequest.created_at < before,
        and_(
            ProcessedRequest.key.startswith(PENDING_PREFIX),
            ProcessedRequest.created_at <= now - PENDING_TTL,
        ),
    )
    keys = session.scalars(
        select(ProcessedRequest.key).where(old).order_by(ProcessedRequest.created_at).limit(limit)
    ).all()
    if keys:
        session.execute(
            delete(ProcessedRequest)
            .where(ProcessedRequest.key.in_(keys))
            .execution_options(synchronize_session=False)
        )
    return len(keys)
