"""Reading incidents: by reference, the open ones, a timeline, components."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Component, Incident, IncidentComponent, TimelineEvent
from bot.errors import NotFound
from bot.text.status import IncidentStatus


def get_incident(session: Session, number: int, *, for_update: bool = False) -> Incident:
    query = select(Incident).where(Incident.number == number)
    if for_update:
        query = query.with_for_update()
    incident = session.scalars(query).one_or_none()
    if incident is None:
        raise NotFound(f"There is no incident INC-{number}. `/incident list` shows open ones.")
    return incident


def open_incidents(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.status != IncidentStatus.RESOLVED)
            .order_by(Incident.severity, Incident.number)
        )
    )


def timeline(session: Session, incident: Incident) -> list[TimelineEvent]:
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident.id)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
    )


def components_by_key(session: Session) -> dict[str, Component]:
    return {c.key: c for c in session.scalars(select(Component).where(Component.hidden.is_(False)))}


def incident_components(session: Session, incident: Incident) -> list[IncidentComponent]:
    return list(
        session.scalars(
            select(IncidentComponent).where(IncidentComponent.incident_id == incident.id)
        )
    )
