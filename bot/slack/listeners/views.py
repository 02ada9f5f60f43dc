"""Modal submissions: the acknowledgement is the answer (field errors, or the modal turns
into the result), after one short transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import incidents as svc
from bot import records
from bot.commands import on_call_commander
from bot.db.models import Incident
from bot.errors import FlareError, InvalidInput
from bot.incidents import Actor
from bot.runtime import Runtime
from bot.slack import blocks, dedupe, modals
from bot.slack.ids import SlackId
from bot.slack.listeners.forms import multi, selected, text_value, user_value, values_of
from bot.slack.listeners.replies import Ack, findings_text
from bot.slack.responders import ResponderDirectory
from bot.text.durations import parse_count
from bot.text.hygiene import HygieneBlocked
from bot.text.status import ComponentStatus, IncidentStatus, Severity
from bot.text.times import hhmm


def run_view(runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any]) -> Ack:
    """The acknowledgement of a submitted modal: field errors, or the result view."""
    view = body.get("view") or {}
    callback = SlackId(str(view.get("callback_id")))
    user = str((body.get("user") or {}).get("id") or "")
    values = values_of(body)
    key = f"view:{view.get('id')}:{view.get('hash')}"
    now = runtime.now()
    force = bool(multi(values, blocks.B_FORCE))
    field = blocks.B_NOTE if callback == SlackId.NOTE_MODAL else blocks.B_MESSAGE
    try:
        actor = directory.actor(user, needed=callback != SlackId.NOTE_MODAL)
        with runtime.sessions.begin() as session:
            fresh, earlier = dedupe.first_time(session, key, now)
            if not fresh:
                return _result("Done", earlier or "Already submitted.")
            if callback == SlackId.DECLARE_MODAL:
                text = _declare(runtime, session, values, actor, force)
            else:
                # "<number>" or, for a correction, "<number>:<the update's event id>".
                meta, _, target = str(view.get("private_metadata") or "").partition(":")
                number = parse_count(meta) or 0
                incident = svc.get_incident(session, number, for_update=True)
                if callback == SlackId.NOTE_MODAL:
                    svc.add_note(
                        session,
                        incident,
                        text=text_value(values, blocks.B_NOTE) or "",
                        actor=actor,
                        now=now,
                    )
                    text = f"Internal note added to {incident.ref}."
                elif callback == SlackId.CORRECT_MODAL:
                    done = records.correct_update(
                        session,
                        runtime.settings,
                        incident,
                        text=text_value(values, blocks.B_MESSAGE) or "",
                        event_id=parse_count(target) or 0,
                        actor=actor,
                        now=now,
                        notify=bool(multi(values, blocks.B_NOTIFY)),
                        force=force,
                    )
                    told = "told again" if done.notified else "not re-sent"
                    text = (
                        f"Corrected the latest public update of {incident.ref} "
                        f"(subscribers {told})."
                    )
                elif callback == SlackId.RESOLVE_MODAL:
                    svc.resolve(
                        session,
                        runtime.settings,
                        incident,
                        actor=actor,
                        now=now,
                        message=text_value(values, blocks.B_MESSAGE),
                        force=force,
                    )
                    text = f"Resolved {incident.ref}. {svc.promise_record(session, incident)}."
                else:
                    text = _update(runtime, session, incident, values, actor, force)
            dedupe.remember(session, key, text)
    except HygieneBlocked as blocked:
        if blocked.text == text_value(values, blocks.B_PUBLIC_TITLE):
            field = blocks.B_PUBLIC_TITLE
        return _errors({field: findings_text(blocked.findings)})
    except _FieldError as error:
        return _errors({error.block: error.message})
    except FlareError as error:
        lowered = error.message.lower()
        if "public title" in lowered:
            field = blocks.B_PUBLIC_TITLE
        elif callback == SlackId.DECLARE_MODAL and "title" in lowered:
            field = blocks.B_TITLE
        return _errors({field: error.message[:1900]})
    return _result("Done", text)


def _errors(errors: dict[str, str]) -> Ack:
    return Ack({"response_action": "errors", "errors": errors})


def _result(title: str, text: str) -> Ack:
    return Ack({"response_action": "update", "view": modals.result_view(title, text)})


def _declare(
    runtime: Runtime, session: Session, values: dict[str, dict[str, Any]], actor: Actor, force: bool
) -> str:
    settings = runtime.settings
    now = runtime.now()
    keys = multi(values, blocks.B_COMPONENTS)
    message = text_value(values, blocks.B_MESSAGE)
    if keys and not message:
        raise _FieldError(blocks.B_COMPONENTS, "Components are set with the first public message.")
    incident, created = svc.declare(
        session,
        settings,
        title=text_value(values, blocks.B_TITLE) or "",
        actor=actor,
        now=now,
        severity=Severity(selected(values, blocks.B_SEVERITY) or "sev3"),
        commander=user_value(values, blocks.B_COMMANDER),
        owner=user_value(values, blocks.B_OWNER),
        public_title=text_value(values, blocks.B_PUBLIC_TITLE),
        force=force,
        on_call=on_call_commander(session, settings, now),
    )
    if not created:
        return f"Already declared a minute ago: {incident.ref}."
    text = f"Declared {incident.ref} ({incident.severity.value})."
    if message:
        level = ComponentStatus(
            selected(values, blocks.B_LEVEL) or ComponentStatus.PARTIAL_OUTAGE.value
        )
        svc.publish_update(
            session,
            settings,
            incident,
            message=message,
            actor=actor,
            now=now,
            components={k: level for k in keys},
            force=force,
        )
        text += (
            f" It is on the public page; next update by {hhmm(incident.next_update_due)}."
            if incident.next_update_due
            else ""
        )
    return text


def _update(
    runtime: Runtime,
    session: Session,
    incident: Incident,
    values: dict[str, dict[str, Any]],
    actor: Actor,
    force: bool,
) -> str:
    settings = runtime.settings
    now = runtime.now()
    current = {
        link.component.key: link.status for link in svc.incident_components(session, incident)
    }
    changes: dict[str, ComponentStatus] = {}
    for block in values:
        if not block.startswith(blocks.COMPONENT_PREFIX):
            continue
        key = block[len(blocks.COMPONENT_PREFIX) :]
        chosen = selected(values, block)
        if chosen and chosen != blocks.NOT_AFFECTED and current.get(key) != chosen:
            changes[key] = ComponentStatus(chosen)
    public_title = text_value(values, blocks.B_PUBLIC_TITLE)
    if public_title and public_title != incident.public_title:
        svc.set_public_title(
            session, settings, incident, title=public_title, actor=actor, now=now, force=force
        )
    next_minutes = selected(values, blocks.B_NEXT_IN)
    status = IncidentStatus(selected(values, blocks.B_STATUS) or incident.status.value)
    event = svc.publish_update(
        session,
        settings,
        incident,
        message=text_value(values, blocks.B_MESSAGE) or "",
        actor=actor,
        now=now,
        status=status,
        components=changes,
        next_in=_minutes(next_minutes),
        force=force,
    )
    due = incident.next_update_due
    promise = f" Next update promised by {hhmm(due)}." if due else ""
    return f"Published on {incident.ref} ({event.status}).{promise}"


def _minutes(value: str | None) -> timedelta | None:
    if not value:
        return None
    minutes = parse_count(value)
    if minutes is None:
        raise _FieldError(blocks.B_NEXT_IN, "Choose how many minutes until the next update.")
    return timedelta(minutes=minutes)


class _FieldError(InvalidInput):
    def __init__(self, block: str, message: str) -> None:
        super().__init__(message)
        self.block = block
