"""What subscribers are told: a `Notice` built only from public data at send time: the
public title (or a neutral one from the components), the published wording, statuses and
times. Internal titles, notes, people and Slack links are never loaded into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    Component,
    ComponentStatus,
    EventKind,
    Incident,
    IncidentComponent,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
    TimelineEvent,
)
from bot.text.status import (
    COMPONENT_RANK,
    LEVEL_LABELS,
    STATUS_LABELS,
    impact,
    indicator,
    neutral_title,
)
from bot.text.status import worst as worst_of
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


def incident_notice(session: Session, settings: Settings, event_id: int) -> Notice | None:
    """The notice for a public update, or None if it is not (or no longer) public."""
    event = session.get(TimelineEvent, event_id)
    if event is None or event.kind != EventKind.PUBLIC_UPDATE:
        return None
    incident = session.get(Incident, event.incident_id)
    if incident is None or not incident.is_public:
        return None
    published = list(
        session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.incident_id == incident.id,
                TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
                TimelineEvent.id <= event.id,
            )
            .order_by(TimelineEvent.id)
        )
    )
    # Replay the published component changes: levels as of this update, and the worst seen.
    level: dict[str, ComponentStatus] = {}
    worst: dict[str, ComponentStatus] = {}
    for update in published:
        for change in (update.data or {}).get("affected_components", []):
            new = ComponentStatus(change["new_status"])
            level[change["key"]] = new
            seen = worst.get(change["key"], ComponentStatus.OPERATIONAL)
            worst[change["key"]] = max(seen, new, key=COMPONENT_RANK.__getitem__)
    known = {
        c.key: c for c in session.scalars(select(Component).where(Component.key.in_(list(level))))
    }
    components = tuple(
        AffectedComponent(id=known[k].id, key=k, name=known[k].name, level=level[k])
        for k in sorted(level, key=lambda k: (known[k].position, k))
        if k in known
    )
    worst_level = max(worst.values(), key=COMPONENT_RANK.__getitem__, default=None)
    due = (event.data or {}).get("next_update_due")
    status = (event.status or incident.status).value
    return Notice(
        key=f"update:{event.id}",
        kind="incident",
        public_id=incident.public_id,
        name=incident.public_title or neutral_title([c.name for c in components], worst_level),
        status=status,
        body=event.body or "",
        at=event.at,
        url=f"{settings.public_url}/incidents/{incident.public_id}",
        impact=impact(worst_level),
        components=components,
        created_at=incident.published_at or event.at,
        resolved_at=event.at if status == IncidentStatus.RESOLVED.value else None,
        monitoring_at=incident.monitoring_at,
        next_update_due=datetime.fromisoformat(due) if due and status != "resolved" else None,
        updates=tuple(
            {
                "id": u.public_id,
                "incident_id": incident.public_id,
                "status": (u.status or incident.status).value,
                "body": u.body or "",
                "created_at": iso(u.at),
                "updated_at": iso(u.at),
                "display_at": iso(u.at),
            }
            for u in reversed(published)
        ),
    )


def maintenance_notice(
    session: Session, settings: Settings, maintenance_id: int, status: str
) -> Notice | None:
    maintenance = session.get(Maintenance, maintenance_id)
    if maintenance is None:
        return None
    updates = [u for u in maintenance.updates if u.get("status") == status]
    if not updates:
        return None
    current = updates[-1]
    keys = list(maintenance.component_keys)
    known = {c.key: c for c in session.scalars(select(Component).where(Component.key.in_(keys)))}
    level = (
        ComponentStatus.UNDER_MAINTENANCE
        if status == "in_progress"
        else ComponentStatus.OPERATIONAL
    )
    components = tuple(
        AffectedComponent(id=known[k].id, key=k, name=known[k].name, level=level)
        for k in keys
        if k in known
    )
    shown = [u for u in maintenance.updates if u.get("at", "") <= current["at"]]
    return Notice(
        key=f"maintenance:{maintenance.id}:{status}",
        kind="maintenance",
        public_id=maintenance.public_id,
        name=maintenance.title,
        status=status,
        body=str(current.get("body") or ""),
        at=datetime.fromisoformat(current["at"]),
        url=f"{settings.public_url}/incidents/{maintenance.public_id}",
        impact="maintenance",
        components=components,
        created_at=maintenance.created_at,
        resolved_at=maintenance.completed_at if status == "completed" else None,
        scheduled_for=maintenance.starts_at,
        scheduled_until=maintenance.ends_at,
        updates=tuple(
            {
                "id": u["id"],
                "incident_id": maintenance.public_id,
                "status": u["status"],
                "body": u.get("body") or "",
                "created_at": iso(datetime.fromisoformat(u["at"])),
                "updated_at": iso(datetime.fromisoformat(u["at"])),
                "display_at": iso(datetime.fromisoformat(u["at"])),
            }
            for u in reversed(shown)
        ),
    )


def page_indicator(session: Session) -> tuple[str, str]:
    """Overall indicator from component statuses and open public incidents' impact, as on the
    page (one rule: `bot.status.indicator`)."""
    levels = session.scalars(select(Component.status).where(Component.hidden.is_(False)))
    rows = session.execute(
        select(Incident.id, IncidentComponent.status)
        .outerjoin(IncidentComponent, IncidentComponent.incident_id == Incident.id)
        .where(
            Incident.status != IncidentStatus.RESOLVED,
            Incident.published_at.is_not(None),
            Incident.internal_only.is_(False),
        )
    ).all()
    by_incident: dict[int, list[ComponentStatus]] = {}
    for incident_id, level in rows:
        by_incident.setdefault(incident_id, []).extend([level] if level else [])
    impacts = [impact(worst_of(levels_)) for levels_ in by_incident.values()]
    active = session.scalar(
        select(Maintenance.id).where(Maintenance.status == MaintenanceStatus.IN_PROGRESS).limit(1)
    )
    return indicator(list(levels), impacts, active is not None)
