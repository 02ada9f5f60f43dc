"""Changes to a scheduled maintenance window after it was announced: cancel, reschedule,
extend. Each is a public update on the window (page, API, feeds), a post in #incidents and a
notice to subscribers, like the window's own edges (bot.incidents.maintenance).

A cancelled window ends as `completed` with a cancellation update (Statuspage has no
"cancelled" state); it leaves the upcoming list and the sweep never starts it, so it never
puts a component under maintenance. Cancelled while in progress, it releases its components
through the one level rule (each falls to the worst level another source still holds).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Maintenance, new_public_id
from bot.db.state import bump_version
from bot.errors import InvalidInput, NotFound
from bot.incidents.access import Actor
from bot.incidents.events import notify_subscribers
from bot.incidents.levels import announce, recompute
from bot.incidents.maintenance import MAX_LEAD, MAX_WINDOW, check_public_text, queue_post
from bot.incidents.queries import components_by_key
from bot.text.limits import UPDATE_LIMIT, clean_text
from bot.text.status import MaintenanceStatus
from bot.text.times import full

CANCELLED = "This scheduled maintenance has been cancelled."


def get_maintenance(session: Session, number: int, *, for_update: bool = False) -> Maintenance:
    query = select(Maintenance).where(Maintenance.id == number)
    if for_update:
        query = query.with_for_update()
    window = session.scalars(query).one_or_none()
    if window is None:
        raise NotFound(f"There is no maintenance MNT-{number}. The board lists upcoming ones.")
    return window


def _require_not_over(window: Maintenance) -> None:
    if window.status == MaintenanceStatus.COMPLETED:
        verb = "was cancelled" if window.cancelled_at else "is already completed"
        raise InvalidInput(f"{window.ref} {verb}: its record is history.")


def _tell(
    session: Session,
    window: Maintenance,
    *,
    change: str,
    status: MaintenanceStatus,
    body: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> str:
    """Append the public update, queue the #incidents post and the subscribers' notice."""
    update_id = new_public_id()
    window.updates = [
        *window.updates,
        {
            "id": update_id,
            "status": status.value,
            "at": now.isoformat(),
            "body": body,
            "change": change,
            **(extra or {}),
        },
    ]
    window.updated_at = now
    session.flush()
    bump_version(session, now)
    queue_post(session, window, change, key=str(update_id), now=now)
    notify_subscribers(
        session, now, maintenance_id=window.id, status=status.value, revision=update_id
    )
    return update_id


def cancel_maintenance(
    session: Session,
    settings: Settings,
    number: int,
    *,
    actor: Actor,
    now: datetime,
    message: str | None = None,
    force: bool = False,
) -> Maintenance:
    actor.require_responder()
    window = get_maintenance(session, number, for_update=True)
    _require_not_over(window)
    body = clean_text(message, what="message", limit=UPDATE_LIMIT) if message else CANCELLED
    if message:
        check_public_text(settings, body, force=force)
    was_in_progress = window.status == MaintenanceStatus.IN_PROGRESS
    window.status = MaintenanceStatus.COMPLETED
    window.completed_at = now
    window.cancelled_at = now
    # Only a window that had started ever told customers its components were under
    # maintenance; one cancelled before its start names no component change.
    _tell(
        session,
        window,
        change="cancelled",
        status=MaintenanceStatus.COMPLETED,
        body=body,
        now=now,
        extra={"cancelled": True, "affects": was_in_progress},
    )
    if was_in_progress:
        known = components_by_key(session)
        levels = recompute(
            session,
            now,
            actor=actor.id,
            cause=f"maintenance “{window.title}” cancelled",
            components=[known[k] for k in window.component_keys if k in known],
        )
        announce(session, levels, now)
    return window


def _window_end(starts_at: datetime, length: timedelta, now: datetime) -> datetime:
    """`starts_at + length`, after the bounds are checked (so the sum cannot overflow)."""
    if length <= timedelta(0) or length > MAX_WINDOW:
        raise InvalidInput("A maintenance window lasts between a minute and seven days.")
    if starts_at > now + MAX_LEAD:
        raise InvalidInput("Schedule maintenance at most a year ahead.")
    return starts_at + length


def reschedule_maintenance(
    session: Session,
    settings: Settings,
    number: int,
    *,
    starts_at: datetime,
    duration: timedelta,
    actor: Actor,
    now: datetime,
) -> Maintenance:
    actor.require_responder()
    window = get_maintenance(session, number, for_update=True)
    _require_not_over(window)
    if window.status == MaintenanceStatus.IN_PROGRESS:
        raise InvalidInput(
            f"{window.ref} is in progress: `extend` it, or `cancel` it and schedule a new one."
        )
    if starts_at <= now:
        raise InvalidInput("Give a new start in the future.")
    ends_at = _window_end(starts_at, duration, now)
    if starts_at == window.starts_at and ends_at == window.ends_at:
        raise InvalidInput(f"{window.ref} is already scheduled for exactly that window.")
    window.starts_at, window.ends_at = starts_at, ends_at
    body = f"This maintenance has been rescheduled to {full(starts_at)} – {full(window.ends_at)}."
    _tell(
        session,
        window,
        change="rescheduled",
        status=MaintenanceStatus.SCHEDULED,
        body=body,
        now=now,
    )
    return window


def extend_maintenance(
    session: Session,
    settings: Settings,
    number: int,
    *,
    duration: timedelta,
    actor: Actor,
    now: datetime,
) -> Maintenance:
    actor.require_responder()
    window = get_maintenance(session, number, for_update=True)
    _require_not_over(window)
    if duration <= timedelta(0):
        raise InvalidInput("Extend by at least a minute.")
    if duration > MAX_WINDOW:  # before any arithmetic: a huge one would overflow
        raise InvalidInput("A maintenance window lasts between a minute and seven days.")
    ends_at = _window_end(window.starts_at, (window.ends_at - window.starts_at) + duration, now)
    if ends_at <= now:
        raise InvalidInput(f"{window.ref} would still be over; extend it past now.")
    window.ends_at = ends_at
    body = f"This maintenance window has been extended until {full(ends_at)}."
    _tell(session, window, change="extended", status=window.status, body=body, now=now)
    return window
