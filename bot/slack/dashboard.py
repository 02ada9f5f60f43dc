"""The internal dashboard's sections of the board (changes, on-call, providers) and the
changes a new incident's thread opens with. Registered in `board.SECTIONS` at import."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import context
from bot.config import Settings
from bot.db.engine import read_only
from bot.db.models import Incident
from bot.runtime import Runtime
from bot.slack.board import SECTIONS, BoardSection
from bot.slack.style import date_token, escape
from bot.text.limits import clip_escaped

log = logging.getLogger("flare.slack.dashboard")
BOARD_CHANGES = 10  # the newest shown on the board; the rest counted
TITLE_SHOWN = 300  # characters of a provider's incident name on the board, once escaped
THREAD_LIMIT = 3000  # characters of the changes post a new incident's thread opens with


class MrkdwnStyle:
    """Change fields are data, not messages: everything escaped, mentions included."""

    def data(self, value: str) -> str:
        return escape(value)

    def time(self, value: datetime) -> str:
        return date_token(value, "{time}")


STYLE = MrkdwnStyle()


def changes_section(session: Session, settings: Settings, now: datetime) -> BoardSection | None:
    start = now - context.WINDOW
    rows = context.changes_between(session, start, now, limit=BOARD_CHANGES)
    if not rows:
        return None
    total = context.count_between(session, start, now)
    lines = context.describe_changes(rows, STYLE, total=total)
    return BoardSection("Changes in the last 2 h", tuple(lines))


def oncall_section(session: Session, settings: Settings, now: datetime) -> BoardSection | None:
    who = context.on_call(session, settings, now)
    if who is None or not who.people:
        return None
    people = ", ".join(f"<@{p}>" for p in who.people)
    if who.next_handoff is not None:
        line = f"{people} — until {date_token(who.next_handoff)} (weekly rotation)"
    else:
        assert who.as_of is not None
        age = f", as read {date_token(who.as_of)}" if who.stale else ""
        line = f"{people} (user group{age})"
    return BoardSection("On call", (line,))


STATE_LABEL = {
    "degraded": "degraded",
    "major": "major outage",
    "unknown": "unknown (cannot be read)",
}
STATE_EMOJI = {
    "degraded": ":large_yellow_circle:",
    "major": ":red_circle:",
    "unknown": ":grey_question:",
}


def providers_section(session: Session, settings: Settings, now: datetime) -> BoardSection | None:
    lines = []
    for p in context.not_operational(session, settings):
        label = STATE_LABEL.get(p.state, p.state)
        line = f"• {STATE_EMOJI.get(p.state, '')} *{escape(p.name)}* — {label}"
        if p.indicator:
            line += f" (`{escape(p.indicator)}`)"
        if p.incident_name:
            title = clip_escaped(escape(p.incident_name).replace("|", "¦"), TITLE_SHOWN)
            line += f": <{p.url}|{title}>" if p.url else f": {title}"
        elif p.url:
            line += f" · <{p.url}|status page>"
        if p.components:
            line += f" · may affect {escape(', '.join(p.components))}"
        lines.append(line)
    return BoardSection("Providers", tuple(lines)) if lines else None


SECTIONS.append(oncall_section)
SECTIONS.append(providers_section)
SECTIONS.append(changes_section)


def read_oncall_group(runtime: Runtime, client: WebClient) -> bool:
    """Read the on-call user group's members through Slack, at most every 5 minutes across
    workers (a claim in the database), outside any transaction; True if it was read."""
    now = runtime.now()
    with read_only(runtime.sessions) as session:
        if not context.group_read_due(session, runtime.settings, now):
            return False
    with runtime.sessions.begin() as session:
        group = context.claim_group_read(session, runtime.settings, now)
    if group is None:
        return False
    try:
        response = client.usergroups_users_list(usergroup=group)
        users = [str(u) for u in response.get("users") or []]
    except (SlackApiError, OSError) as error:  # the last list read stays; retried next slot
        log.warning("on-call user group not read: %s", error)
        return False
    with runtime.sessions.begin() as session:
        context.store_group(session, group, users, runtime.now())
    return True


def thread_changes(session: Session, incident: Incident) -> str | None:
    """What a new incident's thread opens with: the changes of the 2 h before it (mrkdwn),
    or None when there were none."""
    lines = context.changes_before(session, incident.declared_at, STYLE, limit=THREAD_LIMIT - 2)
    if not lines:
        return None
    return "\n".join([f"*{lines[0]}*", *lines[1:]])
