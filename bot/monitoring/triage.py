"""What the triage message shows, and what its buttons do. The message itself is built and
sent by bot.slack; here are the domain reads and changes, each checked for who may."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import incidents
from bot.config import Settings
from bot.db.models import (
    Component,
    ComponentStatusChange,
    Episode,
    Incident,
    IncidentComponent,
    Maintenance,
)
from bot.errors import InvalidInput, NotFound
from bot.monitoring.episodes import episode_signals, touch_triage
from bot.text.status import ComponentStatus, IncidentStatus, MaintenanceStatus

DISMISS_FOR = timedelta(hours=1)


@dataclass(frozen=True)
class SignalLine:
    name: str
    level: ComponentStatus
    firing: bool
    since: datetime
    ended_at: datetime | None
    summary: str | None


@dataclass(frozen=True)
class TriageView:
    episode_id: int
    component_key: str
    component_name: str
    page_level: ComponentStatus
    level: ComponentStatus
    started_at: datetime
    ended_at: datetime | None
    quiet_since: datetime | None
    signals: tuple[SignalLine, ...]
    published: int  # public level changes of the component during the episode
    dismissed_by: str | None
    dismissed_until: datetime | None
    marked_by: str | None
    channel: str | None
    ts: str | None
    revision: int
    covered_by: tuple[str, ...] = ()  # "INC-3", "maintenance “DB upgrade”": a person in charge


def triage_view(session: Session, episode_id: int) -> TriageView | None:
    episode = session.get(Episode, episode_id)
    component = session.get(Component, episode.component_id) if episode else None
    if episode is None or component is None:
        return None
    signals = episode_signals(session, component.key, episode.started_at)
    published = session.scalars(
        select(ComponentStatusChange.id).where(
            ComponentStatusChange.component_id == component.id,
            ComponentStatusChange.at >= episode.started_at,
            ComponentStatusChange.status != ComponentStatusChange.previous,
        )
    ).all()
    return TriageView(
        episode_id=episode.id,
        component_key=component.key,
        component_name=component.name,
        page_level=component.status,
        level=episode.level,
        started_at=episode.started_at,
        ended_at=episode.ended_at,
        quiet_since=episode.quiet_since,
        signals=tuple(
            SignalLine(s.name, s.level, s.firing, s.since, s.ended_at, s.summary) for s in signals
        ),
        published=len(published),
        dismissed_by=episode.dismissed_by,
        dismissed_until=episode.dismissed_until,
        marked_by=episode.marked_by,
        channel=episode.slack_channel,
        ts=episode.slack_ts,
        revision=episode.revision,
        covered_by=_covered_by(session, component),
    )


def _covered_by(session: Session, component: Component) -> tuple[str, ...]:
    refs = [
        f"INC-{n}"
        for n in session.scalars(
            select(Incident.number)
            .join(IncidentComponent, IncidentComponent.incident_id == Incident.id)
            .where(
                IncidentComponent.component_id == component.id,
                Incident.status != IncidentStatus.RESOLVED,
            )
            .order_by(Incident.number)
        )
    ]
    for title, keys in session.execute(
        select(Maintenance.title, Maintenance.component_keys).where(
            Maintenance.status == MaintenanceStatus.IN_PROGRESS
        )
    ):
        if component.key in (keys or []):
            refs.append(f"maintenance “{title}”")
    return tuple(refs)


def _episode(session: Session, episode_id: int) -> Episode:
    episode = session.get(Episode, episode_id, with_for_update=True)
    if episode is None:
        raise NotFound("That monitoring episode no longer exists.")
    return episode


def dismiss(session: Session, episode_id: int, *, user: str, now: datetime) -> Episode:
    """ "Dismiss 1 h": no new triage message for the component for an hour (anyone may:
    it changes nothing customers see); the message says who dismissed it."""
    episode = _episode(session, episode_id)
    episode.dismissed_by = user
    episode.dismissed_until = now + DISMISS_FOR
    touch_triage(session, episode, now)
    return episode


def mark(
    session: Session,
    settings: Settings,
    episode_id: int,
    level: ComponentStatus,
    *,
    actor: incidents.Actor,
    now: datetime,
) -> incidents.ManualResult:
    """ "Mark <level>": a public component change (responders only, checked by the level
    service), held by hand until set back to operational."""
    episode = _episode(session, episode_id)
    component = session.get(Component, episode.component_id)
    if component is None or component.key not in settings.component_keys():
        raise InvalidInput("That component is no longer configured.")
    result = incidents.set_manual_level(
        session, key=component.key, level=level, actor=actor, now=now
    )
    episode.marked_by = actor.id
    touch_triage(session, episode, now)
    return result


def save_message(session: Session, episode_id: int, channel: str, ts: str) -> None:
    """Remember where the episode's triage message is (so later revisions edit it)."""
    episode = session.get(Episode, episode_id, with_for_update=True)
    if episode is not None and episode.slack_ts is None:
        episode.slack_channel, episode.slack_ts = channel, ts
