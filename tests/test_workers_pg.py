"""Real `flare worker` processes on PostgreSQL: no duplicate reminders, nothing lost
(docs/operations.md).

These tests start the console script as subprocesses against a fake Slack on 127.0.0.1 and
the shared PostgreSQL. Workers read the wall clock, so incidents are written straight into
the database with a `reminder_due` a few seconds ahead: every reminder falls due at once.
Waiting here is for other processes to finish work, never a timing assertion.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from bot.db.engine import make_engine, make_session_factory
from bot.db.models import KeyValue, OutboxMessage
from bot.db.state import HEARTBEAT_KEY, get_state
from bot.incidents import reminders
from tests.conftest import _truncate_pg
from tests.support.db import seed_due_incidents
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow

FLARE = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "flare"
CHANNEL = "C0INCIDENT"
COMMANDER = "U0COMMAND"
LEAD = timedelta(minutes=5)  # FLARE_REMINDER_LEAD: the window in which a reminder is valid


@pytest.fixture
def pg(pg_url: str) -> str:
    _truncate_pg(pg_url)
    return pg_url


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


class Workers:
    """`flare worker` subprocesses, each with its log file, all stopped at the end."""

    def __init__(self, pg_url: str, fake: FakeSlack, logs: Path) -> None:
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLARE_", "SLACK_", "DATABASE_URL", "PORT"))
        }
        self.env.update(
            DATABASE_URL=pg_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="test-secret",
            SLACK_API_URL=fake.url,
            FLARE_INCIDENTS_CHANNEL=CHANNEL,
            FLARE_TICK="1s",
            FLARE_REMINDER_LEAD=f"{int(LEAD.total_seconds())}s",
        )
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(FLARE), "worker"], env=self.env, cwd=self.logs, stdout=log, stderr=log
        )
        log.close()
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def output(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture
def workers(pg: str, fake: FakeSlack, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(pg, fake, tmp_path)
    yield group
    group.stop_all()


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, workers: Workers
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{workers.output()}")
        time.sleep(0.1)


def owners(count: int) -> list[str]:
    return [f"U{n:08d}" for n in range(1, count + 1)]


def seed(pg_url: str, users: list[str], due_in: timedelta) -> None:
    """Open incidents whose reminders all fall due `due_in - LEAD` from now, together."""
    engine = make_engine(pg_url)
    try:
        seed_due_incidents(
            engine,
            users,
            reminder_due=datetime.now(UTC) + due_in,
            commander=COMMANDER,
            channel=CHANNEL,
        )
    finally:
        engine.dispose()


def sweeps_done(pg_url: str) -> int:
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            return int(
                session.scalar(select(KeyValue.number).where(KeyValue.key == HEARTBEAT_KEY)) or 0
            )
    finally:
        engine.dispose()


def reminder_rows(pg_url: str) -> list[tuple[str, bool]]:
    """(recipient, sent) for every queued reminder."""
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(OutboxMessage.payload, OutboxMessage.sent_at).where(
                    OutboxMessage.kind == reminders.REMINDER_KIND
                )
            ).all()
            return [(str(payload["recipient"]), sent is not None) for payload, sent in rows]
    finally:
        engine.dispose()


def unsent(pg_url: str) -> int:
    engine = make_engine(pg_url)
    try:
        with make_session_factory(engine)() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False)
                    )
                )
                or 0
            )
    finally:
        engine.dispose()


def dms(fake: FakeSlack) -> Counter[str]:
    """How many messages each user received in their DM with the app."""
    state = fake.messages
    return Counter(
        {
            channel[1:]: len([m for m in messages if not m.deleted])
            for channel, messages in list(state.items())
            if channel.startswith("D")
        }
    )


def test_workers_three_processes_send_each_of_200_due_reminders_exactly_once(
    pg: str, fake: FakeSlack, workers: Workers
):
    for name in ("a", "b", "c"):
        workers.start(name)
    wait_until(lambda: sweeps_done(pg) >= 3, timeout=60, what="first sweeps", workers=workers)
    users = owners(200)
    seed(pg, users, due_in=LEAD + timedelta(seconds=2))  # all due two seconds from now

    wait_until(lambda: sum(dms(fake).values()) >= 200, timeout=60, what="200 DMs", workers=workers)
    wait_until(lambda: unsent(pg) == 0, timeout=60, what="an empty outbox", workers=workers)
    settled = sweeps_done(pg)
    # Three more sweeps by anyone, and every drain since, must add nothing.
    wait_until(lambda: sweeps_done(pg) >= settled + 3, timeout=30, what="sweeps", workers=workers)
    wait_until(lambda: unsent(pg) == 0, timeout=30, what="an empty outbox", workers=workers)

    received = dms(fake)
    assert received == Counter(dict.fromkeys(users, 1)), workers.output()
    rows = reminder_rows(pg)
    assert sorted(r for r, _ in rows) == users and all(sent for _, sent in rows)
    assert all(process.poll() is None for process in workers.running), workers.output()


def waiting_on_heartbeat(pg_url: str) -> int:
    """Backends of this database blocked on a lock while updating the heartbeat row."""
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE state %'"
        ).fetchone()
        return int(row[0]) if row else 0


def test_workers_killed_mid_sweep_and_mid_drain_lose_and_double_nothing(
    pg: str, fake: FakeSlack, workers: Workers
):
    users = owners(200)
    seed(pg, users, due_in=LEAD - timedelta(seconds=1))  # every reminder is due already

    # 1. Killed mid-sweep: the test holds the heartbeat row, the sweep's last write, so the
    # worker's sweep stops there with all 200 reminders inserted but not committed.
    engine = make_engine(pg)
    try:
        with make_session_factory(engine).begin() as session:
            get_state(session, HEARTBEAT_KEY)
        with make_session_factory(engine).begin() as holder:
            holder.execute(select(KeyValue).where(KeyValue.key == HEARTBEAT_KEY).with_for_update())
            swept = workers.start("swept")
            wait_until(
                lambda: waiting_on_heartbeat(pg) == 1,
                timeout=60,
                what="a sweep blocked on the heartbeat",
                workers=workers,
            )
            workers.kill(swept)
    finally:
        engine.dispose()
    assert reminder_rows(pg) == []  # the killed sweep's transaction left nothing behind
    assert dms(fake) == Counter()

    # 2. Killed mid-drain: Slack takes each DM at once but answers slowly, so the kill leaves
    # a send in flight, delivered yet never marked sent. Only such a send may repeat.
    fake.delay("chat.postMessage", 0.3, phase="after")
    draining = workers.start("draining")
    wait_until(lambda: sum(dms(fake).values()) >= 30, timeout=60, what="some DMs", workers=workers)
    workers.kill(draining)
    fake.clear_faults()

    delivered_before = set(dms(fake))
    marked_sent = {user for user, sent in reminder_rows(pg) if sent}
    in_flight = delivered_before - marked_sent
    assert marked_sent <= delivered_before  # marked sent only after Slack answered
    assert 30 <= len(delivered_before) < 200

    # 3. Restarted: everything else goes out; the dead worker's leased rows after the lease.
    workers.start("restarted")
    wait_until(
        lambda: set(dms(fake)) >= set(users), timeout=150, what="all 200 DMs", workers=workers
    )
    wait_until(lambda: unsent(pg) == 0, timeout=60, what="an empty outbox", workers=workers)

    received = dms(fake)
    assert set(received) == set(users), workers.output()  # nothing lost
    repeated = {user for user, count in received.items() if count > 1}
    assert repeated <= in_flight, workers.output()  # only what was in flight when killed
    assert max(received.values()) <= 2
    rows = reminder_rows(pg)
    assert sorted(r for r, _ in rows) == users and all(sent for _, sent in rows)
