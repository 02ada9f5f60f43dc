"""The sub-commands about one incident: declare, list, show, update, note, roles, severity,
resolve, public title, internal, snooze (and help)."""

from __future__ import annotations

from bot import incidents as svc
from bot.commands.base import Context, Reply, handles
from bot.commands.context import on_call_commander
from bot.commands.replies import one_line, show
from bot.db.models import Incident
from bot.text.grammar import Command, usage
from bot.text.times import hhmm


def _incident(ctx: Context, command: Command) -> Incident:
    assert command.number is not None
    return svc.get_incident(ctx.session, command.number, for_update=True)


@handles("help")
def help_(ctx: Context, command: Command) -> Reply:
    return Reply(usage(command.text))


@handles("list")
def list_(ctx: Context, command: Command) -> Reply:
    rows = svc.open_incidents(ctx.session)
    if not rows:
        return Reply("No open incidents.")
    return Reply("\n".join(one_line(i, ctx.style) for i in rows))


@handles("declare")
def declare(ctx: Context, command: Command) -> Reply:
    if not command.text:
        return Reply("Opening the declare form…", open_modal="declare")
    assert command.severity is not None
    incident, created = svc.declare(
        ctx.session,
        ctx.settings,
        title=command.text,
        actor=ctx.actor,
        now=ctx.now,
        severity=command.severity,
        on_call=on_call_commander(ctx.session, ctx.settings, ctx.now),
    )
    verb = "Declared" if created else "Already declared a minute ago:"
    return Reply(f"{verb} {one_line(incident, ctx.style)}", incident=incident, created=created)


@handles("show")
def show_(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    return Reply(show(ctx.session, incident, ctx.style), incident=incident)


@handles("update", checks_responder=True)
def update(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    event = svc.publish_update(
        ctx.session,
        ctx.settings,
        incident,
        message=command.text or "",
        actor=ctx.actor,
        now=ctx.now,
        status=command.status,
        components=command.components,
        next_in=ctx.next_in,
        force=ctx.force,
    )
    due = incident.next_update_due
    promise = f" Next update promised by {hhmm(due)}." if due else ""
    text = f"Published on {incident.ref} ({event.status}).{promise}"
    return Reply(text, incident=incident, events=[event])


@handles("note")
def note(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    event = svc.add_note(
        ctx.session, incident, text=command.text or "", actor=ctx.actor, now=ctx.now
    )
    return Reply(f"Internal note added to {incident.ref}.", incident=incident, events=[event])


@handles("commander", "owner", checks_responder=True)
def role(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    assert command.user
    event = svc.assign_role(
        ctx.session, incident, role=command.name, user=command.user, actor=ctx.actor, now=ctx.now
    )
    text = f"{ctx.style.user(command.user)} is now {command.name} of {incident.ref}."
    return Reply(text, incident=incident, events=[event])


@handles("sev", checks_responder=True)
def severity(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    assert command.severity
    event = svc.set_severity(
        ctx.session,
        ctx.settings,
        incident,
        severity=command.severity,
        actor=ctx.actor,
        now=ctx.now,
    )
    text = f"{incident.ref} is now {command.severity.value}."
    if incident.next_update_due:
        text += f" The next update is still promised by {hhmm(incident.next_update_due)}."
    return Reply(text, incident=incident, events=[event])


@handles("resolve", checks_responder=True)
def resolve(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    event = svc.resolve(
        ctx.session,
        ctx.settings,
        incident,
        message=command.text,
        actor=ctx.actor,
        now=ctx.now,
        force=ctx.force,
    )
    text = f"Resolved {incident.ref}. {svc.promise_record(ctx.session, incident)}."
    return Reply(text, incident=incident, events=[event])


@handles("title", checks_responder=True)
def title(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    event = svc.set_public_title(
        ctx.session,
        ctx.settings,
        incident,
        title=command.text or "",
        actor=ctx.actor,
        now=ctx.now,
        force=ctx.force,
    )
    text = f"Public title of {incident.ref} set."
    if not incident.is_public:
        text += " It shows once the incident has its first public update."
    return Reply(text, incident=incident, events=[event])


@handles("internal", checks_responder=True)
def internal(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    event = svc.mark_internal(ctx.session, incident, actor=ctx.actor, now=ctx.now)
    text = f"{incident.ref} is internal-only: no public page, no reminders."
    return Reply(text, incident=incident, events=[event])


@handles("snooze", checks_responder=True)
def snooze(ctx: Context, command: Command) -> Reply:
    incident = _incident(ctx, command)
    assert command.minutes
    event = svc.snooze(
        ctx.session,
        ctx.settings,
        incident,
        minutes=command.minutes,
        actor=ctx.actor,
        now=ctx.now,
    )
    text = f"Reminders for {incident.ref} snoozed for {command.minutes} min."
    return Reply(text, incident=incident, events=[event])
