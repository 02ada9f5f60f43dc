"""Corrections: the one way to change what customers were told once it is published.

The latest public update's wording (or the public title) is replaced; every public surface
shows the new wording through the one replay, ending with "(corrected HH:MM UTC)". The
update's own timeline event keeps the original text (the internal record), and a
`correction` event records who changed what from what. Subscribers hear of it only when
asked (`--notify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Incident, TimelineEvent
from bot.errors import InvalidInput
from bot.incidents import Actor, check_hygiene, notify_subscribers, record_event
from bot.text.hygiene import HygieneBlocked
from bot.text.limits import TITLE_LIMIT, UPDATE_LIMIT, clean_text
from bot.text.status import EventKind


@dataclass(frozen=True)
class Corrected:
    incident: Incident
    event: TimelineEvent  # the correction event
    what: str  # "update" or "title"
    notified: bool


def latest_public_update(session: Session, incident: Incident) -> TimelineEvent | None:
    return session.scalars(
        select(TimelineEvent)
        .where(
            TimelineEvent.incident_id == incident.id,
            TimelineEvent.kind == EventKind.PUBLIC_UPDATE,
        )
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(1)
    ).first()


def update_to_correct(session: Session, incident: Incident, event_id: int) -> TimelineEvent:
    """The named public update, if it is still the latest of `incident` (the one a form or
    a command was shown); otherwise a clear refusal: correcting "whatever is latest now"
    could overwrite an update published meanwhile with the older one's corrected text."""
    target = session.get(TimelineEvent, event_id)
    if (
        target is None
        or target.incident_id != incident.id
        or target.kind != EventKind.PUBLIC_UPDATE
    ):
        raise InvalidInput(f"That is not a public update of {incident.ref}; nothing changed.")
    latest = latest_public_update(session, incident)
    if latest is None or latest.id != target.id:
        raise InvalidInput(
            f"A newer update of {incident.ref} was published since this correction was "
            "started; nothing changed. Reopen the correction to see what customers read now."
        )
    return target


def current_wording(event: TimelineEvent) -> str:
    """What the update says now (its latest correction, else as published), unscrubbed."""
    correction = (event.data or {}).get("correction")
    if isinstance(correction, dict) and "body" in correction:
        return str(correction["body"])
    return event.body or ""


def _require_public(incident: Incident) -> None:
    if incident.internal_only:
        raise InvalidInput(f"{incident.ref} is internal-only: customers were told nothing.")
    if incident.published_at is None:
        raise InvalidInput(
            f"{incident.ref} has no public update yet: there is nothing to correct. "
            f"Publish one with `/incident update {incident.ref} …`."
        )


def correct_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    text: str,
    event_id: int,
    actor: Actor,
    now: datetime,
    notify: bool = False,
    force: bool = False,
) -> Corrected:
    """Replace the wording of the public update `event_id`, which must still be the latest
    (see `update_to_correct`). Responders only; hygiene applies."""
    actor.require_responder()
    _require_public(incident)
    target = update_to_correct(session, incident, event_id)
    text = clean_text(text, what="corrected update", limit=UPDATE_LIMIT)
    previous = current_wording(target)
    if text == previous:
        raise InvalidInput("The latest public update already reads exactly that.")
    try:
        check_hygiene(settings, text, target.status or incident.status, force=force)
    except HygieneBlocked as blocked:
        blocked.context["event_id"] = target.id  # publish anyway corrects this one, or none
        raise
    event = record_event(
        session,
        incident,
        kind=EventKind.CORRECTION,
        actor=actor.id,
        now=now,
        body=text,
        status=target.status,
        data={
            "field": "update",
            "event_id": target.id,
            "update_at": target.at.isoformat(),
            "from": previous,
            "notify": notify,
            "forced": force,
        },
    )
    # A new dict, so the JSON column is seen as changed.
    target.data = {
        **(target.data or {}),
        "correction": {"body": text, "at": now.isoformat(), "by": actor.id, "event": event.id},
    }
    if notify:
        notify_subscribers(session, now, event_id=target.id, revision=f"c{event.id}")
    return Corrected(incident, event, "update", notify)


def correct_title(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    text: str,
    actor: Actor,
    now: datetime,
    notify: bool = False,
    force: bool = False,
) -> Corrected:
    """Replace the public title (after resolution, the only way to change it)."""
    actor.require_responder()
    _require_public(incident)
    text = clean_text(text, what="public title", limit=TITLE_LIMIT)
    if text == incident.public_title:
        raise InvalidInput("The public title already reads exactly that.")
    # Resolved wording is fine in a resolved incident's title; not before.
    check_hygiene(settings, text, incident.status, force=force)
    previous = incident.public_title
    incident.public_title = text
    event = record_event(
        session,
        incident,
        kind=EventKind.CORRECTION,
        actor=actor.id,
        now=now,
        body=text,
        data={"field": "title", "from": previous, "notify": notify, "forced": force},
    )
    if notify:
        target = latest_public_update(session, incident)
        if target is not None:
            notify_subscribers(session, now, event_id=target.id, revision=f"c{event.id}")
    return Corrected(incident, event, "title", notify)
