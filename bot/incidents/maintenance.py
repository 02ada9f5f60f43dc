"""Scheduled maintenance: a window moves scheduled → in_progress → completed by itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import Maintenance, new_public_id
from bot.db.state import bump_version
from bot.errors import InvalidInput
from bot.incidents.access import FLARE_ACTOR, Actor
from bot.incidents.events import notify_subscribers
from bot.incidents.guards import check_hygiene
from bot.incidents.levels import announce, recompute
from bot.incidents.queries import components_by_key
from bot.outbox import kinds
from bot.text.limits import TITLE_LIMIT, UPDATE_LIMIT, clean_text
from bot.text.status import IncidentStatus, MaintenanceStatus

MAX_WINDOW = timedelta(days=7)
MAX_LEAD = timedelta(days=366)
STARTED = "Scheduled maintenance is currently in progress. We will provide updates as necessary."
COMPLETED = "The scheduled maintenance has been completed."


def check_public_text(settings: Settings, text: str, *, force: bool) -> None:
    """Maintenance titles and messages are public text: the same hygiene check as any update
    ("resolved"/"fixed" wording is no finding here: a window is not an incident's fix)."""
    check_hygiene(settings, text, IncidentStatus.RESOLVED, force=force)


def _times(maintenance: Maintenance) -> dict[str, str]:
    """The window as it is now, for the #incidents post (a later change must not alter it)."""
    return {
        "starts_at": maintenance.starts_at.isoformat(),
        "ends_at": maintenance.ends_at.isoformat(),
    }


def queue_post(
    session: Session, window: Maintenance, status: str, *, key: str, now: datetime
) -> None:
    """The window's post in #incidents (`status`: scheduled, in_progress, a change, …),
    with its times as they are now."""
    outbox.enqueue(
        session,
        key=f"maintenance:{window.id}:{key}",
        kind=kinds.SLACK_MAINTENANCE,
        now=now,
        payload={"maintenance_id": window.id, "status": status, **_times(window)},
    )


def schedule_maintenance(
    session: Session,
    settings: Settings,
    *,
    title: str,
    starts_at: datetime,
    duration: timedelta,
    keys: Sequence[str],
    actor: Actor,
    now: datetime,
    message: str | None = None,
    force: bool = False,
) -> Maintenance:
    actor.require_responder()
    title = clean_text(title, what="maintenance title", limit=TITLE_LIMIT)
    body = clean_text(message, what="message", limit=UPDATE_LIMIT) if message else None
    for text in (title, body):
        if text:
            check_public_text(settings, text, force=force)
    if duration <= timedelta(0) or duration > MAX_WINDOW:
        raise InvalidInput("A maintenance window lasts between a minute and seven days.")
    if starts_at > now + MAX_LEAD:
        raise InvalidInput("Schedule maintenance at most a year ahead.")
    if starts_at + duration <= now:
        raise InvalidInput("That window is already over; give a start in the future.")
    known = components_by_key(session)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise InvalidInput(f"Unknown component {unknown[0]!r}.")
    update_id = new_public_id()
    maintenance = Maintenance(
        title=title,
        message=body,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        component_keys=list(keys),
        status=MaintenanceStatus.SCHEDULED,
        updates=[
            {
                "id": update_id,
                "status": "scheduled",
                "at": now.isoformat(),
                "body": body or f"{title} is scheduled.",
            }
        ],
    )
    session.add(maintenance)
    session.flush()
    bump_version(session, now)
    queue_post(session, maintenance, "scheduled", key="scheduled", now=now)
    # The notice names its own update: delivered late, it still says what it said then.
    notify_subscribers(
        session, now, maintenance_id=maintenance.id, status="scheduled", revision=update_id
    )
    return maintenance


def advance(session: Session, now: datetime) -> list[Maintenance]:
    """Move windows across their edges; returns the maintenances that changed."""
    changed: list[Maintenance] = []
    due = session.scalars(
        select(Maintenance)
        .where(
            Maintenance.status != MaintenanceStatus.COMPLETED,
            Maintenance.starts_at <= now,
        )
        .with_for_update(skip_locked=True)
    ).all()
    known = components_by_key(session)
    for maintenance in due:
        components = [known[k] for k in maintenance.component_keys if k in known]
        target = (
            MaintenanceStatus.COMPLETED
            if now >= maintenance.ends_at
            else MaintenanceStatus.IN_PROGRESS
        )
        if target == maintenance.status:
            continue
        if target == MaintenanceStatus.IN_PROGRESS:
            maintenance.started_at = now
            body = STARTED
        else:
            maintenance.started_at = maintenance.started_at or now
            maintenance.completed_at = now
            body = COMPLETED
        maintenance.status = target
        maintenance.updated_at = now
        update_id = new_public_id()
        maintenance.updates = [
            *maintenance.updates,
            {"id": update_id, "status": target.value, "at": now.isoformat(), "body": body},
        ]
        queue_post(session, maintenance, target.value, key=target.value, now=now)
        notify_subscribers(
            session, now, maintenance_id=maintenance.id, status=target.value, revision=update_id
        )
        changed.append(maintenance)
        session.flush()
        # The window holds its components while in progress; an outage stays worse news.
        verb = "started" if target == MaintenanceStatus.IN_PROGRESS else "completed"
        levels = recompute(
            session,
            now,
            actor=FLARE_ACTOR,
            cause=f"maintenance “{maintenance.title}” {verb}",
            components=components,
        )
        announce(session, levels, now)
    if changed:
        bump_version(session, now)
    return changed


def open_maintenances(session: Session) -> list[Maintenance]:
    return list(
        session.scalars(
            select(Maintenance)
            .where(Maintenance.status != MaintenanceStatus.COMPLETED)
            .order_by(Maintenance.starts_at)
        )
    )
