"""The subscriber drain: expand fan-outs, then send mail and webhooks from the outbox.

Three short transactions per batch, and no outside call inside any of them: (1) claim rows
with a lease and render what each one sends, (2) send — SMTP over one throttled connection,
webhooks in a small thread pool — and (3) mark each row sent, or failed with backoff. A
lease means two workers never send the same row, and a `LeaseKeeper` renews it while the
sends are in flight; the unique delivery key means the same update never reaches a
subscriber twice. It runs as its own scheduler job, so a slow mail server delays nothing
else (Slack, the page).

One bad row never jams the queue: rendering, sending and recording are isolated per row, so
any exception fails that row alone (error recorded, retried with backoff) and the rest go
out once. Every outbound call has a total deadline: a webhook DEADLINE seconds from DNS to
the last byte, an SMTP batch MAIL_DEADLINE seconds, whatever the other end trickles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db.models import OutboxMessage, Subscriber
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers import fanout, health, subscribe, tokens
from bot.subscribers.mail import confirmation_mail, update_mail
from bot.subscribers.notices import Notice, page_indicator
from bot.subscribers.payloads import webhook_confirmation, webhook_payload
from bot.subscribers.senders import (
    Delivery,
    DeliveryResult,
    Held,
    Sender,
    describe,
    mail_sender,
    webhook_sender,
)
from bot.subscribers.smtp import Mailer, SmtpConfig, Throttle
from bot.subscribers.webhooks import DEADLINE, Resolver, system_resolver

log = logging.getLogger("flare.deliveries")
MAIL_BATCH = 50
WEBHOOK_BATCH = 16
FANOUT_BATCH = 5
FANOUT_CHUNKS = 20  # chunks of one fan-out per pass; a longer list goes on next pass
LEASE = outbox.LEASE  # short: renewed by a LeaseKeeper while a batch is in flight
FANOUT_LEASE = outbox.LEASE
MAX_ATTEMPTS = 15
_THROTTLE = Throttle()  # per process, across drains: the mail server sees a steady rate


def drain(
    runtime: Runtime,
    *,
    mailer: Mailer | None = None,
    resolve: Resolver = system_resolver,
    webhook_deadline: float = DEADLINE,
) -> int:
    """One pass: fan-outs expanded, then a batch of mail and of webhooks. Returns rows done."""
    done = expand_fanouts(runtime)
    settings = runtime.settings
    if settings.smtp_url:
        mailer = mailer or Mailer(SmtpConfig.from_url(settings.smtp_url), throttle=_THROTTLE)
        done += _send_batch(runtime, fanout.MAIL_KINDS, MAIL_BATCH, mail_sender(mailer))
    webhooks = webhook_sender(
        runtime.now, runtime.settings.webhook_allow_private, resolve, webhook_deadline
    )
    done += _send_batch(runtime, fanout.WEBHOOK_KINDS, WEBHOOK_BATCH, webhooks)
    return done


# --- fan-outs ------------------------------------------------------------------------------


def expand_fanouts(runtime: Runtime, *, chunk: int = fanout.CHUNK) -> int:
    """Expand claimed fan-out rows, each in committed chunks; a row that raises fails alone."""
    worker = outbox.worker_id()
    now = runtime.now()
    with runtime.sessions.begin() as session:
        claimed = [
            m.id
            for m in outbox.claim(
                session,
                now=now,
                kinds=[fanout.FANOUT],
                limit=FANOUT_BATCH,
                lease=FANOUT_LEASE,
                worker=worker,
            )
        ]
    keeper = outbox.LeaseKeeper(
        runtime.sessions,
        claimed,
        worker=worker,
        lease=FANOUT_LEASE,
        clock=runtime.now,
        since=now,  # the leases run from the claim, not from here
    )
    with keeper:
        for message_id in claimed:
            try:
                _expand_one(runtime, message_id, worker, chunk)
            except Exception as error:
                log.exception("fan-out row %s failed", message_id)
                _fail_row(runtime, message_id, worker, f"fan-out: {describe(error)}")
    return len(claimed)


def _expand_one(runtime: Runtime, message_id: int, worker: str, chunk: int) -> None:
    addressed = 0
    for _ in range(FANOUT_CHUNKS):
        now = runtime.now()
        with runtime.sessions.begin() as session:
            message = session.get(OutboxMessage, message_id, populate_existing=True)
            if message is None or message.sent_at is not None or message.claimed_by != worker:
                return  # our lease lapsed and another worker has it
            count, finished = fanout.expand(session, runtime.settings, message, now, limit=chunk)
            addressed += count
            if finished:
                outbox.mark_sent(session, message_id, now=now, worker=worker)
                log.info("fan-out %s: %d subscribers", message.key, addressed)
                return
    with runtime.sessions.begin() as session:  # more next pass, from the saved progress
        outbox.release(session, message_id, worker=worker)


def _fail_row(runtime: Runtime, message_id: int, worker: str, error: str) -> None:
    with runtime.sessions.begin() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        give_up = message.attempts + 1 >= MAX_ATTEMPTS
        outbox.mark_failed(
            session, message_id, now=runtime.now(), worker=worker, error=error, give_up=give_up
        )


# --- deliveries ----------------------------------------------------------------------------


def _send_batch(runtime: Runtime, kinds: tuple[str, ...], limit: int, send: Sender) -> int:
    worker = outbox.worker_id()
    now = runtime.now()
    with runtime.sessions.begin() as session:
        messages = outbox.claim(
            session, now=now, kinds=kinds, limit=limit, lease=LEASE, worker=worker
        )
        if not messages:
            return 0
        deliveries = _prepare(runtime, session, messages, now, worker)
    ids = [delivery.message_id for delivery in deliveries]
    keeper = outbox.LeaseKeeper(
        runtime.sessions,
        ids,
        worker=worker,
        lease=LEASE,
        clock=runtime.now,
        since=now,  # the leases run from the claim, before rendering (which takes a while)
    )
    # The sender asks keeper.secure(id) before each send: a row not surely held is renewed
    # once on its own; only a row another worker took is skipped (given back, uncounted).
    with keeper:
        outcomes = _send_isolated(send, deliveries, keeper.secure)
    now = runtime.now()
    with runtime.sessions.begin() as session:
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            _record_isolated(session, delivery, outcome, now, worker)
    return len(messages)


def _send_isolated(send: Sender, deliveries: list[Delivery], held: Held) -> list[DeliveryResult]:
    """The sender isolates rows itself; should it fail as a whole, every row fails."""
    if not deliveries:
        return []
    try:
        outcomes = send(deliveries, held)
    except Exception as error:
        log.exception("subscriber sender failed")
        return [DeliveryResult(ok=False, error=f"not sent: {describe(error)}")] * len(deliveries)
    if len(outcomes) != len(deliveries):
        log.error("sender answered %d outcomes for %d rows", len(outcomes), len(deliveries))
        missing = DeliveryResult(ok=False, error="no outcome from the sender")
        outcomes = (list(outcomes) + [missing] * len(deliveries))[: len(deliveries)]
    return outcomes


@dataclass
class _Rendering:
    """What rendering a batch shares: the key, each notice once, the page indicator."""

    settings: Settings
    key: bytes
    notices: dict[str, Notice | None] = field(default_factory=dict)
    indicator: tuple[str, str] | None = None


def _prepare(
    runtime: Runtime, session: Session, messages: list[OutboxMessage], now: datetime, worker: str
) -> list[Delivery]:
    """Render each claimed row, each in a savepoint: a row that raises is marked failed
    (error recorded, backoff) and the others are sent. Rows with nothing left to send are
    marked done now."""
    shared = _Rendering(runtime.settings, tokens.secret_key(session, runtime.settings))
    deliveries: list[Delivery] = []
    for message in messages:
        message_id, attempts = message.id, message.attempts
        try:
            with session.begin_nested():
                delivery = _prepare_one(session, shared, message, now, worker)
        except Exception as error:
            log.exception("outbox %s could not be rendered", message_id)
            outbox.mark_failed(
                session,
                message_id,
                now=now,
                worker=worker,
                error=f"not rendered: {describe(error)}",
                give_up=attempts + 1 >= MAX_ATTEMPTS,
            )
            continue
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries


def _prepare_one(
    session: Session, shared: _Rendering, message: OutboxMessage, now: datetime, worker: str
) -> Delivery | None:
    settings, key = shared.settings, shared.key
    subscriber = session.get(Subscriber, int(message.payload.get("subscriber_id", 0)))
    update = message.kind in fanout.UPDATE_KINDS
    if subscriber is None or (
        update and (subscriber.confirmed_at is None or subscriber.disabled_at is not None)
    ):
        outbox.mark_sent(
            session, message.id, now=now, worker=worker
        )  # unsubscribed or disabled since
        return None
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
        return delivery
    if message.kind == kinds.WEBHOOK_CONFIRM:
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
        return delivery
    cache_key = message.key.split(":", 2)[-1]  # deliver:<subscriber>:<notice key>
    if cache_key not in shared.notices:
        shared.notices[cache_key] = fanout.load_notice(session, settings, message.payload)
    notice = shared.notices[cache_key]
    if notice is None:  # made internal, or gone, since it was published
        outbox.mark_sent(session, message.id, now=now, worker=worker)
        return None
    if message.kind == kinds.MAIL_UPDATE:
        delivery.mail = update_mail(
            notice,
            settings,
            to=subscriber.address,
            unsubscribe_url=unsubscribe,
            scope=list(subscriber.component_keys),
            now=now,
        )
        return delivery
    shared.indicator = shared.indicator or page_indicator(session)
    delivery.url = subscriber.address
    delivery.secret = subscribe.signing_secret(key, subscriber).encode()
    delivery.body = webhook_payload(
        notice, settings, indicator=shared.indicator, unsubscribe_url=unsubscribe, now=now
    )
    return delivery


def _record_isolated(
    session: Session, delivery: Delivery, outcome: DeliveryResult, now: datetime, worker: str
) -> None:
    """Record one outcome in a savepoint; if that raises, at least mark the row sent or
    failed, so a delivered row is never left claimed to be sent again after its lease."""
    try:
        with session.begin_nested():
            _record(session, delivery, outcome, now, worker)
        return
    except Exception:
        log.exception("outcome of outbox %s not recorded in full", delivery.message_id)
    try:
        with session.begin_nested():
            if outcome.lost:
                outbox.release(session, delivery.message_id, worker=worker)
            elif outcome.ok or outcome.gone:
                outbox.mark_sent(session, delivery.message_id, now=now, worker=worker)
            else:
                error = outcome.error or "failed"
                outbox.mark_failed(
                    session, delivery.message_id, now=now, worker=worker, error=error
                )
    except Exception:
        log.exception("outbox %s left claimed until its lease ends", delivery.message_id)


def _record(
    session: Session, delivery: Delivery, outcome: DeliveryResult, now: datetime, worker: str
) -> None:
    """The outcome counts only while we hold the row: if another worker took it (our lease
    lapsed), its own outcome is the one recorded, and the subscriber's health is left alone."""
    if outcome.lost:  # not sent by us: given back, no attempt counted
        outbox.release(session, delivery.message_id, worker=worker)
        return
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    if outcome.ok:
        if not outbox.mark_sent(session, delivery.message_id, now=now, worker=worker):
            return
        if subscriber is not None:
            health.record_success(session, subscriber, now)
        return
    error = outcome.error or "failed"
    if outcome.gone:
        if not outbox.mark_sent(session, delivery.message_id, now=now, worker=worker):
            return
        if subscriber is not None:
            session.delete(subscriber)
            log.info("subscriber %s answered 410 Gone: removed", delivery.subscriber_id)
        return
    give_up = outcome.final or delivery.attempts + 1 >= MAX_ATTEMPTS
    if not outbox.mark_failed(
        session, delivery.message_id, now=now, worker=worker, error=error, give_up=give_up
    ):
        return
    if subscriber is None:
        return
    if outcome.subscriber_fault and outcome.final:
        health.disable(session, subscriber, f"bounced: {error}", now)
        log.warning("subscriber %s disabled: %s", subscriber.id, error)
    elif outcome.subscriber_fault and health.record_failure(session, subscriber, error, now):
        log.warning("subscriber %s disabled after repeated failures: %s", subscriber.id, error)
