"""Component levels: what the public page says about each component, and why.

The one rule: a component's public level is the worst of every source that holds it now:
each open public incident's level for it, an active maintenance window (under maintenance),
a level set by hand (`/incident component`, until set back to operational) and, where its
automation policy is `auto` and no incident or maintenance holds a public level for it, its
monitoring signal. `recompute` applies the rule after every change of any source; nothing
writes a public level directly, so one incident resolving, one window ending or one signal
recovering never lowers a level that another source still holds. Every change of a public
level is recorded (who, when, from, to, why); `announce` posts it to #incidents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.db.models import (
    Component,
    ComponentStatusChange,
    Episode,
    Incident,
    IncidentComponent,
    Maintenance,
)
from bot.db.state import bump_version
from bot.outbox import kinds
from bot.text.status import (
    COMPONENT_RANK,
    LEVEL_LABELS,
    ComponentStatus,
    IncidentStatus,
    MaintenanceStatus,
    worst,
)

OPEN_PUBLIC_INCIDENT = (
    Incident.status != IncidentStatus.RESOLVED,
    Incident.published_at.is_not(None),
    Incident.internal_only.is_(False),
)


@dataclass(frozen=True)
class Hold:
    """One source holding a component at a level."""

    source: str  # "incident" | "maintenance" | "manual" | "monitoring"
    level: ComponentStatus
    label: str  # "INC-3", "maintenance “DB upgrade”", "set by hand", "monitoring"


@dataclass(frozen=True)
class LevelChange:
    component_id: str
    key: str
    name: str
    old: ComponentStatus
    new: ComponentStatus
    change_id: int  # the ComponentStatusChange row that records it

    def as_data(self) -> dict[str, str]:
        return {"code": self.component_id, "key": self.key, "name": self.name,
                "from": self.old.value, "to": self.new.value}  # fmt: skip


def holds(session: Session, components: Sequence[Component]) -> dict[str, list[Hold]]:
    """Every source holding each component now (operational holds nothing)."""
    held: dict[str, list[Hold]] = {c.id: [] for c in components}
    ids = list(held)
    if not ids:
        return held
    for component_id, level, number in session.execute(
        select(IncidentComponent.component_id, IncidentComponent.status, Incident.number)
        .join(Incident, Incident.id == IncidentComponent.incident_id)
        .where(IncidentComponent.component_id.in_(ids), *OPEN_PUBLIC_INCIDENT)
        .order_by(Incident.number)
    ):
        if level != ComponentStatus.OPERATIONAL:
            held[component_id].append(Hold("incident", level, f"INC-{number}"))
    by_key = {c.key: c.id for c in components}
    for title, keys in session.execute(
        select(Maintenance.title, Maintenance.component_keys).where(
            Maintenance.status == MaintenanceStatus.IN_PROGRESS
        )
    ):
        for key in keys or []:
            if key in by_key:
                label = f"maintenance “{title}”"
                held[by_key[key]].append(
                    Hold("maintenance", ComponentStatus.UNDER_MAINTENANCE, label)
                )
    for component in components:
        if component.manual_status not in (None, ComponentStatus.OPERATIONAL):
            held[component.id].append(Hold("manual", component.manual_status, "set by hand"))
    # Monitoring under `auto` holds only where people hold a public level: an open public
    # incident listing the component at a level, or a maintenance in progress. An
    # internal-only incident, or one listing it at operational, does not silence it (the
    # page would say operational while the monitors say otherwise).
    covered = {cid for cid, hs in held.items() if any(h.source != "manual" for h in hs)}
    for component_id, holding in session.execute(
        select(Episode.component_id, Episode.holding).where(
            Episode.component_id.in_(ids), Episode.ended_at.is_(None), Episode.holding.is_not(None)
        )
    ):
        if component_id not in covered and holding is not None:
            held[component_id].append(Hold("monitoring", holding, "monitoring"))
    return held


def covered_components(session: Session, ids: Sequence[str]) -> set[str]:
    """The components among `ids` an open incident or an active maintenance covers."""
    covered = set(
        session.scalars(
            select(IncidentComponent.component_id)
            .join(Incident, Incident.id == IncidentComponent.incident_id)
            .where(
                IncidentComponent.component_id.in_(ids),
                Incident.status != IncidentStatus.RESOLVED,
            )
        )
    )
    keys = {
        key
        for group in session.scalars(
            select(Maintenance.component_keys).where(
                Maintenance.status == MaintenanceStatus.IN_PROGRESS
            )
        )
        for key in group or []
    }
    if keys:
        query = select(Component.id).where(Component.id.in_(ids), Component.key.in_(keys))
        covered |= set(session.scalars(query))
    return covered


def level_of(held: Iterable[Hold]) -> ComponentStatus:
    return worst(h.level for h in held) or ComponentStatus.OPERATIONAL


def lock_components(session: Session, ids: Sequence[str] | None = None) -> list[Component]:
    """The components (every visible one if `ids` is None), locked until commit in id order
    and read afresh: two transactions recomputing a component take turns, and the second sees
    every holder the first committed (PostgreSQL; SQLite writers are serialised anyway)."""
    query = select(Component).order_by(Component.id).with_for_update(of=Component)
    query = query.where(Component.hidden.is_(False) if ids is None else Component.id.in_(ids))
    return list(session.scalars(query.execution_options(populate_existing=True)))


def recompute(
    session: Session,
    now: datetime,
    *,
    actor: str,
    cause: str,
    components: Iterable[Component] | None = None,
    incident_id: int | None = None,
) -> list[LevelChange]:
    """Apply the rule to `components` (every visible one if None); record each change."""
    wanted = None if components is None else sorted({c.id for c in components})
    targets = lock_components(session, wanted)
    held = holds(session, targets)
    changes = []
    for component in targets:
        new = level_of(held[component.id])
        if new == component.status:
            continue
        changes.append(_record(session, component, new, now, actor, cause, incident_id))
    if changes:
        bump_version(session, now)
    return changes


def _record(
    session: Session,
    component: Component,
    new: ComponentStatus,
    now: datetime,
    actor: str,
    cause: str,
    incident_id: int | None,
) -> LevelChange:
    old = component.status
    component.status = new
    component.updated_at = now
    row = ComponentStatusChange(
        component_id=component.id,
        status=new,
        previous=old,
        at=now,
        incident_id=incident_id,
        actor=actor,
        cause=cause[:300],
    )
    session.add(row)
    session.flush()
    return LevelChange(component.id, component.key, component.name, old, new, row.id)


def announce(session: Session, changes: Sequence[LevelChange], now: datetime) -> None:
    """Post each public level change to #incidents (changes made by an incident's update are
    told in that incident's thread instead)."""
    for change in changes:
        outbox.enqueue(
            session,
            key=f"component:{change.change_id}",
            kind=kinds.SLACK_COMPONENT,
            now=now,
            payload={"change_id": change.change_id},
        )


def record_setting(
    session: Session,
    component: Component,
    now: datetime,
    *,
    actor: str,
    cause: str,
) -> ComponentStatusChange:
    """A manual setting that left the public level where it was (another source holds it):
    still recorded and told, so no setting is ever silent."""
    row = ComponentStatusChange(
        component_id=component.id,
        status=component.status,
        previous=component.status,
        at=now,
        actor=actor,
        cause=cause[:300],
    )
    session.add(row)
    session.flush()
    outbox.enqueue(
        session,
        key=f"component:{row.id}",
        kind=kinds.SLACK_COMPONENT,
        now=now,
        payload={"change_id": row.id},
    )
    bump_version(session, now)
    return row


def describe_holds(held: Sequence[Hold]) -> str:
    """ "INC-3 (Major outage), set by hand (Degraded performance)"."""
    ranked = sorted(held, key=lambda h: -COMPONENT_RANK[h.level])
    return ", ".join(f"{h.label} ({LEVEL_LABELS[h.level]})" for h in ranked)
