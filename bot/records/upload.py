"""The postmortem into the incident's Slack thread: one outbox row naming the incident and
when it was asked for, written in the same transaction as the command that asked. The
document itself is rendered by bot.slack when it sends the file (a read-only session, long
after the command's acknowledgement), clipped to MAX_CHARS.

One at a time per incident: while one is still to be sent, asking again queues nothing
more (the one on its way is the answer), and two asks in the same minute are one row by
their key, so nobody can pile up uploads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.db.models import Incident, OutboxMessage
from bot.outbox import kinds

MAX_CHARS = 900_000  # Slack takes far larger files; this keeps one upload sensible


def clip_document(text: str, ref: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS] + f"\n\n… cut here; `flare incident export {ref}` prints it all.\n"


@dataclass(frozen=True)
class Queued:
    filename: str
    new: bool  # False: one was already on its way, nothing more was queued


def pending_postmortem(session: Session, incident: Incident) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == kinds.SLACK_FILE,
            OutboxMessage.incident_id == incident.id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dead.is_(False),
        )
        .limit(1)
    ).first()


def queue_postmortem(session: Session, incident: Incident, now: datetime) -> Queued:
    """Queue the postmortem for the incident's thread, unless one is already on its way."""
    filename = f"{incident.ref}-postmortem.md"
    if pending_postmortem(session, incident) is not None:
        return Queued(filename, new=False)
    added = outbox.enqueue(
        session,
        key=f"file:postmortem:{incident.id}:{now:%Y%m%dT%H%M}",
        kind=kinds.SLACK_FILE,
        now=now,
        payload={
            "incident_id": incident.id,
            "filename": filename,
            "title": f"Postmortem {incident.ref}",
            "asked_at": now.isoformat(),
        },
        incident_id=incident.id,
        ordering_key=f"incident:{incident.id}",
    )
    return Queued(filename, new=added)
