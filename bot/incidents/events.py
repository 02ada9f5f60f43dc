"""The timeline: every change is an event, stored and queued for the thread in one go."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import outbox
from bot.db.models import Incident, TimelineEvent
from bot.db.state import bump_version
from bot.incidents.access import SYSTEM_ACTORS
from bot.outbox import kinds
from bot.text.status import EventKind, IncidentStatus


def record_event(
    session: Session,
    incident: Incident,
    *,
    kind: EventKind,
    actor: str,
    now: datetime,
    body: str | None = None,
    status: IncidentStatus | None = None,
    data: Mapping[str, Any] | None = None,
) -> TimelineEvent:
    """Store a timeline event and queue its post into the incident's thread."""
    event = TimelineEvent(
        incident_id=incident.id,
        kind=kind,
        actor=actor,
        at=now,
        body=body,
        status=status,
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    outbox.enqueue(
        session,
        key=f"event:{event.id}",
        kind=kinds.SLACK_EVENT,
        now=now,
        payload={"event_id": event.id},
        incident_id=incident.id,
        ordering_key=f"incident:{incident.id}",
    )
    if kind == EventKind.PUBLIC_UPDATE and incident.is_public:
        notify_subscribers(session, now, event_id=event.id)
    incident.updated_at = now
    bump_version(session, now)
    return event


def notify_role(session: Session, event: TimelineEvent, user: str, now: datetime) -> None:
    if user in SYSTEM_ACTORS:
        return
    outbox.enqueue(
        session,
        key=f"dm:role:{event.id}:{user}",
        kind=kinds.SLACK_DM,
        now=now,
        payload={"event_id": event.id, "user": user, "kind": "role"},
        incident_id=event.incident_id,
    )


def notify_subscribers(
    session: Session,
    now: datetime,
    *,
    event_id: int | None = None,
    maintenance_id: int | None = None,
    status: str | None = None,
    revision: int | str | None = None,
) -> None:
    """One fan-out row per public notice; the subscribers' drain expands it (bot.subscribers).
    `revision` names a later notice about the same update or window (a correction re-sent,
    a maintenance change): the correction event's id, or the window update's id."""
    payload: dict[str, int | str | None]
    suffix = f":{revision}" if revision is not None else ""
    if event_id is not None:
        key, payload = f"fanout:update:{event_id}{suffix}", {"event_id": event_id}
    else:
        key = f"fanout:maintenance:{maintenance_id}:{status}{suffix}"
        payload = {"maintenance_id": maintenance_id, "status": status}
    if revision is not None:
        payload["revision"] = revision
    outbox.enqueue(session, key=key, kind=kinds.FANOUT, now=now, payload=payload)
