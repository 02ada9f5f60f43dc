"""The postmortem's sections from the other features: what changed before the incident (and,
once monitoring reports them, what the monitors said during it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import context
from bot.db.models import Incident
from bot.records.export import SECTIONS, Section


def changes_before(session: Session, incident: Incident, now: datetime) -> Section | None:
    """The changes of the 2 h before the declaration, oldest first, as the thread listed them."""
    start = incident.declared_at - context.WINDOW
    changes = context.changes_between(session, start, incident.declared_at)
    if not changes:
        return None
    rows = tuple(
        (
            change.at,
            " ".join(
                part
                for part in (
                    change.service,
                    change.version,
                    f"({change.environment})" if change.environment != "production" else "",
                    f"by {change.actor}" if change.actor else "",
                    change.url or "",
                )
                if part
            ),
        )
        for change in reversed(changes)
    )
    return Section("changes", "Changes in the 2 h before it", rows)


SECTIONS.append(changes_before)
