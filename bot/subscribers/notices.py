"""What subscribers are told: a `Notice` built at send time from the same replay and the
same scrubber as the page (`bot.incidents.replay`, `bot.text.scrub`): the public title (or a
neutral one from the components), the published wording, statuses, components at their
public level, and times. Internal titles, notes, people and Slack links never get in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Component, Incident, Maintenance, TimelineEvent
from bot.incidents import (
    PublishedUpdate,
    component_names,
    incident_name,
    maintenance_updates,
    published_events,
    replay_events,
)
from bot.incidents import page_indicator as incidents_page_indicator
from bot.text.scrub import public_text
from bot.text.status import (
    LEVEL_LABELS,
    STATUS_LABELS,
    ComponentStatus,
    EventKind,
    impact,
)
from bot.text.times import iso


@dataclass(frozen=True)
class AffectedComponent:
    id: str
    key: str
    name: str
    level: ComponentStatus

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


@dataclass(frozen=True)
class Notice:
    """One public update, resolution or maintenance notice, as customers may read it."""

    key: str  # identifies the update: the delivery key is deliver:<subscriber>:<key>
    kind: str  # "incident" | "maintenance"
    public_id: str
    name: str
    status: str
    body: str
    at: datetime
    url: str
    impact: str
    components: tuple[AffectedComponent, ...]
    created_at: datetime
    resolved_at: datetime | None = None
    monitoring_at: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    next_update_due: datetime | None = None
    updates: tuple[dict[str, Any], ...] = field(default=())

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def component_keys(self) -> set[str]:
        return {c.key for c in self.components}

    @property
    def finished(self) -> bool:
        return self.status in {"resolved", "completed"}


def _components(session: Session, ids: Sequence[str]) -> tuple[AffectedComponent, ...]:
    """Components as the page shows them now: their public level (the worst that holds)."""
    if not ids:
        return ()
    visible = select(Component).where(Component.id.in_(ids), Component.hidden.is_(False))
    known = {c.id: c for c in session.scalars(visible)}
    shown = sorted((known[i] for i in ids if i in known), key=lambda c: (c.position, c.key))
    return tuple(AffectedComponent(c.id, c.key, c.name, c.status) for c in shown)


def _update_dicts(public_id: str, updates: Sequence[PublishedUpdate]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": u.id,
            "incident_id": public_id,
            "status": u.status,
            "body": u.body,
            "created_at": iso(u.at),
            "updated_at": iso(u.at),
            "display_at": iso(u.at),
        }
        for u in updates
    )


def incident_notice(
    session: Session, settings: Settings, event_id: int, *, revision: Any = None
) -> Notice | None:
    """The notice for a public update, or None if it is not (or no longer) public;
    `revision` (a correction re-sent with --notify) makes it a notice of its own.

    Built from the one replay (`bot.incidents.replay`) of the updates published up to this
    one: the same scrubbed wording, statuses and impact the page shows."""
    event = session.get(TimelineEvent, event_id)
    if event is None or event.kind != EventKind.PUBLIC_UPDATE:
        return None
    incident = session.get(Incident, event.incident_id)
    if incident is None or not incident.is_public:
        return None
    events = published_events(session, incident.id, upto=event.id)
    if not events:
        return None
    told = replay_events(events, component_names(session))
    components = _components(session, told.touched)
    latest = told.updates[0]
    due = (event.data or {}).get("next_update_due")
    return Notice(
        key=f"update:{event.id}" + (f":{revision}" if revision is not None else ""),
        kind="incident",
        public_id=incident.public_id,
        name=incident_name(incident.public_title, told),
        status=told.status,
        body=latest.body,
        at=latest.at,
        url=f"{settings.public_url}/incidents/{incident.public_id}",
        impact=impact(told.worst),
        components=components,
        created_at=incident.published_at or event.at,
        resolved_at=told.resolved_at,
        monitoring_at=told.monitoring_at,
        next_update_due=datetime.fromisoformat(due) if due and not told.resolved_at else None,
        updates=_update_dicts(incident.public_id, told.updates),
    )


def maintenance_notice(
    session: Session, settings: Settings, maintenance_id: int, status: str, *, revision: Any = None
) -> Notice | None:
    """The notice for a window's update: the latest with `status`, or (a change: cancelled,
    rescheduled, extended) the update whose id is `revision`."""
    maintenance = session.get(Maintenance, maintenance_id)
    if maintenance is None:
        return None
    told = list(maintenance.updates)
    if revision is not None:  # up to that update, even if a later one shares its time
        index = next((i for i, u in enumerate(told) if u.get("id") == revision), None)
        if index is None:
            return None
        told = told[: index + 1]
    current = [u for u in told if revision is not None or u.get("status") == status]
    if not current:
        return None
    at = datetime.fromisoformat(str(current[-1]["at"]))
    keys = list(maintenance.component_keys)
    found = session.scalars(select(Component).where(Component.key.in_(keys))).all()
    ids = [c.id for k in keys for c in found if c.key == k]
    components = _components(session, ids)
    updates = maintenance_updates(told, [(c.id, c.name) for c in components], upto=at)
    return Notice(
        key=f"maintenance:{maintenance.id}:{status}"
        + (f":{revision}" if revision is not None else ""),
        kind="maintenance",
        public_id=maintenance.public_id,
        name=public_text(maintenance.title),
        status=status,
        body=updates[0].body,
        at=updates[0].at,
        url=f"{settings.public_url}/incidents/{maintenance.public_id}",
        impact="maintenance",
        components=components,
        created_at=maintenance.created_at,
        resolved_at=maintenance.completed_at if status == "completed" else None,
        scheduled_for=maintenance.starts_at,
        scheduled_until=maintenance.ends_at,
        updates=_update_dicts(maintenance.public_id, updates),
    )


def page_indicator(session: Session) -> tuple[str, str]:
    """The page's overall indicator now, by the page's own rule (`bot.incidents`)."""
    return incidents_page_indicator(session)
