"""The subscriber drain: expand fan-outs, then send mail and webhooks from the outbox.

Three short transactions per batch, and no outside call inside any of them: (1) claim rows
with a lease and render what each one sends, (2) send — SMTP over one throttled connection,
webhooks in a small thread pool — and (3) mark each row sent, or failed with backoff. A
lease means two workers never send the same row; the unique delivery key means the same
update never reaches a subscriber twice. It runs as its own scheduler delivery, so a slow mail
server delays nothing else (Slack, the page).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session

from bot import outbox
from bot.db.models import OutboxMessage, Subscriber
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers import fanout, health, subscribe, tokens
from bot.subscribers.mail import confirmation_mail, update_mail
from bot.subscribers.notices import Notice, page_indicator
from bot.subscribers.payloads import webhook_confirmation, webhook_payload
from bot.subscribers.smtp import Mailer, MailResult, SmtpConfig, Throttle
from bot.subscribers.webhooks import Resolver, make_client, post, system_resolver

log = logging.getLogger("flare.deliveries")
MAIL_BATCH = 50
WEBHOOK_BATCH = 16
WEBHOOK_THREADS = 8
FANOUT_BATCH = 5
LEASE = timedelta(minutes=3)
MAX_ATTEMPTS = 15
_THROTTLE = Throttle()  # per process, across drains: the mail server sees a steady rate


@dataclass
class Delivery:
    message_id: int
    attempts: int
    subscriber_id: int
    mail: EmailMessage | None = None
    url: str = ""
    body: bytes = b""
    secret: bytes = b""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str | None = None
    final: bool = False  # do not retry this row
    subscriber_fault: bool = False  # counts towards disabling the subscriber
    gone: bool = False  # the receiver asked to be unsubscribed (HTTP 410)


Sender = Callable[[list[Delivery]], list[DeliveryResult]]


def drain(
    runtime: Runtime,
    *,
    mailer: Mailer | None = None,
    resolve: Resolver = system_resolver,
) -> int:
    """One pass: fan-outs expanded, then a batch of mail and of webhooks. Returns rows done."""
    done = expand_fanouts(runtime)
    settings = runtime.settings
    if settings.smtp_url:
        mailer = mailer or Mailer(SmtpConfig.from_url(settings.smtp_url), throttle=_THROTTLE)
        done += _send_batch(runtime, fanout.MAIL_KINDS, MAIL_BATCH, _mail_sender(mailer))
    done += _send_batch(
        runtime, fanout.WEBHOOK_KINDS, WEBHOOK_BATCH, _webhook_sender(runtime, resolve)
    )
    return done


def expand_fanouts(runtime: Runtime) -> int:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        messages = outbox.claim(session, now=now, kinds=[fanout.FANOUT], limit=FANOUT_BATCH)
        for message in messages:
            addressed = fanout.expand(session, runtime.settings, message, now)
            outbox.mark_sent(session, message.id, now=now)
            log.info("fan-out %s: %d subscribers", message.key, addressed)
    return len(messages)


def _send_batch(runtime: Runtime, kinds: tuple[str, ...], limit: int, send: Sender) -> int:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        messages = outbox.claim(session, now=now, kinds=kinds, limit=limit, lease=LEASE)
        if not messages:
            return 0
        deliveries = _prepare(runtime, session, messages, now)
    outcomes = send(deliveries) if deliveries else []
    now = runtime.now()
    with runtime.sessions.begin() as session:
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            _record(session, delivery, outcome, now)
    return len(messages)


def _prepare(
    runtime: Runtime, session: Session, messages: list[OutboxMessage], now: datetime
) -> list[Delivery]:
    """Render each claimed row; rows with nothing left to send are marked done now."""
    settings = runtime.settings
    key = tokens.secret_key(session, settings)
    notices: dict[str, Notice | None] = {}
    indicator: tuple[str, str] | None = None
    deliveries: list[Delivery] = []
    for message in messages:
        subscriber = session.get(Subscriber, int(message.payload.get("subscriber_id", 0)))
        update = message.kind in fanout.UPDATE_KINDS
        if subscriber is None or (
            update and (subscriber.confirmed_at is None or subscriber.disabled_at is not None)
        ):
            outbox.mark_sent(session, message.id, now=now)  # unsubscribed or disabled since
            continue
        delivery = Delivery(message.id, message.attempts, subscriber.id)
        unsubscribe = subscribe.unsubscribe_url(settings, key, subscriber, now)
        components = list(message.payload.get("components") or [])
        if message.kind == kinds.MAIL_CONFIRM:
            delivery.mail = confirmation_mail(
                settings,
                to=subscriber.address,
                confirm_url=subscribe.confirm_url(settings, key, subscriber, components, now),
                scope=components,
                now=now,
            )
        elif message.kind == kinds.WEBHOOK_CONFIRM:
            secret = subscribe.signing_secret(key, subscriber)
            delivery.url, delivery.secret = subscriber.address, secret.encode()
            delivery.body = webhook_confirmation(
                settings,
                confirm_url=subscribe.confirm_url(settings, key, subscriber, components, now),
                unsubscribe_url=unsubscribe,
                signing_secret=secret,
                components=components,
                now=now,
            )
        else:
            cache_key = message.key.split(":", 2)[-1]  # deliver:<subscriber>:<notice key>
            if cache_key not in notices:
                notices[cache_key] = fanout.load_notice(session, settings, message.payload)
            notice = notices[cache_key]
            if notice is None:  # made internal, or gone, since it was published
                outbox.mark_sent(session, message.id, now=now)
                continue
            if message.kind == kinds.MAIL_UPDATE:
                delivery.mail = update_mail(
                    notice,
                    settings,
                    to=subscriber.address,
                    unsubscribe_url=unsubscribe,
                    scope=list(subscriber.component_keys),
                    now=now,
                )
            else:
                indicator = indicator or page_indicator(session)
                delivery.url = subscriber.address
                delivery.secret = subscribe.signing_secret(key, subscriber).encode()
                delivery.body = webhook_payload(
                    notice, settings, indicator=indicator, unsubscribe_url=unsubscribe, now=now
                )
        deliveries.append(delivery)
    return deliveries


def _record(session: Session, delivery: Delivery, outcome: DeliveryResult, now: datetime) -> None:
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    if outcome.ok:
        outbox.mark_sent(session, delivery.message_id, now=now)
        if subscriber is not None:
            health.record_success(session, subscriber, now)
        return
    error = outcome.error or "failed"
    if outcome.gone:
        outbox.mark_sent(session, delivery.message_id, now=now)
        if subscriber is not None:
            session.delete(subscriber)
            log.info("subscriber %s answered 410 Gone: removed", delivery.subscriber_id)
        return
    give_up = outcome.final or delivery.attempts + 1 >= MAX_ATTEMPTS
    outbox.mark_failed(session, delivery.message_id, now=now, error=error, give_up=give_up)
    if subscriber is None:
        return
    if outcome.subscriber_fault and outcome.final:
        health.disable(session, subscriber, f"bounced: {error}", now)
        log.warning("subscriber %s disabled: %s", subscriber.id, error)
    elif outcome.subscriber_fault and health.record_failure(session, subscriber, error, now):
        log.warning("subscriber %s disabled after repeated failures: %s", subscriber.id, error)


# --- senders -------------------------------------------------------------------------------


def _mail_outcome(result: MailResult) -> DeliveryResult:
    return DeliveryResult(
        ok=result.ok,
        error=result.error,
        final=result.permanent,
        subscriber_fault=result.recipient_fault,
    )


def _mail_sender(mailer: Mailer) -> Sender:
    def send(deliveries: list[Delivery]) -> list[DeliveryResult]:
        messages = [delivery.mail for delivery in deliveries if delivery.mail is not None]
        assert len(messages) == len(deliveries)
        return [_mail_outcome(r) for r in mailer.send(messages)]

    return send


def _webhook_sender(runtime: Runtime, resolve: Resolver) -> Sender:
    allow_private = runtime.settings.webhook_allow_private

    def send(deliveries: list[Delivery]) -> list[DeliveryResult]:
        timestamp = int(runtime.now().timestamp())
        with make_client() as client, ThreadPoolExecutor(WEBHOOK_THREADS) as pool:

            def one(delivery: Delivery) -> DeliveryResult:
                result = post(
                    client,
                    delivery.url,
                    delivery.body,
                    secret=delivery.secret,
                    timestamp=timestamp,
                    allow_private=allow_private,
                    resolve=resolve,
                )
                return DeliveryResult(
                    ok=result.ok, error=result.error, subscriber_fault=True, gone=result.gone
                )

            return list(pool.map(one, deliveries))

    return send
