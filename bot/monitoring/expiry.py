"""Signals nothing else would ever end, ended by the tick; and the worker's clock stamped on
signals it sees firing for the first time.

- An alert whose own `endsAt` has passed has stopped (Alertmanager's rule).
- An alert no payload repeated for ALERT_SILENCE has stopped (its resolve was lost).
- A check signal whose check is no longer configured has stopped; one whose check now names
  another component moves there as a new signal (its `since` starts again).
- A person may clear any firing signal by hand (`flare signals clear <id>`).

FLARE_SIGNAL_CONFIRM is measured from `seen_at`, stamped here with the worker's clock, so a
web process whose clock is behind (or ahead) can neither skip nor stretch it; the cost is at
most one FLARE_TICK of delay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Signal
from bot.errors import InvalidInput, NotFound
from bot.monitoring.signals import ALERT_SILENCE


def stamp_seen(session: Session, now: datetime) -> None:
    """Firing signals the worker has not seen yet are seen now (by its clock)."""
    session.execute(
        update(Signal)
        .where(Signal.firing.is_(True), Signal.seen_at.is_(None))
        .values(seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end_stale(session: Session, settings: Settings, now: datetime) -> set[str]:
    """End (or move) the signals above; the component keys whose signals changed."""
    touched: set[str] = set()
    alerts = (
        select(Signal)
        .where(
            Signal.firing.is_(True),
            Signal.source != "check",
            or_(
                Signal.ends_at <= now,
                func.coalesce(Signal.heard_at, Signal.since) < now - ALERT_SILENCE,
            ),
        )
        .order_by(Signal.key)
        .with_for_update(skip_locked=True)
    )
    for signal in session.scalars(alerts):
        _end(signal, now, touched)
    checks = {f"check:{c.name}"[:200]: c for c in settings.checks}
    query = (
        select(Signal)
        .where(Signal.firing.is_(True), Signal.source == "check")
        .order_by(Signal.key)
        .with_for_update(skip_locked=True)
    )
    for signal in session.scalars(query):
        check = checks.get(signal.key)
        if check is None:
            _end(signal, now, touched)
        elif signal.component_key != check.component:
            touched |= {k for k in (signal.component_key, check.component) if k}
            signal.component_key, signal.level = check.component, check.level
            signal.since = signal.seen_at = signal.updated_at = now
    session.flush()
    return touched


def _end(signal: Signal, now: datetime, touched: set[str]) -> None:
    signal.firing, signal.ended_at, signal.updated_at, signal.ends_at = False, now, now, None
    if signal.component_key:
        touched.add(signal.component_key)


def clear(session: Session, signal_id: int, now: datetime) -> Signal:
    """A person ends a firing signal by hand (one the monitor will never resolve). The caller
    checks who may; the next tick moves the component's episode on."""
    signal = session.scalars(select(Signal).where(Signal.id == signal_id).with_for_update()).first()
    if signal is None:
        raise NotFound(f"No signal #{signal_id}.")
    if not signal.firing:
        raise InvalidInput(f"Signal #{signal_id} ({signal.name}) is not firing.")
    _end(signal, now, set())
    return signal


def prune_signals(session: Session, *, before: datetime, limit: int) -> int:
    """Delete signals that ended before `before` (FLARE_RETENTION), at most `limit`."""
    ids = session.scalars(
        select(Signal.id).where(Signal.firing.is_(False), Signal.ended_at < before).limit(limit)
    ).all()
    if ids:
        session.execute(delete(Signal).where(Signal.id.in_(ids)))
    return len(ids)
