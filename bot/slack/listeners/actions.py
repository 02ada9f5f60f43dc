"""Buttons and modal submissions: parse the payload, one short transaction, an outcome.

Buttons answer through the click's `response_url`, queued in the outbox in the same
transaction as the change; modals answer in the acknowledgement (field errors, or the
modal turns into the result).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import incidents as svc
from bot import outbox
from bot.commands.dispatch import execute, hhmm
from bot.db.engine import read_only
from bot.db.models import ComponentStatus, Incident, IncidentStatus, Severity
from bot.errors import FlareError, HygieneBlocked, InvalidInput
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.slack import blocks, dedupe
from bot.slack.ids import SlackId
from bot.slack.listeners.commands import STYLE, Outcome, error_text
from bot.slack.responders import ResponderDirectory
from bot.text.grammar import parse
from bot.text.hygiene import Finding

SNOOZE_MINUTES = 10


# --- payload helpers -----------------------------------------------------------------------


def _values(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    state = (body.get("view") or {}).get("state") or {}
    return {block: data.get("value", {}) for block, data in (state.get("values") or {}).items()}


def _text(values: dict[str, dict[str, Any]], block: str) -> str | None:
    value = (values.get(block) or {}).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _selected(values: dict[str, dict[str, Any]], block: str) -> str | None:
    option = (values.get(block) or {}).get("selected_option") or {}
    return option.get("value")


def _multi(values: dict[str, dict[str, Any]], block: str) -> list[str]:
    return [o["value"] for o in (values.get(block) or {}).get("selected_options") or []]


def _user(values: dict[str, dict[str, Any]], block: str) -> str | None:
    return (values.get(block) or {}).get("selected_user")


def _findings_text(findings: list[Finding]) -> str:
    parts = [f"“{f.text}” ({f.kind}): {f.advice}" for f in findings]
    text = "Not published — " + "; ".join(parts)
    text += " Fix the text, or tick “Publish anyway”."
    return text[:1900]


def _respond(session: Session, body: dict[str, Any], text: str, now: Any) -> None:
    """Queue the ephemeral answer to a click (nothing if the click carried no response_url)."""
    url = body.get("response_url")
    if not url:
        return
    outbox.enqueue(
        session,
        key=f"respond:{body.get('trigger_id') or body.get('container', {}).get('message_ts')}",
        kind=kinds.SLACK_RESPOND,
        now=now,
        payload={"response_url": url, "text": text},
    )


def _respond_now(runtime: Runtime, body: dict[str, Any], text: str) -> None:
    with runtime.sessions.begin() as session:
        _respond(session, body, text, runtime.now())


def _number(body: dict[str, Any]) -> int:
    return int(str(body["actions"][0]["value"]))


def update_modal_for(
    runtime: Runtime,
    number: int,
    *,
    message: str | None = None,
    status: IncidentStatus | None = None,
    levels: dict[str, ComponentStatus] | None = None,
) -> dict[str, Any]:
    with read_only(runtime.sessions) as session:
        incident = svc.get_incident(session, number)
        current = {
            link.component.key: link.status for link in svc.incident_components(session, incident)
        }
        current.update(levels or {})
        visible = [(c.key, c.name) for c in svc.components_by_key(session).values()]
        order = {c.key: i for i, c in enumerate(runtime.settings.components)}
        visible.sort(key=lambda kv: order.get(kv[0], 999))
        return blocks.update_modal(
            number=incident.number,
            title=incident.title,
            status=status or incident.status,
            public_title=incident.public_title,
            components=visible,
            levels=current,
            cadence=runtime.settings.cadence_for(incident.severity),
            message=message,
        )


# --- buttons -------------------------------------------------------------------------------


def run_button(runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any]) -> Outcome:
    action = SlackId(body["actions"][0]["action_id"])
    actor = str((body.get("user") or {}).get("id") or "")
    try:
        if action == SlackId.DECLARE_OPEN:
            return Outcome(modal=blocks.declare_modal(runtime.settings))
        if action == SlackId.EDIT_UPDATE:
            return Outcome(modal=_edit_modal(runtime, str(body["actions"][0]["value"])))
        if action == SlackId.PUBLISH_ANYWAY:
            return _publish_anyway(runtime, directory, body, actor)
        number = _number(body)
        if action == SlackId.POST_UPDATE:
            return Outcome(modal=update_modal_for(runtime, number))
        with read_only(runtime.sessions) as session:
            incident = svc.get_incident(session, number)
            title = incident.title
        if action == SlackId.ADD_NOTE:
            return Outcome(modal=blocks.note_modal(number, title))
        if action == SlackId.RESOLVE:
            return Outcome(modal=blocks.resolve_modal(number, title, svc.DEFAULT_RESOLVED))
        if action == SlackId.NOTHING_NEW:
            return _nothing_new(runtime, directory, body, actor, number)
        if action == SlackId.SNOOZE:
            return _snooze(runtime, directory, body, actor, number)
    except FlareError as error:
        _respond_now(runtime, body, error_text(error))
        return Outcome()
    raise InvalidInput(f"Unknown action {action}")


def _once(session: Session, body: dict[str, Any], now: Any) -> bool:
    fresh, _ = dedupe.claim(session, f"trigger:{body.get('trigger_id')}", now)
    return fresh


def _nothing_new(
    runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any], actor: str, number: int
) -> Outcome:
    members = directory.members_for(actor)
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not _once(session, body, now):
            return Outcome()
        svc.require_responder(actor, runtime.settings, members)
        incident = svc.get_incident(session, number, for_update=True)
        svc.nothing_new(session, runtime.settings, incident, actor=actor, now=now)
        due = incident.next_update_due
        _respond(
            session,
            body,
            f"Posted “{svc.NOTHING_NEW_BY_STATUS.get(incident.status, svc.NOTHING_NEW)}” "
            f"on {incident.ref}." + (f" Next update promised by {hhmm(due)}." if due else ""),
            now,
        )
    return Outcome()


def _snooze(
    runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any], actor: str, number: int
) -> Outcome:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not _once(session, body, now):
            return Outcome()
        incident = svc.get_incident(session, number, for_update=True)
        if actor not in {incident.owner_id, incident.commander_id}:
            svc.require_responder(actor, runtime.settings, directory.members_for(actor))
        cadence = runtime.settings.cadence_for(incident.severity)
        minutes = min(SNOOZE_MINUTES, int(cadence.total_seconds() // 60))
        svc.snooze(session, runtime.settings, incident, minutes=minutes, actor=actor, now=now)
        _respond(session, body, f"Reminders for {incident.ref} snoozed for {minutes} min.", now)
    return Outcome()


def _publish_anyway(
    runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any], actor: str
) -> Outcome:
    token = str(body["actions"][0]["value"])
    settings = runtime.settings
    now = runtime.now()
    with runtime.sessions.begin() as session:
        if not _once(session, body, now):
            return Outcome()
        pending = dedupe.load_pending(session, token, consume=True)
        if pending is None:
            _respond(session, body, "That update was already published or has expired.", now)
            return Outcome()
        command = parse(str(pending["text"]), settings.component_keys())
        members = directory.members_for(actor)
        reply = execute(
            session,
            settings,
            command,
            actor=actor,
            now=now,
            style=STYLE,
            group_members=members,
            force=True,
        )
        _respond(session, body, reply.text + " (published despite hygiene findings)", now)
    return Outcome()


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


# --- modal submissions ---------------------------------------------------------------------


def run_view(runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any]) -> Outcome:
    """The acknowledgement of a submitted modal: field errors, or the result view."""
    view = body.get("view") or {}
    callback = SlackId(str(view.get("callback_id")))
    actor = str((body.get("user") or {}).get("id") or "")
    values = _values(body)
    key = f"view:{view.get('id')}:{view.get('hash')}"
    now = runtime.now()
    force = bool(_multi(values, blocks.B_FORCE))
    field = blocks.B_NOTE if callback == SlackId.NOTE_MODAL else blocks.B_MESSAGE
    try:
        members = (
            directory.members_for(actor)
            if callback in {SlackId.UPDATE_MODAL, SlackId.RESOLVE_MODAL}
            else None
        )
        with runtime.sessions.begin() as session:
            fresh, earlier = dedupe.claim(session, key, now)
            if not fresh:
                return _result("Done", earlier or "Already submitted.")
            if callback == SlackId.DECLARE_MODAL:
                text = _declare(runtime, session, values, actor, force)
            else:
                number = int(view.get("private_metadata") or 0)
                incident = svc.get_incident(session, number, for_update=True)
                if callback == SlackId.NOTE_MODAL:
                    svc.add_note(
                        session,
                        incident,
                        text=_text(values, blocks.B_NOTE) or "",
                        actor=actor,
                        now=now,
                    )
                    text = f"Internal note added to {incident.ref}."
                elif callback == SlackId.RESOLVE_MODAL:
                    svc.require_responder(actor, runtime.settings, members)
                    svc.resolve(
                        session,
                        runtime.settings,
                        incident,
                        actor=actor,
                        now=now,
                        message=_text(values, blocks.B_MESSAGE),
                        force=force,
                    )
                    text = f"Resolved {incident.ref}. {svc.promise_record(session, incident)}."
                else:
                    svc.require_responder(actor, runtime.settings, members)
                    text = _update(runtime, session, incident, values, actor, force)
            dedupe.remember(session, key, text)
    except HygieneBlocked as blocked:
        if blocked.text == _text(values, blocks.B_PUBLIC_TITLE):
            field = blocks.B_PUBLIC_TITLE
        return _errors({field: _findings_text(blocked.findings)})
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


def _errors(errors: dict[str, str]) -> Outcome:
    return Outcome({"response_action": "errors", "errors": errors})


def _result(title: str, text: str) -> Outcome:
    return Outcome({"response_action": "update", "view": blocks.result_view(title, text)})


def _declare(
    runtime: Runtime, session: Session, values: dict[str, dict[str, Any]], actor: str, force: bool
) -> str:
    settings = runtime.settings
    now = runtime.now()
    keys = _multi(values, blocks.B_COMPONENTS)
    message = _text(values, blocks.B_MESSAGE)
    if keys and not message:
        raise _FieldError(blocks.B_COMPONENTS, "Components are set with the first public message.")
    incident, created = svc.declare(
        session,
        settings,
        title=_text(values, blocks.B_TITLE) or "",
        actor=actor,
        now=now,
        severity=Severity(_selected(values, blocks.B_SEVERITY) or "sev3"),
        commander=_user(values, blocks.B_COMMANDER),
        owner=_user(values, blocks.B_OWNER),
        public_title=_text(values, blocks.B_PUBLIC_TITLE),
    )
    if not created:
        return f"Already declared a minute ago: {incident.ref}."
    text = f"Declared {incident.ref} ({incident.severity.value})."
    if message:
        level = ComponentStatus(
            _selected(values, blocks.B_LEVEL) or ComponentStatus.PARTIAL_OUTAGE.value
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
    actor: str,
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
        chosen = _selected(values, block)
        if chosen and chosen != blocks.NOT_AFFECTED and current.get(key) != chosen:
            changes[key] = ComponentStatus(chosen)
    public_title = _text(values, blocks.B_PUBLIC_TITLE)
    if public_title and public_title != incident.public_title:
        svc.set_public_title(
            session, settings, incident, title=public_title, actor=actor, now=now, force=force
        )
    next_minutes = _selected(values, blocks.B_NEXT_IN)
    status = IncidentStatus(_selected(values, blocks.B_STATUS) or incident.status.value)
    event = svc.publish_update(
        session,
        settings,
        incident,
        message=_text(values, blocks.B_MESSAGE) or "",
        actor=actor,
        now=now,
        status=status,
        components=changes,
        next_in=timedelta(minutes=int(next_minutes)) if next_minutes else None,
        force=force,
    )
    due = incident.next_update_due
    promise = f" Next update promised by {hhmm(due)}." if due else ""
    return f"Published on {incident.ref} ({event.status}).{promise}"


class _FieldError(InvalidInput):
    def __init__(self, block: str, message: str) -> None:
        super().__init__(message)
        self.block = block
