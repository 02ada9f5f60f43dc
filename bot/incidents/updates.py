"""Public updates: the wording customers read, the statuses, components and the next promise."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Component, Incident, IncidentComponent, TimelineEvent
from bot.errors import InvalidInput
from bot.incidents.access import Actor
from bot.incidents.events import record_event
from bot.incidents.guards import check_hygiene, require_open
from bot.incidents.levels import recompute
from bot.incidents.promises import (
    close_promise,
    next_due,
    record_promise,
)
from bot.incidents.queries import (
    components_by_key,
    incident_components,
)
from bot.text.limits import UPDATE_LIMIT, clean_text
from bot.text.status import ComponentStatus, EventKind, IncidentStatus

NOTHING_NEW = (
    "We are continuing to investigate this issue and will provide another update as soon "
    "as we have more information."
)


NOTHING_NEW_BY_STATUS = {
    IncidentStatus.INVESTIGATING: NOTHING_NEW,
    IncidentStatus.IDENTIFIED: "We are continuing to work on a fix for this issue.",
    IncidentStatus.MONITORING: "We are continuing to monitor the results of the fix.",
}


DEFAULT_RESOLVED = "This incident has been resolved."


def apply_status(incident: Incident, status: IncidentStatus, now: datetime) -> None:
    if status == IncidentStatus.IDENTIFIED and incident.identified_at is None:
        incident.identified_at = now
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status == IncidentStatus.RESOLVED:
        incident.resolved_at = now
    incident.status = status


def publish_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    message: str,
    actor: Actor,
    now: datetime,
    status: IncidentStatus | None = None,
    components: Mapping[str, ComponentStatus] | None = None,
    next_in: timedelta | None = None,
    force: bool = False,
) -> TimelineEvent:
    """Publish a public update: status, affected components, message and the next promise."""
    actor.require_responder()
    require_open(incident)
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is internal-only: it has no public page to update.")
    status = status or incident.status
    message = clean_text(message, what="public update", limit=UPDATE_LIMIT)
    known = _known(session, components)
    check_hygiene(settings, message, status, force=force)
    if status == IncidentStatus.RESOLVED:
        return resolve(
            session, settings, incident, message=message, actor=actor, now=now, force=True
        )
    due = next_due(now, settings.cadence_for(incident.severity), next_in)
    affected = []
    for key, level in (components or {}).items():
        component = known[key]
        link = session.get(IncidentComponent, (incident.id, component.id))
        old = link.status if link is not None else ComponentStatus.OPERATIONAL
        if link is None:
            session.add(
                IncidentComponent(incident_id=incident.id, component_id=component.id, status=level)
            )
        else:
            link.status = level
        affected.append(_affected(component, old, level))
    old_status = incident.status
    apply_status(incident, status, now)
    close_promise(session, incident, now)
    first = incident.published_at is None
    incident.published_at = incident.published_at or now
    incident.last_public_update_at = now
    incident.next_update_due = due
    incident.reminder_due = due
    incident.snoozed_until = None
    record_promise(session, incident, due, now)
    session.flush()
    public = recompute(
        session,
        now,
        actor=actor.id,
        cause=f"{incident.ref} update",
        components=[known[k] for k in components or {}],
        incident_id=incident.id,
    )
    return record_event(
        session,
        incident,
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor.id,
        now=now,
        body=message,
        status=status,
        data={
            "affected_components": affected,
            "public_levels": [c.as_data() for c in public],
            "old_status": old_status.value,
            "next_update_due": due.isoformat(),
            "first": first,
            "forced": force,
        },
    )


def _known(
    session: Session, components: Mapping[str, ComponentStatus] | None
) -> dict[str, Component]:
    known = components_by_key(session)
    unknown = sorted(set(components or {}) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown component {unknown[0]!r}. Known: {', '.join(sorted(known)) or 'none'}."
        )
    return known


def _affected(component: Component, old: ComponentStatus, new: ComponentStatus) -> dict[str, str]:
    """What this incident says of a component now (its level), as the update publishes it."""
    return {
        "code": component.id,
        "key": component.key,
        "name": component.name,
        "old_status": old.value,
        "new_status": new.value,
    }


def nothing_new(
    session: Session, settings: Settings, incident: Incident, *, actor: Actor, now: datetime
) -> TimelineEvent:
    """Post the standard "continuing to investigate" update with the current status."""
    text = NOTHING_NEW_BY_STATUS.get(incident.status, NOTHING_NEW)
    return publish_update(
        session, settings, incident, message=text, actor=actor, now=now, force=True
    )


def resolve(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    actor: Actor,
    now: datetime,
    message: str | None = None,
    force: bool = False,
) -> TimelineEvent:
    """Publish the resolved update and close the incident: it stops holding its components
    (each falls to the worst level another source still holds)."""
    actor.require_responder()
    require_open(incident)
    message = clean_text(message or DEFAULT_RESOLVED, what="resolved update", limit=UPDATE_LIMIT)
    check_hygiene(settings, message, IncidentStatus.RESOLVED, force=force)
    old_status = incident.status
    apply_status(incident, IncidentStatus.RESOLVED, now)
    affected, released = [], []
    for link in incident_components(session, incident):
        if link.status != ComponentStatus.OPERATIONAL:
            affected.append(_affected(link.component, link.status, ComponentStatus.OPERATIONAL))
        released.append(link.component)
        link.status = ComponentStatus.OPERATIONAL
    close_promise(session, incident, now)
    incident.published_at = incident.published_at or now
    incident.last_public_update_at = now
    incident.next_update_due = None
    incident.reminder_due = None
    incident.snoozed_until = None
    session.flush()
    public = recompute(
        session,
        now,
        actor=actor.id,
        cause=f"{incident.ref} resolved",
        components=released,
        incident_id=incident.id,
    )
    return record_event(
        session,
        incident,
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor.id,
        now=now,
        body=message,
        status=IncidentStatus.RESOLVED,
        data={
            "affected_components": affected,
            "public_levels": [c.as_data() for c in public],
            "old_status": old_status.value,
        },
    )
