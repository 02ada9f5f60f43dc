"""Reading what the public site may show, in one go: `load()` → `PageData`.

Only public columns are ever selected: the public title (or a neutral one), published updates
(through the one replay in `bot.incidents`), component states and maintenances. Internal
titles, notes, people and Slack links are never loaded, so no template, JSON builder or feed
can leak them by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
)
from bot.db.state import VERSION_KEY
from bot.incidents import (
    Replay,
    ReplayCache,
    component_names,
    incident_name,
    maintenance_updates,
    page_indicator,
    replays,
)
from bot.text.scrub import public_text
from bot.text.status import (
    ComponentStatus,
    impact,
)
from web.public import uptime
from web.public.pagedata import ComponentView, GroupView, IncidentView, PageData


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


def _incidents(
    session: Session, by_id: dict[str, ComponentView], told: Mapping[int, Replay]
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
    out = []
    for row in rows:
        replay = told.get(row.id)
        if replay is None:
            continue
        components = tuple(
            sorted((by_id[c] for c in replay.touched if c in by_id), key=lambda c: c.position)
        )
        out.append(
            IncidentView(
                kind="incident",
                public_id=row.public_id,
                name=incident_name(row.public_title, replay),
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
        updates = maintenance_updates(row.updates or [], [(c.id, c.name) for c in components])
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
                updates=updates,
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
    told = replays(session, component_names(session), cache or ReplayCache())
    # The indicator by the one function webhooks use too, on the replays the page shows.
    indicator, description = page_indicator(session, told)
    incidents = _incidents(session, by_id, told)
    maintenances = _maintenances(session, {c.key: c for c in components})
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
