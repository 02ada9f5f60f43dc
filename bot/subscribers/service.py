"""Subscribers: subscribe with double opt-in, confirm, unsubscribe, and the fan-out of
every public update to the confirmed subscribers of the affected components.

Services take a session and never commit. Answers never reveal who is subscribed: asking
again for an address already on the list looks exactly like a first request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import (
    Component,
    OutboxMessage,
    Subscriber,
    new_public_id,
)
from bot.errors import FlareError, InvalidInput
from bot.outbox import kinds
from bot.subscribers import ratelimit, tokens
from bot.subscribers.notices import Notice, incident_notice, maintenance_notice
from bot.subscribers.webhooks import Resolver, WebhookRefused, check_url, system_resolver

EMAIL = "email"
WEBHOOK = "webhook"
CONFIRM_TTL = timedelta(hours=48)
IP_LIMIT = 10  # subscription requests per IP per window
ADDRESS_LIMIT = 3  # confirmation requests per address per window
LIMIT_WINDOW = timedelta(hours=1)
FAILURE_LIMIT = 15  # consecutive failed attempts before a subscriber is disabled
EMAIL_LIMIT = 254
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)  # noqa: E501
FANOUT = kinds.FANOUT
MAIL_KINDS = kinds.MAIL_KINDS
WEBHOOK_KINDS = kinds.WEBHOOK_KINDS
UPDATE_KINDS = kinds.UPDATE_KINDS


class RateLimited(FlareError):
    """Too many subscription requests from one address; try again later."""


# --- links -------------------------------------------------------------------------------


def confirm_url(
    settings: Settings, key: bytes, subscriber: Subscriber, components: Sequence[str], now: datetime
) -> str:
    token = tokens.sign(
        key,
        "confirm",
        {"s": subscriber.public_id, "c": list(components)},
        now=now,
        ttl=CONFIRM_TTL,
    )
    return f"{settings.public_url}/subscriptions/confirm/{token}"


def unsubscribe_url(settings: Settings, key: bytes, subscriber: Subscriber, now: datetime) -> str:
    # No expiry: an unsubscribe link in a year-old mail must still work.
    token = tokens.sign(key, "unsubscribe", {"s": subscriber.public_id}, now=now)
    return f"{settings.public_url}/subscriptions/unsubscribe/{token}"


def signing_secret(key: bytes, subscriber: Subscriber) -> str:
    """The webhook's HMAC secret: derived from the site key, different for each subscriber."""
    return "whsec_" + tokens.derive(key, f"webhook:{subscriber.public_id}").hex()


# --- subscribing -------------------------------------------------------------------------


def normalize_email(text: str) -> str:
    address = text.strip()
    if len(address) > EMAIL_LIMIT or not _EMAIL.match(address):
        raise InvalidInput("That does not look like an email address.")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def known_components(session: Session, keys: Iterable[str]) -> list[str]:
    wanted = [k.strip().lower() for k in keys if k and k.strip()]
    if not wanted:
        return []
    known = set(
        session.scalars(
            select(Component.key).where(Component.key.in_(wanted), Component.hidden.is_(False))
        )
    )
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise InvalidInput(f"Unknown component {unknown[0]!r}.")
    return sorted(set(wanted))


def allow_ip(session: Session, ip: str | None, now: datetime) -> bool:
    """Counts one subscription request from `ip`; False once it has made too many."""
    ratelimit.prune(session, now)
    return ratelimit.allow(
        session, f"ip:{ip or 'unknown'}", limit=IP_LIMIT, window=LIMIT_WINDOW, now=now
    )


def _address_bucket(key: bytes, kind: str, address: str) -> str:
    # Hashed with the site key: the table never holds an address in the clear.
    digest = hmac.new(key, f"{kind}:{address}".encode(), hashlib.sha256).hexdigest()
    return f"addr:{digest[:40]}"


def subscribe(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    email: str | None = None,
    webhook_url: str | None = None,
    components: Sequence[str] = (),
    resolve: Resolver = system_resolver,
) -> None:
    """Ask for a subscription: queue a confirmation (mail, or a request to the webhook).

    Raises InvalidInput for input that cannot be a subscription. Otherwise it answers the
    same whether or not the address is known, confirmed, or over its own rate limit.
    """
    if bool(email) == bool(webhook_url):
        raise InvalidInput("Give either an email address or a webhook URL.")
    keys = known_components(session, components)
    if email:
        if not settings.smtp_url:
            raise InvalidInput("Email subscriptions are not available on this page yet.")
        kind, address = EMAIL, normalize_email(email)
    else:
        try:
            address = check_url(
                webhook_url or "", allow_private=settings.webhook_allow_private, resolve=resolve
            )
        except WebhookRefused as error:
            raise InvalidInput(str(error)) from error
        kind = WEBHOOK
    key = tokens.secret_key(session, settings)
    bucket = _address_bucket(key, kind, address)
    if not ratelimit.allow(session, bucket, limit=ADDRESS_LIMIT, window=LIMIT_WINDOW, now=now):
        return  # silently: nobody can flood an inbox, and the answer reveals nothing
    subscriber = _get_or_create(session, kind, address, keys, now)
    subscriber.confirmations_sent += 1
    outbox.enqueue(
        session,
        key=f"confirm:{subscriber.id}:{subscriber.confirmations_sent}",
        kind=kinds.MAIL_CONFIRM if kind == EMAIL else kinds.WEBHOOK_CONFIRM,
        now=now,
        payload={"subscriber_id": subscriber.id, "components": keys},
    )


def _get_or_create(
    session: Session, kind: str, address: str, keys: list[str], now: datetime
) -> Subscriber:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Subscriber)
        .values(
            public_id=new_public_id(),
            kind=kind,
            address=address,
            component_keys=keys,
            created_at=now,
            confirmations_sent=0,
            consecutive_failures=0,
        )
        .on_conflict_do_nothing(index_elements=["kind", "address"])
    )
    subscriber = session.scalars(
        select(Subscriber)
        .where(Subscriber.kind == kind, Subscriber.address == address)
        .with_for_update()
    ).one()
    session.refresh(subscriber)
    return subscriber


def confirm(session: Session, settings: Settings, token: str, now: datetime) -> Subscriber:
    """Apply a confirmation link (raises tokens.BadToken if it is not a valid one)."""
    key = tokens.secret_key(session, settings)
    subject = tokens.verify(key, token, "confirm", now=now)
    subscriber = _by_public_id(session, subject.get("s"))
    if subscriber is None:
        raise tokens.BadToken("no such subscription")
    try:
        keys = known_components(session, subject.get("c") or [])
    except InvalidInput:  # a component removed since: keep the ones that still exist
        keys = [k for k in subject.get("c") or [] if k in _all_keys(session)]
    subscriber.component_keys = keys
    subscriber.confirmed_at = subscriber.confirmed_at or now
    subscriber.disabled_at = None
    subscriber.disabled_reason = None
    subscriber.consecutive_failures = 0
    return subscriber


def unsubscribe(session: Session, settings: Settings, token: str, now: datetime) -> bool:
    """Forget the subscriber; False if already gone. Raises tokens.BadToken if forged."""
    key = tokens.secret_key(session, settings)
    subject = tokens.verify(key, token, "unsubscribe", now=now)
    subscriber = _by_public_id(session, subject.get("s"))
    if subscriber is None:
        return False
    session.delete(subscriber)
    return True


def check_unsubscribe_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> None:
    key = tokens.secret_key(session, settings)
    tokens.verify(key, token, "unsubscribe", now=now)


def _by_public_id(session: Session, public_id: Any) -> Subscriber | None:
    if not isinstance(public_id, str):
        return None
    return session.scalars(
        select(Subscriber).where(Subscriber.public_id == public_id).with_for_update()
    ).one_or_none()


def _all_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Component.key).where(Component.hidden.is_(False))))


# --- fan-out -----------------------------------------------------------------------------


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


# --- delivery outcomes -------------------------------------------------------------------


def record_success(session: Session, subscriber: Subscriber, now: datetime) -> None:
    subscriber.consecutive_failures = 0
    subscriber.last_error = None
    subscriber.last_delivered_at = now


def record_failure(session: Session, subscriber: Subscriber, error: str, now: datetime) -> bool:
    """Count a failed attempt; True if this one disabled the subscriber."""
    subscriber.consecutive_failures += 1
    subscriber.last_error = error[:500]
    if subscriber.disabled_at is None and subscriber.consecutive_failures >= FAILURE_LIMIT:
        subscriber.disabled_at = now
        subscriber.disabled_reason = (
            f"{subscriber.consecutive_failures} deliveries failed in a row; last: {error[:200]}"
        )
        return True
    return False


def disable(session: Session, subscriber: Subscriber, reason: str, now: datetime) -> None:
    subscriber.disabled_at = now
    subscriber.disabled_reason = reason[:500]


# --- operators ---------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Subscriber-supplied text in an operator message: no markup can ride along."""
    return re.sub(r"[<>&*_`~|]", "", " ".join(text.split()))[:160]


def describe(subscriber: Subscriber, *, mask: bool) -> str:
    if subscriber.kind == WEBHOOK:
        host = urlsplit(subscriber.address).hostname or "?"
        return f"webhook {host}" if mask else f"webhook {subscriber.address}"
    if not mask:
        return f"email {subscriber.address}"
    local, _, domain = subscriber.address.rpartition("@")
    return f"email {local[:1]}…@{domain}"


def state(subscriber: Subscriber) -> str:
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
                f"• {_plain(describe(subscriber, mask=True))}{flag}: "
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
    if target.isdigit():
        conditions.append(Subscriber.id == int(target))
    if "@" in target:
        local, _, domain = target.rpartition("@")
        conditions.append(Subscriber.address == f"{local}@{domain.lower()}")
    subscriber = session.scalars(select(Subscriber).where(or_(*conditions))).first()
    if subscriber is not None:
        session.delete(subscriber)
    return subscriber


def cli(settings: Settings, action: str, target: str | None) -> int:
    """`flare subscribers list` / `flare subscribers remove <id|address>`."""
    from bot.runtime import Runtime

    runtime = Runtime.create(settings)
    try:
        if action == "list":
            with runtime.sessions.begin() as session:
                subscribers = list_subscribers(session)
                for s in subscribers:
                    scope = ",".join(s.component_keys) or "all"
                    extra = (
                        f"  {s.consecutive_failures} failing: {s.last_error}"
                        if (s.consecutive_failures)
                        else ""
                    )
                    if s.disabled_reason:
                        extra += f"  ({s.disabled_reason})"
                    print(
                        f"{s.id}\t{s.public_id}\t{s.kind}\t{state(s)}\t{scope}\t{s.address}{extra}"
                    )
                print(f"{len(subscribers)} subscriber(s).")
            return 0
        if action == "remove":
            if not target:
                print("flare subscribers remove: give a subscriber number, id or address.")
                return 2
            with runtime.sessions.begin() as session:
                removed = remove(session, target)
                if removed is None:
                    print(f"No subscriber matches {target!r}.")
                    return 1
                print(f"Removed {describe(removed, mask=False)}.")
            return 0
        print(f"flare subscribers: unknown action {action!r} (list, remove).")
        return 2
    finally:
        runtime.close()
