"""The internal dashboard's sections of the board (changes, on-call, providers) and the
changes a new incident's thread opens with. Registered in `board.SECTIONS` at import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import context
from bot.config import Settings
from bot.db.models import Incident
from bot.outbox import kinds
from bot.slack.board import SECTIONS, BoardSection
from bot.slack.style import date_token, escape

BOARD_CHANGES = 10  # the newest shown on the board; the rest counted


class MrkdwnStyle:
    """Change fields are data, not messages: everything escaped, mentions included."""

    def text(self, value: str) -> str:
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


SECTIONS.append(changes_section)


def thread_changes(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """The outbox row that posts, right after the root, the changes of the 2 h before the
    incident into its thread (none when there were none)."""
    lines = context.changes_before(session, incident.declared_at, STYLE)
    if not lines:
        return []
    text = "\n".join([f"*{lines[0]}*", *lines[1:]])
    return [
        {
            "key": f"changes:{incident.id}",
            "kind": kinds.SLACK_THREAD_TEXT,
            "payload": {"incident_id": incident.id, "text": text},
            "incident_id": incident.id,
            "ordering_key": f"incident:{incident.id}",
        }
    ]
