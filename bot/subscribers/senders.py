"""The subscriber senders: SMTP and webhooks, each row isolated from the others.

A sender gets the rendered rows of one batch and answers one outcome per row, in order. Any
exception while sending one row is that row's failure (recorded, retried with backoff); the
others are sent regardless. Every call has a total deadline: MAIL_DEADLINE seconds for an
SMTP batch, a webhook's deadline from DNS to the last byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from bot.subscribers.smtp import Mailer, MailResult
from bot.subscribers.webhooks import Resolver, make_client, post

log = logging.getLogger("flare.deliveries")
WEBHOOK_THREADS = 8
MAIL_DEADLINE = 60.0  # seconds for one SMTP batch, connection included


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
    lost: bool = False  # not sent: the row is no longer ours (given back, no attempt counted)


# message id → this drain still holds the row's lease (LeaseKeeper.secure); asked right before
# each send, so a row another worker took (our lease lapsed) is not sent by us as well.
Held = Callable[[int], bool]
Sender = Callable[[list[Delivery], Held], list[DeliveryResult]]
LOST = DeliveryResult(ok=False, error="not sent: the lease passed to another worker", lost=True)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _mail_outcome(result: MailResult) -> DeliveryResult:
    return DeliveryResult(
        ok=result.ok,
        error=result.error,
        final=result.permanent,
        subscriber_fault=result.recipient_fault,
    )


def mail_sender(mailer: Mailer, *, deadline: float = MAIL_DEADLINE) -> Sender:
    def send(deliveries: list[Delivery], held: Held) -> list[DeliveryResult]:
        rendered = [delivery for delivery in deliveries if delivery.mail is not None]
        messages = [delivery.mail for delivery in rendered if delivery.mail is not None]
        lost: set[int] = set()

        def keep(index: int) -> bool:
            if held(rendered[index].message_id):
                return True
            lost.add(rendered[index].message_id)
            return False

        results = iter(mailer.send(messages, deadline=deadline, keep=keep))
        nothing = DeliveryResult(ok=False, error="no mail rendered for this row")
        outcomes: list[DeliveryResult] = []
        for delivery in deliveries:
            outcome = _mail_outcome(next(results)) if delivery.mail is not None else nothing
            outcomes.append(LOST if delivery.message_id in lost else outcome)
        return outcomes

    return send


def webhook_sender(
    clock: Callable[[], datetime], allow_private: bool, resolve: Resolver, deadline: float
) -> Sender:
    def send(deliveries: list[Delivery], held: Held) -> list[DeliveryResult]:
        timestamp = int(clock().timestamp())
        with make_client() as client, ThreadPoolExecutor(WEBHOOK_THREADS) as pool:

            def one(delivery: Delivery) -> DeliveryResult:
                if not held(delivery.message_id):
                    return LOST
                try:
                    result = post(
                        client,
                        delivery.url,
                        delivery.body,
                        secret=delivery.secret,
                        timestamp=timestamp,
                        allow_private=allow_private,
                        resolve=resolve,
                        deadline=deadline,
                    )
                except Exception as error:  # this row fails alone; the others go out
                    log.exception("webhook for outbox %s raised", delivery.message_id)
                    return DeliveryResult(ok=False, error=f"not sent: {describe(error)}")
                return DeliveryResult(
                    ok=result.ok, error=result.error, subscriber_fault=True, gone=result.gone
                )

            return list(pool.map(one, deliveries))

    return send
