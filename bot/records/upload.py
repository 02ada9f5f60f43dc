"""The postmortem into the incident's Slack thread: one outbox row carrying the document,
written in the same transaction as the command that asked for it (bot/slack sends it by
Slack's external upload flow)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.db.models import Incident, new_public_id
from bot.outbox import kinds

MAX_CHARS = 900_000  # Slack takes far larger files; this keeps one outbox row sensible


def clip_document(text: str, ref: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS] + f"\n\n… cut here; `flare incident export {ref}` prints it all.\n"


def queue_postmortem(session: Session, incident: Incident, text: str, now: datetime) -> str:
    """Queue the document for the incident's thread; returns its file name."""
    filename = f"{incident.ref}-postmortem.md"
    outbox.enqueue(
        session,
        key=f"file:postmortem:{incident.id}:{new_public_id()}",
        kind=kinds.SLACK_FILE,
        now=now,
        payload={
            "incident_id": incident.id,
            "filename": filename,
            "title": f"Postmortem {incident.ref}",
            "content": clip_document(text, incident.ref),
        },
        incident_id=incident.id,
        ordering_key=f"incident:{incident.id}",
    )
    return filename
