"""The outbox: idempotent enqueue, exclusive leases, per-incident order, backoff."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
from bot.runtime import Runtime
from tests.conftest import Clock


def _enqueue(runtime: Runtime, clock: Clock, key: str, ordering: str | None = None) -> bool:
    with runtime.sessions.begin() as session:
        return outbox.enqueue(
            session, key=key, kind="slack.event", now=clock(), ordering_key=ordering
        )


def test_outbox_enqueue_is_idempotent_by_key(runtime: Runtime, clock: Clock):
    assert _enqueue(runtime, clock, "event:1") is True
    assert _enqueue(runtime, clock, "event:1") is False
    with runtime.sessions() as session:
        assert outbox.backlog(session) == 1


def test_outbox_lease_is_exclusive_and_a_lapsed_one_is_not_renewed(runtime: Runtime, clock: Clock):
    _enqueue(runtime, clock, "event:1")
    with runtime.sessions.begin() as session:
        first = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")
        second = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B")
    assert [m.key for m in first] == ["event:1"] and second == []
    clock.advance(seconds=61)  # A was slow: its lease lapsed, B takes the row
    with runtime.sessions.begin() as session:
        taken = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B")
        assert [m.key for m in taken] == ["event:1"]
        assert outbox.renew(session, taken[0].id, now=clock(), worker="A") is False
        assert outbox.renew(session, taken[0].id, now=clock(), worker="B") is True


def test_outbox_same_ordering_key_waits_for_the_older_message(runtime: Runtime, clock: Clock):
    _enqueue(runtime, clock, "event:1", "incident:1")
    _enqueue(runtime, clock, "event:2", "incident:1")
    _enqueue(runtime, clock, "event:3", "incident:2")
    with runtime.sessions.begin() as session:
        claimed = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")
        assert [m.key for m in claimed] == ["event:1", "event:3"]
        outbox.mark_sent(session, claimed[0].id, now=clock(), worker="A")
    with runtime.sessions.begin() as session:
        claimed = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")
    assert [m.key for m in claimed] == ["event:2"]


def test_outbox_retry_after_wins_and_backoff_is_capped(runtime: Runtime, clock: Clock):
    _enqueue(runtime, clock, "event:1")
    with runtime.sessions.begin() as session:
        (message,) = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")
        outbox.mark_failed(
            session,
            message.id,
            now=clock(),
            worker="A",
            error="ratelimited",
            retry_after=timedelta(seconds=7),
        )
    with runtime.sessions.begin() as session:
        assert (
            outbox.claim(session, now=clock() + timedelta(seconds=6), kinds=["slack.event"]) == []
        )
        (message,) = outbox.claim(
            session, now=clock() + timedelta(seconds=7), kinds=["slack.event"], worker="A"
        )
        for _ in range(20):
            outbox.mark_failed(
                session,
                message.id,
                now=clock(),
                worker="A",
                error="boom",
                max_backoff=timedelta(seconds=60),
            )
        session.refresh(message)
        assert message.available_at == clock() + timedelta(seconds=60)
        assert not message.dead and message.attempts == 21


def test_outbox_lease_keeper_renews_rows_in_flight_and_reports_lost_ones(
    runtime: Runtime, clock: Clock
):
    _enqueue(runtime, clock, "event:1")
    _enqueue(runtime, clock, "event:2")
    with runtime.sessions.begin() as session:
        ids = [m.id for m in outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")]
    keeper = outbox.LeaseKeeper(
        runtime.sessions, ids, worker="A", lease=timedelta(seconds=60), clock=clock
    )
    clock.advance(seconds=50)
    keeper.renew_now()  # what its thread does every 20 s while the sends are in flight
    clock.advance(seconds=50)  # past the first lease, within the renewed one
    with runtime.sessions.begin() as session:
        assert outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B") == []
    clock.advance(seconds=11)  # nobody renewed: B takes them, and A learns it lost them
    with runtime.sessions.begin() as session:
        taken = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B")
    assert len(taken) == 2
    keeper.renew_now()
    assert keeper.lost == set(ids)


def test_outbox_lease_keeper_holds_while_confirmed_and_never_re_leases_a_dropped_row(
    runtime: Runtime, clock: Clock
):
    _enqueue(runtime, clock, "event:1")
    _enqueue(runtime, clock, "event:2")
    claimed_at = clock()
    with runtime.sessions.begin() as session:
        ids = [
            m.id for m in outbox.claim(session, now=claimed_at, kinds=["slack.event"], worker="A")
        ]
    keeper = outbox.LeaseKeeper(
        runtime.sessions,
        ids,
        worker="A",
        lease=timedelta(seconds=60),
        clock=clock,
        since=claimed_at,
    )
    assert keeper.holds(ids[0])  # just claimed: a batch sends without renewing each row
    clock.advance(seconds=41)  # two thirds of the lease gone and no round confirmed
    assert not keeper.holds(ids[0])  # the drain renews this row itself before sending
    keeper.drop(ids[1])  # given back (pacing): the keeper must not lease it again
    with runtime.sessions.begin() as session:
        outbox.release(session, ids[1], worker="A")
    keeper.renew_now()
    assert keeper.holds(ids[0])
    with runtime.sessions.begin() as session:
        taken = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B")
    assert [m.id for m in taken] == [ids[1]]  # free at once, not held by a renewal


def test_outbox_lease_keeper_thread_renews_until_the_block_ends(runtime: Runtime, clock: Clock):
    import time

    _enqueue(runtime, clock, "event:1")
    with runtime.sessions.begin() as session:
        [message] = outbox.claim(session, now=clock(), kinds=["slack.event"], worker="A")
    keeper = outbox.LeaseKeeper(
        runtime.sessions,
        [message.id],
        worker="A",
        lease=timedelta(seconds=60),
        clock=clock,
        every=timedelta(milliseconds=20),
    )
    clock.advance(seconds=45)  # a long send: most of the lease is used up
    with keeper:
        deadline = time.monotonic() + 10
        while keeper.renewals == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert keeper.renewals >= 1 and keeper.lost == set()
    clock.advance(seconds=30)  # 75 s after the claim: alive only because it was renewed
    with runtime.sessions.begin() as session:
        assert outbox.claim(session, now=clock(), kinds=["slack.event"], worker="B") == []
