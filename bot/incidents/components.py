"""Configured components (upserted by key at start) and levels set by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Component, ComponentGroup, Episode
from bot.db.state import bump_version
from bot.errors import InvalidInput, NotFound
from bot.incidents.access import FLARE_ACTOR, Actor
from bot.incidents.levels import (
    Hold,
    LevelChange,
    announce,
    holds,
    lock_components,
    recompute,
    record_setting,
)
from bot.incidents.queries import components_by_key
from bot.text.status import LEVEL_LABELS, ComponentStatus

SYNC_LOCK = 0x466C617265  # "Flare": the advisory lock that serialises component syncs


def sync_components(session: Session, settings: Settings, now: datetime) -> None:
    """Upsert configured components by key; removed ones are hidden, never deleted."""
    if session.get_bind().dialect.name == "postgresql":
        # Processes starting at once take turns (SQLite's IMMEDIATE writes already do): the
        # second then sees the first's rows instead of inserting the same keys and dying.
        session.execute(select(func.pg_advisory_xact_lock(SYNC_LOCK)))
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
    removed = []
    for key, component in existing.items():
        if key not in configured:
            component.hidden = True
            removed.append(component.id)
    if removed:
        # Monitoring's episodes of a removed component end and hold nothing: were the
        # component configured again, it starts from what its signals say then.
        session.execute(
            update(Episode)
            .where(Episode.component_id.in_(removed), Episode.ended_at.is_(None))
            .values(ended_at=now, holding=None)
        )
    session.flush()
    bump_version(session, now)
    # Every start checks the page against the rule (after an upgrade, a restore, a crash).
    levels = recompute(session, now, actor=FLARE_ACTOR, cause="levels checked at start")
    announce(session, levels, now)


@dataclass(frozen=True)
class ManualResult:
    component: Component
    changes: list[LevelChange]
    held_by: list[Hold]  # the other sources that hold it (why the page shows what it shows)


def set_manual_level(
    session: Session, *, key: str, level: ComponentStatus, actor: Actor, now: datetime
) -> ManualResult:
    """Set a component's level by hand, outside any incident; `operational` releases the
    hand-set level. The public level is then the worst of what holds it (an open incident
    or a maintenance window may keep it worse); the change is recorded and told either way."""
    actor.require_responder()
    found = components_by_key(session).get(key)
    if found is None:
        raise NotFound(f"Unknown component {key!r}.")
    [component] = lock_components(session, [found.id])  # read its setting under the lock
    wanted = None if level == ComponentStatus.OPERATIONAL else level
    if component.manual_status == wanted:
        state = LEVEL_LABELS[level].lower() if wanted else "not set by hand"
        raise InvalidInput(f"{component.name} is already {state}.")
    component.manual_status = wanted
    cause = f"set by hand to {LEVEL_LABELS[level]}" if wanted else "hand-set level released"
    changes = recompute(session, now, actor=actor.id, cause=cause, components=[component])
    if changes:
        announce(session, changes, now)
    else:
        record_setting(session, component, now, actor=actor.id, cause=cause)
    others = [h for h in holds(session, [component])[component.id] if h.source != "manual"]
    return ManualResult(component, changes, others)
