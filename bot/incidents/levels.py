"""Component levels: what the public page says about each component."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import (
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentComponent,
    IncidentStatus,
)
from bot.db.state import bump_version
from bot.errors import InvalidInput, NotFound
from bot.incidents.queries import (
    components_by_key,
)
from bot.text.status import COMPONENT_RANK


def set_component(
    session: Session,
    component: Component,
    status: ComponentStatus,
    now: datetime,
    incident_id: int | None = None,
) -> tuple[str, str] | None:
    """Change a component's status and record it in its history; (old, new) or None."""
    old = component.status
    if old == status:
        return None
    component.status = status
    component.updated_at = now
    session.add(
        ComponentStatusChange(
            component_id=component.id, status=status, at=now, incident_id=incident_id
        )
    )
    return old.value, status.value


def worst_open_level(
    session: Session, component: Component, excluding: Incident | None = None
) -> ComponentStatus:
    """The worst level open incidents (other than `excluding`) give a component."""
    query = (
        select(IncidentComponent.status)
        .join(Incident, Incident.id == IncidentComponent.incident_id)
        .where(
            IncidentComponent.component_id == component.id,
            Incident.status != IncidentStatus.RESOLVED,
        )
    )
    if excluding is not None:
        query = query.where(IncidentComponent.incident_id != excluding.id)
    levels = session.scalars(query).all()
    return max(levels, key=COMPONENT_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


def set_component_status(
    session: Session, *, key: str, status: ComponentStatus, actor: str, now: datetime
) -> tuple[Component, tuple[str, str] | None]:
    """Set a component's status outside any incident."""
    component = components_by_key(session).get(key)
    if component is None:
        raise NotFound(f"Unknown component {key!r}.")
    change = set_component(session, component, status, now)
    if change is None:
        raise InvalidInput(f"{component.name} is already {status.value.replace('_', ' ')}.")
    bump_version(session, now)
    return component, change
