"""`/incident …` from Slack: parse, one short transaction through bot.commands, a reply.

Called by the listener in bot.slack.app before it acknowledges; the returned body is the
acknowledgement itself (ephemeral), so no Web API call is needed to answer.
"""

from __future__ import annotations

from typing import Any

from bot.commands import checks_responder, execute, reads_only
from bot.db.engine import read_only
from bot.errors import FlareError, UsageError
from bot.runtime import Runtime
from bot.slack import blocks, dedupe, modals
from bot.slack.listeners.replies import STYLE, Ack, error_text
from bot.slack.responders import ResponderDirectory
from bot.text.grammar import parse, usage
from bot.text.hygiene import HygieneBlocked


def with_usage(error: FlareError, sub: str | None) -> dict[str, Any]:
    return blocks.ephemeral(f"{error_text(error)}\n{usage(sub)}")


def run_command(runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any]) -> Ack:
    settings = runtime.settings
    text = str(body.get("text") or "")
    user = str(body.get("user_id") or "")
    trigger = str(body.get("trigger_id") or "")
    try:
        command = parse(text, settings.component_keys())
    except UsageError as error:
        return Ack(blocks.ephemeral(f"{STYLE.text(error.message)}\n{error.usage}"))
    sub = command.name
    if sub == "help":
        return Ack(blocks.ephemeral(usage(command.text)))
    if sub == "declare" and not command.text:
        return Ack(blocks.ephemeral("Opening the declare form…"), modals.declare_modal(settings))
    now = runtime.now()
    try:
        actor = directory.actor(user, needed=checks_responder(sub))
        if reads_only(sub):  # no dedupe row: a retried read just reads again, lock-free
            with read_only(runtime.sessions) as session:
                reply = execute(session, settings, command, actor=actor, now=now, style=STYLE)
            return Ack(blocks.ephemeral(reply.text))
        with runtime.sessions.begin() as session:
            fresh, earlier = dedupe.first_time(session, f"trigger:{trigger}", now)
            if not fresh:
                return Ack(blocks.ephemeral(earlier or "Already done."))
            reply = execute(
                session,
                settings,
                command,
                actor=actor,
                now=now,
                style=STYLE,
            )
            dedupe.remember(session, f"trigger:{trigger}", reply.text)
    except HygieneBlocked as blocked:
        with runtime.sessions.begin() as session:
            token = dedupe.store_pending(
                session,
                {"source": "command", "text": text, "actor": user, **blocked.context},
                now,
            )
        return Ack(
            blocks.hygiene_reply(
                blocked.text, blocked.findings, token, editable=sub in {"update", "resolve"}
            )
        )
    except FlareError as error:
        return Ack(with_usage(error, sub))
    return Ack(blocks.ephemeral(reply.text))
