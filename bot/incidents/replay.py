"""The one replay of what customers were told: an incident's public updates, oldest first,
turned into the updates, statuses, component changes and impact that every public surface
shows (page, API, feeds, mail and webhooks alike).

Only public updates are read, and their text goes through the one scrubber, so nothing
built from a replay can carry an internal note, a person or a Slack link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Component, Incident, Maintenance, TimelineEvent
from bot.text.scrub import public_text
from bot.text.status import (
    COMPONENT_RANK,
    STATUS_LABELS,
    ComponentStatus,
    EventKind,
    IncidentStatus,
    MaintenanceStatus,
    impact,
    indicator,
    neutral_title,
)
from bot.text.times import hhmm

TOLD_KINDS = (EventKind.PUBLIC_UPDATE, EventKind.CORRECTION)
PUBLIC = (Incident.published_at.is_not(None), Incident.internal_only.is_(False))
REPLAY_CHUNK = 500  # incidents whose public updates are read and replayed at once


@dataclass(frozen=True, slots=True)
class Change:
    """A component change published with an update (Statuspage's `affected_components`)."""

    code: str  # the component's public id
    name: str
    old_status: str
    new_status: str


@dataclass(frozen=True, slots=True)
class PublishedUpdate:
    id: str
    status: str
    body: str
    at: datetime
    affected: tuple[Change, ...]

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Replay:
    """What customers were told about one incident, replayed from its public updates."""

    updates: tuple[PublishedUpdate, ...]  # newest first
    status: str
    monitoring_at: datetime | None
    resolved_at: datetime | None
    touched: tuple[str, ...]  # component ids, in order of first mention
    names: tuple[str, ...]  # their names (as configured now, else as published)
    levels: Mapping[str, ComponentStatus]  # the incident's level for each, as last told
    worst: ComponentStatus | None  # the worst level it ever gave a component
    updated_at: datetime


def incident_name(public_title: str | None, told: Replay) -> str:
    """What customers call the incident: its public title, or a neutral one from every
    component its updates named (hidden since or not) and the worst level it told."""
    return public_text(public_title) or neutral_title(list(told.names), told.worst)


def changes(data: Mapping[str, Any] | None, names: Mapping[str, str]) -> tuple[Change, ...]:
    out = []
    for change in (data or {}).get("affected_components") or []:
        code = str(change.get("code", ""))
        out.append(
            Change(
                code=code,
                name=names.get(code, str(change.get("name", ""))),
                old_status=str(change.get("old_status", "operational")),
                new_status=str(change.get("new_status", "operational")),
            )
        )
    return tuple(out)


def told_wording(body: str | None, data: Mapping[str, Any] | None) -> str:
    """The wording customers read for an update: the published text, or its latest
    correction followed by "(corrected HH:MM UTC)" (every public surface shows this)."""
    correction = (data or {}).get("correction")
    if not isinstance(correction, Mapping) or "body" not in correction:
        return public_text(body)
    at = datetime.fromisoformat(str(correction["at"]))
    return f"{public_text(str(correction['body']))} (corrected {hhmm(at)})"


def corrected_at(data: Mapping[str, Any] | None) -> datetime:
    """When an update's wording was last corrected (the minimum time if never)."""
    correction = (data or {}).get("correction")
    if isinstance(correction, Mapping) and "at" in correction:
        return datetime.fromisoformat(str(correction["at"]))
    return datetime.min.replace(tzinfo=UTC)


def replay_events(events: Sequence[Any], names: Mapping[str, str]) -> Replay:
    """Replay public update rows (`public_id`, `status`, `body`, `at`, `data`), oldest first."""
    views = []
    status = IncidentStatus.INVESTIGATING.value
    monitoring_at = None
    levels: dict[str, ComponentStatus] = {}
    named: dict[str, str] = {}
    worst: ComponentStatus | None = None
    for event in events:
        status = (event.status or IncidentStatus(status)).value
        if status == IncidentStatus.MONITORING and monitoring_at is None:
            monitoring_at = event.at
        affected = changes(event.data, names)
        for change in affected:
            try:
                level = ComponentStatus(change.new_status)
            except ValueError:
                continue
            levels[change.code] = level
            named.setdefault(change.code, change.name)
            if worst is None or COMPONENT_RANK[level] > COMPONENT_RANK[worst]:
                worst = level
        views.append(
            PublishedUpdate(
                id=event.public_id,
                status=status,
                body=told_wording(event.body, event.data),
                at=event.at,
                affected=affected,
            )
        )
    return Replay(
        updates=tuple(reversed(views)),
        status=status,
        monitoring_at=monitoring_at,
        resolved_at=events[-1].at if status == IncidentStatus.RESOLVED else None,
        touched=tuple(levels),
        names=tuple(named[c] for c in levels),
        levels=levels,
        worst=worst,
        updated_at=max([events[-1].at, *(corrected_at(e.data) for e in events)]),
    )


_COLUMNS = (
    TimelineEvent.incident_id,
    TimelineEvent.public_id,
    TimelineEvent.status,
    TimelineEvent.body,
    TimelineEvent.at,
    TimelineEvent.data,
)


def published_events(session: Session, incident_id: int, *, upto: int | None = None) -> list[Any]:
    """One incident's public updates, oldest first (up to event id `upto` if given)."""
    query = (
        select(*_COLUMNS)
        .where(
            TimelineEvent.incident_id == incident_id,
            TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
        )
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    if upto is not None:
        query = query.where(TimelineEvent.id <= upto)
    return list(session.execute(query))


class ReplayCache:
    """Replays by incident, keyed by (latest public update id, component names): a rebuild
    re-reads only incidents with a new public update."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[tuple[int, int], Replay]] = {}


def replays(
    session: Session,
    names: Mapping[str, str],
    cache: ReplayCache | None = None,
    *,
    only_open: bool = False,
) -> dict[int, Replay]:
    """Replays of every public incident with a public update (or, `only_open`, of the open
    ones); only incidents with a new public update since the cache saw them are read."""
    cache = cache if cache is not None else ReplayCache()
    names_key = hash(tuple(sorted(names.items())))
    scope = [*PUBLIC, Incident.status != IncidentStatus.RESOLVED] if only_open else PUBLIC
    # A correction rewrites an earlier update's wording: it counts as news for the cache.
    latest = dict(
        session.execute(
            select(TimelineEvent.incident_id, func.max(TimelineEvent.id))
            .join(Incident, Incident.id == TimelineEvent.incident_id)
            .where(TimelineEvent.kind.in_(TOLD_KINDS), *scope)
            .group_by(TimelineEvent.incident_id)
        ).all()
    )
    keys = {incident_id: (int(last), names_key) for incident_id, last in latest.items()}
    stale = [i for i, key in keys.items() if cache.entries.get(i, ((-1, 0), None))[0] != key]
    # Read and replay in chunks of incidents: the rows of at most REPLAY_CHUNK incidents are
    # held at once, so a first build over a long history does not leave the process's heap
    # at the size of every public update ever decoded (the allocator keeps what it grew to).
    stale.sort()
    for start in range(0, len(stale), REPLAY_CHUNK):
        chunk = stale[start : start + REPLAY_CHUNK]
        events: dict[int, list[Any]] = {}
        for event in session.execute(
            select(*_COLUMNS)
            .where(
                TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
                TimelineEvent.incident_id.in_(chunk),
            )
            .order_by(TimelineEvent.at, TimelineEvent.id)
        ):
            events.setdefault(event.incident_id, []).append(event)
        for incident_id in chunk:
            if events.get(incident_id):
                cache.entries[incident_id] = (
                    keys[incident_id],
                    replay_events(events[incident_id], names),
                )
        del events
    for incident_id in set(cache.entries) - set(keys):
        del cache.entries[incident_id]  # no longer public (internal-only, or gone)
    return {i: cache.entries[i][1] for i in keys if i in cache.entries}


# What a maintenance window's updates say of its components (Statuspage's shape).
_MAINTENANCE_LEVELS = {
    "in_progress": (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE),
    "completed": (ComponentStatus.UNDER_MAINTENANCE, ComponentStatus.OPERATIONAL),
}


def maintenance_updates(
    updates: Sequence[Mapping[str, Any]],
    components: Sequence[tuple[str, str]],
    *,
    upto: datetime | None = None,
) -> tuple[PublishedUpdate, ...]:
    """A maintenance window's public updates (stored oldest first), newest first, scrubbed.
    `components` are (public id, name) of the window's components; `upto` stops the replay
    at an update's time, for a notice about that update."""
    out = []
    for raw in updates:
        at = datetime.fromisoformat(str(raw["at"])).astimezone(UTC)
        if upto is not None and at > upto:
            break
        status = str(raw.get("status", "scheduled"))
        levels = _MAINTENANCE_LEVELS.get(status)
        if raw.get("cancelled") and not raw.get("affects"):
            levels = None  # cancelled before it started: it never held a component
        if raw.get("change") == "extended":
            levels = None  # the window goes on: no component changed level
        affected = (
            tuple(Change(cid, name, levels[0].value, levels[1].value) for cid, name in components)
            if levels
            else ()
        )
        body = public_text(str(raw.get("body") or ""))
        out.append(PublishedUpdate(str(raw.get("id", "")), status, body, at, affected))
    return tuple(reversed(out))


def component_names(session: Session) -> dict[str, str]:
    """Every component's name by id, hidden ones too (history names them)."""
    return {row.id: row.name for row in session.execute(select(Component.id, Component.name))}


def page_indicator(session: Session, told: Mapping[int, Replay] | None = None) -> tuple[str, str]:
    """The page's overall indicator, Statuspage's way: the worst of the visible components'
    public levels, each open public incident's impact (from the worst level it told
    customers) and maintenance in progress. The page and every webhook use this one function,
    so they never disagree. `told` are replays the caller already has (the page's); without
    them only the open incidents are replayed (a webhook's cost does not grow with history)."""
    if told is None:
        told = replays(session, component_names(session), only_open=True)
    components = session.execute(select(Component.status, Component.hidden)).all()
    open_ids = session.scalars(
        select(Incident.id).where(Incident.status != IncidentStatus.RESOLVED, *PUBLIC)
    ).all()
    impacts = [impact(told[i].worst) for i in open_ids if i in told]
    active = session.scalar(
        select(Maintenance.id).where(Maintenance.status == MaintenanceStatus.IN_PROGRESS).limit(1)
    )
    levels = (c.status for c in components if not c.hidden)
    return indicator(levels, impacts, active is not None)
