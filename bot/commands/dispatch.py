"""Execute a parsed `/incident` command: one implementation for Slack and the CLI.

The caller owns the transaction; the reply is formatted through a `Style` so Slack gets
mentions and mrkdwn escaping while the terminal gets plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bot import incidents as svc
from bot.config import Settings
from bot.db.models import EventKind, Incident, TimelineEvent
from bot.errors import InvalidInput
from bot.text import times
from bot.text.grammar import Command, usage
from bot.text.times import hhmm

RESPONDER_ONLY = {
    "update",
    "resolve",
    "title",
    "internal",
    "component",
    "maintenance",
    "owner",
    "commander",
    "sev",
}


class Style(Protocol):
    def user(self, user_id: str | None) -> str: ...
    def text(self, value: str) -> str: ...
    def time(self, value: datetime) -> str: ...


class PlainStyle:
    """For the terminal: user IDs as they are, times in UTC."""

    def user(self, user_id: str | None) -> str:
        return user_id or "nobody"

    def text(self, value: str) -> str:
        return value

    def time(self, value: datetime) -> str:
        return times.full(value)


@dataclass
class Reply:
    text: str
    incident: Incident | None = None
    created: bool = False
    open_modal: str | None = None
    events: list[TimelineEvent] = field(default_factory=list)


def describe(incident: Incident, style: Style) -> str:
    title = style.text(incident.title)
    owner = style.user(incident.owner_id) if incident.owner_id else "no owner — assign one"
    line = (
        f"{incident.ref} [{incident.severity.value}] {title} — {incident.status.value}; "
        f"commander {style.user(incident.commander_id)}, owner {owner}"
    )
    if incident.internal_only:
        line += "; internal-only"
    elif incident.next_update_due:
        line += f"; next update by {hhmm(incident.next_update_due)}"
    elif incident.is_open and incident.reminder_due:
        line += f"; first public update due by {hhmm(incident.reminder_due)}"
    return line


def describe_event(event: TimelineEvent, style: Style) -> str:
    when = style.time(event.at)
    who = style.user(event.actor)
    data = event.data or {}
    body = style.text(event.body or "")
    match event.kind:
        case EventKind.DECLARED:
            text = f"declared ({data.get('severity')}): {body}"
        case EventKind.PUBLIC_UPDATE:
            components = ", ".join(
                f"{c['name']} {c['old_status']}→{c['new_status']}"
                for c in data.get("affected_components", [])
            )
            extra = f" [{components}]" if components else ""
            status = event.status.value if event.status else ""
            text = f"[public] {status}{extra}: {body}"
        case EventKind.NOTE:
            text = f"[internal note] {body}"
        case EventKind.ROLE_CHANGE:
            text = f"{data.get('role')} → {style.user(str(data.get('to')))}"
        case EventKind.SEVERITY_CHANGE:
            text = f"severity {data.get('from')} → {data.get('to')}"
        case EventKind.TITLE_CHANGE:
            text = f"public title: {body}"
        case EventKind.VISIBILITY_CHANGE:
            text = "marked internal-only"
        case EventKind.SNOOZE:
            text = f"reminders snoozed for {data.get('minutes')} min"
        case _:
            text = f"{event.kind.value}: {body}"
    return f"{when} {who}: {text}"


def show(session: Session, incident: Incident, style: Style) -> str:
    lines = [describe(incident, style)]
    if incident.public_title:
        lines.append(f"Public title: {style.text(incident.public_title)}")
    lines.append(f"Promises: {svc.promise_record(session, incident)}")
    lines.append("Timeline:")
    lines.extend(f"  {describe_event(e, style)}" for e in svc.timeline(session, incident))
    return "\n".join(lines)


def execute(
    session: Session,
    settings: Settings,
    command: Command,
    *,
    actor: str,
    now: datetime,
    style: Style,
    group_members: Sequence[str] | None = None,
    force: bool = False,
    next_in: timedelta | None = None,
) -> Reply:
    """Run one command inside the caller's transaction. Raises FlareError on refusal."""
    name = command.name
    if name in RESPONDER_ONLY:
        svc.require_responder(actor, settings, group_members)
    if name == "help":
        return Reply(usage(command.text))
    if name == "list":
        rows = svc.open_incidents(session)
        if not rows:
            return Reply("No open incidents.")
        return Reply("\n".join(describe(i, style) for i in rows))
    if name == "declare":
        if not command.text:
            return Reply("Opening the declare form…", open_modal="declare")
        assert command.severity is not None
        incident, created = svc.declare(
            session,
            settings,
            title=command.text,
            actor=actor,
            now=now,
            severity=command.severity,
        )
        verb = "Declared" if created else "Already declared a minute ago:"
        return Reply(f"{verb} {describe(incident, style)}", incident=incident, created=created)
    if name == "component":
        assert command.key and command.level
        component, change = svc.set_component_status(
            session, key=command.key, status=command.level, actor=actor, now=now
        )
        assert change is not None
        return Reply(f"{component.name}: {change[0]} → {change[1]}")
    if name == "maintenance":
        assert command.starts_at and command.duration and command.text
        window = svc.schedule_maintenance(
            session,
            title=command.text,
            starts_at=command.starts_at,
            duration=command.duration,
            keys=command.keys,
            actor=actor,
            now=now,
        )
        return Reply(
            f"Scheduled maintenance “{style.text(window.title)}” "
            f"{style.time(window.starts_at)} – {style.time(window.ends_at)}"
            + (f" on {', '.join(window.component_keys)}" if window.component_keys else "")
        )
    if name == "subscribers":
        from bot.subscribers import summary

        return Reply(summary(session))

    assert command.number is not None
    incident = svc.get_incident(session, command.number, for_update=True)
    if name == "show":
        return Reply(show(session, incident, style), incident=incident)
    event: TimelineEvent
    if name == "update":
        event = svc.publish_update(
            session,
            settings,
            incident,
            message=command.text or "",
            actor=actor,
            now=now,
            status=command.status,
            components=command.components,
            next_in=next_in,
            force=force,
        )
        due = incident.next_update_due
        promise = f" Next update promised by {hhmm(due)}." if due else ""
        text = f"Published on {incident.ref} ({event.status}).{promise}"
    elif name == "note":
        event = svc.add_note(session, incident, text=command.text or "", actor=actor, now=now)
        text = f"Internal note added to {incident.ref}."
    elif name in {"commander", "owner"}:
        assert command.user
        event = svc.assign_role(
            session, incident, role=name, user=command.user, actor=actor, now=now
        )
        text = f"{style.user(command.user)} is now {name} of {incident.ref}."
    elif name == "sev":
        assert command.severity
        event = svc.set_severity(
            session, settings, incident, severity=command.severity, actor=actor, now=now
        )
        text = f"{incident.ref} is now {command.severity.value}."
    elif name == "resolve":
        event = svc.resolve(
            session, settings, incident, message=command.text, actor=actor, now=now, force=force
        )
        text = f"Resolved {incident.ref}. {svc.promise_record(session, incident)}."
    elif name == "title":
        event = svc.set_public_title(
            session,
            settings,
            incident,
            title=command.text or "",
            actor=actor,
            now=now,
            force=force,
        )
        text = f"Public title of {incident.ref} set."
        if not incident.is_public:
            text += " It shows once the incident has its first public update."
    elif name == "internal":
        event = svc.mark_internal(session, incident, actor=actor, now=now)
        text = f"{incident.ref} is internal-only: no public page, no reminders."
    elif name == "snooze":
        assert command.minutes
        # The reminder's recipient (owner, else commander) or a responder may snooze.
        if actor not in {incident.owner_id, incident.commander_id}:
            svc.require_responder(actor, settings, group_members)
        event = svc.snooze(
            session, settings, incident, minutes=command.minutes, actor=actor, now=now
        )
        text = f"Reminders for {incident.ref} snoozed for {command.minutes} min."
    else:
        raise InvalidInput(f"Unknown command {name!r}.")
    return Reply(text, incident=incident, events=[event])
