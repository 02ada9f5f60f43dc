"""Subscribing with double opt-in, confirming, unsubscribing, and the signed links in every
mail. Answers never reveal who is subscribed: asking again for an address already on the
list looks exactly like a first request. Services take a session and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import (
    Component,
    Subscriber,
    new_public_id,
)
from bot.errors import FlareError, InvalidInput
from bot.outbox import kinds
from bot.subscribers import ratelimit, tokens
from bot.subscribers.webhooks import (
    Resolver,
    WebhookRefused,
    check_shape,
    check_url,
    system_resolver,
)

EMAIL = "email"
WEBHOOK = "webhook"
CONFIRM_TTL = timedelta(hours=48)
IP_LIMIT = 10  # subscription requests per IP per window
ADDRESS_LIMIT = 3  # confirmation requests per address per window
LIMIT_WINDOW = timedelta(hours=1)
EMAIL_LIMIT = 254
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"\\\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)  # noqa: E501


class RateLimited(FlareError):
    """Too many subscription requests from one address; try again later."""


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
    """Counts one subscription request from `ip`; False once it has made too many.

    `ip` is the direct peer, or what X-Forwarded-For says only when the peer is a trusted
    proxy (FORWARDED_ALLOW_IPS, applied in web.app). Old hits are pruned by the worker's
    retention job, in bounded batches, never here.
    """
    return ratelimit.allow(
        session, f"ip:{ip or 'unknown'}", limit=IP_LIMIT, window=LIMIT_WINDOW, now=now
    )


def _address_bucket(key: bytes, kind: str, address: str) -> str:
    # Hashed with the site key: the table never holds an address in the clear.
    digest = hmac.new(key, f"{kind}:{address}".encode(), hashlib.sha256).hexdigest()
    return f"addr:{digest[:40]}"


def check_webhook(settings: Settings, url: str, *, resolve: Resolver = system_resolver) -> str:
    """The webhook URL, normalized, if Flare may call it; InvalidInput otherwise.

    This resolves the host (unless FLARE_WEBHOOK_ALLOW_PRIVATE): call it before opening a
    transaction, never inside one. The sender checks again before every request.
    """
    try:
        return check_url(url, allow_private=settings.webhook_allow_private, resolve=resolve)
    except WebhookRefused as error:
        raise InvalidInput(str(error)) from error


def subscribe(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    email: str | None = None,
    webhook_url: str | None = None,
    components: Sequence[str] = (),
) -> None:
    """Ask for a subscription: queue a confirmation (mail, or a request to the webhook).

    Raises InvalidInput for input that cannot be a subscription. Otherwise it answers the
    same whether or not the address is known, confirmed, or over its own rate limit. No
    network here (it runs in a transaction): the web route resolves a webhook's host first
    with `check_webhook`; this checks the URL's shape as the sender will parse it.
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
            address = check_shape(webhook_url or "", allow_private=settings.webhook_allow_private)
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
        chosen = list(subject.get("c") or [])
        # Every chosen one removed: keep the choice (they hear of nothing) rather than an
        # empty list, which would mean every component.
        keys = [k for k in chosen if k in _all_keys(session)] or chosen
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
