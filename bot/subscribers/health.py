"""A subscriber's delivery health: failures are counted, a bounce or repeated failures
disable the subscriber (shown to operators on the board), a success resets the count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import (
    Subscriber,
)

FAILURE_LIMIT = 15  # consecutive failed attempts before a subscriber is disabled


def record_success(session: Session, subscriber: Subscriber, now: datetime) -> None:
    subscriber.consecutive_failures = 0
    subscriber.last_error = None
    subscriber.last_delivered_at = now


def record_failure(session: Session, subscriber: Subscriber, error: str, now: datetime) -> bool:
    """Count a failed attempt; True if this one disabled the subscriber."""
    subscriber.consecutive_failures += 1
    subscriber.last_error = error[:500]
    if subscriber.disabled_at is None and subscriber.consecutive_failures >= FAILURE_LIMIT:
        subscriber.disabled_at = now
        subscriber.disabled_reason = (
            f"{subscriber.consecutive_failures} deliveries failed in a row; last: {error[:200]}"
        )
        return True
    return False


def disable(session: Session, subscriber: Subscriber, reason: str, now: datetime) -> None:
    subscriber.disabled_at = now
    subscriber.disabled_reason = reason[:500]
