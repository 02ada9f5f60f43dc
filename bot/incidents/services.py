"""Incident services. Each takes a session and never commits: the caller owns the transaction.

Every change writes its timeline event and the outbox rows for its side effects in the same
transaction, so an acknowledged change is durable and is reported at least once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    EventKind,
    Incident,
    IncidentComponent,
    IncidentStatus,
    KeyValue,
    Promise,
    Severity,
    TimelineEvent,
)
from bot.errors import HygieneBlocked, InvalidInput, NotAllowed, NotFound
from bot.incidents.promises import PromiseRecord, next_due
from bot.outbox import queue as outbox
from bot.subscribers.service import notify_public_update
from bot.text.hygiene import check_public_text
from bot.text.status import COMPONENT_RANK

TITLE_LIMIT = 200
UPDATE_LIMIT = 5_000
NOTE_LIMIT = 10_000
CLI_ACTOR = "cli"
DUPLICATE_WINDOW = timedelta(seconds=60)
NOTHING_NEW = (
    "We are continuing to investigate this issue and will provide another update as soon "
    "as we have more information."
)
NOTHING_NEW_BY_STATUS = {
    IncidentStatus.INVESTIGATING: NOTHING_NEW,
    IncidentStatus.IDENTIFIED: "We are continuing to work on a fix for this issue.",
    IncidentStatus.MONITORING: "We are continuing to monitor the results of the fix.",
}
DEFAULT_RESOLVED = "This incident has been resolved."
NUMBER_KEY = "incident_number"


# --- validation ------------------------------------------------------------------------


def clean_text(text: str | None, *, what: str, limit: int) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput(f"The {what} is empty.")
    if len(value) > limit:
        raise InvalidInput(
            f"The {what} is {len(value):,} characters; the limit is {limit:,}. Shorten it."
        )
    return value


def check_hygiene(settings: Settings, text: str, status: IncidentStatus, *, force: bool) -> None:
    if force:
        return
    findings = check_public_text(
        text, status.value, deny=settings.hygiene_deny, own_domains=settings.own_domains
    )
    if findings:
        raise HygieneBlocked(findings, text)


# --- lookups ---------------------------------------------------------------------------


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


def promise_record(session: Session, incident: Incident) -> PromiseRecord:
    rows = session.execute(
        select(Promise.kept, func.count())
        .where(Promise.incident_id == incident.id, Promise.kept.is_not(None))
        .group_by(Promise.kept)
    ).all()
    counts = {bool(kept): int(count) for kept, count in rows}
    return PromiseRecord(kept=counts.get(True, 0), total=sum(counts.values()))


# --- shared effects ----------------------------------------------------------------------


def record_event(
    session: Session,
    incident: Incident,
    *,
    kind: EventKind,
    actor: str,
    now: datetime,
    body: str | None = None,
    status: IncidentStatus | None = None,
    data: Mapping[str, Any] | None = None,
) -> TimelineEvent:
    """Store a timeline event and queue its post into the incident's thread."""
    event = TimelineEvent(
        incident_id=incident.id,
        kind=kind,
        actor=actor,
        at=now,
        body=body,
        status=status,
        data=dict(data or {}),
    )
    session.add(event)
    session.flush()
    outbox.enqueue(
        session,
        key=f"event:{event.id}",
        kind="slack.event",
        now=now,
        payload={"event_id": event.id},
        incident_id=incident.id,
        ordering_key=f"incident:{incident.id}",
    )
    if kind == EventKind.PUBLIC_UPDATE and incident.is_public:
        notify_public_update(session, event, now)  # subscribers, via the outbox
    incident.updated_at = now
    outbox.bump_version(session, now)
    return event


def _notify_role(session: Session, event: TimelineEvent, user: str, now: datetime) -> None:
    if user == CLI_ACTOR:
        return
    outbox.enqueue(
        session,
        key=f"dm:role:{event.id}:{user}",
        kind="slack.dm",
        now=now,
        payload={"event_id": event.id, "user": user, "kind": "role"},
        incident_id=event.incident_id,
    )


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


def _close_promise(session: Session, incident: Incident, now: datetime) -> None:
    """An update was published: the open promise is kept if it came by its due time."""
    for promise in session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.kept.is_(None))
    ):
        promise.fulfilled_at = now
        promise.kept = now <= promise.due_at


def _promise(session: Session, incident: Incident, due: datetime, now: datetime) -> None:
    """Record the promise just published. Two updates in the same instant promise the same
    time: the one promise stands (reopened), rather than a duplicate."""
    existing = session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.due_at == due)
    ).one_or_none()
    if existing is None:
        session.add(Promise(incident_id=incident.id, made_at=now, due_at=due))
    else:
        existing.made_at, existing.fulfilled_at, existing.kept = now, None, None


def expire_promises(session: Session, now: datetime) -> int:
    """Promises whose time passed with no update are recorded as broken."""
    result = session.execute(
        update(Promise)
        .where(Promise.kept.is_(None), Promise.due_at < now)
        .values(kept=False)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- services ----------------------------------------------------------------------------


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
    outbox.bump_version(session, now)


def _lock_numbers(session: Session) -> KeyValue:
    """The counter row, locked until commit: declares are serialised, references sequential."""
    outbox.get_state(session, NUMBER_KEY)
    return session.scalars(
        select(KeyValue).where(KeyValue.key == NUMBER_KEY).with_for_update()
    ).one()


def declare(
    session: Session,
    settings: Settings,
    *,
    title: str,
    actor: str,
    now: datetime,
    severity: Severity = Severity.SEV3,
    commander: str | None = None,
    owner: str | None = None,
    impact_started_at: datetime | None = None,
    public_title: str | None = None,
) -> tuple[Incident, bool]:
    """Declare an incident. Returns (incident, created); a second identical declare by the
    same person within a minute returns the first one instead of making a twin."""
    title = clean_text(title, what="title", limit=TITLE_LIMIT)
    if impact_started_at and impact_started_at > now:
        raise InvalidInput("Impact cannot start in the future.")
    counter = _lock_numbers(session)  # first: a concurrent twin is committed before we look
    twin = session.scalars(
        select(Incident).where(
            Incident.title == title,
            Incident.declared_by == actor,
            Incident.declared_at >= now - DUPLICATE_WINDOW,
        )
    ).first()
    if twin is not None:
        return twin, False
    counter.number = (
        max(counter.number, int(session.scalar(select(func.max(Incident.number))) or 0)) + 1
    )
    number = counter.number
    commander = commander or (actor if actor != CLI_ACTOR else None)
    incident = Incident(
        number=number,
        title=title,
        severity=severity,
        status=IncidentStatus.INVESTIGATING,
        declared_by=actor,
        commander_id=commander,
        owner_id=owner,
        declared_at=now,
        impact_started_at=impact_started_at or now,
        reminder_due=now + settings.cadence_for(severity),
        slack_channel=settings.incidents_channel,
        updated_at=now,
    )
    if public_title:
        check_hygiene(settings, public_title, IncidentStatus.INVESTIGATING, force=False)
        incident.public_title = clean_text(public_title, what="public title", limit=TITLE_LIMIT)
    session.add(incident)
    session.flush()
    event = record_event(
        session,
        incident,
        kind=EventKind.DECLARED,
        actor=actor,
        now=now,
        body=title,
        data={"severity": severity.value, "commander": commander, "owner": owner},
    )
    for user in {u for u in (commander, owner) if u and u != actor}:
        _notify_role(session, event, user, now)
    return incident, True


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise InvalidInput(
            f"{incident.ref} is resolved; resolved is final. Declare a new incident for a "
            "recurrence."
        )


def publish_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    message: str,
    actor: str,
    now: datetime,
    status: IncidentStatus | None = None,
    components: Mapping[str, ComponentStatus] | None = None,
    next_in: timedelta | None = None,
    force: bool = False,
) -> TimelineEvent:
    """Publish a public update: status, affected components, message and the next promise."""
    _require_open(incident)
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is internal-only: it has no public page to update.")
    status = status or incident.status
    message = clean_text(message, what="public update", limit=UPDATE_LIMIT)
    known = components_by_key(session)
    changes = dict(components or {})
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown component {unknown[0]!r}. Known: {', '.join(sorted(known)) or 'none'}."
        )
    check_hygiene(settings, message, status, force=force)
    if status == IncidentStatus.RESOLVED:
        return resolve(
            session,
            settings,
            incident,
            message=message,
            actor=actor,
            now=now,
            components=changes,
            force=True,
        )
    cadence = settings.cadence_for(incident.severity)
    due = next_due(now, cadence, next_in)

    affected = []
    for key, level in changes.items():
        component = known[key]
        link = session.get(IncidentComponent, (incident.id, component.id))
        if link is None:
            session.add(
                IncidentComponent(incident_id=incident.id, component_id=component.id, status=level)
            )
        else:
            link.status = level
        old = component.status
        set_component(session, component, level, now, incident.id)
        affected.append(
            {
                "code": component.id,
                "key": key,
                "name": component.name,
                "old_status": old.value,
                "new_status": level.value,
            }
        )
    old_status = incident.status
    _apply_status(incident, status, now)
    _close_promise(session, incident, now)
    first = incident.published_at is None
    incident.published_at = incident.published_at or now
    incident.last_public_update_at = now
    incident.next_update_due = due
    incident.reminder_due = due
    incident.snoozed_until = None
    _promise(session, incident, due, now)
    return record_event(
        session,
        incident,
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor,
        now=now,
        body=message,
        status=status,
        data={
            "affected_components": affected,
            "old_status": old_status.value,
            "next_update_due": due.isoformat(),
            "first": first,
            "forced": force,
        },
    )


def _apply_status(incident: Incident, status: IncidentStatus, now: datetime) -> None:
    if status == IncidentStatus.IDENTIFIED and incident.identified_at is None:
        incident.identified_at = now
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status == IncidentStatus.RESOLVED:
        incident.resolved_at = now
    incident.status = status


def nothing_new(
    session: Session, settings: Settings, incident: Incident, *, actor: str, now: datetime
) -> TimelineEvent:
    """Post the standard "continuing to investigate" update with the current status."""
    text = NOTHING_NEW_BY_STATUS.get(incident.status, NOTHING_NEW)
    return publish_update(
        session, settings, incident, message=text, actor=actor, now=now, force=True
    )


def resolve(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    actor: str,
    now: datetime,
    message: str | None = None,
    components: Mapping[str, ComponentStatus] | None = None,
    force: bool = False,
) -> TimelineEvent:
    """Publish the resolved update, close the incident and restore its components."""
    _require_open(incident)
    message = clean_text(message or DEFAULT_RESOLVED, what="resolved update", limit=UPDATE_LIMIT)
    check_hygiene(settings, message, IncidentStatus.RESOLVED, force=force)
    known = components_by_key(session)
    unknown = sorted(set(components or {}) - set(known))
    if unknown:
        raise InvalidInput(f"Unknown component {unknown[0]!r}.")
    old_status = incident.status
    _apply_status(incident, IncidentStatus.RESOLVED, now)
    affected = []
    for link in incident_components(session, incident):
        component = link.component
        restored = worst_open_level(session, component, excluding=incident)
        change = set_component(session, component, restored, now, incident.id)
        link.status = ComponentStatus.OPERATIONAL
        if change:
            affected.append(
                {
                    "code": component.id,
                    "key": component.key,
                    "name": component.name,
                    "old_status": change[0],
                    "new_status": change[1],
                }
            )
    _close_promise(session, incident, now)
    incident.published_at = incident.published_at or now
    incident.last_public_update_at = now
    incident.next_update_due = None
    incident.reminder_due = None
    incident.snoozed_until = None
    return record_event(
        session,
        incident,
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor,
        now=now,
        body=message,
        status=IncidentStatus.RESOLVED,
        data={"affected_components": affected, "old_status": old_status.value},
    )


def add_note(
    session: Session, incident: Incident, *, text: str, actor: str, now: datetime
) -> TimelineEvent:
    """Internal note: the thread and `show` carry it, public surfaces never do."""
    body = clean_text(text, what="note", limit=NOTE_LIMIT)
    return record_event(session, incident, kind=EventKind.NOTE, actor=actor, now=now, body=body)


def assign_role(
    session: Session, incident: Incident, *, role: str, user: str, actor: str, now: datetime
) -> TimelineEvent:
    if role not in {"commander", "owner"}:
        raise InvalidInput(f"Unknown role {role!r}.")
    _require_open(incident)
    if user == CLI_ACTOR:
        raise InvalidInput(f"The operator `cli` cannot be {role}; name a Slack user.")
    attribute = "commander_id" if role == "commander" else "owner_id"
    previous = getattr(incident, attribute)
    if previous == user:
        raise InvalidInput(f"<@{user}> is already the {role} of {incident.ref}.")
    setattr(incident, attribute, user)
    event = record_event(
        session,
        incident,
        kind=EventKind.ROLE_CHANGE,
        actor=actor,
        now=now,
        data={"role": role, "from": previous, "to": user},
    )
    _notify_role(session, event, user, now)
    return event


def set_severity(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    severity: Severity,
    actor: str,
    now: datetime,
) -> TimelineEvent:
    """Change severity; a shorter cadence brings the next update forward, never later."""
    _require_open(incident)
    if incident.severity == severity:
        raise InvalidInput(f"{incident.ref} is already {severity.value}.")
    previous = incident.severity
    incident.severity = severity
    base = incident.last_public_update_at or incident.declared_at
    sooner = base + settings.cadence_for(severity)
    if not incident.internal_only:
        if incident.reminder_due is not None and sooner < incident.reminder_due:
            incident.reminder_due = max(sooner, now)
        if incident.next_update_due is not None and sooner < incident.next_update_due:
            moved = max(sooner, now)
            for promise in session.scalars(
                select(Promise).where(Promise.incident_id == incident.id, Promise.kept.is_(None))
            ):
                promise.due_at = moved
            incident.next_update_due = moved
    return record_event(
        session,
        incident,
        kind=EventKind.SEVERITY_CHANGE,
        actor=actor,
        now=now,
        data={"from": previous.value, "to": severity.value},
    )


def set_public_title(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    title: str,
    actor: str,
    now: datetime,
    force: bool = False,
) -> TimelineEvent:
    title = clean_text(title, what="public title", limit=TITLE_LIMIT)
    check_hygiene(settings, title, incident.status, force=force)
    previous = incident.public_title
    incident.public_title = title
    return record_event(
        session,
        incident,
        kind=EventKind.TITLE_CHANGE,
        actor=actor,
        now=now,
        body=title,
        data={"from": previous},
    )


def mark_internal(
    session: Session, incident: Incident, *, actor: str, now: datetime
) -> TimelineEvent:
    """Internal-only: off the public page, no reminders."""
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is already internal-only.")
    incident.internal_only = True
    incident.reminder_due = None
    incident.next_update_due = None
    for promise in session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.kept.is_(None))
    ):
        session.delete(promise)
    return record_event(
        session,
        incident,
        kind=EventKind.VISIBILITY_CHANGE,
        actor=actor,
        now=now,
        data={"internal_only": True},
    )


def snooze(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    minutes: int,
    actor: str,
    now: datetime,
) -> TimelineEvent:
    """Postpone the next reminder, by at most one cadence. The public promise stays."""
    _require_open(incident)
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is internal-only: it has no reminders.")
    cadence = settings.cadence_for(incident.severity)
    if timedelta(minutes=minutes) > cadence:
        raise InvalidInput(
            f"Snooze for at most {int(cadence.total_seconds() // 60)} minutes (one cadence)."
        )
    incident.snoozed_until = now + timedelta(minutes=minutes)
    return record_event(
        session,
        incident,
        kind=EventKind.SNOOZE,
        actor=actor,
        now=now,
        data={"minutes": minutes, "until": incident.snoozed_until.isoformat()},
    )


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
    outbox.bump_version(session, now)
    return component, change


def require_responder(
    actor: str, settings: Settings, group_members: Sequence[str] | None = None
) -> None:
    """Only responders may change what customers see or who is responsible."""
    if actor == CLI_ACTOR or not settings.responders:
        return
    users = {r for r in settings.responders if r.startswith(("U", "W"))}
    if actor in users or (group_members is not None and actor in group_members):
        return
    who = ", ".join(
        f"<!subteam^{r}>" if r.startswith("S") else f"<@{r}>" for r in settings.responders
    )
    raise NotAllowed(f"Only responders can do that: {who}.")
