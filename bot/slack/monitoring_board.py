"""The board's "Monitoring" section: firing signals per component (name, since, level),
unmapped alerts, and checks gone quiet (no result for 3 intervals). Internal, like the
board itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import monitoring
from bot.config import Settings
from bot.slack.board import SECTIONS, BoardSection
from bot.slack.style import SlackStyle, ago
from bot.text.status import LEVEL_LABELS

STYLE = SlackStyle()
MAX_LINES = 15


def monitoring_section(session: Session, settings: Settings, now: datetime) -> BoardSection | None:
    rep = monitoring.report(session, settings, now)
    if not rep.firing and not rep.stale:
        return None
    names = {c.key: c.name for c in settings.components}
    lines = []
    for row in rep.firing[:MAX_LINES]:
        where = names.get(row.component or "", "unmapped") if row.component else "unmapped"
        lines.append(
            f":rotating_light: *{STYLE.data(where)}*: {STYLE.data(row.name)} "
            f"({LEVEL_LABELS[row.level]}) since {ago(row.since)}"
        )
    if len(rep.firing) > MAX_LINES:
        lines.append(f"…and {len(rep.firing) - MAX_LINES} more firing (`/incident signals`)")
    for check in rep.stale:
        lines.append(f":zzz: {STYLE.data(check.name)}: gone quiet ({check.detail})")
    return BoardSection("Monitoring", tuple(lines))


SECTIONS.append(monitoring_section)
