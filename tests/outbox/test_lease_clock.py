"""Leases across hosts: measured by the database's clock, and a lost lease stops the send.

Workers on several hosts share one PostgreSQL but not one clock (NTP off, a VM resumed). A
lease written and tested with each worker's own clock lets a worker whose clock runs ahead
take rows another is still sending, and one whose clock runs behind hand its rows over at
once. On PostgreSQL leases are therefore measured by the database's clock. And a worker that
did lose a row (its renewal came too late) neither sends it nor records an outcome for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import update

from bot import outbox
from bot.config import Settings
from bot.db.models import OutboxMessage, Subscriber
from bot.outbox import kinds
from bot.runtime import Runtime
from bot.subscribers import deliveries, fanout
from bot.subscribers.senders import Delivery, DeliveryResult, Held, webhook_sender
from bot.subscribers.smtp import Mailer, SmtpConfig
from bot.subscribers.webhooks import system_resolver
from tests.conftest import _truncate_pg
from tests.support.mailbox import Receiver, SmtpServer, receiver, smtp

__all__ = ["receiver", "smtp"]  # fixtures


def skewed(url: str, seconds: float) -> Runtime:
    settings = replace(Settings(), database_url=url)
    return Runtime.create(
        settings,
        clock=lambda: datetime.now(UTC) + timedelta(seconds=seconds),
        database_leases=True,  # what a worker on the real clock gets by default
    )


@pytest.fixture
def hosts(pg_url: str) -> Iterator[tuple[Runtime, Runtime, Runtime]]:
    """Three workers on one PostgreSQL: clocks right, a minute ahead, a minute behind."""
    _truncate_pg(pg_url)
    runtimes = (skewed(pg_url, 0), skewed(pg_url, 60), skewed(pg_url, -60))
    yield runtimes
    for runtime in runtimes:
        runtime.close()


def queue_one(runtime: Runtime) -> int:
    now = runtime.now() - timedelta(minutes=5)  # due for every worker, whatever its clock
    with runtime.sessions.begin() as session:
        outbox.enqueue(session, key="event:1", kind="slack.event", now=now)
        [message] = outbox.claim(session, now=runtime.now(), kinds=["slack.event"], worker="A")
        return message.id


def test_a_worker_whose_clock_runs_ahead_takes_no_row_still_leased(hosts):
    right, ahead, _ = hosts
    queue_one(right)  # `right` holds it for 10 s of the database's time
    with ahead.sessions.begin() as session:  # a minute ahead: by its clock the lease is over
        assert outbox.claim(session, now=ahead.now(), kinds=["slack.event"], worker="B") == []


def test_a_worker_whose_clock_runs_behind_keeps_its_rows(hosts):
    right, _, behind = hosts
    message_id = queue_one(right)
    with behind.sessions.begin() as session:  # its renewal is "a minute ago + 10 s" locally
        assert outbox.renew(session, message_id, now=behind.now(), worker="A") is True
    with right.sessions.begin() as session:
        assert outbox.claim(session, now=right.now(), kinds=["slack.event"], worker="B") == []


def test_a_process_on_the_real_clock_measures_leases_by_the_database():
    settings = replace(Settings(), database_url="sqlite://")
    real = Runtime.create(settings)
    moved = Runtime.create(settings, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    try:
        assert real.sessions.kw["info"]["database_leases"] is True
        assert moved.sessions.kw["info"]["database_leases"] is False
    finally:
        real.close()
        moved.close()


# --- a lost lease stops the send --------------------------------------------------------------


def add_webhook_rows(runtime: Runtime, urls: list[str]) -> list[int]:
    now = runtime.now()
    with runtime.sessions.begin() as session:
        subscribers = [Subscriber(kind="webhook", address=url, created_at=now) for url in urls]
        session.add_all(subscribers)
        session.flush()
        for subscriber in subscribers:
            outbox.enqueue(
                session,
                key=f"confirm:{subscriber.id}",
                kind=kinds.WEBHOOK_CONFIRM,
                now=now,
                payload={"subscriber_id": subscriber.id, "components": []},
            )
        return [s.id for s in subscribers]


def test_a_row_taken_over_mid_batch_is_not_sent_nor_recorded_by_the_loser(
    runtime: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    rt = Runtime(
        replace(runtime.settings, webhook_allow_private=True, secret_key="test-secret"),
        runtime.engine,
        runtime.sessions,
        runtime.clock,
    )
    add_webhook_rows(rt, [receiver.url("/kept"), receiver.url("/taken")])
    keepers: list[outbox.LeaseKeeper] = []

    class Watched(outbox.LeaseKeeper):
        def __enter__(self) -> outbox.LeaseKeeper:
            keepers.append(self)
            return super().__enter__()

    monkeypatch.setattr(outbox, "LeaseKeeper", Watched)
    real = webhook_sender(rt.now, True, system_resolver, 5.0)
    taken: list[int] = []

    def slow_then_send(batch: list[Delivery], held: Held) -> list[DeliveryResult]:
        # The batch stalled past its lease; worker B took the second row meanwhile, and the
        # keeper's next renewal finds it gone.
        victim = batch[1].message_id
        with rt.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == victim)
                .values(claimed_until=rt.now() - timedelta(minutes=1))
            )
            [row] = outbox.claim(session, now=rt.now(), kinds=fanout.WEBHOOK_KINDS, worker="B")
            taken.append(row.id)
        keepers[-1].renew_now()
        return real(batch, held)

    assert deliveries._send_batch(rt, fanout.WEBHOOK_KINDS, 16, slow_then_send) == 2
    assert Counter(receiver.paths()) == {"/kept": 1}  # the lost row was not sent by A
    with rt.sessions() as session:
        kept, lost = session.query(OutboxMessage).order_by(OutboxMessage.id).all()
    assert kept.sent_at is not None
    assert lost.id == taken[0]
    # B's claim stands untouched: not marked sent or failed under it by A.
    assert (lost.sent_at, lost.claimed_by, lost.attempts, lost.last_error) == (None, "B", 0, None)
    with rt.sessions.begin() as session:
        assert outbox.mark_sent(session, lost.id, now=rt.now(), worker="A") is False
        assert outbox.mark_failed(session, lost.id, now=rt.now(), worker="A", error="x") is False
        assert outbox.mark_sent(session, lost.id, now=rt.now(), worker="B") is True


def _mail(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "status@example.com", to, "Update"
    message.set_content("hello")
    return message


def test_the_mailer_skips_a_message_whose_lease_was_lost(smtp: SmtpServer):
    mailer = Mailer(SmtpConfig.from_url(smtp.url), timeout=5)
    asked: list[int] = []

    def keep(index: int) -> bool:
        asked.append(index)
        return index != 1

    mails = [_mail("ana@example.com"), _mail("bob@example.com"), _mail("cy@example.com")]
    results = mailer.send(mails, deadline=30, keep=keep)
    assert [r.ok for r in results] == [True, False, True]
    assert asked == [0, 1, 2]
    assert [m["To"] for m in smtp.mailbox.messages] == ["ana@example.com", "cy@example.com"]
