"""How an incident and its timeline read in a reply, a thread post or the terminal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot import context
from bot import incidents as svc
from bot.commands.base import Style
from bot.db.models import Incident, TimelineEvent
from bot.text.status import LEVEL_LABELS, ComponentStatus, EventKind
from bot.text.times import hhmm


def one_line(incident: Incident, style: Style) -> str:
    """`INC-3 [sev2] Checkout errors — identified; commander @a, owner @b; next update by …`"""
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


def _level(value: object) -> str:
    try:
        return LEVEL_LABELS[ComponentStatus(str(value))]
    except ValueError:
        return str(value)


def public_levels(data: dict[str, object]) -> str:
    """ " (page: API Operational → Major outage)" for the public level changes an event made."""
    changes = data.get("public_levels") or []
    if not isinstance(changes, list) or not changes:
        return ""
    parts = [f"{c['name']} {_level(c['from'])} → {_level(c['to'])}" for c in changes]
    return " (page: " + ", ".join(parts) + ")"


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
            extra = f" [{components}]{public_levels(data)}" if components else ""
            status = event.status.value if event.status else ""
            text = f"[public] {status}{extra}: {body}"
            if data.get("correction"):
                text += " (as first published; corrected since)"
        case EventKind.NOTE:
            text = f"[internal note] {body}"
        case EventKind.ROLE_CHANGE:
            text = f"{data.get('role')} → {style.user(str(data.get('to')))}"
        case EventKind.SEVERITY_CHANGE:
            text = f"severity {data.get('from')} → {data.get('to')}"
        case EventKind.TITLE_CHANGE:
            text = f"public title: {body}"
        case EventKind.VISIBILITY_CHANGE:
            text = f"marked internal-only{public_levels(data)}"
        case EventKind.CORRECTION if data.get("field") == "title":
            was = style.text(str(data.get("from") or "none"))
            text = f"[correction] public title now reads: {body} (was: {was})"
        case EventKind.CORRECTION:
            was = style.text(str(data.get("from") or ""))
            text = f"[correction] latest public update now reads: {body} (was: {was})"
        case EventKind.SNOOZE:
            text = f"reminders snoozed for {data.get('minutes')} min"
        case _:
            text = f"{event.kind.value}: {body}"
    return f"{when} {who}: {text}"


def show(session: Session, incident: Incident, style: Style) -> str:
    lines = [one_line(incident, style)]
    if incident.public_title:
        lines.append(f"Public title: {style.text(incident.public_title)}")
    lines.append(f"Promises: {svc.promise_record(session, incident)}")
    lines.extend(context.changes_before(session, incident.declared_at, style))
    lines.append("Timeline:")
    lines.extend(f"  {describe_event(e, style)}" for e in svc.timeline(session, incident))
    return "\n".join(lines)
