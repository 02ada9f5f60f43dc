"""Takeover: a `flare worker` killed with kill -9 while its drain holds claimed rows (Slack has
taken the first DM but not answered); a second worker, started at the kill, sends them. Time
from the kill to the last of those rows sent, against the lease (10 s) the rows were left
under: the takeover cannot start earlier, and everything after it is the second worker's
drain. PostgreSQL, the fake Slack; three rounds, medians."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench import common
from bench.common import Result, median
from bench.reminders import LEAD, _scalar, seed_due
from bot import outbox
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import OutboxMessage
from tests.support.fakeslack import FakeSlack

TARGET = 15.0
ROWS = 12


def _held(url: str) -> list[datetime]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.claimed_until).where(
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.claimed_until > datetime.now(UTC),
                    )
                )
            )
    finally:
        engine.dispose()


def one_round(cfg: common.Config, n: int) -> tuple[float, float]:
    """(seconds from the kill to every held row sent, seconds the lease still had to run)."""
    with common.pg_database(f"takeover{n}") as url, FakeSlack() as fake:
        directory = cfg.dir(f"takeover-{n}")
        env = common.slack_env(
            fake.url, url, FLARE_TICK="1s", FLARE_REMINDER_LEAD=f"{int(LEAD.total_seconds())}s"
        )
        seed_due(url, ROWS, datetime.now(UTC) - timedelta(seconds=1))
        fake.delay("chat.postMessage", 30, times=1, phase="after")
        first = common.flare_worker(env, directory / "first.log")
        common.wait_until(lambda: len(_held(url)) >= 2, timeout=60, what="claimed rows")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()
        lease_left = max((u - datetime.now(UTC)).total_seconds() for u in _held(url))
        fake.clear_faults()
        second = common.flare_worker(env, directory / "second.log")
        unsent = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False))
        )
        common.wait_until(lambda: _scalar(url, unsent) == 0, timeout=120, what="all sent")
        took = time.monotonic() - killed
        common.stop(second)
    return took, lease_left


def run(cfg: common.Config) -> Result:
    result = Result("Takeover")
    rounds = [one_round(cfg, n) for n in range(1 if cfg.quick else 3)]
    took = median([r[0] for r in rounds])
    left = median([r[1] for r in rounds])
    result.row(
        f"kill -9 mid-drain → its {ROWS} claimed rows sent by another worker",
        f"{took:.1f} s (rounds: {', '.join(f'{r[0]:.1f}' for r in rounds)} s)",
        baseline=f"lease left at the kill: {left:.1f} s (lease {outbox.LEASE.seconds} s)",
        target=f"≤ {TARGET:.0f} s",
        met=took <= TARGET,
    )
    result.notes.append(
        f"{ROWS} reminders due at once; the first worker claims them and hangs on the first "
        "DM (the fake Slack takes it and does not answer), then gets SIGKILL. The second "
        "worker starts at the kill. The lease is 10 s and renewed every ~3 s while a send is "
        "in flight, so a dead worker's rows are free at most 10 s after its last renewal; "
        "the rest is the second worker's start-up and drain."
    )
    return result
