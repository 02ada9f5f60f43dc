"""An incident's life: declare, roles, severity, public title, visibility, snooze, notes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    EventKind,
    Incident,
    IncidentStatus,
    KeyValue,
    Promise,
    Severity,
    TimelineEvent,
)
from bot.db.state import get_state
from bot.errors import InvalidInput
from bot.incidents.access import CLI_ACTOR
from bot.incidents.events import notify_role, record_event
from bot.incidents.guards import check_hygiene, require_open
from bot.text.limits import NOTE_LIMIT, TITLE_LIMIT, clean_text

DUPLICATE_WINDOW = timedelta(seconds=60)


NUMBER_KEY = "incident_number"


def _lock_numbers(session: Session) -> KeyValue:
    """The counter row, locked until commit: declares are serialised, references sequential."""
    get_state(session, NUMBER_KEY)
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
        notify_role(session, event, user, now)
    return incident, True


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
    require_open(incident)
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
    notify_role(session, event, user, now)
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
    require_open(incident)
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
    require_open(incident)
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
