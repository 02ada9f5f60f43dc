"""Buttons: parse the click, one short transaction, an answer through the click's
`response_url` (queued in the outbox in the same transaction as the change).
"""

from __future__ import annotations

from typing import Any

from bot import incidents as svc
from bot.commands import execute
from bot.db.engine import read_only
from bot.errors import FlareError, InvalidInput
from bot.incidents import Actor
from bot.runtime import Runtime
from bot.slack import dedupe, modals
from bot.slack.ids import SlackId
from bot.slack.listeners.forms import correct_modal_for, number_of, update_modal_for
from bot.slack.listeners.replies import STYLE, Ack, error_text, once, respond, respond_now
from bot.slack.listeners.triage import TRIAGE_BUTTONS, run_triage_button
from bot.slack.responders import ResponderDirectory
from bot.text.grammar import parse
from bot.text.status import IncidentStatus
from bot.text.times import hhmm

SNOOZE_MINUTES = 10


def run_button(runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any]) -> Ack:
    action = SlackId(body["actions"][0]["action_id"])
    user = str((body.get("user") or {}).get("id") or "")
    try:
        if action in TRIAGE_BUTTONS:
            return run_triage_button(runtime, directory, body, action)
        if action == SlackId.DECLARE_OPEN:
            return Ack(modal=modals.declare_modal(runtime.settings))
        if action == SlackId.EDIT_UPDATE:
            return Ack(modal=_edit_modal(runtime, str(body["actions"][0]["value"])))
        if action == SlackId.PUBLISH_ANYWAY:
            return _publish_anyway(runtime, directory.actor(user), body)
        number = number_of(body)
        if action == SlackId.POST_UPDATE:
            return Ack(modal=update_modal_for(runtime, number))
        with read_only(runtime.sessions) as session:
            incident = svc.get_incident(session, number)
            title = incident.title
        if action == SlackId.ADD_NOTE:
            return Ack(modal=modals.note_modal(number, title))
        if action == SlackId.RESOLVE:
            return Ack(modal=modals.resolve_modal(number, title, svc.DEFAULT_RESOLVED))
        if action == SlackId.CORRECT_UPDATE:
            return Ack(modal=correct_modal_for(runtime, number))
        if action == SlackId.NOTHING_NEW:
            return _nothing_new(runtime, directory.actor(user), body, number)
        if action == SlackId.SNOOZE:
            return _snooze(runtime, directory.actor(user), body, number)
    except FlareError as error:
        respond_now(runtime, body, error_text(error))
        return Ack()
    raise InvalidInput(f"Unknown action {action}")


def _nothing_new(runtime: Runtime, actor: Actor, body: dict[str, Any], number: int) -> Ack:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not once(session, body, now):
            return Ack()
        incident = svc.get_incident(session, number, for_update=True)
        svc.nothing_new(session, runtime.settings, incident, actor=actor, now=now)
        due = incident.next_update_due
        respond(
            session,
            body,
            f"Posted “{svc.NOTHING_NEW_BY_STATUS.get(incident.status, svc.NOTHING_NEW)}” "
            f"on {incident.ref}." + (f" Next update promised by {hhmm(due)}." if due else ""),
            now,
        )
    return Ack()


def _snooze(runtime: Runtime, actor: Actor, body: dict[str, Any], number: int) -> Ack:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not once(session, body, now):
            return Ack()
        incident = svc.get_incident(session, number, for_update=True)
        cadence = runtime.settings.cadence_for(incident.severity)
        minutes = min(SNOOZE_MINUTES, int(cadence.total_seconds() // 60))
        svc.snooze(session, runtime.settings, incident, minutes=minutes, actor=actor, now=now)
        respond(session, body, f"Reminders for {incident.ref} snoozed for {minutes} min.", now)
    return Ack()


def _publish_anyway(runtime: Runtime, actor: Actor, body: dict[str, Any]) -> Ack:
    token = str(body["actions"][0]["value"])
    settings = runtime.settings
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not once(session, body, now):
            return Ack()
        pending = dedupe.load_pending(session, token, consume=True)
        if pending is None:
            respond(session, body, "That update was already published or has expired.", now)
            return Ack()
        command = parse(str(pending["text"]), settings.component_keys())
        reply = execute(
            session,
            settings,
            command,
            actor=actor,
            now=now,
            style=STYLE,
            force=True,
            event_id=_int_or_none(pending.get("event_id")),
        )
        respond(session, body, reply.text + " (published despite hygiene findings)", now)
    return Ack()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _edit_modal(runtime: Runtime, token: str) -> dict[str, Any]:
    with read_only(runtime.sessions) as session:
        pending = dedupe.load_pending(session, token, consume=False)
    if pending is None:
        raise InvalidInput("That update was already published or has expired.")
    command = parse(str(pending["text"]), runtime.settings.component_keys())
    if command.number is None:
        raise InvalidInput("Only public updates can be edited here.")
    status = IncidentStatus.RESOLVED if command.name == "resolve" else command.status
    return update_modal_for(
        runtime,
        command.number,
        message=command.text,
        status=status,
        levels=dict(command.components),
    )
