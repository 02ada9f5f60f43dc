"""What the public site may show, read in one go: `load()` → `PageData` (plain frozen values).

Only public columns are ever selected: the public title (or a neutral one), published updates,
component states and maintenances. Internal titles, notes, people and Slack links are never
loaded, so no template, JSON builder or feed can leak them by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Incident,
    KeyValue,
    Maintenance,
    MaintenanceStatus,
    TimelineEvent,
)
from bot.db.state import VERSION_KEY
from bot.text.status import (
    COMPONENT_RANK,
    LEVEL_LABELS,
    STATUS_LABELS,
    ComponentStatus,
    EventKind,
    IncidentStatus,
    impact,
    indicator,
    neutral_title,
)
from web.public import uptime

IMPACT_LABELS = {
    "none": "No impact",
    "minor": "Minor",
    "major": "Major",
    "critical": "Critical",
    "maintenance": "Maintenance",
}
# Slack mentions and channel links (`<@U…>`, `<#C…|name>`, `<!subteam^S…>`) name people or
# internal places: public text shows a neutral phrase instead.
_SLACK_REFERENCE = re.compile(r"<[@#!][^>\s]*>")
# Characters XML 1.0 forbids (feeds must stay well-formed whatever was typed).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def public_text(text: str | None) -> str:
    return _XML_INVALID.sub("", _SLACK_REFERENCE.sub("our team", text or ""))


@dataclass(frozen=True)
class ComponentView:
    id: str
    key: str
    name: str
    description: str | None
    status: ComponentStatus
    position: int
    group_id: str | None
    showcase: bool
    only_show_if_degraded: bool
    created_at: datetime
    updated_at: datetime
    uptime: uptime.Uptime

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.status]

    @property
    def shown(self) -> bool:
        return not (self.only_show_if_degraded and self.status == ComponentStatus.OPERATIONAL)


@dataclass(frozen=True)
class GroupView:
    id: str
    name: str
    position: int
    created_at: datetime
    updated_at: datetime
    components: tuple[ComponentView, ...]

    @property
    def status(self) -> ComponentStatus:
        return max(
            (c.status for c in self.components),
            key=COMPONENT_RANK.__getitem__,
            default=ComponentStatus.OPERATIONAL,
        )

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.status]


@dataclass(frozen=True)
class AffectedView:
    code: str
    name: str
    old_status: str
    new_status: str


@dataclass(frozen=True)
class UpdateView:
    id: str
    status: str
    body: str
    at: datetime
    affected: tuple[AffectedView, ...]

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())


@dataclass(frozen=True)
class IncidentView:
    """An incident or a maintenance, as the page, the API and the feeds show it."""

    kind: str  # "incident" | "maintenance"
    public_id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    updates: tuple[UpdateView, ...]  # newest first
    components: tuple[ComponentView, ...]
    next_update_due: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def impact_label(self) -> str:
        return IMPACT_LABELS.get(self.impact, self.impact)

    @property
    def finished(self) -> bool:
        return self.status in {"resolved", "completed"}

    @property
    def is_maintenance(self) -> bool:
        return self.kind == "maintenance"


@dataclass(frozen=True)
class PageData:
    name: str
    url: str
    time_zone: str
    page_id: str
    version: int
    updated_at: datetime
    now: datetime
    groups: tuple[GroupView, ...]
    # Top level in page order: a group, or a component outside any group.
    layout: tuple[GroupView | ComponentView, ...]
    components: tuple[ComponentView, ...]
    incidents: tuple[IncidentView, ...]  # public incidents, newest first
    maintenances: tuple[IncidentView, ...]  # newest window first
    indicator: str
    description: str

    def shortlink(self, public_id: str) -> str:
        return f"{self.url}/incidents/{public_id}"

    @property
    def open_incidents(self) -> tuple[IncidentView, ...]:
        return tuple(i for i in self.incidents if not i.finished)

    @property
    def active_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(
            sorted(
                (m for m in self.maintenances if m.status == MaintenanceStatus.IN_PROGRESS),
                key=lambda m: m.scheduled_for or m.created_at,
            )
        )

    @property
    def upcoming_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(
            sorted(
                (m for m in self.maintenances if m.status == MaintenanceStatus.SCHEDULED),
                key=lambda m: m.scheduled_for or m.created_at,
            )
        )

    def find(self, public_id: str) -> IncidentView | None:
        for item in (*self.incidents, *self.maintenances):
            if item.public_id == public_id:
                return item
        return None

    def history(self) -> tuple[IncidentView, ...]:
        """Incidents and finished maintenances, newest first by when they began."""
        done = (m for m in self.maintenances if m.finished)
        return tuple(sorted((*self.incidents, *done), key=_began, reverse=True))

    def recent_days(self, days: int = 7) -> list[tuple[date, list[IncidentView]]]:
        today = self.now.astimezone(UTC).date()
        by_day: dict[date, list[IncidentView]] = {}
        for item in self.history():
            by_day.setdefault(_began(item).astimezone(UTC).date(), []).append(item)
        return [
            (day, by_day.get(day, [])) for day in (today - timedelta(days=n) for n in range(days))
        ]


def _began(item: IncidentView) -> datetime:
    return item.scheduled_for if item.is_maintenance and item.scheduled_for else item.created_at


def overall(
    components: Sequence[ComponentView],
    open_incidents: Sequence[IncidentView],
    maintenance_active: bool,
) -> tuple[str, str]:
    """Statuspage's indicator: the worst of component levels and open incidents' impact."""
    return indicator(
        (c.status for c in components), (i.impact for i in open_incidents), maintenance_active
    )


# --- loading ------------------------------------------------------------------------------


def _uptimes(
    session: Session, components: Sequence[Any], now: datetime
) -> dict[str, uptime.Uptime]:
    start = datetime.combine(
        now.astimezone(UTC).date() - timedelta(days=uptime.DAYS - 1), datetime.min.time(), UTC
    )
    change = ComponentStatusChange
    last_before = (
        select(change.component_id, func.max(change.at).label("at"))
        .where(change.at < start)
        .group_by(change.component_id)
        .subquery()
    )
    initial: dict[str, ComponentStatus] = {}
    for component_id, status in session.execute(
        select(change.component_id, change.status).join(
            last_before,
            (last_before.c.component_id == change.component_id) & (last_before.c.at == change.at),
        )
    ):
        initial[component_id] = status
    changes: dict[str, list[tuple[datetime, ComponentStatus]]] = {}
    for component_id, at, status in session.execute(
        select(change.component_id, change.at, change.status)
        .where(change.at >= start)
        .order_by(change.at, change.id)
    ):
        changes.setdefault(component_id, []).append((at, status))
    return {
        c.id: uptime.compute(
            initial=initial.get(c.id, ComponentStatus.OPERATIONAL),
            changes=changes.get(c.id, []),
            created_at=c.created_at,
            now=now,
        )
        for c in components
    }


def _components(session: Session, now: datetime) -> list[ComponentView]:
    rows = session.execute(
        select(
            Component.id,
            Component.key,
            Component.name,
            Component.description,
            Component.status,
            Component.position,
            Component.group_id,
            Component.showcase,
            Component.only_show_if_degraded,
            Component.created_at,
            Component.updated_at,
        )
        .where(Component.hidden.is_(False))
        .order_by(Component.position, Component.key)
    ).all()
    bars = _uptimes(session, rows, now)
    return [
        ComponentView(
            id=r.id,
            key=r.key,
            name=r.name,
            description=r.description,
            status=r.status,
            position=r.position,
            group_id=r.group_id,
            showcase=r.showcase,
            only_show_if_degraded=r.only_show_if_degraded,
            created_at=r.created_at,
            updated_at=r.updated_at,
            uptime=bars[r.id],
        )
        for r in rows
    ]


def _affected(data: dict[str, Any] | None, names: dict[str, str]) -> tuple[AffectedView, ...]:
    out = []
    for change in (data or {}).get("affected_components") or []:
        code = str(change.get("code", ""))
        out.append(
            AffectedView(
                code=code,
                name=names.get(code, str(change.get("name", ""))),
                old_status=str(change.get("old_status", "operational")),
                new_status=str(change.get("new_status", "operational")),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Replay:
    """What customers were told about one incident, replayed from its public updates.

    The costly part of a rebuild (every update read and decoded), so it is kept between
    rebuilds and redone only for incidents with a new public update.
    """

    updates: tuple[UpdateView, ...]  # newest first
    status: str
    monitoring_at: datetime | None
    resolved_at: datetime | None
    touched: tuple[str, ...]  # component ids, in order of first mention
    worst: ComponentStatus | None
    updated_at: datetime


class ReplayCache:
    """Replays by incident, keyed by (latest public update id, component names)."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[tuple[int, int], Replay]] = {}


def _replay(events: list[Any], names: dict[str, str]) -> Replay:
    views = []
    status = IncidentStatus.INVESTIGATING.value
    monitoring_at = None
    touched: dict[str, None] = {}
    worst: ComponentStatus | None = None
    for event in events:  # oldest first: replay what customers were told
        status = (event.status or IncidentStatus(status)).value
        if status == IncidentStatus.MONITORING and monitoring_at is None:
            monitoring_at = event.at
        affected = _affected(event.data, names)
        for change in affected:
            touched[change.code] = None
            try:
                level = ComponentStatus(change.new_status)
            except ValueError:
                continue
            if worst is None or COMPONENT_RANK[level] > COMPONENT_RANK[worst]:
                worst = level
        views.append(
            UpdateView(
                id=event.public_id,
                status=status,
                body=public_text(event.body),
                at=event.at,
                affected=affected,
            )
        )
    return Replay(
        updates=tuple(reversed(views)),
        status=status,
        monitoring_at=monitoring_at,
        resolved_at=events[-1].at if status == IncidentStatus.RESOLVED else None,
        touched=tuple(touched),
        worst=worst,
        updated_at=events[-1].at,
    )


def _replays(session: Session, names: dict[str, str], cache: ReplayCache) -> dict[int, Replay]:
    """Replays of every public incident with a public update; only changed ones are read."""
    public = (Incident.published_at.is_not(None), Incident.internal_only.is_(False))
    names_key = hash(tuple(sorted(names.items())))
    latest = dict(
        session.execute(
            select(TimelineEvent.incident_id, func.max(TimelineEvent.id))
            .join(Incident, Incident.id == TimelineEvent.incident_id)
            .where(TimelineEvent.kind == EventKind.PUBLIC_UPDATE, *public)
            .group_by(TimelineEvent.incident_id)
        ).all()
    )
    keys = {incident_id: (int(last), names_key) for incident_id, last in latest.items()}
    stale = [i for i, key in keys.items() if cache.entries.get(i, ((-1, 0), None))[0] != key]
    if stale:
        query = (
            select(
                TimelineEvent.incident_id,
                TimelineEvent.public_id,
                TimelineEvent.status,
                TimelineEvent.body,
                TimelineEvent.at,
                TimelineEvent.data,
            )
            .where(TimelineEvent.kind == EventKind.PUBLIC_UPDATE)
            .order_by(TimelineEvent.at, TimelineEvent.id)
        )
        if len(stale) < len(keys):
            query = query.where(TimelineEvent.incident_id.in_(stale))
        else:
            query = query.join(Incident, Incident.id == TimelineEvent.incident_id).where(*public)
        events: dict[int, list[Any]] = {}
        for event in session.execute(query):
            events.setdefault(event.incident_id, []).append(event)
        for incident_id in stale:
            if events.get(incident_id):
                cache.entries[incident_id] = (
                    keys[incident_id],
                    _replay(events[incident_id], names),
                )
    for incident_id in set(cache.entries) - set(keys):
        del cache.entries[incident_id]  # no longer public (internal-only, or gone)
    return {i: cache.entries[i][1] for i in keys if i in cache.entries}


def _incidents(
    session: Session, by_id: dict[str, ComponentView], cache: ReplayCache
) -> list[IncidentView]:
    public = (Incident.published_at.is_not(None), Incident.internal_only.is_(False))
    rows = session.execute(
        select(
            Incident.id,
            Incident.public_id,
            Incident.public_title,
            Incident.impact_started_at,
            Incident.published_at,
            Incident.next_update_due,
        ).where(*public)
    ).all()
    replays = _replays(session, {c.id: c.name for c in by_id.values()}, cache)
    out = []
    for row in rows:
        replay = replays.get(row.id)
        if replay is None:
            continue
        components = tuple(
            sorted((by_id[c] for c in replay.touched if c in by_id), key=lambda c: c.position)
        )
        out.append(
            IncidentView(
                kind="incident",
                public_id=row.public_id,
                name=public_text(row.public_title)
                or neutral_title([c.name for c in components], replay.worst),
                status=replay.status,
                impact=impact(replay.worst),
                created_at=row.published_at,
                updated_at=replay.updated_at,
                started_at=min(row.impact_started_at, row.published_at),
                monitoring_at=replay.monitoring_at,
                resolved_at=replay.resolved_at,
                updates=replay.updates,
                components=components,
                next_update_due=None if replay.resolved_at else row.next_update_due,
            )
        )
    out.sort(key=lambda i: (i.created_at, i.public_id), reverse=True)
    return out


def _maintenances(session: Session, by_key: dict[str, ComponentView]) -> list[IncidentView]:
    rows = session.execute(
        select(
            Maintenance.public_id,
            Maintenance.title,
            Maintenance.status,
            Maintenance.starts_at,
            Maintenance.ends_at,
            Maintenance.created_at,
            Maintenance.updated_at,
            Maintenance.started_at,
            Maintenance.completed_at,
            Maintenance.component_keys,
            Maintenance.updates,
        ).order_by(Maintenance.starts_at.desc(), Maintenance.id.desc())
    ).all()
    out = []
    for row in rows:
        components = tuple(by_key[k] for k in row.component_keys or [] if k in by_key)
        affected_level = {
            "in_progress": (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE),
            "completed": (ComponentStatus.UNDER_MAINTENANCE, ComponentStatus.OPERATIONAL),
        }
        updates = []
        for raw in reversed(row.updates or []):
            status = str(raw.get("status", "scheduled"))
            levels = affected_level.get(status)
            updates.append(
                UpdateView(
                    id=str(raw.get("id", "")),
                    status=status,
                    body=public_text(str(raw.get("body") or "")),
                    at=datetime.fromisoformat(raw["at"]).astimezone(UTC),
                    affected=tuple(
                        AffectedView(c.id, c.name, levels[0].value, levels[1].value)
                        for c in components
                    )
                    if levels
                    else (),
                )
            )
        out.append(
            IncidentView(
                kind="maintenance",
                public_id=row.public_id,
                name=public_text(row.title),
                status=row.status.value,
                impact="maintenance",
                created_at=row.created_at,
                updated_at=row.updated_at,
                started_at=row.started_at or row.starts_at,
                monitoring_at=None,
                resolved_at=row.completed_at,
                updates=tuple(updates),
                components=components,
                scheduled_for=row.starts_at,
                scheduled_until=row.ends_at,
            )
        )
    return out


def load(
    session: Session, settings: Settings, now: datetime, cache: ReplayCache | None = None
) -> PageData:
    """Everything the public site shows, as of `now`, in a handful of queries."""
    version = int(session.scalar(select(KeyValue.number).where(KeyValue.key == VERSION_KEY)) or 0)
    components = _components(session, now)
    by_id = {c.id: c for c in components}
    groups = []
    for g in session.execute(
        select(
            ComponentGroup.id,
            ComponentGroup.name,
            ComponentGroup.position,
            ComponentGroup.created_at,
            ComponentGroup.updated_at,
        ).order_by(ComponentGroup.position, ComponentGroup.name)
    ):
        members = tuple(c for c in components if c.group_id == g.id)
        if members:
            groups.append(GroupView(g.id, g.name, g.position, g.created_at, g.updated_at, members))
    group_by_id = {g.id: g for g in groups}
    layout: dict[str, GroupView | ComponentView] = {}
    for component in components:  # a group stands where its first component does
        if component.group_id in group_by_id:
            layout.setdefault(f"g:{component.group_id}", group_by_id[component.group_id])
        else:
            layout[f"c:{component.id}"] = component
    incidents = _incidents(session, by_id, cache or ReplayCache())
    maintenances = _maintenances(session, {c.key: c for c in components})
    open_incidents = [i for i in incidents if not i.finished]
    indicator, description = overall(
        components,
        open_incidents,
        any(m.status == MaintenanceStatus.IN_PROGRESS for m in maintenances),
    )
    # From public data only: an internal note bumps the version but must not show here.
    stamps = [
        *(c.updated_at for c in components),
        *(i.updated_at for i in incidents),
        *(m.updated_at for m in maintenances),
    ]
    updated_at = max(stamps, default=now)
    return PageData(
        name=settings.page_name,
        url=settings.public_url.rstrip("/"),
        time_zone=settings.time_zone,
        page_id=settings.page_id,
        version=version,
        updated_at=updated_at,
        now=now,
        groups=tuple(groups),
        layout=tuple(layout.values()),
        components=tuple(components),
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        indicator=indicator,
        description=description,
    )
