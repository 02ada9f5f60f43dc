"""The postmortem: one incident as a record the team learns from (docs/records.md).

`build` reads everything once into plain values (`Postmortem`); `as_json` and
`bot.records.markdown` write it out. Internal: it carries the internal title, people and
notes, and goes only to the incident's Slack thread or the operator's terminal, never to a
public surface.

Sections other features know (the changes before an incident, the signals during it) plug
in through `SECTIONS`: a provider takes (session, incident, now) and returns a `Section` or
None. Nothing is registered here; each feature registers its own provider.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.db.models import Incident, Promise, TimelineEvent
from bot.text.status import ComponentStatus, EventKind, IncidentStatus
from bot.text.times import iso

SCHEMA_VERSION = 1
# What customers saw: public updates and corrections of them. Everything else is internal.
PUBLIC_KINDS = (EventKind.PUBLIC_UPDATE, EventKind.CORRECTION)


@dataclass(frozen=True)
class Section:
    """An extra section from another feature: a title and rows of (time, text)."""

    key: str  # "changes", "signals"
    title: str
    rows: tuple[tuple[datetime, str], ...]


SectionProvider = Callable[[Session, Incident, datetime], Section | None]
SECTIONS: list[SectionProvider] = []


@dataclass(frozen=True)
class Impact:
    component: str
    key: str | None
    minutes: dict[str, float]  # level → minutes the incident gave the component that level


@dataclass(frozen=True)
class PromiseRow:
    made_at: datetime
    due_at: datetime
    kept: bool | None  # None: still open
    answered_at: datetime | None  # the first public update at or after the promise
    late_minutes: float  # 0 when kept


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    actor: str
    internal: bool
    text: str
    status: str | None = None


@dataclass(frozen=True)
class Postmortem:
    ref: str
    title: str
    public_title: str | None
    severity: str
    status: str
    internal_only: bool
    declared_by: str
    commander: str | None
    owner: str | None
    declared_at: datetime
    impact_started_at: datetime
    first_public_update_at: datetime | None
    resolved_at: datetime | None
    generated_at: datetime
    public_url: str | None
    impact: tuple[Impact, ...]
    promises: tuple[PromiseRow, ...]
    timeline: tuple[Entry, ...]
    sections: tuple[Section, ...] = field(default=())

    @property
    def time_to_first_public_update(self) -> timedelta | None:
        return (
            self.first_public_update_at - self.declared_at if self.first_public_update_at else None
        )

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.declared_at if self.resolved_at else None

    @property
    def promises_kept(self) -> int:
        return sum(1 for p in self.promises if p.kept)

    @property
    def promises_settled(self) -> int:
        return sum(1 for p in self.promises if p.kept is not None)


def minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def impact_of(
    updates: Sequence[TimelineEvent], end: datetime, names: dict[str, str]
) -> tuple[Impact, ...]:
    """Minutes at each level per component, from the levels the incident's public updates
    gave it (the incident's own impact, not the page's level, which other sources hold too),
    up to the resolution (or `end` while open)."""
    current: dict[str, tuple[ComponentStatus, datetime]] = {}
    totals: dict[str, dict[str, float]] = {}
    keys: dict[str, str | None] = {}
    order: list[str] = []

    def close(code: str, at: datetime) -> None:
        level, since = current.pop(code)
        if level != ComponentStatus.OPERATIONAL and at > since:
            bucket = totals.setdefault(code, {})
            bucket[level.value] = bucket.get(level.value, 0.0) + (at - since).total_seconds()

    for event in updates:
        for change in (event.data or {}).get("affected_components") or []:
            code = str(change.get("code", ""))
            try:
                level = ComponentStatus(str(change.get("new_status")))
            except ValueError:
                continue
            if code not in keys:
                order.append(code)
                keys[code] = change.get("key")
                names.setdefault(code, str(change.get("name", code)))
            if code in current:
                close(code, event.at)
            current[code] = (level, event.at)
    for code in list(current):
        close(code, end)
    return tuple(
        Impact(
            component=names.get(code, code),
            key=keys.get(code),
            minutes={level: round(s / 60, 1) for level, s in totals.get(code, {}).items()},
        )
        for code in order
    )


def promise_rows(
    promises: Sequence[Promise], published: Sequence[datetime], end: datetime
) -> tuple[PromiseRow, ...]:
    """Each promise, kept or missed and by how much: a missed one is late from its due time
    to the next public update (or `end`). One not yet settled whose time has passed is
    missed already (the sweep marks it so within a tick)."""
    rows = []
    for promise in promises:
        answered = next((at for at in published if at > promise.made_at), None)
        kept = promise.kept
        if kept is None and promise.due_at < end:
            kept = False
        late = 0.0
        if kept is False:
            late = minutes((answered or end) - promise.due_at)
        rows.append(PromiseRow(promise.made_at, promise.due_at, kept, answered, max(late, 0.0)))
    return tuple(rows)


def entry_of(event: TimelineEvent) -> Entry:
    data = event.data or {}
    body = event.body or ""
    match event.kind:
        case EventKind.DECLARED:
            text = f"({data.get('severity')}) {body}"
        case EventKind.PUBLIC_UPDATE:
            text = body
            changes = ", ".join(
                f"{c.get('name')} → {c.get('new_status')}"
                for c in data.get("affected_components") or []
            )
            if changes:
                text += f" [{changes}]"
            if data.get("correction"):
                text += " (corrected since)"
        case EventKind.CORRECTION if data.get("field") == "title":
            text = f"public title corrected to: {body} (was: {data.get('from') or 'none'})"
        case EventKind.CORRECTION:
            text = f"latest public update corrected to: {body} (was: {data.get('from')})"
        case EventKind.ROLE_CHANGE:
            text = f"{data.get('role')} → {data.get('to')}"
        case EventKind.SEVERITY_CHANGE:
            text = f"severity {data.get('from')} → {data.get('to')}"
        case EventKind.TITLE_CHANGE:
            text = f"public title: {body}"
        case EventKind.VISIBILITY_CHANGE:
            text = "marked internal-only"
        case EventKind.SNOOZE:
            text = f"reminders snoozed for {data.get('minutes')} min"
        case _:
            text = body or event.kind.value
    status = event.status.value if event.status else None
    internal = event.kind not in PUBLIC_KINDS
    return Entry(event.at, event.kind.value, event.actor, internal, text, status)


def build(
    session: Session, incident: Incident, now: datetime, *, public_url: str | None = None
) -> Postmortem:
    events = svc.timeline(session, incident)
    updates = [e for e in events if e.kind == EventKind.PUBLIC_UPDATE]
    end = incident.resolved_at or now
    names = svc.component_names(session)
    promises = session.scalars(
        select(Promise).where(Promise.incident_id == incident.id).order_by(Promise.made_at)
    ).all()
    sections = tuple(s for provider in SECTIONS if (s := provider(session, incident, now)))
    return Postmortem(
        ref=incident.ref,
        title=incident.title,
        public_title=incident.public_title,
        severity=incident.severity.value,
        status=incident.status.value,
        internal_only=incident.internal_only,
        declared_by=incident.declared_by,
        commander=incident.commander_id,
        owner=incident.owner_id,
        declared_at=incident.declared_at,
        impact_started_at=incident.impact_started_at,
        first_public_update_at=incident.published_at,
        resolved_at=incident.resolved_at if incident.status == IncidentStatus.RESOLVED else None,
        generated_at=now,
        public_url=(
            f"{public_url.rstrip('/')}/incidents/{incident.public_id}"
            if public_url and incident.is_public
            else None
        ),
        impact=impact_of(updates, end, names),
        promises=promise_rows(promises, [u.at for u in updates], end),
        timeline=tuple(entry_of(e) for e in events),
        sections=sections,
    )


def _seconds(delta: timedelta | None) -> int | None:
    return int(delta.total_seconds()) if delta is not None else None


def as_json(pm: Postmortem) -> dict[str, Any]:
    """The JSON form (schema in docs/records.md)."""
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": iso(pm.generated_at),
        "incident": {
            "ref": pm.ref,
            "title": pm.title,
            "public_title": pm.public_title,
            "severity": pm.severity,
            "status": pm.status,
            "internal_only": pm.internal_only,
            "declared_by": pm.declared_by,
            "commander": pm.commander,
            "owner": pm.owner,
            "declared_at": iso(pm.declared_at),
            "impact_started_at": iso(pm.impact_started_at),
            "first_public_update_at": iso(pm.first_public_update_at),
            "resolved_at": iso(pm.resolved_at),
            "public_url": pm.public_url,
        },
        "durations": {
            "to_first_public_update_seconds": _seconds(pm.time_to_first_public_update),
            "to_resolve_seconds": _seconds(pm.time_to_resolve),
        },
        "impact": [
            {"component": i.component, "key": i.key, "minutes": i.minutes} for i in pm.impact
        ],
        "promises": {
            "kept": pm.promises_kept,
            "settled": pm.promises_settled,
            "items": [
                {
                    "made_at": iso(p.made_at),
                    "due_at": iso(p.due_at),
                    "kept": p.kept,
                    "answered_at": iso(p.answered_at),
                    "late_minutes": p.late_minutes,
                }
                for p in pm.promises
            ],
        },
        "timeline": [
            {
                "at": iso(e.at),
                "kind": e.kind,
                "actor": e.actor,
                "internal": e.internal,
                "status": e.status,
                "text": e.text,
            }
            for e in pm.timeline
        ],
        "sections": [
            {"key": s.key, "title": s.title, "rows": [{"at": iso(a), "text": t} for a, t in s.rows]}
            for s in pm.sections
        ],
    }
