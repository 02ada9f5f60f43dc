"""The same Slack invocation never acts twice: a row per trigger id or submitted view.

The claim is an INSERT … ON CONFLICT DO NOTHING in the caller's transaction, so a twin that
arrives while the first is still running waits for it (PostgreSQL) or for the write lock
(SQLite) and then finds the stored answer.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.db.models import ProcessedRequest
from bot.db.upsert import insert_ignore

PENDING_PREFIX = "pending:"


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


def load_pending(session: Session, token: str, *, consume: bool) -> dict[str, Any] | None:
    row = session.get(ProcessedRequest, PENDING_PREFIX + token, with_for_update=consume)
    if row is None or not row.result:
        return None
    data: dict[str, Any] = json.loads(row.result)
    if consume:
        session.delete(row)
    return data
