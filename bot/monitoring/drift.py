"""Drift between the page and the monitors, nagged once (claimed by outbox keys, like
reminders, so any number of workers send each nag once):

- monitors green for 15 minutes while an open incident on those components still says
  investigating or identified: the owner (commander if none) is asked to move on;
- an incident resolved while a signal on its components still fires: a warning in its thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import Component, Incident, IncidentComponent, Signal
from bot.outbox import kinds
from bot.text.status import IncidentStatus

GREEN_FOR = timedelta(minutes=15)
RESOLVE_WINDOW = timedelta(hours=1)  # how long after a resolve a firing signal is still told


def _keys(session: Session, incident_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Component.key)
            .join(IncidentComponent, IncidentComponent.component_id == Component.id)
            .where(IncidentComponent.incident_id == incident_id)
        )
    )


def _signals(session: Session, keys: Sequence[str], since: datetime) -> list[Signal]:
    """Signals on `keys` that fired at any time since `since`."""
    return list(
        session.scalars(
            select(Signal).where(
                Signal.component_key.in_(list(keys)),
                or_(Signal.firing.is_(True), Signal.ended_at >= since),
            )
        )
    )


def nag_due(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the drift nags that are due; returns how many were new."""
    queued = 0
    for incident in session.scalars(
        select(Incident).where(
            Incident.status.in_([IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED]),
            Incident.internal_only.is_(False),
        )
    ):
        keys = _keys(session, incident.id)
        if not keys:
            continue
        signals = _signals(session, keys, incident.declared_at)
        if not signals or any(s.firing for s in signals):
            continue
        quiet = max(s.ended_at for s in signals if s.ended_at is not None)
        if now - quiet < GREEN_FOR:
            continue
        text = (
            f"Monitors green for {int((now - quiet).total_seconds() // 60)} min on "
            f"{', '.join(sorted(keys))} while {incident.ref} says {incident.status.value}: "
            "move to monitoring or resolve?"
        )
        queued += outbox.enqueue(
            session,
            key=f"drift:green:{incident.id}:{quiet.isoformat()}",
            kind=kinds.SLACK_DRIFT,
            now=now,
            incident_id=incident.id,
            payload={
                "incident_id": incident.id,
                "recipient": incident.owner_id or incident.commander_id,
                "text": text,
            },
        )
    for incident in session.scalars(
        select(Incident).where(
            Incident.status == IncidentStatus.RESOLVED,
            Incident.resolved_at >= now - RESOLVE_WINDOW,
        )
    ):
        resolved_at = incident.resolved_at
        assert resolved_at is not None
        firing = [
            s
            for s in _signals(session, _keys(session, incident.id), resolved_at)
            if s.since <= resolved_at
        ]
        if not firing:
            continue
        names = ", ".join(sorted({s.name for s in firing})[:5])
        queued += outbox.enqueue(
            session,
            key=f"drift:resolved:{incident.id}",
            kind=kinds.SLACK_DRIFT,
            now=now,
            incident_id=incident.id,
            payload={
                "incident_id": incident.id,
                "recipient": None,
                "text": f":warning: {incident.ref} was resolved while monitoring still fired "
                f"on its components: {names}.",
            },
        )
    return queued
