"""The fan-out: one public notice becomes one delivery row per confirmed subscriber who
wants it (chosen components), each with a unique key so a retried expansion adds nothing.
It runs in chunks of CHUNK subscribers, each committed with its progress in the fan-out row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
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
CHUNK = 500  # subscribers per committed transaction
PROGRESS = "after_subscriber"  # fan-out payload: the last subscriber id expanded so far
log = logging.getLogger("flare.deliveries")


def load_notice(session: Session, settings: Settings, payload: dict[str, Any]) -> Notice | None:
    revision = payload.get("revision")
    if "event_id" in payload:
        return incident_notice(session, settings, int(payload["event_id"]), revision=revision)
    if "maintenance_id" in payload:
        return maintenance_notice(
            session,
            settings,
            int(payload["maintenance_id"]),
            str(payload["status"]),
            revision=revision,
        )
    return None


def wants(subscriber: Subscriber, notice: Notice) -> bool:
    """Subscribers of chosen components hear about those; an update naming no component,
    and every update for those who chose none, reaches everyone."""
    if not subscriber.component_keys or not notice.components:
        return True
    return bool(set(subscriber.component_keys) & notice.component_keys)


def _wants(subscriber: Subscriber, notice: Notice) -> bool:
    """`wants`, isolated: a subscriber row it cannot read is sent the notice (their choice
    is unknown, and the delivery row succeeds or fails on its own) rather than stopping
    the fan-out for everyone after them."""
    try:
        return wants(subscriber, notice)
    except Exception:
        log.exception("fan-out: subscriber %s's components unreadable", subscriber.id)
        return True


def expand(
    session: Session,
    settings: Settings,
    message: OutboxMessage,
    now: datetime,
    *,
    limit: int = CHUNK,
) -> tuple[int, bool]:
    """One chunk of the fan-out: delivery rows for up to `limit` confirmed, enabled
    subscribers after the progress mark kept in the fan-out row's payload. Returns (how
    many it addressed, whether the fan-out is complete).

    The caller commits each chunk in its own transaction, so a list of any length never
    makes one long write transaction. The unique key `deliver:<subscriber>:<notice>` makes
    a repeated chunk (a retried fan-out, a second worker) add nothing.
    """
    payload = dict(message.payload)
    after = int(payload.pop(PROGRESS, 0) or 0)
    notice = load_notice(session, settings, payload)
    if notice is None:
        return 0, True
    channels = [WEBHOOK] + ([EMAIL] if settings.smtp_url else [])
    batch = list(
        session.scalars(
            select(Subscriber)
            .where(
                Subscriber.confirmed_at.is_not(None),
                Subscriber.disabled_at.is_(None),
                Subscriber.kind.in_(channels),
                Subscriber.id > after,
            )
            .order_by(Subscriber.id)
            .limit(limit)
        )
    )
    rows = [
        {
            "key": f"deliver:{subscriber.id}:{notice.key}",
            "kind": kinds.MAIL_UPDATE if subscriber.kind == EMAIL else kinds.WEBHOOK_UPDATE,
            "payload": {"subscriber_id": subscriber.id, **payload},
            "ordering_key": f"subscriber:{subscriber.id}",
        }
        for subscriber in batch
        if _wants(subscriber, notice)
    ]
    outbox.enqueue_many(session, now=now, messages=rows)
    if len(batch) < limit:
        return len(rows), True
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(payload={**payload, PROGRESS: batch[-1].id})
        .execution_options(synchronize_session=False)
    )
    return len(rows), False
