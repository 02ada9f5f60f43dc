"""The fan-out: one public notice becomes one delivery row per confirmed subscriber who
wants it (chosen components), each with a unique key so a retried expansion adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import (
    OutboxMessage,
    Subscriber,
)
from bot.outbox import kinds
from bot.subscribers.notices import Notice, incident_notice, maintenance_notice
from bot.subscribers.subscribe import EMAIL, WEBHOOK

FANOUT = kinds.FANOUT
MAIL_KINDS = kinds.MAIL_KINDS
WEBHOOK_KINDS = kinds.WEBHOOK_KINDS
UPDATE_KINDS = kinds.UPDATE_KINDS


def load_notice(session: Session, settings: Settings, payload: dict[str, Any]) -> Notice | None:
    if "event_id" in payload:
        return incident_notice(session, settings, int(payload["event_id"]))
    if "maintenance_id" in payload:
        return maintenance_notice(
            session, settings, int(payload["maintenance_id"]), str(payload["status"])
        )
    return None


def wants(subscriber: Subscriber, notice: Notice) -> bool:
    """Subscribers of chosen components hear about those; an update naming no component,
    and every update for those who chose none, reaches everyone."""
    if not subscriber.component_keys or not notice.components:
        return True
    return bool(set(subscriber.component_keys) & notice.component_keys)


def expand(session: Session, settings: Settings, message: OutboxMessage, now: datetime) -> int:
    """One delivery row per confirmed, enabled subscriber who wants this notice; returns
    how many subscribers it addressed.

    The unique key `deliver:<subscriber>:<notice>` makes a second expansion (a retried
    fan-out, a second worker) add nothing.
    """
    notice = load_notice(session, settings, message.payload)
    if notice is None:
        return 0
    channels = [WEBHOOK] + ([EMAIL] if settings.smtp_url else [])
    query = (
        select(Subscriber)
        .where(
            Subscriber.confirmed_at.is_not(None),
            Subscriber.disabled_at.is_(None),
            Subscriber.kind.in_(channels),
        )
        .order_by(Subscriber.id)
        .execution_options(yield_per=500)
    )
    addressed = 0
    for subscriber in session.scalars(query):
        if not wants(subscriber, notice):
            continue
        outbox.enqueue(
            session,
            key=f"deliver:{subscriber.id}:{notice.key}",
            kind=kinds.MAIL_UPDATE if subscriber.kind == EMAIL else kinds.WEBHOOK_UPDATE,
            now=now,
            payload={"subscriber_id": subscriber.id, **message.payload},
            ordering_key=f"subscriber:{subscriber.id}",
        )
        addressed += 1
    return addressed
