"""The monitoring tick: episodes move on with time (confirm, recover) even when no alert
arrives, and drift is looked for. Safe in any number of processes (row locks, unique keys)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.monitoring import drift, expiry
from bot.monitoring.episodes import evaluate

log = logging.getLogger("flare.monitoring")


def sweep(session: Session, settings: Settings, now: datetime) -> None:
    """One tick. Caller owns the transaction."""
    expiry.stamp_seen(session, now)
    expiry.end_stale(session, settings, now)
    evaluate(session, settings, now, skip_locked=True)
    # Drift in its own savepoint: a bug there is logged and never stalls the episodes above.
    # The database failing is not swallowed: the tick is retried.
    try:
        with session.begin_nested():
            drift.nag_due(session, settings, now)
    except OperationalError:
        raise
    except Exception:
        log.exception("monitoring: drift not evaluated")
