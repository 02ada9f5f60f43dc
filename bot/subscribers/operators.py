"""What operators see of subscribers (`/incident subscribers`, the board, `flare
subscribers`): counts, failures and masked addresses, never a full address in Slack.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import (
    OutboxMessage,
    Subscriber,
)
from bot.subscribers.fanout import FANOUT, MAIL_KINDS, WEBHOOK_KINDS
from bot.subscribers.subscribe import EMAIL, WEBHOOK
from bot.text.durations import parse_count


def _plain(text: str) -> str:
    """Subscriber-supplied text in an operator message: no markup can ride along."""
    return re.sub(r"[<>&*_`~|]", "", " ".join(text.split()))[:160]


def label(subscriber: Subscriber, *, mask: bool) -> str:
    if subscriber.kind == WEBHOOK:
        host = urlsplit(subscriber.address).hostname or "?"
        return f"webhook {host}" if mask else f"webhook {subscriber.address}"
    if not mask:
        return f"email {subscriber.address}"
    local, _, domain = subscriber.address.rpartition("@")
    return f"email {local[:1]}…@{domain}"


def status_of(subscriber: Subscriber) -> str:
    if subscriber.disabled_at is not None:
        return "disabled"
    return "confirmed" if subscriber.confirmed_at is not None else "pending"


def board_notes(session: Session) -> list[str]:
    """Lines for the board: subscribers disabled after repeated failures."""
    disabled = int(
        session.scalar(
            select(func.count()).select_from(Subscriber).where(Subscriber.disabled_at.is_not(None))
        )
        or 0
    )
    if not disabled:
        return []
    noun = "subscriber" if disabled == 1 else "subscribers"
    return [
        f"{disabled} {noun} disabled after repeated delivery failures "
        "(`/incident subscribers`, `flare subscribers list`)"
    ]


def summary(session: Session) -> str:
    """`/incident subscribers`: counts, delivery backlog and failures. No full addresses."""
    rows = session.execute(
        select(
            Subscriber.kind,
            case(
                (Subscriber.disabled_at.is_not(None), "disabled"),
                (Subscriber.confirmed_at.is_not(None), "confirmed"),
                else_="pending",
            ),
            func.count(),
        ).group_by(
            Subscriber.kind,
            Subscriber.disabled_at.is_not(None),
            Subscriber.confirmed_at.is_not(None),
        )
    ).all()
    counts: dict[tuple[str, str], int] = {}
    for kind, status, count in rows:
        counts[(kind, status)] = counts.get((kind, status), 0) + int(count)

    def total(status: str) -> int:
        return sum(n for (_, s), n in counts.items() if s == status)

    lines = [
        f"Subscribers: {total('confirmed')} confirmed "
        f"({counts.get((EMAIL, 'confirmed'), 0)} email, "
        f"{counts.get((WEBHOOK, 'confirmed'), 0)} webhook), "
        f"{total('pending')} awaiting confirmation, {total('disabled')} disabled."
    ]
    pending = OutboxMessage.sent_at.is_(None)
    deliveries = session.execute(
        select(
            func.count().filter(
                pending, OutboxMessage.dead.is_(False), OutboxMessage.attempts == 0
            ),
            func.count().filter(pending, OutboxMessage.dead.is_(False), OutboxMessage.attempts > 0),
            func.count().filter(OutboxMessage.dead.is_(True)),
        ).where(OutboxMessage.kind.in_((*MAIL_KINDS, *WEBHOOK_KINDS, FANOUT)))
    ).one()
    lines.append(
        f"Deliveries: {deliveries[0]} queued, {deliveries[1]} retrying, {deliveries[2]} given up."
    )
    failing = session.scalars(
        select(Subscriber)
        .where(or_(Subscriber.consecutive_failures > 0, Subscriber.disabled_at.is_not(None)))
        .order_by(Subscriber.disabled_at.is_(None), Subscriber.consecutive_failures.desc())
        .limit(10)
    ).all()
    if failing:
        lines.append("Failing:")
        for subscriber in failing:
            flag = " (disabled)" if subscriber.disabled_at else ""
            lines.append(
                f"• {_plain(label(subscriber, mask=True))}{flag}: "
                f"{subscriber.consecutive_failures} failed attempts in a row, last "
                f"{_plain(subscriber.last_error or 'unknown error')}"
            )
    return "\n".join(lines)


def list_subscribers(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).order_by(Subscriber.id)))


def remove(session: Session, target: str) -> Subscriber | None:
    """Remove by number, public id or address; the removed subscriber, or None."""
    target = target.strip()
    conditions = [Subscriber.public_id == target, Subscriber.address == target]
    number = parse_count(target)  # ASCII digits: "²" passes isdigit() but not int()
    if number is not None:
        conditions.append(Subscriber.id == number)
    if "@" in target:
        local, _, domain = target.rpartition("@")
        conditions.append(Subscriber.address == f"{local}@{domain.lower()}")
    subscriber = session.scalars(select(Subscriber).where(or_(*conditions))).first()
    if subscriber is not None:
        session.delete(subscriber)
    return subscriber
