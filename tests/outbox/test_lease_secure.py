"""`LeaseKeeper.secure`: a row whose renewal round is merely late is renewed on its own, a
row another worker took is not ours; `release(note=…)` gives a row back uncounted."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
from bot.db.models import OutboxMessage
from bot.outbox import kinds
from bot.runtime import Runtime
from tests.conftest import Clock

LEASE = timedelta(seconds=10)


def _claimed(runtime: Runtime, clock: Clock, worker: str) -> int:
    with runtime.sessions.begin() as session:
        outbox.enqueue(
            session, key="t:1", kind=kinds.SLACK_CHANNEL_TEXT, now=clock(), payload={"text": "x"}
        )
    with runtime.sessions.begin() as session:
        [row] = outbox.claim(
            session,
            now=clock(),
            kinds=[kinds.SLACK_CHANNEL_TEXT],
            limit=1,
            lease=LEASE,
            worker=worker,
        )
        return row.id


def test_secure_renews_a_row_whose_lease_ran_late_from_the_claim(runtime: Runtime, clock: Clock):
    claimed_at = clock()
    message_id = _claimed(runtime, clock, "me")
    clock.advance(seconds=11)  # the lease lapsed (counted from the claim); nobody took it
    keeper = outbox.LeaseKeeper(
        runtime.sessions, [message_id], worker="me", lease=LEASE, clock=clock, since=claimed_at
    )
    assert not keeper.holds(message_id)
    assert keeper.secure(message_id)
    with runtime.sessions() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.claimed_until is not None
        assert row.claimed_until.replace(tzinfo=None) > clock().replace(tzinfo=None)


def test_secure_refuses_a_row_another_worker_took(runtime: Runtime, clock: Clock):
    claimed_at = clock()
    message_id = _claimed(runtime, clock, "me")
    clock.advance(seconds=11)
    with runtime.sessions.begin() as session:
        outbox.claim(
            session,
            now=clock(),
            kinds=[kinds.SLACK_CHANNEL_TEXT],
            limit=1,
            lease=LEASE,
            worker="other",
        )
    keeper = outbox.LeaseKeeper(
        runtime.sessions, [message_id], worker="me", lease=LEASE, clock=clock, since=claimed_at
    )
    assert not keeper.secure(message_id)
    assert message_id in keeper.lost


def test_release_with_a_note_keeps_it_and_counts_no_attempt(runtime: Runtime, clock: Clock):
    message_id = _claimed(runtime, clock, "me")
    with runtime.sessions.begin() as session:
        outbox.release(session, message_id, worker="me", note="ambiguous:unrecorded")
    with runtime.sessions() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        assert (row.attempts, row.last_error, row.claimed_until) == (
            0,
            "ambiguous:unrecorded",
            None,
        )
