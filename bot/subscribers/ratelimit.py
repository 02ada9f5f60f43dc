"""Fixed-window rate limits kept in the database, so every web process counts the same hits.

Two processes at the edge of a limit may both pass (the count is not locked): the limit is a
guard against abuse, not an exact quota.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db.models import RateLimitHit

KEEP = timedelta(days=1)


def allow(session: Session, bucket: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one hit in `bucket` unless it already has `limit` hits within `window`."""
    used = session.scalar(
        select(func.count())
        .select_from(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.at > now - window)
    )
    if int(used or 0) >= limit:
        return False
    session.add(RateLimitHit(bucket=bucket[:100], at=now))
    session.flush()
    return True


def prune(session: Session, now: datetime, *, limit: int = 1000) -> int:
    """Delete up to `limit` hits older than any window counts (KEEP); the worker's retention
    job calls it in committed batches."""
    ids = session.scalars(
        select(RateLimitHit.id)
        .where(RateLimitHit.at < now - KEEP)
        .order_by(RateLimitHit.id)
        .limit(limit)
    ).all()
    if ids:
        session.execute(
            delete(RateLimitHit)
            .where(RateLimitHit.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
