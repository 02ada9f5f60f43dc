"""An incident's life: declare, roles, severity, public title, visibility, snooze, notes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Incident, KeyValue, Promise, TimelineEvent
from bot.db.state import get_state
from bot.errors import InvalidInput
from bot.incidents.access import SYSTEM_ACTORS, Actor
from bot.incidents.events import notify_role, record_event
from bot.incidents.guards import check_hygiene, require_open
from bot.incidents.levels import announce, recompute
from bot.incidents.queries import incident_components
from bot.text.limits import NOTE_LIMIT, TITLE_LIMIT, clean_text
from bot.text.status import EventKind, IncidentStatus, Severity

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
    actor: Actor,
    now: datetime,
    severity: Severity = Severity.SEV3,
    commander: str | None = None,
    owner: str | None = None,
    impact_started_at: datetime | None = None,
    public_title: str | None = None,
    force: bool = False,
    on_call: str | None = None,
) -> tuple[Incident, bool]:
    """Declare an incident. Returns (incident, created); a second identical declare by the
    same person within a minute returns the first one instead of making a twin.

    Anyone may declare (an internal incident with a title and severity); a public title or
    a named owner, or a commander other than oneself, is a publish and an assignment, which
    only responders may make. Without a named commander, the on-call person (`on_call`, from
    `[oncall]`) is made commander and told; the declarer stays recorded as the reporter."""
    title = clean_text(title, what="title", limit=TITLE_LIMIT)
    if public_title or owner or (commander and commander != actor.id):
        actor.require_responder()
    for user in (commander, owner):
        if user is not None:
            _require_person(user)
    if impact_started_at and impact_started_at > now:
        raise InvalidInput("Impact cannot start in the future.")
    if public_title:
        check_hygiene(settings, public_title, IncidentStatus.INVESTIGATING, force=force)
        public_title = clean_text(public_title, what="public title", limit=TITLE_LIMIT)
    counter = _lock_numbers(session)  # first: a concurrent twin is committed before we look
    twin = session.scalars(
        select(Incident).where(
            Incident.title == title,
            Incident.declared_by == actor.id,
            Incident.declared_at >= now - DUPLICATE_WINDOW,
        )
    ).first()
    if twin is not None:
        return twin, False
    counter.number = (
        max(counter.number, int(session.scalar(select(func.max(Incident.number))) or 0)) + 1
    )
    commander = commander or on_call or (actor.id if actor.is_person else None)
    incident = Incident(
        number=counter.number,
        title=title,
        public_title=public_title,
        severity=severity,
        status=IncidentStatus.INVESTIGATING,
        declared_by=actor.id,
        commander_id=commander,
        owner_id=owner,
        declared_at=now,
        impact_started_at=impact_started_at or now,
        reminder_due=now + settings.cadence_for(severity),
        slack_channel=settings.incidents_channel,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    event = record_event(
        session,
        incident,
        kind=EventKind.DECLARED,
        actor=actor.id,
        now=now,
        body=title,
        data={"severity": severity.value, "commander": commander, "owner": owner},
    )
    for user in {u for u in (commander, owner) if u and u != actor.id}:
        notify_role(session, event, user, now)
    return incident, True


def _require_person(user: str) -> None:
    if user in SYSTEM_ACTORS:
        raise InvalidInput(f"`{user}` is Flare's own name and cannot hold a role; name a person.")


def add_note(
    session: Session, incident: Incident, *, text: str, actor: Actor, now: datetime
) -> TimelineEvent:
    """Internal note: the thread and `show` carry it, public surfaces never do. Anyone may."""
    body = clean_text(text, what="note", limit=NOTE_LIMIT)
    return record_event(session, incident, kind=EventKind.NOTE, actor=actor.id, now=now, body=body)


def assign_role(
    session: Session, incident: Incident, *, role: str, user: str, actor: Actor, now: datetime
) -> TimelineEvent:
    if role not in {"commander", "owner"}:
        raise InvalidInput(f"Unknown role {role!r}.")
    actor.require_responder()
    require_open(incident)
    _require_person(user)
    attribute = "commander_id" if role == "commander" else "owner_id"
    previous = getattr(incident, attribute)
    if previous == user:
        raise InvalidInput(f"<@{user}> is already the {role} of {incident.ref}.")
    setattr(incident, attribute, user)
    event = record_event(
        session,
        incident,
        kind=EventKind.ROLE_CHANGE,
        actor=actor.id,
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
    actor: Actor,
    now: datetime,
) -> TimelineEvent:
    """Change severity. The cadence follows for the next promise; the promise customers have
    read stays as published. Before the first public update the internal target follows the
    new cadence (declared_at + cadence)."""
    actor.require_responder()
    require_open(incident)
    if incident.severity == severity:
        raise InvalidInput(f"{incident.ref} is already {severity.value}.")
    previous = incident.severity
    incident.severity = severity
    if not incident.internal_only and incident.published_at is None:
        incident.reminder_due = incident.declared_at + settings.cadence_for(severity)
    return record_event(
        session,
        incident,
        kind=EventKind.SEVERITY_CHANGE,
        actor=actor.id,
        now=now,
        data={"from": previous.value, "to": severity.value},
    )


def require_unresolved_record(incident: Incident, what: str) -> None:
    """After resolution the public record changes only through a visible correction."""
    if not incident.is_open:
        raise InvalidInput(
            f"{incident.ref} is resolved: its public record is history. To change {what}, "
            f"publish a visible correction: `/incident correct {incident.ref} --title <text>` "
            f"or `/incident correct {incident.ref} <text>`."
        )


def set_public_title(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    title: str,
    actor: Actor,
    now: datetime,
    force: bool = False,
) -> TimelineEvent:
    actor.require_responder()
    require_unresolved_record(incident, "its public title")
    title = clean_text(title, what="public title", limit=TITLE_LIMIT)
    check_hygiene(settings, title, incident.status, force=force)
    previous = incident.public_title
    incident.public_title = title
    return record_event(
        session,
        incident,
        kind=EventKind.TITLE_CHANGE,
        actor=actor.id,
        now=now,
        body=title,
        data={"from": previous},
    )


def mark_internal(
    session: Session, incident: Incident, *, actor: Actor, now: datetime
) -> TimelineEvent:
    """Internal-only: off the public page, no reminders, and it stops holding components."""
    actor.require_responder()
    require_unresolved_record(incident, "whether it is public")
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is already internal-only.")
    incident.internal_only = True
    incident.reminder_due = None
    incident.next_update_due = None
    for promise in session.scalars(
        select(Promise).where(Promise.incident_id == incident.id, Promise.kept.is_(None))
    ):
        if promise.due_at < now:
            promise.kept = False  # customers saw it pass: broken, whatever happens next
        else:
            session.delete(promise)  # a promise nobody will see come due any more
    session.flush()
    released = recompute(
        session,
        now,
        actor=actor.id,
        cause=f"{incident.ref} made internal-only",
        components=[link.component for link in incident_components(session, incident)],
        incident_id=incident.id,
    )
    announce(session, released, now)
    return record_event(
        session,
        incident,
        kind=EventKind.VISIBILITY_CHANGE,
        actor=actor.id,
        now=now,
        data={"internal_only": True, "public_levels": [c.as_data() for c in released]},
    )


def snooze(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    minutes: int,
    actor: Actor,
    now: datetime,
) -> TimelineEvent:
    """Postpone the next reminder, by at most one cadence. The public promise stays.
    The reminder's recipient (owner, else commander) or a responder may snooze."""
    if actor.id not in {incident.owner_id, incident.commander_id}:
        actor.require_responder()
    require_open(incident)
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is internal-only: it has no reminders.")
    cadence = settings.cadence_for(incident.severity)
    if minutes < 1:
        raise InvalidInput("Snooze for at least a minute.")
    if timedelta(minutes=minutes) > cadence:
        raise InvalidInput(
            f"Snooze for at most {int(cadence.total_seconds() // 60)} minutes (one cadence)."
        )
    incident.snoozed_until = now + timedelta(minutes=minutes)
    return record_event(
        session,
        incident,
        kind=EventKind.SNOOZE,
        actor=actor.id,
        now=now,
        data={"minutes": minutes, "until": incident.snoozed_until.isoformat()},
    )
