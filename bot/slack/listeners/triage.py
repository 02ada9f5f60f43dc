"""The triage message's buttons: "Declare incident" opens the declare form prefilled (the
form's submission is what is checked), "Mark <level>" sets the component's level by hand
(responders only, checked by the service), "Dismiss 1 h" quiets the component's triage."""

from __future__ import annotations

from typing import Any

from bot import monitoring
from bot.db.engine import read_only
from bot.errors import InvalidInput
from bot.runtime import Runtime
from bot.slack.ids import SlackId
from bot.slack.listeners.replies import Ack, once, respond
from bot.slack.responders import ResponderDirectory
from bot.slack.triage import declare_prefilled
from bot.text.status import LEVEL_LABELS, ComponentStatus
from bot.text.times import hhmm

TRIAGE_BUTTONS = (SlackId.TRIAGE_DECLARE, SlackId.TRIAGE_MARK, SlackId.TRIAGE_DISMISS)


def _value(body: dict[str, Any]) -> tuple[int, str]:
    raw = str(body["actions"][0].get("value") or "")
    number, _, rest = raw.partition(":")
    if not number.isdigit():
        raise InvalidInput("That button carries no monitoring episode.")
    return int(number), rest


def run_triage_button(
    runtime: Runtime, directory: ResponderDirectory, body: dict[str, Any], action: SlackId
) -> Ack:
    episode_id, rest = _value(body)
    user = str((body.get("user") or {}).get("id") or "")
    now = runtime.now()
    if action == SlackId.TRIAGE_DECLARE:
        with read_only(runtime.sessions) as session:
            view = monitoring.triage_view(session, episode_id)
        if view is None:
            raise InvalidInput("That monitoring episode no longer exists.")
        return Ack(modal=declare_prefilled(runtime.settings, view))
    if action == SlackId.TRIAGE_MARK:
        try:
            level = ComponentStatus(rest)
        except ValueError:
            raise InvalidInput("That button names no level.") from None
        actor = directory.actor(user)
        with runtime.sessions.begin() as session:
            if not once(session, body, now):
                return Ack()
            result = monitoring.mark(
                session, runtime.settings, episode_id, level, actor=actor, now=now
            )
            respond(
                session,
                body,
                f"{result.component.name} is marked {LEVEL_LABELS[level]} on the page, held "
                f"until someone sets it back (`/incident component {result.component.key} "
                "operational`).",
                now,
            )
        return Ack()
    with runtime.sessions.begin() as session:
        if not once(session, body, now):
            return Ack()
        episode = monitoring.dismiss(session, episode_id, user=user, now=now)
        until = episode.dismissed_until
        respond(
            session,
            body,
            "Dismissed: no new triage message for this component"
            + (f" until {hhmm(until)}." if until else "."),
            now,
        )
    return Ack()
