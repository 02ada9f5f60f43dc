"""Mail and webhook drains hold their leases from the claim, renew a doubtful row before
giving it up, and give a row another worker took back without counting an attempt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot import outbox, subscribers
from bot.db.models import OutboxMessage
from bot.runtime import Runtime
from bot.subscribers import deliveries, fanout
from bot.subscribers.senders import LOST, Delivery, DeliveryResult, Held
from tests.conftest import Clock, with_settings

SLOW_RENDERING = deliveries.LEASE.total_seconds() + 1  # longer than the lease


def _webhook_row(clock: Clock, db_runtime: Runtime) -> Runtime:
    rt = with_settings(db_runtime, webhook_allow_private=True, secret_key="test-secret")
    with rt.sessions.begin() as session:
        subscribers.subscribe(
            session, rt.settings, now=rt.now(), webhook_url="http://127.0.0.1:9/hook"
        )
    deliveries.expand_fanouts(rt)
    return rt


def _rows(rt: Runtime) -> list[OutboxMessage]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind.in_(fanout.WEBHOOK_KINDS))
            )
        )


def _slow_prepare(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    real = deliveries._prepare

    def prepare(*args: Any) -> list[Delivery]:
        prepared = real(*args)
        clock.advance(seconds=SLOW_RENDERING)  # rendering took longer than the lease
        return prepared

    monkeypatch.setattr(deliveries, "_prepare", prepare)


def test_deliveries_lease_lapsed_while_rendering_and_taken_is_not_sent(
    runtime: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    rt = _webhook_row(clock, runtime)
    _slow_prepare(monkeypatch, clock)
    answers: list[bool] = []

    def send(batch: list[Delivery], held: Held) -> list[DeliveryResult]:
        with rt.sessions.begin() as session:  # another worker claims the lapsed rows
            outbox.claim(
                session,
                now=rt.now(),
                kinds=fanout.WEBHOOK_KINDS,
                limit=10,
                lease=deliveries.LEASE,
                worker="other",
            )
        answers.extend(held(d.message_id) for d in batch)
        return [LOST for _ in batch]

    deliveries._send_batch(rt, fanout.WEBHOOK_KINDS, 10, send)
    assert answers == [False]  # the lease ran from the claim, and the row was taken
    [row] = _rows(rt)
    assert (row.claimed_by, row.attempts, row.sent_at) == ("other", 0, None)


def test_deliveries_lease_lapsed_but_not_taken_is_renewed_and_sent(
    runtime: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    rt = _webhook_row(clock, runtime)
    _slow_prepare(monkeypatch, clock)
    answers: list[bool] = []

    def send(batch: list[Delivery], held: Held) -> list[DeliveryResult]:
        answers.extend(held(d.message_id) for d in batch)
        return [DeliveryResult(ok=True) for _ in batch]

    deliveries._send_batch(rt, fanout.WEBHOOK_KINDS, 10, send)
    assert answers == [True]  # renewed on its own before being given up
    [row] = _rows(rt)
    assert row.sent_at is not None


def test_deliveries_lost_row_is_given_back_without_counting_an_attempt(
    runtime: Runtime, clock: Clock
):
    rt = _webhook_row(clock, runtime)

    def send(batch: list[Delivery], held: Held) -> list[DeliveryResult]:
        return [LOST for _ in batch]

    deliveries._send_batch(rt, fanout.WEBHOOK_KINDS, 10, send)
    [row] = _rows(rt)
    assert (row.attempts, row.claimed_until, row.sent_at, row.dead) == (0, None, None, False)
