"""Configured components, upserted by key at start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
)
from bot.db.state import bump_version


def sync_components(session: Session, settings: Settings, now: datetime) -> None:
    """Upsert configured components by key; removed ones are hidden, never deleted."""
    groups = {g.name: g for g in session.scalars(select(ComponentGroup))}
    order = list(dict.fromkeys(c.group for c in settings.components if c.group))
    for position, name in enumerate(order):
        group = groups.get(name)
        if group is None:
            group = ComponentGroup(name=name, created_at=now, updated_at=now)
            session.add(group)
            groups[name] = group
        group.position = position + 1
    session.flush()
    existing = {c.key: c for c in session.scalars(select(Component))}
    for position, config in enumerate(settings.components):
        component = existing.get(config.key)
        if component is None:
            component = Component(
                key=config.key,
                status=ComponentStatus.OPERATIONAL,
                created_at=now,
                updated_at=now,
            )
            session.add(component)
        component.name = config.name
        component.description = config.description
        component.group_id = groups[config.group].id if config.group else None
        component.position = position + 1
        component.showcase = config.showcase
        component.only_show_if_degraded = config.only_show_if_degraded
        component.hidden = False
    configured = settings.component_keys()
    for key, component in existing.items():
        if key not in configured:
            component.hidden = True
    session.flush()
    bump_version(session, now)
