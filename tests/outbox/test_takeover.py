"""Takeover: a `flare worker` killed with kill -9 in the middle of a drain; another worker
sends the rows it had claimed as soon as their short leases lapse — never before, and
nothing twice but the one send that was in flight.

Real processes on PostgreSQL against the fake Slack. The time it takes is measured by the
bench (docs/benchmarks.md, Takeover); here the waits are bounds for other processes' work.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import outbox
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import OutboxMessage
from bot.incidents import reminders
from tests import test_workers_pg as procs
from tests.support.fakeslack import FakeSlack
from tests.test_workers_pg import LEAD, Workers, dms, owners, seed, unsent, wait_until

pytestmark = pytest.mark.slow
# The worker processes, the fake Slack and a clean PostgreSQL, as tests/test_workers_pg.py has them.
pg, fake, workers = procs.pg, procs.fake, procs.workers


def held(pg_url: str) -> dict[str, tuple[str, datetime]]:
    """recipient → (claimed_by, claimed_until) of every unsent reminder under a live lease."""
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(
                    OutboxMessage.payload, OutboxMessage.claimed_by, OutboxMessage.claimed_until
                ).where(
                    OutboxMessage.kind == reminders.REMINDER_KIND,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.claimed_until > datetime.now(UTC),
                )
            ).all()
            return {str(p["recipient"]): (str(by), until) for p, by, until in rows}
    finally:
        engine.dispose()


def sent_rows(pg_url: str) -> dict[str, tuple[str, datetime]]:
    """recipient → (claimed_by, sent_at) of every sent reminder."""
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(
                    OutboxMessage.payload, OutboxMessage.claimed_by, OutboxMessage.sent_at
                ).where(
                    OutboxMessage.kind == reminders.REMINDER_KIND,
                    OutboxMessage.sent_at.is_not(None),
                )
            ).all()
            return {str(p["recipient"]): (str(by), at) for p, by, at in rows}
    finally:
        engine.dispose()


def test_takeover_a_killed_workers_claimed_rows_are_sent_by_another(
    pg: str, fake: FakeSlack, workers: Workers
) -> None:
    users = owners(12)
    seed(pg, users, due_in=LEAD - timedelta(seconds=1))  # every reminder is due already
    # Slack takes the first DM but does not answer: the worker hangs mid-drain, holding
    # every row of its batch.
    fake.delay("chat.postMessage", 30, times=1, phase="after")
    first = workers.start("first")
    wait_until(lambda: sum(dms(fake).values()) >= 1, timeout=60, what="a DM", workers=workers)
    wait_until(lambda: len(held(pg)) >= 2, timeout=30, what="claimed rows", workers=workers)
    workers.kill(first)
    killed_at = datetime.now(UTC)
    fake.clear_faults()
    taken = held(pg)
    in_flight = set(dms(fake))
    assert len(in_flight) == 1 and in_flight <= set(taken)
    holders = {by for by, _ in taken.values()}
    assert len(holders) == 1
    # Short leases: nothing the dead worker holds stays claimed past LEASE from now.
    assert all(until - killed_at <= outbox.LEASE for _, until in taken.values())

    second = workers.start("second")
    wait_until(lambda: unsent(pg) == 0, timeout=60, what="an empty outbox", workers=workers)
    took = datetime.now(UTC) - killed_at
    print(f"takeover: every claimed row sent {took.total_seconds():.1f} s after the kill")

    received = dms(fake)
    assert set(received) == set(users), workers.output()  # nothing lost
    repeated = {user for user, count in received.items() if count > 1}
    assert repeated <= in_flight and max(received.values()) <= 2  # only the send in flight
    done = sent_rows(pg)
    for user, (_, until) in taken.items():
        by, at = done[user]
        assert by not in holders  # sent by the other worker ...
        assert at >= until  # ... once the dead worker's lease had lapsed, not before
    assert second.poll() is None, workers.output()
    assert Counter(by for by, _ in done.values()).keys().isdisjoint(holders)
