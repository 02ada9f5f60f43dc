"""Reminders at scale: 500 incidents whose reminders fall due at the same instant, three
`flare worker` processes on PostgreSQL against the fake Slack (no rate limit). Each reminder
DM must arrive exactly once, within 10 s of its due time. Baseline: one worker, same run.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench import common
from bench.common import Result, median, percentile
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import KeyValue, OutboxMessage
from bot.db.state import HEARTBEAT_KEY
from bot.incidents import reminders
from tests.support.db import seed_due_incidents
from tests.support.fakeslack import FakeSlack

LEAD = timedelta(minutes=5)
TARGET_LATE = 10.0
TARGET_P99 = 2.0
WATCHED = [
    "SlackSender.drain",
    "SlackSender._run",
    "Messages._send_reminder",
    "SlackSender.refresh_board",
    "SlackSender._mark_sent",
    "claim",
    "post_message",
    "Waker.__call__",
    "enqueue_due",
    "Connection.execute",
    "Connection.wait",
]
COMMANDER = "U0COMMAND"


def _scalar(url: str, query: object) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def seed_due(url: str, count: int, due_at: datetime) -> list[str]:
    users = [f"U{n:08d}" for n in range(1, count + 1)]
    engine = make_engine(url)
    try:  # the DM goes out LEAD before reminder_due
        seed_due_incidents(
            engine, users, reminder_due=due_at + LEAD, commander=COMMANDER, channel=common.CHANNEL
        )
    finally:
        engine.dispose()
    return users


def one_round(
    cfg: common.Config, workers: int, count: int, *, profile: bool = False
) -> dict[str, object]:
    with common.pg_database(f"rem{workers}") as url, FakeSlack() as fake:
        directory = cfg.dir(f"reminders-{workers}")
        env = common.slack_env(
            fake.url, url, FLARE_TICK="1s", FLARE_REMINDER_LEAD=f"{int(LEAD.total_seconds())}s"
        )
        procs = [common.flare_worker(env, directory / f"worker{n}.log") for n in range(workers)]
        try:
            heartbeat = select(KeyValue.number).where(KeyValue.key == HEARTBEAT_KEY)
            common.wait_until(
                lambda: _scalar(url, heartbeat) >= workers, timeout=60, what="first sweeps"
            )
            due_at = datetime.now(UTC) + timedelta(seconds=3)
            users = seed_due(url, count, due_at)
            wall_minus_mono = time.time() - time.monotonic()
            spy = common.py_spy(procs[0].pid, 8.0) if profile else None

            def dms() -> Counter[str]:
                return Counter(
                    {
                        channel[1:]: len([m for m in messages if not m.deleted])
                        for channel, messages in list(fake.messages.items())
                        if channel.startswith("D")
                    }
                )

            common.wait_until(lambda: sum(dms().values()) >= count, timeout=90, what=f"{count} DMs")
            unsent = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.dead.is_(False))
            )
            common.wait_until(lambda: _scalar(url, unsent) == 0, timeout=60, what="empty outbox")
            settled = _scalar(url, heartbeat)
            # Three more sweeps by anyone, and the drains since, must add nothing.
            common.wait_until(
                lambda: _scalar(url, heartbeat) >= settled + 3, timeout=30, what="more sweeps"
            )
            common.wait_until(lambda: _scalar(url, unsent) == 0, timeout=30, what="empty outbox")
            received = dms()
            posts = [
                c
                for c in fake.calls_to("chat.postMessage")
                if str(c.response.get("channel", "")).startswith("D") and c.status == 200
            ]
            late = sorted(wall_minus_mono + c.ts - due_at.timestamp() for c in posts)
            queued = _scalar(
                url,
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == reminders.REMINDER_KIND),
            )
            sampled = ""
            if spy is not None:
                spy[0].wait(timeout=60)
                what = "of one of the three workers from 3 s before the due time"
                sampled = common.summarize(spy[1], WATCHED, what)
        finally:
            for process in procs:
                common.stop(process)
    return {
        "profile": sampled,
        "exactly_once": received == Counter(dict.fromkeys(users, 1)),
        "received": sum(received.values()),
        "distinct": len(received),
        "queued": queued,
        "late": late,
    }


def run(cfg: common.Config) -> Result:
    result = Result("Reminders at scale")
    count = 30 if cfg.quick else 500
    three = one_round(cfg, 3, count)
    one = three if cfg.quick else one_round(cfg, 1, count)
    late3: list[float] = three["late"]  # type: ignore[assignment]
    late1: list[float] = one["late"]  # type: ignore[assignment]
    worst = max(late3) if late3 else float("inf")
    result.row(
        f"{count} due at once, 3 workers: DMs sent exactly once",
        f"{'yes' if three['exactly_once'] else 'NO'} ({three['received']} DMs to "
        f"{three['distinct']} owners; {three['queued']} queued)",
        baseline=f"1 worker: {'yes' if one['exactly_once'] else 'NO'} ({one['received']} DMs)",
        target="exactly once",
        met=bool(three["exactly_once"]),
    )
    result.row(
        "lateness after due time: p50 / p99 / max",
        f"{median(late3):.2f} / {percentile(late3, 99):.2f} / {worst:.2f} s",
        baseline=f"1 worker: {median(late1):.2f} / {percentile(late1, 99):.2f} / "
        f"{max(late1) if late1 else float('nan'):.2f} s",
        target="≤ 10 s (max); ≤ 2 s at p99",
        met=worst <= TARGET_LATE and percentile(late3, 99) <= TARGET_P99,
    )
    first = min(late3) if late3 else float("nan")
    rate = len(late3) / (worst - first) if late3 and worst > first else float("nan")
    result.row(
        "first DM after the due time; DMs a second after that",
        f"{first:.2f} s; {rate:,.0f} DMs/s",
        baseline=f"1 worker: {min(late1) if late1 else float('nan'):.2f} s",
    )
    if percentile(late3, 99) > TARGET_P99 and not cfg.quick:
        profiled = one_round(cfg, 3, count, profile=True)
        result.profile = (
            f"{profiled['profile']}\n"
            "Reading it: the wake-up sweep queues every reminder on its second (the first DM "
            "leaves within the time above); the p99 is then the drain's pace. A batch of 50 "
            "costs one claim, one read of its incidents and a mark every 0.2 s; what is left "
            "per DM is the post itself. The board job reads only the data version while "
            "nothing changed. On 2 shared cores the workers, PostgreSQL and the fake Slack "
            "compete for the same CPUs."
        )
    result.notes.append(
        f"{count} open incidents on PostgreSQL written with the same `reminder_due`, so every "
        "reminder DM falls due at one instant 3 s after the insert; `FLARE_TICK=1s`; the fake "
        "Slack answers at once and does not rate-limit (DMs go to distinct channels, so the "
        "sender's one-post-a-second-per-channel pacing does not apply). Lateness is the time "
        "from the due instant to the fake receiving the `chat.postMessage`. No tick is waited "
        "for: a sweep that sees a nag fall due before the next tick schedules a wake-up sweep "
        "at that instant, which starts the drain at once. Exactly once is checked after three "
        "more sweeps and drains found nothing more to send."
    )
    return result
